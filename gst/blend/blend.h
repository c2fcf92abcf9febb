// Blend: puts the net's low-resolution retouch layer back into the full-resolution frame, in the frame's own pixel
// format, through the feathered skin mask × strength. No GStreamer; the element and the tests call it directly.
//
// Guarantees: a pixel (or, for YUV, a chroma sample) is written only where the mask over it is non-zero; every
// other byte of the frame, inside or outside the ROI, is left untouched (bit-exact). Values are quantised with a
// fixed 4×4 ordered dither, floor(v + delta + t), t = (Bayer index + 0.5) / 16 at the sample's (x & 3, y & 3) —
// so fractional deltas keep their mean instead of rounding away — and clamped to 0..255.
#pragma once

#include <beautify/engine.h>

#include <cstdint>

namespace bty::blend {

// A writable 8-bit frame, planes in memory order (as GstVideoFrame's plane data: YV12's plane 1 is V, NV21's
// plane 1 is interleaved VU), the same convention as bty::ImageView.
struct Frame {
  PixelFormat format = PixelFormat::RGB;
  int width = 0, height = 0;
  YuvMatrix matrix = YuvMatrix::BT709;  // YUV formats only
  bool full_range = false;              // YUV formats only
  uint8_t* plane[3] = {nullptr, nullptr, nullptr};
  int stride[3] = {0, 0, 0};

  ImageView view() const;
};

using bty::is_yuv;         // pixel-format facts come from the engine's image API
using bty::packed_layout;

// The net's output: `channels` (3) planar CHW float planes of width×height covering `area` of the frame
// (pixel-centre aligned, as the engine samples its input), to be multiplied by `scale` (the model's output_scale)
// to give 8-bit deltas in `colour` space (RGB, or full-range YCbCr).
struct Layer {
  const float* chw = nullptr;
  int width = 0, height = 0, channels = 3;
  Rect area;
  Colour colour = Colour::RGB;
  float scale = 1.f;
};

// Applies `layer` inside `roi` (clamped to the frame) weighted by mask/255 × strength. `mask` is roi.width ×
// roi.height, row-major, tightly packed. RGB formats: per channel. YUV formats: ΔY from the RGB delta with the
// frame's matrix and range at luma resolution; ΔCb/ΔCr at chroma resolution, weighted by the mask averaged over
// each chroma sample's 2×2 luma block (pixels outside the ROI count as 0).
void apply(const Frame& frame, const Rect& roi, const uint8_t* mask, const Layer& layer, float strength);

// The frame area to send to the net for a face ROI: the ROI grown (never shrunk) about its centre to the net input's
// aspect ratio, so the net sees the face undistorted, then slid inside the frame. Where the frame itself is smaller
// than that area along an axis, the area overhangs both frame edges (still covering the whole frame along that
// axis) and the engine replicates the edge pixels: the face keeps its proportions instead of being squashed.
Rect net_area(const Rect& roi, int net_width, int net_height, int frame_width, int frame_height);

}  // namespace bty::blend
