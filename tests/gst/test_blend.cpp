// Blend unit tests: bit-exact outside the mask (and in stride padding), exact deltas per format with an independent
// formula, bilinear upsampling, rounding/clamping, odd sizes and strides, the net-area geometry; v2 retouch layers
// (blemish/tone weights, the pixel shuffle, passthrough at zero weights) and the frame-resolution spot step.
#include "blend/blend.h"
#include "blend/draw.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

using namespace bty;
using bty::blend::Frame;
using bty::blend::Layer;

namespace {

const PixelFormat kAll[] = {PixelFormat::I420, PixelFormat::YV12, PixelFormat::NV12, PixelFormat::NV21,
                            PixelFormat::RGBA, PixelFormat::BGRA, PixelFormat::RGBx, PixelFormat::BGRx,
                            PixelFormat::ARGB, PixelFormat::ABGR, PixelFormat::xRGB, PixelFormat::xBGR,
                            PixelFormat::RGB,  PixelFormat::BGR};

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
    if (blend::is_yuv(fmt)) {
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

blend::Amounts amounts(float strength, float blemish, float tone, bool spot = true) {
  blend::Amounts a;
  a.strength = strength;
  a.blemish = blemish;
  a.tone = tone;
  a.spot = spot;
  return a;
}

std::vector<uint8_t> random_mask(int w, int h, std::mt19937& rng) {
  std::vector<uint8_t> m(size_t(w) * h);
  for (auto& v : m) v = (rng() % 3 == 0) ? 0 : uint8_t(rng());
  return m;
}

bool in_rect(const Rect& r, int x, int y) { return x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height; }

// The blend's quantiser, written out independently: floor(v + delta + t), t = (Bayer index + 0.5) / 16.
int quantise(double v, int x, int y) {
  static const int bayer[4][4] = {{0, 8, 2, 10}, {12, 4, 14, 6}, {3, 11, 1, 9}, {15, 7, 13, 5}};
  const int q = int(std::floor(v + (bayer[y & 3][x & 3] + 0.5) / 16));
  return std::clamp(q, 0, 255);
}

}  // namespace

TEST(NetArea, HasTheNetAspectAndContainsTheRoi) {
  const Rect roi{100, 80, 200, 200};
  const Rect a = blend::net_area(roi, 160, 224, 1280, 720);
  EXPECT_NEAR(double(a.width) / a.height, 160.0 / 224.0, 0.01);
  EXPECT_LE(a.x, roi.x);
  EXPECT_LE(a.y, roi.y);
  EXPECT_GE(a.x + a.width, roi.x + roi.width);
  EXPECT_GE(a.y + a.height, roi.y + roi.height);
  EXPECT_EQ(a.width, 200);  // grown along the short side only
}

TEST(NetArea, SlidesInsideTheFrame) {
  const Rect a = blend::net_area(Rect{0, 0, 120, 100}, 128, 160, 640, 480);  // grows to 120x150 at the top-left corner
  EXPECT_EQ(a.x, 0);
  EXPECT_EQ(a.y, 0);
  EXPECT_EQ(a.height, 150);
  const Rect b = blend::net_area(Rect{520, 400, 120, 80}, 128, 160, 640, 480);
  EXPECT_EQ(b.x + b.width, 640);
  EXPECT_EQ(b.y + b.height, 480);
}

TEST(NetArea, OverhangsAFrameThatIsTooSmallInsteadOfSquashing) {
  const Rect roi{0, 0, 320, 180};  // the whole landscape frame
  const Rect a = blend::net_area(roi, 128, 160, 320, 180);
  EXPECT_EQ(a.width, 320);
  EXPECT_EQ(a.height, 400);
  EXPECT_LE(a.y, 0);
  EXPECT_GE(a.y + a.height, 180);
  EXPECT_NEAR(a.y + a.height / 2.0, 90.0, 1.0);
}

// For every format, size, padding and ROI placement: bytes not under the mask (luma/RGB pixels with mask 0; chroma
// samples whose 2x2 block has mask 0; alpha/x bytes; row padding) are unchanged. `layers`: v2 retouch layers
// (shuffle 2, random alpha, a net pixel of several frame pixels: the spot step runs), else a v1 delta.
void check_bit_exact_outside_the_mask(bool layers) {
  std::mt19937 rng(7);
  const int sizes[][2] = {{1, 1}, {2, 2}, {3, 5}, {17, 9}, {64, 48}, {33, 71}};
  for (PixelFormat fmt : kAll) {
    for (const auto& sz : sizes) {
      for (int pad : {0, 13}) {
        const int w = sz[0], h = sz[1];
        OwnedFrame frame(fmt, w, h, pad, rng);
        const OwnedFrame before(frame);
        // ROI partly outside the frame on some draws (apply clamps it), odd origin on others.
        Rect roi{int(rng() % (w + 2)) - 1, int(rng() % (h + 2)) - 1, 1 + int(rng() % (w + 1)), 1 + int(rng() % (h + 1))};
        std::vector<uint8_t> mask = random_mask(roi.width, roi.height, rng);
        const Rect area = blend::net_area(roi, 10, 14, w, h);
        if (layers) {
          TestLayers layer(6, 8, area, 2, 64.f);
          for (auto& v : layer.maps) v = std::uniform_real_distribution<float>(-1, 1)(rng);
          blend::apply(frame.f, roi, mask.data(), layer.get(), amounts(1.f, 1.f, 1.f));
        } else {
          TestLayer layer(5, 7, area);
          for (auto& v : layer.chw) v = std::uniform_real_distribution<float>(-1, 1)(rng);
          blend::apply(frame.f, roi, mask.data(), layer.get(), 1.0f);
        }
        auto m = [&](int x, int y) { return in_rect(roi, x, y) ? mask[size_t(y - roi.y) * roi.width + (x - roi.x)] : 0; };
        SCOPED_TRACE(::testing::Message() << "format " << int(fmt) << " " << w << "x" << h << " pad " << pad);
        if (blend::is_yuv(fmt)) {
          for (int y = 0; y < h; ++y)
            for (int x = 0; x < frame.f.stride[0]; ++x)
              if (x >= w || !m(x, y)) {
                ASSERT_EQ(frame.mem[0][size_t(y) * frame.f.stride[0] + x], before.mem[0][size_t(y) * frame.f.stride[0] + x]);
              }
          const bool semi = fmt == PixelFormat::NV12 || fmt == PixelFormat::NV21;
          for (int p = 1; p < (semi ? 2 : 3); ++p)
            for (int cy = 0; cy < (h + 1) / 2; ++cy)
              for (int bx = 0; bx < frame.f.stride[p]; ++bx) {
                const int cx = semi ? bx / 2 : bx;
                int sum = 0;
                if (cx < (w + 1) / 2)
                  for (int y = 2 * cy; y < std::min(h, 2 * cy + 2); ++y)
                    for (int x = 2 * cx; x < std::min(w, 2 * cx + 2); ++x) sum += m(x, y);
                if (!sum) {
                  ASSERT_EQ(frame.mem[p][size_t(cy) * frame.f.stride[p] + bx], before.mem[p][size_t(cy) * frame.f.stride[p] + bx]);
                }
              }
        } else {
          int r, g, b, bpp;
          blend::packed_layout(fmt, r, g, b, bpp);
          for (int y = 0; y < h; ++y)
            for (int i = 0; i < frame.f.stride[0]; ++i) {
              const int x = i / bpp, c = i % bpp;
              const bool colour_byte = i < w * bpp && (c == r || c == g || c == b);
              if (!colour_byte || !m(x, y)) {
                ASSERT_EQ(frame.mem[0][size_t(y) * frame.f.stride[0] + i], before.mem[0][size_t(y) * frame.f.stride[0] + i]);
              }
            }
        }
      }
    }
  }
}

TEST(Blend, BitExactOutsideTheMaskEveryFormat) { check_bit_exact_outside_the_mask(false); }
TEST(Blend, BitExactOutsideTheMaskEveryFormatWithRetouchLayersAndSpotStep) { check_bit_exact_outside_the_mask(true); }

// A constant layer, mask 255, strength 1: RGB channels move by exactly round(d * scale), clamped.
TEST(Blend, ConstantDeltaPackedRgb) {
  std::mt19937 rng(3);
  for (PixelFormat fmt : kAll) {
    if (blend::is_yuv(fmt)) continue;
    OwnedFrame frame(fmt, 21, 13, 3, rng);
    const OwnedFrame before(frame);
    const Rect roi{2, 1, 15, 11};
    std::vector<uint8_t> mask(size_t(roi.width) * roi.height, 255);
    TestLayer layer(4, 6, roi);
    layer.fill_constant(10.f / 64, -3.f / 64, 100.f / 64);  // +10, -3, +100 in 8-bit units
    blend::apply(frame.f, roi, mask.data(), layer.get(), 1.f);
    int r, g, b, bpp;
    blend::packed_layout(fmt, r, g, b, bpp);
    for (int y = roi.y; y < roi.y + roi.height; ++y)
      for (int x = roi.x; x < roi.x + roi.width; ++x) {
        const size_t o = size_t(y) * frame.f.stride[0] + size_t(x) * bpp;
        EXPECT_EQ(frame.mem[0][o + r], std::min(255, before.mem[0][o + r] + 10));
        EXPECT_EQ(frame.mem[0][o + g], std::max(0, before.mem[0][o + g] - 3));
        EXPECT_EQ(frame.mem[0][o + b], std::min(255, before.mem[0][o + b] + 100));
      }
  }
}

// Mask and strength weight the delta: v + m/255 * s * d, dithered.
TEST(Blend, MaskAndStrengthWeightTheDelta) {
  std::mt19937 rng(5);
  OwnedFrame frame(PixelFormat::RGB, 16, 1, 0, rng);
  for (int x = 0; x < 16; ++x)
    for (int c = 0; c < 3; ++c) frame.mem[0][x * 3 + c] = 100;
  const Rect roi{0, 0, 16, 1};
  std::vector<uint8_t> mask(16);
  for (int x = 0; x < 16; ++x) mask[x] = uint8_t(x * 17);  // 0, 17, ..., 255
  TestLayer layer(2, 2, roi, 1.f);
  layer.fill_constant(20.f, -20.f, 7.f);
  blend::apply(frame.f, roi, mask.data(), layer.get(), 0.5f);
  for (int x = 0; x < 16; ++x) {
    const double w = mask[x] / 255.0 * 0.5;
    EXPECT_EQ(frame.mem[0][x * 3 + 0], quantise(100 + w * 20, x, 0)) << x;
    EXPECT_EQ(frame.mem[0][x * 3 + 1], quantise(100 - w * 20, x, 0)) << x;
    EXPECT_EQ(frame.mem[0][x * 3 + 2], quantise(100 + w * 7, x, 0)) << x;
  }
  EXPECT_EQ(frame.mem[0][0], 100);  // mask 0
}

// YUV: ΔY, ΔCb, ΔCr from the RGB delta with the frame's matrix and range (independent textbook formula).
TEST(Blend, ConstantDeltaYuvMatrixAndRange) {
  std::mt19937 rng(11);
  for (PixelFormat fmt : {PixelFormat::I420, PixelFormat::YV12, PixelFormat::NV12, PixelFormat::NV21})
    for (bool full : {false, true})
      for (YuvMatrix mat : {YuvMatrix::BT601, YuvMatrix::BT709}) {
        OwnedFrame frame(fmt, 12, 10, 5, rng, full, mat);
        for (auto& plane : frame.mem)
          for (auto& v : plane) v = 128;
        const Rect roi{0, 0, 12, 10};
        std::vector<uint8_t> mask(120, 255);
        TestLayer layer(3, 4, roi, 1.f);
        const double dr = 40, dg = 10, db = -30;
        layer.fill_constant(float(dr), float(dg), float(db));
        blend::apply(frame.f, roi, mask.data(), layer.get(), 1.f);
        const double kr = mat == YuvMatrix::BT601 ? 0.299 : 0.2126, kb = mat == YuvMatrix::BT601 ? 0.114 : 0.0722;
        const double dy = kr * dr + (1 - kr - kb) * dg + kb * db;
        const double dcb = (db - dy) / (2 * (1 - kb)), dcr = (dr - dy) / (2 * (1 - kr));
        const double ys = full ? 1 : 219.0 / 255, cs = full ? 1 : 224.0 / 255;
        const int ey = quantise(128 + dy * ys, 5, 3), ecb = quantise(128 + dcb * cs, 3, 2),
                  ecr = quantise(128 + dcr * cs, 3, 2);
        EXPECT_EQ(frame.mem[0][3 * frame.f.stride[0] + 5], ey);
        const bool semi = fmt == PixelFormat::NV12 || fmt == PixelFormat::NV21;
        const bool swap = fmt == PixelFormat::YV12 || fmt == PixelFormat::NV21;
        uint8_t cb, cr;
        if (semi) {
          const uint8_t* p = &frame.mem[1][2 * frame.f.stride[1] + 2 * 3];
          cb = p[swap ? 1 : 0];
          cr = p[swap ? 0 : 1];
        } else {
          cb = frame.mem[swap ? 2 : 1][2 * frame.f.stride[1] + 3];
          cr = frame.mem[swap ? 1 : 2][2 * frame.f.stride[1] + 3];
        }
        EXPECT_EQ(cb, ecb) << int(fmt) << " full " << full;
        EXPECT_EQ(cr, ecr) << int(fmt) << " full " << full;
      }
}

// Chroma weight is the mean of the 2x2 block's mask: a block half covered moves half as far.
TEST(Blend, ChromaUsesTheBlockAveragedMask) {
  std::mt19937 rng(1);
  OwnedFrame frame(PixelFormat::I420, 4, 2, 0, rng, true);
  for (auto& plane : frame.mem)
    for (auto& v : plane) v = 128;
  const Rect roi{0, 0, 4, 2};
  std::vector<uint8_t> mask = {255, 255, 255, 0,  //
                               255, 255, 0, 0};
  TestLayer layer(2, 2, roi, 1.f);
  layer.fill_constant(0, 0, 40);  // pure blue: Cb moves
  blend::apply(frame.f, roi, mask.data(), layer.get(), 1.f);
  const double kb = 0.0722, dcb = (40 - kb * 40) / (2 * (1 - kb));
  EXPECT_EQ(frame.mem[1][0], quantise(128 + dcb, 0, 0));
  EXPECT_EQ(frame.mem[1][1], quantise(128 + dcb * 0.25, 1, 0));
}

// Bilinear upsampling, pixel-centre aligned: a layer that is linear in x gives the same line at full resolution.
TEST(Blend, BilinearUpsamplingOfALinearRamp) {
  std::mt19937 rng(2);
  OwnedFrame frame(PixelFormat::RGBA, 64, 8, 0, rng);
  for (auto& v : frame.mem[0]) v = 100;
  const Rect roi{0, 0, 64, 8};
  std::vector<uint8_t> mask(64 * 8, 255);
  TestLayer layer(8, 2, roi, 1.f);
  const size_t n = 16;
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 8; ++x) layer.chw[y * 8 + x] = layer.chw[n + y * 8 + x] = layer.chw[2 * n + y * 8 + x] = 8.f * x;
  blend::apply(frame.f, roi, mask.data(), layer.get(), 1.f);
  // Layer cell i is centred at frame x = 8i + 3.5; between the first and last centres the delta is x - 3.5.
  for (int x = 4; x < 60; ++x) EXPECT_EQ(frame.mem[0][size_t(3) * 256 + x * 4], quantise(100 + (x - 3.5), x, 3)) << x;
  // Beyond the outer centres it holds the edge value.
  EXPECT_EQ(frame.mem[0][0], 100);
  EXPECT_EQ(frame.mem[0][63 * 4], 156);
}

