// 8-lane fp32 vector traits over AVX2+FMA intrinsics, shared by the AVX2 and AVX-512VL kernel builds (the latter
// compiles the same code with 32 vector registers available and blocks more pixels per step).
#pragma once
#include <immintrin.h>

#include "tanh_rational.h"

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
  // tanh(x) = x P(x^2) / Q(x^2) on x clamped to +-kTanhClamp (tanh_rational.h): |error| < 4e-7.
  static T tanh(T x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-kTanhClamp)), _mm256_set1_ps(kTanhClamp));
    const T s = _mm256_mul_ps(x, x);
    T p = _mm256_set1_ps(kTanhP[4]), q = _mm256_set1_ps(kTanhQ[4]);
    for (int k = 3; k >= 0; --k) {
      p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(kTanhP[k]));
      q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(kTanhQ[k]));
    }
    return _mm256_div_ps(_mm256_mul_ps(x, p), q);
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
  // 8 pixel vectors (any addresses) -> `lanes` planar rows of 8: dst[c * stride + i] = from[i][c].
  static void t8(const float* const* from, int lanes, float* dst, size_t stride) {
    T v[8];
    for (int i = 0; i < 8; ++i) v[i] = _mm256_loadu_ps(from[i]);
    transpose8(v);
    for (int c = 0; c < lanes; ++c) _mm256_storeu_ps(dst + c * stride, v[c]);
  }
};

// The pixel vectors of ConvKind::Pixels at AVX2 (pixels.inc's P): 16 pixels as two ymm, so one weight broadcast
// feeds two FMAs (AVX2 has no embedded broadcast: with one ymm every FMA needed its own), in two passes of 4
// channels (8 accumulators of two registers would not fit 16).
struct YmmPair {
  struct T {
    __m256 lo, hi;
  };
  static constexpr int N = 16;
  static constexpr bool kHalfPasses = true;
  static T load(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
  static T bias(float b) { return {_mm256_set1_ps(b), _mm256_set1_ps(b)}; }
  static T fma_bcast(T x, const float* w, T acc) {
    const __m256 b = _mm256_broadcast_ss(w);
    return {_mm256_fmadd_ps(x.lo, b, acc.lo), _mm256_fmadd_ps(x.hi, b, acc.hi)};
  }
  static T relu(T a) { return {YmmV::relu(a.lo), YmmV::relu(a.hi)}; }
  static T tanh(T a) { return {YmmV::tanh(a.lo), YmmV::tanh(a.hi)}; }
  static void to_pixels(const T* acc, float* const* out8) {
    __m256 lo[8], hi[8];
    for (int m = 0; m < 8; ++m) lo[m] = acc[m].lo, hi[m] = acc[m].hi;
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
