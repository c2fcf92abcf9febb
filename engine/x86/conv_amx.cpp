// ConvKind::AmxBf16: the 3x3 conv as small GEMMs on AMX-BF16 tiles (compiled with -mavx512f -mavx512vl
// -mavx512bf16 -mamx-tile -mamx-bf16; in the table only after select_kernels' checks: amx_bf16_available()).
//
// Per call and chunk of output columns, every input row the call reads is converted once into a bf16 row of pixels
// of amx_cin8 channels (each source's groups of 8, padded lanes zero; columns outside the map zero; upsampled and
// concatenated sources through the same column tables as the fp32 kinds). Then per output row and span of 16
// output pixels, C (16 pixels x 16 outputs, fp32, one tile per 16 outputs) += A x B per tap row ky and K block:
// A = 16 rows of 64 bytes read straight from the bf16 row (row i at pixel (ox + i) * stride - 1: its 3 kx taps are
// 3 consecutive pixels, so a tap row's K = 3 x amx_cin8 needs no im2col copy; the K padding reads a few pixels
// further, which meet zero weights), B = the packed weights (TileConv::amx_b, VNNI pairs). Bias and activation run
// in fp32 on the stored C tile, with the output channels in the lanes.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "../kernels.h"
#include "zmm_math.h"

namespace bty {
namespace {

struct TileConfig {  // palette 1: 8 tiles of 16 rows x 64 bytes
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

constexpr int kSpan = 16;                // output pixels per A tile (its rows)
constexpr size_t kRowBytes = 96 * 1024;  // bf16 rows per call chunk: at most this (the chunk narrows to fit)

uint16_t* row_scratch(size_t n) {
  thread_local std::vector<uint16_t, AlignedAllocator<uint16_t>> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// Input-grid columns [ix0, ix0 + cols) of input row iy, every source, as bf16 pixels of amx_cin8 channels; columns
// from ix_end on are zero, not read: the spans' extra rows and the K padding reach past the columns the call's taps
// read, and the pipeline's half-ring chunks hold only those tiles (plus a small margin). Whole tiles go without the
// per-pixel column lookup and its branch (an upsampled source's tile converted once for its 16 columns): M in bf16
// 0.765 -> 0.741 ms. (Converting pixel pairs with one 16-lane conversion measured slower: docs/engine.md.)
void convert_row(const TileConv& c, const RowWindow* win, int iy, int ix0, int cols, int ix_end, uint16_t* dst) {
  const size_t cin8 = size_t(c.amx_cin8);
  if (iy < 0 || iy >= c.in_h) {
    std::memset(dst, 0, size_t(cols) * cin8 * 2);
    return;
  }
  int q0 = 0;
  for (size_t s = 0; s < c.src.size(); ++s) {
    const TileConv::Source& src = c.src[s];
    const int sy = src.up ? iy >> 1 : iy;
    const float* row = win[s].rows[(sy >> 3) - win[s].first] + (sy & 7) * 64;
    const int groups = src.geom.groups;
    const __mmask8 last = __mmask8((1u << (src.geom.channels - (groups - 1) * kGroup)) - 1);
    for (int j = 0; j < cols; ++j) {
      const int ix = ix0 + j;
      uint16_t* d = dst + size_t(j) * cin8 + q0;
      if (!src.up && (ix & 7) == 0 && ix + 8 <= ix_end && j + 8 <= cols) {  // a whole tile: no per-pixel lookups
        const float* t = row + src.col[size_t(ix + 1)];
        for (int g = 0; g < groups; ++g) {
          const float* tg = t + g * kGroupFloats;
          const __mmask8 m = g + 1 < groups ? __mmask8(0xff) : last;
          for (int i = 0; i < kTile; ++i)
            _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i * cin8 + g * kGroup),
                             reinterpret_cast<__m128i>(_mm256_cvtneps_pbh(_mm256_maskz_loadu_ps(m, tg + i * kGroup))));
        }
        j += kTile - 1;
        continue;
      }
      if (src.up && (ix & 15) == 0 && ix + 16 <= ix_end && j + 16 <= cols) {  // a whole source tile, each pixel twice
        const float* t = row + src.col[size_t(ix + 1)];
        for (int g = 0; g < groups; ++g) {
          const float* tg = t + g * kGroupFloats;
          const __mmask8 m = g + 1 < groups ? __mmask8(0xff) : last;
          for (int i = 0; i < kTile; ++i) {
            const __m128i b = reinterpret_cast<__m128i>(_mm256_cvtneps_pbh(_mm256_maskz_loadu_ps(m, tg + i * kGroup)));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 2 * i * cin8 + g * kGroup), b);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(d + (2 * i + 1) * cin8 + g * kGroup), b);
          }
        }
        j += 2 * kTile - 1;
        continue;
      }
      const int off = ix < ix_end ? src.col[size_t(ix + 1)] : -1;  // ix >= -1: chunks start at ox * stride - 1
      if (off < 0) {
        for (int g = 0; g < groups; ++g)
          _mm_storeu_si128(reinterpret_cast<__m128i*>(d + g * kGroup), _mm_setzero_si128());
        continue;
      }
      const float* p = row + off;
      for (int g = 0; g + 1 < groups; ++g)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + g * kGroup),
                         reinterpret_cast<__m128i>(_mm256_cvtneps_pbh(_mm256_loadu_ps(p + g * kGroupFloats))));
      const int g = groups - 1;  // the last group's padded lanes are never read
      _mm_storeu_si128(
          reinterpret_cast<__m128i*>(d + g * kGroup),
          reinterpret_cast<__m128i>(_mm256_cvtneps_pbh(_mm256_maskz_loadu_ps(last, p + g * kGroupFloats))));
    }
    q0 += groups * kGroup;
  }
}