// A delta far below one code value is kept on average (plain rounding would drop it everywhere), and a zero delta
// changes nothing.
TEST(Blend, DitherKeepsTheMeanOfSmallDeltas) {
  std::mt19937 rng(8);
  for (float d : {0.25f, -0.3f, 0.0f}) {
    OwnedFrame frame(PixelFormat::I420, 32, 32, 0, rng, true);
    for (auto& plane : frame.mem)
      for (auto& v : plane) v = 128;
    const Rect roi{0, 0, 32, 32};
    std::vector<uint8_t> mask(32 * 32, 255);
    TestLayer layer(4, 4, roi, 1.f);
    layer.fill_constant(d, d, d);  // grey: ΔY = d, no chroma
    blend::apply(frame.f, roi, mask.data(), layer.get(), 1.f);
    double sum = 0;
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) sum += frame.mem[0][size_t(y) * frame.f.stride[0] + x] - 128;
    EXPECT_NEAR(sum / (32 * 32), d, 1.0 / 16) << d;
    for (int p = 1; p < 3; ++p)
      for (uint8_t v : frame.mem[p]) EXPECT_EQ(v, 128);
  }
}

TEST(Blend, YCbCrLayerOnRgbFrameMovesAllChannelsByTheLumaDelta) {
  std::mt19937 rng(4);
  OwnedFrame frame(PixelFormat::BGRx, 8, 8, 0, rng);
  for (auto& v : frame.mem[0]) v = 50;
  const Rect roi{0, 0, 8, 8};
  std::vector<uint8_t> mask(64, 255);
  TestLayer layer(2, 2, roi, 1.f);
  layer.layer.colour = Colour::YCbCr;
  layer.fill_constant(12, 0, 0);
  blend::apply(frame.f, roi, mask.data(), layer.get(), 1.f);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(frame.mem[0][9 * 4 + c], 62);
  EXPECT_EQ(frame.mem[0][9 * 4 + 3], 50);  // x byte untouched
}

