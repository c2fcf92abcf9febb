#include "motion.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace bty::face {

namespace {
inline int clampi(int v, int lo, int hi) { return std::min(std::max(v, lo), hi); }

// Diamond search (steps 4, 2, 1 px) for the integer shift within +-range of least cost, from the better of no
// shift and the last shift found. Returns the cost there.
template <class Cost>
double diamond(const Cost& cost, int range, int last_dx, int last_dy, int& bx, int& by) {
  bx = by = 0;
  double best = cost(0, 0);
  if (last_dx != 0 || last_dy != 0) {
    const double c = cost(last_dx, last_dy);
    if (c < best) best = c, bx = last_dx, by = last_dy;
  }
  for (int step = 4; step >= 1; step /= 2) {
    for (bool moved = true; moved;) {
      moved = false;
      static const int d[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
      for (const auto& v : d) {
        const int cx = bx + v[0] * step, cy = by + v[1] * step;
        if (std::abs(cx) > range || std::abs(cy) > range) continue;
        const double c = cost(cx, cy);
        if (c < best) best = c, bx = cx, by = cy, moved = true;
      }
    }
  }
  return best;
}

// Bilinear grey value at (x, y) frame px, clamped to the plane.
inline float bilinear(const LumaView& img, float x, float y) {
  x = std::min(std::max(x, 0.f), float(img.width - 1));
  y = std::min(std::max(y, 0.f), float(img.height - 1));
  const int x0 = int(x), y0 = int(y);
  const int x1 = std::min(x0 + 1, img.width - 1), y1 = std::min(y0 + 1, img.height - 1);
  const float fx = x - float(x0), fy = y - float(y0);
  const uint8_t* r0 = img.data + size_t(y0) * img.stride;
  const uint8_t* r1 = img.data + size_t(y1) * img.stride;
  const float top = float(r0[x0]) + fx * float(r0[x1] - r0[x0]);
  const float bottom = float(r1[x0]) + fx * float(r1[x1] - r1[x0]);
  return top + fy * (bottom - top);
}
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
  int bx = 0, by = 0;
  const double best = diamond([&](int dx, int dy) { return sad(img, dx, dy); }, range_, last_dx_, last_dy_, bx, by);
  if (best > double(mad) * kGrid * kGrid) return false;  // quick reject before the per-tile check
  for (float m : tile_mad(img, bx, by))
    if (m > mad) return false;
  last_dx_ = bx, last_dy_ = by;
  shift = Eigen::Vector2f(float(bx) * img.pixel_aspect, float(by));
  return true;
}

bool FrameFlow::track(const LumaView& img, const RectF& box, float max_mad, Eigen::Vector2f& shift) {
  shift.setZero();
  bool found = false;
  const int n = kGrid * kGrid;
  if (!ref_.empty()) {
    // Integer shift by block matching, then Gauss-Newton steps on the bilinear picture with Huber weights
    // (|diff| above kHuber grey levels counts less: a blink, the mouth, a specular highlight).
    constexpr float kHuber = 6.f;
    const auto sad = [&](int dx, int dy) {
      double s = 0;
      for (int j = 0; j < kGrid; ++j) {
        const uint8_t* row = img.data + size_t(clampi(int(ys_[size_t(j)]) + dy, 0, img.height - 1)) * img.stride;
        for (int i = 0; i < kGrid; ++i)
          s += std::abs(float(row[clampi(int(xs_[size_t(i)]) + dx, 0, img.width - 1)]) - ref_[size_t(j) * kGrid + i]);
      }
      return s;
    };
    int bx = 0, by = 0;
    diamond(sad, range_, last_dx_, last_dy_, bx, by);
    last_dx_ = bx, last_dy_ = by;
    float dx = float(bx), dy = float(by), mad = 0.f;
    for (int it = 0; it < 4; ++it) {
      double a11 = 0, a12 = 0, a22 = 0, b1 = 0, b2 = 0, abs_sum = 0;
      for (int j = 0; j < kGrid; ++j) {
        const float y = ys_[size_t(j)] + dy;
        for (int i = 0; i < kGrid; ++i) {
          const float x = xs_[size_t(i)] + dx;
          const float r = bilinear(img, x, y) - ref_[size_t(j) * kGrid + i];
          const float gx = 0.5f * (bilinear(img, x + 1.f, y) - bilinear(img, x - 1.f, y));
          const float gy = 0.5f * (bilinear(img, x, y + 1.f) - bilinear(img, x, y - 1.f));
          const float w = std::abs(r) <= kHuber ? 1.f : kHuber / std::abs(r);
          a11 += w * gx * gx, a12 += w * gx * gy, a22 += w * gy * gy;
          b1 += w * gx * r, b2 += w * gy * r;
          abs_sum += std::abs(r);
        }
      }
      mad = float(abs_sum / n);
      const double det = a11 * a22 - a12 * a12;
      if (!(det > 1e-6 * (a11 + a22) * (a11 + a22)) || a11 + a22 <= 0) break;  // no texture to measure against
      const float ex = float(-(a22 * b1 - a12 * b2) / det), ey = float(-(a11 * b2 - a12 * b1) / det);
      dx += std::min(std::max(ex, -1.f), 1.f), dy += std::min(std::max(ey, -1.f), 1.f);
      if (std::abs(ex) < 0.01f && std::abs(ey) < 0.01f) break;
    }
    found = mad <= max_mad;
    if (found) shift = Eigen::Vector2f(dx * img.pixel_aspect, dy);
  }
  // The next reference: this frame's region at whole pixels (exact values, no interpolation blur).
  const float x0 = box.x0 / img.pixel_aspect, x1 = box.x1 / img.pixel_aspect;
  xs_.resize(kGrid);
  ys_.resize(kGrid);
  for (int i = 0; i < kGrid; ++i) {
    xs_[size_t(i)] = float(clampi(int(std::lround(x0 + (i + 0.5f) * (x1 - x0) / kGrid)), 0, img.width - 1));
    ys_[size_t(i)] =
        float(clampi(int(std::lround(box.y0 + (i + 0.5f) * (box.y1 - box.y0) / kGrid)), 0, img.height - 1));
  }
  ref_.resize(size_t(n));
  for (int j = 0; j < kGrid; ++j) {
    const uint8_t* row = img.data + size_t(ys_[size_t(j)]) * img.stride;
    for (int i = 0; i < kGrid; ++i) ref_[size_t(j) * kGrid + i] = row[size_t(xs_[size_t(i)])];
  }
  range_ = std::max(2, int(std::min(x1 - x0, box.y1 - box.y0) / 4));
  if (!found) last_dx_ = last_dy_ = 0;
  return found;
}

}  // namespace bty::face
