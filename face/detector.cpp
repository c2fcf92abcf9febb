#include "detector.h"

#include "hog_scan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>

namespace bty::face {

namespace {

constexpr float kLevelRatio = 1.2f;  // dlib's pyramid_down<6>: each level 5/6 of the last

// Detection px of mirrored frame added beyond each frame edge a job touches: a face centred on the edge still
// fills the 80 px window (half of it real, half its mirror image).
int edge_pad_px(int face_px) { return face_px / 2 + 8; }

// Levels that cover faces from this band's smallest up to the next coarser band's smallest.
int levels_between(float fine, float coarse) {
  return 1 + std::max(1, int(std::ceil(std::log(fine / coarse) / std::log(kLevelRatio) - 1e-3f)));
}

// Splits a det_w x det_h band image into the fewest tiles of at most tile_px that overlap by `overlap` (a face up
// to that size lies wholly inside one tile), pushing one job per tile.
void push_tiles(std::vector<DetectJob>& jobs, float sq_w, int h, float s, int levels, int overlap, int tile_px) {
  const float dw = sq_w * s, dh = float(h) * s;
  int best_nx = 1, best_ny = 1;
  double best_area = 1e30;
  for (int nx = 1; nx <= 64; ++nx) {
    const double tw = (dw + (nx - 1) * overlap) / nx;
    if (nx > 1 && tw < 2 * overlap) break;
    for (int ny = 1; ny <= 64; ++ny) {
      const double th = (dh + (ny - 1) * overlap) / ny;
      if (ny > 1 && th < 2 * overlap) break;
      if (tw * th > tile_px) continue;
      const double area = tw * th * nx * ny;
      if (nx * ny < best_nx * best_ny || (nx * ny == best_nx * best_ny && area < best_area) || best_area > 1e29)
        best_nx = nx, best_ny = ny, best_area = area;
      break;  // more rows only cost more
    }
  }
  const float tw = (dw + (best_nx - 1) * overlap) / best_nx, th = (dh + (best_ny - 1) * overlap) / best_ny;
  for (int iy = 0; iy < best_ny; ++iy)
    for (int ix = 0; ix < best_nx; ++ix) {
      DetectJob j;
      const float x0 = ix * (tw - overlap), y0 = iy * (th - overlap);
      j.region = RectF{x0 / s, y0 / s, std::min(dw, x0 + tw) / s, std::min(dh, y0 + th) / s};
      j.scale = s;
      j.levels = levels;
      jobs.push_back(j);
    }
}

// Taps of a box resampler along one axis: output i averages source [lo(i), hi(i)) (edge coordinates, source
// pixel k covers [k, k+1)), at least one pixel wide (linear interpolation when enlarging). Source indices are
// mirrored at the frame's edges [0, n) and then kept inside the available crop [h0, h1).
struct Taps {
  std::vector<int> first, count, idx;
  std::vector<float> w;
};

Taps make_taps(double lo0, double step, int out_n, int n, int h0, int h1) {
  Taps t;
  t.first.resize(size_t(out_n));
  t.count.resize(size_t(out_n));
  for (int i = 0; i < out_n; ++i) {
    double lo = lo0 + i * step, hi = lo + step;
    if (hi - lo < 1.0) {
      const double c = 0.5 * (lo + hi);
      lo = c - 0.5, hi = c + 0.5;
    }
    t.first[size_t(i)] = int(t.idx.size());
    double sum = 0;
    for (int k = int(std::floor(lo)); k < int(std::ceil(hi)); ++k) {
      const double wk = std::min(hi, double(k + 1)) - std::max(lo, double(k));
      if (wk <= 0) continue;
      int m = k < 0 ? -1 - k : (k >= n ? 2 * n - 1 - k : k);
      m = std::min(std::max(m, h0), h1 - 1) - h0;
      t.idx.push_back(m);
      t.w.push_back(float(wk));
      sum += wk;
    }
    for (size_t q = size_t(t.first[size_t(i)]); q < t.idx.size(); ++q) t.w[q] = float(t.w[q] / sum);
    t.count[size_t(i)] = int(t.idx.size()) - t.first[size_t(i)];
  }
  return t;
}

// The job's region with mirrored padding where it reaches a frame edge (square px, edge coordinates).
RectF padded_region(const DetectJob& job, float sq_w, int h, int face_px) {
  RectF r{std::max(0.f, job.region.x0), std::max(0.f, job.region.y0), std::min(sq_w, job.region.x1),
          std::min(float(h), job.region.y1)};
  const float pad = edge_pad_px(face_px) / job.scale;
  if (r.x0 <= 0.5f) r.x0 -= pad;
  if (r.y0 <= 0.5f) r.y0 -= pad;
  if (r.x1 >= sq_w - 0.5f) r.x1 += pad;
  if (r.y1 >= h - 0.5f) r.y1 += pad;
  return r;
}

constexpr int kWindow = 80;  // dlib's frontal detector window (px at detection scale)

}  // namespace

std::vector<DetectJob> plan_scan(float sq_w, int h, const ScanParams& p) {
  std::vector<DetectJob> jobs;
  const float side = std::max(sq_w, float(h));
  float s0 = std::min(1.f, float(p.face_px) / float(std::max(1, p.min_face)));
  if (p.max_side > 0 && side * s0 > p.max_side) s0 = float(p.max_side) / side;
  jobs.push_back(DetectJob{RectF{0, 0, sq_w, float(h)}, s0, 0});
  const float fine = std::min(kMaxUpscale, float(p.face_px) / float(std::max(1, p.min_face)));
  const float band = std::pow(kLevelRatio, float(kBandLevels));
  for (float coarser = s0; coarser * 1.001f < fine;) {
    const float s = std::min(fine, coarser * band);
    const int levels = levels_between(s, coarser);
    const int overlap = int(std::ceil(p.face_px * std::pow(kLevelRatio, float(levels - 1)))) + 8;
    push_tiles(jobs, sq_w, h, s, levels, overlap, p.tile_px);
    coarser = s;
  }
  return jobs;
}

DetectJob plan_near(const RectF& box, float sq_w, int h, int face_px) {
  const float size = std::max(1.f, 0.5f * (box.width() + box.height()));
  const float cx = 0.5f * (box.x0 + box.x1), cy = 0.5f * (box.y0 + box.y1);
  DetectJob j;
  j.region = RectF{std::max(0.f, cx - size), std::max(0.f, cy - size), std::min(sq_w, cx + size),
                   std::min(float(h), cy + size)};
  j.scale = std::min(kMaxUpscale, float(face_px) / (0.6f * size));
  j.levels = levels_between(1.7f, 0.6f);
  return j;
}

struct FaceDetector::Impl {
  HogScanner hog;
  std::vector<float> rows;
};

FaceDetector::FaceDetector() : impl_(new Impl) {}
FaceDetector::~FaceDetector() = default;

Rect FaceDetector::source_rect(const DetectJob& job, int frame_w, int frame_h, float par) {
  const RectF r = padded_region(job, frame_w * par, frame_h, kWindow);
  // Mirrored padding reads the pixels just inside the edge, which the clipped region already covers.
  const int x0 = std::max(0, int(std::floor(std::max(0.f, r.x0) / par)) - 1);
  const int x1 = std::min(frame_w, int(std::ceil(std::min(frame_w * par, r.x1) / par)) + 1);
  const int y0 = std::max(0, int(std::floor(std::max(0.f, r.y0))) - 1);
  const int y1 = std::min(frame_h, int(std::ceil(std::min(float(frame_h), r.y1))) + 1);
  return Rect{x0, y0, std::max(1, x1 - x0), std::max(1, y1 - y0)};
}

std::vector<Detection> FaceDetector::detect(const uint8_t* data, int stride, const Rect& have, int frame_w, int frame_h,
                                            float par, const DetectJob& job) {
  std::vector<Detection> out;
  const float sq_w = frame_w * par;
  const RectF r = padded_region(job, sq_w, frame_h, kWindow);
  const float s = job.scale;
  const int dw = int(std::lround(r.width() * s)), dh = int(std::lround(r.height() * s));
  if (dw < kWindow / 2 || dh < kWindow / 2 || !(s > 0)) return out;  // nothing this small can hold a face
  // Detection pixel i covers square px [r.x0 + i/s, ...), i.e. frame px [(r.x0 + i/s)/par, ...).
  const Taps tx = make_taps(r.x0 / par, 1.0 / (s * par), dw, frame_w, have.x, have.right());
  const Taps ty = make_taps(r.y0, 1.0 / s, dh, frame_h, have.y, have.bottom());
  int rmin = have.height, rmax = -1;
  for (int m : ty.idx) rmin = std::min(rmin, m), rmax = std::max(rmax, m);
  std::vector<float>& rows = impl_->rows;
  rows.assign(size_t(rmax - rmin + 1) * dw, 0.f);
  for (int y = rmin; y <= rmax; ++y) {
    const uint8_t* src = data + size_t(y) * stride;
    float* dst = rows.data() + size_t(y - rmin) * dw;
    for (int i = 0; i < dw; ++i) {
      float v = 0;
      for (int q = tx.first[size_t(i)], e = q + tx.count[size_t(i)]; q < e; ++q)
        v += tx.w[size_t(q)] * src[tx.idx[size_t(q)]];
      dst[i] = v;
    }
  }
  uint8_t* img = impl_->hog.image(dw, dh);
  for (int j = 0; j < dh; ++j) {
    uint8_t* dst = img + size_t(j) * size_t(dw);
    std::vector<float> acc(size_t(dw), 0.f);
    for (int q = ty.first[size_t(j)], e = q + ty.count[size_t(j)]; q < e; ++q) {
      const float wq = ty.w[size_t(q)];
      const float* src = rows.data() + size_t(ty.idx[size_t(q)] - rmin) * dw;
      for (int i = 0; i < dw; ++i) acc[size_t(i)] += wq * src[i];
    }
    for (int i = 0; i < dw; ++i) dst[i] = uint8_t(std::min(255.f, acc[size_t(i)] + 0.5f));
  }
  for (const HogScanner::Hit& d : impl_->hog.run(job.levels)) {
    // Detection pixel i's centre is square edge coordinate r.x0 + (i + 0.5)/s; frame pixel centres sit half a
    // pixel (par square px across) inside their edges.
    Detection det;
    det.box = RectF{r.x0 + (d.left + 0.5f) / s - 0.5f * par, r.y0 + (d.top + 0.5f) / s - 0.5f,
                    r.x0 + (d.right + 0.5f) / s - 0.5f * par, r.y0 + (d.bottom + 0.5f) / s - 0.5f};
    // A mirror image of a face inside the frame is no face; one centred on the edge is half real.
    const float cx = 0.5f * (det.box.x0 + det.box.x1), cy = 0.5f * (det.box.y0 + det.box.y1);
    const float tol = 0.1f * det.box.width();
    if (cx < -tol || cy < -tol || cx > sq_w + tol || cy > frame_h + tol) continue;
    det.score = d.score;
    out.push_back(det);
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

bool AsyncDetector::submit(const uint8_t* luma, int w, int h, int stride, float par, const DetectJob& job,
                           int64_t frame, uint64_t gen) {
  std::unique_lock<std::mutex> lock(mu_);
  if (pending_ || running_) return false;
  // Copy under the lock: the worker only touches buf_ while running_ is set. Only what the job reads.
  const Rect src = FaceDetector::source_rect(job, w, h, par);
  buf_.resize(size_t(src.width) * src.height);
  for (int j = 0; j < src.height; ++j)
    std::memcpy(buf_.data() + size_t(j) * src.width, luma + size_t(src.y + j) * stride + src.x, size_t(src.width));
  have_ = src, w_ = w, h_ = h, par_ = par, job_ = job, frame_ = frame, gen_ = gen;
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
    const Rect have = have_;
    const int w = w_, h = h_;
    const float par = par_;
    const DetectJob job = job_;
    const int64_t frame = frame_;
    const uint64_t gen = gen_;
    lock.unlock();
    timespec c0, c1;  // detector thread CPU time (what a detection costs, whatever else runs on the machine)
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    std::vector<Detection> dets;
    try {
      dets = detector_.detect(buf_.data(), have.width, have, w, h, par, job);
    } catch (...) {
      dets.clear();  // a failed detection is a missed one; the scan goes on
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
