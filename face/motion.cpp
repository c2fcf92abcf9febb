#include "motion.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace bty::face {

namespace {
inline int clampi(int v, int lo, int hi) { return std::min(std::max(v, lo), hi); }
}  // namespace

void MotionRef::capture(const LumaView& img, const RectF& box) {
  const float x0 = box.x0 / img.pixel_aspect, x1 = box.x1 / img.pixel_aspect;
  xs_.resize(kGrid);
  ys_.resize(kGrid);
  for (int i = 0; i < kGrid; ++i) {
    xs_[size_t(i)] = int(std::lround(x0 + (i + 0.5f) * (x1 - x0) / kGrid));
    ys_[size_t(i)] = int(std::lround(box.y0 + (i + 0.5f) * (box.y1 - box.y0) / kGrid));
  }
  ref_.resize(size_t(kGrid) * kGrid);
  for (int j = 0; j < kGrid; ++j) {
    const uint8_t* row = img.data + size_t(clampi(ys_[size_t(j)], 0, img.height - 1)) * img.stride;
    for (int i = 0; i < kGrid; ++i) ref_[size_t(j) * kGrid + i] = row[clampi(xs_[size_t(i)], 0, img.width - 1)];
  }
  range_ = std::max(2, int(std::min(x1 - x0, box.y1 - box.y0) / 4));
  last_dx_ = last_dy_ = 0;
}

double MotionRef::sad(const LumaView& img, int dx, int dy) const {
  int s = 0;
  for (int j = 0; j < kGrid; ++j) {
    const uint8_t* row = img.data + size_t(clampi(ys_[size_t(j)] + dy, 0, img.height - 1)) * img.stride;
    const uint8_t* ref = ref_.data() + size_t(j) * kGrid;
    for (int i = 0; i < kGrid; ++i) s += std::abs(int(row[clampi(xs_[size_t(i)] + dx, 0, img.width - 1)]) - ref[i]);
  }
  return s;
}

std::vector<float> MotionRef::tile_mad(const LumaView& img, int dx, int dy) const {
  constexpr int n = kGrid / kTile;
  std::vector<float> out(size_t(n) * n, 0.f);
  for (int j = 0; j < kGrid; ++j) {
    const uint8_t* row = img.data + size_t(clampi(ys_[size_t(j)] + dy, 0, img.height - 1)) * img.stride;
    for (int i = 0; i < kGrid; ++i)
      out[size_t(j / kTile) * n + size_t(i / kTile)] +=
          float(std::abs(int(row[clampi(xs_[size_t(i)] + dx, 0, img.width - 1)]) - ref_[size_t(j) * kGrid + i]));
  }
  for (float& v : out) v /= float(kTile * kTile);
  return out;
}

bool MotionRef::still(const LumaView& img, float mad, Eigen::Vector2f& shift) {
  if (!valid()) return false;
  // Start from the better of no motion and the last shift; diamond steps 4, 2, 1 px.
  int bx = 0, by = 0;
  double best = sad(img, 0, 0);
  if (last_dx_ != 0 || last_dy_ != 0) {
    const double c = sad(img, last_dx_, last_dy_);
    if (c < best) best = c, bx = last_dx_, by = last_dy_;
  }
  for (int step = 4; step >= 1; step /= 2) {
    for (bool moved = true; moved;) {
      moved = false;
      static const int d[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
      for (const auto& v : d) {
        const int cx = bx + v[0] * step, cy = by + v[1] * step;
        if (std::abs(cx) > range_ || std::abs(cy) > range_) continue;
        const double c = sad(img, cx, cy);
        if (c < best) best = c, bx = cx, by = cy, moved = true;
      }
    }
  }
  if (best > double(mad) * kGrid * kGrid) return false;  // quick reject before the per-tile check
  for (float m : tile_mad(img, bx, by))
    if (m > mad) return false;
  last_dx_ = bx, last_dy_ = by;
  shift = Eigen::Vector2f(float(bx) * img.pixel_aspect, float(by));
  return true;
}

}  // namespace bty::face