// C tiles 0..NT-1 = the 3 tap rows x K blocks of A (tile 4) x B (tiles 5-7), stored as [16 pixels][NT x 16].
template <int NT>
inline void span_tiles(const uint16_t* a, size_t row_elems, int a_stride, const uint16_t* b, int kblocks, int parts,
                       float* cbuf) {
  _tile_zero(0);
  if constexpr (NT > 1) _tile_zero(1);
  if constexpr (NT > 2) _tile_zero(2);
  if constexpr (NT > 3) _tile_zero(3);
  for (int ky = 0; ky < 3; ++ky) {
    const uint16_t* ar = a + size_t(ky) * row_elems;
    for (int kb = 0; kb < kblocks; ++kb) {
      _tile_loadd(4, ar + kb * 32, a_stride);
      for (int part = 0; part < parts; ++part, b += NT * 512) {
        _tile_loadd(5, b, 64);
        _tile_dpbf16ps(0, 4, 5);
        if constexpr (NT > 1) {
          _tile_loadd(6, b + 512, 64);
          _tile_dpbf16ps(1, 4, 6);
        }
        if constexpr (NT > 2) {
          _tile_loadd(7, b + 1024, 64);
          _tile_dpbf16ps(2, 4, 7);
        }
        if constexpr (NT > 3) {
          _tile_loadd(5, b + 1536, 64);
          _tile_dpbf16ps(3, 4, 5);
        }
      }
    }
  }
  _tile_stored(0, cbuf, NT * 64);
  if constexpr (NT > 1) _tile_stored(1, cbuf + 16, NT * 64);
  if constexpr (NT > 2) _tile_stored(2, cbuf + 32, NT * 64);
  if constexpr (NT > 3) _tile_stored(3, cbuf + 48, NT * 64);
}

// M = 4 / NT spans of 16 pixels at once for NT = 1 or 2: four accumulators (four independent chains of tile
// products), and each B tile loaded once for all M spans (8->8 at 80x112: 10 % faster than span by span). The spans
// may lie on different output rows (a[m]: span m's first tap row), so maps of 40 px (3 spans a row) fill blocks too.
// C tile m * NT + n; A tiles 4, 5; B tiles 6, 7. cbuf: [M][16 pixels][NT x 16].
template <int NT>
inline void multi_span_tiles(const uint16_t* const* a, size_t row_elems, int a_stride, const uint16_t* b, int kblocks,
                             int parts, float* cbuf) {
  static_assert(NT == 1 || NT == 2, "four accumulators: 4 spans x 1 or 2 spans x 2 output tiles");
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int ky = 0; ky < 3; ++ky) {
    const size_t r = size_t(ky) * row_elems;
    for (int kb = 0; kb < kblocks; ++kb) {
      const size_t k = r + size_t(kb) * 32;
      if constexpr (NT == 1) {  // B hi (and lo) once, then the 4 spans
        _tile_loadd(6, b, 64);
        if (parts > 1) _tile_loadd(7, b + 512, 64);
        b += parts * 512;
        _tile_loadd(4, a[0] + k, a_stride);
        _tile_dpbf16ps(0, 4, 6);
        if (parts > 1) _tile_dpbf16ps(0, 4, 7);
        _tile_loadd(5, a[1] + k, a_stride);
        _tile_dpbf16ps(1, 5, 6);
        if (parts > 1) _tile_dpbf16ps(1, 5, 7);
        _tile_loadd(4, a[2] + k, a_stride);
        _tile_dpbf16ps(2, 4, 6);
        if (parts > 1) _tile_dpbf16ps(2, 4, 7);
        _tile_loadd(5, a[3] + k, a_stride);
        _tile_dpbf16ps(3, 5, 6);
        if (parts > 1) _tile_dpbf16ps(3, 5, 7);
      } else {  // both spans' A once, then per weight part both output tiles' B
        _tile_loadd(4, a[0] + k, a_stride);
        _tile_loadd(5, a[1] + k, a_stride);
        for (int part = 0; part < parts; ++part, b += 2 * 512) {
          _tile_loadd(6, b, 64);
          _tile_loadd(7, b + 512, 64);
          _tile_dpbf16ps(0, 4, 6);
          _tile_dpbf16ps(1, 4, 7);
          _tile_dpbf16ps(2, 5, 6);
          _tile_dpbf16ps(3, 5, 7);
        }
      }
    }
  }
  constexpr int span_floats = kSpan * NT * 16;
  if constexpr (NT == 1) {
    _tile_stored(0, cbuf, 64);
    _tile_stored(1, cbuf + span_floats, 64);
    _tile_stored(2, cbuf + 2 * span_floats, 64);
    _tile_stored(3, cbuf + 3 * span_floats, 64);
  } else {
    _tile_stored(0, cbuf, 128);
    _tile_stored(1, cbuf + 16, 128);
    _tile_stored(2, cbuf + span_floats, 128);
    _tile_stored(3, cbuf + span_floats + 16, 128);
  }
}

