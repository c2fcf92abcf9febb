// Face detection with dlib's HOG frontal face detector on a downscaled copy of the luma plane, either inline
// (FaceDetector) or on its own thread (AsyncDetector: submit a frame, poll for the boxes later, never blocks).
#pragma once

#include "geometry.h"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace bty::face {

struct Detection {
  RectF box;  // frame px, pixel-centre coordinates (the detector's inclusive box mapped back)
  double score = 0;
};

// Detection scale for a frame: faces of min_face px become face_px at detection scale, never upscaled, and the
// detection image's longer side stays within max_side.
float detection_scale(int width, int height, int min_face, int face_px, int max_side);

// Area-average downscale of an 8-bit plane to (dw, dh).
void downscale_area(const uint8_t* src, int w, int h, int stride, uint8_t* dst, int dw, int dh);

class FaceDetector {
 public:
  FaceDetector();
  ~FaceDetector();
  // Boxes in frame px, sorted by score.
  std::vector<Detection> detect(const uint8_t* luma, int w, int h, int stride, float scale);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class AsyncDetector {
 public:
  AsyncDetector();
  ~AsyncDetector();  // joins the thread

  // Copies the plane and starts a detection unless one is in flight (returns false then).
  bool submit(const uint8_t* luma, int w, int h, int stride, float scale, int64_t frame, uint64_t generation);
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
  std::vector<uint8_t> frame_buf_;
  int w_ = 0, h_ = 0;
  float scale_ = 1;
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
