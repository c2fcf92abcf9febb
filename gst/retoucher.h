// The element's C++ core, no GStreamer: per frame, luma → face stage → per face (net area → net → blend) → optional
// debug overlay. Created when the element starts (loads and validates everything), dropped when it stops.
#pragma once

#include "blend/blend.h"
#include "face_stage.h"
#include "model_lookup.h"
#include "temporal.h"

#include <beautify/engine.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace bty::gst {

// Everything that stops the element from starting, with what to do about it in what().
class ConfigError : public std::runtime_error {
 public:
  enum class Kind { Model, Landmarks, Settings };
  ConfigError(Kind k, const std::string& what) : std::runtime_error(what), kind(k) {}
  Kind kind;
};

// The defaults of the element's properties, written down once: StartConfig, FrameSettings and the element's
// GParamSpecs (gstbeautify.cpp) all take them from here.
namespace defaults {
constexpr double strength = 0.7;  // overall amount
constexpr double blemish = 1.0;   // blemish removal (and the spot step)
constexpr double tone = 0.5;      // tone evening (v2 nets; v1 nets have no tone layer)
constexpr double temporal_smoothing = 0.5;  // weight of the past in the per-track EMA of the net's output
constexpr int max_faces = 4, min_face_size = 64, detect_interval = 10;
constexpr bool draw_faces = false, synchronous_detection = false;
constexpr const char* landmark_model = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
}  // namespace defaults

struct StartConfig {
  std::string model;  // path; empty: by tier
  std::string tier = "auto";
  std::string landmark_model = defaults::landmark_model;
  int threads = 1;
  Device device = Device::Auto;  // the net's: Auto/OpenCL fall back to the CPU (device_warning() says why)
  bool synchronous_detection = defaults::synchronous_detection;
  int max_faces = defaults::max_faces, min_face_size = defaults::min_face_size,
      detect_interval = defaults::detect_interval;
};

// Copied from the element's settings once per frame. strength scales everything; blemish and tone (0..1) scale the
// net's blemish and tone-evening layers (a v1 net's single delta counts as blemish; tone does nothing with it);
// temporal_smoothing (0..0.95) is the weight of the previous frame's output in each face track's moving average of
// the net's output (temporal.h; 0: every frame on its own).
struct FrameSettings {
  float strength = float(defaults::strength);
  float blemish = float(defaults::blemish);
  float tone = float(defaults::tone);
  float temporal_smoothing = float(defaults::temporal_smoothing);
  int max_faces = defaults::max_faces, min_face_size = defaults::min_face_size,
      detect_interval = defaults::detect_interval;
  bool draw_faces = defaults::draw_faces;
};

class Retoucher {
 public:
  explicit Retoucher(const StartConfig& config);  // throws ConfigError
  ~Retoucher();

  const ModelChoice& model() const { return choice_; }
  const ModelInfo& model_info() const;

  // New stream geometry or timing: tracks (and their smoothing state) are dropped (their coordinates mean nothing in
  // the new frame).
  void configure(float frame_rate);
  // Drops the face tracks and their smoothing state (flush, seek).
  void reset() {
    stage_->reset();
    smoother_.reset();
  }
  // Retouches `frame` in place and returns the faces found (frame coordinates). All faces of the frame go through
  // the net as one batch.
  std::vector<face::Face> process(const blend::Frame& frame, const FrameSettings& s);
  // Where the net runs and why (the device choice).
  const std::string& device_description() const { return device_reason_; }
  // Set once when OpenCL failed (at start or on a frame) and the net moved to the CPU; empty after it was taken.
  std::string take_device_warning() { return std::exchange(device_warning_, {}); }

 private:
  StartConfig config_;
  ModelChoice choice_;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Net> net_;
  NetOptions net_options_;
  std::string device_reason_, device_warning_;
  void fall_back_to_cpu(const std::string& why);
  std::vector<const face::Face*> batch_faces_;  // this frame's faces that go through the net
  std::vector<Rect> batch_areas_;
  std::unique_ptr<face::FaceStage> stage_;
  face::Options stage_options_;
  TemporalSmoother smoother_;  // per face track: the net's last (smoothed) output
  std::vector<uint8_t> luma_;  // RGB frames: the face stage's luma plane
};

}  // namespace bty::gst
