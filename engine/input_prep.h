// Net input preparation: bilinear resampling of an 8-bit ROI, colour conversion and normalisation, produced one net
// row at a time so executors can write it straight into their own layout (planar, TILE map or TILE ring).
#pragma once
#include <vector>

#include "beautify/engine.h"

namespace bty {

// The per-pixel colour step of input preparation, as one affine map: v = M (in - off) + add, clamped to [0, 255]
// when `clamp`, then v * scale + bias. Covers YUV -> RGB, YUV -> YCbCr (range expansion), RGB -> YCbCr and identity.
struct ColourParams {
  float off[3] = {0, 0, 0};
  float m[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  float add[3] = {0, 0, 0};
  bool clamp = false;
  float scale = 1, bias = 0;
};
// In place on 3 planar rows of n pixels: rows[c * stride + i]. A kernel-table entry (kernels.h).
using ColourRowFn = void (*)(float* rows, int stride, int n, const ColourParams& p);

class InputSource {
 public:
  virtual ~InputSource() = default;
  // Writes net row y, columns [x0, x1), channel c at out[c * out_stride + (x - x0)].
  virtual void row(int y, int x0, int x1, float* out, int out_stride) const = 0;
};

// Resamples `roi` of `image` to width x height (pixel-centre aligned, edges clamped), in the model's colour space.
class ImageInput final : public InputSource {
 public:
  ImageInput(const ImageView& image, const Rect& roi, int width, int height, const ModelInfo& info,
             ColourRowFn colour_row);
  void row(int y, int x0, int x1, float* out, int out_stride) const override;

 private:
  struct Tap {
    int i0, i1;  // sample indices
    float w1;    // weight of i1
  };
  void sample_luma_chroma(int y, int x0, int x1, float* yuv, int stride) const;
  void sample_rgb(int y, int x0, int x1, float* rgb, int stride) const;
  ImageView img_;
  int width_, height_;
  bool yuv_ = false;
  YuvLayout layout_;
  int cshift_x_ = 0, cshift_y_ = 0;
  std::vector<Tap> tx_, ty_, tcx_, tcy_;  // luma/rgb and chroma taps
  ColourParams colour_;
  ColourRowFn colour_row_;
};

// Already-normalised planar CHW floats (tests, PyTorch comparison).
class PlanarInput final : public InputSource {
 public:
  PlanarInput(const float* chw, int width, int height) : p_(chw), w_(width), h_(height) {}
  void row(int y, int x0, int x1, float* out, int out_stride) const override;

 private:
  const float* p_;
  int w_, h_;
};

}  // namespace bty
