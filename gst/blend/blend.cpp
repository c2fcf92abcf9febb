#include "blend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

namespace bty::blend {

ImageView Frame::view() const {
  ImageView v;
  v.format = format;
  v.width = width;
  v.height = height;
  v.matrix = matrix;
  v.full_range = full_range;
  for (int p = 0; p < 3; ++p) {
    v.plane[p] = plane[p];
    v.stride[p] = stride[p];
  }
  return v;
}

Rect net_area(const Rect& roi, int net_w, int net_h, int frame_w, int frame_h) {
  if (roi.width < 1 || roi.height < 1 || net_w < 1 || net_h < 1) return roi;
  // Grow the short side: w/h == net_w/net_h, compared in integers to stay exact.
  int w = roi.width, h = roi.height;
  if (int64_t(w) * net_h < int64_t(h) * net_w)
    w = int((int64_t(h) * net_w + net_h - 1) / net_h);
  else
    h = int((int64_t(w) * net_h + net_w - 1) / net_w);
  auto place = [](int start, int len, int grown, int frame) {
    int x = start - (grown - len) / 2;
    // Inside the frame when it fits; otherwise covering the whole frame with the overhang on both sides.
    int lo = std::min(0, frame - grown), hi = std::max(0, frame - grown);
    return std::clamp(x, lo, hi);
  };
  return Rect{place(roi.x, roi.width, w, frame_w), place(roi.y, roi.height, h, frame_h), w, h};
}

namespace {

// The per-pixel loops are plain C++ that GCC vectorises; on x86-64 they are also compiled for AVX2 (twice the vector
// width, cheaper byte-to-float conversions) and the loader picks that copy on CPUs that have it. Same operations
// and order either way (no FMA contraction), so both give the same bytes.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define BTY_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define BTY_VECTOR_CLONES
#endif

struct Tap {
  int i0, i1;
  float w1;
};

// Bilinear tap for a frame-space centre coordinate c along an axis the layer covers with n cells over
// [start, start+span): the same pixel-centre alignment the engine uses to sample its input.
inline Tap tap_at(double c, int start, int span, int n) {
  double s = (c - start) * n / span - 0.5;
  s = std::clamp(s, 0.0, double(n - 1));
  int i0 = int(s);
  return Tap{i0, std::min(i0 + 1, n - 1), float(s - i0)};
}

// Quantising v + delta to a byte, floor(v + delta + t):
// - luma-like samples (R, G, B of RGB frames, Y, GRAY8) round to nearest (t = 1/2). A fixed dither pattern there
//   does not move with the face: on video it was most of the retouch layer's measured flicker (docs/temporal.md:
//   e.g. 38.9 % -> 6.6 % on LivePortrait d0), and a luma correction below half a code value is not visible;
// - chroma samples of YUV frames use a 4×4 ordered dither (t from a Bayer matrix, fixed to frame positions): most
//   chroma corrections are a fraction of a code value (the RGB delta's colour spread over Cb/Cr, at half resolution),
//   and rounding would drop them (a third of the G/B retouch lost in I420 against RGB); the dither keeps their mean
//   over each 4×4 block.
// A zero delta never changes a sample (t < 1).
constexpr float kRoundToNearest = 0.5f;
constexpr float kBayer4[4][4] = {{0.5f / 16, 8.5f / 16, 2.5f / 16, 10.5f / 16},
                                 {12.5f / 16, 4.5f / 16, 14.5f / 16, 6.5f / 16},
                                 {3.5f / 16, 11.5f / 16, 1.5f / 16, 9.5f / 16},
                                 {15.5f / 16, 7.5f / 16, 13.5f / 16, 5.5f / 16}};

// The layer's maps read through the pixel shuffle, the deltas weighted (blemish × Δblemish + tone × Δtone) and
// converted (linearly, so before upsampling) to 8-bit code deltas in the frame's space: R,G,B for packed RGB frames;
// Y,Cb,Cr in the frame's matrix and range for YUV frames. Plus the blemish alpha when the spot step wants it.
struct Maps {
  int width = 0, height = 0;  // after the shuffle
  Rect area;
  std::vector<float> d;      // 3 planes
  std::vector<float> alpha;  // 1 plane in [0, 1], or empty
};

BTY_VECTOR_CLONES
void make_maps(const Frame& f, const Layer& L, float wb, float wt, bool want_alpha, Maps& M) {
  const int s = L.shuffle;
  M.width = L.width * s;
  M.height = L.height * s;
  M.area = L.area;
  const size_t n = size_t(M.width) * M.height;
  M.d.resize(3 * n);
  M.alpha.resize(want_alpha ? n : 0);
  float m[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  const bool gray = f.format == PixelFormat::GRAY8;
  if (is_yuv(f.format) || gray) {
    // GRAY8 is full-range luma; the engine reads it as R = G = B, so any matrix's weights (summing to 1) fit.
    const bool bt601 = gray || f.matrix == YuvMatrix::BT601, full = gray || f.full_range;
    const double kr = bt601 ? 0.299 : 0.2126;
    const double kb = bt601 ? 0.114 : 0.0722;
    const double kg = 1 - kr - kb;
    const double ys = full ? 1.0 : 219.0 / 255.0, cs = full ? 1.0 : 224.0 / 255.0;
    if (L.colour == Colour::RGB) {
      const double cb = 0.5 / (1 - kb), cr = 0.5 / (1 - kr);
      const double rows[3][3] = {
          {kr, kg, kb}, {-kr * cb, -kg * cb, (1 - kb) * cb}, {(1 - kr) * cr, -kg * cr, -kb * cr}};
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) m[i][j] = float(rows[i][j] * (i == 0 ? ys : cs));
    } else {  // the net already speaks the frame's YCbCr (full range): only the range differs
      m[0][0] = float(ys);
      m[1][1] = m[2][2] = float(cs);
    }
  } else if (L.colour == Colour::YCbCr) {  // BT.601 full range, as docs/model-format.md says
    const float rows[3][3] = {{1, 0, 1.402f}, {1, -0.344136f, -0.714136f}, {1, 1.772f, 0}};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) m[i][j] = rows[i][j];
  }
  float k[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) k[i][j] = m[i][j] * L.scale;
  const bool layers = L.kind == OutputKind::Layers;
  const size_t raw = size_t(L.width) * L.height;
  // A head row as floats: in place, or converted from half into `scratch` (L.width floats).
  auto src = [&](int map, int dy, int dx, int y, float* scratch) -> const float* {
    const size_t at = size_t(map * s * s + dy * s + dx) * raw + size_t(y) * L.width;
    if (L.chw) return L.chw + at;
    half_to_float(L.half + at, scratch, size_t(L.width));
    return scratch;
  };
  // scratch: the two half rows read at once (blemish and tone)
  std::vector<float> rgb(3 * size_t(L.width)), scratch(L.chw ? 0 : 2 * size_t(L.width));
  float* const s0 = scratch.data();
  float* const s1 = L.chw ? s0 : s0 + L.width;
  for (int Y = 0; Y < M.height; ++Y) {
    const int y = Y / s, dy = Y % s;
    for (int dx = 0; dx < s; ++dx) {
      // One source row per map: the head channels that land on output row Y, column phase dx.
      for (int c = 0; c < 3; ++c) {
        const float* b = src(c, dy, dx, y, s0);
        float* o = rgb.data() + size_t(c) * L.width;
        if (layers) {
          const float* t = src(kLayerTone + c, dy, dx, y, s1);
          for (int x = 0; x < L.width; ++x) o[x] = wb * b[x] + wt * t[x];
        } else {
          for (int x = 0; x < L.width; ++x) o[x] = wb * b[x];
        }
      }
      const size_t row = size_t(Y) * M.width + dx;
      for (int i = 0; i < 3; ++i) {
        float* o = M.d.data() + i * n + row;
        const float *r = rgb.data(), *g = r + L.width, *b = g + L.width;
        for (int x = 0; x < L.width; ++x) o[size_t(x) * s] = k[i][0] * r[x] + k[i][1] * g[x] + k[i][2] * b[x];
      }
      if (want_alpha) {
        const float* a = src(kLayerAlpha, dy, dx, y, s0);
        float* o = M.alpha.data() + row;
        for (int x = 0; x < L.width; ++x) o[size_t(x) * s] = std::clamp(0.5f * (a[x] + 1.f), 0.f, 1.f);
      }
    }
  }
}

// Entries of a map row buffer past the map's width: the copy map_row makes, and what upsample_row's 8-wide loads
// may read beyond it.
constexpr int kMapRowPad = 9;

// Vertically interpolated map row (one plane) for centre coordinate cy, into row[0..M.width], the last entry a copy
// of the one before (so a horizontal tap's right neighbour is always i0 + 1). The buffer holds M.width + kMapRowPad.
inline void map_row(const float* plane, const Maps& M, double cy, float* row) {
  const Tap t = tap_at(cy, M.area.y, M.area.height, M.height);
  const float* r0 = plane + size_t(t.i0) * M.width;
  const float* r1 = plane + size_t(t.i1) * M.width;
  for (int i = 0; i < M.width; ++i) row[i] = r0[i] + t.w1 * (r1[i] - r0[i]);
  row[M.width] = row[M.width - 1];
}

// Horizontal taps of a run of frame columns into a map row, as arrays (the right neighbour is i0 + 1: map_row pads).
struct Taps {
  std::vector<int> i0;
  std::vector<float> w1;
  void make(int n, double first_centre, double centre_step, const Maps& M) {
    i0.resize(n);
    w1.resize(n);
    for (int x = 0; x < n; ++x) {
      const Tap t = tap_at(first_centre + centre_step * x, M.area.x, M.area.width, M.width);
      i0[x] = t.i0;
      w1[x] = t.w1;
    }
  }
};

// The high band high = v − box(v) (box radius r) of one gathered signal, a row at a time in ROI order: vertical box
// sums per column run along with the rows (uint16: at most 255 × 129); the horizontal sums, the only part that costs,
// are computed just for the columns asked for.
class HighBand {
 public:
  void start(const uint8_t* src, int width, int r) {
    src_ = src;
    W_ = width;
    r_ = r;
    k_ = 2 * r + 1;
    P_ = width + 2 * r;
    inv_area_ = 1.f / float(k_ * k_);
    col_.assign(P_, 0);
    for (int j = 0; j < k_ - 1; ++j) add_row(j, +1);
    y_ = -1;
  }
  // Moves to ROI row y (rows must come in increasing order).
  void seek(int y) {
    while (y_ < y) {
      if (y_ >= 0) add_row(y_, -1);  // the row that leaves the window
      ++y_;
      add_row(y_ + k_ - 1, +1);
    }
  }
  // high[x] for x in [a, b) of the current row.
  void row(int a, int b, float* high) {
    if (a >= b) return;
    box_.resize(W_);
    uint16_t* box = box_.data();
    const uint16_t* col = col_.data();
    bool slid = true;
    switch (k_) {  // a sliding sum of k columns in uint16 (k² × 255 fits for k <= 15): vectorises
      case 3: box_sum<3>(col, a, b, box); break;
      case 5: box_sum<5>(col, a, b, box); break;
      case 7: box_sum<7>(col, a, b, box); break;
      case 9: box_sum<9>(col, a, b, box); break;
      case 11: box_sum<11>(col, a, b, box); break;
      case 13: box_sum<13>(col, a, b, box); break;
      case 15: box_sum<15>(col, a, b, box); break;
      default: slid = false; break;
    }
    const uint8_t* v = src_ + size_t(y_ + r_) * P_ + r_;
    if (slid) {
      for (int x = a; x < b; ++x) high[x] = float(v[x]) - float(box[x]) * inv_area_;
    } else {  // wide boxes (a net pixel of > 7.5 frame pixels): prefix differences in int32
      pre_.resize(P_ + 1);
      int32_t acc = 0;
      pre_[a] = 0;
      for (int i = a; i < b + k_ - 1; ++i) pre_[i + 1] = acc += col[i];
      for (int x = a; x < b; ++x) high[x] = float(v[x]) - float(pre_[x + k_] - pre_[x]) * inv_area_;
    }
  }

