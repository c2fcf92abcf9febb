// Input preparation: every pixel format gives the same net input as the RGB reading of the same picture; resampling
// is exact at 1:1, clamps ROIs that leave the image, and honours padded strides.
#include <array>

#include "input_prep.h"
#include "kernels.h"
#include "test_util.h"

namespace bty::test {
namespace {

ModelInfo rgb_info() {
  ModelInfo i;
  i.input_scale = 1.0f;  // net input in 8-bit units makes tolerances readable
  i.input_bias = 0.0f;
  return i;
}

// A smooth colourful test picture (chroma subsampling is then nearly lossless).
std::array<uint8_t, 3> colour_at(int x, int y) {
  return {uint8_t(40 + (x * 3) % 170), uint8_t(60 + (y * 5) % 150), uint8_t(90 + ((x + y) * 2) % 120)};
}

struct Picture {
  int w, h;
  std::vector<uint8_t> a, b, c;
  ImageView view;
};

Picture make(PixelFormat f, int w, int h, int pad) {
  Picture p{w, h, {}, {}, {}, {}};
  p.view.format = f;
  p.view.width = w;
  p.view.height = h;
  p.view.matrix = YuvMatrix::BT601;
  p.view.full_range = true;
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  auto rgb = [&](int x, int y) { return colour_at(x, y); };
  auto yuv = [&](int x, int y) {
    auto c = rgb(x, y);
    float Y = 0.299f * c[0] + 0.587f * c[1] + 0.114f * c[2];
    return std::array<float, 3>{Y, 128 + (c[2] - Y) * 0.564f, 128 + (c[0] - Y) * 0.713f};
  };
  if (f == PixelFormat::I420 || f == PixelFormat::YV12 || f == PixelFormat::NV12 || f == PixelFormat::NV21) {
    bool semi = f == PixelFormat::NV12 || f == PixelFormat::NV21;
    bool swap = f == PixelFormat::YV12 || f == PixelFormat::NV21;
    p.view.stride[0] = w + pad;
    p.a.assign(size_t(p.view.stride[0]) * h, 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) p.a[size_t(y) * p.view.stride[0] + x] = uint8_t(std::lround(yuv(x, y)[0]));
    int cs = semi ? 2 * cw + pad : cw + pad;
    p.b.assign(size_t(cs) * ch, 0);
    p.c.assign(size_t(cs) * ch, 0);
    for (int y = 0; y < ch; ++y)
      for (int x = 0; x < cw; ++x) {
        auto v = yuv(std::min(2 * x, w - 1), std::min(2 * y, h - 1));
        uint8_t u = uint8_t(std::lround(v[1])), vv = uint8_t(std::lround(v[2]));
        if (swap) std::swap(u, vv);
        if (semi) {
          p.b[size_t(y) * cs + 2 * x] = u;
          p.b[size_t(y) * cs + 2 * x + 1] = vv;
        } else {
          p.b[size_t(y) * cs + x] = u;
          p.c[size_t(y) * cs + x] = vv;
        }
      }
    p.view.plane[0] = p.a.data();
    p.view.plane[1] = p.b.data();
    p.view.plane[2] = semi ? nullptr : p.c.data();
    p.view.stride[1] = p.view.stride[2] = cs;
    return p;
  }
  if (f == PixelFormat::YUY2 || f == PixelFormat::UYVY || f == PixelFormat::YVYU) {
    // Packed 4:2:2, byte order written out here: Y0 U Y1 V / U Y0 V Y1 / Y0 V Y1 U.
    const int y0 = f == PixelFormat::UYVY ? 1 : 0, cb = f == PixelFormat::YUY2 ? 1 : f == PixelFormat::UYVY ? 0 : 3;
    const int cr = f == PixelFormat::YUY2 ? 3 : f == PixelFormat::UYVY ? 2 : 1;
    p.view.stride[0] = 4 * cw + pad;
    p.a.assign(size_t(p.view.stride[0]) * h, 0xAB);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < cw; ++x) {
        uint8_t* m = p.a.data() + size_t(y) * p.view.stride[0] + 4 * x;
        m[y0] = uint8_t(std::lround(yuv(2 * x, y)[0]));
        if (2 * x + 1 < w) m[y0 + 2] = uint8_t(std::lround(yuv(2 * x + 1, y)[0]));
        auto v = yuv(2 * x, y);
        m[cb] = uint8_t(std::lround(v[1]));
        m[cr] = uint8_t(std::lround(v[2]));
      }
    p.view.plane[0] = p.a.data();
    return p;
  }
  if (f == PixelFormat::GRAY8) {
    p.view.stride[0] = w + pad;
    p.a.assign(size_t(p.view.stride[0]) * h, 0xAB);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) p.a[size_t(y) * p.view.stride[0] + x] = uint8_t(std::lround(yuv(x, y)[0]));
    p.view.plane[0] = p.a.data();
    return p;
  }
  int r, g, b, bpp = 4;
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
    case PixelFormat::BGR:
      r = 2;
      g = 1;
      b = 0;
      bpp = 3;
      break;
    default:
      r = 0;
      g = 1;
      b = 2;
      bpp = 3;
      break;
  }
  p.view.stride[0] = w * bpp + pad;
  p.a.assign(size_t(p.view.stride[0]) * h, 0xAB);  // alpha/padding bytes must not leak into the result
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      auto c = rgb(x, y);
      uint8_t* px = p.a.data() + size_t(y) * p.view.stride[0] + x * bpp;
      px[r] = c[0];
      px[g] = c[1];
      px[b] = c[2];
    }
  p.view.plane[0] = p.a.data();
  return p;
}

