// The OpenCL executor (on whatever OpenCL device exists: PoCL's CPU device in CI, the GPU elsewhere) against the
// reference executor on random nets and on the three tiers, batching, the ROI input path, the program-binary cache
// (hit, corrupt, truncated and foreign entries are rebuilt) and its error paths. Skips, saying why, without an
// OpenCL platform; BTY_EXPECT_NO_OPENCL=1 (meson runs it with OCL_ICD_VENDORS at an empty folder) asserts what
// happens then instead.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "half.h"
#include "input_prep.h"
#include "kernels.h"
#include "opencl/cl_program_cache.h"
#include "opencl/cl_source.h"
#include "test_util.h"

namespace bty::test {
namespace {

constexpr float kTol = 1e-4f;  // as the CPU executors' (test_executors.cpp)

bool no_opencl_expected() {
  const char* e = std::getenv("BTY_EXPECT_NO_OPENCL");
  return e && *e == '1';
}

#define SKIP_WITHOUT_OPENCL()                                                                              \
  do {                                                                                                     \
    std::string why;                                                                                       \
    if (no_opencl_expected()) GTEST_SKIP() << "BTY_EXPECT_NO_OPENCL=1: only the no-platform tests run";    \
    if (!opencl_available(false, &why)) GTEST_SKIP() << "no OpenCL device, OpenCL tests skipped: " << why; \
  } while (0)

// A fresh, empty cache folder per test (removed with its files at the end).
struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/bty-clcache-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

NetOptions cl_options(int w, int h, const std::string& cache = "-", bool local = true) {
  NetOptions o;
  o.width = w;
  o.height = h;
  o.device = Device::OpenCL;
  o.cl_cache_dir = cache;
  o.cl_reads = local ? ClReads::Local : ClReads::Global;
  return o;
}

std::vector<float> reference(const std::shared_ptr<const Model>& m, int w, int h, const std::vector<float>& in) {
  NetOptions o;
  o.width = w;
  o.height = h;
  o.executor = Executor::Reference;
  return run(m, o, in);
}

void check_model(const std::shared_ptr<const Model>& model, int w, int h, std::mt19937& rng, const std::string& what) {
  auto in = random_input(rng, w, h);
  auto ref = reference(model, w, h, in);
  for (bool local : {true, false}) {
    Net net(model, cl_options(w, h, "-", local));
    ASSERT_EQ(net.device(), Device::OpenCL);
    net.set_input_planar(in.data());
    net.run();
    EXPECT_LE(max_abs_diff(net.output(), ref), kTol) << what << " local_tiles=" << local << " " << w << "x" << h;
  }
}

TEST(OpenCL, RandomNetsMatchReference) {
  SKIP_WITHOUT_OPENCL();
  std::mt19937 rng(99);
  for (int trial = 0; trial < 6; ++trial) {
    int levels = 1 + trial % 3, f = 1 << levels;
    int w = f * (1 + int(rng() % (64 / f + 6))), h = f * (1 + int(rng() % (48 / f + 4)));
    if (trial == 0) w = h = f;  // a single pixel at the deepest level
    ModelSpec spec =
        random_net(rng, levels, 8 * f, 8 * f, trial % 2 ? OutputKind::Layers : OutputKind::Delta, trial % 2 ? 2 : 1);
    check_model(parse(spec), w, h, rng, "random net " + std::to_string(trial));
  }
}

std::string shipped(const char* tier) {
  const char* dir = std::getenv("BTY_MODELS");
  return std::string(dir ? dir : "models") + "/beautify-" + tier + ".bmodel";
}

TEST(OpenCL, ShippedTiersMatchReference) {
  SKIP_WITHOUT_OPENCL();
  std::mt19937 rng(7);
  for (const char* tier : {"s", "m", "l"}) {
    std::string path = shipped(tier);
    if (::access(path.c_str(), R_OK) != 0) GTEST_SKIP() << path << " missing (set BTY_MODELS to the models folder)";
    auto model = load_model(path);
    check_model(model, info(*model).input_width, info(*model).input_height, rng, path);
  }
}

// The launch shapes (no device needed): steps with too few work-items at batch 1 split their input channels over a
// smaller tile's group, the rest keep the large tile; every launch divides evenly and fits a 256-item group. The
// tier tests above check the split kernels' numbers.
TEST(OpenCL, LowResolutionStepsSplitTheirInputChannels) {
  for (const char* tier : {"s", "m", "l"}) {
    std::string path = shipped(tier);
    if (::access(path.c_str(), R_OK) != 0) GTEST_SKIP() << path << " missing (set BTY_MODELS to the models folder)";
    auto model = load_model(path);
    const Plan plan = make_plan(*model, info(*model).input_width, info(*model).input_height);
    int smallest_pixels = 1 << 30, smallest_split = 0;
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const ConvStep& s = plan.steps[i];
      const int ow = plan.width[s.tensor], oh = plan.height[s.tensor];
      const size_t items = size_t((ow + cl::kGroupX - 1) / cl::kGroupX * cl::kGroupX) *
                           ((oh + cl::kGroupY - 1) / cl::kGroupY * cl::kGroupY) *
                           (s.out_channels / cl::out_block(s.out_channels));
      for (int count : {1, 16}) {
        const cl::StepLaunch l = cl::step_launch(plan, i, count);
        const std::string what = path + " step " + std::to_string(i) + " batch " + std::to_string(count);
        EXPECT_EQ(l.split > 1, items < size_t(cl::kSplitBelowItems) && s.in_channels >= 2 * cl::kMinSplitChannels)
            << what;
        EXPECT_GE(s.in_channels / l.split, l.split > 1 ? cl::kMinSplitChannels : 1) << what;
        EXPECT_LE(l.local[0] * l.local[1] * l.local[2], 256u) << what;
        for (int d = 0; d < 3; ++d) EXPECT_EQ(l.global[d] % l.local[d], 0u) << what << " dim " << d;
        EXPECT_EQ(l.global[2], size_t(count) * (s.out_channels / l.out_block) * l.split) << what;
        EXPECT_GE(l.global[0], size_t(ow)) << what;
        EXPECT_GE(l.global[1], size_t(oh)) << what;
      }
      if (plan.width[s.tensor] * plan.height[s.tensor] < smallest_pixels) {
        smallest_pixels = plan.width[s.tensor] * plan.height[s.tensor];
        smallest_split = cl::step_launch(plan, i).split;
      }
    }
    EXPECT_GT(smallest_split, 1) << path << ": the lowest-resolution step should split";
    EXPECT_EQ(cl::step_launch(plan, 0).split, 1) << path << ": 3 input channels are too few to split";
    EXPECT_NE(cl::kernel_source(plan, true).find("split"), std::string::npos);
  }
}

// A w x h RGB or I420 frame of a fixed pattern (px holds its bytes; the view points into them).
ImageView pattern_frame(std::vector<uint8_t>& px, PixelFormat format, int w, int h) {
  const bool rgb = format == PixelFormat::RGB;
  px.resize(rgb ? size_t(w) * h * 3 : size_t(w) * h * 3 / 2);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 37 + i / 977) % 251);
  ImageView v;
  v.format = format;
  v.width = w;
  v.height = h;
  v.plane[0] = px.data();
  v.stride[0] = rgb ? w * 3 : w;
  if (!rgb) {
    v.plane[1] = px.data() + size_t(w) * h;
    v.plane[2] = v.plane[1] + size_t(w) * h / 4;
    v.stride[1] = v.stride[2] = w / 2;
  }
  return v;
}

