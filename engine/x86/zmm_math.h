// 16-lane fp32 activations shared by the AVX-512 and AMX kernels (each TU compiles them with its own flags: they
// have internal linkage). The same formula and constants as YmmV::tanh (ymm_traits.h, tanh_rational.h); 1 / Q by
// rcp14 + Newton instead of a divide, so the two differ by up to 1 ulp.
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
  // 1 / q by rcp14 and one Newton step (within 1 ulp of the divide; |tanh error| 3.8e-7 over [-12, 12], as
  // before): a zmm divide issues once per ~10 cycles on Intel cores (the AMX head 0.114 -> 0.110 ms).
  __m512 r = _mm512_rcp14_ps(q);
  r = _mm512_mul_ps(r, _mm512_fnmadd_ps(q, r, _mm512_set1_ps(2.0f)));
  return _mm512_mul_ps(_mm512_mul_ps(x, p), r);
}
}  // namespace zmm
}  // namespace bty
