// Shared helpers of the blend tests (test_blend.cpp, test_blend_layers.cpp): frames with their own padded
// storage, test layers (v1 delta and v2 retouch layers), masks and the ordered-dither quantiser.
#pragma once

#include "blend/blend.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace blend_test {

using namespace bty;
using bty::blend::Frame;
using bty::blend::Layer;

inline const PixelFormat kAll[] = {
    PixelFormat::I420, PixelFormat::YV12, PixelFormat::NV12, PixelFormat::NV21, PixelFormat::YUY2, PixelFormat::UYVY,
    PixelFormat::YVYU, PixelFormat::RGBA, PixelFormat::BGRA, PixelFormat::RGBx, PixelFormat::BGRx, PixelFormat::ARGB,
    PixelFormat::ABGR, PixelFormat::xRGB, PixelFormat::xBGR, PixelFormat::RGB,  PixelFormat::BGR,  PixelFormat::GRAY8};

// A frame with its own storage; every row is `pad` bytes longer than needed (filled like the pixels).
struct OwnedFrame {
  Frame f;
  std::vector<uint8_t> mem[3];
  OwnedFrame(PixelFormat fmt, int w, int h, int pad, std::mt19937& rng, bool full_range = false,
             YuvMatrix m = YuvMatrix::BT709) {
    f.format = fmt;
    f.width = w;
    f.height = h;
    f.full_range = full_range;
    f.matrix = m;
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    int widths[3] = {0, 0, 0}, heights[3] = {h, 0, 0};
    if (blend::is_yuv(fmt) && yuv_layout(fmt).chroma_rows == 1) {  // packed 4:2:2: 4 bytes per 2 pixels
      widths[0] = 4 * cw;
    } else if (blend::is_yuv(fmt)) {
      widths[0] = w;
      const bool semi = fmt == PixelFormat::NV12 || fmt == PixelFormat::NV21;
      widths[1] = semi ? 2 * cw : cw;
      heights[1] = ch;
      if (!semi) {
        widths[2] = cw;
        heights[2] = ch;
      }
    } else {
      int r, g, b, bpp;
      blend::packed_layout(fmt, r, g, b, bpp);
      widths[0] = w * bpp;
    }
    for (int p = 0; p < 3; ++p) {
      if (!widths[p]) continue;
      f.stride[p] = widths[p] + pad;
      mem[p].resize(size_t(f.stride[p]) * heights[p]);
      for (auto& v : mem[p]) v = uint8_t(rng());
      f.plane[p] = mem[p].data();
    }
  }
  OwnedFrame(const OwnedFrame& o) : f(o.f) {
    for (int p = 0; p < 3; ++p) {
      mem[p] = o.mem[p];
      f.plane[p] = mem[p].empty() ? nullptr : mem[p].data();
    }
  }
};

struct TestLayer {
  std::vector<float> chw;
  Layer layer;
  TestLayer(int w, int h, Rect area, float scale = 64.f) : chw(size_t(3) * w * h) {
    layer.width = w;
    layer.height = h;
    layer.area = area;
    layer.scale = scale;
  }
  void fill_constant(float r, float g, float b) {
    const size_t n = chw.size() / 3;
    for (size_t i = 0; i < n; ++i) {
      chw[i] = r;
      chw[n + i] = g;
      chw[2 * n + i] = b;
    }
  }
  const Layer& get() {
    layer.chw = chw.data();
    return layer;
  }
};

// Retouch layers (OutputKind::Layers): 7 maps of w×h set at the logical (shuffled-out) grid, handed to the blend as
// the head a net with pixel shuffle s would produce (PyTorch order: map c at (s·y+dy, s·x+dx) = channel
// c·s²+dy·s+dx at (y, x)). Map 6 holds the raw alpha: -1 = alpha 0, +1 = alpha 1.
struct TestLayers {
  int w, h, s;
  std::vector<float> maps, raw;
  Layer layer;
  TestLayers(int w_, int h_, Rect area, int s_ = 1, float scale = 1.f)
      : w(w_), h(h_), s(s_), maps(size_t(7) * w_ * h_, 0.f) {
    layer.kind = OutputKind::Layers;
    layer.area = area;
    layer.scale = scale;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) at(6, x, y) = -1.f;  // alpha 0
  }
  float& at(int map, int x, int y) { return maps[(size_t(map) * h + y) * w + x]; }
  void fill(int map, float v) {
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) at(map, x, y) = v;
  }
  const Layer& get() {
    const int rw = w / s, rh = h / s;
    raw.assign(maps.size(), 0.f);
    for (int c = 0; c < 7; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          raw[((size_t(c) * s * s + (y % s) * s + x % s) * rh + y / s) * rw + x / s] = at(c, x, y);
    layer.chw = raw.data();
    layer.width = rw;
    layer.height = rh;
    layer.channels = 7 * s * s;
    layer.shuffle = s;
    return layer;
  }
};

inline blend::Amounts amounts(float strength, float blemish, float tone, bool spot = true) {
  blend::Amounts a;
  a.strength = strength;
  a.blemish = blemish;
  a.tone = tone;
  a.spot = spot;
  return a;
}

inline std::vector<uint8_t> random_mask(int w, int h, std::mt19937& rng) {
  std::vector<uint8_t> m(size_t(w) * h);
  for (auto& v : m) v = (rng() % 3 == 0) ? 0 : uint8_t(rng());
  return m;
}

inline bool in_rect(const Rect& r, int x, int y) {
  return x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
}

// The blend's quantisers, written out independently: luma-like samples (R, G, B, Y, GRAY8) round to nearest;
// chroma samples of YUV frames floor(v + delta + t), t = (Bayer index + 0.5) / 16 at the sample's (x & 3, y & 3).
inline int round_luma(double v) { return std::clamp(int(std::floor(v + 0.5)), 0, 255); }
inline int quantise_chroma(double v, int x, int y) {
  static const int bayer[4][4] = {{0, 8, 2, 10}, {12, 4, 14, 6}, {3, 11, 1, 9}, {15, 7, 13, 5}};
  const int q = int(std::floor(v + (bayer[y & 3][x & 3] + 0.5) / 16));
  return std::clamp(q, 0, 255);
}

}  // namespace blend_test
