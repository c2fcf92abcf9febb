// Skin mask geometry and rasterisation: the face oval (jaw 0-16) plus a roll-aware forehead arc, minus dilated
// eyes, brows, mouth and nostrils. Outline and holes are filled with an own scanline rasteriser into two planes at
// a reduced resolution tied to the face size, each feathered by two box-blur passes (a triangle kernel) of its
// own width, multiplied, and upsampled bilinearly to the ROI.
#pragma once

#include "types.h"

#include <Eigen/Core>

#include <vector>

namespace bty::face {

using Polygon = std::vector<Eigen::Vector2f>;

struct SkinShape {
  Polygon outline;             // face oval + forehead, frame px
  std::vector<Polygon> holes;  // eyes, brows, mouth, nostrils, already dilated so the feather ends at the feature
  float feather = 1.f;         // width of the outline's soft edge (0 -> 255 ramp), px
  float hole_feather = 1.f;    // width of the holes' soft edges, px (narrower: skin right next to eyes matters)
};

struct MaskParams {
  float feather = 0.08f;        // outline soft edge width, fraction of face size
  float hole_feather = 0.035f;  // feature-hole soft edge width, fraction of face size
  float forehead = 0.5f;        // forehead height above the brows, fraction of eye-to-chin distance
};

SkinShape skin_shape(const Landmarks& lm, float face_size, const MaskParams& p = {});

// Renders the feathered mask of `shape` over `roi` (frame px), scaled by alpha, into out (roi.width*roi.height).
// The shape is in square-pixel space (x = frame x * pixel_aspect), so feathers stay round on non-square pixels.
void render_mask(const SkinShape& shape, const Rect& roi, float alpha, std::vector<uint8_t>& out,
                 float pixel_aspect = 1.f);

// Building blocks (exposed for tests).
// Fills the polygon (even-odd) into an 8-bit image; pixel (i,j) covers [i,i+1)x[j,j+1) in polygon coordinates
// after p -> (p - origin) / step; a pixel is inside when its centre is.
void fill_polygon(uint8_t* img, int w, int h, int stride, const Polygon& poly, uint8_t value,
                  Eigen::Vector2f origin = Eigen::Vector2f::Zero(), float step = 1.f);
// Box blur of radius r (window 2r+1) along x then y, edges clamped.
void box_blur(uint8_t* img, int w, int h, int r);
// Offsets a simple polygon outwards by delta (mitred, miter length capped).
Polygon dilate_polygon(const Polygon& poly, float delta);

}  // namespace bty::face
