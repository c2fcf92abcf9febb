// Net input preparation: bilinear resampling of an 8-bit ROI, colour conversion and normalisation, produced one net
// row at a time so executors can write it straight into their own layout (planar, TILE map or TILE ring).
#pragma once
#include <utility>
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

// The 8-bit form of an ImageInput, for a device that resamples and converts on its own (the OpenCL executor's
// prep_input kernel): only the image bytes the bilinear taps read, as three compact planes (the distinct tapped
// columns and rows, in order), the taps re-indexed into them, and the colour step. Layout of one slot: kHeaderWords
// int32 words (indices below; float fields as their bits), the tap tables ({i0, i1, w1 bits} int32 triplets per net
// column / row), then the planes. Both the host (gather) and the kernel (cl_source.cpp) read these indices.
namespace gathered {
enum Mode : int32_t { kEmpty = 0, kRgb = 1, kYuv = 2 };  // kYuv: planes 1, 2 are chroma (taps cx, cy)
enum Word : int {
  kMode,
  kPlane,               // 3 words: byte offset of each plane from the slot's start
  kPitch = kPlane + 3,  // 3 words: bytes per compact row of each plane
  kTapX = kPitch + 3,   // byte offsets of the tap tables x, y, chroma x, chroma y (RGB: chroma = luma)
  kTapY,
  kTapCX,
  kTapCY,
  kOff,  // ColourParams: off[3], m[3][3], add[3], clamp, scale, bias
  kM = kOff + 3,
  kAdd = kM + 9,
  kClamp = kAdd + 3,
  kScale,
  kBias,
  kHeaderWords = 32,
};
static_assert(kBias < kHeaderWords, "gathered header overflows");
// Bytes one slot needs at most for a width x height net input: every axis taps at most 2 distinct samples per net
// pixel, so no plane exceeds 2W x 2H whatever the ROI's size.
size_t capacity(int width, int height);
}  // namespace gathered

// Resamples `roi` of `image` to width x height (pixel-centre aligned, edges clamped), in the model's colour space.
class ImageInput final : public InputSource {
 public:
  ImageInput(const ImageView& image, const Rect& roi, int width, int height, const ModelInfo& info,
             ColourRowFn colour_row);
  // What the constructor refuses (std::invalid_argument), without building the taps: for a caller that builds the
  // input later (the OpenCL executor, on its gathering threads) but must refuse a bad one now.
  static void check(const ImageView& image, const Rect& roi);
  void row(int y, int x0, int x1, float* out, int out_stride) const override;
  // Writes the gathered 8-bit form (layout above) to dst (gathered::capacity bytes at least); returns bytes used.
  size_t gather(uint8_t* dst) const;

 private:
  // gather() in two steps: plan_gather writes the header and tap tables and says where every compact plane row comes
  // from and goes; copy_rows copies them.
  struct GatherPlan {
    struct Plane {
      const uint8_t* base = nullptr;  // the image plane at the sample offset
      int stride = 0, step = 0;
      size_t at = 0, pitch = 0;               // compact plane's offset in the slot, bytes per compact row
      std::vector<int> rows;                  // tapped image rows, in order
      std::vector<std::pair<int, int>> runs;  // tapped columns: (first, count) runs of consecutive ones
    };
    Plane plane[3];
    size_t bytes = 0;  // of the whole slot, as gather() returns
    void copy_rows(uint8_t* dst) const;
  };
  GatherPlan plan_gather(uint8_t* dst) const;
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
  struct GatherTaps {  // tx_ (0; RGB: pixels) and tcx_ (1, YUV) as byte offsets and weights, in arrays
    std::vector<int32_t> o0, o1;
    std::vector<float> w1;
  };
  GatherTaps gather_taps_[2];
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
