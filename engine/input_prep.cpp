#include "input_prep.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

namespace bty {
bool is_yuv(PixelFormat f) {
  switch (f) {
    case PixelFormat::I420:
    case PixelFormat::YV12:
    case PixelFormat::NV12:
    case PixelFormat::NV21:
    case PixelFormat::YUY2:
    case PixelFormat::UYVY:
    case PixelFormat::YVYU: return true;
    default: return false;
  }
}

YuvLayout yuv_layout(PixelFormat f) {
  YuvLayout l;
  switch (f) {
    case PixelFormat::YV12:
      l.cb_plane = 2;
      l.cr_plane = 1;
      break;
    case PixelFormat::NV12:
      l.cb_plane = l.cr_plane = 1;
      l.chroma_step = 2;
      l.cr_offset = 1;
      break;
    case PixelFormat::NV21:
      l.cb_plane = l.cr_plane = 1;
      l.chroma_step = 2;
      l.cb_offset = 1;
      break;
    case PixelFormat::YUY2:
    case PixelFormat::UYVY:
    case PixelFormat::YVYU:
      l.luma_step = 2;
      l.chroma_rows = 1;
      l.cb_plane = l.cr_plane = 0;
      l.chroma_step = 4;
      l.luma_offset = f == PixelFormat::UYVY ? 1 : 0;
      l.cb_offset = f == PixelFormat::YUY2 ? 1 : f == PixelFormat::UYVY ? 0 : 3;
      l.cr_offset = f == PixelFormat::YUY2 ? 3 : f == PixelFormat::UYVY ? 2 : 1;
      break;
    default: break;  // I420
  }
  return l;
}

void packed_layout(PixelFormat f, int& r, int& g, int& b, int& bpp) {
  bpp = 4;
  switch (f) {
    case PixelFormat::RGBA:
    case PixelFormat::RGBx:
      r = 0;
      g = 1;
      b = 2;
      break;
    case PixelFormat::BGRA:
    case PixelFormat::BGRx:
      r = 2;
      g = 1;
      b = 0;
      break;
    case PixelFormat::ARGB:
    case PixelFormat::xRGB:
      r = 1;
      g = 2;
      b = 3;
      break;
    case PixelFormat::ABGR:
    case PixelFormat::xBGR:
      r = 3;
      g = 2;
      b = 1;
      break;
    case PixelFormat::RGB:
      r = 0;
      g = 1;
      b = 2;
      bpp = 3;
      break;
    case PixelFormat::BGR:
      r = 2;
      g = 1;
      b = 0;
      bpp = 3;
      break;
    default:
      r = g = b = 0;
      bpp = 1;
      break;  // GRAY8
  }
}

ImageInput::ImageInput(const ImageView& image, const Rect& roi, int width, int height, const ModelInfo& info,
                       ColourRowFn colour_row)
    : img_(image), width_(width), height_(height), yuv_(is_yuv(image.format)), colour_row_(colour_row) {
  check(image, roi);
  if (yuv_) {
    layout_ = yuv_layout(image.format);
    cshift_x_ = 1;
    cshift_y_ = layout_.chroma_rows == 2 ? 1 : 0;
  }
  // Pixel-centre aligned bilinear taps along one axis, clamped to [0, n).
  auto taps = [](int out_n, double start, double span, int n, int shift) {
    std::vector<Tap> t(out_n);
    double scale = span / out_n;
    for (int i = 0; i < out_n; ++i) {
      double s = (start + (i + 0.5) * scale) / (1 << shift) - 0.5;
      s = std::clamp(s, 0.0, double(n - 1));
      int i0 = int(std::floor(s));
      int i1 = std::min(i0 + 1, n - 1);
      t[i] = {i0, i1, float(s - i0)};
    }
    return t;
  };
  tx_ = taps(width, roi.x, roi.width, image.width, 0);
  ty_ = taps(height, roi.y, roi.height, image.height, 0);
  auto gather_taps = [](const std::vector<Tap>& t, int step, GatherTaps& g) {
    for (const Tap& k : t) {
      g.o0.push_back(k.i0 * step);
      g.o1.push_back(k.i1 * step);
      g.w1.push_back(k.w1);
    }
  };
  if (!yuv_) {  // packed RGB, GRAY8: pixel byte offsets (the channel's offset is added to the row)
    int r, g, b, bpp;
    packed_layout(image.format, r, g, b, bpp);
    gather_taps(tx_, bpp, gather_taps_[0]);
  }
  if (yuv_) {
    int cw = (image.width + 1) / 2, chh = (image.height + cshift_y_) >> cshift_y_;
    tcx_ = taps(width, roi.x, roi.width, cw, 1);
    tcy_ = taps(height, roi.y, roi.height, chh, cshift_y_);
    // The horizontal taps as byte offsets in a row, for the gathering loops.
    gather_taps(tx_, layout_.luma_step, gather_taps_[0]);
    gather_taps(tcx_, layout_.chroma_step, gather_taps_[1]);
    // Kr/Kb of the matrix; limited range scales Y by 255/219 and chroma by 255/224.
    double kr = image.matrix == YuvMatrix::BT601 ? 0.299 : 0.2126;
    double kb = image.matrix == YuvMatrix::BT601 ? 0.114 : 0.0722;
    double kg = 1 - kr - kb;
    const double ymul = image.full_range ? 1.0 : 255.0 / 219.0, cmul = image.full_range ? 1.0 : 255.0 / 224.0;
    ColourParams& p = colour_;
    p.off[0] = image.full_range ? 0.0f : 16.0f;
    p.off[1] = p.off[2] = 128;
    if (info.colour == Colour::RGB) {  // R = Y + a*Cr; G = Y - b*Cb - c*Cr; B = Y + d*Cb
      const double m[3][3] = {
          {1, 0, 2 * (1 - kr)}, {1, -2 * (1 - kb) * kb / kg, -2 * (1 - kr) * kr / kg}, {1, 2 * (1 - kb), 0}};
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) p.m[r][c] = float(m[r][c] * (c ? cmul : ymul));
      p.clamp = true;
    } else {  // YCbCr out: only the range expansion
      p.m[0][0] = float(ymul);
      p.m[1][1] = p.m[2][2] = float(cmul);
      p.add[1] = p.add[2] = 128;
    }
  } else if (info.colour == Colour::YCbCr) {  // BT.601 full range, as docs/model-format.md says
    const float y[3] = {0.299f, 0.587f, 0.114f};
    for (int c = 0; c < 3; ++c) {
      colour_.m[0][c] = y[c];
      colour_.m[1][c] = 0.564f * ((c == 2) - y[c]);
      colour_.m[2][c] = 0.713f * ((c == 0) - y[c]);
    }
    colour_.add[1] = colour_.add[2] = 128;
  }
  colour_.scale = info.input_scale;
  colour_.bias = info.input_bias;
}