TEST(OpenCL, BatchSlotsMatchSingleRunsAndImageInput) {
  SKIP_WITHOUT_OPENCL();
  auto model = load_model(shipped("s"));
  const ModelInfo& mi = info(*model);
  const int W = mi.input_width, H = mi.input_height;
  // A picture larger than the net input; each face a different ROI.
  std::vector<uint8_t> rgb;
  const ImageView v = pattern_frame(rgb, PixelFormat::RGB, 320, 240);
  const Rect rois[3] = {{0, 0, 100, 130}, {150, 40, 160, 190}, {-20, 100, 90, 200}};
  NetOptions co;
  Net cpu(model, co);
  NetOptions go = cl_options(W, H);
  go.batch = 4;
  Net gpu(model, go);
  for (int i = 0; i < 3; ++i) gpu.set_input(v, rois[i], i);
  gpu.run(3);
  const RunTimes& t = gpu.last_times();
  EXPECT_GT(t.kernels_ms, 0.0);
  EXPECT_GT(t.wall_ms, 0.0);
  EXPECT_GE(t.wall_ms + 1e-3, t.kernels_ms);
  for (int i = 0; i < 3; ++i) {
    cpu.set_input(v, rois[i]);
    cpu.run();
    EXPECT_LE(max_abs_diff(gpu.output(i), cpu.output()), kTol) << "slot " << i;
    ASSERT_EQ(gpu.output_size(), gpu.output(i).size());
    EXPECT_TRUE(std::equal(gpu.output(i).begin(), gpu.output(i).end(), gpu.output_data(i))) << "slot " << i;
    EXPECT_EQ(cpu.output_data(), cpu.output().data());
  }
  EXPECT_THROW(gpu.set_input(v, rois[0], 4), std::out_of_range);
  EXPECT_THROW(gpu.run(5), std::out_of_range);
  Net fresh(model, go);
  EXPECT_THROW(fresh.run(), std::logic_error);
}

