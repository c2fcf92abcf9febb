#include "peak_fma.h"

#include <beautify/engine.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "kernels.h"

namespace bty {
namespace {
using ChainsFn = float (*)(long, float);
ChainsFn chains_of(PeakOp op) {
  switch (op) {
    case PeakOp::Fma256: return fma_chains_avx2;
    case PeakOp::Fma512: return fma_chains_avx512;
    case PeakOp::Bf16Dot512: return bf16_dot_chains_avx512;
    case PeakOp::Vnni512: return vnni_chains_avx512;
    case PeakOp::AmxBf16: return amx_bf16_chains;
  }
  return nullptr;
}
double flops_per_round(PeakOp op) {  // 12 chains × lanes × MACs per lane × 2; AMX: 4 tile products
  switch (op) {
    case PeakOp::Fma256: return 12 * 8 * 2;
    case PeakOp::Fma512: return 12 * 16 * 2;
    case PeakOp::Bf16Dot512: return 12 * 16 * 4;
    case PeakOp::Vnni512: return 12 * 16 * 8;
    case PeakOp::AmxBf16: return 4 * 16 * 16 * 32 * 2;
  }
  return 0;
}
long rounds(PeakOp op, long iters) { return op == PeakOp::AmxBf16 ? std::max(1L, iters / 16) : iters; }
}  // namespace

const char* to_string(PeakOp op) {
  switch (op) {
    case PeakOp::Fma256: return "fma256";
    case PeakOp::Fma512: return "fma512";
    case PeakOp::Bf16Dot512: return "bf16dot512";
    case PeakOp::Vnni512: return "vnni512";
    case PeakOp::AmxBf16: return "amxbf16";
  }
  return "?";
}

double max_core_gflops(PeakOp op) {
  return op == PeakOp::AmxBf16 ? 1024 * 8.0 : kMaxCoreGflops * flops_per_round(op) / flops_per_round(PeakOp::Fma256);
}

bool has_peak_op(PeakOp op) {
  switch (op) {
    case PeakOp::Fma256: return best_isa() >= Isa::Avx2;
    case PeakOp::Fma512: return best_isa() >= Isa::Avx512;
    case PeakOp::Bf16Dot512: return has_avx512_bf16();
    case PeakOp::Vnni512: return has_avx512_vnni();
    case PeakOp::AmxBf16: return amx_bf16_usable();
  }
  return false;
}

double peak_gflops(PeakOp op, int threads, const FmaProbe& p) {
  if (!has_peak_op(op) || threads < 1 || p.iters < 1 || p.bursts < 1) return 0;
  const ChainsFn chains = chains_of(op);
  const long iters = rounds(op, p.iters);
  std::atomic<float> sink{0};
  auto burst = [&] {
    if (threads == 1) {
      sink = chains(iters, sink.load() * 1e-9f);
      return;
    }
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) ts.emplace_back([&] { sink = sink + chains(iters, 1e-9f); });
    for (auto& t : ts) t.join();
  };
  for (int i = 0; i < p.warmups; ++i) burst();
  const double flops = double(iters) * flops_per_round(op);  // per thread and burst
  const double shortest_possible_s = flops / (max_core_gflops(op) * 1e9);
  double best_s = 1e30;
  for (int i = 0; i < p.bursts; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    burst();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s >= shortest_possible_s) best_s = std::min(best_s, s);
  }
  return best_s < 1e30 ? flops * threads / best_s / 1e9 : 0;
}

double peak_fma_gflops(int threads, const FmaProbe& p) { return peak_gflops(PeakOp::Fma256, threads, p); }

}  // namespace bty
