// The landmark predictor as Landmarker::fit reads it: dlib's 68-point shape_predictor file, read and repacked.
// Its own translation unit so that sanitizer builds can leave the load's dlib deserialisation and Eigen
// decomposition uninstrumented (face/meson.build says why); fit() and the model cache stay in landmarker.cpp.
#pragma once

#include "types.h"

#include <Eigen/Core>

#include <cstdint>
#include <istream>
#include <vector>

namespace bty::face {

// One cascade level repacked for speed. dlib keeps every split list and every 136-float leaf in its own heap
// block: a fit then walks ~7500 scattered leaves (4 MB) and is bound by cache misses. Here the splits are packed
// contiguously, and the leaves are stored as coefficients in the level's principal subspace of leaf space
// (leaves add up linearly, so the level's sum is basis * sum of coefficients): ~8x less memory traffic.
struct PackedLevel {
  std::vector<uint32_t> split_off, leaf_off;  // per tree: first split, first leaf
  std::vector<uint16_t> nsplit;               // per tree
  std::vector<uint16_t> idx1, idx2;
  std::vector<float> thresh;
  int k = 0;                      // subspace dimension
  std::vector<int16_t> coef;      // (leaf_off[t] + leaf) * k: k coefficients per leaf, quantised
  std::vector<float> coef_scale;  // per dimension: coefficient = int16 * scale
  std::vector<float> basis;       // 136 x k, column-major (plain storage: Eigen's allocator differs under ASan, and
                                  // this is allocated where the sanitizers are off and freed where they are on)
};

struct LandmarkModel {
  Landmarks mean{};                                    // initial shape, unit-box coordinates
  std::vector<std::vector<unsigned long>> anchor_idx;  // per level, per feature pixel: anchor landmark
  std::vector<std::vector<Eigen::Vector2f>> deltas;    // per level, per feature pixel: offset (unit box)
  std::vector<PackedLevel> packed;
};

// Reads a shape_predictor file (dlib's serialisation: version 1, initial shape, forests, anchors, deltas) and packs
// its forests. Throws std::exception on any malformed content (std::bad_alloc when memory runs out).
void read_landmark_model(LandmarkModel& m, std::istream& in);

}  // namespace bty::face