template <Act A>
inline __m512 activate(__m512 v) {
  if constexpr (A == Act::Relu) return _mm512_max_ps(v, _mm512_setzero_ps());
  if constexpr (A == Act::Tanh) return zmm::tanh(v);
  return v;
}

// n pixels of a C buffer + bias, activation -> the output groups of pixels ox.. of row oy. A span starts on a tile
// (ox is a multiple of 8), so its pixels lie in at most two tiles; the bias stays in registers (the stores could
// alias it) and the activation is chosen once per span.
template <int NT, Act A>
inline void store_span_act(const TileConv& c, const float* cbuf, int n, int ox, int oy, float* dst) {
  const int groups = c.out.groups;
  float* const tile0 = dst + c.out.offset(ox, oy & 7, 0);
  float* const tile1 = n > kTile ? dst + c.out.offset(ox + kTile, oy & 7, 0) : tile0;
  __m512 bias[NT];
  for (int t = 0; t < NT; ++t) bias[t] = _mm512_loadu_ps(c.amx_bias.data() + t * 16);
  if (NT == 1 && c.amx_fold) {  // outputs 0-7: hi's sums in lanes 0-7 plus lo's in lanes 8-15
    for (int i = 0; i < n; ++i) {
      const __m512 s = _mm512_loadu_ps(cbuf + i * 16);
      const __m256 v = _mm256_add_ps(
          _mm256_add_ps(_mm512_castps512_ps256(s), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1))),
          _mm512_castps512_ps256(bias[0]));
      _mm256_storeu_ps((i < kTile ? tile0 : tile1) + (i & 7) * kGroup,
                       _mm512_castps512_ps256(activate<A>(_mm512_zextps256_ps512(v))));
    }
    return;
  }
  for (int i = 0; i < n; ++i) {
    float* d = (i < kTile ? tile0 : tile1) + (i & 7) * kGroup;
    for (int t = 0; t < NT; ++t) {
      const __m512 v = activate<A>(_mm512_add_ps(_mm512_loadu_ps(cbuf + (i * NT + t) * 16), bias[t]));
      _mm256_storeu_ps(d + 2 * t * kGroupFloats, _mm512_castps512_ps256(v));
      if (2 * t + 1 < groups)
        _mm256_storeu_ps(d + (2 * t + 1) * kGroupFloats,
                         _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    }
  }
}

template <int NT>
inline void store_span(const TileConv& c, const float* cbuf, int n, int ox, int oy, float* dst) {
  switch (c.step->act) {
    case Act::Relu: store_span_act<NT, Act::Relu>(c, cbuf, n, ox, oy, dst); break;
    case Act::Tanh: store_span_act<NT, Act::Tanh>(c, cbuf, n, ox, oy, dst); break;
    default: store_span_act<NT, Act::None>(c, cbuf, n, ox, oy, dst); break;
  }
}

