// The layered and super-pipeline executors against the planar reference executor, on random nets and on the
// three tiers, with 1 and 2 threads, and with the Segment budget forced small so wide inputs are cut into strips.
#include <cstdlib>
#include <string>

#include "test_util.h"

namespace bty::test {
namespace {

// Stated tolerance: outputs are tanh in [-1, 1]; the executors differ from the oracle only by fp32 summation order
// (FMA vs separate multiply-add), which over <= 20 layers of He-initialised random weights stays below 1e-4.
constexpr float kTol = 1e-4f;

struct Variant {
  Executor exec;
  int threads;
  size_t segment_bytes;
  bool winograd;
};
const Variant kVariants[] = {{Executor::Layered, 1, 512 << 10, true},  {Executor::Layered, 2, 512 << 10, true},
                             {Executor::Pipeline, 1, 512 << 10, true}, {Executor::Pipeline, 2, 512 << 10, true},
                             {Executor::Pipeline, 1, 16 << 10, true},  {Executor::Pipeline, 2, 16 << 10, true},
                             {Executor::Layered, 1, 512 << 10, false}, {Executor::Pipeline, 2, 16 << 10, false}};

// Options for a w x h input on the reference executor (each test then switches the executor).
NetOptions reference_options(int w, int h) {
  NetOptions o;
  o.width = w;
  o.height = h;
  o.executor = Executor::Reference;
  return o;
}

void check_all(std::shared_ptr<const Model> model, int w, int h, std::mt19937& rng, const std::string& what) {
  auto in = random_input(rng, w, h);
  NetOptions o = reference_options(w, h);
  auto ref = run(model, o, in);
  o.rings = RingStorage::Float;  // exact storage: half rings have their own tolerance (test_half_rings.cpp)
  for (const Variant& v : kVariants) {
    o.executor = v.exec;
    o.threads = v.threads;
    o.segment_bytes = v.segment_bytes;
    o.winograd = v.winograd;
    auto got = run(model, o, in);
    EXPECT_LE(max_abs_diff(got, ref), kTol)
        << what << " " << to_string(v.exec) << " threads=" << v.threads << " segment=" << v.segment_bytes
        << " winograd=" << v.winograd << " size=" << w << "x" << h;
  }
}

TEST(Executors, RandomNetsMatchReference) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 16; ++trial) {
    int levels = 1 + trial % 3, f = 1 << levels;
    int w = f * (1 + int(rng() % (64 / f + 6))), h = f * (1 + int(rng() % (48 / f + 4)));
    if (trial == 0) w = h = f;  // a single pixel at the deepest level
    ModelSpec spec = random_net(rng, levels, 8 * f, 8 * f);
    check_all(parse(spec), w, h, rng, "random net " + std::to_string(trial));
  }
}

TEST(Executors, WideInputIsCutIntoSegmentsAndStillMatches) {
  std::mt19937 rng(5);
  ModelSpec spec = random_net(rng, 3, 64, 64);
  auto model = parse(spec);
  auto in = random_input(rng, 640, 48);
  NetOptions o;
  o.width = 640;
  o.height = 48;
  o.executor = Executor::Reference;
  auto ref = run(model, o, in);
  o.executor = Executor::Pipeline;
  o.rings = RingStorage::Float;
  o.segment_bytes = 16 << 10;
  Net small(model, o);
  o.segment_bytes = 64 << 20;
  Net whole(model, o);
  EXPECT_LT(small.working_set_bytes(), whole.working_set_bytes()) << "a small budget must cut the input into strips";
  small.set_input_planar(in.data());
  small.run();
  EXPECT_LE(max_abs_diff(small.output(), ref), kTol);
}

// With several threads the pipeline runs stage groups concurrently, each step whole on one thread: the output must be
// bit-identical to one thread's, in every frame (the groups are re-balanced on each frame's times, which moves the
// ring slack), for float and half rings, with and without strips, for more threads than a net has stages.
TEST(Executors, PipelineThreadsGiveOneThreadsBits) {
  std::mt19937 rng(17);
  for (int trial = 0; trial < 9; ++trial) {
    const int levels = 1 + trial % 3, f = 1 << levels;
    const int w = f * (1 + int(rng() % (96 / f))), h = f * (1 + 2 * int(rng() % (64 / f)));
    auto model = parse(random_net(rng, levels, 8 * f, 8 * f));
    auto in = random_input(rng, w, h);
    NetOptions o = reference_options(w, h);
    auto ref = run(model, o, in);
    o.executor = Executor::Pipeline;
    o.winograd = trial % 2 == 0;
    for (RingStorage rings : {RingStorage::Float, RingStorage::Half})
      for (size_t segment : {size_t(512) << 10, size_t(16) << 10}) {
        o.rings = rings;
        o.segment_bytes = segment;
        o.threads = 1;
        auto one = run(model, o, in);
        if (rings == RingStorage::Float) {
          EXPECT_LE(max_abs_diff(one, ref), kTol) << "trial " << trial;
        }
        for (int threads : {2, 3, 8}) {
          o.threads = threads;
          Net net(model, o);
          net.set_input_planar(in.data());
          for (int frame = 0; frame < 3; ++frame) {
            net.run();
            EXPECT_EQ(net.output(), one) << "trial " << trial << " " << w << "x" << h << " threads " << threads
                                         << " segment " << segment << " half " << (rings == RingStorage::Half)
                                         << " frame " << frame;
          }
        }
      }
  }
}