#if defined(__GNUC__) && defined(__x86_64__)
namespace {
const bool kHaveAvx2 = __builtin_cpu_supports("avx2");

// Bilinear samples of two byte rows, 8 net pixels at a time, into out[x - x0]: each tap's byte read by a 32-bit
// gather at its byte offset (the 3 bytes after it are read and dropped: the caller makes sure they lie inside the
// image, in the next row). The same float operations in the same order as the scalar loop (no FMA), so the same
// floats. Returns where it stopped.
__attribute__((target("avx2"))) inline __m256 lerp(__m256i p, __m256i q, __m256 w) {  // p + w × (q − p)
  return _mm256_add_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(w, _mm256_cvtepi32_ps(_mm256_sub_epi32(q, p))));
}

__attribute__((target("avx2"))) int lerp_rows_avx2(const uint8_t* r0, const uint8_t* r1, const int32_t* o0,
                                                   const int32_t* o1, const float* wx, float wy, int x0, int x1,
                                                   float* out) {
  const __m256i low = _mm256_set1_epi32(0xFF);
  const __m256 vy = _mm256_set1_ps(wy);
  const int* b0 = reinterpret_cast<const int*>(r0);
  const int* b1 = reinterpret_cast<const int*>(r1);
  int x = x0;
  for (; x + 8 <= x1; x += 8) {
    const __m256i i0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(o0 + x));
    const __m256i i1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(o1 + x));
    const __m256 w = _mm256_loadu_ps(wx + x);
    const __m256 a = lerp(_mm256_and_si256(_mm256_i32gather_epi32(b0, i0, 1), low),
                          _mm256_and_si256(_mm256_i32gather_epi32(b0, i1, 1), low), w);
    const __m256 b = lerp(_mm256_and_si256(_mm256_i32gather_epi32(b1, i0, 1), low),
                          _mm256_and_si256(_mm256_i32gather_epi32(b1, i1, 1), low), w);
    _mm256_storeu_ps(out + (x - x0), _mm256_add_ps(a, _mm256_mul_ps(vy, _mm256_sub_ps(b, a))));
  }
  return x;
}
}  // namespace
#endif

