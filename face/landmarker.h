// 68-point landmark fitting with the regression-tree cascade of dlib's shape predictor model file
// (Kazemi & Sullivan 2014). The cascade is evaluated here rather than through dlib::shape_predictor so that
//  - the start placement may be rotated (rolled faces are tracked from their previous shape's roll),
//  - feature pixels are sampled bilinearly (supersampled on large faces) straight from the frame's luma plane,
//    which makes the fit vary smoothly with sub-pixel motion (less jitter) and needs no image copy,
//  - the landmarks come out in float precision (dlib rounds them to whole pixels).
#pragma once

#include "geometry.h"
#include "types.h"

#include <memory>
#include <string>
#include <vector>

namespace bty::face {

struct LandmarkModel;  // the loaded predictor + its mean shape, shared between stages that use the same file

// A frame-to-shape-space placement: the similarity mapping the predictor's unit box [0,1]^2 to frame px
// (scale = box side, angle = roll). A detection gives one with angle 0; a tracked shape gives one by fitting the
// model's mean shape to it.
using Placement = Similarity;

struct FitResult {
  Landmarks lm{};
  std::vector<float> patch;  // zero-mean, unit-norm appearance patch of the inner face (kPatch x kPatch)
  float shape_residual = 0;  // RMS distance from the mean shape, unit-box units, after similarity alignment
  float visible = 1;         // fraction of the placement's box inside the frame
};

class Landmarker {
 public:
  static constexpr int kPatch = 24;  // appearance patch side

  explicit Landmarker(const std::string& model_path);  // throws Error (missing/corrupt model)
  ~Landmarker();

  // Placements and landmarks are in square-pixel space (x = frame x * img.pixel_aspect).
  FitResult fit(const LumaView& img, const Placement& start) const;
  Placement placement_of(const Landmarks& lm) const;    // least-squares placement of the mean shape onto lm
  static Placement placement_of_box(const RectF& box);  // axis-aligned detector box (pixel-centre coordinates)
  static RectF box_of(const Placement& p);              // axis-aligned bounds of a placement's box

 private:
  std::shared_ptr<const LandmarkModel> model_;
};

// Normalised cross-correlation of two zero-mean unit-norm patches (0 when either is empty/flat).
float patch_ncc(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace bty::face