 private:
  template <int K>
  static void box_sum(const uint16_t* col, int a, int b, uint16_t* box) {
    for (int x = a; x < b; ++x) {
      uint16_t s = 0;
      for (int i = 0; i < K; ++i) s = uint16_t(s + col[x + i]);
      box[x] = s;
    }
  }
  void add_row(int j, int sign) {
    const uint8_t* a = src_ + size_t(j) * P_;
    uint16_t* col = col_.data();
    if (sign > 0)
      for (int i = 0; i < P_; ++i) col[i] = uint16_t(col[i] + a[i]);
    else
      for (int i = 0; i < P_; ++i) col[i] = uint16_t(col[i] - a[i]);
  }
  const uint8_t* src_ = nullptr;
  int W_ = 0, r_ = 0, k_ = 0, P_ = 0, y_ = -1;
  float inv_area_ = 1;
  std::vector<uint16_t> col_, box_;
  std::vector<int32_t> pre_;
};

// Scratch memory of one apply() call, kept per thread: the buffers are megabytes at 1080p and fresh allocations of
// that size cost page faults on every frame.
struct Scratch {
  std::vector<uint8_t> src[3];    // spot step: the signals of the ROI plus an r-pixel margin, edges replicated
  HighBand band[3];               // spot step: the high band of each signal
  std::vector<float> high[3];     // spot step: high band per signal, one row
  std::vector<float> row[4];      // per frame row, over the ROI: delta per plane (3) and alpha, at frame resolution
  std::vector<float> maprow;      // a vertically interpolated map row
  std::vector<float> weight;      // per frame row: mask × strength / 255
  std::vector<float> dither;      // chroma: the dither thresholds of each of the 4 row phases
  std::vector<uint8_t> bytes[3];  // per frame row: the new bytes per plane
  std::vector<uint16_t> pair, blocks;  // chroma: mask sums over two luma rows, and over 2×2 blocks
  Taps taps;
  Maps maps;
};

// The spot step's tau per luma-like signal (their high bands are in Scratch::band). planes = 0: the step is off.
struct Spot {
  int planes = 0;  // 1: Y; 3: R, G, B
  float tau[3] = {1, 1, 1};
};

// tanh by its [7/6] Padé approximant on [-5, 5], ±1 beyond (|error| < 1e-4, far below a code value for any tau);
// a few multiplies and one division instead of a libm call per pixel and channel, and the loop vectorises.
inline float fast_tanh(float x) {
  x = x > 5.f ? 5.f : x;  // (not std::min/max: their references keep GCC from vectorising the loop)
  x = x < -5.f ? -5.f : x;
  const float x2 = x * x;
  const float t =
      x * (135135.f + x2 * (17325.f + x2 * (378.f + x2))) / (135135.f + x2 * (62370.f + x2 * (3150.f + 28.f * x2)));
  return t > 1.f ? 1.f : (t < -1.f ? -1.f : t);
}

// Where the luma-like signals of a frame lie in plane 0: Y (planar YUV, GRAY8: every byte; packed 4:2:2: every other
// byte) or R, G, B of a packed RGB pixel. Sample x of signal c is at row + x * step + off[c].
struct LumaSignals {
  int planes = 1, step = 1;
  int off[3] = {0, 0, 0};
};
inline LumaSignals luma_signals(PixelFormat fmt) {
  LumaSignals s;
  if (is_yuv(fmt)) {
    const YuvLayout l = yuv_layout(fmt);
    s.step = l.luma_step;
    s.off[0] = l.luma_offset;
  } else if (fmt != PixelFormat::GRAY8) {
    s.planes = 3;
    packed_layout(fmt, s.off[0], s.off[1], s.off[2], s.step);
  }
  return s;
}

// The luma-like signals of the ROI plus an r-pixel margin (frame edges replicated), planar, (W + 2r) × (H + 2r):
// the Y plane, or R, G and B deinterleaved in one pass over the packed frame.
BTY_VECTOR_CLONES
void gather_signals(const Frame& f, const Rect& roi, int r, Scratch& sc) {
  const LumaSignals ls = luma_signals(f.format);
  const int planes = ls.planes, bpp = ls.step;
  const int* off = ls.off;
  const int P = roi.width + 2 * r, Q = roi.height + 2 * r;
  const int x_lo = std::max(0, roi.x - r), x_hi = std::min(f.width, roi.x + roi.width + r);  // in-frame columns
  const int i_lo = x_lo - (roi.x - r), i_hi = x_hi - (roi.x - r);
  for (int c = 0; c < planes; ++c) sc.src[c].resize(size_t(P) * Q);
  for (int j = 0; j < Q; ++j) {
    const uint8_t* row = f.plane[0] + size_t(std::clamp(roi.y - r + j, 0, f.height - 1)) * f.stride[0];
    uint8_t* o[3];
    for (int c = 0; c < planes; ++c) o[c] = sc.src[c].data() + size_t(j) * P;
    if (planes == 1 && bpp == 1) {
      std::copy(row + x_lo, row + x_hi, o[0] + i_lo);
    } else if (planes == 1) {
      const uint8_t* q = row + size_t(x_lo) * bpp + off[0];
      for (int i = i_lo; i < i_hi; ++i, q += bpp) o[0][i] = *q;
    } else if (bpp == 4) {  // whole pixels as 32-bit words: shifts instead of strided byte loads (vectorises)
      const uint8_t* q = row + size_t(x_lo) * 4;
      const int s0 = 8 * off[0], s1 = 8 * off[1], s2 = 8 * off[2];  // little-endian byte order
      for (int i = i_lo; i < i_hi; ++i, q += 4) {
        uint32_t w;
        std::memcpy(&w, q, 4);
        o[0][i] = uint8_t(w >> s0);
        o[1][i] = uint8_t(w >> s1);
        o[2][i] = uint8_t(w >> s2);
      }
    } else {
      const uint8_t* q = row + size_t(x_lo) * bpp;
      for (int i = i_lo; i < i_hi; ++i, q += bpp) {
        o[0][i] = q[off[0]];
        o[1][i] = q[off[1]];
        o[2][i] = q[off[2]];
      }
    }
    for (int c = 0; c < planes; ++c) {
      std::fill(o[c], o[c] + i_lo, o[c][i_lo]);
      std::fill(o[c] + i_hi, o[c] + P, o[c][i_hi - 1]);
    }
  }
}

// tau = 2.5 × the mean |high| over the mask's non-zero pixels (at least 1), the mean taken over every other row of
// the ROI (a statistic of the skin's texture; half the cost).
BTY_VECTOR_CLONES
float spot_tau(HighBand& hb, const Rect& roi, const uint8_t* mask, int mask_stride, const Rect& full_roi,
               std::vector<float>& high) {
  high.resize(roi.width);
  double sum_abs = 0;
  long count = 0;
  for (int y = 0; y < roi.height; y += 2) {
    const uint8_t* m = mask + size_t(roi.y + y - full_roi.y) * mask_stride + (roi.x - full_roi.x);
    int a = 0, b = roi.width;
    while (a < b && !m[a]) ++a;
    while (b > a && !m[b - 1]) --b;
    if (a == b) continue;
    hb.seek(y);
    float* h = high.data();
    hb.row(a, b, h);
    float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // 8 partial sums: a float reduction GCC vectorises without -ffast-math
    int x = a, row_count = 0;
    for (; x + 8 <= b; x += 8)
      for (int l = 0; l < 8; ++l) lane[l] += float(m[x + l] != 0) * std::fabs(h[x + l]);
    for (; x < b; ++x) lane[0] += float(m[x] != 0) * std::fabs(h[x]);
    for (x = a; x < b; ++x) row_count += m[x] != 0;
    for (float l : lane) sum_abs += l;
    count += row_count;
  }
  return std::max(1.f, count ? float(2.5 * sum_abs / double(count)) : 1.f);
}

// The mask's non-zero span [*a, *b) in a row of n; false if it is all zero.
inline bool mask_span(const uint8_t* m, int n, int* a, int* b) {
  int i = 0;
  while (i < n && !m[i]) ++i;
  if (i == n) return false;
  int j = n;
  while (!m[j - 1]) --j;
  *a = i;
  *b = j;
  return true;
}

#if defined(__GNUC__) && defined(__x86_64__)
// 8 columns at a time: their taps' cells lie within 8 consecutive map entries whenever a map cell spans more than
// 8/7 frame columns (every face the net sees at a larger size than its input), so two loads and two in-register
// permutes replace 16 scalar loads. The same operations in the same order as the scalar loop (no FMA): the same
// floats. Returns where it stopped (columns it could not do this way are left to the scalar loop).
__attribute__((target("avx2"))) int upsample_row_avx2(const float* r, const int* i0, const float* w1, int a, int b,
                                                      float* out) {
  const __m256i seven = _mm256_set1_epi32(7), zero = _mm256_setzero_si256();
  int x = a;
  for (; x + 8 <= b; x += 8) {
    const int base = i0[x];
    const __m256i rel =
        _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(i0 + x)), _mm256_set1_epi32(base));
    if (_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpgt_epi32(rel, seven), _mm256_cmpgt_epi32(zero, rel)))) break;
    const __m256 q0 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(r + base), rel);
    const __m256 q1 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(r + base + 1), rel);
    _mm256_storeu_ps(out + x, _mm256_add_ps(q0, _mm256_mul_ps(_mm256_loadu_ps(w1 + x), _mm256_sub_ps(q1, q0))));
  }
  return x;
}
const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
#endif

