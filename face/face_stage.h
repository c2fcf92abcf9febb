// Face stage: HOG detection planned over frames (a coarse pass for large faces, finer bands in tiles for small
// ones, around lost tracks first), per-frame 68-point landmark refit (in parallel, skipped for faces whose region
// did not move), tracks with stable IDs, One-Euro smoothing, feathered skin masks and tile-aligned ROIs.
// No GStreamer; works on a luma plane, square or non-square pixels.
#pragma once

#include "types.h"

#include <memory>
#include <string>
#include <vector>

namespace bty::face {

// The pixel aspect ratios process() takes (pixel width / height): beyond them a face is too squeezed to detect.
constexpr float kMinPixelAspect = 0.1f, kMaxPixelAspect = 10.f;

struct Options {
  int max_faces = 4;            // runtime-changeable
  int min_face_size = 64;       // px (square-pixel face width); smaller faces are neither searched nor output.
                                // Runtime-changeable
  int detect_interval = 10;     // frames between coarse detections (large faces) while searching; none while
                                // max_faces faces track well. Runtime-changeable
  int detect_job_interval = 2;  // frames between the small-face scan's tiles while searching (0: no such scan)
  std::string landmark_model = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
  int roi_align = 8;                   // ROI origin/size on this grid (the engine's tile size)
  float roi_pad = 0.15f;               // ROI padding around the skin polygon, fraction of face size, each side
  bool synchronous_detection = false;  // run the detection jobs inline in process(), one per due frame as the
                                       // detector thread would (deterministic; tests and tools)
  int detect_face_px = 80;             // smallest face at detection scale (HOG window is 80 px)
  int detect_max_side = 640;           // the coarse detection image's longer side (bounds its cost)
  int detect_tile_px = 393216;         // detection px per tile of the small-face scan (bounds each job's cost)
  int fade_frames = 4;                 // frames to fade a face in or out mid-stream (0: pop)
  float drop_quality = 0.35f;          // a track whose quality stays below this is dropped (faded out)
  float frame_rate = 30.f;             // for the One-Euro filter's time step
  float smooth_min_cutoff = 1.0f;      // One-Euro: cutoff (Hz) of a still face
  float smooth_beta = 8.f;             // One-Euro: cutoff increase per (face widths / s) of speed
  float smooth_d_cutoff = 1.0f;        // One-Euro: cutoff (Hz) of the speed estimate
  bool smoothing = true;               // off: landmarks are the raw predictor output
  bool masks = true;                   // off: Face::mask stays empty (saves the mask cost)
  int threads = 0;                     // landmark refits and masks of several faces in parallel (0: min(4, cores))
  float refit_skip_mad = 3.f;          // skip a face's refit when every tile of its region, motion-compensated,
                                       // differs from the last refit frame by at most this mean |diff| (0: never)
  int refit_max_skip = 8;              // refit at least every this many frames anyway
  float follow_motion_mad = 12.f;      // carry the smoothed landmarks with the face region's sub-pixel motion from
                                       // the previous frame (measured on the picture) before filtering them, where
                                       // that shift explains the change to this mean |diff| (0: off, the filter
                                       // alone: a moving face's ROI and mask lag behind its skin)
  float search_cpu_share = 0.25f;      // asynchronous mode, while a face is tracked: the search for more faces
                                       // keeps the detector thread busy at most this share of the time (a job of
                                       // c ms CPU is followed by c × (1/share − 1) ms of rest), however fast frames
                                       // come. Near jobs, the coarse job after a loss and the search for a first
                                       // face are paced by frames only. 0 or >= 1: frames only
};

// One frame for process(). The plane is read during the call only.
struct FrameInput {
  const uint8_t* luma = nullptr;  // any size from 1x1
  int width = 0, height = 0;
  int stride = 0;              // >= width
  float pixel_aspect = 1.f;    // pixel width / height (caps' par_n / par_d); kMinPixelAspect..kMaxPixelAspect
  bool detect_now = false;     // one detection inline on this frame, also in asynchronous mode: the coarse
                               // job (whole frame, faces >= ~max(min_face_size, longer side / 8) px; about
                               // one detection job's cost) and the surroundings of tracks just lost
  bool scan_now = false;       // the complete scan inline (every band and tile): every face down to
                               // min_face_size is there on return (~23 jobs at 1080p, ~89 at 4K)
  bool detect_on_cut = false;  // asynchronous mode: on a shot cut, the coarse job inline on this frame (as
                               // detect_now). Synchronous mode always runs it on a cut
};

// Per-frame costs of the last process() call, ms of thread CPU time (for the benchmark).
struct Timings {
  double landmarks_ms = 0, smoothing_ms = 0, masks_ms = 0, reconcile_ms = 0, total_ms = 0;
  double detect_ms = 0;                // inline detection in this call (synchronous mode, detect_now)
  double detect_ms_total = 0;          // all detection CPU time (inline and detector thread) since construction
  int detect_runs = 0;                 // detection jobs run since construction
  int refits = 0, refits_skipped = 0;  // this frame: faces refitted / kept by motion compensation alone
  bool shot_cut = false;               // this frame starts a new shot: every track was dropped (shot_cut.h)
};

class FaceStage {
 public:
  explicit FaceStage(const Options& options);  // throws Error
  ~FaceStage();                                // joins the detector thread
  FaceStage(const FaceStage&) = delete;
  FaceStage& operator=(const FaceStage&) = delete;

  // Runtime changes of max_faces, min_face_size, detect_interval (other fields are ignored here).
  void set_options(int max_faces, int min_face_size, int detect_interval);
  Options options() const;

  // Never blocks on the detector thread. Faces found on the first frame of a stream (after construction or
  // reset(), by a synchronous or detect_now detection) or of a shot start at alpha 1; faces appearing or leaving
  // later fade. A shot cut ends every track at once (no fade-out over the new picture).
  // Throws Error for a missing plane, size < 1x1, stride < width or pixel_aspect outside
  // kMinPixelAspect..kMaxPixelAspect.
  std::vector<Face> process(const FrameInput& frame);

  void reset();  // drop all tracks (caps change, flush); an in-flight detection's result is ignored (no waiting)

  Timings timings() const;
  bool detection_busy() const;  // a detection is in flight (asynchronous mode)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bty::face
