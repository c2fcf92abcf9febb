// Blend: puts the net's retouch layers (at net resolution) back into the full-resolution frame, in the frame's own
// pixel format, through the feathered skin mask × strength, plus the frame-resolution spot step. No GStreamer; the
// element and the tests call it directly.
//
// Guarantees: a pixel (or, for YUV, a chroma sample) is written only where the mask over it is non-zero; every
// other byte of the frame, inside or outside the ROI, is left untouched (bit-exact). Values are quantised as
// floor(v + delta + t) clamped to 0..255: luma-like samples (R, G, B, Y, GRAY8) round to nearest (t = 1/2: no fixed
// pattern that stays put while the face moves); chroma samples of YUV frames use a fixed 4×4 ordered dither,
// t = (Bayer index + 0.5) / 16 at the sample's (x & 3, y & 3), so their fractional deltas keep their mean instead of
// rounding away (blend.cpp says why each).
#pragma once

#include <beautify/engine.h>

#include <cstdint>

namespace bty::blend {

// A writable 8-bit frame, planes in memory order (as GstVideoFrame's plane data: YV12's plane 1 is V, NV21's
// plane 1 is interleaved VU, packed 4:2:2 is one plane), the same convention as bty::ImageView (bty::yuv_layout
// says where each sample lies).
struct Frame {
  PixelFormat format = PixelFormat::RGB;
  int width = 0, height = 0;
  YuvMatrix matrix = YuvMatrix::BT709;  // YUV formats only
  bool full_range = false;              // YUV formats only
  uint8_t* plane[3] = {nullptr, nullptr, nullptr};
  int stride[3] = {0, 0, 0};

  ImageView view() const;
};

using bty::is_yuv;  // pixel-format facts come from the engine's image API
using bty::packed_layout;

// The net's raw output head: `channels` planar CHW float planes of width×height (Net::output()), read through a
// pixel shuffle of factor `shuffle` (PyTorch's F.pixel_shuffle order: map c at (s·y+dy, s·x+dx) = channel
// c·s²+dy·s+dx at (y, x)) into output_maps(kind) maps of (width·s)×(height·s) that cover `area` of the frame
// (pixel-centre aligned, as the engine samples its input). Deltas × `scale` (the model's output_scale) are 8-bit
// deltas in `colour` space (RGB, or full-range YCbCr). channels must be output_maps(kind) × shuffle².
//   OutputKind::Delta (v1 nets): maps 0..2 = one delta, applied as the blemish delta.
//   OutputKind::Layers: maps 0..2 blemish delta, 3..5 tone delta (on top), 6 blemish alpha = (map + 1) / 2.
// The head comes as floats (chw) or, from an OpenCL net with ClOutput::Half, as the IEEE halves it downloaded
// (half, Net::output_half): each row is converted as the blend reads it (the same floats, so the same pixels),
// instead of a pass over the whole head before the blend.
struct Layer {
  const float* chw = nullptr;
  const uint16_t* half = nullptr;  // used when chw is null
  int width = 0, height = 0, channels = 3;
  OutputKind kind = OutputKind::Delta;
  int shuffle = 1;
  Rect area;
  Colour colour = Colour::RGB;
  float scale = 1.f;
};

// How much of the retouch to apply (the element's `strength`, `blemish` and `tone`), each 0..1.
struct Amounts {
  float strength = 1.f;  // overall
  float blemish = 1.f;   // the blemish delta (Delta kind: the delta) and the spot step
  float tone = 1.f;      // the tone delta (Layers kind only)
  bool spot = true;      // the frame-resolution spot step (Layers kind only; below)
};

// Applies `layer` inside `roi` (clamped to the frame): per pixel
//   delta = mask/255 × strength × (blemish × Δblemish + tone × Δtone + blemish × alpha × spot),
// Δ upsampled bilinearly from the maps. `mask` is roi.width × roi.height, row-major, tightly packed. RGB formats:
// per channel. YUV formats: ΔY from the RGB delta with the frame's matrix and range at luma resolution; ΔCb/ΔCr at
// chroma resolution, weighted by the mask averaged over each chroma sample's luma block (2×2 for 4:2:0, 2×1 for
// packed 4:2:2; pixels outside the ROI count as 0). GRAY8: ΔY only, BT.601 full range. strength = 0, or blemish = tone
// = 0 (blemish = 0 for the Delta kind), writes nothing.
//
// Spot step (Layers kind, amounts.spot, blemish > 0, and only when a net pixel spans more than 1.5 frame pixels):
// the upsampled delta cannot remove a spot smaller than a net pixel, so on the luma-like signal (the Y plane; each
// of R, G, B for packed RGB) low = box blur of radius r = max(1, round(frame pixels per net pixel)) (edge pixels
// replicated), high = frame − low, tau = 2.5 × mean |high| over the ROI's mask > 0 pixels (at least 1), and
// spot = tau·tanh(high/tau) − high: where the net's alpha says blemish, the frame's own high band is kept but its
// outliers (the spot's core) are compressed; pore-sized detail is far below tau and barely moves.
// Thread-safe: each calling thread keeps its own scratch buffers (a few MB for a large face), reused call to call.
void apply(const Frame& frame, const Rect& roi, const uint8_t* mask, const Layer& layer, const Amounts& amounts);
// The same with blemish = tone = 1.
void apply(const Frame& frame, const Rect& roi, const uint8_t* mask, const Layer& layer, float strength);

// Box radius of the spot step for a layer (frame pixels), 0 when the step is skipped (a net pixel <= 1.5 frame px).
int spot_radius(const Layer& layer);

// The frame area to send to the net for a face ROI: the ROI grown (never shrunk) about its centre to the net input's
// aspect ratio, so the net sees the face undistorted, then slid inside the frame. Where the frame itself is smaller
// than that area along an axis, the area overhangs both frame edges (still covering the whole frame along that
// axis) and the engine replicates the edge pixels: the face keeps its proportions instead of being squashed.
Rect net_area(const Rect& roi, int net_width, int net_height, int frame_width, int frame_height);

}  // namespace bty::blend