void ImageInput::sample_luma_chroma(int y, int x0, int x1, float* out, int stride) const {
  const YuvLayout& L = layout_;
  const int chroma_rows = (img_.height + cshift_y_) >> cshift_y_;
  for (int c = 0; c < 3; ++c) {  // Y, Cb, Cr
    const Tap ry = c ? tcy_[y] : ty_[y];
    const int plane = c == 0 ? 0 : c == 1 ? L.cb_plane : L.cr_plane;
    const int off = c == 0 ? L.luma_offset : c == 1 ? L.cb_offset : L.cr_offset;
    const int step = c ? L.chroma_step : L.luma_step;
    const std::vector<Tap>& tx = c ? tcx_ : tx_;
    const uint8_t* P0 = img_.plane[plane] + size_t(ry.i0) * img_.stride[plane] + off;
    const uint8_t* P1 = img_.plane[plane] + size_t(ry.i1) * img_.stride[plane] + off;
    float* o = out + c * stride;
    int x = x0;
#if defined(__GNUC__) && defined(__x86_64__)
    // The gathers' extra bytes lie in the next row (rows of >= 8 pixels hold them): not for the plane's last row.
    if (kHaveAvx2 && img_.width >= 8 && ry.i1 < (c ? chroma_rows : img_.height) - 1) {
      const GatherTaps& g = gather_taps_[c ? 1 : 0];
      x = lerp_rows_avx2(P0, P1, g.o0.data(), g.o1.data(), g.w1.data(), ry.w1, x0, x1, o);
    }
#endif
    for (; x < x1; ++x) {
      const Tap t = tx[x];
      float a = P0[t.i0 * step] + t.w1 * (P0[t.i1 * step] - P0[t.i0 * step]);
      float b = P1[t.i0 * step] + t.w1 * (P1[t.i1 * step] - P1[t.i0 * step]);
      o[x - x0] = a + ry.w1 * (b - a);
    }
  }
}

void ImageInput::sample_rgb(int y, int x0, int x1, float* out, int stride) const {
  int r, g, b, bpp;
  packed_layout(img_.format, r, g, b, bpp);
  const Tap ry = ty_[y];
  const uint8_t* P0 = img_.plane[0] + size_t(ry.i0) * img_.stride[0];
  const uint8_t* P1 = img_.plane[0] + size_t(ry.i1) * img_.stride[0];
  const int off[3] = {r, g, b};
  for (int c = 0; c < 3; ++c) {
    float* o = out + c * stride;
    int x = x0;
#if defined(__GNUC__) && defined(__x86_64__)
    // As for YUV: the gathers' extra bytes lie in the next row; not for the image's last row.
    if (kHaveAvx2 && img_.width >= 8 && ry.i1 < img_.height - 1) {
      const GatherTaps& gt = gather_taps_[0];
      x = lerp_rows_avx2(P0 + off[c], P1 + off[c], gt.o0.data(), gt.o1.data(), gt.w1.data(), ry.w1, x0, x1, o);
    }
#endif
    for (; x < x1; ++x) {
      const Tap t = tx_[x];
      const uint8_t *p00 = P0 + t.i0 * bpp + off[c], *p01 = P0 + t.i1 * bpp + off[c];
      const uint8_t *p10 = P1 + t.i0 * bpp + off[c], *p11 = P1 + t.i1 * bpp + off[c];
      float a = *p00 + t.w1 * (*p01 - *p00);
      float bb = *p10 + t.w1 * (*p11 - *p10);
      o[x - x0] = a + ry.w1 * (bb - a);
    }
  }
}

