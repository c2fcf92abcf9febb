// What one OBS "Beautify" filter instance runs: the element's core (gst/retoucher.h, no GStreamer) plus what OBS
// needs around it. The core takes about a second to build (face stage; tier=auto times the nets), so it is built on
// a background thread whenever the start-time settings change, and frames pass through untouched until it is ready:
// the source never stalls. No OBS types here, so the tests can drive it directly.
#pragma once

#include "retoucher.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace bty::obs {

// Settings that need a new core (model, tier, landmark model, threads, detection mode) and those applied per frame.
struct Settings {
  gst::StartConfig start;
  gst::FrameSettings frame;
};

bool same_start(const gst::StartConfig& a, const gst::StartConfig& b);

class RetouchWorker {
 public:
  enum Level { Info, Warning, Error };
  using Log = std::function<void(Level, const std::string&)>;

  explicit RetouchWorker(Log log);
  ~RetouchWorker();  // waits for a build in progress (at most a few seconds)

  // Any thread (OBS calls it from the UI thread). A changed start config starts a rebuild in the background; the
  // old core keeps retouching until the new one is ready.
  void set(const Settings& s);

  // The source's video thread, once per frame. Retouches `frame` in place; false when it went through untouched
  // (core not ready, or failed to build). frame_rate: the stream's rate for the landmark smoothing.
  bool process(const blend::Frame& frame, uint64_t timestamp_ns, float frame_rate);

  // For the properties dialog and the log: "loading ...", "tier m (...)", or the error with what to do.
  std::string status() const;
  // Tests: blocks until no build is pending; true when a core is ready.
  bool wait_ready() const;

 private:
  void build_loop();

  Log log_;
  mutable std::mutex mu_;
  mutable std::condition_variable built_cv_;
  Settings settings_;  // guarded by mu_
  bool requested_ = false, want_build_ = false, building_ = false, stopping_ = false;
  std::unique_ptr<gst::Retoucher> fresh_;  // built, not yet taken by the video thread (mu_)
  bool have_core_ = false;                 // a core is ready or in use (mu_)
  std::string status_ = "not started";     // (mu_)
  std::thread builder_;

  // Video thread only.
  std::unique_ptr<gst::Retoucher> core_;
  gst::StreamInfo stream_;  // what core_ is configured for
  uint64_t last_ts_ = 0;
  bool configured_ = false;
};

}  // namespace bty::obs