// Horizontal bilinear interpolation of a (padded: kMapRowPad entries past the map's width readable) map row at the
// columns [a, b) of `t`.
inline void upsample_row(const float* r, const Taps& t, int a, int b, float* out) {
  const int* i0 = t.i0.data();
  const float* w1 = t.w1.data();
#if defined(__GNUC__) && defined(__x86_64__)
  if (kHaveAvx2) a = upsample_row_avx2(r, i0, w1, a, b, out);
#endif
  for (int x = a; x < b; ++x) {
    const float* q = r + i0[x];
    out[x] = q[0] + w1[x] * (q[1] - q[0]);
  }
}

// The dither thresholds of the columns x0 .. x0 + n - 1 for each of the 4 row phases: dither[(y & 3) * n + x].
inline void dither_rows(int x0, int n, std::vector<float>& dither) {
  dither.resize(4 * size_t(n));
  for (int p = 0; p < 4; ++p)
    for (int x = 0; x < n; ++x) dither[size_t(p) * n + x] = kBayer4[p][(x0 + x) & 3];
}

// Below this blemish weight (alpha × blemish) a pixel gets no spot step: its effect would be < 0.1 code value.
constexpr float kMinSpotWeight = 1.f / 2048;

// The new bytes floor(v + delta + t), clamped to 0..255, over [a, b) of a row of samples STEP bytes apart, into
// out[] (v + delta + t is clamped to 0..255 first, so truncation is floor), in a loop the compiler vectorises.
// t = nullptr: round to nearest (t = 1/2 everywhere, a constant instead of an array).
template <int STEP, bool NEAREST>
inline void quantise_row(const uint8_t* v, const float* d, const float* t, int a, int b, uint8_t* out) {
  for (int x = a; x < b; ++x) {
    float o = float(v[size_t(x) * STEP]) + d[x] + (NEAREST ? kRoundToNearest : t[x]);
    o = o < 0.f ? 0.f : o;
    o = o > 255.f ? 255.f : o;
    out[x] = uint8_t(int(o));
  }
}
template <bool NEAREST>
inline void quantise_row(const uint8_t* v, int step, const float* d, const float* t, int a, int b, uint8_t* out) {
  switch (step) {
    case 1: return quantise_row<1, NEAREST>(v, d, t, a, b, out);
    case 2: return quantise_row<2, NEAREST>(v, d, t, a, b, out);
    case 3: return quantise_row<3, NEAREST>(v, d, t, a, b, out);
    default: return quantise_row<4, NEAREST>(v, d, t, a, b, out);
  }
}
inline void quantise_row(const uint8_t* v, int step, const float* d, const float* t, int a, int b, uint8_t* out) {
  if (t)
    quantise_row<false>(v, step, d, t, a, b, out);
  else
    quantise_row<true>(v, step, d, t, a, b, out);
}

