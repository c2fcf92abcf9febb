#include "mask.h"

#include "geometry.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace bty::face {

using V2 = Eigen::Vector2f;

static float signed_area(const Polygon& p) {
  double a = 0;
  for (size_t i = 0, j = p.size() - 1; i < p.size(); j = i++)
    a += double(p[j].x()) * p[i].y() - double(p[i].x()) * p[j].y();
  return float(a * 0.5);
}

Polygon dilate_polygon(const Polygon& poly, float delta) {
  const size_t n = poly.size();
  if (n < 3) return poly;
  // In image coordinates (y down) a positive shoelace area means clockwise on screen; pick normals accordingly.
  const float sign = signed_area(poly) > 0 ? 1.f : -1.f;
  auto normal = [&](const V2& a, const V2& b) {
    V2 e = b - a;
    const float len = e.norm();
    if (len < 1e-6f) return V2(0, 0);
    return V2(V2(e.y(), -e.x()) * (sign / len));
  };
  Polygon out(n);
  for (size_t i = 0; i < n; ++i) {
    const V2& prev = poly[(i + n - 1) % n];
    const V2& cur = poly[i];
    const V2& next = poly[(i + 1) % n];
    const V2 n1 = normal(prev, cur), n2 = normal(cur, next);
    V2 m = n1 + n2;
    const float mlen = m.norm();
    if (mlen < 1e-6f) {
      out[i] = cur + n1 * delta;
      continue;
    }
    m /= mlen;
    const float c = std::max(0.5f, m.dot(n1.squaredNorm() > 0 ? n1 : n2));  // cap the miter at 2x
    out[i] = cur + m * (delta / c);
  }
  return out;
}

void fill_polygon(uint8_t* img, int w, int h, int stride, const Polygon& poly, uint8_t value, V2 origin, float step) {
  const size_t n = poly.size();
  if (n < 3 || w <= 0 || h <= 0) return;
  std::vector<V2> p(n);
  float ymin = 1e30f, ymax = -1e30f;
  for (size_t i = 0; i < n; ++i) {
    p[i] = (poly[i] - origin) / step;
    if (!p[i].allFinite()) return;
    ymin = std::min(ymin, p[i].y());
    ymax = std::max(ymax, p[i].y());
  }
  ymin = std::max(ymin, -1.f), ymax = std::min(ymax, float(h) + 1.f);  // clamp before int conversion
  const int j0 = std::max(0, int(std::floor(ymin - 0.5f))), j1 = std::min(h - 1, int(std::ceil(ymax - 0.5f)));
  std::vector<float> xs;
  xs.reserve(n);
  for (int j = j0; j <= j1; ++j) {
    const float yc = j + 0.5f;
    xs.clear();
    for (size_t a = 0, b = n - 1; a < n; b = a++) {
      const V2 &pa = p[a], &pb = p[b];
      // Half-open rule on y so a vertex exactly on the scanline is counted once.
      if ((pa.y() <= yc) != (pb.y() <= yc))
        xs.push_back(pa.x() + (yc - pa.y()) / (pb.y() - pa.y()) * (pb.x() - pa.x()));
    }
    std::sort(xs.begin(), xs.end());
    uint8_t* row = img + size_t(j) * stride;
    for (size_t k = 0; k + 1 < xs.size(); k += 2) {
      // Pixel i is inside when its centre i+0.5 lies in [xa, xb).
      const float xa = std::min(std::max(xs[k], -1.f), float(w) + 1.f);
      const float xb = std::min(std::max(xs[k + 1], -1.f), float(w) + 1.f);
      const int i0 = std::max(0, int(std::ceil(xa - 0.5f)));
      const int i1 = std::min(w, int(std::ceil(xb - 0.5f)));
      if (i1 > i0) std::fill(row + i0, row + i1, value);
    }
  }
}

