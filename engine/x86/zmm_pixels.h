// 16-lane pixel vectors for ConvKind::Pixels (pixels.inc's P traits), shared by the AVX-512 and AVX512-BF16 kernel
// builds (internal linkage: each TU compiles them with its own flags). Include after ymm_traits.h.
#pragma once
#include <immintrin.h>

#include "../kernels.h"
#include "ymm_traits.h"
#include "zmm_math.h"

namespace bty {
namespace {
// Pixel vectors of 16 lanes for ConvKind::Pixels: the weight broadcast folds into the FMA ({1to16}).
struct ZmmP {
  using T = __m512;
  static constexpr int N = 16;
  static constexpr bool kHalfPasses = false;
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static T bias(float b) { return _mm512_set1_ps(b); }
  static T fma_bcast(T x, const float* w, T acc) { return _mm512_fmadd_ps(x, _mm512_set1_ps(*w), acc); }
  static T relu(T a) { return _mm512_max_ps(a, _mm512_setzero_ps()); }
  static T tanh(T x) { return zmm::tanh(x); }  // YmmV::tanh's formula in 16 lanes (zmm_math.h)
  // 8 accumulators x 16 pixels -> 16 pixel vectors of 8 channels: two 8x8 transposes.
  static void to_pixels(const T* acc, float* const* out8) {
    __m256 lo[8], hi[8];
    for (int m = 0; m < 8; ++m) {
      lo[m] = _mm512_castps512_ps256(acc[m]);
      hi[m] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[m]), 1));
    }
    YmmV::transpose8(lo);
    YmmV::transpose8(hi);
    for (int i = 0; i < 8; ++i) {
      _mm256_storeu_ps(out8[0] + i * 8, lo[i]);
      _mm256_storeu_ps(out8[1] + i * 8, hi[i]);
    }
  }
};
}  // namespace
}  // namespace bty