void ImageInput::row(int y, int x0, int x1, float* out, int stride) const {
  if (yuv_)
    sample_luma_chroma(y, x0, x1, out, stride);
  else
    sample_rgb(y, x0, x1, out, stride);  // GRAY8: all three channels read the grey byte
  colour_row_(out, stride, x1 - x0, colour_);
}

namespace gathered {
size_t capacity(int width, int height) {
  const size_t taps = size_t(2 * width + 2 * height) * 3 * sizeof(int32_t);
  return kHeaderWords * sizeof(int32_t) + taps + 3 * size_t(2 * width) * size_t(2 * height);
}
}  // namespace gathered

namespace {
// The distinct sample indices an axis's taps read (ascending), and the taps re-indexed into that list. Through a
// dense index over the taps' span (at most the frame's width or height): a sort and a binary search per tap made
// this ~0.1 ms of a batch-1 run, as much as the face's copy.
struct CompactAxis {
  std::vector<int> src;
  std::vector<int32_t> taps;  // {i0, i1, w1 bits} per net pixel
};
template <class Tap>
CompactAxis compact(const std::vector<Tap>& t) {
  CompactAxis a;
  if (t.empty()) return a;
  int lo = std::numeric_limits<int>::max(), hi = std::numeric_limits<int>::min();
  for (const Tap& k : t) lo = std::min({lo, k.i0, k.i1}), hi = std::max({hi, k.i0, k.i1});
  std::vector<int32_t> index(size_t(hi - lo) + 1, -1);
  for (const Tap& k : t) index[size_t(k.i0 - lo)] = index[size_t(k.i1 - lo)] = 0;
  for (int i = lo; i <= hi; ++i)
    if (index[size_t(i - lo)] == 0) {
      index[size_t(i - lo)] = int32_t(a.src.size());
      a.src.push_back(i);
    }
  a.taps.reserve(3 * t.size());
  for (const Tap& k : t) {
    int32_t w;
    std::memcpy(&w, &k.w1, 4);
    a.taps.insert(a.taps.end(), {index[size_t(k.i0 - lo)], index[size_t(k.i1 - lo)], w});
  }
  return a;
}
}  // namespace

void ImageInput::check(const ImageView& image, const Rect& roi) {
  if (image.width < 1 || image.height < 1 || !image.plane[0]) throw std::invalid_argument("set_input: empty image");
  if (roi.width < 1 || roi.height < 1) throw std::invalid_argument("set_input: empty ROI");
  if (is_yuv(image.format)) {
    const YuvLayout L = yuv_layout(image.format);
    for (int p : {L.cb_plane, L.cr_plane})
      if (!image.plane[p]) throw std::invalid_argument("set_input: missing plane");
  }
}

size_t ImageInput::gather(uint8_t* dst) const {
  const GatherPlan p = plan_gather(dst);
  p.copy_rows(dst);
  return p.bytes;
}