TEST(Blend, StrengthZeroOrEmptyMaskWritesNothing) {
  std::mt19937 rng(9);
  for (PixelFormat fmt : kAll) {
    OwnedFrame frame(fmt, 9, 7, 2, rng);
    const OwnedFrame before(frame);
    const Rect roi{1, 1, 7, 5};
    std::vector<uint8_t> full(35, 255), none(35, 0);
    TestLayer layer(3, 3, roi);
    layer.fill_constant(1, 1, 1);
    blend::apply(frame.f, roi, full.data(), layer.get(), 0.f);
    blend::apply(frame.f, roi, none.data(), layer.get(), 1.f);
    for (int p = 0; p < 3; ++p) EXPECT_EQ(frame.mem[p], before.mem[p]) << int(fmt);
  }
}

// ---- v2 retouch layers --------------------------------------------------------------------------------------

// Tone only, blemish only, and a mix: each layer is weighted on its own (mask 255, strength 1, one map pixel per
// frame pixel so the spot step is skipped): v + blemish·Δb + tone·Δt, dithered.
TEST(Layers, BlemishAndToneWeightTheirOwnDelta) {
  std::mt19937 rng(21);
  const Rect roi{0, 0, 12, 8};
  const float db[3] = {12, -6, 30}, dt[3] = {-9, 15, 4};
  const struct {
    float blemish, tone;
  } cases[] = {{0.f, 1.f}, {1.f, 0.f}, {0.5f, 0.25f}, {1.f, 1.f}};
  for (PixelFormat fmt : {PixelFormat::RGB, PixelFormat::BGRA, PixelFormat::xRGB}) {
    for (const auto& c : cases) {
      OwnedFrame frame(fmt, 12, 8, 3, rng);
      for (auto& v : frame.mem[0]) v = uint8_t(60 + rng() % 120);
      const OwnedFrame before(frame);
      TestLayers layer(12, 8, roi);
      for (int k = 0; k < 3; ++k) {
        layer.fill(k, db[k]);
        layer.fill(3 + k, dt[k]);
      }
      layer.fill(6, 1.f);  // alpha 1: the spot step would act, but a net pixel is one frame pixel here
      ASSERT_EQ(blend::spot_radius(layer.get()), 0);
      std::vector<uint8_t> mask(12 * 8, 255);
      blend::apply(frame.f, roi, mask.data(), layer.get(), amounts(1.f, c.blemish, c.tone));
      int off[3], bpp;
      blend::packed_layout(fmt, off[0], off[1], off[2], bpp);
      for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 12; ++x)
          for (int k = 0; k < 3; ++k) {
            const size_t o = size_t(y) * frame.f.stride[0] + size_t(x) * bpp + off[k];
            ASSERT_EQ(frame.mem[0][o], quantise(before.mem[0][o] + c.blemish * db[k] + c.tone * dt[k], x, y))
                << "blemish " << c.blemish << " tone " << c.tone << " channel " << k;
          }
    }
  }
}

