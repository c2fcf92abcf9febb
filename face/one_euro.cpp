#include "one_euro.h"

#include <cmath>

namespace bty::face {

float OneEuroFilter::alpha(float cutoff_hz, float dt) {
  const float tau = 1.f / (2.f * float(M_PI) * cutoff_hz);
  return 1.f / (1.f + tau / dt);
}

// Centroid and RMS spread of a point set.
static void centroid_spread(const float* xy, int n, float& cx, float& cy, float& spread) {
  double sx = 0, sy = 0;
  for (int i = 0; i < n; ++i) sx += xy[2 * i], sy += xy[2 * i + 1];
  cx = float(sx / n), cy = float(sy / n);
  double ss = 0;
  for (int i = 0; i < n; ++i) {
    const double dx = xy[2 * i] - cx, dy = xy[2 * i + 1] - cy;
    ss += dx * dx + dy * dy;
  }
  spread = float(std::sqrt(ss / n));
}

void OneEuroFilter::carry(float dx, float dy) {
  for (size_t i = 0; i + 1 < prev_.size(); i += 2) prev_[i] += dx, prev_[i + 1] += dy;
}

void OneEuroFilter::filter(float* xy, int n, float dt, float scale) {
  if (n <= 0) return;
  if (!init_ || int(prev_.size()) != 2 * n || !(dt > 0)) {
    prev_.assign(xy, xy + 2 * n);
    speed_ = 0.f;
    cutoff_ = min_cutoff_;
    init_ = true;
    return;
  }
  float cx0, cy0, s0, cx1, cy1, s1;
  centroid_spread(prev_.data(), n, cx0, cy0, s0);
  centroid_spread(xy, n, cx1, cy1, s1);
  const float moved = std::hypot(cx1 - cx0, cy1 - cy0) + std::abs(s1 - s0);
  const float raw_speed = moved / dt / std::max(scale, 1.f);  // face sizes per second
  const float ad = alpha(d_cutoff_, dt);
  speed_ += ad * (raw_speed - speed_);
  cutoff_ = min_cutoff_ + beta_ * speed_;
  const float a = alpha(cutoff_, dt);
  for (int i = 0; i < 2 * n; ++i) {
    prev_[i] += a * (xy[i] - prev_[i]);
    xy[i] = prev_[i];
  }
}

}  // namespace bty::face
