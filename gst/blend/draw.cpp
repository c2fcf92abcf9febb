#include "draw.h"

#include <algorithm>

namespace bty::blend {
namespace {

void put(const Frame& f, int x, int y, Colour8 c) {
  if (x < 0 || y < 0 || x >= f.width || y >= f.height) return;
  const bool gray = f.format == PixelFormat::GRAY8;
  if (!is_yuv(f.format) && !gray) {
    int r, g, b, bpp;
    packed_layout(f.format, r, g, b, bpp);
    uint8_t* p = f.plane[0] + size_t(y) * f.stride[0] + size_t(x) * bpp;
    p[r] = c.r;
    p[g] = c.g;
    p[b] = c.b;
    return;
  }
  const bool bt601 = gray || f.matrix == YuvMatrix::BT601, full = gray || f.full_range;
  const double kr = bt601 ? 0.299 : 0.2126;
  const double kb = bt601 ? 0.114 : 0.0722;
  const double yf = kr * c.r + (1 - kr - kb) * c.g + kb * c.b;
  const double cb = (c.b - yf) / (2 * (1 - kb)), cr = (c.r - yf) / (2 * (1 - kr));
  const double ys = full ? 1.0 : 219.0 / 255.0, cs = full ? 1.0 : 224.0 / 255.0;
  auto u8 = [](double v) { return uint8_t(std::clamp(int(v + 0.5), 0, 255)); };
  const uint8_t luma = u8(yf * ys + (full ? 0 : 16));
  if (gray) {
    f.plane[0][size_t(y) * f.stride[0] + x] = luma;
    return;
  }
  const YuvLayout L = yuv_layout(f.format);
  f.plane[0][size_t(y) * f.stride[0] + size_t(x) * L.luma_step + L.luma_offset] = luma;
  const int cx = x / 2, cy = y / L.chroma_rows;
  f.plane[L.cb_plane][size_t(cy) * f.stride[L.cb_plane] + size_t(cx) * L.chroma_step + L.cb_offset] = u8(128 + cb * cs);
  f.plane[L.cr_plane][size_t(cy) * f.stride[L.cr_plane] + size_t(cx) * L.chroma_step + L.cr_offset] = u8(128 + cr * cs);
}

}  // namespace

void draw_rect(const Frame& f, const Rect& r, Colour8 c) {
  for (int x = r.x; x < r.x + r.width; ++x) {
    put(f, x, r.y, c);
    put(f, x, r.y + r.height - 1, c);
  }
  for (int y = r.y; y < r.y + r.height; ++y) {
    put(f, r.x, y, c);
    put(f, r.x + r.width - 1, y, c);
  }
}

void draw_dot(const Frame& f, int x, int y, Colour8 c) {
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx) put(f, x + dx, y + dy, c);
}

void draw_mask_outline(const Frame& f, const Rect& roi, const uint8_t* mask, uint8_t level, Colour8 c) {
  if (!mask) return;
  auto m = [&](int x, int y) -> int {
    if (x < 0 || y < 0 || x >= roi.width || y >= roi.height) return 0;
    return mask[size_t(y) * roi.width + x];
  };
  for (int y = 0; y < roi.height; ++y)
    for (int x = 0; x < roi.width; ++x)
      if (m(x, y) > level &&
          (m(x - 1, y) <= level || m(x + 1, y) <= level || m(x, y - 1) <= level || m(x, y + 1) <= level))
        put(f, roi.x + x, roi.y + y, c);
}

}  // namespace bty::blend