template <int NT>
void amx_rows(const TileConv& c, int ty, int y0, int y1, int tx0, int tx1, const RowWindow* win, float* dst) {
  const int S = c.step->stride;
  const int ox_begin = tx0 * kTile, ox_end = std::min(tx1 * kTile, c.out.width);
  const int oy0 = ty * kTile + y0, oy1 = std::min(ty * kTile + y1, c.out.height);
  if (oy0 >= oy1 || ox_begin >= ox_end) return;
  const int cin8 = c.amx_cin8, kblocks = c.amx_kblocks, parts = c.amx_b_parts();
  const int iy0 = oy0 * S - 1, rows = (oy1 - 1 - oy0) * S + 3;
  const int over = (kblocks * 32 + cin8 - 1) / cin8;  // pixels a tap row's K blocks span from the first tap
  int chunk = 8 * kSpan;  // output columns per conversion: whole spans, the bf16 rows within kRowBytes
  while (chunk > kSpan && size_t(rows) * size_t((chunk - 1) * S + over) * size_t(cin8) * 2 > kRowBytes) chunk -= kSpan;
  const size_t row_elems = size_t((chunk - 1) * S + over) * size_t(cin8);
  uint16_t* buf = row_scratch(row_elems * size_t(rows));
  constexpr int M = NT == 1 ? 4 : NT == 2 ? 2 : 1;  // spans per multi_span_tiles call
  alignas(64) float cbuf[M * kSpan * NT * 16];
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) cfg.colsb[t] = 64, cfg.rows[t] = 16;
  _tile_loadconfig(&cfg);
  const size_t span_elems = size_t(kSpan * S) * size_t(cin8);
  for (int oxc = ox_begin; oxc < ox_end; oxc += chunk) {
    const int ncols = std::min(chunk, ox_end - oxc);
    const int spans = (ncols + kSpan - 1) / kSpan;  // the last span's extra rows read converted (zero) columns
    for (int r = 0; r < rows; ++r)
      convert_row(c, win, iy0 + r, oxc * S - 1, (spans * kSpan - 1) * S + over,
                  std::min(c.in_w, (oxc + ncols - 1) * S + 2), buf + row_elems * size_t(r));
    // Spans in row order, gathered into blocks of M across output rows; what is left at the chunk's end goes span
    // by span (measured: padding the last block with unused spans costs more, the products are throughput-bound).
    struct Span {
      const uint16_t* a;
      int ox, oy, n;
    };
    Span block[M];
    int held = 0;
    for (int oy = oy0; oy < oy1; ++oy) {
      const uint16_t* a = buf + row_elems * size_t((oy - oy0) * S);
      for (int sp = 0; sp < spans; ++sp) {
        const int ox = oxc + sp * kSpan;
        const Span s{a + sp * span_elems, ox, oy, std::min(kSpan, oxc + ncols - ox)};
        if constexpr (M > 1) {
          block[held++] = s;
          if (held < M) continue;
          const uint16_t* as[M];
          for (int m = 0; m < M; ++m) as[m] = block[m].a;
          multi_span_tiles<NT>(as, row_elems, S * cin8 * 2, c.amx_b.data(), kblocks, parts, cbuf);
          for (int m = 0; m < M; ++m)
            store_span<NT>(c, cbuf + m * kSpan * NT * 16, block[m].n, block[m].ox, block[m].oy, dst);
          held = 0;
        } else {
          span_tiles<NT>(s.a, row_elems, S * cin8 * 2, c.amx_b.data(), kblocks, parts, cbuf);
          store_span<NT>(c, cbuf, s.n, s.ox, s.oy, dst);
        }
      }
    }
    for (int m = 0; m < held; ++m) {
      span_tiles<NT>(block[m].a, row_elems, S * cin8 * 2, c.amx_b.data(), kblocks, parts, cbuf);
      store_span<NT>(c, cbuf, block[m].n, block[m].ox, block[m].oy, dst);
    }
  }
  _tile_release();
}

void conv_amx(const TileConv& c, int ty, int y0, int y1, int tx0, int tx1, const RowWindow* win, float* dst) {
  switch (c.amx_ntiles) {
    case 1: amx_rows<1>(c, ty, y0, y1, tx0, tx1, win, dst); break;
    case 2: amx_rows<2>(c, ty, y0, y1, tx0, tx1, win, dst); break;
    case 3: amx_rows<3>(c, ty, y0, y1, tx0, tx1, win, dst); break;
    default: amx_rows<4>(c, ty, y0, y1, tx0, tx1, win, dst); break;  // <= 64 outputs (kMaxGroups)
  }
}

// Measured per layer (bty-bench --kernels, docs/engine.md): AMX beats every fp32 kind on every conv of the shipped
// tiers (1.5x on 8->8 to 6x on 32->32). The first conv (the 3-channel net input) stays fp32 for quality: rounding
// the input image itself to bf16 was the largest single error term (S tier, noise input: 0.13 % of pixels over one
// code value with it on AMX, 0.04 % without; the bound is 0.1 %).
ConvKind choose_kind_amx(const ConvStep& s, bool winograd) {
  if (s.in_channels <= 4) return choose_kind_zmm(s, winograd);
  return ConvKind::AmxBf16;
}
}  // namespace

void fill_kernels_amx(Kernels& k) {
  k.conv[int(ConvKind::AmxBf16)] = conv_amx;
  k.choose = choose_kind_amx;
  k.precision = Precision::Bf16;
}
}  // namespace bty
