// Shot cuts: a frame whose picture has nothing to do with the previous one (an edit, a camera switch, a jump cut).
// Tracks must not carry across one: their shapes would be refitted onto whatever now sits there and fade out over
// the new picture, and faces of the new shot would fade in although they are there from its first frame.
//
// The signature is the luma histogram of the whole frame (32 bins) and of a 4 x 3 grid of regions (16 bins each),
// on a sub-sampled plane (~16 K samples whatever the size; 0.02 ms at 1080p). A cut moves both: the whole frame's
// histogram by more than kCutGlobal and the median region's by more than kCutRegion (L1 distances of normalised
// histograms, 0..2). Motion keeps most regions' histograms (the fastest head turn of the shared clips: median region
// 0.26, whole frame 0.13); a change of light moves the whole frame's but shifts every region alike by less (the clips'
// exposure jumps: 0.31-0.33 / 0.33-0.36); the clips' cuts read 0.38-0.74 / 0.49-0.94 (docs/face.md, "Shot cuts").
#pragma once

#include <array>
#include <cstdint>

namespace bty::face {

constexpr float kCutGlobal = 0.25f, kCutRegion = 0.45f;

class ShotCut {
 public:
  // True when this frame starts a new shot; never on the first frame after construction or reset(). Any size >= 1x1.
  bool update(const uint8_t* luma, int width, int height, int stride);
  void reset() { have_ = false; }

  // The last update()'s distances (0 on a first frame), for tests and tools.
  float global_distance() const { return global_d_; }
  float region_distance() const { return region_d_; }

 private:
  static constexpr int kGridX = 4, kGridY = 3, kRegionBins = 16, kGlobalBins = 32;
  std::array<float, kGlobalBins> global_{};
  std::array<std::array<float, kRegionBins>, kGridX * kGridY> regions_{};
  bool have_ = false;
  float global_d_ = 0.f, region_d_ = 0.f;
};

}  // namespace bty::face
