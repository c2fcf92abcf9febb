// Net input preparation: bilinear resampling of an 8-bit ROI, colour conversion and normalisation, produced one net
// row at a time so executors can write it straight into their own layout (planar, TILE map or TILE ring).
#pragma once
#include <vector>

#include "beautify/engine.h"

namespace bty {

class InputSource {
 public:
  virtual ~InputSource() = default;
  // Writes net row y, columns [x0, x1), channel c at out[c * out_stride + (x - x0)].
  virtual void row(int y, int x0, int x1, float* out, int out_stride) const = 0;
};

// Resamples `roi` of `image` to width x height (pixel-centre aligned, edges clamped), in the model's colour space.
class ImageInput final : public InputSource {
 public:
  ImageInput(const ImageView& image, const Rect& roi, int width, int height, const ModelInfo& info);
  void row(int y, int x0, int x1, float* out, int out_stride) const override;

 private:
  struct Tap {
    int i0, i1;    // sample indices
    float w1;      // weight of i1
  };
  void sample_luma_chroma(int y, int x0, int x1, float* yuv, int stride) const;
  void sample_rgb(int y, int x0, int x1, float* rgb, int stride) const;
  ImageView img_;
  ModelInfo info_;
  int width_, height_;
  bool yuv_ = false;
  YuvLayout layout_;
  int cshift_x_ = 0, cshift_y_ = 0;
  std::vector<Tap> tx_, ty_, tcx_, tcy_;  // luma/rgb and chroma taps
  float m_[3][3] = {};                   // YUV -> RGB (or RGB -> YCbCr) matrix
  float yoff_ = 0, ymul_ = 1, cmul_ = 1;
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
