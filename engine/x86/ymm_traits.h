// 8-lane fp32 vector traits over AVX2+FMA intrinsics, shared by the AVX2 and AVX-512VL kernel builds (the latter
// compiles the same code with 32 vector registers available and blocks more pixels per step).
#pragma once
#include <immintrin.h>

namespace bty {
namespace {
struct YmmV {
  using T = __m256;
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static T bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T zero() { return _mm256_setzero_ps(); }
  static T relu(T a) { return _mm256_max_ps(a, _mm256_setzero_ps()); }
  // exp(x) for x <= 0: 2^n * p(r), r in [-ln2/2, ln2/2], degree-6 Taylor/Horner: |rel err| < 2e-7.
  static T exp_neg(T x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    T n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    T r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145752f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.42860677e-6f), r);
    T p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  }
  // tanh(x) = sign(x) (1 - t) / (1 + t), t = exp(-2|x|).
  static T tanh(T x) {
    const T sign = _mm256_set1_ps(-0.0f);
    T ax = _mm256_andnot_ps(sign, x);
    T t = exp_neg(_mm256_mul_ps(ax, _mm256_set1_ps(-2.0f)));
    T y = _mm256_div_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), t), _mm256_add_ps(_mm256_set1_ps(1.0f), t));
    return _mm256_or_ps(y, _mm256_and_ps(x, sign));
  }
  static void store(float* p, T a) { _mm256_storeu_ps(p, a); }

  // In-register 8x8 transpose: v[i] lane j <-> v[j] lane i.
  static void transpose8(T v[8]) {
    T t[8], u[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm256_unpacklo_ps(v[2 * i], v[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_ps(v[2 * i], v[2 * i + 1]);
    }
    for (int i = 0; i < 2; ++i)
      for (int h = 0; h < 2; ++h) {
        u[4 * i + 2 * h] = _mm256_shuffle_ps(t[4 * i + h], t[4 * i + 2 + h], 0x44);
        u[4 * i + 2 * h + 1] = _mm256_shuffle_ps(t[4 * i + h], t[4 * i + 2 + h], 0xEE);
      }
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x20);
      v[i + 4] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x31);
    }
  }
  // Pixel-vector side of ConvKind::Pixels (pixels.inc): 8 pixels per ymm.
  static constexpr int N = 8;
  static T bias(float b) { return _mm256_set1_ps(b); }
  static T fma_bcast(T x, const float* w, T acc) { return _mm256_fmadd_ps(x, _mm256_broadcast_ss(w), acc); }
  static void to_pixels(const T* acc, float* out) {
    T v[8];
    for (int m = 0; m < 8; ++m) v[m] = acc[m];
    transpose8(v);
    for (int i = 0; i < 8; ++i) _mm256_storeu_ps(out + i * 8, v[i]);
  }
  // 8 pixel vectors (any addresses) -> `lanes` planar rows of 8: dst[c * stride + i] = from[i][c].
  static void t8(const float* const* from, int lanes, float* dst, size_t stride) {
    T v[8];
    for (int i = 0; i < 8; ++i) v[i] = _mm256_loadu_ps(from[i]);
    transpose8(v);
    for (int c = 0; c < lanes; ++c) _mm256_storeu_ps(dst + c * stride, v[c]);
  }
};
}  // namespace
}  // namespace bty
