#include "draw.h"

#include <algorithm>

namespace bty::blend {
namespace {

void put(const Frame& f, int x, int y, Colour8 c) {
  if (x < 0 || y < 0 || x >= f.width || y >= f.height) return;
  if (!is_yuv(f.format)) {
    int r, g, b, bpp;
    packed_layout(f.format, r, g, b, bpp);
    uint8_t* p = f.plane[0] + size_t(y) * f.stride[0] + size_t(x) * bpp;
    p[r] = c.r;
    p[g] = c.g;
    p[b] = c.b;
    return;
  }
  const double kr = f.matrix == YuvMatrix::BT601 ? 0.299 : 0.2126;
  const double kb = f.matrix == YuvMatrix::BT601 ? 0.114 : 0.0722;
  const double yf = kr * c.r + (1 - kr - kb) * c.g + kb * c.b;
  const double cb = (c.b - yf) / (2 * (1 - kb)), cr = (c.r - yf) / (2 * (1 - kr));
  const double ys = f.full_range ? 1.0 : 219.0 / 255.0, cs = f.full_range ? 1.0 : 224.0 / 255.0;
  auto u8 = [](double v) { return uint8_t(std::clamp(int(v + 0.5), 0, 255)); };
  f.plane[0][size_t(y) * f.stride[0] + x] = u8(yf * ys + (f.full_range ? 0 : 16));
  const bool semi = f.format == PixelFormat::NV12 || f.format == PixelFormat::NV21;
  const bool swap = f.format == PixelFormat::YV12 || f.format == PixelFormat::NV21;
  const int cx = x / 2, cy = y / 2;
  const uint8_t v[2] = {u8(128 + cb * cs), u8(128 + cr * cs)};
  for (int k = 0; k < 2; ++k) {
    const int plane = semi ? 1 : 1 + (k ^ int(swap));
    f.plane[plane][size_t(cy) * f.stride[plane] + (semi ? size_t(cx) * 2 + (k ^ int(swap)) : size_t(cx))] = v[k];
  }
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
