// Basic face-stage types shared by the stage, its parts (geometry, mask, landmarker) and its users.
#pragma once

#include <beautify/error.h>
#include <Eigen/Core>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace bty::face {

// Thrown for unusable configuration: a missing (NotFound), unreadable (Unreadable) or corrupt (Invalid) landmark
// model, invalid options or input (Settings).
class Error : public bty::Error {
 public:
  Error(ErrorKind kind, const std::string& what) : bty::Error(kind, what) {}
  explicit Error(const std::string& what) : Error(ErrorKind::Settings, what) {}
};

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
  int right() const { return x + width; }    // exclusive
  int bottom() const { return y + height; }  // exclusive
  bool empty() const { return width <= 0 || height <= 0; }
  bool operator==(const Rect& o) const { return x == o.x && y == o.y && width == o.width && height == o.height; }
};

// A luma plane as the stage's parts read it. pixel_aspect = pixel width / pixel height (par_n / par_d).
struct LumaView {
  const uint8_t* data = nullptr;
  int width = 0, height = 0, stride = 0;
  float pixel_aspect = 1.f;
};

constexpr int kNumLandmarks = 68;
using Landmarks = std::array<Eigen::Vector2f, kNumLandmarks>;

// One tracked face as the stage reports it. All coordinates are the frame's own pixels (also for non-square
// pixels: the stage works in square-pixel space internally and maps back).
struct Face {
  int id = 0;                 // stable track id (unique within a FaceStage until reset())
  float alpha = 0.f;          // 0..1 fade in/out weight
  Landmarks landmarks{};      // smoothed, frame px
  Landmarks raw_landmarks{};  // this frame's predictor output before smoothing, frame px
  Rect box;                   // smoothed face box (skin polygon bounds), frame px; may extend outside the frame
  Rect roi;                   // tile-aligned, padded, clamped to the frame; what gets retouched
  std::vector<uint8_t> mask;  // roi.width*roi.height feathered skin mask 0..255, already multiplied by alpha
  float quality = 0.f;        // tracking quality 0..1 (appearance + shape consistency)
  float roll = 0.f;           // in-plane rotation, radians (positive: face turned clockwise in the image)
  float size = 0.f;           // face width in square px (side of the detector-style box)
};

}  // namespace bty::face
