// ConvKind::PixelsBf16: the pixels-in-lanes conv (pixels.inc) with AVX512-BF16 dot products, for CPUs that have
// AVX512_BF16 but no AMX (AMD Zen 4 and later; compiled with -mavx512f -mavx512vl -mavx512bw -mavx512bf16, in the
// table only with Precision::Bf16 after select_kernels' CPUID check).
//
// vdpbf16ps adds a pair of bf16 products to each fp32 lane: twice the multiply-adds of an fp32 FMA per instruction
// at the same rate on Zen 4 (bty-bench --peak: 236 vs 118 GFLOP/s on one core). Each transposed row is converted in
// place, once per call, from fp32 channel planes to planes of channel pairs (bf16 of channels 2p and 2p + 1 in one
// 32-bit lane, round to nearest even as float_to_bf16, but denormal inputs flushed to zero); then per pair and tap one
// 16-pixel load feeds 8 dot products whose weight pair is an embedded broadcast (TileConv::pair_w). Sums, bias and
// activation stay fp32, and so does the storage between layers: only the products' operands are rounded (weights once,
// at load).
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

struct PairTaps {
  // Pair plane (p, phase) is written over fp32 plane slot p * PH + phase, which pair p / 2 has already read (or
  // this step reads: p = 0), so the conversion needs no second buffer. An odd count's last pair has a zero partner.
  static void finish_row(const TileConv& c, float* R, int PH, int L) {
    const int cin = c.step->in_channels;
    // vcvtne2ps2bf16 puts the even channel's 16 pixels in words 0-15, the odd one's in 16-31; interleave them.
    alignas(64) static const uint16_t kInterleave[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                                                         8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i inter = _mm512_load_si512(kInterleave);
    for (int p = 0; 2 * p < cin; ++p)
      for (int ph = 0; ph < PH; ++ph) {
        const float* even = R + (size_t(2 * p) * PH + ph) * L;
        const float* odd = 2 * p + 1 < cin ? R + (size_t(2 * p + 1) * PH + ph) * L : nullptr;
        float* to = R + (size_t(p) * PH + ph) * L;
        for (int j = 0; j < L; j += 16) {
          const __m512 a = _mm512_loadu_ps(even + j), b = odd ? _mm512_loadu_ps(odd + j) : _mm512_setzero_ps();
          const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(b, a);
          _mm512_storeu_si512(to + j, _mm512_permutexvar_epi16(inter, both));
        }
      }
  }
  // acc += x . {w pair broadcast}: the broadcast as vdpbf16ps's own memory operand (GCC 12 does not fold
  // _mm512_set1_epi32 into it, and a separate vpbroadcastd per product doubles the instructions of the loop).
  static __m512 dot(__m512 acc, __m512bh x, const uint32_t* w) {
    __asm__("vdpbf16ps %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(x), "m"(*w));
    return acc;
  }
  template <class P, int STRIDE, int MO>
  static void accumulate(const TileConv& c, int og, const float* R0, size_t row_floats, int i0, __m512* acc) {
    constexpr int PH = STRIDE, L = kPixChunk + 16;
    const int pairs = (c.step->in_channels + 1) / 2;
    __m512 a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];
    const uint32_t* w = c.pair_w.data() + size_t(og) * 9 * pairs * kGroup;
    for (int ky = 0; ky < 3; ++ky) {
      const float* Rk = R0 + row_floats * ky;
      for (int kx = 0; kx < 3; ++kx) {
        const float* x = Rk + tap_phase<STRIDE>(kx) * L + tap_shift<STRIDE>(kx) + i0;
        for (int p = 0; p < pairs; ++p, x += PH * L, w += kGroup) {
          const __m512bh xv = (__m512bh)_mm512_loadu_si512(x);
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
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3, acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
  }
};

}  // namespace

// Measured per layer on tier M (bty-bench --kernels, docs/engine.md): the bf16 pairs beat every fp32 kind on every
// conv, Winograd and the 16-lane direct blocking included (1.05-1.8x). The first conv (the 3-channel net input)
// stays fp32 for quality, as on AMX (x86/conv_amx.cpp says why).
ConvKind choose_kind_bf16(const ConvStep& s, bool winograd) {
  if (s.in_channels <= 4) return choose_kind_zmm(s, winograd);
  return ConvKind::PixelsBf16;
}

void fill_kernels_avx512bf16(Kernels& k) {
  k.conv[int(ConvKind::PixelsBf16)] = conv_pixels<YmmV, ZmmP, PairTaps>;
  k.choose = choose_kind_bf16;
  k.precision = Precision::Bf16;
}
}  // namespace bty