// blemish = tone = 0 (or strength 0) writes nothing at all, whatever the maps say, in every format.
TEST(Layers, ZeroWeightsAreABitExactPassthrough) {
  std::mt19937 rng(22);
  for (PixelFormat fmt : kAll) {
    OwnedFrame frame(fmt, 33, 21, 5, rng);
    const OwnedFrame before(frame);
    const Rect roi{2, 1, 29, 19};
    std::vector<uint8_t> mask(size_t(roi.width) * roi.height, 255);
    TestLayers layer(8, 10, blend::net_area(roi, 8, 10, 33, 21), 2, 96.f);
    for (auto& v : layer.maps) v = std::uniform_real_distribution<float>(-1, 1)(rng);
    blend::apply(frame.f, roi, mask.data(), layer.get(), amounts(1.f, 0.f, 0.f));
    blend::apply(frame.f, roi, mask.data(), layer.get(), amounts(0.f, 1.f, 1.f));
    for (int p = 0; p < 3; ++p) ASSERT_EQ(frame.mem[p], before.mem[p]) << int(fmt);
  }
}

// A v1 delta is the blemish layer: tone does nothing with it, blemish scales it like strength does.
TEST(Layers, V1DeltaIsTheBlemishLayer) {
  std::mt19937 rng(23);
  for (PixelFormat fmt : {PixelFormat::I420, PixelFormat::RGBA}) {
    OwnedFrame a(fmt, 20, 14, 0, rng);
    OwnedFrame b(a), c(a);
    const OwnedFrame before(a);
    const Rect roi{0, 0, 20, 14};
    std::vector<uint8_t> mask(20 * 14, 200);
    TestLayer layer(5, 7, roi, 64.f);
    for (auto& v : layer.chw) v = std::uniform_real_distribution<float>(-1, 1)(rng);
    blend::apply(a.f, roi, mask.data(), layer.get(), amounts(1.f, 0.f, 1.f));
    for (int p = 0; p < 3; ++p) EXPECT_EQ(a.mem[p], before.mem[p]) << "tone moved a v1 delta";
    blend::apply(b.f, roi, mask.data(), layer.get(), amounts(1.f, 0.5f, 1.f));
    blend::apply(c.f, roi, mask.data(), layer.get(), 0.5f);
    for (int p = 0; p < 3; ++p) EXPECT_EQ(b.mem[p], c.mem[p]);
  }
}