// The 8-bit upload (gathered bytes, resampled and converted by the prep kernel) against the float upload of the
// same input prepared on the host, over formats (packed RGB, 4:2:0 planar and semi-planar, packed 4:2:2) and ROIs
// that upscale, downscale (the gathered planes skip untapped samples) and cross the image edge; it also moves fewer
// bytes than the floats.
TEST(OpenCL, ImageUploadMatchesFloatUploadOfTheSameInput) {
  SKIP_WITHOUT_OPENCL();
  auto model = load_model(shipped("s"));
  const ModelInfo& mi = info(*model);
  const int W = mi.input_width, H = mi.input_height, PW = 400, PH = 300;
  std::vector<uint8_t> px(size_t(PW) * PH * 4);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 37 + i / 977) % 251);
  NetOptions go = cl_options(W, H);
  go.batch = 2;
  Net image(model, go), floats(model, go);
  const Kernels k = select_kernels(Isa::Scalar);
  const Rect rois[] = {{10, 20, 100, 130}, {60, 40, 330, 250}, {-30, 200, 150, 190}};
  for (PixelFormat f : {PixelFormat::RGB, PixelFormat::BGRA, PixelFormat::I420, PixelFormat::NV12, PixelFormat::YUY2}) {
    ImageView v;
    v.format = f;
    v.width = PW;
    v.height = PH;
    v.plane[0] = v.plane[1] = v.plane[2] = px.data();
    if (f == PixelFormat::RGB)
      v.stride[0] = PW * 3;
    else if (f == PixelFormat::BGRA)
      v.stride[0] = PW * 4;
    else if (f == PixelFormat::YUY2)
      v.stride[0] = PW * 2;
    else {
      v.stride[0] = PW;
      v.plane[1] = px.data() + PW * PH;
      v.stride[1] = f == PixelFormat::NV12 ? PW : PW / 2;
      v.plane[2] = v.plane[1] + PW * PH / 4;
      v.stride[2] = PW / 2;
    }
    for (const Rect& roi : rois) {
      SCOPED_TRACE("format " + std::to_string(int(f)) + " roi " + std::to_string(roi.width) + "x" +
                   std::to_string(roi.height));
      ImageInput host(v, roi, W, H, mi, k.colour_row);
      std::vector<float> planar(size_t(3) * W * H);
      for (int y = 0; y < H; ++y) host.row(y, 0, W, planar.data() + size_t(y) * W, W * H);
      image.set_input(v, roi, 1);  // slot 1 of 2: the prep kernel writes the right slot
      floats.set_input_planar(planar.data(), 1);
      image.set_input_planar(planar.data(), 0);  // a float slot beside an image slot in one run
      floats.set_input_planar(planar.data(), 0);
      image.run(2);
      floats.run(2);
      EXPECT_LE(max_abs_diff(image.output(1), floats.output(1)), kTol);
      EXPECT_LE(max_abs_diff(image.output(0), floats.output(0)), kTol);
      const size_t float_bytes = size_t(3) * W * H * 4;
      EXPECT_EQ(floats.last_times().upload_bytes, 2 * float_bytes);
      // At most ~2 samples per net pixel and axis are tapped; at or above the net's size each is one sample.
      const size_t bytes = image.last_times().upload_bytes - float_bytes;
      EXPECT_LT(bytes, float_bytes * (roi.width <= 2 * W && roi.height <= 2 * H ? 85 : 100) / 100);
      if (roi.width <= W) {
        EXPECT_LT(bytes, float_bytes * 3 / 10);
      }
    }
  }
}

