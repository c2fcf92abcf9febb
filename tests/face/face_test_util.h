// Shared helpers for the face tests: data paths, the pinned landmark model, frame rendering, landmark metrics.
#pragma once

#include "face_stage.h"
#include "geometry.h"
#include "image_io.h"
#include "render.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <cmath>
#include <memory>
#include <string>

namespace facetest {

using namespace bty::face;
using V2 = Eigen::Vector2f;

inline std::string data(const std::string& name) { return std::string(FACE_TEST_DATA) + "/" + name; }
inline std::string shared_dir() { return FACE_SHARED_DATA; }
inline bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

inline Image luma_of(const std::string& name) { return to_luma(load_image(data(name))); }

// Options for deterministic runs: detection inline, every `interval` frames.
inline Options sync_options(int fade = 4) {
  Options o;
  o.synchronous_detection = true;
  o.fade_frames = fade;
  return o;
}

inline std::vector<Face> run(FaceStage& s, const Image& g) {
  return s.process({g.data.data(), g.width, g.height, g.width});
}

inline V2 centroid(const Landmarks& lm) {
  V2 c(0, 0);
  for (const auto& p : lm) c += p;
  return c / float(kNumLandmarks);
}

inline float mask_at(const Face& f, const V2& p) {
  const int x = int(std::lround(p.x())) - f.roi.x, y = int(std::lround(p.y())) - f.roi.y;
  if (x < 0 || y < 0 || x >= f.roi.width || y >= f.roi.height) return 0.f;
  return f.mask[size_t(y) * f.roi.width + x];
}

// Points that must be skin on any frontal face: the middle of each cheek, between lower lid, jaw and nostril.
inline V2 cheek_left(const Landmarks& lm) { return (lm[41] + lm[3] + lm[31]) / 3.f; }
inline V2 cheek_right(const Landmarks& lm) { return (lm[46] + lm[13] + lm[35]) / 3.f; }

// Similarity that rotates by `angle` and scales by `scale` about `c`, then shifts by `shift`.
inline Similarity about(const V2& c, float scale, float angle, const V2& shift) {
  Similarity t;
  t.scale = scale;
  t.angle = angle;
  t.t = c + shift - t.linear() * c;
  return t;
}

}  // namespace facetest
