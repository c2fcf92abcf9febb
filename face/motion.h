// Motion of a face's region, measured on the picture itself (block matching on a grid of samples over the face box,
// a diamond search of step 4, 2, 1 px from the last shift found):
// - MotionRef: is the region unchanged since the face's last landmark fit, up to a shift? Every tile of the grid
//   must match within a mean absolute difference. Lets the stage skip the refit of still faces.
// - FrameFlow: the region's sub-pixel shift from the previous frame to this one (the integer shift refined by
//   robust Lucas-Kanade steps). The stage carries the smoothed landmarks by it before filtering, so the ROI, the
//   net's framing and the mask move with the skin instead of lagging behind it (the landmark filter then only
//   removes the fit's jitter). Hand-written: a 2-parameter fit over ~1000 samples, per face and frame, needs no
//   library.
#pragma once

#include "geometry.h"

#include <Eigen/Core>

#include <vector>

namespace bty::face {

class MotionRef {
 public:
  static constexpr int kGrid = 24;  // samples per side of the face box
  static constexpr int kTile = 6;   // samples per tile side (4 x 4 tiles)

  bool valid() const { return !ref_.empty(); }
  // Samples the region of `box` (square px) from `img` as the reference.
  void capture(const LumaView& img, const RectF& box);
  // True when the region, shifted by the best integer shift (frame px) within a quarter of its size, differs from
  // the reference by at most `mad` grey levels on every tile. shift: that shift in square px.
  bool still(const LumaView& img, float mad, Eigen::Vector2f& shift);
  // Mean absolute difference per tile at shift (dx, dy) frame px (exposed for tests).
  std::vector<float> tile_mad(const LumaView& img, int dx, int dy) const;

 private:
  double sad(const LumaView& img, int dx, int dy) const;
  std::vector<int> xs_, ys_;  // sample columns / rows, frame px
  std::vector<uint8_t> ref_;  // kGrid x kGrid
  int range_ = 0;             // search range, frame px
  int last_dx_ = 0, last_dy_ = 0;
};

class FrameFlow {
 public:
  static constexpr int kGrid = 32;  // samples per side of the face box

  // The shift (square px) that carries `box`'s region of the previous frame given here onto `img`; then `img`'s
  // region becomes the reference. False, with no shift, on the first frame after reset() and where no shift
  // within a quarter of the box explains the change (mean |diff| after the shift above `max_mad` grey levels:
  // occlusion, a cut, a head turn).
  bool track(const LumaView& img, const RectF& box, float max_mad, Eigen::Vector2f& shift);
  void reset() { ref_.clear(); }

 private:
  std::vector<float> xs_, ys_;  // sample positions of the reference, frame px (columns) and rows
  std::vector<float> ref_;      // kGrid x kGrid grey values there
  int range_ = 0;               // integer search range, frame px
  int last_dx_ = 0, last_dy_ = 0;
};

}  // namespace bty::face