namespace {

// The per-cell and per-pixel loops below are integer C++ that GCC vectorises; on x86-64 they are also compiled for
// AVX2 (its 32-bit multiplies vectorise, SSE2's do not) and the loader picks that copy where the CPU has it. Integer
// arithmetic: both copies give the same bytes.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define BTY_MASK_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define BTY_MASK_CLONES
#endif

// Vertical box blur: one running sum per column, walking whole rows, so it streams through memory and vectorises.
// Rows past the edges repeat the edge row. Division by the window is a fixed-point multiply.
BTY_MASK_CLONES void blur_columns(uint8_t* img, int w, int h, int r, std::vector<uint8_t>& src,
                                  std::vector<uint32_t>& acc) {
  const int win = 2 * r + 1;
  const uint32_t inv = (65536u + uint32_t(win) - 1) / uint32_t(win);
  src.assign(img, img + size_t(w) * h);
  acc.assign(size_t(w), 0);
  auto src_row = [&](int j) { return src.data() + size_t(std::min(std::max(j, 0), h - 1)) * w; };
  for (int k = -r; k <= r; ++k) {
    const uint8_t* s = src_row(k);
    for (int i = 0; i < w; ++i) acc[size_t(i)] += s[i];
  }
  uint32_t* a = acc.data();
  for (int j = 0; j < h; ++j) {
    uint8_t* out = img + size_t(j) * w;
    const uint8_t* add = src_row(j + r + 1);
    const uint8_t* sub = src_row(j - r);
    for (int i = 0; i < w; ++i) {
      out[i] = uint8_t(std::min<uint32_t>(255u, (a[i] * inv + 32768u) >> 16));
      a[i] += uint32_t(add[i]) - uint32_t(sub[i]);
    }
  }
}

#if defined(__SSE2__)
// A 16×16 block of bytes transposed in registers: unpacks of 8-, 16-, 32- and 64-bit units (SSE2, every x86-64).
inline void transpose16(const uint8_t* in, size_t in_stride, uint8_t* out, size_t out_stride) {
  __m128i a[16], b[16], c[16], d[16];
  for (int i = 0; i < 16; ++i) a[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i * in_stride));
  for (int k = 0; k < 8; ++k) {  // b[2k], b[2k+1]: rows 2k, 2k+1 interleaved, columns 0-7 and 8-15
    b[2 * k] = _mm_unpacklo_epi8(a[2 * k], a[2 * k + 1]);
    b[2 * k + 1] = _mm_unpackhi_epi8(a[2 * k], a[2 * k + 1]);
  }
  for (int g = 0; g < 4; ++g) {  // c[4g + q]: rows 4g..4g+3 of columns 4q..4q+3
    c[4 * g] = _mm_unpacklo_epi16(b[4 * g], b[4 * g + 2]);
    c[4 * g + 1] = _mm_unpackhi_epi16(b[4 * g], b[4 * g + 2]);
    c[4 * g + 2] = _mm_unpacklo_epi16(b[4 * g + 1], b[4 * g + 3]);
    c[4 * g + 3] = _mm_unpackhi_epi16(b[4 * g + 1], b[4 * g + 3]);
  }
  for (int h = 0; h < 2; ++h)  // d[8h + p]: rows 8h..8h+7 of columns 2p, 2p+1
    for (int q = 0; q < 4; ++q) {
      d[8 * h + 2 * q] = _mm_unpacklo_epi32(c[8 * h + q], c[8 * h + 4 + q]);
      d[8 * h + 2 * q + 1] = _mm_unpackhi_epi32(c[8 * h + q], c[8 * h + 4 + q]);
    }
  for (int p = 0; p < 8; ++p) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + size_t(2 * p) * out_stride), _mm_unpacklo_epi64(d[p], d[8 + p]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + size_t(2 * p + 1) * out_stride),
                     _mm_unpackhi_epi64(d[p], d[8 + p]));
  }
}
#endif

