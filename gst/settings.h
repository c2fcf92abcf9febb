// The element's settings: every property's default written down once (bty::gst::defaults), the one Settings struct
// the element keeps under its lock, and the per-stage views derived from it (start_config() for what applies at
// start, frame_settings() for what is copied per frame). No GStreamer: the GObject enums mirror Tier, Detection and
// the engine's Device and Precision.
#pragma once

#include <beautify/engine.h>

#include <string>

namespace bty::gst {

enum class Tier { Auto, S, M, L };
// When faces are detected inside the frame's processing: Auto = for non-live upstream (files), Always, Never
// (detection off the streaming thread; live streams still wait for one detection on the first frame when it fits
// the frame budget, see docs/element.md).
enum class Detection { Auto, Always, Never };

namespace defaults {
constexpr double strength = 0.7;            // overall amount
constexpr double blemish = 1.0;             // blemish removal (and the spot step)
constexpr double tone = 0.5;                // tone evening (v2 nets; v1 nets have no tone layer)
constexpr double temporal_smoothing = 0.5;  // weight of the past in the per-track EMA of the net's output
constexpr Tier tier = Tier::Auto;
constexpr const char* model = "";  // empty: by tier
constexpr const char* landmark_model = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
constexpr int max_faces = 4, min_face_size = 64, detect_interval = 10;
constexpr int threads = 0;  // 0: one per CPU, at most max_auto_threads
constexpr int max_auto_threads = 8;
constexpr bool draw_faces = false, post_messages = false;
constexpr Detection detection = Detection::Auto;
constexpr Device device = Device::Auto;           // $BEAUTIFY_DEVICE overrides it (default_device())
constexpr int max_batch = 16;                     // faces per OpenCL net run; more run in several batches
constexpr bool device_start_waits = false;        // $BEAUTIFY_DEVICE_START=wait|background overrides it
constexpr Precision precision = Precision::Auto;  // the CPU net's convs; auto = the engine's kAutoPrecision
}  // namespace defaults

// The device property's default: $BEAUTIFY_DEVICE (auto, cpu or opencl) when set to one of those, so a pipeline or
// the element tests run on another device unedited; else defaults::device.
Device default_device();
// Whether the element waits for the OpenCL net before its first frame (BEAUTIFY_DEVICE_START=wait: every frame on
// the chosen device, e.g. for tests and measurements) or starts it in the background and runs the first frames on
// the CPU net meanwhile (background, the default: docs/element.md, "Start-up").
bool device_start_waits();

// Every property of the element, with its default.
struct Settings {
  double strength = defaults::strength;
  double blemish = defaults::blemish;
  double tone = defaults::tone;
  double temporal_smoothing = defaults::temporal_smoothing;
  Tier tier = defaults::tier;
  std::string model = defaults::model;
  std::string landmark_model = defaults::landmark_model;
  int max_faces = defaults::max_faces, min_face_size = defaults::min_face_size,
      detect_interval = defaults::detect_interval;
  int threads = defaults::threads;
  bool draw_faces = defaults::draw_faces;
  bool post_messages = defaults::post_messages;
  Detection detection = defaults::detection;
  Device device = default_device();
  Precision precision = defaults::precision;

  // Nothing would be written, drawn or posted: the element can be a passthrough.
  bool passthrough() const {
    const bool no_retouch = strength <= 0.0 || (blemish <= 0.0 && tone <= 0.0);
    return no_retouch && !draw_faces && !post_messages;
  }
};

const char* to_string(Tier t);  // "auto", "s", "m", "l"

// What the core reads once, at start.
struct StartConfig {
  std::string model;  // path; empty: by tier
  Tier tier = defaults::tier;
  std::string landmark_model = defaults::landmark_model;
  int threads = 1;  // resolved (>= 1)
  Detection detection = defaults::detection;
  Device device = defaults::device;  // the net's; OpenCL (chosen or picked) falls back to the CPU on failure
  bool device_start_waits = defaults::device_start_waits;
  Precision precision = defaults::precision;  // bf16 where the CPU has no AVX512_BF16 is a start error
  int max_faces = defaults::max_faces, min_face_size = defaults::min_face_size,
      detect_interval = defaults::detect_interval;
};
// hardware_threads: what the machine has (threads = 0 takes that, at most defaults::max_auto_threads).
StartConfig start_config(const Settings& s, unsigned hardware_threads);

// Copied from the settings once per frame. strength scales everything; blemish and tone (0..1) scale the net's
// blemish and tone-evening layers (a v1 net's single delta counts as blemish; tone does nothing with it);
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
FrameSettings frame_settings(const Settings& s);

}  // namespace bty::gst
