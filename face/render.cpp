#include "render.h"

#include <algorithm>
#include <cmath>

namespace bty::face {

using V2 = Eigen::Vector2f;

static void blend_px(Image& img, int x, int y, uint8_t r, uint8_t g, uint8_t b, int a256) {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  uint8_t* p = img.row(y) + 3 * x;
  p[0] = uint8_t((p[0] * (256 - a256) + r * a256) >> 8);
  p[1] = uint8_t((p[1] * (256 - a256) + g * a256) >> 8);
  p[2] = uint8_t((p[2] * (256 - a256) + b * a256) >> 8);
}

static void draw_rect(Image& img, const Rect& r, uint8_t cr, uint8_t cg, uint8_t cb) {
  for (int x = r.x; x < r.right(); ++x)
    blend_px(img, x, r.y, cr, cg, cb, 256), blend_px(img, x, r.bottom() - 1, cr, cg, cb, 256);
  for (int y = r.y; y < r.bottom(); ++y)
    blend_px(img, r.x, y, cr, cg, cb, 256), blend_px(img, r.right() - 1, y, cr, cg, cb, 256);
}

Image draw_overlay(const Image& in, const std::vector<Face>& faces) {
  Image img;
  if (in.channels == 3) {
    img = in;
  } else {
    img.width = in.width, img.height = in.height, img.channels = 3;
    img.data.resize(size_t(in.width) * in.height * 3);
    for (size_t i = 0; i < in.data.size(); ++i)
      img.data[3 * i] = img.data[3 * i + 1] = img.data[3 * i + 2] = in.data[i];
  }
  for (const Face& f : faces) {
    for (int y = 0; y < f.roi.height; ++y)
      for (int x = 0; x < f.roi.width; ++x) {
        const int m = f.mask.empty() ? 0 : f.mask[size_t(y) * f.roi.width + x];
        if (m) blend_px(img, f.roi.x + x, f.roi.y + y, 0, 255, 0, m * 90 / 255);
      }
    draw_rect(img, f.roi, 255, 220, 0);
    draw_rect(img, f.box, 60, 120, 255);
    const int dot = std::max(1, int(f.size / 150));
    for (const auto& p : f.landmarks)
      for (int dy = -dot; dy <= dot; ++dy)
        for (int dx = -dot; dx <= dot; ++dx)
          blend_px(img, int(std::lround(p.x())) + dx, int(std::lround(p.y())) + dy, 255, 0, 0, 256);
  }
  return img;
}

Image full_mask(int width, int height, const std::vector<Face>& faces) {
  Image m;
  m.width = width, m.height = height, m.channels = 1;
  m.data.assign(size_t(width) * height, 0);
  for (const Face& f : faces)
    for (int y = 0; y < f.roi.height; ++y)
      for (int x = 0; x < f.roi.width; ++x) {
        uint8_t& d = m.row(f.roi.y + y)[f.roi.x + x];
        d = std::max(d, f.mask[size_t(y) * f.roi.width + x]);
      }
  return m;
}

// Resamples src into dst through dst = T(src); dst pixels that map outside src are left as they are.
static void warp(const Image& src, Image& dst, const Similarity& T) {
  const Similarity inv = T.inverse();
  const int c = src.channels;
  const Eigen::Matrix2f a = inv.linear();
  // Only the destination pixels that the source can reach.
  const V2 corners[4] = {T.apply(V2(-1, -1)), T.apply(V2(float(src.width), -1)), T.apply(V2(-1, float(src.height))),
                         T.apply(V2(float(src.width), float(src.height)))};
  const RectF reach = bounds(corners, 4);
  const int y0 = std::max(0, int(std::floor(reach.y0))), y1 = std::min(dst.height, int(std::ceil(reach.y1)) + 1);
  const int x0 = std::max(0, int(std::floor(reach.x0))), x1 = std::min(dst.width, int(std::ceil(reach.x1)) + 1);
  for (int y = y0; y < y1; ++y) {
    uint8_t* out = dst.row(y);
    for (int x = x0; x < x1; ++x) {
      const V2 s = a * V2(float(x), float(y)) + inv.t;
      if (!(s.x() >= -0.5f && s.y() >= -0.5f && s.x() <= src.width - 0.5f && s.y() <= src.height - 0.5f)) continue;
      const float fx = std::min(std::max(s.x(), 0.f), float(src.width - 1));
      const float fy = std::min(std::max(s.y(), 0.f), float(src.height - 1));
      const int x0 = int(fx), y0 = int(fy);
      const int x1 = std::min(x0 + 1, src.width - 1), y1 = std::min(y0 + 1, src.height - 1);
      const float wx = fx - x0, wy = fy - y0;
      for (int k = 0; k < c; ++k) {
        const float top = src.row(y0)[x0 * c + k] * (1 - wx) + src.row(y0)[x1 * c + k] * wx;
        const float bot = src.row(y1)[x0 * c + k] * (1 - wx) + src.row(y1)[x1 * c + k] * wx;
        out[x * c + k] = uint8_t(top * (1 - wy) + bot * wy + 0.5f);
      }
    }
  }
}

Image warp_into(const Image& src, int w, int h, const Similarity& T, uint8_t bg) {
  Image dst;
  dst.width = w, dst.height = h, dst.channels = src.channels;
  dst.data.assign(size_t(w) * h * src.channels, bg);
  warp(src, dst, T);
  return dst;
}

void paste(const Image& src, Image& dst, const Similarity& T) {
  if (src.channels != dst.channels) throw Error("paste(): channel mismatch");
  warp(src, dst, T);
}

static uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

Image background(int w, int h, int channels, uint32_t seed) {
  Image img;
  img.width = w, img.height = h, img.channels = channels;
  img.data.resize(size_t(w) * h * channels);
  const float ph = float(hash32(seed) % 628) / 100.f;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float v =
          110.f + 40.f * std::sin(x * 0.004f + ph) * std::cos(y * 0.006f - ph) + 25.f * float(x) / std::max(1, w);
      const int n = int(hash32(seed * 7919u + uint32_t(y) * 65537u + uint32_t(x)) % 9) - 4;
      for (int k = 0; k < channels; ++k)
        img.row(y)[x * channels + k] = uint8_t(std::min(255.f, std::max(0.f, v + n + (k - 1) * 6.f)));
    }
  return img;
}

void add_noise(Image& img, int amp, uint32_t seed) {
  if (amp <= 0) return;
  for (size_t i = 0; i < img.data.size(); ++i) {
    const int n = int(hash32(seed * 2654435761u + uint32_t(i)) % uint32_t(2 * amp + 1)) - amp;
    img.data[i] = uint8_t(std::min(255, std::max(0, img.data[i] + n)));
  }
}

}  // namespace bty::face