// The luma-like planes (R, G, B of a packed frame, or Y) at full resolution, row by row over the mask's span: the
// deltas and the alpha are interpolated into frame-resolution rows, the totals and the new bytes computed in plain
// loops (they vectorise), then the bytes stored where the mask is non-zero.
BTY_VECTOR_CLONES
void apply_full_res(const Frame& f, const Rect& roi, const uint8_t* mask, int mask_stride, const Rect& full_roi,
                    const Maps& M, const Spot& S, float strength, float wb, Scratch& sc) {
  const LumaSignals ls = luma_signals(f.format);
  const int planes = ls.planes, bpp = ls.step;
  const int* off = ls.off;
  const size_t n = size_t(M.width) * M.height;
  const bool spot = S.planes > 0;
  Taps& tx = sc.taps;
  tx.make(roi.width, roi.x + 0.5, 1.0, M);
  for (int c = 0; c < 4; ++c) sc.row[c].resize(roi.width);
  for (int c = 0; c < 3; ++c) sc.bytes[c].resize(roi.width);
  for (int c = 0; c < 3; ++c) sc.high[c].resize(roi.width);
  sc.maprow.assign(M.width + kMapRowPad, 0.f);
  sc.weight.resize(roi.width);
  const float wk = strength / 255.f;
  for (int y = roi.y; y < roi.y + roi.height; ++y) {
    const uint8_t* m = mask + size_t(y - full_roi.y) * mask_stride + (roi.x - full_roi.x);
    int a, b;
    if (!mask_span(m, roi.width, &a, &b)) continue;
    float* w = sc.weight.data();
    for (int x = a; x < b; ++x) w[x] = float(m[x]) * wk;
    for (int c = 0; c < planes; ++c) {
      map_row(M.d.data() + c * n, M, y + 0.5, sc.maprow.data());
      upsample_row(sc.maprow.data(), tx, a, b, sc.row[c].data());
    }
    if (spot) {
      map_row(M.alpha.data(), M, y + 0.5, sc.maprow.data());
      float* al = sc.row[3].data();
      upsample_row(sc.maprow.data(), tx, a, b, al);
      for (int x = a; x < b; ++x) al[x] *= wb;
      // Where the net sees no blemish (alpha ~ 0, most of the skin of a real face) only the delta is left.
      int sa = a, sb = b;
      while (sa < sb && al[sa] < kMinSpotWeight) ++sa;
      while (sb > sa && al[sb - 1] < kMinSpotWeight) --sb;
      for (int c = 0; c < planes; ++c) {
        const float tau = S.tau[c], inv_tau = 1.f / tau;
        float* h = sc.high[c].data();
        if (sa < sb) {
          sc.band[c].seek(y - roi.y);
          sc.band[c].row(sa, sb, h);
        }
        float* d = sc.row[c].data();
        for (int x = a; x < sa; ++x) d[x] *= w[x];
        for (int x = sa; x < sb; ++x) d[x] = w[x] * (d[x] + al[x] * (tau * fast_tanh(h[x] * inv_tau) - h[x]));
        for (int x = sb; x < b; ++x) d[x] *= w[x];
      }
    } else {
      for (int c = 0; c < planes; ++c) {
        float* d = sc.row[c].data();
        for (int x = a; x < b; ++x) d[x] *= w[x];
      }
    }
    uint8_t* p = f.plane[0] + size_t(y) * f.stride[0] + size_t(roi.x) * bpp;
    for (int c = 0; c < planes; ++c) quantise_row(p + off[c], bpp, sc.row[c].data(), nullptr, a, b, sc.bytes[c].data());
    if (planes == 1) {
      const uint8_t* q = sc.bytes[0].data();
      uint8_t* py = p + off[0];
      for (int x = a; x < b; ++x)
        if (m[x]) py[size_t(x) * bpp] = q[x];
    } else {
      const uint8_t *q0 = sc.bytes[0].data(), *q1 = sc.bytes[1].data(), *q2 = sc.bytes[2].data();
      for (int x = a; x < b; ++x) {
        if (!m[x]) continue;
        uint8_t* px = p + size_t(x) * bpp;
        px[off[0]] = q0[x];
        px[off[1]] = q1[x];
        px[off[2]] = q2[x];
      }
    }
  }
}

