// One-Euro filter (Casiez, Roussel, Vogel 2012) over a whole landmark set with one shared, speed-driven cutoff:
// every coordinate gets the same smoothing factor, so the filtered shape is a blend of real shapes and is never
// distorted. The speed is the rigid motion of the set (centroid shift + spread change), normalised by face size,
// so landmark noise (which averages out over 68 points) does not open the filter, and the parameters do not
// depend on the face's size in pixels.
#pragma once

#include <vector>

namespace bty::face {

class OneEuroFilter {
 public:
  OneEuroFilter(float min_cutoff_hz, float beta, float d_cutoff_hz)
      : min_cutoff_(min_cutoff_hz), beta_(beta), d_cutoff_(d_cutoff_hz) {}

  // xy: n points as interleaved x,y, filtered in place. dt: seconds since the previous call. scale: face size, px.
  void filter(float* xy, int n, float dt, float scale);
  // Moves the filter's state by (dx, dy): the points' motion since the last call, measured elsewhere. The next
  // filter() then smooths only what that motion does not explain, so a moving shape does not lag behind.
  void carry(float dx, float dy);
  void reset() { init_ = false; }
  float last_cutoff() const { return cutoff_; }

  static float alpha(float cutoff_hz, float dt);

 private:
  float min_cutoff_, beta_, d_cutoff_;
  std::vector<float> prev_;
  float speed_ = 0.f, cutoff_ = 0.f;
  bool init_ = false;
};

}  // namespace bty::face