const char* tier_path(const char* tier) {
  static std::string s;
  const char* dir = std::getenv("BTY_TEST_MODELS");
  s = std::string(dir ? dir : ".") + "/test-" + tier + ".bmodel";
  return s.c_str();
}

TEST(Executors, TiersMatchReference) {
  std::mt19937 rng(7);
  for (const char* tier : {"S", "M", "L"}) {
    auto model = load_model(tier_path(tier));
    const ModelInfo& i = info(*model);
    check_all(model, i.input_width, i.input_height, rng, std::string("tier ") + tier);
  }
}

TEST(Executors, PipelineHoldsLessThanWholeFeatureMapsAtOneMegapixel) {
  auto model = load_model(tier_path("M"));
  NetOptions o;
  o.width = 1024;
  o.height = 1024;
  o.executor = Executor::Layered;
  Net layered(model, o);
  o.executor = Executor::Pipeline;
  Net pipe(model, o);
  EXPECT_LT(pipe.working_set_bytes() * 4, layered.working_set_bytes());
}

// Where the first conv reads the net input itself (TileConv::input_fused: the pipeline keeps no input stage, the
// layered executor still writes the TILE input), the two run the same arithmetic: identical bits, from an 8-bit
// image through resampling and the colour step, with 1 and 2 threads and in strips, at the tier's size and at a wide
// size whose input spans start off the 8-pixel grid.
TEST(Executors, PipelineReadingTheInputItselfGivesLayeredBits) {
  for (const char* tier : {"S", "M", "M-wide"}) {
    const bool wide = tier[1] == '-';
    auto model = load_model(tier_path(wide ? "M" : tier));
    const ModelInfo& i = info(*model);
    const int W = 301, H = 389;  // an odd-sized RGB picture, resampled to the net's size
    std::vector<uint8_t> rgb(size_t(3) * W * H);
    std::mt19937 rng(11);
    for (uint8_t& v : rgb) v = uint8_t(rng() % 256);
    ImageView img;
    img.format = PixelFormat::RGB;
    img.width = W;
    img.height = H;
    img.plane[0] = rgb.data();
    img.stride[0] = 3 * W;
    const Rect roi{17, 9, 263, 351};
    NetOptions o;
    o.width = wide ? 912 : i.input_width;
    o.height = wide ? 112 : i.input_height;
    o.rings = RingStorage::Float;
    o.executor = Executor::Layered;
    Net layered(model, o);
    layered.set_input(img, roi);
    layered.run();
    o.executor = Executor::Pipeline;
    for (int threads : {1, 2})
      for (size_t segment : {size_t(512) << 10, size_t(16) << 10}) {
        o.threads = threads;
        o.segment_bytes = segment;
        Net pipe(model, o);
        pipe.set_input(img, roi);
        pipe.run();
        EXPECT_EQ(pipe.output(), layered.output()) << tier << " threads " << threads << " segment " << segment;
      }
  }
}

// A net of one conv: the conv that reads the input is also the output stage (float and half rings).
TEST(Executors, OneConvReadingTheInputIsTheOutputStage) {
  std::mt19937 rng(23);
  for (int stride : {1, 2}) {
    ModelSpec spec;
    spec.tier = "test-op";
    spec.layers.push_back(conv(0, 8, stride, Act::Tanh, rng, 3));
    auto model = parse_any_head(spec);
    const int w = 72, h = 40;
    auto in = random_input(rng, w, h);
    NetOptions o = reference_options(w, h);
    auto ref = run(model, o, in);
    o.executor = Executor::Pipeline;
    for (RingStorage rings : {RingStorage::Float, RingStorage::Half}) {
      o.rings = rings;
      EXPECT_LE(max_abs_diff(run(model, o, in), ref), kTol) << "stride " << stride;
    }
  }
}

TEST(Executors, RejectsBadOptions) {
  auto model = load_model(tier_path("S"));
  NetOptions o;
  o.width = 100;  // not a multiple of 8
  EXPECT_THROW(Net(model, o), std::invalid_argument);
  o.width = 0;
  o.threads = 0;
  EXPECT_THROW(Net(model, o), std::invalid_argument);
  o.threads = 1;
  Net net(model, o);
  EXPECT_THROW(net.run(), std::logic_error);  // no input yet
  EXPECT_THROW(Net(nullptr, o), std::invalid_argument);
}

}  // namespace
}  // namespace bty::test
