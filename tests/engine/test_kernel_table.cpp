// checkasm-style tests of the kernel table (kernels.h): every entry of every SIMD level this CPU runs against the
// scalar entry, on random data, partial row/tile ranges and odd sizes. Destinations are surrounded by guard
// floats and pre-filled with a canary, so a write outside the requested range fails; inputs carry NaN in every
// lane and pixel a kernel must not read (padded channels, columns past the map), so reading one fails too.
#include <cstring>
#include <iterator>

#include "half.h"
#include "kernels.h"
#include "test_util.h"

namespace bty::test {
namespace {

constexpr float kCanary = -12345.5f;
constexpr int kGuard = 64;  // floats on each side of a destination

std::vector<Isa> simd_levels() {
  std::vector<Isa> v;
  if (best_isa() >= Isa::Avx2) v.push_back(Isa::Avx2);
  if (best_isa() >= Isa::Avx512) v.push_back(Isa::Avx512);
  return v;
}

// A TILE map of random real values; NaN in padded channel lanes and in pixels past the map's width or height.
AlignedFloats random_map(const TileGeom& g, std::mt19937& rng) {
  AlignedFloats m(g.row_floats * g.tiles_y);
  std::uniform_real_distribution<float> u(-1, 1);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int y = 0; y < g.tiles_y * kTile; ++y)
    for (int x = 0; x < g.tiles_x * kTile; ++x)
      for (int grp = 0; grp < g.groups; ++grp)
        for (int l = 0; l < kGroup; ++l) {
          const bool real = x < g.width && y < g.height && grp * kGroup + l < g.channels;
          m[g.row_floats * (y / kTile) + g.offset(x, y % kTile, grp) + l] = real ? u(rng) : nan;
        }
  return m;
}

struct Dest {
  std::vector<float> buf;
  explicit Dest(size_t n) : buf(n + 2 * kGuard, kCanary) {}
  float* data() { return buf.data() + kGuard; }
  bool guards_intact() const {
    for (int i = 0; i < kGuard; ++i)
      if (buf[size_t(i)] != kCanary || buf[buf.size() - 1 - size_t(i)] != kCanary) return false;
    return true;
  }
};

// Runs one conv entry on rows [y0, y1) x tiles [tx0, tx1) of output tile-row ty.
Dest run_conv(ConvRowFn fn, const TileConv& c, const std::vector<AlignedFloats>& maps, int ty, int y0, int y1, int tx0,
              int tx1) {
  RowWindow win[8];
  for (size_t s = 0; s < c.src.size(); ++s) {
    int first, count;
    source_rows(c, int(s), ty, first, count);
    win[s].first = first;
    for (int r = 0; r < count; ++r) win[s].rows[r] = maps[s].data() + c.src[s].geom.row_floats * (first + r);
  }
  Dest d(c.out.row_floats);
  fn(c, ty, y0, y1, tx0, tx1, win, d.data());
  return d;
}

// Compares a run with the scalar one: guards and everything outside the range keep the canary; inside, real
// channels agree within tol, padded lanes are 0 (zero weights and bias).
void expect_same(const TileConv& c, Dest& got, Dest& want, int ty, int y0, int y1, int tx0, int tx1, float tol,
                 const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_TRUE(got.guards_intact()) << "wrote outside the tile-row";
  const TileGeom& g = c.out;
  int bad_outside = 0, bad_value = 0, bad_pad = 0;
  float worst = 0;
  for (int yy = 0; yy < kTile; ++yy)
    for (int x = 0; x < g.tiles_x * kTile; ++x)
      for (int grp = 0; grp < g.groups; ++grp)
        for (int l = 0; l < kGroup; ++l) {
          const size_t o = g.offset(x, yy, grp) + size_t(l);
          const float a = got.data()[o], b = want.data()[o];
          const bool inside =
              yy >= y0 && yy < y1 && x >= tx0 * kTile && x < tx1 * kTile && x < g.width && ty * kTile + yy < g.height;
          if (!inside) {
            bad_outside += a != kCanary;
          } else if (grp * kGroup + l >= g.channels) {
            bad_pad += a != 0.0f;
          } else {
            const float d = std::fabs(a - b);
            if (!(d <= tol)) ++bad_value;
            if (d > worst || d != d) worst = d;
          }
        }
  EXPECT_EQ(bad_outside, 0) << "floats written outside rows [" << y0 << "," << y1 << ") tiles [" << tx0 << "," << tx1
                            << ")";
  EXPECT_EQ(bad_pad, 0) << "padded lanes not zero";
  EXPECT_EQ(bad_value, 0) << "values off by up to " << worst;
}

TEST(KernelTable, EveryLevelFillsEveryEntry) {
  std::vector<Isa> levels = {Isa::Scalar};
  for (Isa i : simd_levels()) levels.push_back(i);
  for (Isa i : levels) {
    Kernels k = select_kernels(i);
    EXPECT_EQ(k.isa, i);
    for (int kind = 0; kind < kFloatConvKinds; ++kind) EXPECT_NE(k.conv[kind], nullptr) << to_string(i) << " " << kind;
    EXPECT_TRUE(k.pack_input && k.unpack && k.colour_row && k.to_half && k.from_half) << to_string(i);
  }
}

TEST(KernelTable, BtyIsaCapsTheAutoLevel) {
  const char* old = std::getenv("BTY_ISA");
  std::string saved = old ? old : "";
  setenv("BTY_ISA", "scalar", 1);
  EXPECT_EQ(select_kernels(Isa::Auto).isa, Isa::Scalar);
  EXPECT_EQ(select_kernels(Isa::Scalar).isa, Isa::Scalar);
  setenv("BTY_ISA", "avx9", 1);
  EXPECT_THROW(select_kernels(Isa::Auto), std::invalid_argument);
  if (old)
    setenv("BTY_ISA", saved.c_str(), 1);
  else
    unsetenv("BTY_ISA");
  EXPECT_EQ(select_kernels(Isa::Auto).isa, auto_isa());
}

// Every conv kind of every level vs the scalar entry of the same kind, and every scalar kind vs scalar Direct.
TEST(KernelTable, ConvEntriesMatchScalarOnPartialRanges) {
  const OpCase ops[] = {{"conv s1", 1, false, false},
                        {"conv s2", 2, false, false},
                        {"up + conv", 1, true, false},
                        {"concat(up, skip) + conv", 1, true, true},
                        {"concat + conv s2", 2, false, true}};
  const Kernels scalar = select_kernels(Isa::Scalar);
  std::vector<Kernels> simd;
  for (Isa i : simd_levels()) simd.push_back(select_kernels(i));
  std::mt19937 rng(99);
  int checked = 0;
  for (const OpCase& op : ops)
    for (int trial = 0; trial < 10; ++trial) {
      // Narrow and wide, partial groups; 8 in / 8 out and the 8 -> 28 head shape included.
      const int shapes[][2] = {{8, 8}, {8, 28}, {24, 8}, {3, 8}};
      int cin = trial < 4 ? shapes[trial][0] : 1 + int(rng() % 40);
      int cout = trial < 4 ? shapes[trial][1] : 1 + int(rng() % 40);
      if (op.concat) cin = std::min(cin, 44);
      const Act act = Act(rng() % 3);
      auto model = parse_any_head(op_net(op, rng, cin, cout, act));
      const int mult = (op.stride == 2 || op.up) ? 2 : 1;
      const int w = mult * (1 + int(rng() % 90)), h = mult * (1 + int(rng() % 20));
      Plan plan = make_plan(*model, w, h);
      const ConvStep& step = plan.steps.back();
      std::vector<AlignedFloats> maps;
      for (const ConvSource& cs : step.sources)
        maps.push_back(random_map(TileGeom(plan.width[cs.tensor], plan.height[cs.tensor], cs.channels), rng));
      const ConvKind direct = ConvKind::Direct;
      const TileConv ref = make_tile_conv(plan, step, false, &direct);
      const int ty = int(rng() % ref.out.tiles_y);
      int y0 = int(rng() % 8), y1 = y0 + 1 + int(rng() % (8 - y0));
      int tx0 = int(rng() % ref.out.tiles_x), tx1 = tx0 + 1 + int(rng() % (ref.out.tiles_x - tx0));
      if (trial == 1) y0 = 0, y1 = 8, tx0 = 0, tx1 = ref.out.tiles_x;  // the whole tile-row once
      Dest want = run_conv(scalar.conv[int(direct)], ref, maps, ty, y0, y1, tx0, tx1);
      for (int kind = 0; kind < kFloatConvKinds; ++kind) {
        const ConvKind k = ConvKind(kind);
        if (!conv_kind_applies(step, k)) continue;
        const TileConv c = make_tile_conv(plan, step, true, &k);
        const std::string what = std::string(op.name) + " " + std::to_string(cin) + "->" + std::to_string(cout) + " " +
                                 std::to_string(w) + "x" + std::to_string(h) + " kind " + to_string(k) + " ty " +
                                 std::to_string(ty) + " rows [" + std::to_string(y0) + "," + std::to_string(y1) +
                                 ") tiles [" + std::to_string(tx0) + "," + std::to_string(tx1) + ")";
        Dest s = run_conv(scalar.conv[kind], c, maps, ty, y0, y1, tx0, tx1);
        expect_same(c, s, want, ty, y0, y1, tx0, tx1, 2e-5f, what + " scalar vs scalar direct");
        for (const Kernels& K : simd) {
          Dest v = run_conv(K.conv[kind], c, maps, ty, y0, y1, tx0, tx1);
          expect_same(c, v, s, ty, y0, y1, tx0, tx1, 2e-5f, what + " " + to_string(K.isa));
        }
        ++checked;
      }
    }
  EXPECT_GE(checked, 110);  // every case x the fp32 kinds that apply to it
}

// A copy of a conv's input maps with NaN in every column the taps of output tiles [tx0, tx1) do not reach.
std::vector<AlignedFloats> fence_outside_taps(const TileConv& c, const std::vector<AlignedFloats>& maps, int tx0,
                                              int tx1) {
  std::vector<AlignedFloats> fenced = maps;
  const int stride = c.step->stride;
  for (size_t si = 0; si < c.src.size(); ++si) {
    const TileGeom& g = c.src[si].geom;
    int lo = tx0 * kTile * stride - 1, hi = (std::min(tx1 * kTile, c.out.width) - 1) * stride + 1;
    if (c.src[si].up) lo >>= 1, hi >>= 1;
    for (int y = 0; y < g.tiles_y * kTile; ++y)
      for (int x = 0; x < g.tiles_x * kTile; ++x)
        if (x < lo || x > hi)
          for (int grp = 0; grp < g.groups; ++grp)
            for (int l = 0; l < kGroup; ++l)
              fenced[si][g.row_floats * size_t(y / kTile) + g.offset(x, y % kTile, grp) + size_t(l)] =
                  std::numeric_limits<float>::quiet_NaN();
  }
  return fenced;
}

// A bf16 conv kind (Precision::Bf16), given the unrounded input maps, against scalar Direct run on those maps rounded
// to bf16 (so the kernel's own rounding is checked: round to nearest even), with weights rounded to bf16 (the bias
// stays fp32, as the kernels add it); AMX also with hi + lo weights (kAmxWeightParts = 2:
// |w - hi - lo| <= 2^-17 |w|) against the net's own weights. Only the fp32 accumulation order (and the lo part's
// last rounding) differ, so the tolerance is fp32-sized. Odd channel counts (partial groups and channel pairs,
// partial 16-output and 32-K tiles), strides, the folded reads, partial row/tile ranges, canaries and NaN in every
// lane the kernel must not read, as above. How far bf16 operands move the shipped nets' outputs is test_bf16.cpp's
// quality bound.
void expect_bf16_kind_matches(ConvKind kind, uint32_t seed) {
  const Kernels scalar = select_kernels(Isa::Scalar);
  const Kernels bf = select_kernels(Isa::Avx512, Precision::Bf16);
  ASSERT_NE(bf.conv[int(kind)], nullptr);
  const bool split = kind == ConvKind::AmxBf16;  // AMX keeps the weights' precision as hi + lo
  const OpCase ops[] = {{"conv s1", 1, false, false},
                        {"conv s2", 2, false, false},
                        {"up + conv", 1, true, false},
                        {"concat(up, skip) + conv", 1, true, true},
                        {"concat + conv s2", 2, false, true}};
  std::mt19937 rng(seed);
  int checked = 0;
  int op_index = 0;
  for (const OpCase& op : ops)
    for (int trial = 0; trial < 16; ++trial, ++op_index) {
      // The fixed shapes include 1-7 outputs (AMX folds hi + lo into one tile up to 8), each activation in turn.
      const int shapes[][2] = {{8, 8},   {8, 28},  {24, 8}, {3, 8},  {16, 16}, {32, 32},
                               {64, 64}, {48, 16}, {8, 1},  {17, 3}, {40, 5},  {9, 7}};
      constexpr int fixed = int(std::size(shapes));
      int cin = trial < fixed ? shapes[trial][0] : 1 + int(rng() % 64);
      int cout = trial < fixed ? shapes[trial][1] : 1 + int(rng() % 64);
      if (op.concat) cin = std::min(cin, 44);
      const Act act = trial < fixed ? Act(op_index % 3) : Act(rng() % 3);
      ModelSpec spec = op_net(op, rng, cin, cout, act);
      auto model = parse_any_head(spec);
      for (float& w : spec.layers.back().weights) w = bf16_to_float(float_to_bf16(w));
      auto rounded = parse_any_head(spec);
      const int mult = (op.stride == 2 || op.up) ? 2 : 1;
      const int w = mult * (1 + int(rng() % 90)), h = mult * (1 + int(rng() % 20));
      Plan plan = make_plan(*model, w, h), plan_r = make_plan(*rounded, w, h);
      const ConvStep& step = plan.steps.back();
      std::vector<AlignedFloats> raw, maps;  // the kernel's input; the reference's, rounded as the kernel must
      for (const ConvSource& cs : step.sources) {
        raw.push_back(random_map(TileGeom(plan.width[cs.tensor], plan.height[cs.tensor], cs.channels), rng));
        maps.push_back(raw.back());
        for (float& v : maps.back()) v = bf16_to_float(float_to_bf16(v));  // NaN stays NaN
      }
      const ConvKind direct = ConvKind::Direct;
      const TileConv ref1 = make_tile_conv(plan_r, plan_r.steps.back(), false, &direct);
      const TileConv c1 = make_tile_conv(plan_r, plan_r.steps.back(), false, &kind, 1);
      const int ty = int(rng() % ref1.out.tiles_y);
      int y0 = int(rng() % 8), y1 = y0 + 1 + int(rng() % (8 - y0));
      int tx0 = int(rng() % ref1.out.tiles_x), tx1 = tx0 + 1 + int(rng() % (ref1.out.tiles_x - tx0));
      if (trial % 4 == 1) y0 = 0, y1 = 8, tx0 = 0, tx1 = ref1.out.tiles_x;  // whole tile-rows too
      // The bf16 runs read a copy whose columns outside those the range's taps reach are NaN too (the pipeline's
      // half-ring chunks hold little more): a read of one fails.
      const std::vector<AlignedFloats> fenced = fence_outside_taps(c1, raw, tx0, tx1);
      const std::string what = std::string(op.name) + " " + std::to_string(cin) + "->" + std::to_string(cout) + " " +
                               std::to_string(w) + "x" + std::to_string(h) + " ty " + std::to_string(ty) + " rows [" +
                               std::to_string(y0) + "," + std::to_string(y1) + ") tiles [" + std::to_string(tx0) + "," +
                               std::to_string(tx1) + ") " + to_string(kind);
      Dest want1 = run_conv(scalar.conv[int(direct)], ref1, maps, ty, y0, y1, tx0, tx1);
      Dest got1 = run_conv(bf.conv[int(kind)], c1, fenced, ty, y0, y1, tx0, tx1);
      expect_same(c1, got1, want1, ty, y0, y1, tx0, tx1, 1e-4f, what + ", bf16 weights");
      if (split) {
        const TileConv ref = make_tile_conv(plan, step, false, &direct);
        const TileConv c = make_tile_conv(plan, step, false, &kind);  // hi + lo weights
        ASSERT_EQ(c.amx_parts, 2);
        ASSERT_EQ(c.amx_fold, cout <= kGroup) << what;
        Dest want = run_conv(scalar.conv[int(direct)], ref, maps, ty, y0, y1, tx0, tx1);
        Dest got = run_conv(bf.conv[int(kind)], c, fenced, ty, y0, y1, tx0, tx1);
        expect_same(c, got, want, ty, y0, y1, tx0, tx1, 1e-4f, what + ", hi + lo weights");
      }
      ++checked;
    }
  EXPECT_EQ(checked, 80);
}

TEST(KernelTable, AmxBf16ConvMatchesFp32OnBf16Operands) {
  if (!amx_bf16_available()) GTEST_SKIP() << "no AMX-BF16 (CPUID, AVX512_BF16 or the OS's tile state): no AMX conv";
  expect_bf16_kind_matches(ConvKind::AmxBf16, 123);
}

TEST(KernelTable, PixelsBf16ConvMatchesFp32OnBf16Operands) {
  if (!bf16_available()) GTEST_SKIP() << "no AVX512_BF16 here (CPUID or the OS's AVX-512 state): no bf16 conv";
  expect_bf16_kind_matches(ConvKind::PixelsBf16, 321);
}

// The int8 conv (Precision::Int8), given unquantised non-negative input maps (some values above the calibrated
// maximum, so saturation is checked; one channel in five never fired in calibration, maximum 0), against scalar
// Direct run on the operands the kernel must form: activations round(x · quad_inv) clamped to 0..255 times their
// step, weights quantise_int8's w_q · w_step / x_step, so that every product is the kernel's integer product times
// its output step. Only the fp32 accumulation of the reference differs (the kernel's int32 sums are exact), hence a
// fp32-sized tolerance. The same ops, shapes, partial ranges, canaries and column fences as the bf16 kinds.
TEST(KernelTable, PixelsInt8ConvMatchesFp32OnInt8Operands) {
  if (!int8_available()) GTEST_SKIP() << "no AVX512_VNNI here (CPUID or the OS's AVX-512 state): no int8 conv";
  const Kernels scalar = select_kernels(Isa::Scalar);
  const Kernels i8 = select_kernels(Isa::Avx512, Precision::Int8);
  ASSERT_EQ(i8.precision, Precision::Int8);
  const ConvKind kind = ConvKind::PixelsI8, direct = ConvKind::Direct;
  ASSERT_NE(i8.conv[int(kind)], nullptr);
  const OpCase ops[] = {{"conv s1", 1, false, false},
                        {"conv s2", 2, false, false},
                        {"up + conv", 1, true, false},
                        {"concat(up, skip) + conv", 1, true, true},
                        {"concat + conv s2", 2, false, true}};
  std::mt19937 rng(777);
  int checked = 0;
  for (const OpCase& op : ops)
    for (int trial = 0; trial < 16; ++trial) {
      const int shapes[][2] = {{8, 8}, {8, 28}, {24, 8}, {5, 8}, {16, 16}, {32, 32}, {64, 64}, {48, 16}};
      int cin = trial < 8 ? shapes[trial][0] : 1 + int(rng() % 64);
      int cout = trial < 8 ? shapes[trial][1] : 1 + int(rng() % 64);
      if (op.concat) cin = std::min(cin, 44);
      ModelSpec spec = op_net(op, rng, cin, cout, Act(rng() % 3));
      auto model = parse_any_head(spec);
      const int mult = (op.stride == 2 || op.up) ? 2 : 1;
      const int w = mult * (1 + int(rng() % 90)), h = mult * (1 + int(rng() % 20));
      Plan plan = make_plan(*model, w, h);
      ConvStep step = plan.steps.back();
      std::vector<float> input_max(size_t(step.in_channels));
      std::uniform_real_distribution<float> umax(0.3f, 1.0f);
      for (float& m : input_max) m = rng() % 5 == 0 ? 0.0f : umax(rng);
      step.input_max = input_max.data();
      step.input_nonneg = true;
      ASSERT_TRUE(int8_applies(step));
      const TileConv c = make_tile_conv(plan, step, false, &kind);
      // The reference's weights: the int8 operands as floats.
      const Int8Quant qz = quantise_int8(step);
      for (int co = 0; co < step.out_channels; ++co)
        for (int q = 0; q < step.in_channels; ++q)
          for (int k = 0; k < 9; ++k) {
            const size_t i = (size_t(co) * step.in_channels + q) * 9 + k;
            spec.layers.back().weights[i] =
                qz.x_step[size_t(q)] > 0 ? float(qz.w_q[i]) * qz.w_step[size_t(co)] / qz.x_step[size_t(q)] : 0.0f;
          }
      auto quantised = parse_any_head(spec);
      Plan plan_r = make_plan(*quantised, w, h);
      std::vector<AlignedFloats> raw, maps;  // the kernel's input; the reference's, quantised as the kernel must
      int q0 = 0;
      for (const ConvSource& cs : step.sources) {
        const TileGeom g(plan.width[cs.tensor], plan.height[cs.tensor], cs.channels);
        raw.push_back(random_map(g, rng));
        for (float& v : raw.back()) v = 1.2f * std::fabs(v);  // NaN stays NaN
        maps.push_back(raw.back());
        for (int y = 0; y < g.tiles_y * kTile; ++y)
          for (int x = 0; x < g.tiles_x * kTile; ++x)
            for (int ci = 0; ci < cs.channels; ++ci) {
              float& v = maps.back()[g.row_floats * size_t(y / kTile) + g.offset(x, y % kTile, ci / kGroup) +
                                     size_t(ci % kGroup)];
              const float inv = c.quad_inv[size_t(q0 + ci)];
              if (v == v) v = std::nearbyint(std::clamp(v * inv, 0.0f, 255.0f)) * qz.x_step[size_t(q0 + ci)];
            }
        q0 += cs.channels;
      }
      const TileConv ref = make_tile_conv(plan_r, plan_r.steps.back(), false, &direct);
      const int ty = int(rng() % ref.out.tiles_y);
      int y0 = int(rng() % 8), y1 = y0 + 1 + int(rng() % (8 - y0));
      int tx0 = int(rng() % ref.out.tiles_x), tx1 = tx0 + 1 + int(rng() % (ref.out.tiles_x - tx0));
      if (trial % 4 == 1) y0 = 0, y1 = 8, tx0 = 0, tx1 = ref.out.tiles_x;  // whole tile-rows too
      const std::vector<AlignedFloats> fenced = fence_outside_taps(c, raw, tx0, tx1);
      const std::string what = std::string(op.name) + " " + std::to_string(cin) + "->" + std::to_string(cout) + " " +
                               std::to_string(w) + "x" + std::to_string(h) + " ty " + std::to_string(ty) + " rows [" +
                               std::to_string(y0) + "," + std::to_string(y1) + ") tiles [" + std::to_string(tx0) + "," +
                               std::to_string(tx1) + ")";
      Dest want = run_conv(scalar.conv[int(direct)], ref, maps, ty, y0, y1, tx0, tx1);
      Dest got = run_conv(i8.conv[int(kind)], c, fenced, ty, y0, y1, tx0, tx1);
      expect_same(c, got, want, ty, y0, y1, tx0, tx1, 2e-4f, what);
      ++checked;
    }
  EXPECT_EQ(checked, 80);
}

// Int8 applies only to calibrated convs with ReLU inputs; forcing it elsewhere is refused with a reason.
TEST(KernelTable, Int8KindNeedsACalibratedConvWithReluInputs) {
  std::mt19937 rng(5);
  auto model = parse_any_head(op_net({"conv s1", 1, false, false}, rng, 8, 8, Act::Relu));
  Plan plan = make_plan(*model, 16, 16);
  ConvStep step = plan.steps.back();
  EXPECT_TRUE(step.input_nonneg) << "its input is a ReLU conv's output";
  EXPECT_FALSE(int8_applies(step)) << "not calibrated";
  EXPECT_FALSE(int8_applies(plan.steps.front())) << "the net input is signed";
  const ConvKind kind = ConvKind::PixelsI8;
  EXPECT_THROW(make_tile_conv(plan, step, false, &kind), std::invalid_argument);
  std::vector<float> m(8, 1.0f);
  step.input_max = m.data();
  EXPECT_TRUE(int8_applies(step));
  step.input_nonneg = false;
  EXPECT_FALSE(int8_applies(step));
  EXPECT_EQ(select_kernels(Isa::Auto).conv[int(kind)], nullptr) << "fp32 tables have no int8 conv";
  if (!int8_available()) {
    EXPECT_THROW(select_kernels(Isa::Auto, Precision::Int8), std::invalid_argument);
    GTEST_SKIP() << "no AVX512_VNNI here: checked that Precision::Int8 is refused";
  }
  EXPECT_THROW(select_kernels(Isa::Avx2, Precision::Int8), std::invalid_argument);
}

TEST(KernelTable, Bf16PrecisionNeedsAvx512Bf16) {
  EXPECT_EQ(select_kernels(Isa::Auto).precision, Precision::Float32);
  EXPECT_EQ(select_kernels(Isa::Auto, Precision::Auto).precision, kAutoPrecision);
  if (!bf16_available()) {
    EXPECT_THROW(select_kernels(Isa::Auto, Precision::Bf16), std::invalid_argument);
    GTEST_SKIP() << "no AVX512_BF16 here: checked that Precision::Bf16 is refused";
  }
  EXPECT_THROW(select_kernels(Isa::Avx2, Precision::Bf16), std::invalid_argument);
  const Kernels k = select_kernels(Isa::Avx512, Precision::Bf16);
  EXPECT_EQ(k.precision, Precision::Bf16);
  for (int kind = 0; kind < kConvKinds; ++kind) {
    if (ConvKind(kind) == ConvKind::PixelsI8) {
      EXPECT_EQ(k.conv[kind], nullptr) << "the int8 conv is Precision::Int8's";
    } else if (ConvKind(kind) != ConvKind::AmxBf16 || amx_bf16_available()) {
      EXPECT_NE(k.conv[kind], nullptr) << kind;
    }
  }
  EXPECT_EQ(k.conv[int(ConvKind::AmxBf16)] != nullptr, amx_bf16_available());
}

// The pixels kind reading the net input itself (Kernels::conv_input, TileConv::input_fused) against the same level's
// pixels entry reading the TILE input map that write_input_tile_row makes of the same source: bit-identical (the
// same products in the same order), for stride 1 and 2, partial output groups, odd sizes, partial row/tile ranges
// and a map that starts inside a wider input (a pipeline strip: columns outside it are the map's zero padding).
// conv_input (reading the InputSource) against the same level's entry of the conv's kind on the TILE input: pixels
// at every level, and direct (its direct3 form for a 3-channel source) where the level fuses it.
TEST(KernelTable, ConvInputMatchesItsKindOnTheTileInput) {
  std::vector<Isa> levels = {Isa::Scalar};
  for (Isa i : simd_levels()) levels.push_back(i);
  std::mt19937 rng(31);
  int checked = 0;
  for (Isa isa : levels) {
    const Kernels K = select_kernels(isa);
    ASSERT_NE(K.conv_input, nullptr) << to_string(isa);
    for (int trial = 0; trial < 24; ++trial) {
      const int stride = 1 + trial % 2, cout = trial < 4 ? 8 : 1 + int(rng() % 20);
      ModelSpec spec;
      spec.tier = "test-op";
      spec.layers.push_back(conv(0, cout, stride, Act(rng() % 3), rng, 3));
      auto model = parse_any_head(spec);
      const int w = stride * (1 + int(rng() % 120)), h = stride * (1 + int(rng() % 24));
      const int x_origin = trial % 3 == 0 ? 0 : int(rng() % 40), full_w = x_origin + w + int(rng() % 40);
      const std::vector<float> pixels = random_input(rng, full_w, h);
      const PlanarInput in(pixels.data(), full_w, h);
      Plan plan = make_plan(*model, w, h);
      const ConvStep& step = plan.steps[0];
      const ConvKind px = K.conv_input_direct && trial / 2 % 2 == 0 ? ConvKind::Direct : ConvKind::Pixels;
      const TileConv c = make_tile_conv(plan, step, true, &px);
      const ConvKind chosen = K.choose(step, true);
      EXPECT_TRUE(make_tile_conv(plan, step, K, true).input_fused ==
                  (chosen == ConvKind::Pixels || (chosen == ConvKind::Direct && K.conv_input_direct)));
      const TileGeom g(w, h, 3);
      std::vector<AlignedFloats> maps(1, AlignedFloats(g.row_floats * g.tiles_y));
      for (int ty = 0; ty < g.tiles_y; ++ty)
        write_input_tile_row(K, in, g, ty, 0, kTile, x_origin, 0, g.tiles_x, maps[0].data() + g.row_floats * ty);
      const int ty = int(rng() % c.out.tiles_y);
      int y0 = int(rng() % 8), y1 = y0 + 1 + int(rng() % (8 - y0));
      int tx0 = int(rng() % c.out.tiles_x), tx1 = tx0 + 1 + int(rng() % (c.out.tiles_x - tx0));
      if (trial < 6) y0 = 0, y1 = 8, tx0 = 0, tx1 = c.out.tiles_x;
      Dest want = run_conv(K.conv[int(px)], c, maps, ty, y0, y1, tx0, tx1);
      Dest got(c.out.row_floats);
      K.conv_input(c, ty, y0, y1, tx0, tx1, InputWindow{&in, x_origin}, got.data());
      expect_same(c, got, want, ty, y0, y1, tx0, tx1, 0.0f,
                  std::string(to_string(isa)) + " " + to_string(px) + " 3->" + std::to_string(cout) + " s" +
                      std::to_string(stride) + " " + std::to_string(w) + "x" + std::to_string(h) + " from column " +
                      std::to_string(x_origin));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 24 * int(levels.size()));
}

// Only a conv that alone reads the net input, in the pixels kind, reads it directly.
TEST(KernelTable, InputFusedOnlyWhereTheConvAloneReadsTheInput) {
  std::mt19937 rng(3);
  const Kernels K = select_kernels(Isa::Auto);
  ModelSpec alone;
  alone.tier = "test-op";
  alone.layers.push_back(conv(0, 8, 2, Act::Relu, rng, 3));
  alone.layers.push_back(conv(1, 8, 1, Act::Relu, rng, 8));
  auto alone_model = parse_any_head(alone);  // the plan's steps point into the model's weights
  Plan p = make_plan(*alone_model, 32, 32);
  EXPECT_TRUE(make_tile_conv(p, p.steps[0], K, true).input_fused);
  EXPECT_FALSE(make_tile_conv(p, p.steps[1], K, true).input_fused) << "reads a conv's output";
  ModelSpec shared;  // two convs of the input, concatenated: the input must stay materialised
  shared.tier = "test-op";
  shared.layers.push_back(conv(0, 8, 2, Act::Relu, rng, 3));
  shared.layers.push_back(conv(0, 8, 2, Act::Relu, rng, 3));
  shared.layers.push_back(concat(1, 2, 16));
  shared.layers.push_back(conv(3, 8, 1, Act::Relu, rng, 16));
  auto shared_model = parse_any_head(shared);
  Plan q = make_plan(*shared_model, 32, 32);
  EXPECT_FALSE(make_tile_conv(q, q.steps[0], K, true).input_fused);
}

TEST(KernelTable, PackInputMatchesScalar) {
  if (simd_levels().empty()) GTEST_SKIP() << "CPU has no AVX2+FMA: only the scalar table exists here";
  const Kernels scalar = select_kernels(Isa::Scalar);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-300, 300);
  // Spans of up to 4 tiles of a map with 2 channel groups (group 0 written: the tile stride skips group 1).
  const size_t tile_stride = 2 * kGroupFloats;
  for (Isa isa : simd_levels()) {
    const Kernels k = select_kernels(isa);
    for (int n = 1; n <= 32; ++n) {
      float rgb[3][32];
      for (auto& r : rgb)
        for (float& v : r) v = u(rng);
      Dest a(4 * tile_stride), b(4 * tile_stride);
      const size_t row = 5 * 64;  // pixel row 5 of each tile
      scalar.pack_input(rgb[0], rgb[1], rgb[2], n, a.data() + row, tile_stride);
      k.pack_input(rgb[0], rgb[1], rgb[2], n, b.data() + row, tile_stride);
      EXPECT_TRUE(b.guards_intact()) << to_string(isa) << " n=" << n;
      EXPECT_EQ(0, std::memcmp(a.buf.data(), b.buf.data(), a.buf.size() * 4)) << to_string(isa) << " n=" << n;
      const int tiles = (n + 7) / 8;
      for (size_t i = 0; i < 4 * tile_stride; ++i) {
        const size_t t = i / tile_stride, o = i % tile_stride;
        const bool in_span = int(t) < tiles && o >= row && o < row + 64;
        const int px = int(t) * 8 + int(o - row) / 8, lane = int(o - row) % 8;
        const float want = !in_span ? kCanary : (px >= n || lane >= 3) ? 0.0f : rgb[lane][px];
        EXPECT_EQ(a.data()[i], want) << "scalar, n=" << n << " at " << i;
      }
    }
  }
}

TEST(KernelTable, UnpackMatchesScalar) {
  if (simd_levels().empty()) GTEST_SKIP() << "CPU has no AVX2+FMA: only the scalar table exists here";
  const Kernels scalar = select_kernels(Isa::Scalar);
  std::mt19937 rng(6);
  std::uniform_real_distribution<float> u(-1, 1);
  for (Isa isa : simd_levels()) {
    const Kernels k = select_kernels(isa);
    // Spans of a 4-tile row of 2 channel groups (group 1 read: the tile stride skips group 0), starting and ending
    // inside or on tile edges.
    const size_t tile_stride = 2 * kGroupFloats;
    std::vector<float> src(4 * tile_stride);
    for (float& v : src) v = u(rng);
    const float* row = src.data() + kGroupFloats + 3 * 64;  // group 1, pixel row 3 of tile 0
    for (int first = 0; first < 12; ++first)
      for (int n = 1; first + n <= 32; n += (n < 18 ? 1 : 5))
        for (int lanes = 1; lanes <= 8; lanes += (lanes < 3 ? 1 : 5)) {
          const int stride = 32 + 5;  // planes with a gap: the gap must keep the canary
          Dest a(size_t(8) * stride), b(size_t(8) * stride);
          float *pa[8], *pb[8];
          for (int c = 0; c < 8; ++c) pa[c] = a.data() + c * stride, pb[c] = b.data() + c * stride;
          scalar.unpack(row, tile_stride, first, n, lanes, pa);
          k.unpack(row, tile_stride, first, n, lanes, pb);
          EXPECT_TRUE(b.guards_intact());
          EXPECT_EQ(0, std::memcmp(a.buf.data(), b.buf.data(), a.buf.size() * 4))
              << to_string(isa) << " first=" << first << " n=" << n << " lanes=" << lanes;
          const int p = first + n - 1;  // spot check of the scalar entry itself: the span's last pixel
          EXPECT_EQ(pa[lanes - 1][n - 1], row[size_t(p >> 3) * tile_stride + (p & 7) * kGroup + lanes - 1]);
          for (int c = 0; c < lanes; ++c)
            for (int i = n; i < stride; ++i) EXPECT_EQ(pb[c][i], kCanary) << "past n written, c=" << c;
        }
  }
}

// The half-ring rows: SIMD bit-exact with the scalar conversion (round to nearest even) on random lengths, values
// of every magnitude (subnormal halves, ties, overflow to inf), and guard canaries around the destination.
TEST(KernelTable, HalfRowsMatchScalar) {
  const Kernels scalar = select_kernels(Isa::Scalar);
  // The scalar conversion itself: every finite half survives half -> float -> half, and ties go to even.
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(uint16_t(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(float_to_half(f), h) << "half " << h;
  }
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie, even below
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie, even above
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);                          // rounds past the largest half
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);             // tie with 0
  EXPECT_EQ(float_to_half(std::ldexp(1.5f, -25)), 0x0001);
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> mant(-1, 1);
  for (Isa isa : simd_levels()) {
    const Kernels k = select_kernels(isa);
    for (int trial = 0; trial < 200; ++trial) {
      const size_t n = 1 + rng() % 100;
      std::vector<float> src(n);
      for (float& v : src) v = std::ldexp(mant(rng), int(rng() % 48) - 30);  // 2^-30 .. 2^17: subnormal to inf
      std::vector<uint16_t> ha(n + 16, 0xdead), hb(n + 16, 0xdead);
      scalar.to_half(src.data(), n, ha.data() + 8);
      k.to_half(src.data(), n, hb.data() + 8);
      ASSERT_EQ(ha, hb) << to_string(isa) << " n=" << n;
      for (int g = 0; g < 8; ++g) ASSERT_TRUE(hb[size_t(g)] == 0xdead && hb[n + 8 + size_t(g)] == 0xdead);
      Dest a(n), b(n);
      scalar.from_half(ha.data() + 8, n, a.data());
      k.from_half(ha.data() + 8, n, b.data());
      EXPECT_TRUE(b.guards_intact()) << to_string(isa) << " n=" << n;
      ASSERT_EQ(0, std::memcmp(a.buf.data(), b.buf.data(), a.buf.size() * 4)) << to_string(isa) << " n=" << n;
    }
  }
}

