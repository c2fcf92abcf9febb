// Precision::Int8 (the AVX512-VNNI pixels conv, x86/conv_avx512vnni.cpp, on the convs a version-3 model calibrates)
// through whole nets: what runs where, the model format's calibration round trip and its checks, which weights lie
// on their int8 grid, random nets against the reference in both executors, threads, strips and half rings, and
// the raw error of the shipped (float-trained) models and of the grid-trained M (quality_bound.h). Skipped, saying so,
// where the CPU or the OS has no AVX512_VNNI. The kernel itself: test_kernel_table.cpp.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include <zlib.h>

#include "int8_quant.h"
#include "kernels.h"
#include "quality_bound.h"
#include "test_util.h"

namespace bty::test {
namespace {

#define SKIP_WITHOUT_INT8() \
  if (!int8_available()) GTEST_SKIP() << "no AVX512_VNNI here (CPUID or the OS's AVX-512 state)"

NetOptions int8(int w, int h, Executor e, int threads = 1, size_t segment = 512 << 10) {
  return at_precision(Precision::Int8, w, h, e, threads, segment);
}

// A random net calibrated the generous way: every conv input channel's maximum set to `max` (He-initialised nets
// on inputs in [-1, 1] keep their ReLU outputs of order 1).
ModelSpec calibrated(ModelSpec spec, float max) {
  spec.version = 3;
  std::vector<int> ch = {3};
  for (Layer& L : spec.layers) {
    const int in = L.op == Op::Concat ? ch[size_t(L.a)] + ch[size_t(L.b)] : ch[size_t(L.a)];
    if (L.op == Op::Conv) L.input_max.assign(size_t(in), max);
    ch.push_back(L.op == Op::Conv ? L.out_channels : in);
  }
  return spec;
}

TEST(Int8, FormatVersion3CarriesTheCalibration) {
  std::mt19937 rng(3);
  ModelSpec spec = calibrated(random_net(rng, 2, 16, 16), 2.5f);
  spec.layers.back().input_max.clear();  // one conv left uncalibrated
  auto m = parse(spec);
  EXPECT_EQ(info(*m).version, 3);
  int calibrated_convs = 0;
  for (const Layer& L : m->layers)
    if (!L.input_max.empty()) {
      ++calibrated_convs;
      for (float v : L.input_max) EXPECT_EQ(v, 2.5f);
    }
  EXPECT_EQ(
      calibrated_convs,
      int(std::count_if(spec.layers.begin(), spec.layers.end(), [](const Layer& L) { return L.op == Op::Conv; })) - 1);
  // Version 2 writes no calibration (the field stays a reserved zero), and a calibration in a v2 file is refused.
  ModelSpec v2 = spec;
  v2.version = 2;
  const auto m2 = parse(v2);  // kept: a range-for over a temporary's member would outlive it
  for (const Layer& L : m2->layers) EXPECT_TRUE(L.input_max.empty());
  std::vector<uint8_t> bytes = serialize_model(spec);
  bytes[8] = 2;  // version 2 with a calibration offset: the CRC is rewritten so the field check is what fails
  const uint32_t crc = uint32_t(::crc32_z(0, bytes.data(), bytes.size() - 4));
  std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
  try {
    parse_model(bytes.data(), bytes.size(), "v2-with-calibration");
    ADD_FAILURE() << "a calibration offset in a version-2 file was accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("reserved field is not zero"), std::string::npos) << e.what();
  }
  // A negative maximum is refused with its reason.
  ModelSpec bad = spec;
  bad.layers.front().input_max[1] = -1.0f;
  try {
    parse(bad);
    ADD_FAILURE() << "a negative calibration maximum was accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("calibration maximum"), std::string::npos) << e.what();
  }
}

// ModelInfo::int8_on_grid (precision=auto's condition for int8): weights fine-tuned onto their int8 grid are told
// apart from float-trained ones, one weight a third of a step off the grid or a non-zero weight on a channel the
// calibration drops is enough to lose it, and a model without int8 convs is never on it. Pure arithmetic: no VNNI
// needed.
TEST(Int8, WeightsOnTheirGridAreToldApart) {
  std::mt19937 rng(9);
  ModelSpec spec = calibrated(random_net(rng, 2, 32, 32), 2.5f);
  std::vector<ConvStep> int8_steps;
  const auto model = parse(spec);  // the plan's steps point into the model
  for (const ConvStep& st : make_plan(*model, 32, 32).steps)
    if (st.input_max && st.input_nonneg) int8_steps.push_back(st);
  ASSERT_GT(int8_steps.size(), 1u);
  const size_t first = size_t(int8_steps[0].layer);
  spec.layers[first].input_max[0] = 0.0f;  // a dropped channel (never fired on the calibration crops)
  EXPECT_FALSE(info(*parse(spec)).int8_on_grid) << "random float weights on the grid";
  ModelSpec plain = spec;
  for (Layer& L : plain.layers) L.input_max.clear();
  plain.version = 2;
  EXPECT_FALSE(info(*parse(plain)).int8_on_grid) << "no int8 convs, yet on the grid";
  // Snap every int8 conv's weights with the engine's own quantisation: w = q * w_step / x_step.
  const auto m = parse(spec);  // kept alive: the steps point into it
  float step_00 = 0, x_step_1 = 0;
  for (const ConvStep& st : make_plan(*m, 32, 32).steps) {
    if (!st.input_max || !st.input_nonneg) continue;
    const Int8Quant q = quantise_int8(st);
    std::vector<float>& w = spec.layers[size_t(st.layer)].weights;
    for (size_t i = 0; i < w.size(); ++i) {
      const size_t co = i / (size_t(st.in_channels) * 9), ci = i / 9 % size_t(st.in_channels);
      w[i] = q.x_step[ci] > 0 ? float(q.w_q[i]) * q.w_step[co] / q.x_step[ci] : 0.0f;
    }
    if (size_t(st.layer) == first) step_00 = q.w_step[0], x_step_1 = q.x_step[1];
  }
  EXPECT_TRUE(info(*parse(spec)).int8_on_grid) << "weights snapped with the engine's own quantisation";
  ModelSpec off = spec;
  off.layers[first].weights[1 * 9 + 4] += step_00 / x_step_1 / 3.0f;  // output 0, live input 1, centre tap
  EXPECT_FALSE(info(*parse(off)).int8_on_grid) << "a weight a third of a step off the grid";
  ModelSpec dead = spec;
  dead.layers[first].weights[4] = 0.01f;  // output 0, dropped input 0, centre tap
  EXPECT_FALSE(info(*parse(dead)).int8_on_grid) << "a non-zero weight on a dropped channel";
}

TEST(Int8, RunsWhereCalibratedAndNeedsAvx512Vnni) {
  std::mt19937 rng(31);
  auto model = parse(calibrated(random_net(rng, 1, 8, 8), 4.0f));
  NetOptions o;
  o.width = 16;
  o.height = 16;
  o.precision = Precision::Int8;
  if (!int8_available()) {
    EXPECT_THROW(Net(model, o), std::invalid_argument);
    GTEST_SKIP() << "no AVX512_VNNI here: checked that Precision::Int8 is refused";
  }
  o.isa = Isa::Avx512;
  EXPECT_EQ(Net(model, o).precision(), Precision::Int8);
  o.isa = Isa::Avx2;
  EXPECT_THROW(Net(model, o), std::invalid_argument) << "int8 runs on the avx512 level only";
  o.executor = Executor::Reference;
  EXPECT_EQ(Net(model, o).precision(), Precision::Float32) << "the reference stays the fp32 oracle";
}

// An uncalibrated model under Int8 runs exactly what the table runs for the rest: bf16 pixels where the CPU has
// AVX512_BF16 without AMX, else fp32.
TEST(Int8, UncalibratedModelRunsAsTheRestOfTheTable) {
  SKIP_WITHOUT_INT8();
  std::mt19937 rng(41);
  auto model = parse(random_net(rng, 2, 16, 16));
  const auto in = random_input(rng, 48, 40);
  NetOptions o = int8(48, 40, Executor::Pipeline);
  const auto got = run(model, o, in);
  o.precision = bf16_available() && !amx_bf16_available() ? Precision::Bf16 : Precision::Float32;
  EXPECT_EQ(max_abs_diff(got, run(model, o, in)), 0.0f) << to_string(o.precision);
}

// 8-bit activations (a step of max / 255 per channel) and weights (1/127 of each output's largest) through up to
// 20 layers of He-initialised random weights, tanh outputs in [-1, 1]: measured <= 0.05 on these nets.
constexpr float kInt8Tol = 0.15f;

TEST(Int8, RandomNetsStayWithinInt8PrecisionOfTheReference) {
  SKIP_WITHOUT_INT8();
  expect_random_nets_within(Precision::Int8, kInt8Tol, [](ModelSpec s) { return calibrated(std::move(s), 4.0f); });
}

// int8 vs fp32 on the raw head, printed, for the bound's two inputs (the noise input is no face and far outside the
// calibration's range: printed only). The shipped models, calibrated on real face crops but float-trained, do NOT
// hold issue 9's bound (docs/engine.md, "int8": the weights' 7 bits per output channel move the raw deltas, measured
// 5-21 % of pixels by more than one code value on the smooth input): a regression guard on that. The M fine-tuned
// onto its int8 grid (models/checkpoints/study/beautify-m-qat.bmodel, train.py --qat) moves far fewer. The
// element's measurement on real faces, where the bound is stated: tests/gst's Element.Int8Precision* tests.
void expect_int8_raw_error(const std::vector<std::string>& paths, double max_share_smooth) {
  compare_on_models([](int w, int h) { return at_precision(Precision::Float32, w, h, Executor::Pipeline); },
                    [](int w, int h) { return int8(w, h, Executor::Pipeline); },
                    [&](const std::string& path, const char* name, const ModelInfo& mi, const CodeError& e) {
                      ASSERT_EQ(mi.version, 3) << path << " carries no int8 calibration (calibrate_int8.py)";
                      std::printf(
                          "int8, %s, %s input: deltas max %.4f code values, mean %.5f, pixels > 1 code value %.4f "
                          "%%; alpha max %.5f\n",
                          path.c_str(), name, e.max_code, e.mean_code, 100 * e.share_over_one, e.max_alpha);
                      // Which convs run reduced is the table's choice (int8 where it beats the fp32 kinds beside
                      // it; beside a Zen 4's bf16 pairs every calibrated conv, the rest in bf16): a net with one
                      // must move, a net with none must give fp32's output exactly.
                      const Net net(load_model(path), int8(mi.input_width, mi.input_height, Executor::Pipeline));
                      const std::vector<std::string> kinds = net.layer_kinds();
                      if (std::any_of(kinds.begin(), kinds.end(), [](const std::string& k) {
                            return k == "pixels-int8" || k == "pixels-bf16" || k == "amx-bf16";
                          }))
                        EXPECT_GT(e.max_code, 0.0) << path << " " << name << ": int8 gave fp32's output exactly";
                      else
                        EXPECT_EQ(e.max_code, 0.0) << path << " " << name << ": no int8 conv, yet the output moved";
                      if (std::string(name) == "smooth") {
                        EXPECT_LE(e.share_over_one, max_share_smooth) << path << " " << name;
                      }
                    },
                    paths);
}

// Beside the AVX-512 level's 16-lane fp32 kinds (an Intel core with VNNI, no bf16 pairs kind) int8 takes only the
// narrow convs, where it measured faster (docs/engine.md, "Which convs run in 8 bits"): on M, the 8->8 convs, the
// 24->8 concat and the 8->28 head; the 8->16 stride-2 conv and every conv with 16 channels and more stay fp32.
TEST(Int8, BesideTheFp32KindsInt8TakesTheNarrowConvs) {
  SKIP_WITHOUT_INT8();
  if (bf16_available() && !amx_bf16_available())
    GTEST_SKIP() << "this table runs int8 beside the bf16 pairs kind (every calibrated conv in int8)";
  const Kernels k = select_kernels(Isa::Avx512, Precision::Int8);
  const auto model = load_model(shipped("m"));
  int narrow = 0;
  for (const ConvStep& st : make_plan(*model, 160, 224).steps) {
    if (!int8_applies(st)) continue;
    const bool want = (st.in_channels == 8 && st.stride == 1) || st.out_channels == 8;
    EXPECT_EQ(k.choose(st, true) == ConvKind::PixelsI8, want)
        << "layer " << st.layer << ": " << st.in_channels << "->" << st.out_channels << " stride " << st.stride;
    narrow += want;
  }
  EXPECT_EQ(narrow, 4) << "M's 8->8 (x2), 24->8 and 8->28";
}

constexpr double kInt8RawGuard = 0.3;
TEST(Int8, ShippedModelsStayWithinTheirMeasuredError) {
  SKIP_WITHOUT_INT8();
  expect_int8_raw_error({shipped("s"), shipped("m"), shipped("l")}, kInt8RawGuard);
}

// On the raw head and the synthetic smooth input the grid-trained M moves 0.51 % of the pixels by more than a code
// value (the float-trained M: 21 %); through the element on real faces, where the bound is stated, 0.02-0.03 %.
constexpr double kInt8GridRawGuard = 0.02;
TEST(Int8, GridTrainedModelStaysFarCloserToFp32) {
  SKIP_WITHOUT_INT8();
  expect_int8_raw_error({models_dir() + "/checkpoints/study/beautify-m-qat.bmodel"}, kInt8GridRawGuard);
}

}  // namespace
}  // namespace bty::test
