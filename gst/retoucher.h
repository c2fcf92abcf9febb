// The element's C++ core, no GStreamer: per frame, luma → face stage → per face (net area → net → blend) → optional
// debug overlay. Created when the element starts (loads and validates everything), dropped when it stops; the
// stream's facts (format, colorimetry, pixel aspect, rate, liveness) are set from the caps with configure().
#pragma once

#include "blend/blend.h"
#include "face_stage.h"
#include "model_lookup.h"
#include "settings.h"
#include "temporal.h"

#include <beautify/engine.h>

#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace bty {
class ThreadPool;
}

namespace bty::gst {

// Everything that stops the element from starting. part says which part failed, kind() how (the engine's ModelError
// or the face stage's face::Error kind, carried through unchanged); what() says what to do about it.
class ConfigError : public Error {
 public:
  enum class Part { Model, Landmarks, Settings };
  ConfigError(Part p, ErrorKind k, const std::string& what) : Error(k, what), part(p) {}
  Part part;
};

// The stream as the caps describe it: built in the element's set_info, kept by the core.
struct StreamInfo {
  PixelFormat format = PixelFormat::I420;
  YuvMatrix matrix = YuvMatrix::BT709;
  bool full_range = false;
  int width = 0, height = 0;
  int par_n = 1, par_d = 1;  // pixel aspect ratio (a pixel is par_n/par_d as wide as it is tall)
  float frame_rate = 30.f;   // 0 or unknown in the caps: 30
  float pixel_aspect() const { return float(par_n) / float(par_d); }
};

// The frame area to send to the net for a face: the training framing (the model header's crop_*) measured in
// square (display) pixels, then grown to the net input's aspect ratio in display pixels (blend::net_area), and
// given back in the frame's stored pixels, so a face in a stream with non-square pixels is framed as it would be in
// the square-pixel picture and the net sees it undistorted.
Rect face_net_area(const face::Landmarks& landmarks, const ModelInfo& mi, int net_width, int net_height,
                   int frame_width, int frame_height, int par_n, int par_d);

class Retoucher {
 public:
  explicit Retoucher(const StartConfig& config);  // throws ConfigError
  ~Retoucher();

  const ModelChoice& model() const { return choice_; }
  // Where the net runs and why (device=auto: what the start-up micro-benchmark measured).
  const std::string& device_description() const { return device_reason_; }
  // Set when OpenCL failed (at start or on a frame) and the net moved to the CPU for good; empty once taken, so the
  // element posts one warning.
  std::string take_device_warning() { return std::exchange(device_warning_, {}); }
  // Where the last process() ran the nets (Cpu while the OpenCL net still starts in the background).
  Device frame_device() const { return frame_device_; }

  // New caps: tracks (and their smoothing state) are dropped (their coordinates mean nothing in the new frame).
  void configure(const StreamInfo& stream);
  // Upstream's liveness (latency query). Detection::Auto detects inside the frame's processing for non-live
  // upstream; the other modes ignore it. Returns whether detection is now synchronous.
  bool set_upstream_live(bool live);
  // Drops the face tracks and their smoothing state (flush, seek).
  void reset();
  // Retouches the frame (planes in memory order, the configured stream's format and size) in place and returns the
  // faces found (frame coordinates).
  std::vector<face::Face> process(uint8_t* const plane[3], const int stride[3], const FrameSettings& s);

 private:
  struct FaceJob;
  void swap_stage(const face::Options& wanted);
  std::vector<face::Face> run_face_stage(const blend::Frame& f);
  void retouch(const blend::Frame& f, std::vector<face::Face>& faces, const FrameSettings& s);
  void run_nets_on_cpu(const ImageView& view, int n);
  void run_nets_on_device(const ImageView& view, int n);
  void fall_back_to_cpu(const std::string& why);
  // The OpenCL start (device=auto's pick included), off the streaming thread: its net, or why there is none.
  struct DeviceStart {
    std::unique_ptr<Net> net;
    std::string reason;   // how the device was chosen
    std::string failure;  // OpenCL failed: the fallback warning's reason
  };
  static DeviceStart start_device(const std::string& path, std::shared_ptr<const Model> model, Device device,
                                  const NetOptions& cpu, int max_faces);
  void adopt_started_device();  // takes the background start's net once it is ready (never waits)

  ModelChoice choice_;
  std::shared_ptr<const Model> model_;
  Detection detection_ = defaults::detection;
  NetOptions cpu_;            // every CPU net's options (threads, precision); one-face-per-worker nets take threads 1
  std::unique_ptr<Net> net_;  // CPU: one face, all the element's threads on it; OpenCL: every face, in batches
  std::vector<std::unique_ptr<Net>> face_nets_;  // several faces: one single-thread net per worker, built lazily
  std::unique_ptr<ThreadPool> pool_;             // several faces: the workers (cpu_.threads, the caller included)
  std::vector<FaceJob> jobs_;
  std::string device_reason_, device_warning_;
  std::future<DeviceStart> device_start_;  // valid while the OpenCL net starts in the background
  Device frame_device_ = Device::Cpu;
  std::unique_ptr<face::FaceStage> stage_;
  face::Options stage_options_;
  StreamInfo stream_;
  bool fresh_start_ = true;    // first frame after start, caps or a flush: the complete scan or (live) one detection
  TemporalSmoother smoother_;  // per face track: the net's last (smoothed) output
  std::vector<uint8_t> luma_;  // non-planar frames: the face stage's luma plane
};

}  // namespace bty::gst