void transpose(const uint8_t* in, int w, int h, uint8_t* out) {  // in: w x h, out: h x w
  constexpr int kB = 16;                                         // blocks, so both sides stay in cache lines
  for (int j0 = 0; j0 < h; j0 += kB)
    for (int i0 = 0; i0 < w; i0 += kB) {
#if defined(__SSE2__)
      if (j0 + kB <= h && i0 + kB <= w) {
        transpose16(in + size_t(j0) * w + i0, size_t(w), out + size_t(i0) * h + j0, size_t(h));
        continue;
      }
#endif
      for (int j = j0; j < std::min(h, j0 + kB); ++j)
        for (int i = i0; i < std::min(w, i0 + kB); ++i) out[size_t(i) * h + j] = in[size_t(j) * w + i];
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
// 8 pixels at a time: their cells lie within 8 consecutive entries of col whenever a cell spans more than 8/7
// pixels (cells are >= 1 px; 1-px cells take the scalar loop), so two loads and two in-register permutes replace
// 16 scalar loads. The same integer arithmetic: the same bytes. Returns where it stopped.
__attribute__((target("avx2"))) int upsample_row_avx2(const int32_t* col, const int* xi, const int* xw0, const int* xw,
                                                      int a8, int width, uint8_t* dst) {
  const __m256i seven = _mm256_set1_epi32(7), zero = _mm256_setzero_si256();
  const __m256i half16 = _mm256_set1_epi32(1 << 15), half8 = _mm256_set1_epi32(128), va = _mm256_set1_epi32(a8);
  int x = 0;
  for (; x + 8 <= width; x += 8) {
    const int base = xi[x];
    const __m256i rel =
        _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xi + x)), _mm256_set1_epi32(base));
    if (_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpgt_epi32(rel, seven), _mm256_cmpgt_epi32(zero, rel)))) break;
    const __m256i c0 =
        _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(col + base)), rel);
    const __m256i c1 =
        _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(col + base + 1)), rel);
    __m256i v = _mm256_add_epi32(_mm256_mullo_epi32(c0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xw0 + x))),
                                 _mm256_mullo_epi32(c1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xw + x))));
    v = _mm256_srai_epi32(_mm256_add_epi32(v, half16), 16);                        // 0..255
    v = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(v, va), half8), 8);  // 0..255
    const __m128i w16 = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + x), _mm_packus_epi16(w16, w16));
  }
  return x;
}
const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
#endif

// One output row of the bilinear upsample: col holds the row's blend of two low-res rows (x 256), and 8 readable
// entries past its cells (the 8-wide loads).
BTY_MASK_CLONES void upsample_row(const int32_t* col, const int* xi, const int* xw0, const int* xw, int a8, int width,
                                  uint8_t* dst) {
  int x0 = 0;
#if defined(__GNUC__) && defined(__x86_64__)
  if (kHaveAvx2) x0 = upsample_row_avx2(col, xi, xw0, xw, a8, width, dst);
#endif
  for (int x = x0; x < width; ++x) {
    const int val = (col[xi[x]] * xw0[x] + col[xi[x] + 1] * xw[x] + (1 << 15)) >> 16;  // 0..255
    dst[x] = uint8_t((val * a8 + 128) >> 8);
  }
}

}  // namespace

// Box blur, horizontal then vertical. The horizontal pass is the vertical one on the transposed image: a running
// sum along a row is one long dependency chain, while sums down columns run side by side (3-4x faster on the
// mask's grids; the same bytes).
void box_blur(uint8_t* img, int w, int h, int r) {
  if (r <= 0 || w <= 0 || h <= 0) return;
  std::vector<uint8_t> t(size_t(w) * h), src;
  std::vector<uint32_t> acc;
  transpose(img, w, h, t.data());
  blur_columns(t.data(), h, w, r, src, acc);
  transpose(t.data(), h, w, img);
  blur_columns(img, w, h, r, src, acc);
}

