#include "geometry.h"

#include <Eigen/Geometry>

#include <algorithm>
#include <cmath>

namespace bty::face {

Eigen::Matrix2f Similarity::linear() const {
  const float c = std::cos(angle) * scale, s = std::sin(angle) * scale;
  Eigen::Matrix2f m;
  m << c, -s, s, c;
  return m;
}

Similarity Similarity::inverse() const {
  Similarity inv;
  inv.scale = 1.f / scale;
  inv.angle = -angle;
  inv.t = -(inv.linear() * t);
  return inv;
}

Similarity fit_similarity(const Eigen::Vector2f* src, const Eigen::Vector2f* dst, int n) {
  Eigen::Matrix2Xf a(2, n), b(2, n);
  for (int i = 0; i < n; ++i) {
    a.col(i) = src[i];
    b.col(i) = dst[i];
  }
  const Eigen::Matrix3f m = Eigen::umeyama(a, b, true);
  Similarity s;
  const Eigen::Matrix2f lin = m.topLeftCorner<2, 2>();
  s.scale = std::sqrt(std::abs(lin.determinant()));
  s.angle = std::atan2(lin(1, 0), lin(0, 0));
  s.t = m.topRightCorner<2, 1>();
  return s;
}

float iou(const RectF& a, const RectF& b) {
  const float ix = std::max(0.f, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const float iy = std::max(0.f, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  const float inter = ix * iy;
  const float uni = a.width() * a.height() + b.width() * b.height() - inter;
  return uni > 0 ? inter / uni : 0.f;
}

RectF bounds(const Eigen::Vector2f* pts, int n) {
  RectF r{pts[0].x(), pts[0].y(), pts[0].x(), pts[0].y()};
  for (int i = 1; i < n; ++i) {
    r.x0 = std::min(r.x0, pts[i].x());
    r.y0 = std::min(r.y0, pts[i].y());
    r.x1 = std::max(r.x1, pts[i].x());
    r.y1 = std::max(r.y1, pts[i].y());
  }
  return r;
}

Rect to_rect(const RectF& r) {
  const int x0 = int(std::floor(r.x0)), y0 = int(std::floor(r.y0));
  const int x1 = int(std::ceil(r.x1)), y1 = int(std::ceil(r.y1));
  return Rect{x0, y0, x1 - x0, y1 - y0};
}

static int floor_to(int v, int a) { return (v >= 0 ? v / a : -((-v + a - 1) / a)) * a; }

Rect align_roi(const RectF& r, float pad, int align, int frame_w, int frame_h) {
  align = std::max(1, align);
  // Clamp in float first so huge or NaN coordinates cannot overflow int.
  auto clampf = [](float v, float lo, float hi) { return std::isfinite(v) ? std::min(std::max(v, lo), hi) : lo; };
  const float fx0 = clampf(r.x0 - pad, 0.f, float(frame_w)), fy0 = clampf(r.y0 - pad, 0.f, float(frame_h));
  const float fx1 = clampf(r.x1 + pad, 0.f, float(frame_w)), fy1 = clampf(r.y1 + pad, 0.f, float(frame_h));
  if (!(fx1 > fx0) || !(fy1 > fy0)) return Rect{};  // nothing of it inside the frame
  int x0 = floor_to(int(std::floor(fx0)), align), y0 = floor_to(int(std::floor(fy0)), align);
  int x1 = floor_to(int(std::ceil(fx1)) + align - 1, align), y1 = floor_to(int(std::ceil(fy1)) + align - 1, align);
  x1 = std::min(x1, frame_w);
  y1 = std::min(y1, frame_h);
  if (x1 <= x0 || y1 <= y0) return Rect{};
  return Rect{x0, y0, x1 - x0, y1 - y0};
}

FaceAxes face_axes(const Landmarks& lm) {
  FaceAxes a;
  a.eye_l = a.eye_r = a.mouth = Eigen::Vector2f::Zero();
  for (int i = 36; i < 42; ++i) a.eye_l += lm[i] / 6.f;
  for (int i = 42; i < 48; ++i) a.eye_r += lm[i] / 6.f;
  for (int i = 48; i < 68; ++i) a.mouth += lm[i] / 20.f;
  a.eye_mid = 0.5f * (a.eye_l + a.eye_r);
  Eigen::Vector2f d = a.eye_r - a.eye_l;
  a.interocular = d.norm();
  a.right = a.interocular > 1e-6f ? Eigen::Vector2f(d / a.interocular) : Eigen::Vector2f(1, 0);
  a.up = Eigen::Vector2f(a.right.y(), -a.right.x());  // image y points down
  // Make "up" point from the mouth towards the eyes even for a mirrored or degenerate fit.
  if (a.up.dot(a.eye_mid - a.mouth) < 0) a.up = -a.up;
  a.eye_to_chin = (lm[8] - a.eye_mid).norm();
  a.roll = std::atan2(a.right.y(), a.right.x());
  return a;
}

}  // namespace bty::face
