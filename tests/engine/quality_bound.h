// The quality bound of reduced precision (issue 9, docs/engine.md "Reduced precision"), shared by the half-ring and
// bf16 tests: on the shipped tiers, per output pixel after the pixel shuffle, the delta maps' change in 8-bit code
// values (x output_scale); at most 0.1 % of pixels may move by more than one code value.
#pragma once
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace bty::test {

constexpr double kMaxShareOverOneCode = 0.001;  // the quality bound (issue 9)
// The alpha scales the blend's high-band term (docs/element.md): a change of 1 % of the weight is far below one code
// value there. Measured <= 0.0055 on the shipped tiers (half rings).
constexpr double kMaxAlphaChange = 0.01;

inline std::string shipped(const char* tier) {
  const char* dir = std::getenv("BTY_MODELS");
  return std::string(dir ? dir : "models") + "/beautify-" + tier + ".bmodel";
}

// Per output pixel (after the pixel shuffle), the delta maps' change in 8-bit code values (x output_scale), and the
// blemish alpha's ((raw + 1) / 2, a blend weight in [0, 1]) largest change.
struct CodeError {
  double max_code = 0, mean_code = 0, share_over_one = 0;
  double max_alpha = 0;
};
inline CodeError code_error(const ModelInfo& mi, int ow, int oh, const std::vector<float>& a,
                            const std::vector<float>& b) {
  const int s = mi.output_shuffle, maps = output_maps(mi.output_kind);
  CodeError e;
  size_t over = 0, values = 0, pixels = size_t(ow) * oh * s * s;
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x)
      for (int sub = 0; sub < s * s; ++sub) {
        bool bad = false;
        for (int m = 0; m < maps; ++m) {
          const size_t i = (size_t(m * s * s + sub) * oh + y) * ow + x;
          const double d = std::fabs(double(a[i]) - double(b[i]));
          if (mi.output_kind == OutputKind::Layers && m == kLayerAlpha) {
            e.max_alpha = std::max(e.max_alpha, d / 2);
            continue;
          }
          const double code = d * mi.output_scale;
          e.max_code = std::max(e.max_code, code);
          e.mean_code += code;
          ++values;
          bad = bad || code > 1.0;
        }
        over += bad;
      }
  e.mean_code /= double(values);
  e.share_over_one = double(over) / double(pixels);
  return e;
}

// The two inputs of the bound: uniform noise over the normalised range, and smooth gradients with mild noise
// (skin-like), planar CHW at w x h.
inline std::vector<std::pair<const char*, std::vector<float>>> quality_inputs(std::mt19937& rng, int w, int h) {
  std::vector<float> smooth(size_t(3) * w * h);
  std::normal_distribution<float> nd(0.0f, 0.03f);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        smooth[(size_t(c) * h + y) * w + x] =
            0.6f * std::sin(0.02f * float(x + 37 * c)) * std::cos(0.015f * float(y)) + nd(rng);
  std::vector<std::pair<const char*, std::vector<float>>> v;
  v.emplace_back("noise", random_input(rng, w, h));
  v.emplace_back("smooth", std::move(smooth));
  return v;
}

}  // namespace bty::test
