// Every op's SIMD kernel against the scalar kernel, and both against the planar reference, on random shapes:
// odd sizes, a single tile, widths that are not multiples of 8, channel counts that leave partial groups.
#include "test_util.h"

namespace bty::test {
namespace {

constexpr float kTol = 2e-5f;  // fp32: same math, different FMA association; outputs are O(1)

// The SIMD kernel builds this CPU can run.
std::vector<Isa> simd_isas() {
  std::vector<Isa> v;
  if (best_isa() >= Isa::Avx2) v.push_back(Isa::Avx2);
  if (best_isa() >= Isa::Avx512) v.push_back(Isa::Avx512);
  return v;
}

TEST(Kernels, EveryOpSimdMatchesScalarAndReference) {
  if (simd_isas().empty()) GTEST_SKIP() << "CPU has no AVX2+FMA: only the scalar kernels exist here";
  const OpCase ops[] = {{"conv s1", 1, false, false},
                        {"conv s2", 2, false, false},
                        {"up + conv", 1, true, false},
                        {"concat + conv", 1, false, true},
                        {"concat(up, skip) + conv", 1, true, true},
                        {"concat + conv s2", 2, false, true}};
  std::mt19937 rng(1234);
  int cases = 0;
  for (const OpCase& op : ops)
    for (int trial = 0; trial < 12; ++trial) {
      int cin = 1 + int(rng() % 40), cout = 1 + int(rng() % 64);
      if (op.concat) cin = std::min(cin, 44);
      Act act = Act(rng() % 3);
      ModelSpec spec = op_net(op, rng, cin, cout, act);
      int mult = (op.stride == 2 || op.up) ? 2 : 1;
      // Sizes from a single pixel to a few tiles, mostly not multiples of 8.
      int w = mult * (1 + int(rng() % 21)), h = mult * (1 + int(rng() % 13));
      if (trial == 0) w = h = mult * 8;  // exactly one tile
      auto model = parse_any_head(spec);
      auto in = random_input(rng, w, h);
      NetOptions o;
      o.executor = Executor::Layered;
      o.width = w;
      o.height = h;
      o.isa = Isa::Scalar;
      auto scalar = run(model, o, in);
      SCOPED_TRACE(std::string(op.name) + " cin=" + std::to_string(cin) + " cout=" + std::to_string(cout) +
                   " size=" + std::to_string(w) + "x" + std::to_string(h) + " act=" + std::to_string(int(act)));
      for (Isa isa : simd_isas()) {
        o.isa = isa;
        EXPECT_LE(max_abs_diff(run(model, o, in), scalar), kTol) << to_string(isa);
      }
      o.executor = Executor::Reference;
      EXPECT_LE(max_abs_diff(scalar, run(model, o, in)), kTol);
      ++cases;
    }
  EXPECT_EQ(cases, 72);
}

TEST(Kernels, TanhEpilogueIsAccurateOverItsRange) {
  // A 1x1-effective conv (only the centre tap, weight 1) turns the input into tanh(input): checks the vector tanh
  // against std::tanh from -12 to 12, including the saturated tails.
  if (simd_isas().empty()) GTEST_SKIP() << "no AVX2";
  ModelSpec s;
  std::mt19937 rng(1);
  Layer L = conv(0, 3, 1, Act::Tanh, rng, 3);
  std::fill(L.weights.begin(), L.weights.end(), 0.0f);
  std::fill(L.bias.begin(), L.bias.end(), 0.0f);
  for (int c = 0; c < 3; ++c) L.weights[(size_t(c) * 3 + c) * 9 + 4] = 1.0f;
  s.layers.push_back(L);
  const int w = 64, h = 64;
  std::vector<float> in(size_t(3) * w * h);
  for (size_t i = 0; i < in.size(); ++i) in[i] = -12.0f + 24.0f * float(i) / float(in.size() - 1);
  NetOptions o;
  o.executor = Executor::Layered;
  o.width = w;
  o.height = h;
  for (Isa isa : simd_isas()) {
    o.isa = isa;
    auto out = run(parse(s), o, in);
    float worst = 0;
    for (size_t i = 0; i < in.size(); ++i) worst = std::max(worst, std::fabs(out[i] - std::tanh(in[i])));
    EXPECT_LE(worst, 1e-6f) << to_string(isa);
  }
}

}  // namespace
}  // namespace bty::test