// Chroma: each sample covers the luma block of 2 columns × chroma_rows rows (2 for 4:2:0, 1 for 4:2:2) ∩ frame; its
// weight is the mean of the mask over the block's in-frame pixels (0 outside the ROI), its delta is sampled at the
// block centre.
BTY_VECTOR_CLONES
void apply_chroma(const Frame& f, const Rect& roi, const uint8_t* mask, int mask_stride, const Rect& full_roi,
                  const Maps& M, float strength, Scratch& sc) {
  const size_t n = size_t(M.width) * M.height;
  const float wk = strength / 255.f;
  const YuvLayout L = yuv_layout(f.format);
  const int sy = L.chroma_rows;
  const int cw = (f.width + 1) / 2, ch = (f.height + sy - 1) / sy;
  const int cx0 = roi.x / 2, cx1 = std::min(cw, (roi.x + roi.width + 1) / 2);
  const int cy0 = roi.y / sy, cy1 = std::min(ch, (roi.y + roi.height + sy - 1) / sy);
  const int N = cx1 - cx0;
  // Block centres: x = (lx0 + lx1) / 2 with lx1 clipped at the frame edge (only the last column can be clipped).
  Taps& tcx = sc.taps;
  tcx.make(N, 2 * cx0 + 1.0, 2.0, M);
  const bool clipped = 2 * cx1 > f.width;  // the last chroma column covers one luma column
  if (clipped) {
    const Tap t = tap_at(0.5 * (2 * (cx1 - 1) + f.width), M.area.x, M.area.width, M.width);
    tcx.i0[N - 1] = t.i0;
    tcx.w1[N - 1] = t.w1;
  }
  // The ROI's mask columns summed over the block's two luma rows, zero-padded to whole blocks [2cx0, 2cx1).
  sc.pair.assign(2 * size_t(N), 0);
  sc.blocks.resize(N);
  for (int c = 0; c < 3; ++c) sc.row[c].resize(N);
  for (int c = 0; c < 2; ++c) sc.bytes[c].resize(N);
  sc.maprow.assign(M.width + kMapRowPad, 0.f);
  dither_rows(cx0, N, sc.dither);
  const int rx0 = roi.x - 2 * cx0;  // where the ROI starts in the block row (0 or 1)
  for (int cy = cy0; cy < cy1; ++cy) {
    const int ly0 = sy * cy, ly1 = std::min(sy * cy + sy, f.height);
    uint16_t* pair = sc.pair.data();
    std::fill(pair, pair + 2 * N, uint16_t(0));
    bool any = false;
    for (int y = std::max(ly0, roi.y); y < std::min(ly1, roi.y + roi.height); ++y) {
      const uint8_t* m = mask + size_t(y - full_roi.y) * mask_stride + (roi.x - full_roi.x);
      for (int x = 0; x < roi.width; ++x) pair[rx0 + x] = uint16_t(pair[rx0 + x] + m[x]);
      any = true;
    }
    if (!any) continue;
    uint16_t* blk = sc.blocks.data();
    for (int i = 0; i < N; ++i) blk[i] = uint16_t(pair[2 * i] + pair[2 * i + 1]);
    int a, b;
    {
      int i = 0;
      while (i < N && !blk[i]) ++i;
      if (i == N) continue;
      int j = N;
      while (!blk[j - 1]) --j;
      a = i;
      b = j;
    }
    // The mean over the block's in-frame pixels: its rows (fewer where the frame ends); 2 columns but the clipped.
    float* w = sc.row[2].data();
    const float wrow = wk / float(ly1 - ly0);
    for (int i = a; i < b; ++i) w[i] = float(blk[i]) * (wrow * 0.5f);
    if (clipped && b == N) w[N - 1] = float(blk[N - 1]) * wrow;
    const float* dither = sc.dither.data() + size_t(cy & 3) * N;
    for (int c = 0; c < 2; ++c) {  // c = 0: Cb (U), 1: Cr (V)
      map_row(M.d.data() + (c + 1) * n, M, 0.5 * (ly0 + ly1), sc.maprow.data());
      float* d = sc.row[c].data();
      upsample_row(sc.maprow.data(), tcx, a, b, d);
      for (int i = a; i < b; ++i) d[i] *= w[i];
      const int plane = c ? L.cr_plane : L.cb_plane, step = L.chroma_step;
      uint8_t* p = f.plane[plane] + size_t(cy) * f.stride[plane] + size_t(cx0) * step + (c ? L.cr_offset : L.cb_offset);
      uint8_t* q = sc.bytes[c].data();
      quantise_row(p, step, d, dither, a, b, q);
      for (int i = a; i < b; ++i)
        if (blk[i]) p[size_t(i) * step] = q[i];
    }
  }
}

}  // namespace

