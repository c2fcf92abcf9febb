// Small geometry helpers shared by the face stage: similarity transforms (Eigen), rectangles, ROI alignment.
#pragma once

#include "types.h"

#include <Eigen/Core>

namespace bty::face {

// p' = scale * R(angle) * p + t
struct Similarity {
  float scale = 1.f;
  float angle = 0.f;  // radians
  Eigen::Vector2f t = Eigen::Vector2f::Zero();

  Eigen::Matrix2f linear() const;
  Eigen::Vector2f apply(const Eigen::Vector2f& p) const { return linear() * p + t; }
  Similarity inverse() const;
};

// Least-squares similarity mapping src[i] -> dst[i] (Umeyama).
Similarity fit_similarity(const Eigen::Vector2f* src, const Eigen::Vector2f* dst, int n);

struct RectF {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  float width() const { return x1 - x0; }
  float height() const { return y1 - y0; }
};

float iou(const RectF& a, const RectF& b);
RectF bounds(const Eigen::Vector2f* pts, int n);
Rect to_rect(const RectF& r);  // rounds outwards

// Pads r by pad px, snaps origin down and end up to the align grid, clamps to the frame. Where the frame size
// is not a multiple of align, a ROI touching the right/bottom edge ends at the frame edge.
Rect align_roi(const RectF& r, float pad, int align, int frame_w, int frame_h);

// Eye centres and derived face axes from 68 landmarks.
struct FaceAxes {
  Eigen::Vector2f eye_l, eye_r, eye_mid, mouth, right, up;  // right: subject's left eye -> right eye (image x)
  float interocular = 0, eye_to_chin = 0, roll = 0;
};
FaceAxes face_axes(const Landmarks& lm);

}  // namespace bty::face
