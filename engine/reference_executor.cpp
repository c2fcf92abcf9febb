// The oracle: planar CHW floats, one op at a time, upsample and concat materialised, scalar loops in a plain order.
// Deliberately shares nothing with the TILE kernels but the Plan.
#include <cmath>

#include "executor.h"

namespace bty {
namespace {

class ReferenceExecutor final : public ExecutorImpl {
 public:
  explicit ReferenceExecutor(const Plan& p) : plan_(p) {}

  void run(const InputSource& in, std::vector<float>& out) override {
    const Plan& p = plan_;
    std::vector<std::vector<float>> t(p.width.size());
    int W = p.width[0], H = p.height[0];
    t[0].resize(size_t(3) * W * H);
    for (int y = 0; y < H; ++y) {
      std::vector<float> row(size_t(3) * W);
      in.row(y, 0, W, row.data(), W);
      for (int c = 0; c < 3; ++c)
        std::copy(row.begin() + c * W, row.begin() + (c + 1) * W, t[0].begin() + (size_t(c) * H + y) * W);
    }
    for (const ConvStep& s : p.steps) {
      // Materialise the conv's input: concat of sources, each possibly upsampled.
      int iw = p.width[s.tensor] * s.stride, ih = p.height[s.tensor] * s.stride;
      std::vector<float> x(size_t(s.in_channels) * iw * ih);
      for (const ConvSource& src : s.sources) {
        int sw = p.width[src.tensor];
        const std::vector<float>& st = t[src.tensor];
        int sh = p.height[src.tensor];
        for (int c = 0; c < src.channels; ++c)
          for (int y = 0; y < ih; ++y)
            for (int xx = 0; xx < iw; ++xx) {
              int sy = src.up ? y / 2 : y, sx = src.up ? xx / 2 : xx;
              x[(size_t(src.channel_offset + c) * ih + y) * iw + xx] = st[(size_t(c) * sh + sy) * sw + sx];
            }
      }
      int ow = p.width[s.tensor], oh = p.height[s.tensor];
      std::vector<float>& o = t[s.tensor];
      o.assign(size_t(s.out_channels) * ow * oh, 0.0f);
      for (int co = 0; co < s.out_channels; ++co)
        for (int oy = 0; oy < oh; ++oy)
          for (int ox = 0; ox < ow; ++ox) {
            float acc = s.bias[co];
            for (int ci = 0; ci < s.in_channels; ++ci)
              for (int ky = 0; ky < 3; ++ky) {
                int iy = oy * s.stride + ky - 1;
                if (iy < 0 || iy >= ih) continue;
                for (int kx = 0; kx < 3; ++kx) {
                  int ix = ox * s.stride + kx - 1;
                  if (ix < 0 || ix >= iw) continue;
                  acc += s.weights[((size_t(co) * s.in_channels + ci) * 3 + ky) * 3 + kx] *
                         x[(size_t(ci) * ih + iy) * iw + ix];
                }
              }
            if (s.act == Act::Relu) acc = std::max(acc, 0.0f);
            if (s.act == Act::Tanh) acc = std::tanh(acc);
            o[(size_t(co) * oh + oy) * ow + ox] = acc;
          }
      peak_ = std::max(peak_, live_bytes(t));
    }
    out = t[p.output_tensor];
  }
  size_t working_set_bytes() const override { return peak_; }

 private:
  static size_t live_bytes(const std::vector<std::vector<float>>& t) {
    size_t b = 0;
    for (const auto& v : t) b += v.size() * sizeof(float);
    return b;
  }
  Plan plan_;
  size_t peak_ = 0;
};

}  // namespace

std::unique_ptr<ExecutorImpl> make_reference_executor(const Plan& plan) {
  return std::make_unique<ReferenceExecutor>(plan);
}

}  // namespace bty