int spot_radius(const Layer& L) {
  if (L.kind != OutputKind::Layers || L.width < 1 || L.height < 1 || L.shuffle < 1) return 0;
  const double px = std::max(double(L.area.width) / (double(L.width) * L.shuffle),
                             double(L.area.height) / (double(L.height) * L.shuffle));  // frame px per net px
  if (!(px > 1.5)) return 0;
  return int(std::clamp(std::lround(px), 1L, 64L));
}

void apply(const Frame& f, const Rect& full_roi, const uint8_t* mask, const Layer& L, const Amounts& a) {
  if (!(a.strength > 0.f) || !mask || f.width < 1 || f.height < 1) return;
  if (L.width < 1 || L.height < 1 || L.area.width < 1 || L.area.height < 1 || (!L.chw && !L.half))
    throw std::invalid_argument("blend: the retouch layer is empty");
  if (L.shuffle < 1 || L.shuffle > 8 || L.channels != output_maps(L.kind) * L.shuffle * L.shuffle)
    throw std::invalid_argument("blend: the retouch layer has " + std::to_string(L.channels) + " channels; kind " +
                                std::to_string(int(L.kind)) + " with shuffle " + std::to_string(L.shuffle) + " needs " +
                                std::to_string(output_maps(L.kind)) + " x shuffle^2");
  const float wb = a.blemish > 0.f ? std::min(a.blemish, 1.f) : 0.f;
  const float wt = L.kind == OutputKind::Layers && a.tone > 0.f ? std::min(a.tone, 1.f) : 0.f;
  if (wb == 0.f && wt == 0.f) return;
  Rect roi;
  roi.x = std::max(0, full_roi.x);
  roi.y = std::max(0, full_roi.y);
  roi.width = std::min(f.width, full_roi.x + full_roi.width) - roi.x;
  roi.height = std::min(f.height, full_roi.y + full_roi.height) - roi.y;
  if (roi.width < 1 || roi.height < 1) return;
  const float strength = std::min(a.strength, 1.f);
  const int r = a.spot && wb > 0.f ? spot_radius(L) : 0;
  static thread_local Scratch sc;
  Maps& M = sc.maps;
  make_maps(f, L, wb, wt, r > 0, M);
  // The spot step reads the frame before anything is written.
  Spot S;
  if (r > 0) {
    S.planes = luma_signals(f.format).planes;
    gather_signals(f, roi, r, sc);
    for (int c = 0; c < S.planes; ++c) {
      sc.band[c].start(sc.src[c].data(), roi.width, r);
      S.tau[c] = spot_tau(sc.band[c], roi, mask, full_roi.width, full_roi, sc.high[c]);
      sc.band[c].start(sc.src[c].data(), roi.width, r);  // again from the top for the blend
    }
  }
  apply_full_res(f, roi, mask, full_roi.width, full_roi, M, S, strength, wb, sc);
  if (is_yuv(f.format)) apply_chroma(f, roi, mask, full_roi.width, full_roi, M, strength, sc);
}

void apply(const Frame& f, const Rect& roi, const uint8_t* mask, const Layer& L, float strength) {
  Amounts a;
  a.strength = strength;
  apply(f, roi, mask, L, a);
}

}  // namespace bty::blend