TEST(KernelTable, ColourRowMatchesScalar) {
  if (simd_levels().empty()) GTEST_SKIP() << "CPU has no AVX2+FMA: only the scalar table exists here";
  const Kernels scalar = select_kernels(Isa::Scalar);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> px(0, 255), coef(-2, 2);
  for (Isa isa : simd_levels()) {
    const Kernels k = select_kernels(isa);
    for (int trial = 0; trial < 40; ++trial) {
      ColourParams p;
      for (int r = 0; r < 3; ++r) {
        p.off[r] = px(rng) / 2;
        p.add[r] = px(rng) / 2;
        for (int c = 0; c < 3; ++c) p.m[r][c] = coef(rng);
      }
      p.clamp = trial % 2;
      p.scale = 1 / 127.5f;
      p.bias = -1;
      const int n = 1 + int(rng() % 45), stride = n + int(rng() % 4);
      Dest a(size_t(3) * stride), b(size_t(3) * stride);
      for (int c = 0; c < 3; ++c)
        for (int i = 0; i < n; ++i) a.data()[c * stride + i] = b.data()[c * stride + i] = px(rng);
      scalar.colour_row(a.data(), stride, n, p);
      k.colour_row(b.data(), stride, n, p);
      EXPECT_TRUE(b.guards_intact());
      for (size_t i = 0; i < a.buf.size(); ++i) {
        const bool gap = a.buf[i] == kCanary;
        if (gap)
          EXPECT_EQ(b.buf[i], kCanary) << "wrote between rows, n=" << n;
        else
          EXPECT_NEAR(a.buf[i], b.buf[i], 1e-5f) << to_string(isa) << " n=" << n << " clamp=" << p.clamp;
      }
    }
  }
}

}  // namespace
}  // namespace bty::test
