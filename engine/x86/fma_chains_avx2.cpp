// The FMA peak probe's burst (compiled with -mavx2 -mfma; peak_fma.cpp calls it only after the CPUID check).
#include <immintrin.h>

#include "../peak_fma.h"

namespace bty {

// 12 × 8 lanes × 2 flops per round.
__attribute__((noinline)) float fma_chains_avx2(long iters, float seed) {
  __m256 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(seed + float(i) * 0.001f);
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], m, c);
  __m256 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

}  // namespace bty