// ClOutput::Half: the head stored as half on the device and converted on the host is the float head within half
// precision (relative 1e-3 of the output's scale), with half the download bytes; F16C and the portable conversion
// agree on every half value.
TEST(OpenCL, HalfOutputIsWithinHalfPrecision) {
  SKIP_WITHOUT_OPENCL();
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t v = uint16_t(h);
    float a = 0;
    bty::half_to_float(&v, &a, 1);
    uint16_t eight[9] = {v, v, v, v, v, v, v, v, v};
    float b[9];
    bty::half_to_float(eight, b, 9);  // the vector path and its tail
    const float c = half_to_float(v);
    ASSERT_EQ(std::memcmp(&a, &c, 4), 0) << "half " << h;
    ASSERT_EQ(std::memcmp(&b[0], &c, 4), 0) << "half " << h;
  }
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0xc000), -2.0f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
  auto model = load_model(shipped("m"));
  const ModelInfo& mi = info(*model);
  std::mt19937 rng(5);
  auto in = random_input(rng, mi.input_width, mi.input_height);
  NetOptions fo = cl_options(mi.input_width, mi.input_height), ho = fo;
  ho.cl_output = ClOutput::Half;
  Net f(model, fo), h(model, ho);
  f.set_input_planar(in.data());
  h.set_input_planar(in.data());
  f.run();
  h.run();
  float scale = 0;
  for (float v : f.output()) scale = std::max(scale, std::fabs(v));
  ASSERT_GT(scale, 0.f);
  EXPECT_LE(max_abs_diff(h.output(), f.output()), 1e-3f * scale);
  EXPECT_GT(max_abs_diff(h.output(), f.output()), 0.f) << "the half path is not in use";
  EXPECT_EQ(h.output_data(), h.output_data()) << "converted once per run";
  EXPECT_EQ(2 * h.last_times().download_bytes, f.last_times().download_bytes);
  EXPECT_EQ(f.last_times().download_bytes, h.output_size() * 4);
}

