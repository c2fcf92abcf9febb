#include "shot_cut.h"

#include <algorithm>
#include <cmath>

namespace bty::face {

namespace {

template <size_t N>
float l1(const std::array<float, N>& a, const std::array<float, N>& b) {
  float d = 0.f;
  for (size_t i = 0; i < N; ++i) d += std::fabs(a[i] - b[i]);
  return d;
}

template <size_t N>
void normalise(std::array<float, N>& h) {
  float n = 0.f;
  for (float v : h) n += v;
  if (n > 0.f)
    for (float& v : h) v /= n;
}

}  // namespace

bool ShotCut::update(const uint8_t* luma, int width, int height, int stride) {
  // Every step-th pixel of every step-th row: ~16 K samples (1080p: step 11), counted per region's column range.
  const int step = std::max(1, int(std::lround(std::sqrt(double(width) * height / 16384.0))));
  std::array<uint32_t, kGlobalBins> g{};
  std::array<std::array<uint32_t, kRegionBins>, kGridX * kGridY> r{};
  for (int y = 0; y < height; y += step) {
    const uint8_t* row = luma + size_t(y) * size_t(stride);
    const int ry = std::min(kGridY - 1, y * kGridY / height);
    int x = 0;
    for (int rx = 0; rx < kGridX; ++rx) {
      auto& h = r[size_t(ry * kGridX + rx)];
      for (const int end = (rx + 1) * width / kGridX; x < end; x += step) {
        const int v = row[x];
        ++g[size_t(v >> 3)];
        ++h[size_t(v >> 4)];
      }
    }
  }
  std::array<float, kGlobalBins> global;
  std::array<std::array<float, kRegionBins>, kGridX * kGridY> regions;
  for (size_t i = 0; i < g.size(); ++i) global[i] = float(g[i]);
  for (size_t k = 0; k < r.size(); ++k)
    for (size_t i = 0; i < r[k].size(); ++i) regions[k][i] = float(r[k][i]);
  normalise(global);
  for (auto& h : regions) normalise(h);

  bool cut = false;
  global_d_ = region_d_ = 0.f;
  if (have_) {
    std::array<float, kGridX * kGridY> d;
    for (size_t i = 0; i < d.size(); ++i) d[i] = l1(regions[i], regions_[i]);
    std::sort(d.begin(), d.end());
    global_d_ = l1(global, global_);
    region_d_ = 0.5f * (d[d.size() / 2 - 1] + d[d.size() / 2]);
    cut = global_d_ > kCutGlobal && region_d_ > kCutRegion;
  }
  global_ = global;
  regions_ = regions;
  have_ = true;
  return cut;
}

}  // namespace bty::face
