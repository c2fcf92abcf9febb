// 16-lane fp32 activations shared by the AVX-512 and AMX kernels (each TU compiles them with its own flags: they
// have internal linkage). Same constants and error as YmmV::tanh (ymm_traits.h).
#pragma once
#include <immintrin.h>

namespace bty {
namespace zmm {
// exp(x) for x <= 0: 2^n * p(r), degree-6 Horner.
static inline __m512 exp_neg(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145752f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860677e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}
// tanh(x) = sign(x) (1 - t) / (1 + t), t = exp(-2|x|).
static inline __m512 tanh(__m512 x) {
  const __m512i sign = _mm512_set1_epi32(int(0x80000000u));
  const __m512i xi = _mm512_castps_si512(x);
  __m512 ax = _mm512_castsi512_ps(_mm512_andnot_si512(sign, xi));
  __m512 t = exp_neg(_mm512_mul_ps(ax, _mm512_set1_ps(-2.0f)));
  __m512 y = _mm512_div_ps(_mm512_sub_ps(_mm512_set1_ps(1.0f), t), _mm512_add_ps(_mm512_set1_ps(1.0f), t));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), _mm512_and_si512(xi, sign)));
}
}  // namespace zmm
}  // namespace bty
