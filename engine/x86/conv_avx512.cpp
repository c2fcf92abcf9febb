// AVX-512 kernels (compiled with -mavx512f -mavx512vl; called only when CPUID and the OS allow it). Convs with
// more than 8 outputs compute two output groups per zmm register: one broadcast input feeds 16 output channels, so
// each FMA needs half the loads of the AVX2 blocking (and on CPUs with two 512-bit FMA units, twice the flops).
// Single-group convs keep the ymm path. Weights come from TileConv::packed16 ([pair][source][tap][ci][16]); the
// Winograd kind runs on group pairs too (TileConv::wino16): products, output transform, and the input transform
// where there are several input groups.
#include <algorithm>
#include <type_traits>

#include "../kernels.h"
#include "ymm_traits.h"
#include "zmm_pixels.h"

namespace bty {
namespace {
#include "../conv_tile.inc"
#include "../pixels.inc"
#include "../winograd.inc"

struct ZmmPairs {
  static constexpr int kPixels = 8;
  template <int NPX>
  static void run(const TileConv& c, const float* const (*px)[9][NPX], float* const* dst) {
    const int groups = c.out.groups;
    for (int og = 0; og < groups; og += 2) block<NPX>(c, px, og, dst, og + 1 < groups);
  }
  template <int NPX>
  static void block(const TileConv& c, const float* const (*px)[9][NPX], int og, float* const* dst, bool both) {
    __m512 acc[NPX];
    const __m512 b = _mm512_loadu_ps(c.bias16.data() + og * kGroup);
    for (int i = 0; i < NPX; ++i) acc[i] = b;
    const float* w = c.packed16.data() + c.packed_group * og;  // a pair's block is 2 x packed_group floats
    for (size_t s = 0; s < c.src.size(); ++s) {
      const int ch = c.src[s].geom.channels;
      for (int k = 0; k < 9; ++k) {
        const float* p[NPX];
        for (int i = 0; i < NPX; ++i) p[i] = px[s][k][i];
        for (int cb = 0; cb < ch; cb += kGroup) {
          const int n = ch - cb < kGroup ? ch - cb : kGroup;
          for (int ci = 0; ci < n; ++ci, w += 2 * kGroup) {
            const __m512 wv = _mm512_loadu_ps(w);
            for (int i = 0; i < NPX; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(p[i][ci]), wv, acc[i]);
          }
          for (int i = 0; i < NPX; ++i) p[i] += kGroupFloats;
        }
      }
    }
    const Act act = c.step->act;
    for (int i = 0; i < NPX; ++i) {
      __m256 lo = _mm512_castps512_ps256(acc[i]);
      __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[i]), 1));
      if (act == Act::Relu) {
        lo = YmmV::relu(lo);
        hi = YmmV::relu(hi);
      } else if (act == Act::Tanh) {
        lo = YmmV::tanh(lo);
        hi = YmmV::tanh(hi);
      }
      YmmV::store(dst[i] + og * kGroupFloats, lo);
      if (both) YmmV::store(dst[i] + (og + 1) * kGroupFloats, hi);
    }
  }
};

// Winograd with a group pair per zmm (TileConv::wino16, bias16): one broadcast of a transformed input feeds 16
// output channels, 32 registers hold 12 blocks x 2 pairs of accumulators, and the transforms do two groups per op.
struct ZmmWino {
  using T = __m512;
  static constexpr int kGroups = 2;
  static constexpr int kMaxAcc = 24;
  static const float* weights(const TileConv& c) { return c.wino16.data(); }
  static const float* bias(const TileConv& c) { return c.bias16.data(); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static T bcast(const float* p) { return _mm512_set1_ps(*p); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T zero() { return _mm512_setzero_ps(); }
  static T relu(T a) { return _mm512_max_ps(a, _mm512_setzero_ps()); }
  static T tanh(T x) { return zmm::tanh(x); }
  static void store(float* p, T a) { _mm512_storeu_ps(p, a); }
  static void copy8(float* d, const float* s) { _mm256_storeu_ps(d, _mm256_loadu_ps(s)); }
  // The low group to p, the high one to next (null: the map has no such group).
  static void store_groups(float* p, float* next, T a) {
    _mm256_storeu_ps(p, _mm512_castps512_ps256(a));
    if (next) _mm256_storeu_ps(next, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
  }
};
}  // namespace

// Measured per layer on the S, M and L tiers (`bty-bench --kernels`, docs/engine.md): pixels in the lanes for convs
// with <= 8 outputs (~2x the patch on 8->8 and 24->8; also ahead of the one-group Winograd); Winograd with 16-lane
// products for every stride-1 conv with >= 8 inputs and several output groups (1.5-2x the 16-lane direct blocking,
// the 48- and 64-input concat convs included; the 8->28 head 1.2-1.3x pixels); pixels for the other stride-1 convs
// with <= 8 inputs (1.5x direct on the head, where Winograd is off); the direct blocking at stride 2.
ConvKind choose_kind_zmm(const ConvStep& s, bool winograd) {
  if (s.out_channels <= kGroup) return ConvKind::Pixels;
  if (winograd && s.stride == 1 && s.in_channels >= kGroup) return ConvKind::Winograd;
  if (s.in_channels <= kGroup && s.stride == 1) return ConvKind::Pixels;
  return ConvKind::Direct;
}

void fill_kernels_avx512(Kernels& k) {
  k.conv[int(ConvKind::Direct)] = conv_direct<ZmmPairs>;
  k.conv[int(ConvKind::Winograd)] = wino_rows_wide<Wino8<YmmV>, ZmmWino>;
  k.conv[int(ConvKind::Pixels)] = conv_pixels<YmmV, ZmmP>;
  k.conv_input = conv_input_pixels<YmmV, ZmmP>;
  k.conv_input_direct = false;  // its direct kind is the 16-lane blocking, without a direct3 form
  k.choose = choose_kind_zmm;
}
}  // namespace bty
