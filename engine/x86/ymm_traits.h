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
};
}  // namespace
}  // namespace bty
