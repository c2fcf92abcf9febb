// 16-lane fp32 activations shared by the AVX-512 and AMX kernels (each TU compiles them with its own flags: they
// have internal linkage). The same formula and constants as YmmV::tanh (ymm_traits.h, tanh_rational.h).
#pragma once
#include <immintrin.h>

#include "tanh_rational.h"

namespace bty {
namespace zmm {
static inline __m512 tanh(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-kTanhClamp)), _mm512_set1_ps(kTanhClamp));
  const __m512 s = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(kTanhP[4]), q = _mm512_set1_ps(kTanhQ[4]);
  for (int k = 3; k >= 0; --k) {
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(kTanhP[k]));
    q = _mm512_fmadd_ps(q, s, _mm512_set1_ps(kTanhQ[k]));
  }
  return _mm512_div_ps(_mm512_mul_ps(x, p), q);
}
}  // namespace zmm
}  // namespace bty