SkinShape skin_shape(const Landmarks& lm, float face_size, const MaskParams& mp) {
  SkinShape s;
  const FaceAxes ax = face_axes(lm);
  const float fs = std::max(face_size, 1.f);
  s.feather = std::max(1.f, mp.feather * fs);
  s.hole_feather = std::max(5.f, mp.hole_feather * fs);  // two 3-tap box passes are the narrowest ramp: 5 px
  const float clear = 0.5f * s.hole_feather + 1.f;  // the hole ramp ends (mask 0) this far out of its polygon, + 1 px

  // Outline: jaw 0..16, then temples and a forehead arc above the brows (roll-aware via the up axis).
  const float fh = mp.forehead * ax.eye_to_chin;
  const float half_w = std::max(1.f, 0.5f * std::abs((lm[16] - lm[0]).dot(ax.right)));
  for (int i = 0; i <= 16; ++i) s.outline.push_back(lm[i]);
  s.outline.push_back(lm[16] + ax.up * (0.2f * fh));
  for (int i = 26; i >= 17; --i) {
    const float t = std::min(1.f, std::abs((lm[i] - ax.eye_mid).dot(ax.right)) / half_w);
    s.outline.push_back(lm[i] + ax.up * (fh * (0.3f + 0.7f * std::sqrt(std::max(0.f, 1.f - t * t)))));
  }
  s.outline.push_back(lm[0] + ax.up * (0.2f * fh));

  auto poly_of = [&](int a, int b) {
    Polygon p;
    for (int i = a; i <= b; ++i) p.push_back(lm[i]);
    return p;
  };
  // Eyes (contours 36-41, 42-47) with room for lashes.
  s.holes.push_back(dilate_polygon(poly_of(36, 41), clear + 0.015f * fs));
  s.holes.push_back(dilate_polygon(poly_of(42, 47), clear + 0.015f * fs));
  // Brows: the 5-point polyline thickened along its own normal (the tail often bends down steeply), towards
  // the forehead and towards the lid, and lengthened at both ends.
  for (int b0 : {17, 22}) {
    Polygon top, bottom;
    for (int i = b0; i <= b0 + 4; ++i) {
      const V2 tangent = (lm[std::min(i + 1, b0 + 4)] - lm[std::max(i - 1, b0)]).normalized();
      V2 n(tangent.y(), -tangent.x());
      if (n.dot(ax.up) < 0) n = -n;
      V2 q = lm[i];
      if (i == b0) q -= tangent * (0.01f * fs + clear);
      if (i == b0 + 4) q += tangent * (0.01f * fs + clear);
      top.push_back(q + n * (0.025f * fs + clear));
      bottom.push_back(q - n * (0.02f * fs + clear));
    }
    top.insert(top.end(), bottom.rbegin(), bottom.rend());
    s.holes.push_back(top);
  }
  // Mouth: outer lip contour 48-59.
  s.holes.push_back(dilate_polygon(poly_of(48, 59), clear + 0.01f * fs));
  // Nostrils: just above the lower nose line 31-35, out to the alae.
  {
    const float a = 0.02f * fs, u = 0.035f * fs;
    Polygon p{lm[31] - ax.right * a,
              lm[32],
              lm[33],
              lm[34],
              lm[35] + ax.right * a,
              lm[35] + ax.right * a + ax.up * u,
              lm[33] + ax.up * (0.5f * u),
              lm[31] - ax.right * a + ax.up * u};
    s.holes.push_back(dilate_polygon(p, clear));
  }
  return s;
}