// run() gathers the faces of a batch on NetOptions::threads and uploads them in one strided transfer: the same halves
// as one thread, slot by slot, with the bytes of the widest face per slot (not whole slots); a second run without new
// inputs reuses the device's copy (the frame may be gone by then); output_half is the download itself, which
// output() converts; float output and the CPU have none.
TEST(OpenCL, FacesGatheredOnThreadsAndTheHalfHead) {
  SKIP_WITHOUT_OPENCL();
  auto model = load_model(shipped("s"));
  const ModelInfo& mi = info(*model);
  const int W = mi.input_width, H = mi.input_height;
  std::vector<uint8_t> px;
  const ImageView v = pattern_frame(px, PixelFormat::I420, 400, 300);
  const Rect rois[] = {{10, 20, 100, 130}, {60, 40, 330, 250}, {-30, 200, 150, 190}, {200, 10, 2 * W, 2 * H}};
  NetOptions one = cl_options(W, H);
  one.batch = 4;
  one.cl_output = ClOutput::Half;
  one.cl_chunks = 1;  // one part: one strided upload of the four faces
  NetOptions three = one;
  three.threads = 3;
  Net a(model, one), b(model, three);
  for (int i = 0; i < 4; ++i) {
    a.set_input(v, rois[i], i);
    b.set_input(v, rois[i], i);
  }
  a.run(4);
  b.run(4);
  EXPECT_GT(b.last_times().gather_ms, 0.0);
  EXPECT_GT(b.last_times().enqueue_ms, 0.0);
  Net floats(model, cl_options(W, H));
  size_t widest = 0;
  for (const Rect& roi : rois) {
    floats.set_input(v, roi);
    floats.run();
    widest = std::max(widest, floats.last_times().upload_bytes);
  }
  EXPECT_EQ(b.last_times().upload_bytes, 4 * widest);
  const size_t n = b.output_size();
  std::vector<std::vector<uint16_t>> first;
  for (int i = 0; i < 4; ++i) {
    ASSERT_NE(b.output_half(i), nullptr);
    ASSERT_EQ(std::memcmp(a.output_half(i), b.output_half(i), n * 2), 0) << "slot " << i;
    std::vector<float> f(n);
    half_to_float(b.output_half(i), f.data(), n);
    EXPECT_TRUE(std::equal(f.begin(), f.end(), b.output(i).begin())) << "slot " << i;
    first.emplace_back(b.output_half(i), b.output_half(i) + n);
  }
  std::fill(px.begin(), px.end(), uint8_t(0));
  b.run(4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(std::memcmp(first[i].data(), b.output_half(i), n * 2), 0) << "slot " << i;
  EXPECT_EQ(floats.output_half(), nullptr);
  Net cpu(model, NetOptions{});
  EXPECT_EQ(cpu.output_half(), nullptr);
}

// A batch run in parts (NetOptions::cl_chunks: uploads and downloads on a second queue, each part's kernels offset to
// its first face, on one or two compute queues) and the flush spacing (every kernel, every 2nd, none) change only when
// the device works: the same halves as one part with the default flushes, run after run, whatever the count (fewer
// faces than parts too).
TEST(OpenCL, PartsAndFlushSpacingKeepTheOutput) {
  SKIP_WITHOUT_OPENCL();
  auto model = load_model(shipped("s"));
  const ModelInfo& mi = info(*model);
  const int W = mi.input_width, H = mi.input_height;
  std::vector<uint8_t> px;
  const ImageView v = pattern_frame(px, PixelFormat::I420, 400, 300);
  const Rect rois[] = {{60, 40, 330, 250}, {-30, 200, 150, 190}, {200, 10, 2 * W, 2 * H}, {10, 20, 100, 130},
                       {5, 5, 390, 290},   {100, 80, 120, 150},  {0, 0, 400, 300},        {250, 150, 140, 160}};
  constexpr int kFaces = NetOptions::kMinChunkedFaces;  // auto runs this many in two parts on a GPU
  static_assert(std::size(rois) >= kFaces);
  NetOptions base = cl_options(W, H);
  base.batch = kFaces;
  base.cl_output = ClOutput::Half;
  base.cl_chunks = 1;
  Net ref(model, base);
  for (int i = 0; i < kFaces; ++i) ref.set_input(v, rois[i], i);
  ref.run(kFaces);
  const size_t n = ref.output_size();
  struct Variant {
    int chunks, flush_every, threads, queues;
  };
  for (const Variant& s : {Variant{2, 1, 1, 1}, Variant{3, 0, 2, 2}, Variant{5, 2, 3, 2}, Variant{0, 8, 4, 1}}) {
    SCOPED_TRACE(std::to_string(s.chunks) + " parts on " + std::to_string(s.queues) + " compute queues, flush every " +
                 std::to_string(s.flush_every) + ", " + std::to_string(s.threads) + " threads");
    NetOptions o = base;
    o.cl_chunks = s.chunks;
    o.cl_flush_every = s.flush_every;
    o.threads = s.threads;
    o.cl_part_queues = s.queues;
    Net net(model, o);
    for (int count : {kFaces, 2, 5, 1, kFaces}) {
      for (int i = 0; i < count; ++i) net.set_input(v, rois[i], i);
      net.run(count);
      for (int i = 0; i < count; ++i)
        ASSERT_EQ(std::memcmp(net.output_half(i), ref.output_half(i), n * 2), 0) << count << " faces, slot " << i;
      const int chunks = net.last_times().chunks;
      if (s.chunks)
        EXPECT_EQ(chunks, std::min(count, s.chunks)) << count << " faces";
      else if (count < kFaces)  // auto: 2 parts on a GPU for kMinChunkedFaces faces or more, else 1
        EXPECT_EQ(chunks, 1) << count << " faces";
      else
        EXPECT_TRUE(chunks == 1 || chunks == 2) << chunks << " parts";
      EXPECT_GT(net.last_times().gather_ms, 0.0);
      EXPECT_GT(net.last_times().kernels_ms, 0.0);
      EXPECT_GT(net.last_times().download_ms, 0.0);
    }
    net.run(kFaces);  // no new inputs: the device's copies of the last inputs again
    for (int i = 0; i < kFaces; ++i)
      ASSERT_EQ(std::memcmp(net.output_half(i), ref.output_half(i), n * 2), 0) << "rerun";
  }
  // Floats and images mixed over the parts (the floats go up on the first compute queue, the second part's kernels run
  // on the other), and floats replaced by an image in the same slot before the run: as in one part.
  std::mt19937 rng(5);
  std::vector<std::vector<float>> floats;
  for (int i = 0; i < kFaces; ++i) floats.push_back(random_input(rng, W, H));
  NetOptions two = base;
  two.cl_chunks = 2;
  Net one_part(model, base), parts(model, two);
  for (Net* net : {&one_part, &parts}) {
    for (int i = 0; i < kFaces; ++i) net->set_input_planar(floats[i].data(), i);
    for (int i = 0; i < kFaces; i += 2) net->set_input(v, rois[i], i);
    net->run(kFaces);
  }
  for (int i = 0; i < kFaces; ++i)
    ASSERT_EQ(std::memcmp(parts.output_half(i), one_part.output_half(i), n * 2), 0) << "mixed inputs, slot " << i;
  for (int i = 0; i < kFaces; i += 2)
    ASSERT_EQ(std::memcmp(parts.output_half(i), ref.output_half(i), n * 2), 0) << "image over floats, slot " << i;
  NetOptions bad = base;
  bad.cl_flush_every = -1;
  EXPECT_THROW(Net(model, bad), std::invalid_argument);
  bad = base;
  bad.cl_chunks = kFaces + 1;
  EXPECT_THROW(Net(model, bad), std::invalid_argument);
  bad = base;
  bad.cl_part_queues = 3;
  EXPECT_THROW(Net(model, bad), std::invalid_argument);
}

TEST(OpenCL, BinaryCacheHitsAndRebuildsBadEntries) {
  SKIP_WITHOUT_OPENCL();
  TempDir dir;
  auto model = load_model(shipped("s"));
  const ModelInfo& mi = info(*model);
  std::mt19937 rng(3);
  auto in = random_input(rng, mi.input_width, mi.input_height);
  auto ref = reference(model, mi.input_width, mi.input_height, in);
  auto start = [&](const char* what, bool want_hit, const std::string& want_note) {
    Net net(model, cl_options(mi.input_width, mi.input_height, dir.path));
    EXPECT_EQ(net.last_times().binary_cache_hit, want_hit) << what;
    if (want_note.empty())
      EXPECT_EQ(net.last_times().cache_note, "") << what;
    else
      EXPECT_NE(net.last_times().cache_note.find(want_note), std::string::npos)
          << what << ": " << net.last_times().cache_note;
    net.set_input_planar(in.data());
    net.run();
    EXPECT_LE(max_abs_diff(net.output(), ref), kTol) << what;
  };
  start("cold", false, "");
  std::string file;
  {
    std::string ls = dir.path;
    FILE* p = popen(("ls " + ls + "/*.clbin").c_str(), "r");
    char buf[512] = {};
    if (p && fgets(buf, sizeof buf, p)) file = buf;
    if (p) pclose(p);
    while (!file.empty() && file.back() == '\n') file.pop_back();
  }
  ASSERT_FALSE(file.empty()) << "no cache entry written in " << dir.path;
  start("warm", true, "");
  // A flipped byte in the binary: the checksum catches it.
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    long size = long(f.tellg());
    f.seekp(size - 5);
    char c = 0;
    f.seekg(size - 5);
    f.read(&c, 1);
    c = char(c ^ 0x5a);
    f.seekp(size - 5);
    f.write(&c, 1);
  }
  start("corrupt", false, "fails its checksum");
  start("rewritten", true, "");
  ::truncate(file.c_str(), 30);
  start("truncated", false, "rebuilt");
  std::ofstream(file, std::ios::trunc) << "garbage";
  start("garbage", false, "not a program-binary cache file");
  start("rewritten again", true, "");
}

