// Blend unit tests: bit-exact outside the mask (and in stride padding), exact deltas per format with an independent
// formula, bilinear upsampling, rounding/clamping, odd sizes and strides, the net-area geometry, drawing. The v2
// retouch layers and the spot step: test_blend_layers.cpp.
#include "blend/draw.h"
#include "blend_test_util.h"

#include <gtest/gtest.h>

#include <cstdio>

using namespace blend_test;

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
        Rect roi{int(rng() % (w + 2)) - 1, int(rng() % (h + 2)) - 1, 1 + int(rng() % (w + 1)),
                 1 + int(rng() % (h + 1))};
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
        auto m = [&](int x, int y) {
          return in_rect(roi, x, y) ? mask[size_t(y - roi.y) * roi.width + (x - roi.x)] : 0;
        };
        SCOPED_TRACE(::testing::Message() << "format " << int(fmt) << " " << w << "x" << h << " pad " << pad);
        if (blend::is_yuv(fmt)) {
          // Every byte of every plane: a luma byte may change only under the mask, a chroma byte only where its
          // block (2 columns × 1 or 2 rows) has mask; any other byte (padding, 4:2:2's odd-width tail) never.
          const YuvLayout L = yuv_layout(fmt);
          const int planes = L.cb_plane == 0 ? 1 : L.cb_plane == L.cr_plane ? 2 : 3;
          const int ch = (h + L.chroma_rows - 1) / L.chroma_rows;
          for (int p = 0; p < planes; ++p)
            for (int row = 0; row < (p == 0 ? h : ch); ++row)
              for (int i = 0; i < frame.f.stride[p]; ++i) {
                bool writable = false;
                if (p == 0 && i >= L.luma_offset && (i - L.luma_offset) % L.luma_step == 0) {
                  const int x = (i - L.luma_offset) / L.luma_step;
                  if (x < w && m(x, row)) writable = true;
                }
                for (int c = 0; c < 2; ++c) {
                  const int off = c ? L.cr_offset : L.cb_offset;
                  if ((c ? L.cr_plane : L.cb_plane) != p || i < off || (i - off) % L.chroma_step) continue;
                  const int cx = (i - off) / L.chroma_step;
                  if (cx >= (w + 1) / 2 || (p == 0 && row >= h)) continue;
                  const int cy = p == 0 ? row / L.chroma_rows : row;
                  int sum = 0;
                  for (int y = cy * L.chroma_rows; y < std::min(h, (cy + 1) * L.chroma_rows); ++y)
                    for (int x = 2 * cx; x < std::min(w, 2 * cx + 2); ++x) sum += m(x, y);
                  if (sum) writable = true;
                }
                if (!writable) {
                  ASSERT_EQ(frame.mem[p][size_t(row) * frame.f.stride[p] + i],
                            before.mem[p][size_t(row) * frame.f.stride[p] + i])
                      << "plane " << p << " row " << row << " byte " << i;
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
                ASSERT_EQ(frame.mem[0][size_t(y) * frame.f.stride[0] + i],
                          before.mem[0][size_t(y) * frame.f.stride[0] + i]);
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
    if (blend::is_yuv(fmt) || fmt == PixelFormat::GRAY8) continue;  // GRAY8: ConstantDeltaPacked422AndGray
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
    EXPECT_EQ(frame.mem[0][x * 3 + 0], round_luma(100 + w * 20)) << x;
    EXPECT_EQ(frame.mem[0][x * 3 + 1], round_luma(100 - w * 20)) << x;
    EXPECT_EQ(frame.mem[0][x * 3 + 2], round_luma(100 + w * 7)) << x;
  }
  EXPECT_EQ(frame.mem[0][0], 100);  // mask 0
}

// Packed 4:2:2 (byte positions written out here, independently of yuv_layout): ΔY per pixel, ΔCb/ΔCr per 2 pixels
// of one row, from the RGB delta with the frame's matrix and range; GRAY8: the BT.601 full-range ΔY.
TEST(Blend, ConstantDeltaPacked422AndGray) {
  std::mt19937 rng(12);
  struct Packed {
    PixelFormat fmt;
    int y0, cb, cr;  // byte offsets in a 4-byte macropixel (second luma at y0 + 2)
  } const packed[] = {{PixelFormat::YUY2, 0, 1, 3}, {PixelFormat::UYVY, 1, 0, 2}, {PixelFormat::YVYU, 0, 3, 1}};
  const double dr = 40, dg = 10, db = -30;
  for (const Packed& pk : packed)
    for (bool full : {false, true})
      for (YuvMatrix mat : {YuvMatrix::BT601, YuvMatrix::BT709}) {
        OwnedFrame frame(pk.fmt, 13, 10, 6, rng, full, mat);  // odd width: a half-used last macropixel
        for (auto& v : frame.mem[0]) v = 128;
        const OwnedFrame before(frame);
        const Rect roi{0, 0, 13, 10};
        std::vector<uint8_t> mask(130, 255);
        TestLayer layer(3, 4, roi, 1.f);
        layer.fill_constant(float(dr), float(dg), float(db));
        blend::apply(frame.f, roi, mask.data(), layer.get(), 1.f);
        const double kr = mat == YuvMatrix::BT601 ? 0.299 : 0.2126, kb = mat == YuvMatrix::BT601 ? 0.114 : 0.0722;
        const double dy = kr * dr + (1 - kr - kb) * dg + kb * db;
        const double dcb = (db - dy) / (2 * (1 - kb)), dcr = (dr - dy) / (2 * (1 - kr));
        const double ys = full ? 1 : 219.0 / 255, cs = full ? 1 : 224.0 / 255;
        const uint8_t* row3 = &frame.mem[0][3 * frame.f.stride[0]];
        const uint8_t* row2 = &frame.mem[0][2 * frame.f.stride[0]];
        EXPECT_EQ(row3[4 * 2 + pk.y0 + 2], round_luma(128 + dy * ys)) << int(pk.fmt);  // pixel 5 = 2nd of pair 2
        EXPECT_EQ(row2[4 * 3 + pk.cb], quantise_chroma(128 + dcb * cs, 3, 2)) << int(pk.fmt);
        EXPECT_EQ(row2[4 * 3 + pk.cr], quantise_chroma(128 + dcr * cs, 3, 2)) << int(pk.fmt);
        // The odd width's last macropixel: its second luma byte (no pixel) is never written.
        for (int y = 0; y < 10; ++y) {
          const size_t i = size_t(y) * frame.f.stride[0] + 4 * 6 + pk.y0 + 2;
          EXPECT_EQ(frame.mem[0][i], before.mem[0][i]);
        }
      }
  OwnedFrame gray(PixelFormat::GRAY8, 11, 9, 5, rng);
  for (auto& v : gray.mem[0]) v = 128;
  const Rect roi{0, 0, 11, 9};
  std::vector<uint8_t> mask(99, 255);
  TestLayer layer(3, 4, roi, 1.f);
  layer.fill_constant(float(dr), float(dg), float(db));
  blend::apply(gray.f, roi, mask.data(), layer.get(), 1.f);
  EXPECT_EQ(gray.mem[0][3 * gray.f.stride[0] + 5], round_luma(128 + 0.299 * dr + 0.587 * dg + 0.114 * db));
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
        const int ey = round_luma(128 + dy * ys), ecb = quantise_chroma(128 + dcb * cs, 3, 2),
                  ecr = quantise_chroma(128 + dcr * cs, 3, 2);
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
                               255, 255, 0,   0};
  TestLayer layer(2, 2, roi, 1.f);
  layer.fill_constant(0, 0, 40);  // pure blue: Cb moves
  blend::apply(frame.f, roi, mask.data(), layer.get(), 1.f);
  const double kb = 0.0722, dcb = (40 - kb * 40) / (2 * (1 - kb));
  EXPECT_EQ(frame.mem[1][0], quantise_chroma(128 + dcb, 0, 0));
  EXPECT_EQ(frame.mem[1][1], quantise_chroma(128 + dcb * 0.25, 1, 0));
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
    for (int x = 0; x < 8; ++x)
      layer.chw[y * 8 + x] = layer.chw[n + y * 8 + x] = layer.chw[2 * n + y * 8 + x] = 8.f * x;
  blend::apply(frame.f, roi, mask.data(), layer.get(), 1.f);
  // Layer cell i is centred at frame x = 8i + 3.5; between the first and last centres the delta is x - 3.5.
  for (int x = 4; x < 60; ++x) EXPECT_EQ(frame.mem[0][size_t(3) * 256 + x * 4], round_luma(100 + (x - 3.5))) << x;
  // Beyond the outer centres it holds the edge value.
  EXPECT_EQ(frame.mem[0][0], 100);
  EXPECT_EQ(frame.mem[0][63 * 4], 156);
}