// The pixel shuffle: a shuffle-2 head (28 channels at half size) gives the same bytes as its 7 maps given directly.
TEST(Layers, PixelShuffleReadsPyTorchOrder) {
  std::mt19937 rng(24);
  for (PixelFormat fmt : {PixelFormat::NV12, PixelFormat::BGR}) {
    OwnedFrame a(fmt, 61, 77, 3, rng);
    OwnedFrame b(a);
    const Rect roi{3, 4, 55, 70};
    std::vector<uint8_t> mask = random_mask(roi.width, roi.height, rng);
    const Rect area = blend::net_area(roi, 12, 16, 61, 77);
    TestLayers two(12, 16, area, 2, 96.f);
    for (auto& v : two.maps) v = std::uniform_real_distribution<float>(-1, 1)(rng);
    TestLayers one(two);
    one.s = 1;
    blend::apply(a.f, roi, mask.data(), two.get(), amounts(0.8f, 1.f, 0.5f));
    blend::apply(b.f, roi, mask.data(), one.get(), amounts(0.8f, 1.f, 0.5f));
    EXPECT_EQ(two.layer.channels, 28);
    EXPECT_EQ(two.layer.width, 6);
    for (int p = 0; p < 3; ++p) EXPECT_EQ(a.mem[p], b.mem[p]) << int(fmt);
  }
  // And one map pixel checked by hand: map 4 (tone G) at logical (3, 2) is head channel 4·4 + 0·2 + 1 = 17 at (1, 1).
  TestLayers t(4, 4, Rect{0, 0, 4, 4}, 2);
  t.at(4, 3, 2) = 0.75f;
  const Layer& L = t.get();
  EXPECT_EQ(L.chw[(17 * 2 + 1) * 2 + 1], 0.75f);
}