TEST(OpenCL, StaleEntryOfAnotherSourceIsNotTrusted) {
  SKIP_WITHOUT_OPENCL();
  TempDir dir;
  cl::DeviceInfo dev = cl::pick_device(false);
  cl_int err = CL_SUCCESS;
  cl::Context ctx(clCreateContext(nullptr, 1, &dev.id, nullptr, nullptr, &err));
  ASSERT_EQ(err, CL_SUCCESS);
  const std::string a = "__kernel void k(__global float* x) { x[0] = 1.0f; }\n";
  const std::string b = "__kernel void k(__global float* x) { x[0] = 2.0f; }\n";
  auto ra = cl::build_program(ctx.get(), dev, a, "", dir.path);
  EXPECT_FALSE(ra.cache_hit);
  // Put a's entry where b's would be (as a hash collision or a stale file would): b must not load a's binary.
  std::rename(cl::cache_path(dir.path, dev, a, "").c_str(), cl::cache_path(dir.path, dev, b, "").c_str());
  auto rb = cl::build_program(ctx.get(), dev, b, "", dir.path);
  EXPECT_FALSE(rb.cache_hit);
  EXPECT_NE(rb.note.find("another device, driver or source"), std::string::npos) << rb.note;
  EXPECT_TRUE(cl::build_program(ctx.get(), dev, b, "", dir.path).cache_hit);
}