std::vector<float> prepare(const ImageView& v, Rect roi, int w, int h) {
  ImageInput in(v, roi, w, h, rgb_info(), select_kernels(Isa::Auto).colour_row);
  std::vector<float> out(size_t(3) * w * h), row(size_t(3) * w);
  for (int y = 0; y < h; ++y) {
    in.row(y, 0, w, row.data(), w);
    for (int c = 0; c < 3; ++c) std::copy(&row[size_t(c) * w], &row[size_t(c) * w] + w, &out[(size_t(c) * h + y) * w]);
  }
  return out;
}

TEST(InputPrep, IdentityResampleIsExact) {
  Picture p = make(PixelFormat::RGB, 24, 16, 0);
  auto out = prepare(p.view, {0, 0, 24, 16}, 24, 16);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 24; ++x)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(out[(size_t(c) * 16 + y) * 24 + x], colour_at(x, y)[c]);
}

TEST(InputPrep, EveryFormatAgreesWithRgb) {
  const PixelFormat packed[] = {PixelFormat::RGBA, PixelFormat::BGRA, PixelFormat::RGBx,
                                PixelFormat::BGRx, PixelFormat::ARGB, PixelFormat::ABGR,
                                PixelFormat::xRGB, PixelFormat::xBGR, PixelFormat::BGR};
  const PixelFormat yuv[] = {PixelFormat::I420, PixelFormat::YV12, PixelFormat::NV12, PixelFormat::NV21,
                             PixelFormat::YUY2, PixelFormat::UYVY, PixelFormat::YVYU};
  const int w = 37, h = 23;  // odd sizes: odd chroma planes
  const Rect roi{3, 2, 30, 19};
  auto ref = prepare(make(PixelFormat::RGB, w, h, 0).view, roi, 16, 24);
  for (PixelFormat f : packed)
    for (int pad : {0, 13}) {
      Picture p = make(f, w, h, pad);
      EXPECT_LE(max_abs_diff(prepare(p.view, roi, 16, 24), ref), 1e-4f) << int(f) << " pad " << pad;
    }
  for (PixelFormat f : yuv)
    for (int pad : {0, 7}) {
      Picture p = make(f, w, h, pad);
      // 4:2:0 chroma and 8-bit rounding of Y/U/V: a few levels on this smooth picture.
      EXPECT_LE(max_abs_diff(prepare(p.view, roi, 16, 24), ref), 6.0f) << int(f) << " pad " << pad;
    }
  // GRAY8: each channel reads the grey byte, the luma of the RGB picture.
  for (int pad : {0, 5}) {
    auto grey = prepare(make(PixelFormat::GRAY8, w, h, pad).view, roi, 16, 24);
    for (size_t i = 0; i < size_t(16) * 24; ++i) {
      const float luma = 0.299f * ref[i] + 0.587f * ref[16 * 24 + i] + 0.114f * ref[2 * 16 * 24 + i];
      for (int c = 0; c < 3; ++c) ASSERT_NEAR(grey[c * 16 * 24 + i], luma, 1.0f) << "pad " << pad;
    }
  }
}

TEST(InputPrep, RoiOutsideTheImageIsClampedNotRead) {
  Picture p = make(PixelFormat::RGB, 8, 8, 0);
  auto out = prepare(p.view, {-20, -20, 60, 60}, 16, 16);
  // The corner samples lie outside: they take the nearest edge pixel.
  EXPECT_EQ(out[0], colour_at(0, 0)[0]);
  EXPECT_EQ(out[15], colour_at(7, 0)[0]);
}

TEST(InputPrep, OnePixelImage) {
  Picture p = make(PixelFormat::I420, 1, 1, 0);
  auto out = prepare(p.view, {0, 0, 1, 1}, 8, 8);
  for (float v : out) EXPECT_TRUE(v >= 0.0f && v <= 255.0f);
}

TEST(InputPrep, RejectsEmptyInputs) {
  Picture p = make(PixelFormat::RGB, 8, 8, 0);
  EXPECT_THROW(ImageInput(p.view, {0, 0, 0, 4}, 8, 8, rgb_info(), select_kernels(Isa::Scalar).colour_row),
               std::invalid_argument);
  ImageView empty;
  EXPECT_THROW(ImageInput(empty, {0, 0, 4, 4}, 8, 8, rgb_info(), select_kernels(Isa::Scalar).colour_row),
               std::invalid_argument);
}

}  // namespace
}  // namespace bty::test
