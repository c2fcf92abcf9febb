// Face detection with dlib's HOG frontal face detector (its five filters: frontal, looking left/right, rolled
// left/right), planned as jobs: a coarse job over the whole frame finds large faces, finer bands split into tiles
// find small faces over several frames, and a job around a lost track looks there first. Each job resamples its
// region to square pixels at its scale (mirroring the frame at its edges, so faces cut by the edge still look like
// faces) and runs a limited number of pyramid levels, so every job costs about the same. Jobs run inline
// (FaceDetector) or on their own thread (AsyncDetector: submit, poll later, never blocks).
#pragma once

#include "geometry.h"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace bty::face {

// Coordinates here are square-pixel space: x = frame x * pixel_aspect, y = frame y (pixel centres on integers).
struct Detection {
  RectF box;  // square px
  double score = 0;
};

struct DetectJob {
  RectF region;     // square px scanned (clipped to the frame, then mirrored past the frame's edges)
  float scale = 1;  // detection px per square px
  int levels = 0;   // pyramid levels (each 5/6 of the last); 0: all down to the 80 px window
};

// From Options (min_face_size, detect_face_px, detect_max_side, detect_tile_px): the defaults live there.
struct ScanParams {
  int min_face = 0;  // smallest face (square px) the scan must find
  int face_px = 0;   // HOG window: a face of min_face px is brought to this size
  int max_side = 0;  // the coarse job's detection image's longer side
  int tile_px = 0;   // detection px per fine tile (~ what the coarse job costs)
};

// Largest scale a scan uses (faces of min_face px to face_px; at most kMaxUpscale).
constexpr float kMaxUpscale = 2.5f;
// Pyramid levels per fine band (a band covers 1.2^levels of face sizes).
constexpr int kBandLevels = 3;

// The coarse job (first) then the tiles of each finer band, coarse to fine. sq_w: frame width in square px.
std::vector<DetectJob> plan_scan(float sq_w, int h, const ScanParams& p);
// A job around a (lost) face box: 2x its size, faces 0.6..1.7x its width.
DetectJob plan_near(const RectF& box, float sq_w, int h, int face_px);

class FaceDetector {
 public:
  FaceDetector();
  ~FaceDetector();
  // `data` holds frame px `have` (a crop of the frame_w x frame_h frame; the job's region plus padding sources
  // must lie inside it). Boxes in square px, sorted by score.
  std::vector<Detection> detect(const uint8_t* data, int stride, const Rect& have, int frame_w, int frame_h,
                                float pixel_aspect, const DetectJob& job);
  // Frame px the job reads (the crop detect() needs).
  static Rect source_rect(const DetectJob& job, int frame_w, int frame_h, float pixel_aspect);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class AsyncDetector {
 public:
  AsyncDetector();
  ~AsyncDetector();  // joins the thread

  // Copies the frame px the job reads and starts it unless one is in flight (returns false then).
  bool submit(const uint8_t* luma, int w, int h, int stride, float pixel_aspect, const DetectJob& job, int64_t frame,
              uint64_t generation);
  // Takes finished results if any (non-blocking).
  bool poll(std::vector<Detection>& out, int64_t& frame, uint64_t& generation);
  bool busy() const;
  double total_ms() const;
  int runs() const;

 private:
  void loop();
  FaceDetector detector_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint8_t> buf_;
  Rect have_;
  int w_ = 0, h_ = 0;
  float par_ = 1;
  DetectJob job_;
  int64_t frame_ = 0;
  uint64_t gen_ = 0;
  bool pending_ = false, running_ = false, ready_ = false, quit_ = false;
  std::vector<Detection> result_;
  int64_t result_frame_ = 0;
  uint64_t result_gen_ = 0;
  double total_ms_ = 0;
  int runs_ = 0;
  std::thread thread_;
};

}  // namespace bty::face
