// bty-bench --kernels: times every kernel-table entry at every level this CPU runs, in one process, next to the
// FMA peak measured in the same process. Conv entries run each conv layer of a model over its whole map (as the
// layered executor does), once per applicable ConvKind; the row entries run over a tier-sized map.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>

#include "kernel_bench.h"
#include "kernels.h"

namespace bty::tools {
namespace {

double seconds_of(const std::function<void()>& f, int reps) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

AlignedFloats random_tiles(const TileGeom& g, std::mt19937& rng) {
  AlignedFloats m(g.row_floats * g.tiles_y);
  std::uniform_real_distribution<float> u(-1, 1);
  for (float& v : m) v = u(rng);
  return m;
}

std::vector<Isa> levels() {
  std::vector<Isa> v = {Isa::Scalar};
  if (best_isa() >= Isa::Avx2) v.push_back(Isa::Avx2);
  if (best_isa() >= Isa::Avx512) v.push_back(Isa::Avx512);
  return v;
}
}  // namespace

int kernel_bench(const Model& model, int width, int height, int reps, bool scalar, Isa only) {
  const double peak0 = peak_fma_gflops(1, kBenchFmaProbe);
  Plan plan = make_plan(model, width, height);
  std::mt19937 rng(3);
  std::vector<AlignedFloats> maps(plan.width.size());
  std::vector<TileGeom> geom(plan.width.size());
  for (size_t t = 0; t < plan.width.size(); ++t) {
    if (!plan.materialized[t]) continue;
    geom[t] = TileGeom(plan.width[t], plan.height[t], plan.channels[t]);
    maps[t] = random_tiles(geom[t], rng);
  }
  std::vector<float> input(size_t(3) * width * height);  // the net input, planar, for a conv that reads it itself
  std::uniform_real_distribution<float> u(-1, 1);
  for (float& v : input) v = u(rng);
  const PlanarInput planar_input(input.data(), width, height);
  std::vector<std::string> rows;
  std::vector<double> gmacs;    // per conv row
  std::vector<PeakOp> peak_of;  // per conv row: the peak its % is of (FMA; the bf16 kinds: the bf16 dot or AMX peak)
  for (const ConvStep& s : plan.steps) {
    const int64_t macs = conv_macs(plan, s);
    std::string shape = "conv3x3/s" + std::to_string(s.stride) + " " + std::to_string(s.in_channels) + "->" +
                        std::to_string(s.out_channels) + " at " + std::to_string(plan.width[s.tensor]) + "x" +
                        std::to_string(plan.height[s.tensor]);
    for (Isa isa : levels()) {
      if ((isa == Isa::Scalar && !scalar) || (only != Isa::Auto && isa != only)) continue;
      const Kernels k = select_kernels(isa);
      const ConvKind chosen = k.choose(s, true);
      const TileConv as_run = make_tile_conv(plan, s, k, true);  // as the executors make it (input_fused)
      // The fp32 kinds; at AVX-512 also the bf16 kinds where the CPU has them (their % is of the bf16 dot or AMX
      // peak). AMX twice: the table's split weights (kAmxWeightParts) and plain bf16 weights (1 part).
      struct Run {
        const Kernels* kt;
        ConvKind ck;
        int parts;
      };
      std::vector<Run> runs;
      for (int kind = 0; kind < kFloatConvKinds; ++kind) runs.push_back({&k, ConvKind(kind), kAmxWeightParts});
      const Kernels bf = isa == Isa::Avx512 && bf16_available() ? select_kernels(isa, Precision::Bf16) : Kernels{};
      if (bf.precision == Precision::Bf16) {
        runs.push_back({&bf, ConvKind::PixelsBf16, 1});
        if (bf.conv[int(ConvKind::AmxBf16)]) {
          runs.push_back({&bf, ConvKind::AmxBf16, kAmxWeightParts});
          if (kAmxWeightParts != 1) runs.push_back({&bf, ConvKind::AmxBf16, 1});
        }
      }
      // int8 where the model is calibrated (format version 3) and the CPU has AVX512_VNNI.
      const Kernels i8 = isa == Isa::Avx512 && int8_available() ? select_kernels(isa, Precision::Int8) : Kernels{};
      if (i8.precision == Precision::Int8) runs.push_back({&i8, ConvKind::PixelsI8, 1});
      for (const auto& [kt, ck, parts] : runs) {
        if (!conv_kind_applies(s, ck)) continue;
        const TileConv c = make_tile_conv(plan, s, true, &ck, parts);
        float* dst = maps[s.tensor].data();
        auto layer = [&] {
          RowWindow win[8];
          for (int ty = 0; ty < c.out.tiles_y; ++ty) {
            for (size_t si = 0; si < c.src.size(); ++si) {
              int first, count;
              source_rows(c, int(si), ty, first, count);
              win[si].first = first;
              for (int q = 0; q < count; ++q)
                win[si].rows[q] = maps[s.sources[si].tensor].data() + c.src[si].geom.row_floats * (first + q);
            }
            kt->conv_row(c, ty, 0, kTile, 0, c.out.tiles_x, win, dst + c.out.row_floats * ty);
          }
        };
        const double t = seconds_of(layer, reps);
        const double g = macs / t / 1e9;
        char line[256];
        const bool picked = (kt == &bf   ? bf.choose(s, true)
                             : kt == &i8 ? i8.choose(s, true)
                                         : chosen) == ck &&
                            (ck != ConvKind::AmxBf16 || parts == kAmxWeightParts) && !(kt == &k && as_run.input_fused);
        std::snprintf(line, sizeof line, "| %d | %s | %s | %s%s%s | %.3f | %.1f | ", s.layer, shape.c_str(),
                      to_string(isa), to_string(ck),
                      ck != ConvKind::AmxBf16 ? ""
                      : parts == 1            ? " (bf16 weights)"
                                              : " (hi+lo weights)",
                      picked ? " (chosen)" : "", t * 1e3, g);
        rows.push_back(line);
        gmacs.push_back(g);
        peak_of.push_back(ck == ConvKind::AmxBf16      ? PeakOp::AmxBf16
                          : ck == ConvKind::PixelsBf16 ? PeakOp::Bf16Dot512
                          : ck == ConvKind::PixelsI8   ? PeakOp::Vnni512
                                                       : PeakOp::Fma256);
      }
      if (as_run.input_fused) {  // the layer as the pipeline runs it: reading the net input's planar rows included
        float* dst = maps[s.tensor].data();
        auto layer = [&] {
          for (int ty = 0; ty < as_run.out.tiles_y; ++ty)
            k.conv_input(as_run, ty, 0, kTile, 0, as_run.out.tiles_x, InputWindow{&planar_input, 0},
                         dst + as_run.out.row_floats * ty);
        };
        const double t = seconds_of(layer, reps), g = macs / t / 1e9;
        char line[256];
        std::snprintf(line, sizeof line, "| %d | %s | %s | %s, input fused (chosen) | %.3f | %.1f | ", s.layer,
                      shape.c_str(), to_string(isa), to_string(as_run.kind), t * 1e3, g);
        rows.push_back(line);
        gmacs.push_back(g);
        peak_of.push_back(PeakOp::Fma256);
      }
    }
  }
  // Row entries over the input map of this size.
  const int W = width, H = height;
  std::vector<float> planar(size_t(3) * W, 0.5f), out(size_t(8) * W * 8);
  ColourParams cp;
  cp.clamp = true;
  for (Isa isa : levels()) {
    const Kernels k = select_kernels(isa);
    const TileGeom& g0 = geom[0];
    AlignedFloats tiles(g0.row_floats);
    auto pack = [&] {
      for (int y = 0; y < H; ++y)
        k.pack_input(planar.data(), planar.data() + W, planar.data() + 2 * W, W, tiles.data() + g0.offset(0, y & 7, 0),
                     kGroupFloats);
    };
    auto unpack = [&] {
      float* planes[8];
      for (int c = 0; c < 8; ++c) planes[c] = out.data() + size_t(c) * W;
      for (int y = 0; y < H; ++y) k.unpack(tiles.data() + g0.offset(0, y & 7, 0), kGroupFloats, 0, W, 8, planes);
    };
    auto colour = [&] {
      for (int y = 0; y < H; ++y) k.colour_row(planar.data(), W, W, cp);
    };
    const double px = double(W) * H;
    char line[256];
    std::snprintf(line, sizeof line, "| - | pack_input (3 planar rows -> TILE) | %s | - | %.3f | %.2f ns/px | - |",
                  to_string(isa), seconds_of(pack, reps) * 1e3, seconds_of(pack, reps) * 1e9 / px);
    rows.push_back(line);
    std::snprintf(line, sizeof line, "| - | unpack (TILE group -> 8 planar rows) | %s | - | %.3f | %.2f ns/px | - |",
                  to_string(isa), seconds_of(unpack, reps) * 1e3, seconds_of(unpack, reps) * 1e9 / px);
    rows.push_back(line);
    std::snprintf(line, sizeof line, "| - | colour_row (3 planar rows) | %s | - | %.3f | %.2f ns/px | - |",
                  to_string(isa), seconds_of(colour, reps) * 1e3, seconds_of(colour, reps) * 1e9 / px);
    rows.push_back(line);
  }
  const double peak1 = peak_fma_gflops(1, kBenchFmaProbe), peak = std::max(peak0, peak1);
  const double amx_peak = amx_bf16_available() ? peak_gflops(PeakOp::AmxBf16, 1, kBenchFmaProbe) : 0;
  const double dot_peak = bf16_available() ? peak_gflops(PeakOp::Bf16Dot512, 1, kBenchFmaProbe) : 0;
  const double vnni_peak = int8_available() ? peak_gflops(PeakOp::Vnni512, 1, kBenchFmaProbe) : 0;
  for (size_t i = 0; i < gmacs.size(); ++i) {
    char pc[32];
    if (peak_of[i] == PeakOp::AmxBf16)
      std::snprintf(pc, sizeof pc, "%.1f%% of AMX |", 200 * gmacs[i] / amx_peak);
    else if (peak_of[i] == PeakOp::Bf16Dot512)
      std::snprintf(pc, sizeof pc, "%d%% of bf16 dot |", int(200 * gmacs[i] / dot_peak + 0.5));
    else if (peak_of[i] == PeakOp::Vnni512)
      std::snprintf(pc, sizeof pc, "%d%% of int8 dot |", int(200 * gmacs[i] / vnni_peak + 0.5));
    else
      std::snprintf(pc, sizeof pc, "%d%% |", int(200 * gmacs[i] / peak + 0.5));
    rows[i] += pc;
  }
  if (amx_peak > 0) std::printf("AMX-BF16 peak (1 thread, same process): %.0f GFLOP/s\n", amx_peak);
  if (dot_peak > 0)
    std::printf("AVX512-BF16 dot peak (vdpbf16ps zmm, 1 thread, same process): %.0f GFLOP/s\n", dot_peak);
  if (vnni_peak > 0)
    std::printf("AVX512-VNNI dot peak (vpdpbusd zmm, 1 thread, same process): %.0f GOP/s\n", vnni_peak);
  std::printf(
      "FP32 FMA peak (1 thread, same process): %.1f GFLOP/s before, %.1f after; %% of peak uses the "
      "higher.\n\n| layer | op | level | kind | ms (min of %d) | GMAC/s | %% peak |\n|---|---|---|---|---|---|---|\n",
      peak0, peak1, reps);
  for (const std::string& r : rows) std::printf("%s\n", r.c_str());
  return 0;
}

}  // namespace bty::tools