TEST(OpenCL, KernelBuildFailureSaysWhy) {
  SKIP_WITHOUT_OPENCL();
  cl::DeviceInfo dev = cl::pick_device(false);
  cl_int err = CL_SUCCESS;
  cl::Context ctx(clCreateContext(nullptr, 1, &dev.id, nullptr, nullptr, &err));
  ASSERT_EQ(err, CL_SUCCESS);
  try {
    cl::build_program(ctx.get(), dev, "__kernel void k(__global float* x) { x[0] = undefined_name; }", "", "");
    FAIL() << "a broken kernel built";
  } catch (const DeviceError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("kernel build failed"), std::string::npos) << m;
    EXPECT_NE(m.find("undefined_name"), std::string::npos) << "the compiler log must be in the message: " << m;
  }
}

TEST(OpenCL, UnwritableCacheFolderStillRuns) {
  SKIP_WITHOUT_OPENCL();
  auto model = load_model(shipped("s"));
  Net net(model, cl_options(0, 0, "/proc/no-such-dir/cache"));
  EXPECT_FALSE(net.last_times().binary_cache_hit);
  EXPECT_NE(net.last_times().cache_note.find("cannot create"), std::string::npos) << net.last_times().cache_note;
}

// Run by meson with OCL_ICD_VENDORS pointing at an empty folder.
TEST(OpenCLNoPlatform, FailsWithDeviceErrorAndAutoPicksCpu) {
  if (!no_opencl_expected()) GTEST_SKIP() << "runs only with BTY_EXPECT_NO_OPENCL=1 (see tests/engine/meson.build)";
  std::string why;
  EXPECT_FALSE(opencl_available(false, &why));
  EXPECT_NE(why.find("OpenCL"), std::string::npos) << why;
  auto model = load_model(shipped("s"));
  NetOptions o;
  o.device = Device::OpenCL;
  try {
    Net net(model, o);
    FAIL() << "an OpenCL net without a platform";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("no OpenCL platform"), std::string::npos) << e.what();
  }
  o.device = Device::Auto;
  EXPECT_EQ(pick_device(model, o, &why), Device::Cpu);
  EXPECT_NE(why.find("CPU"), std::string::npos) << why;
  Net net(model, o);
  EXPECT_EQ(net.device(), Device::Cpu);
}

}  // namespace
}  // namespace bty::test
