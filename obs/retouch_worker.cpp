#include "retouch_worker.h"

#include "stream_frame.h"

namespace bty::obs {
namespace {
// A timestamp step backwards or longer than this means the source restarted or seeked (a media source looping, a
// camera reopened): the face tracks and their smoothing start over, as the element does on a flush.
constexpr uint64_t kJumpNs = 1'000'000'000;
}  // namespace

bool same_start(const gst::StartConfig& a, const gst::StartConfig& b) {
  return a.model == b.model && a.tier == b.tier && a.landmark_model == b.landmark_model && a.threads == b.threads &&
         a.detection == b.detection;
}

RetouchWorker::RetouchWorker(Log log) : log_(std::move(log)) {}

RetouchWorker::~RetouchWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  if (builder_.joinable()) builder_.join();
}

void RetouchWorker::set(const Settings& s) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool rebuild = !requested_ || !same_start(s.start, settings_.start);
  requested_ = true;
  settings_ = s;
  if (!rebuild) return;
  want_build_ = true;
  if (building_) return;  // the running builder sees want_build_ when it finishes
  building_ = true;
  status_ = "loading the beauty net and the face stage...";
  if (builder_.joinable()) builder_.join();  // finished: building_ was false
  builder_ = std::thread(&RetouchWorker::build_loop, this);
}

void RetouchWorker::build_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (want_build_ && !stopping_) {
    want_build_ = false;
    const gst::StartConfig c = settings_.start;
    lock.unlock();
    std::unique_ptr<gst::Retoucher> core;
    std::string message;
    try {
      core = std::make_unique<gst::Retoucher>(c);
      const gst::ModelChoice& m = core->model();
      message = "tier " + m.tier + ", " + m.path + " (" + m.reason + "), " + std::to_string(c.threads) + " threads";
      log_(Info, "ready: " + message);
    } catch (const std::exception& e) {
      message = e.what();
      log_(Error, std::string("cannot start: ") + e.what());
    }
    lock.lock();
    if (want_build_) continue;  // settings changed meanwhile: this core is already stale
    status_ = core ? message : "error: " + message;
    if (core) {
      fresh_ = std::move(core);
      have_core_ = true;
    }
  }
  building_ = false;
  built_cv_.notify_all();
}

bool RetouchWorker::wait_ready() const {
  std::unique_lock<std::mutex> lock(mu_);
  built_cv_.wait(lock, [&] { return !building_; });
  return have_core_;
}

std::string RetouchWorker::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

bool RetouchWorker::process(const blend::Frame& f, uint64_t ts, float frame_rate) {
  gst::FrameSettings fs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (fresh_) {
      core_ = std::move(fresh_);
      configured_ = false;
    }
    fs = settings_.frame;
  }
  if (!core_) return false;
  const gst::StreamInfo stream = gst::stream_of(f, frame_rate);
  if (!configured_ || !gst::same_stream(stream, stream_)) {
    core_->configure(stream);
    // OBS sources are live: detection off the render thread, the first frame after a (re)start waits for one.
    core_->set_upstream_live(true);
    stream_ = stream;
    configured_ = true;
  } else if (ts < last_ts_ || ts - last_ts_ > kJumpNs) {
    core_->reset();
  }
  last_ts_ = ts;
  try {
    uint8_t* const planes[3] = {f.plane[0], f.plane[1], f.plane[2]};
    const int strides[3] = {f.stride[0], f.stride[1], f.stride[2]};
    core_->process(planes, strides, fs);
  } catch (const std::exception& e) {
    log_(Error, std::string("frame failed, passing frames through from now: ") + e.what());
    core_.reset();
    std::lock_guard<std::mutex> lock(mu_);
    have_core_ = false;
    status_ = std::string("error: ") + e.what();
    return false;
  }
  return true;
}

}  // namespace bty::obs
