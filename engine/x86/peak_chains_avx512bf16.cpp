// The 512-bit peak probes' bursts (compiled with -mavx512f -mavx512bf16 -mavx512vnni; peak_fma.cpp calls them only
// after the CPUID checks). Same shape as fma_chains_avx2: 12 independent accumulator chains.
#include <immintrin.h>

#include "../peak_fma.h"

namespace bty {
namespace {
float lane0(__m512 s) { return _mm512_cvtss_f32(s); }
}  // namespace

// 12 × 16 lanes × 2 flops per round.
__attribute__((noinline)) float fma_chains_avx512(long iters, float seed) {
  __m512 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(seed + float(i) * 0.001f);
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < 12; ++i) a[i] = _mm512_fmadd_ps(a[i], m, c);
  __m512 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, a[i]);
  return lane0(s);
}

// 12 × 16 lanes × 2 bf16 MACs × 2 flops per round: acc += x[2i] y[2i] + x[2i+1] y[2i+1].
__attribute__((noinline)) float bf16_dot_chains_avx512(long iters, float seed) {
  __m512 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(seed + float(i) * 0.001f);
  const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80);  // bf16 1.0
  const __m512bh y = (__m512bh)_mm512_set1_epi16(0x3380);  // bf16 ~6e-8
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < 12; ++i) a[i] = _mm512_dpbf16_ps(a[i], x, y);
  __m512 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, a[i]);
  return lane0(s);
}

// 12 × 16 lanes × 4 u8·s8 MACs × 2 "flops" per round (int8 ops counted as flops, to compare with the others).
__attribute__((noinline)) float vnni_chains_avx512(long iters, float seed) {
  __m512i a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_epi32(int(seed) + i);
  const __m512i x = _mm512_set1_epi8(1), y = _mm512_set1_epi8(1);
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < 12; ++i) a[i] = _mm512_dpbusd_epi32(a[i], x, y);
  __m512i s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_epi32(s, a[i]);
  return float(_mm_cvtsi128_si32(_mm512_castsi512_si128(s)));
}

}  // namespace bty
