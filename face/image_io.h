// Image files for the CLI, the benchmark and the tests (not used by the stage itself): PNG/JPEG/BMP in through
// dlib's loaders (libpng/libjpeg), PNG out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bty::face {

struct Image {
  int width = 0, height = 0, channels = 0;  // 1 (grey) or 3 (RGB)
  std::vector<uint8_t> data;                // tightly packed rows
  uint8_t* row(int y) { return data.data() + size_t(y) * width * channels; }
  const uint8_t* row(int y) const { return data.data() + size_t(y) * width * channels; }
};

Image load_image(const std::string& path);                 // throws Error; always RGB
Image to_luma(const Image& rgb);                           // full-range BT.601 luma
void save_png(const Image& img, const std::string& path);  // throws Error
Image resize_bilinear(const Image& img, int w, int h);     // any channels; area-averaged when shrinking by >= 2
void save_jpeg(const Image& img, const std::string& path, int quality = 90);

}  // namespace bty::face
