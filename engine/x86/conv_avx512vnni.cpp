// ConvKind::PixelsI8: the pixels-in-lanes conv (pixels.inc) with AVX512-VNNI dot products, for Precision::Int8
// (compiled with -mavx512f -mavx512vl -mavx512bw -mavx512vnni; in the table only after select_kernels' CPUID check).
//
// vpdpbusd adds four u8 x s8 products to each int32 lane: four multiply-adds per lane and instruction against two
// for vdpbf16ps and one for an fp32 FMA. Each transposed row is converted in place, once per call, from fp32
// channel planes to planes of channel quads (byte k of a 32-bit lane = channel 4p + k of that pixel, quantised as
// round(x * TileConv::quad_inv[channel]) clamped to 0..255: the inputs are ReLU outputs, int8_applies); then per
// quad and tap one 16-pixel load feeds 8 dot products whose weight quad is an embedded broadcast
// (TileConv::quad_w). The int32 sums are exact; each output channel's sum times its step (TileConv::quad_scale)
// is added to the fp32 bias, and the activation and the storage between layers stay fp32.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "../kernels.h"
#include "ymm_traits.h"
#include "zmm_pixels.h"

namespace bty {
namespace {
#include "../conv_tile.inc"
#include "../pixels.inc"

struct QuadTaps {
  // Quad plane (p, phase) is written over fp32 plane slot p * PH + phase, which quad p / 4 has already read (or
  // this step reads: p = 0), so the conversion needs no second buffer. Channels past the count are zero bytes.
  static void finish_row(const TileConv& c, float* R, int PH, int L) {
    const int cin = c.step->in_channels;
    const __m512 hi = _mm512_set1_ps(255.0f), zero = _mm512_setzero_ps();
    for (int p = 0; 4 * p < cin; ++p)
      for (int ph = 0; ph < PH; ++ph) {
        const float* from[4];
        __m512 inv[4];
        const int n = std::min(4, cin - 4 * p);
        for (int k = 0; k < n; ++k) {
          from[k] = R + (size_t(4 * p + k) * PH + ph) * L;
          inv[k] = _mm512_set1_ps(c.quad_inv[size_t(4 * p + k)]);
        }
        float* to = R + (size_t(p) * PH + ph) * L;
        for (int j = 0; j < L; j += 16) {
          __m512i quad = _mm512_setzero_si512();
          for (int k = 0; k < n; ++k) {
            // max with 0 as the second operand first (NaN becomes 0), then min: anything above the maximum is 255.
            const __m512 v =
                _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_loadu_ps(from[k] + j), inv[k]), zero), hi);
            quad = _mm512_or_si512(quad, _mm512_slli_epi32(_mm512_cvtps_epi32(v), 8 * k));
          }
          _mm512_storeu_si512(to + j, quad);
        }
      }
  }
  // acc += x . {w quad broadcast}: the broadcast as vpdpbusd's own memory operand (as the bf16 pairs' vdpbf16ps:
  // GCC 12 would emit a separate vpbroadcastd per product).
  static __m512i dot(__m512i acc, __m512i x, const uint32_t* w) {
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(x), "m"(*w));
    return acc;
  }
  template <class P, int STRIDE, int MO>
  static void accumulate(const TileConv& c, int og, const float* R0, size_t row_floats, int i0, __m512* acc) {
    constexpr int PH = STRIDE, L = kPixChunk + 16;
    const int quads = (c.step->in_channels + 3) / 4;
    const __m512i z = _mm512_setzero_si512();
    __m512i a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
    const uint32_t* w = c.quad_w.data() + size_t(og) * 9 * quads * kGroup;
    for (int ky = 0; ky < 3; ++ky) {
      const float* Rk = R0 + row_floats * ky;
      for (int kx = 0; kx < 3; ++kx) {
        const float* x = Rk + tap_phase<STRIDE>(kx) * L + tap_shift<STRIDE>(kx) + i0;
        for (int p = 0; p < quads; ++p, x += PH * L, w += kGroup) {
          const __m512i xv = _mm512_loadu_si512(x);
          a0 = dot(a0, xv, w + 0);
          a1 = dot(a1, xv, w + 1);
          a2 = dot(a2, xv, w + 2);
          a3 = dot(a3, xv, w + 3);
          if constexpr (MO > 4) {
            a4 = dot(a4, xv, w + 4);
            a5 = dot(a5, xv, w + 5);
            a6 = dot(a6, xv, w + 6);
            a7 = dot(a7, xv, w + 7);
          }
        }
      }
    }
    const __m512i sums[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
    const float* step = c.quad_scale.data() + size_t(og) * kGroup;
    for (int m = 0; m < MO; ++m) acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[m]), _mm512_set1_ps(step[m]), acc[m]);
  }
};

// The convs int8 does not apply to (the 3-channel input, uncalibrated models) run as the rest of the table says.
ConvKind choose_kind_i8_bf16(const ConvStep& s, bool winograd) {
  return int8_applies(s) ? ConvKind::PixelsI8 : choose_kind_bf16(s, winograd);
}
// Beside the 16-lane fp32 kinds, int8 pays only on narrow convs: <= 8 outputs, or <= 8 inputs at stride 1. Measured
// per layer on M (Intel Xeon, bty-bench --kernels, ms): 8->8 0.045 vs fp32 pixels 0.068, 24->8 0.102 vs 0.181, the
// 8->28 head 0.158 vs Winograd 0.204; but 8->16 at stride 2 0.051 vs direct 0.036, and from 16 channels in and out
// the fp32 Winograd and direct kinds run 1.1-4x faster (32->32 at 20x28: 0.030 vs 0.068), so those stay fp32.
// (Beside the bf16 pairs kind of a Zen 4, int8 won on every conv: choose_kind_i8_bf16.)
ConvKind choose_kind_i8_fp32(const ConvStep& s, bool winograd) {
  const bool narrow = s.out_channels <= kGroup || (s.in_channels <= kGroup && s.stride == 1);
  return int8_applies(s) && narrow ? ConvKind::PixelsI8 : choose_kind_zmm(s, winograd);
}
}  // namespace

void fill_kernels_avx512vnni(Kernels& k, bool bf16_rest) {
  k.conv[int(ConvKind::PixelsI8)] = conv_pixels<YmmV, ZmmP, QuadTaps>;
  k.choose = bf16_rest ? choose_kind_i8_bf16 : choose_kind_i8_fp32;
  k.precision = Precision::Int8;
}
}  // namespace bty
