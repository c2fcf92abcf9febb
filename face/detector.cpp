#include "detector.h"

#include <dlib/image_processing/frontal_face_detector.h>

#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstring>

namespace bty::face {

float detection_scale(int width, int height, int min_face, int face_px, int max_side) {
  float s = std::min(1.f, float(face_px) / float(std::max(1, min_face)));
  const int side = std::max(width, height);
  if (max_side > 0 && side * s > max_side) s = float(max_side) / float(side);
  return s;
}

void downscale_area(const uint8_t* src, int w, int h, int stride, uint8_t* dst, int dw, int dh) {
  // Box [x0, x1) x [y0, y1) of source pixels per destination pixel; integer bounds are enough for detection.
  std::vector<int> xs(dw + 1);
  for (int i = 0; i <= dw; ++i) xs[i] = int(int64_t(i) * w / dw);
  std::vector<uint32_t> acc(dw);
  for (int j = 0; j < dh; ++j) {
    const int y0 = int(int64_t(j) * h / dh), y1 = std::max(y0 + 1, int(int64_t(j + 1) * h / dh));
    std::fill(acc.begin(), acc.end(), 0u);
    for (int y = y0; y < y1; ++y) {
      const uint8_t* row = src + size_t(y) * stride;
      for (int i = 0; i < dw; ++i) {
        const int x1 = std::max(xs[i] + 1, xs[i + 1]);
        uint32_t s = 0;
        for (int x = xs[i]; x < x1; ++x) s += row[x];
        acc[i] += s;
      }
    }
    for (int i = 0; i < dw; ++i) {
      const uint32_t n = uint32_t(y1 - y0) * uint32_t(std::max(xs[i] + 1, xs[i + 1]) - xs[i]);
      dst[size_t(j) * dw + i] = uint8_t((acc[i] + n / 2) / n);
    }
  }
}

struct FaceDetector::Impl {
  dlib::frontal_face_detector hog = dlib::get_frontal_face_detector();
  dlib::array2d<unsigned char> img;
};

FaceDetector::FaceDetector() : impl_(new Impl) {}
FaceDetector::~FaceDetector() = default;

std::vector<Detection> FaceDetector::detect(const uint8_t* luma, int w, int h, int stride, float scale) {
  const int dw = std::max(1, int(std::lround(w * scale))), dh = std::max(1, int(std::lround(h * scale)));
  std::vector<Detection> out;
  // The HOG window is 80x80: nothing smaller can hold a face.
  if (dw < 40 || dh < 40) return out;
  impl_->img.set_size(dh, dw);
  if (dw == w && dh == h) {
    for (int j = 0; j < h; ++j) std::memcpy(&impl_->img[j][0], luma + size_t(j) * stride, w);
  } else {
    downscale_area(luma, w, h, stride, &impl_->img[0][0], dw, dh);
  }
  std::vector<dlib::rect_detection> dets;
  impl_->hog(impl_->img, dets);
  const float sx = float(w) / dw, sy = float(h) / dh;
  for (const auto& d : dets) {
    // Detection pixel i covers frame [i*sx, (i+1)*sx); its centre is at (i+0.5)*sx - 0.5 in pixel-centre coordinates.
    Detection r;
    r.box = RectF{(d.rect.left() + 0.5f) * sx - 0.5f, (d.rect.top() + 0.5f) * sy - 0.5f,
                  (d.rect.right() + 0.5f) * sx - 0.5f, (d.rect.bottom() + 0.5f) * sy - 0.5f};
    r.score = d.detection_confidence;
    out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return out;
}

AsyncDetector::AsyncDetector() : thread_([this] { loop(); }) {}

AsyncDetector::~AsyncDetector() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool AsyncDetector::submit(const uint8_t* luma, int w, int h, int stride, float scale, int64_t frame, uint64_t gen) {
  std::unique_lock<std::mutex> lock(mu_);
  if (pending_ || running_) return false;
  // Copy under the lock: the worker only touches frame_buf_ while running_ is set.
  frame_buf_.resize(size_t(w) * h);
  for (int j = 0; j < h; ++j) std::memcpy(frame_buf_.data() + size_t(j) * w, luma + size_t(j) * stride, w);
  w_ = w, h_ = h, scale_ = scale, frame_ = frame, gen_ = gen;
  pending_ = true;
  lock.unlock();
  cv_.notify_one();
  return true;
}

bool AsyncDetector::poll(std::vector<Detection>& out, int64_t& frame, uint64_t& gen) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_) return false;
  out.swap(result_);
  result_.clear();
  frame = result_frame_;
  gen = result_gen_;
  ready_ = false;
  return true;
}

bool AsyncDetector::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_ || running_;
}

double AsyncDetector::total_ms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_ms_;
}

int AsyncDetector::runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}

void AsyncDetector::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return quit_ || pending_; });
    if (quit_) return;
    pending_ = false;
    running_ = true;
    const int w = w_, h = h_;
    const float scale = scale_;
    const int64_t frame = frame_;
    const uint64_t gen = gen_;
    lock.unlock();
    timespec c0, c1;  // detector thread CPU time (what a detection costs, whatever else runs on the machine)
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    std::vector<Detection> dets;
    try {
      dets = detector_.detect(frame_buf_.data(), w, h, w, scale);
    } catch (...) {
      dets.clear();  // a failed detection is a missed one; the next interval retries
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    const double ms = double(c1.tv_sec - c0.tv_sec) * 1e3 + double(c1.tv_nsec - c0.tv_nsec) * 1e-6;
    lock.lock();
    running_ = false;
    total_ms_ += ms;
    ++runs_;
    result_ = std::move(dets);
    result_frame_ = frame;
    result_gen_ = gen;
    ready_ = true;
  }
}

}  // namespace bty::face