TEST(Layers, WrongChannelCountIsRejected) {
  std::mt19937 rng(25);
  OwnedFrame frame(PixelFormat::RGB, 8, 8, 0, rng);
  std::vector<uint8_t> mask(64, 255);
  TestLayers layer(4, 4, Rect{0, 0, 8, 8}, 2);
  Layer L = layer.get();
  L.channels = 7;  // a shuffle-2 layer needs 28
  EXPECT_THROW(blend::apply(frame.f, Rect{0, 0, 8, 8}, mask.data(), L, amounts(1, 1, 1)), std::invalid_argument);
}

TEST(Layers, SpotRadiusFollowsTheNetPixelSize) {
  TestLayers t(40, 50, Rect{0, 0, 160, 200});  // 4 frame px per net px
  EXPECT_EQ(blend::spot_radius(t.get()), 4);
  t.layer.area = Rect{0, 0, 60, 75};  // 1.5: skipped
  EXPECT_EQ(blend::spot_radius(t.layer), 0);
  t.layer.area = Rect{0, 0, 66, 82};  // 1.65 -> 2
  EXPECT_EQ(blend::spot_radius(t.layer), 2);
  TestLayer v1(40, 50, Rect{0, 0, 160, 200});
  EXPECT_EQ(blend::spot_radius(v1.get()), 0);  // v1 nets have no alpha
}

namespace {

// A 96×96 skin-like patch at 150 with pore-like texture (±4 codes), and optionally a dark 3×3 spot (−40) at
// (47..49, 47..49); the maps are 24×24 over it (4 frame px per net px), alpha 1 everywhere; the net's blemish delta
// lifts the spot's net pixel by what it can see at its resolution. Returns the luma-like value at (x, y): the Y
// plane, or G for RGB frames.
struct SpotScene {
  static constexpr int kSize = 96;
  OwnedFrame frame;
  TestLayers layer;
  std::vector<uint8_t> mask;
  const Rect roi{0, 0, kSize, kSize};
  SpotScene(PixelFormat fmt, bool spot, std::mt19937& rng)
      : frame(fmt, kSize, kSize, 0, rng, true), layer(24, 24, Rect{0, 0, kSize, kSize}), mask(kSize * kSize, 255) {
    for (int p = 1; p < 3; ++p)
      for (auto& v : frame.mem[p]) v = 128;
    for (int y = 0; y < kSize; ++y)
      for (int x = 0; x < kSize; ++x) {
        int v = 150 + int(rng() % 9) - 4;
        if (spot && x >= 47 && x <= 49 && y >= 47 && y <= 49) v -= 40;
        set(x, y, v);
      }
    layer.fill(6, 1.f);
    if (spot)  // the spot's mean deficit over the 4×4 frame pixels of each net pixel it touches, as a net would see it
      for (int ny = 11; ny <= 12; ++ny)
        for (int nx = 11; nx <= 12; ++nx) {
          int covered = 0;
          for (int y = 4 * ny; y < 4 * ny + 4; ++y)
            for (int x = 4 * nx; x < 4 * nx + 4; ++x) covered += x >= 47 && x <= 49 && y >= 47 && y <= 49;
          for (int c = 0; c < 3; ++c) layer.at(c, nx, ny) = 40.f * covered / 16.f;
        }
  }
  void set(int x, int y, int v) {
    if (blend::is_yuv(frame.f.format)) {
      frame.mem[0][size_t(y) * frame.f.stride[0] + x] = uint8_t(v);
      return;
    }
    int r, g, b, bpp;
    blend::packed_layout(frame.f.format, r, g, b, bpp);
    for (int o : {r, g, b}) frame.mem[0][size_t(y) * frame.f.stride[0] + size_t(x) * bpp + o] = uint8_t(v);
  }
  static int get(const OwnedFrame& f, int x, int y) {
    if (blend::is_yuv(f.f.format)) return f.mem[0][size_t(y) * f.f.stride[0] + x];
    int r, g, b, bpp;
    blend::packed_layout(f.f.format, r, g, b, bpp);
    return f.mem[0][size_t(y) * f.f.stride[0] + size_t(x) * bpp + g];
  }
  void apply(bool spot_step) {
    blend::apply(frame.f, roi, mask.data(), layer.get(), amounts(1.f, 1.f, 1.f, spot_step));
  }
};

// Mean of the 3×3 spot minus the mean of a ring 5..7 px around it (the surrounding skin).
double spot_depth(const OwnedFrame& f) {
  double in = 0, out = 0;
  int ni = 0, no = 0;
  for (int y = 40; y <= 56; ++y)
    for (int x = 40; x <= 56; ++x) {
      const int d = std::max(std::abs(x - 48), std::abs(y - 48));
      if (d <= 1) {
        in += SpotScene::get(f, x, y);
        ++ni;
      } else if (d >= 5 && d <= 7) {
        out += SpotScene::get(f, x, y);
        ++no;
      }
    }
  return in / ni - out / no;
}

}  // namespace

