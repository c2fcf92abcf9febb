// Blend unit tests of the v2 retouch layers: blemish/tone weights, passthrough at zero weights, the v1 delta as the
// blemish layer, the pixel shuffle, and the frame-resolution spot step (against its formula, on a small spot, on
// pore texture).
#include "blend_test_util.h"

#include <gtest/gtest.h>

#include <cstdio>

using namespace blend_test;

// ---- v2 retouch layers --------------------------------------------------------------------------------------

// Tone only, blemish only, and a mix: each layer is weighted on its own (mask 255, strength 1, one map pixel per
// frame pixel so the spot step is skipped): v + blemish·Δb + tone·Δt, dithered.
TEST(Layers, BlemishAndToneWeightTheirOwnDelta) {
  std::mt19937 rng(21);
  const Rect roi{0, 0, 12, 8};
  const float db[3] = {12, -6, 30}, dt[3] = {-9, 15, 4};
  const struct { float blemish, tone; } cases[] = {{0.f, 1.f}, {1.f, 0.f}, {0.5f, 0.25f}, {1.f, 1.f}};
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
            ASSERT_EQ(frame.mem[0][o], round_luma(before.mem[0][o] + c.blemish * db[k] + c.tone * dt[k]))
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

// A head given as IEEE halves (an OpenCL net's ClOutput::Half download, converted row by row inside the blend) gives
// the same bytes as the same head converted to floats first, in every format, with the shuffle, both layers and the
// spot step (so the float head's bit-exactness outside the mask holds for halves too).
TEST(Layers, HalfHeadGivesTheSamePixelsAsItsFloats) {
  std::mt19937 rng(26);
  for (PixelFormat fmt : kAll) {
    OwnedFrame a(fmt, 90, 70, 3, rng);
    OwnedFrame b(a);
    const OwnedFrame before(a);
    const Rect roi{5, 3, 80, 64};
    std::vector<uint8_t> mask = random_mask(roi.width, roi.height, rng);
    TestLayers layer(12, 16, blend::net_area(roi, 12, 16, 90, 70), 2, 96.f);
    const Layer& floats = layer.get();
    ASSERT_GT(blend::spot_radius(floats), 0);
    // Finite halves of magnitude below 4 (exponent field < 17), both signs, subnormals included.
    std::vector<uint16_t> half(layer.raw.size());
    for (auto& h : half) h = uint16_t((rng() & 0x8000) | (rng() % 17) << 10 | (rng() & 0x3ff));
    half_to_float(half.data(), layer.raw.data(), half.size());
    Layer halves = floats;
    halves.chw = nullptr;
    halves.half = half.data();
    blend::apply(a.f, roi, mask.data(), floats, amounts(0.9f, 1.f, 0.7f));
    blend::apply(b.f, roi, mask.data(), halves, amounts(0.9f, 1.f, 0.7f));
    for (int p = 0; p < 3; ++p) ASSERT_EQ(a.mem[p], b.mem[p]) << int(fmt);
    EXPECT_NE(a.mem[0], before.mem[0]) << int(fmt);  // the blend did write
  }
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
    EXPECT_GT(d_without, before);       // the delta helps a little
    EXPECT_GT(d_with, d_without + 10);  // the spot step removes clearly more
    EXPECT_GT(d_with, -15);             // most of the spot is gone
    if (blend::is_yuv(fmt)) {           // luma only: chroma is the delta's business
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
            const int want = round_luma(v(fx, fy) + tau * std::tanh(h / tau) - h);
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
