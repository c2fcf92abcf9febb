#include "peak_fma.h"

#include <beautify/engine.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace bty {

double peak_fma_gflops(int threads, const FmaProbe& p) {
  if (best_isa() == Isa::Scalar || threads < 1 || p.iters < 1 || p.bursts < 1) return 0;
  std::atomic<float> sink{0};
  auto burst = [&] {
    if (threads == 1) {
      sink = fma_chains_avx2(p.iters, sink.load() * 1e-9f);
      return;
    }
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) ts.emplace_back([&] { sink = sink + fma_chains_avx2(p.iters, 1e-9f); });
    for (auto& t : ts) t.join();
  };
  for (int i = 0; i < p.warmups; ++i) burst();
  const double flops = double(p.iters) * 12 * 16;  // per thread and burst
  const double shortest_possible_s = flops / (kMaxCoreGflops * 1e9);
  double best_s = 1e30;
  for (int i = 0; i < p.bursts; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    burst();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s >= shortest_possible_s) best_s = std::min(best_s, s);
  }
  return best_s < 1e30 ? flops * threads / best_s / 1e9 : 0;
}

}  // namespace bty