// A 3-px spot is smaller than a net pixel (4 frame px): the upsampled delta only fades it (and lightens the skin
// around it); the spot step, where alpha says blemish, compresses the spot's core in the frame's own high band.
TEST(SpotStep, RemovesMoreOfASmallSpotThanTheDeltaAlone) {
  for (PixelFormat fmt : {PixelFormat::RGB, PixelFormat::BGRx, PixelFormat::I420, PixelFormat::NV21}) {
    std::mt19937 rng(31), rng2(31);
    SpotScene with(fmt, true, rng), without(fmt, true, rng2);
    const double before = spot_depth(with.frame);
    with.apply(true);
    without.apply(false);
    const double d_with = spot_depth(with.frame), d_without = spot_depth(without.frame);
    SCOPED_TRACE(::testing::Message() << "format " << int(fmt) << ": spot depth " << before << " -> " << d_without
                                      << " (delta only), " << d_with << " (with the spot step)");
    std::printf("spot depth %d: %.1f -> %.1f delta only, %.1f with the step\n", int(fmt), before, d_without, d_with);
    EXPECT_LT(before, -35);
    EXPECT_GT(d_without, before);                 // the delta helps a little
    EXPECT_GT(d_with, d_without + 10);            // the spot step removes clearly more
    EXPECT_GT(d_with, -15);                       // most of the spot is gone
    if (blend::is_yuv(fmt)) {  // luma only: chroma is the delta's business
      for (int p = 1; p < 3; ++p) EXPECT_EQ(with.frame.mem[p], without.frame.mem[p]);
    }
  }
}

// Pore-like texture (±4 codes) without a spot, alpha 1 everywhere and no delta: the spot step moves no pixel by more
// than one code value. With a spot in the same texture, skin away from it stays within one code value as well.
TEST(SpotStep, LeavesPoreTextureWithinOneCodeValue) {
  for (PixelFormat fmt : {PixelFormat::RGBA, PixelFormat::I420}) {
    for (bool spot : {false, true}) {
      std::mt19937 rng(32);
      SpotScene s(fmt, spot, rng);
      s.layer.fill(0, 0.f);
      s.layer.fill(1, 0.f);
      s.layer.fill(2, 0.f);
      const OwnedFrame before(s.frame);
      s.apply(true);
      int worst = 0;
      long moved = 0;
      for (int y = 0; y < SpotScene::kSize; ++y)
        for (int x = 0; x < SpotScene::kSize; ++x) {
          if (spot && std::abs(x - 48) <= 6 && std::abs(y - 48) <= 6) continue;  // the spot and its blur support
          const int d = std::abs(SpotScene::get(s.frame, x, y) - SpotScene::get(before, x, y));
          worst = std::max(worst, d);
          moved += d != 0;
        }
      std::printf("texture %d spot %d: worst %d moved %ld\n", int(fmt), spot, worst, moved);
      EXPECT_LE(worst, 1) << int(fmt) << " spot " << spot;
      EXPECT_LT(moved, SpotScene::kSize * SpotScene::kSize / 4) << int(fmt) << " spot " << spot;
      if (spot) {
        EXPECT_GT(spot_depth(s.frame), spot_depth(before) + 15) << int(fmt);
      }
    }
  }
}

// The spot step against a plain double-precision version of its formula (mask 255, alpha 1, no delta, strength 1):
// box blur with replicated frame edges, tau = 2.5 × mean |high| over every other ROI row, v + tau·tanh(high/tau) −
// high, dithered. Radius 4 (the sliding-sum path) and 12 (a net pixel of 12 frame pixels: the prefix-sum path), on
// a ROI that touches the frame's edges. float against double and a Padé tanh: at most one code value apart, rarely.
TEST(SpotStep, MatchesTheFormula) {
  for (PixelFormat fmt : {PixelFormat::I420, PixelFormat::RGBx}) {
    for (int net : {24, 8}) {
      std::mt19937 rng(34);
      const int W = 96, H = 80;
      OwnedFrame frame(fmt, W, H, 3, rng, true);
      const Rect roi{0, 6, 90, 74};  // left, bottom edges of the frame; top and right inside
      std::vector<uint8_t> mask(size_t(roi.width) * roi.height, 255);
      const Rect area{0, 0, 96, 96};
      TestLayers layer(net, net, area);
      layer.fill(6, 1.f);
      const int r = blend::spot_radius(layer.get());
      ASSERT_EQ(r, 96 / net);
      const OwnedFrame before(frame);
      blend::apply(frame.f, roi, mask.data(), layer.get(), amounts(1.f, 1.f, 0.f));
      int off[3] = {0, 0, 0}, bpp = 1, planes = 1;
      if (!blend::is_yuv(fmt)) {
        blend::packed_layout(fmt, off[0], off[1], off[2], bpp);
        planes = 3;
      }
      int differ = 0, worst = 0;
      for (int c = 0; c < planes; ++c) {
        auto v = [&](int x, int y) {
          x = std::clamp(x, 0, W - 1);
          y = std::clamp(y, 0, H - 1);
          return double(before.mem[0][size_t(y) * before.f.stride[0] + size_t(x) * bpp + off[c]]);
        };
        std::vector<double> high(size_t(roi.width) * roi.height);
        double sum = 0;
        long count = 0;
        for (int y = 0; y < roi.height; ++y)
          for (int x = 0; x < roi.width; ++x) {
            double box = 0;
            for (int dy = -r; dy <= r; ++dy)
              for (int dx = -r; dx <= r; ++dx) box += v(roi.x + x + dx, roi.y + y + dy);
            const double h = v(roi.x + x, roi.y + y) - box / ((2 * r + 1) * (2 * r + 1));
            high[size_t(y) * roi.width + x] = h;
            if (y % 2 == 0) {
              sum += std::fabs(h);
              ++count;
            }
          }
        const double tau = std::max(1.0, 2.5 * sum / count);
        for (int y = 0; y < roi.height; ++y)
          for (int x = 0; x < roi.width; ++x) {
            const double h = high[size_t(y) * roi.width + x];
            const int fx = roi.x + x, fy = roi.y + y;
            const int want = quantise(v(fx, fy) + tau * std::tanh(h / tau) - h, fx, fy);
            const int got = frame.mem[0][size_t(fy) * frame.f.stride[0] + size_t(fx) * bpp + off[c]];
            differ += got != want;
            worst = std::max(worst, std::abs(got - want));
          }
      }
      EXPECT_LE(worst, 1) << int(fmt) << " r " << r;
      EXPECT_LT(differ, planes * roi.width * roi.height / 50) << int(fmt) << " r " << r;
    }
  }
}

