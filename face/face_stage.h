// Face stage: asynchronous HOG detection, per-frame 68-point landmark refit, tracks with stable IDs, One-Euro
// smoothing, feathered skin masks and tile-aligned ROIs. No GStreamer; works on a luma plane.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace bty::face {

// Thrown for unusable configuration: missing or corrupt landmark model, invalid options.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
  int right() const { return x + width; }    // exclusive
  int bottom() const { return y + height; }  // exclusive
  bool empty() const { return width <= 0 || height <= 0; }
  bool operator==(const Rect& o) const { return x == o.x && y == o.y && width == o.width && height == o.height; }
};

constexpr int kNumLandmarks = 68;
using Landmarks = std::array<Eigen::Vector2f, kNumLandmarks>;

struct Options {
  int max_faces = 4;                // runtime-changeable
  int min_face_size = 64;           // px in frame (face width); smaller faces are skipped. Runtime-changeable
  int detect_interval = 10;         // frames between detections (at once when a track is lost; none while
                                    // max_faces faces track well). Runtime-changeable
  std::string landmark_model = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
  int roi_align = 8;                // ROI origin/size on this grid (the engine's tile size)
  float roi_pad = 0.15f;            // ROI padding around the skin polygon, fraction of face size, each side
  bool synchronous_detection = false;  // run detection inline in process() (deterministic; for tests and tools)
  int detect_face_px = 80;          // smallest face at detection scale (HOG window is 80 px)
  int detect_max_side = 640;        // cap on the detection image's longer side (bounds detection cost)
  int fade_frames = 4;              // frames to fade a face in or out (0: pop)
  float drop_quality = 0.35f;       // a track whose quality stays below this is dropped (faded out)
  float frame_rate = 30.f;          // for the One-Euro filter's time step
  float smooth_min_cutoff = 1.0f;   // One-Euro: cutoff (Hz) of a still face
  float smooth_beta = 8.f;          // One-Euro: cutoff increase per (face widths / s) of speed
  float smooth_d_cutoff = 1.0f;     // One-Euro: cutoff (Hz) of the speed estimate
  bool smoothing = true;            // off: landmarks are the raw predictor output
  bool masks = true;                // off: Face::mask stays empty (saves the mask cost)
};

struct Face {
  int id = 0;                // stable track id (unique within a FaceStage until reset())
  float alpha = 0.f;         // 0..1 fade in/out weight
  Landmarks landmarks{};     // smoothed, frame px
  Landmarks raw_landmarks{};  // this frame's predictor output before smoothing, frame px
  Rect box;                  // smoothed face box (skin polygon bounds), frame px; may extend outside the frame
  Rect roi;                  // tile-aligned, padded, clamped to the frame; what gets retouched
  std::vector<uint8_t> mask;  // roi.width*roi.height feathered skin mask 0..255, already multiplied by alpha
  float quality = 0.f;       // tracking quality 0..1 (appearance + shape consistency)
  float roll = 0.f;          // in-plane rotation, radians (positive: face turned clockwise in the image)
  float size = 0.f;          // face width in px (side of the detector-style box)
};

// Per-frame costs of the last process() call, ms of thread CPU time (for the benchmark).
struct Timings {
  double landmarks_ms = 0, smoothing_ms = 0, masks_ms = 0, reconcile_ms = 0, total_ms = 0;
  double detect_ms_total = 0;  // detector thread CPU time accumulated since construction
  int detect_runs = 0;
};

class FaceStage {
 public:
  explicit FaceStage(const Options& options);  // throws Error
  ~FaceStage();                                 // joins the detector thread
  FaceStage(const FaceStage&) = delete;
  FaceStage& operator=(const FaceStage&) = delete;

  // Runtime changes of max_faces, min_face_size, detect_interval (other fields are ignored here).
  void set_options(int max_faces, int min_face_size, int detect_interval);
  Options options() const;

  // Luma plane of the current frame (any size from 1x1, stride >= width). Never blocks on detection unless
  // Options::synchronous_detection.
  std::vector<Face> process(const uint8_t* luma, int width, int height, int stride);

  void reset();  // drop all tracks (caps change, flush); an in-flight detection's result is ignored (no waiting)

  Timings timings() const;
  bool detection_busy() const;  // a detection is in flight (asynchronous mode)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bty::face
