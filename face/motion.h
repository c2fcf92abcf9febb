// Is a face's region unchanged since its last landmark fit, up to a shift? Block matching on a grid of samples
// over the face box: a diamond search (step 4, 2, 1 px) from the last shift found, then every tile of the grid must
// match within a mean absolute difference. Lets the stage skip the refit of still faces.
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

}  // namespace bty::face