// Alpha 0 (no blemish there) or blemish 0: the spot step does nothing.
TEST(SpotStep, FollowsAlphaAndBlemish) {
  for (PixelFormat fmt : {PixelFormat::BGR, PixelFormat::YV12}) {
    std::mt19937 rng(33);
    SpotScene s(fmt, true, rng);
    s.layer.fill(0, 0.f);
    s.layer.fill(1, 0.f);
    s.layer.fill(2, 0.f);
    s.layer.fill(6, -1.f);  // alpha 0
    const OwnedFrame before(s.frame);
    s.apply(true);
    for (int p = 0; p < 3; ++p) EXPECT_EQ(s.frame.mem[p], before.mem[p]) << int(fmt);
    s.layer.fill(6, 1.f);
    s.layer.fill(3, 0.1f);  // some tone so that the call is not a no-op, but blemish 0
    OwnedFrame tone_only(before), reference(before);
    blend::apply(tone_only.f, s.roi, s.mask.data(), s.layer.get(), amounts(1.f, 0.f, 1.f, true));
    blend::apply(reference.f, s.roi, s.mask.data(), s.layer.get(), amounts(1.f, 0.f, 1.f, false));
    for (int p = 0; p < 3; ++p) EXPECT_EQ(tone_only.mem[p], reference.mem[p]) << int(fmt);
  }
}

TEST(Draw, DrawsOnTheEdgesAndNothingOutsideTheFrame) {
  std::mt19937 rng(6);
  for (PixelFormat fmt : kAll) {
    OwnedFrame frame(fmt, 5, 3, 4, rng);
    const OwnedFrame before(frame);
    blend::draw_rect(frame.f, Rect{-30, -20, 10, 10}, {0, 255, 0});  // wholly outside: no byte changes
    blend::draw_dot(frame.f, -5, 100, {255, 0, 0});
    for (int p = 0; p < 3; ++p) ASSERT_EQ(frame.mem[p], before.mem[p]) << int(fmt);
    blend::draw_rect(frame.f, Rect{1, 0, 3, 3}, {0, 255, 0});
    if (blend::is_yuv(fmt)) {
      // BT.709 limited-range green: Y = 16 + 0.7152 * 219
      EXPECT_EQ(frame.mem[0][1], int(std::floor(16 + 0.7152 * 219 + 0.5)));
      EXPECT_EQ(frame.mem[0][frame.f.stride[0] + 2], before.mem[0][frame.f.stride[0] + 2]);  // interior
    } else {
      int r, g, b, bpp;
      blend::packed_layout(fmt, r, g, b, bpp);
      EXPECT_EQ(frame.mem[0][1 * bpp + g], 255);
      EXPECT_EQ(frame.mem[0][1 * bpp + r], 0);
      const size_t interior = size_t(frame.f.stride[0]) + 2 * bpp;
      for (int c = 0; c < bpp; ++c) EXPECT_EQ(frame.mem[0][interior + c], before.mem[0][interior + c]);
    }
    for (int y = 0; y < 3; ++y)  // row padding untouched
      for (int i = frame.f.stride[0] - 4; i < frame.f.stride[0]; ++i)
        EXPECT_EQ(frame.mem[0][size_t(y) * frame.f.stride[0] + i], before.mem[0][size_t(y) * frame.f.stride[0] + i]);
  }
}
