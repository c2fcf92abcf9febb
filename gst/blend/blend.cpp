#include "blend.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

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

// Ordered dither instead of round-to-nearest: the feathered mask makes many deltas a fraction of a code value, and
// rounding each to nearest would drop every |delta| < 0.5 (on YUV frames most chroma corrections are that small).
// floor(v + delta + t) with t from a 4×4 Bayer matrix keeps the mean of the delta over each 4×4 block; the pattern is
// fixed to frame positions (no temporal noise) and a zero delta never changes a pixel (t < 1).
constexpr float kBayer4[4][4] = {{0.5f / 16, 8.5f / 16, 2.5f / 16, 10.5f / 16},
                                 {12.5f / 16, 4.5f / 16, 14.5f / 16, 6.5f / 16},
                                 {3.5f / 16, 11.5f / 16, 1.5f / 16, 9.5f / 16},
                                 {15.5f / 16, 7.5f / 16, 13.5f / 16, 5.5f / 16}};

inline uint8_t blend_px(uint8_t v, float w, float d, float t) {
  float o = float(v) + w * d + t;  // truncation = floor for o >= 0; negatives clamp to 0 either way
  int i = int(o);
  return uint8_t(i < 0 ? 0 : (i > 255 ? 255 : i));
}

// The layer's three planes converted (linearly, so before upsampling) to 8-bit code deltas in the frame's space:
// R,G,B for packed RGB frames; Y,Cb,Cr in the frame's matrix and range for YUV frames.
std::vector<float> to_frame_space(const Frame& f, const Layer& L) {
  const size_t n = size_t(L.width) * L.height;
  std::vector<float> out(3 * n);
  const float* a = L.chw;
  const float* b = L.chw + n;
  const float* c = L.chw + 2 * n;
  float m[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  if (is_yuv(f.format)) {
    const double kr = f.matrix == YuvMatrix::BT601 ? 0.299 : 0.2126;
    const double kb = f.matrix == YuvMatrix::BT601 ? 0.114 : 0.0722;
    const double kg = 1 - kr - kb;
    const double ys = f.full_range ? 1.0 : 219.0 / 255.0, cs = f.full_range ? 1.0 : 224.0 / 255.0;
    if (L.colour == Colour::RGB) {
      const double cb = 0.5 / (1 - kb), cr = 0.5 / (1 - kr);
      const double rows[3][3] = {{kr, kg, kb},
                                 {-kr * cb, -kg * cb, (1 - kb) * cb},
                                 {(1 - kr) * cr, -kg * cr, -kb * cr}};
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
  for (int i = 0; i < 3; ++i) {
    const float k0 = m[i][0] * L.scale, k1 = m[i][1] * L.scale, k2 = m[i][2] * L.scale;
    float* o = out.data() + i * n;
    for (size_t p = 0; p < n; ++p) o[p] = k0 * a[p] + k1 * b[p] + k2 * c[p];
  }
  return out;
}

// Vertically interpolated layer row (one plane) for centre coordinate cy, into row[0..L.width).
inline void layer_row(const float* plane, const Layer& L, double cy, float* row) {
  const Tap t = tap_at(cy, L.area.y, L.area.height, L.height);
  const float* r0 = plane + size_t(t.i0) * L.width;
  const float* r1 = plane + size_t(t.i1) * L.width;
  for (int i = 0; i < L.width; ++i) row[i] = r0[i] + t.w1 * (r1[i] - r0[i]);
}

void apply_rgb(const Frame& f, const Rect& roi, const uint8_t* mask, int mask_stride, const Rect& full_roi,
               const Layer& L, const std::vector<float>& D, float strength) {
  int ro, go, bo, bpp;
  packed_layout(f.format, ro, go, bo, bpp);
  const int off[3] = {ro, go, bo};
  const size_t n = size_t(L.width) * L.height;
  std::vector<Tap> tx(roi.width);
  for (int x = 0; x < roi.width; ++x) tx[x] = tap_at(roi.x + x + 0.5, L.area.x, L.area.width, L.width);
  std::vector<float> rows(3 * size_t(L.width));
  const float wk = strength / 255.f;
  for (int y = roi.y; y < roi.y + roi.height; ++y) {
    const uint8_t* m = mask + size_t(y - full_roi.y) * mask_stride + (roi.x - full_roi.x);
    bool any = false;
    for (int x = 0; x < roi.width && !any; ++x) any = m[x] != 0;
    if (!any) continue;
    for (int c = 0; c < 3; ++c) layer_row(D.data() + c * n, L, y + 0.5, rows.data() + c * L.width);
    uint8_t* p = f.plane[0] + size_t(y) * f.stride[0] + size_t(roi.x) * bpp;
    const float* dither = kBayer4[y & 3];
    for (int x = 0; x < roi.width; ++x, p += bpp) {
      if (!m[x]) continue;
      const float w = m[x] * wk, th = dither[(roi.x + x) & 3];
      const Tap t = tx[x];
      for (int c = 0; c < 3; ++c) {
        const float* r = rows.data() + c * L.width;
        p[off[c]] = blend_px(p[off[c]], w, r[t.i0] + t.w1 * (r[t.i1] - r[t.i0]), th);
      }
    }
  }
}

void apply_yuv(const Frame& f, const Rect& roi, const uint8_t* mask, int mask_stride, const Rect& full_roi,
               const Layer& L, const std::vector<float>& D, float strength) {
  const size_t n = size_t(L.width) * L.height;
  const float wk = strength / 255.f;
  std::vector<float> row(L.width);
  // Luma at full resolution.
  {
    std::vector<Tap> tx(roi.width);
    for (int x = 0; x < roi.width; ++x) tx[x] = tap_at(roi.x + x + 0.5, L.area.x, L.area.width, L.width);
    for (int y = roi.y; y < roi.y + roi.height; ++y) {
      const uint8_t* m = mask + size_t(y - full_roi.y) * mask_stride + (roi.x - full_roi.x);
      bool any = false;
      for (int x = 0; x < roi.width && !any; ++x) any = m[x] != 0;
      if (!any) continue;
      layer_row(D.data(), L, y + 0.5, row.data());
      uint8_t* p = f.plane[0] + size_t(y) * f.stride[0] + roi.x;
      const float* dither = kBayer4[y & 3];
      for (int x = 0; x < roi.width; ++x) {
        if (!m[x]) continue;
        const Tap t = tx[x];
        p[x] = blend_px(p[x], m[x] * wk, row[t.i0] + t.w1 * (row[t.i1] - row[t.i0]), dither[(roi.x + x) & 3]);
      }
    }
  }
  // Chroma: each sample covers the 2×2 luma block (2cx..2cx+1, 2cy..2cy+1) ∩ frame; its weight is the mean of the
  // mask over the block's in-frame pixels (0 outside the ROI), its delta is sampled at the block centre.
  const int cw = (f.width + 1) / 2, ch = (f.height + 1) / 2;
  const int cx0 = roi.x / 2, cx1 = std::min(cw, (roi.x + roi.width + 1) / 2);
  const int cy0 = roi.y / 2, cy1 = std::min(ch, (roi.y + roi.height + 1) / 2);
  const bool semi = f.format == PixelFormat::NV12 || f.format == PixelFormat::NV21;
  const bool swap = f.format == PixelFormat::YV12 || f.format == PixelFormat::NV21;
  std::vector<Tap> tcx(cx1 - cx0);
  std::vector<float> wcx(cx1 - cx0);
  for (int cx = cx0; cx < cx1; ++cx) {
    const int lx0 = 2 * cx, lx1 = std::min(2 * cx + 2, f.width);
    tcx[cx - cx0] = tap_at(0.5 * (lx0 + lx1), L.area.x, L.area.width, L.width);
  }
  auto mask_at = [&](int x, int y) -> int {
    if (x < roi.x || x >= roi.x + roi.width || y < roi.y || y >= roi.y + roi.height) return 0;
    return mask[size_t(y - full_roi.y) * mask_stride + (x - full_roi.x)];
  };
  std::vector<float> rows(2 * size_t(L.width));
  for (int cy = cy0; cy < cy1; ++cy) {
    const int ly0 = 2 * cy, ly1 = std::min(2 * cy + 2, f.height);
    bool rows_ready = false;
    for (int cx = cx0; cx < cx1; ++cx) {
      const int lx0 = 2 * cx, lx1 = std::min(2 * cx + 2, f.width);
      int sum = 0;
      for (int y = ly0; y < ly1; ++y)
        for (int x = lx0; x < lx1; ++x) sum += mask_at(x, y);
      if (!sum) continue;
      if (!rows_ready) {
        for (int c = 0; c < 2; ++c)
          layer_row(D.data() + (c + 1) * n, L, 0.5 * (ly0 + ly1), rows.data() + c * L.width);
        rows_ready = true;
      }
      const float w = float(sum) / float((ly1 - ly0) * (lx1 - lx0)) * wk;
      const Tap t = tcx[cx - cx0];
      for (int c = 0; c < 2; ++c) {  // c = 0: Cb (U), 1: Cr (V)
        const float* r = rows.data() + c * L.width;
        const float d = r[t.i0] + t.w1 * (r[t.i1] - r[t.i0]);
        const int plane = semi ? 1 : 1 + (c ^ int(swap));
        uint8_t* p = f.plane[plane] + size_t(cy) * f.stride[plane] +
                     (semi ? size_t(cx) * 2 + (c ^ int(swap)) : size_t(cx));
        *p = blend_px(*p, w, d, kBayer4[cy & 3][cx & 3]);
      }
    }
  }
}

}  // namespace

void apply(const Frame& f, const Rect& full_roi, const uint8_t* mask, const Layer& L, float strength) {
  if (!(strength > 0.f) || !mask || f.width < 1 || f.height < 1) return;
  if (L.channels != 3 || L.width < 1 || L.height < 1 || L.area.width < 1 || L.area.height < 1 || !L.chw)
    throw std::invalid_argument("blend: the retouch layer needs 3 channels and a non-empty area");
  if (f.format == PixelFormat::GRAY8) throw std::invalid_argument("blend: GRAY8 frames are not supported");
  Rect roi;
  roi.x = std::max(0, full_roi.x);
  roi.y = std::max(0, full_roi.y);
  roi.width = std::min(f.width, full_roi.x + full_roi.width) - roi.x;
  roi.height = std::min(f.height, full_roi.y + full_roi.height) - roi.y;
  if (roi.width < 1 || roi.height < 1) return;
  strength = std::min(strength, 1.f);
  const std::vector<float> D = to_frame_space(f, L);
  if (is_yuv(f.format))
    apply_yuv(f, roi, mask, full_roi.width, full_roi, L, D, strength);
  else
    apply_rgb(f, roi, mask, full_roi.width, full_roi, L, D, strength);
}

}  // namespace bty::blend