// Luma rounds to nearest: a delta below half a code value leaves Y alone, one above it moves every Y by one (no
// fixed pattern that would stay put while the face moves). A chroma delta far below one code value is kept on
// average (plain rounding would drop it everywhere). A zero delta changes nothing.
TEST(Blend, LumaRoundsAndChromaKeepsTheMeanOfSmallDeltas) {
  std::mt19937 rng(8);
  for (float d : {0.25f, -0.3f, 0.0f, 0.6f}) {
    OwnedFrame frame(PixelFormat::I420, 32, 32, 0, rng, true);
    for (auto& plane : frame.mem)
      for (auto& v : plane) v = 128;
    const Rect roi{0, 0, 32, 32};
    std::vector<uint8_t> mask(32 * 32, 255);
    TestLayer layer(4, 4, roi, 1.f);
    layer.layer.colour = Colour::YCbCr;
    layer.fill_constant(d, d, -d);  // ΔY = d, ΔCb = d, ΔCr = -d (full-range frame: code deltas as they are)
    blend::apply(frame.f, roi, mask.data(), layer.get(), 1.f);
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) ASSERT_EQ(frame.mem[0][size_t(y) * frame.f.stride[0] + x], round_luma(128 + d)) << d;
    for (int p = 1; p < 3; ++p) {
      double sum = 0;
      for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x) sum += frame.mem[p][size_t(y) * frame.f.stride[p] + x] - 128;
      EXPECT_NEAR(sum / (16 * 16), p == 1 ? d : -d, 1.0 / 16) << d << " plane " << p;
    }
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
      const YuvLayout L = yuv_layout(fmt);
      auto luma = [&](int x) { return size_t(x) * L.luma_step + L.luma_offset; };
      EXPECT_EQ(frame.mem[0][luma(1)], int(std::floor(16 + 0.7152 * 219 + 0.5)));
      EXPECT_EQ(frame.mem[0][frame.f.stride[0] + luma(2)], before.mem[0][frame.f.stride[0] + luma(2)]);  // interior
    } else if (fmt == PixelFormat::GRAY8) {
      EXPECT_EQ(frame.mem[0][1], int(std::floor(0.587 * 255 + 0.5)));  // full-range BT.601 luma of green
      EXPECT_EQ(frame.mem[0][frame.f.stride[0] + 2], before.mem[0][frame.f.stride[0] + 2]);
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
