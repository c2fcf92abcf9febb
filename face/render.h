// Drawing and scene synthesis for the CLI, benchmark and tests: overlays of the stage's output, and frames
// rendered from photos (pan, zoom, roll, pasting faces) so clips need no video files.
#pragma once

#include "geometry.h"
#include "image_io.h"
#include "types.h"

#include <vector>

namespace bty::face {

// RGB copy of `img` with the masks tinted green, landmarks red, ROI yellow, box blue.
Image draw_overlay(const Image& img, const std::vector<Face>& faces);
// Full-frame grey mask (max over faces).
Image full_mask(int width, int height, const std::vector<Face>& faces);

// Renders `src` into a w x h canvas filled with `bg` through dst = T(src) (bilinear, same channels as src).
Image warp_into(const Image& src, int w, int h, const Similarity& T, uint8_t bg);
// Pastes src into dst through T (pixels of src mapping inside dst), keeping dst elsewhere.
void paste(const Image& src, Image& dst, const Similarity& T);
// A textured, face-free background (smooth gradients + mild noise), deterministic from seed.
Image background(int w, int h, int channels, uint32_t seed);
// Adds uniform-ish noise of +-amp grey levels, deterministic from seed.
void add_noise(Image& img, int amp, uint32_t seed);

}  // namespace bty::face
