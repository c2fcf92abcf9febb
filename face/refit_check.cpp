#include "refit_check.h"

#include <map>

namespace bty::face {

namespace {

Eigen::Vector2f centroid(const Landmarks& lm) {
  Eigen::Vector2f c(0, 0);
  for (const auto& p : lm) c += p / float(kNumLandmarks);
  return c;
}

double mean_distance(const Landmarks& a, const Landmarks& b) {
  double d = 0;
  for (int i = 0; i < kNumLandmarks; ++i) d += double((a[i] - b[i]).norm());
  return d / kNumLandmarks;
}

}  // namespace

RefitDeviation compare_to_full_refit(const std::vector<FrameInput>& frames, Options skipping) {
  skipping.synchronous_detection = true;
  Options full_o = skipping;
  full_o.refit_skip_mad = 0;
  FaceStage full(full_o), skip(skipping);
  RefitDeviation r;
  std::map<int, Landmarks> prev;
  for (const FrameInput& in : frames) {
    const auto fa = full.process(in), fb = skip.process(in);
    const Timings t = skip.timings();
    r.refits += t.refits, r.skipped += t.refits_skipped;
    for (const Face& b : fb) {
      // The same face in the full-refit stage: the nearest centroid (ids differ once a track was restarted).
      const Face* m = nullptr;
      float best = 0.5f * b.size;
      for (const Face& x : fa) {
        const float d = (centroid(x.raw_landmarks) - centroid(b.raw_landmarks)).norm();
        if (d < best) best = d, m = &x;
      }
      if (m) r.deviation.push_back(mean_distance(b.raw_landmarks, m->raw_landmarks) / double(m->size));
    }
    std::map<int, Landmarks> now;
    for (const Face& x : fa) {
      const auto it = prev.find(x.id);
      if (it != prev.end()) r.full_motion.push_back(mean_distance(x.raw_landmarks, it->second) / double(x.size));
      now[x.id] = x.raw_landmarks;
    }
    prev = std::move(now);
  }
  return r;
}

}  // namespace bty::face