void render_mask(const SkinShape& shape, const Rect& roi, float alpha, std::vector<uint8_t>& out, float par) {
  out.assign(size_t(std::max(0, roi.width)) * std::max(0, roi.height), 0);
  if (roi.empty() || alpha <= 0.f) return;
  // Low-resolution grid: the narrow hole ramp spans ~3 cells, so the cost depends on the face size only weakly.
  const float g = std::max(1.f, std::floor(shape.hole_feather / 3.f));
  const int ro = std::max(1, int(std::lround(shape.feather / (4.f * g))));  // two passes: ramp ~ 4r+1 cells
  const int rh = std::max(1, int(std::lround(shape.hole_feather / (4.f * g))));
  const int margin = 2 * std::max(ro, rh) + 2;
  // Cells are g square px: gx frame px across, g down. Cell c covers frame pixels [roi.x - margin*gx + c*gx, ...);
  // landmarks put pixel centres on integers, hence -0.5.
  const float gx = g / par;
  const V2 origin((roi.x - margin * gx - 0.5f) * par, roi.y - margin * g - 0.5f);
  const int lw = int(std::ceil(roi.width / gx)) + 2 * margin + 1, lh = int(std::ceil(roi.height / g)) + 2 * margin + 1;
  std::vector<uint8_t> low(size_t(lw) * lh, 0), holes(size_t(lw) * lh, 0);
  fill_polygon(low.data(), lw, lh, lw, shape.outline, 255, origin, g);
  for (const Polygon& hole : shape.holes) fill_polygon(holes.data(), lw, lh, lw, hole, 255, origin, g);
  box_blur(low.data(), lw, lh, ro);
  box_blur(low.data(), lw, lh, ro);
  box_blur(holes.data(), lw, lh, rh);
  box_blur(holes.data(), lw, lh, rh);
  for (size_t i = 0; i < low.size(); ++i) low[i] = uint8_t((low[i] * (255 - holes[i]) + 127) / 255);

  const int a8 = int(std::lround(std::min(1.f, alpha) * 256.f));
  if (g == 1.f && par == 1.f) {
    for (int y = 0; y < roi.height; ++y) {
      const uint8_t* src = low.data() + size_t(y + margin) * lw + margin;
      uint8_t* dst = out.data() + size_t(y) * roi.width;
      for (int x = 0; x < roi.width; ++x) dst[x] = uint8_t((src[x] * a8 + 128) >> 8);
    }
    return;
  }
  // Bilinear upsample, 8-bit fixed-point weights; low-res cell c covers frame px [origin + c*g, origin + (c+1)*g).
  std::vector<int> xi(roi.width), xw(roi.width);
  for (int x = 0; x < roi.width; ++x) {
    const float u = (x + 0.5f) / gx + margin - 0.5f;
    const int i = std::min(std::max(int(std::floor(u)), 0), lw - 2);
    xi[x] = i;
    xw[x] = std::min(256, std::max(0, int(std::lround((u - i) * 256.f))));
  }
  // Separable: each output row first blends its two low-res rows (exact integers, so the result is the same as the
  // 2-D bilinear sum), then each pixel blends two of those. Rows whose two low-res rows are all 0 (above and below
  // the face) are left 0. No per-cell branches: with cells of 2-3 px they cost more than the arithmetic.
  std::vector<int32_t> col(static_cast<size_t>(lw) + 8);  // + what upsample_row's 8-wide loads read past lw
  std::vector<int> xw0(xw.size());
  for (size_t x = 0; x < xw.size(); ++x) xw0[x] = 256 - xw[x];
  for (int y = 0; y < roi.height; ++y) {
    const float v = (y + 0.5f) / g + margin - 0.5f;
    const int j = std::min(std::max(int(std::floor(v)), 0), lh - 2);
    const int wy = std::min(256, std::max(0, int(std::lround((v - j) * 256.f))));
    const uint8_t* r0 = low.data() + size_t(j) * lw;
    const uint8_t* r1 = r0 + lw;
    int32_t any = 0;
    for (int i = 0; i < lw; ++i) any |= col[size_t(i)] = r0[i] * (256 - wy) + r1[i] * wy;
    if (!any) continue;  // out is already 0
    upsample_row(col.data(), xi.data(), xw0.data(), xw.data(), a8, roi.width, out.data() + size_t(y) * roi.width);
  }
}

}  // namespace bty::face