ImageInput::GatherPlan ImageInput::plan_gather(uint8_t* dst) const {
  using namespace gathered;
  int32_t* h = reinterpret_cast<int32_t*>(dst);
  std::fill(h, h + kHeaderWords, 0);
  h[kMode] = yuv_ ? kYuv : kRgb;
  const CompactAxis ax = compact(tx_), ay = compact(ty_);
  CompactAxis acx, acy;
  if (yuv_) acx = compact(tcx_), acy = compact(tcy_);
  size_t at = kHeaderWords * sizeof(int32_t);
  auto table = [&](const CompactAxis& a, int word) {
    h[word] = int32_t(at);
    std::memcpy(dst + at, a.taps.data(), a.taps.size() * 4);
    at += a.taps.size() * 4;
  };
  table(ax, kTapX);
  table(ay, kTapY);
  if (yuv_) {
    table(acx, kTapCX);
    table(acy, kTapCY);
  } else {
    h[kTapCX] = h[kTapX];
    h[kTapCY] = h[kTapY];
  }
  // One compact plane: row r, column c = the byte at base + src_row * stride + src_col * step. The columns come as
  // runs of consecutive indices (one run when the face is at least twice the net's size: every column is tapped),
  // copied with memcpy where the samples are adjacent bytes (copy_rows).
  GatherPlan p;
  auto plane = [&](int k, const CompactAxis& cols, const CompactAxis& rows, const uint8_t* base, int stride, int step) {
    GatherPlan::Plane& q = p.plane[k];
    h[kPlane + k] = int32_t(at);
    h[kPitch + k] = int32_t(cols.src.size());
    q.base = base;
    q.stride = stride;
    q.step = step;
    q.at = at;
    q.pitch = cols.src.size();
    q.rows = rows.src;
    for (int c : cols.src) {
      if (!q.runs.empty() && q.runs.back().first + q.runs.back().second == c)
        ++q.runs.back().second;
      else
        q.runs.emplace_back(c, 1);
    }
    at += q.pitch * q.rows.size();
  };
  if (yuv_) {
    const YuvLayout& L = layout_;
    plane(0, ax, ay, img_.plane[0] + L.luma_offset, img_.stride[0], L.luma_step);
    plane(1, acx, acy, img_.plane[L.cb_plane] + L.cb_offset, img_.stride[L.cb_plane], L.chroma_step);
    plane(2, acx, acy, img_.plane[L.cr_plane] + L.cr_offset, img_.stride[L.cr_plane], L.chroma_step);
  } else {
    int r, g, b, bpp;
    packed_layout(img_.format, r, g, b, bpp);
    const int off[3] = {r, g, b};
    for (int c = 0; c < 3; ++c) plane(c, ax, ay, img_.plane[0] + off[c], img_.stride[0], bpp);
  }
  auto put = [&](int word, float v) { std::memcpy(&h[word], &v, 4); };
  for (int c = 0; c < 3; ++c) {
    put(kOff + c, colour_.off[c]);
    put(kAdd + c, colour_.add[c]);
    for (int k = 0; k < 3; ++k) put(kM + 3 * c + k, colour_.m[c][k]);
  }
  h[kClamp] = colour_.clamp;
  put(kScale, colour_.scale);
  put(kBias, colour_.bias);
  p.bytes = at;
  return p;
}

// A byte-by-byte gather cost ~0.4 ms per 4:2:0 face of twice tier L's size, a third of that tier's whole GPU run at
// 16 faces: adjacent samples go by memcpy.
void ImageInput::GatherPlan::copy_rows(uint8_t* dst) const {
  for (const Plane& q : plane) {
    uint8_t* d = dst + q.at;
    for (int row : q.rows) {
      const uint8_t* s = q.base + size_t(row) * q.stride;
      for (const auto& [c0, len] : q.runs) {
        if (q.step == 1) {
          std::memcpy(d, s + c0, size_t(len));
          d += len;
        } else {
          for (int c = c0; c < c0 + len; ++c) *d++ = s[size_t(c) * q.step];
        }
      }
    }
  }
}

void PlanarInput::row(int y, int x0, int x1, float* out, int stride) const {
  for (int c = 0; c < 3; ++c)
    std::copy(p_ + (size_t(c) * h_ + y) * w_ + x0, p_ + (size_t(c) * h_ + y) * w_ + x1, out + c * stride);
}

}  // namespace bty
