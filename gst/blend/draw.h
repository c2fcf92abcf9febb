// Debug overlay (the element's draw-faces property): face boxes, landmarks and the mask outline drawn into the frame
// in its own format. Deliberately simple: 1-px lines and 3×3 dots, clipped to the frame.
#pragma once

#include "blend.h"

namespace bty::blend {

struct Colour8 {
  uint8_t r, g, b;
};

void draw_rect(const Frame& f, const Rect& r, Colour8 c);
void draw_dot(const Frame& f, int x, int y, Colour8 c);  // 3×3
// Pixels of `roi` where the mask crosses `level` (inside, with a 4-neighbour at or below it).
void draw_mask_outline(const Frame& f, const Rect& roi, const uint8_t* mask, uint8_t level, Colour8 c);

}  // namespace bty::blend
