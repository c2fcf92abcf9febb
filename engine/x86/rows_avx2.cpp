// AVX2 row kernels of the TILE read/write paths, the input colour step and the half-ring conversions (compiled with
// -mavx2 -mfma -mf16c). The
// AVX-512 table uses them too: these loops are bound by memory, not by vector width.
#include <immintrin.h>

#include <algorithm>

#include "../half.h"
#include "../kernels.h"
#include "ymm_traits.h"

namespace bty {

// Per whole tile, 8 pixels of 3 planar rows -> 8 pixel vectors: an 8x8 transpose of (r, g, b, 0, 0, 0, 0, 0).
void pack_input_avx2(const float* r, const float* g, const float* b, int n, float* dst, size_t tile_stride) {
  const __m256 z = _mm256_setzero_ps();
  int x = 0;
  for (; x + kTile <= n; x += kTile, dst += tile_stride) {
    __m256 R = _mm256_loadu_ps(r + x), G = _mm256_loadu_ps(g + x), B = _mm256_loadu_ps(b + x);
    __m256 rg_lo = _mm256_unpacklo_ps(R, G), rg_hi = _mm256_unpackhi_ps(R, G);  // r0 g0 r1 g1 | r4 g4 r5 g5
    __m256 b0_lo = _mm256_unpacklo_ps(B, z), b0_hi = _mm256_unpackhi_ps(B, z);
    __m256 p0 = _mm256_shuffle_ps(rg_lo, b0_lo, 0x44), p1 = _mm256_shuffle_ps(rg_lo, b0_lo, 0xEE);  // px 0|4, 1|5
    __m256 p2 = _mm256_shuffle_ps(rg_hi, b0_hi, 0x44), p3 = _mm256_shuffle_ps(rg_hi, b0_hi, 0xEE);  // px 2|6, 3|7
    const __m256 q[4] = {p0, p1, p2, p3};
    for (int i = 0; i < 4; ++i) {
      // pixel i: low 128 of q[i] + zeros; pixel i + 4: high 128 of q[i] + zeros
      _mm256_storeu_ps(dst + i * kGroup, _mm256_permute2f128_ps(q[i], z, 0x20));
      _mm256_storeu_ps(dst + (i + 4) * kGroup, _mm256_permute2f128_ps(q[i], z, 0x31));
    }
  }
  if (x < n)  // the right edge's partial tile, its pixels past n zero
    for (int i = 0; i < kTile; ++i)
      _mm256_storeu_ps(dst + i * kGroup, x + i < n ? _mm256_setr_ps(r[x + i], g[x + i], b[x + i], 0, 0, 0, 0, 0) : z);
}

void unpack_avx2(const float* row, size_t tile_stride, int first, int n, int lanes, float* const* planes) {
  const int end = first + n;
  auto one = [&](int p) {  // a pixel of a partial tile
    const float* v = row + size_t(p >> 3) * tile_stride + (p & 7) * kGroup;
    for (int c = 0; c < lanes; ++c) planes[c][p - first] = v[c];
  };
  int p = first;
  for (; p < end && (p & 7); ++p) one(p);
  for (; p + kTile <= end; p += kTile) {  // whole tiles: one 8x8 transpose each
    const float* t = row + size_t(p >> 3) * tile_stride;
    __m256 v[8];
    for (int i = 0; i < 8; ++i) v[i] = _mm256_loadu_ps(t + i * kGroup);
    YmmV::transpose8(v);
    for (int c = 0; c < lanes; ++c) _mm256_storeu_ps(planes[c] + (p - first), v[c]);
  }
  for (; p < end; ++p) one(p);
}

void colour_row_avx2(float* rows, int stride, int n, const ColourParams& p) {
  __m256 off[3], add[3], m[3][3];
  for (int c = 0; c < 3; ++c) {
    off[c] = _mm256_set1_ps(p.off[c]);
    add[c] = _mm256_set1_ps(p.add[c]);
    for (int k = 0; k < 3; ++k) m[c][k] = _mm256_set1_ps(p.m[c][k]);
  }
  const __m256 scale = _mm256_set1_ps(p.scale), bias = _mm256_set1_ps(p.bias);
  const __m256 lo = _mm256_setzero_ps(), hi = _mm256_set1_ps(255.0f);
  auto block = [&](float* r, int s) {  // 8 pixels of 3 rows, s floats apart
    __m256 in[3];
    for (int c = 0; c < 3; ++c) in[c] = _mm256_sub_ps(_mm256_loadu_ps(r + c * s), off[c]);
    for (int k = 0; k < 3; ++k) {
      // Same association as the scalar kernel: add + m0 in0 + m1 in1 + m2 in2, unfused.
      __m256 v = _mm256_add_ps(
          _mm256_add_ps(_mm256_add_ps(add[k], _mm256_mul_ps(m[k][0], in[0])), _mm256_mul_ps(m[k][1], in[1])),
          _mm256_mul_ps(m[k][2], in[2]));
      if (p.clamp) v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
      _mm256_storeu_ps(r + k * s, _mm256_add_ps(_mm256_mul_ps(v, scale), bias));
    }
  };
  int i = 0;
  for (; i + 8 <= n; i += 8) block(rows + i, stride);
  if (i < n) {
    // The tail through the same vector arithmetic on a padded copy (a scalar tail may contract into FMAs): a pixel's
    // value does not depend on where its span starts (the fused first conv asks for other spans than the input stage).
    alignas(32) float t[3 * 8] = {};
    for (int c = 0; c < 3; ++c) std::copy(rows + c * stride + i, rows + c * stride + n, t + 8 * c);
    block(t, 8);
    for (int c = 0; c < 3; ++c) std::copy(t + 8 * c, t + 8 * c + (n - i), rows + c * stride + i);
  }
}

// F16C, 16 values a round (two independent conversions); the tail through the scalar conversion, which rounds the
// same way (nearest even).
void to_half_avx2(const float* src, size_t n, uint16_t* dst) {
  constexpr int kRne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), kRne);
    const __m128i b = _mm256_cvtps_ph(_mm256_loadu_ps(src + i + 8), kRne);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), a);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 8), b);
  }
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), kRne));
  for (; i < n; ++i) dst[i] = float_to_half(src[i]);
}

void from_half_avx2(const uint16_t* src, size_t n, float* dst) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    const __m256 b = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 8)));
    _mm256_storeu_ps(dst + i, a);
    _mm256_storeu_ps(dst + i + 8, b);
  }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = half_to_float(src[i]);
}

}  // namespace bty
