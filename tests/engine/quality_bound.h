// The quality bound of reduced precision (issue 9, docs/engine.md "Reduced precision"), shared by the half-ring,
// bf16 and int8 tests, and what those tests share besides: on the shipped tiers, per output pixel after the pixel
// shuffle, the delta maps' change in 8-bit code values (x output_scale); at most 0.1 % of pixels may move by more than
// one code value.
#pragma once
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "test_util.h"

namespace bty::test {

constexpr double kMaxShareOverOneCode = 0.001;  // the quality bound (issue 9)
// The alpha scales the blend's high-band term (docs/element.md): a change of 1 % of the weight is far below one code
// value there. Measured <= 0.0055 on the shipped tiers (half rings).
constexpr double kMaxAlphaChange = 0.01;

inline std::string models_dir() {
  const char* dir = std::getenv("BTY_MODELS");
  return dir ? dir : "models";
}
inline std::string shipped(const char* tier) { return models_dir() + "/beautify-" + tier + ".bmodel"; }

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

// Each model (default: the three shipped tiers) on the bound's two inputs at its own input size, a net with the
// `reference` options against one with `tested`: check(path, input name, model info, error) per pair. Skips the
// test when a file is missing.
using OptionsAt = std::function<NetOptions(int w, int h)>;
using CodeCheck = std::function<void(const std::string&, const char*, const ModelInfo&, const CodeError&)>;
inline void compare_on_models(const OptionsAt& reference, const OptionsAt& tested, const CodeCheck& check,
                              const std::vector<std::string>& paths = {shipped("s"), shipped("m"), shipped("l")}) {
  std::mt19937 rng(23);
  for (const std::string& path : paths) {
    if (::access(path.c_str(), R_OK) != 0) GTEST_SKIP() << path << " missing (set BTY_MODELS to the models folder)";
    auto model = load_model(path);
    const ModelInfo& mi = info(*model);
    const int w = mi.input_width, h = mi.input_height;
    for (const auto& [name, in] : quality_inputs(rng, w, h)) {
      Net a(model, reference(w, h)), b(model, tested(w, h));
      a.set_input_planar(in.data());
      b.set_input_planar(in.data());
      a.run();
      b.run();
      check(path, name, mi, code_error(mi, a.output_width(), a.output_height(), a.output(), b.output()));
    }
  }
}

// Options at a reduced precision on the avx512 level (not Isa::Auto: BTY_ISA=avx2, the engine-avx2 run, caps Auto
// below the bf16 and int8 convs' level).
inline NetOptions at_precision(Precision p, int w, int h, Executor e, int threads = 1, size_t segment = 512 << 10) {
  NetOptions o;
  o.width = w;
  o.height = h;
  o.executor = e;
  o.isa = Isa::Avx512;
  o.precision = p;
  o.threads = threads;
  o.segment_bytes = segment;
  return o;
}

// Ten random nets (1-3 levels, odd sizes; `prepare` turns each spec into the model under test, e.g. calibrates it)
// at precision p in the layered and pipeline executors, 1 and 2 threads, strips of a few tiles and half rings,
// against the reference executor: the raw outputs differ by at most tol, and not by 0 (the precision did run).
inline void expect_random_nets_within(Precision p, float tol, const std::function<ModelSpec(ModelSpec)>& prepare) {
  std::mt19937 rng(37);
  float worst = 0;
  for (int trial = 0; trial < 10; ++trial) {
    int levels = 1 + trial % 3, f = 1 << levels;
    int w = f * (1 + int(rng() % (64 / f + 6))), h = f * (1 + int(rng() % (48 / f + 4)));
    auto model = parse(prepare(random_net(rng, levels, 8 * f, 8 * f)));
    auto in = random_input(rng, w, h);
    auto ref = run(model, at_precision(p, w, h, Executor::Reference), in);
    for (auto [e, threads, segment, rings] :
         {std::tuple{Executor::Layered, 1, size_t(512) << 10, RingStorage::Float},
          std::tuple{Executor::Pipeline, 1, size_t(512) << 10, RingStorage::Float},
          std::tuple{Executor::Pipeline, 2, size_t(16) << 10, RingStorage::Float},
          std::tuple{Executor::Pipeline, 2, size_t(16) << 10, RingStorage::Half}}) {  // chunks of a few tiles
      NetOptions o = at_precision(p, w, h, e, threads, segment);
      o.rings = rings;
      Net net(model, o);
      ASSERT_EQ(net.precision(), p);
      net.set_input_planar(in.data());
      net.run();
      const float d = max_abs_diff(net.output(), ref);
      worst = std::max(worst, d);
      EXPECT_GT(d, 0.0f) << to_string(p) << " gave the reference's output exactly (did it run?)";
      EXPECT_LE(d, tol) << "trial " << trial << " " << w << "x" << h << " " << to_string(e) << " threads " << threads
                        << " segment " << segment << " rings " << to_string(rings);
    }
  }
  std::printf("%s random nets vs the reference: max %.4f\n", to_string(p), worst);
}

}  // namespace bty::test
