// The pipeline executor's half rings (RingStorage::Half): against float rings and the reference on random nets and
// the test tiers, and the quality bound on the three shipped models: the share of output pixels whose value moves by
// more than one 8-bit code value must stay <= 0.1 % (docs/engine.md, "Reduced precision").
#include <cstdio>
#include <string>

#include "quality_bound.h"
#include "test_util.h"

namespace bty::test {
namespace {

// Half rounding (<= 2^-11 relative per stored activation) through <= 20 layers of He-initialised random weights and
// tanh outputs in [-1, 1]: measured <= 3.3e-3 on these random nets; stated with margin (3x).
constexpr float kHalfTol = 1e-2f;

NetOptions pipeline(int w, int h, RingStorage rings, int threads = 1, size_t segment = 512 << 10) {
  NetOptions o = at_precision(Precision::Auto, w, h, Executor::Pipeline, threads, segment);
  o.isa = Isa::Auto;  // every level: the engine-avx2 run covers the AVX2 rows
  o.rings = rings;
  return o;
}

TEST(HalfRings, RandomNetsStayWithinHalfPrecisionOfTheReference) {
  std::mt19937 rng(17);
  for (int trial = 0; trial < 10; ++trial) {
    int levels = 1 + trial % 3, f = 1 << levels;
    int w = f * (1 + int(rng() % (64 / f + 6))), h = f * (1 + int(rng() % (48 / f + 4)));
    auto model = parse(random_net(rng, levels, 8 * f, 8 * f));
    auto in = random_input(rng, w, h);
    NetOptions o = pipeline(w, h, RingStorage::Half);
    o.executor = Executor::Reference;
    auto ref = run(model, o, in);
    for (auto [threads, segment] : {std::pair{1, size_t(512) << 10}, std::pair{2, size_t(16) << 10}}) {
      Net net(model, pipeline(w, h, RingStorage::Half, threads, segment));
      ASSERT_EQ(net.rings(), RingStorage::Half);
      net.set_input_planar(in.data());
      net.run();
      EXPECT_LE(max_abs_diff(net.output(), ref), kHalfTol)
          << "trial " << trial << " " << w << "x" << h << " threads " << threads << " segment " << segment;
    }
  }
}

// Wide maps of 64 channels: many column chunks per step, one-tile chunks for the widest convs, and strips.
TEST(HalfRings, WideNetsInChunksAndStripsStayWithinHalfPrecision) {
  std::mt19937 rng(19);
  auto model = parse(random_net(rng, 3, 64, 64));
  for (int w : {640, 200}) {
    auto in = random_input(rng, w, 48);
    NetOptions o = pipeline(w, 48, RingStorage::Half);
    o.executor = Executor::Reference;
    auto ref = run(model, o, in);
    for (auto [threads, segment] : {std::pair{1, size_t(512) << 10}, std::pair{2, size_t(16) << 10}}) {
      auto got = run(model, pipeline(w, 48, RingStorage::Half, threads, segment), in);
      EXPECT_LE(max_abs_diff(got, ref), kHalfTol) << w << " threads " << threads << " segment " << segment;
    }
  }
}

TEST(HalfRings, HalveTheRingsAndAutoPicksKAutoRings) {
  auto model =
      load_model(std::string(std::getenv("BTY_TEST_MODELS") ? std::getenv("BTY_TEST_MODELS") : ".") + "/test-M.bmodel");
  const ModelInfo& i = info(*model);
  Net f(model, pipeline(i.input_width, i.input_height, RingStorage::Float));
  Net h(model, pipeline(i.input_width, i.input_height, RingStorage::Half));
  EXPECT_EQ(f.rings(), RingStorage::Float);
  EXPECT_EQ(h.rings(), RingStorage::Half);
  // Half the ring bytes (the output stage's ring dropped) plus one chunk's float scratch.
  EXPECT_LT(h.working_set_bytes() * 10, f.working_set_bytes() * 7)
      << h.working_set_bytes() << " vs " << f.working_set_bytes();
  EXPECT_EQ(Net(model, pipeline(i.input_width, i.input_height, RingStorage::Auto)).rings(), kAutoRings);
  NetOptions layered = pipeline(i.input_width, i.input_height, RingStorage::Half);
  layered.executor = Executor::Layered;
  EXPECT_EQ(Net(model, layered).rings(), RingStorage::Float) << "only the pipeline has rings";
}

TEST(HalfRings, ShippedModelsHoldTheQualityBound) {
  compare_on_models(
      [](int w, int h) { return pipeline(w, h, RingStorage::Float); },
      [](int w, int h) { return pipeline(w, h, RingStorage::Half); },
      [](const std::string& path, const char* name, const ModelInfo&, const CodeError& e) {
        std::printf(
            "half rings, %s, %s input: deltas max %.4f code values, mean %.5f, pixels > 1 code value %.4f %%; alpha "
            "max %.5f\n",
            path.c_str(), name, e.max_code, e.mean_code, 100 * e.share_over_one, e.max_alpha);
        EXPECT_LE(e.share_over_one, kMaxShareOverOneCode) << path << " " << name;
        EXPECT_LE(e.max_alpha, kMaxAlphaChange) << path << " " << name;
      });
}

}  // namespace
}  // namespace bty::test
