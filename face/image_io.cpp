#include "image_io.h"

#include "face_stage.h"

#include <dlib/image_io.h>
#include <dlib/image_saver/save_jpeg.h>
#include <dlib/image_saver/save_png.h>

#include <algorithm>
#include <cmath>

namespace bty::face {

Image load_image(const std::string& path) {
  dlib::array2d<dlib::rgb_pixel> a;
  try {
    dlib::load_image(a, path);
  } catch (const std::exception& e) {
    throw Error("cannot read image '" + path + "': " + e.what());
  }
  Image img;
  img.width = int(a.nc()), img.height = int(a.nr()), img.channels = 3;
  img.data.resize(size_t(img.width) * img.height * 3);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      uint8_t* p = img.row(y) + 3 * x;
      p[0] = a[y][x].red, p[1] = a[y][x].green, p[2] = a[y][x].blue;
    }
  return img;
}

Image to_luma(const Image& in) {
  if (in.channels == 1) return in;
  Image out;
  out.width = in.width, out.height = in.height, out.channels = 1;
  out.data.resize(size_t(in.width) * in.height);
  for (size_t i = 0; i < out.data.size(); ++i) {
    const uint8_t* p = in.data.data() + 3 * i;
    out.data[i] = uint8_t((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
  }
  return out;
}

namespace {
// Copies an 8-bit grey or RGB image into the dlib array type it needs and hands it to `save`.
template <class Save>
void save_with(const Image& img, const std::string& path, Save save) {
  try {
    if (img.channels == 1) {
      dlib::array2d<unsigned char> a(img.height, img.width);
      for (int y = 0; y < img.height; ++y) std::copy(img.row(y), img.row(y) + img.width, &a[y][0]);
      save(a);
    } else {
      dlib::array2d<dlib::rgb_pixel> a(img.height, img.width);
      for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x) {
          const uint8_t* p = img.row(y) + 3 * x;
          a[y][x] = dlib::rgb_pixel(p[0], p[1], p[2]);
        }
      save(a);
    }
  } catch (const std::exception& e) {
    throw Error("cannot write '" + path + "': " + e.what());
  }
}
}  // namespace

void save_png(const Image& img, const std::string& path) {
  save_with(img, path, [&](const auto& a) { dlib::save_png(a, path); });
}

void save_jpeg(const Image& img, const std::string& path, int quality) {
  save_with(img, path, [&](const auto& a) { dlib::save_jpeg(a, path, quality); });
}

Image resize_bilinear(const Image& in, int w, int h) {
  Image src = in;
  const int c = in.channels;
  // Halve with a 2x2 box while the target is at most half the size, so shrinking does not alias.
  while (w * 2 <= src.width && h * 2 <= src.height) {
    Image half;
    half.width = src.width / 2, half.height = src.height / 2, half.channels = c;
    half.data.resize(size_t(half.width) * half.height * c);
    for (int y = 0; y < half.height; ++y)
      for (int x = 0; x < half.width; ++x)
        for (int k = 0; k < c; ++k) {
          const int s = src.row(2 * y)[(2 * x) * c + k] + src.row(2 * y)[(2 * x + 1) * c + k] +
                        src.row(2 * y + 1)[(2 * x) * c + k] + src.row(2 * y + 1)[(2 * x + 1) * c + k];
          half.row(y)[x * c + k] = uint8_t((s + 2) / 4);
        }
    src = std::move(half);
  }
  Image out;
  out.width = w, out.height = h, out.channels = c;
  out.data.resize(size_t(w) * h * c);
  const float sx = float(src.width) / w, sy = float(src.height) / h;
  for (int y = 0; y < h; ++y) {
    const float fy = std::min(std::max((y + 0.5f) * sy - 0.5f, 0.f), float(src.height - 1));
    const int y0 = int(fy), y1 = std::min(y0 + 1, src.height - 1);
    const float wy = fy - y0;
    for (int x = 0; x < w; ++x) {
      const float fx = std::min(std::max((x + 0.5f) * sx - 0.5f, 0.f), float(src.width - 1));
      const int x0 = int(fx), x1 = std::min(x0 + 1, src.width - 1);
      const float wx = fx - x0;
      for (int k = 0; k < c; ++k) {
        const float top = src.row(y0)[x0 * c + k] * (1 - wx) + src.row(y0)[x1 * c + k] * wx;
        const float bot = src.row(y1)[x0 * c + k] * (1 - wx) + src.row(y1)[x1 * c + k] * wx;
        out.row(y)[x * c + k] = uint8_t(std::lround(top * (1 - wy) + bot * wy));
      }
    }
  }
  return out;
}

}  // namespace bty::face
