// Peak FP32 FMA rate: independent AVX2 FMA chains (enough to cover latency x ports) on every thread.
#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "peak_fma.h"

namespace bty::tools {
namespace {
__attribute__((noinline)) float fma_loop(long iters) {
  __m256 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(float(i) * 0.001f);
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], m, c);
  __m256 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}
}  // namespace

// Many short bursts, best kept: on a shared machine the best burst is one the OS left alone, as the kernel timings
// (minimum of many runs) are.
double peak_gflops(int threads) {
  const long iters = 400'000;
  std::atomic<float> sink{0};
  double best = 0;
  for (int rep = 0; rep < 100; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) ts.emplace_back([&] { sink = sink + fma_loop(iters); });
    for (auto& t : ts) t.join();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, double(iters) * 12 * 16 * threads / s / 1e9);
  }
  return best;
}
}  // namespace bty::tools
