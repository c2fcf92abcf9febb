#include "retoucher.h"

#include "blend/draw.h"
#include "stream_frame.h"
#include "thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

namespace bty::gst {

// One face's work in a frame: its net area, the net's raw output (the net's own buffer when the net serves this face
// alone in the frame, else taken from the net into `copy`), and what the blend reads after smoothing.
struct Retoucher::FaceJob {
  Rect area;
  TemporalSmoother::Head out;  // the net's head: floats, or an OpenCL net's halves
  size_t size = 0;
  std::vector<float> copy;
  std::vector<uint16_t> half_copy;
  TemporalSmoother::Head smoothed;
};

namespace {

// Luma for the face stage from a packed RGB frame (BT.601 weights; the detector does not care about the matrix).
void rgb_luma(const blend::Frame& f, std::vector<uint8_t>& out) {
  int r, g, b, bpp;
  blend::packed_layout(f.format, r, g, b, bpp);
  out.resize(size_t(f.width) * f.height);
  for (int y = 0; y < f.height; ++y) {
    const uint8_t* p = f.plane[0] + size_t(y) * f.stride[0];
    uint8_t* o = out.data() + size_t(y) * f.width;
    for (int x = 0; x < f.width; ++x, p += bpp) o[x] = uint8_t((77 * p[r] + 150 * p[g] + 29 * p[b] + 128) >> 8);
  }
}

// The Y bytes of a packed 4:2:2 frame as a plane.
void packed_luma(const blend::Frame& f, std::vector<uint8_t>& out) {
  const YuvLayout l = yuv_layout(f.format);
  out.resize(size_t(f.width) * f.height);
  for (int y = 0; y < f.height; ++y) {
    const uint8_t* p = f.plane[0] + size_t(y) * f.stride[0] + l.luma_offset;
    uint8_t* o = out.data() + size_t(y) * f.width;
    for (int x = 0; x < f.width; ++x) o[x] = p[size_t(x) * 2];
  }
}

// Building a face stage costs about a second (dlib's HOG detector and the 68-point predictor are read from their
// serialised forms). Stopped elements hand their stage back here, reset, and the next start() with the same landmark
// model, detection mode, frame rate and threads takes it: apps that cycle NULL<->PLAYING (OBS scene switches, tests)
// restart at once. At most two idle stages are kept (the detector thread of an idle stage sleeps); freed at exit.
struct StagePool {
  std::mutex mu;
  std::vector<std::pair<face::Options, std::unique_ptr<face::FaceStage>>> idle;  // most recent last
  static bool same(const face::Options& a, const face::Options& b) {
    return a.landmark_model == b.landmark_model && a.synchronous_detection == b.synchronous_detection &&
           a.frame_rate == b.frame_rate && a.threads == b.threads;
  }
};
StagePool& pool() {
  static StagePool p;
  return p;
}

std::unique_ptr<face::FaceStage> take_stage(const face::Options& o) {
  {
    StagePool& p = pool();
    std::lock_guard<std::mutex> lock(p.mu);
    for (auto it = p.idle.rbegin(); it != p.idle.rend(); ++it)
      if (StagePool::same(it->first, o)) {
        std::unique_ptr<face::FaceStage> s = std::move(it->second);
        p.idle.erase(std::next(it).base());
        s->set_options(o.max_faces, o.min_face_size, o.detect_interval);
        return s;
      }
  }
  return std::make_unique<face::FaceStage>(o);
}

void give_stage(std::unique_ptr<face::FaceStage> s, const face::Options& o) {
  if (!s) return;
  s->reset();
  StagePool& p = pool();
  std::unique_ptr<face::FaceStage> evicted;  // destroyed outside the lock (joins its thread)
  std::lock_guard<std::mutex> lock(p.mu);
  p.idle.emplace_back(o, std::move(s));
  if (p.idle.size() > 2) {
    evicted = std::move(p.idle.front().second);
    p.idle.erase(p.idle.begin());
  }
}

// Face-stage options the element's settings cannot make invalid are checked here, so a face::Error from building
// a stage can only be about the landmark model (no matching on its text).
void check_stage_settings(const StartConfig& c) {
  if (c.max_faces < 0 || c.min_face_size < 1 || c.detect_interval < 1)
    throw ConfigError(ConfigError::Part::Settings, ErrorKind::Settings,
                      "max-faces must be >= 0, min-face-size >= 1 and detect-interval "
                      ">= 1");
}

// A face track's region as the blend may touch it: the ROI grown by the spot step's box radius and one chroma
// sample on each side. Faces whose regions do not meet can be blended at the same time.
Rect blend_reach(const face::Face& fc, int margin) {
  return Rect{fc.roi.x - margin, fc.roi.y - margin, fc.roi.width + 2 * margin, fc.roi.height + 2 * margin};
}
bool overlap(const Rect& a, const Rect& b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

// device=auto's choice per model file, thread count and precision, measured once per process: the micro-benchmark
// builds an OpenCL net and times both devices, which a restart (NULL<->PLAYING cycles, OBS scene switches) need not
// redo.
Device picked_device(const std::string& path, const std::shared_ptr<const Model>& model, const NetOptions& cpu,
                     std::string& why) {
  static std::mutex mu;
  static std::map<std::tuple<std::string, int, Precision>, std::pair<Device, std::string>> picks;
  std::lock_guard<std::mutex> lock(mu);
  const auto key = std::make_tuple(path, cpu.threads, cpu.precision);
  auto it = picks.find(key);
  if (it == picks.end()) {
    std::string w;
    const Device d = pick_device(model, cpu, &w);
    it = picks.emplace(key, std::make_pair(d, "device=auto: " + w)).first;
  }
  why = it->second.second;
  return it->second.first;
}

// precision=auto: int8 for a model whose weights lie on their int8 grid where VNNI pays (int8_pays()), else bf16
// where it pays (bf16_pays(): AMX, or vdpbf16ps twice the FMA rate as on Zen 4), else fp32. Issue 9's quality bound
// holds on real faces for bf16 with the shipped nets and for int8 with grid weights (the study M; tests
// Element.Bf16PrecisionHolds... and Element.Int8PrecisionHoldsTheQualityBoundWithGridWeights); float-trained
// weights, the shipped ones included, do not hold it in int8, and auto runs them in bf16.
Precision auto_precision(const ModelInfo& mi) {
  if (mi.int8_on_grid && int8_pays()) return Precision::Int8;
  return bf16_pays() ? Precision::Bf16 : Precision::Float32;
}

std::string fallback_warning(const std::string& why) {
  return "OpenCL failed, the beauty net runs on the CPU from now on: " + why;
}

}  // namespace

Rect face_net_area(const face::Landmarks& p, const ModelInfo& mi, int net_w, int net_h, int frame_w, int frame_h,
                   int par_n, int par_d) {
  // The training framing (models/beautynet/prepare_data.py, as the model header says; docs/model-format.md):
  // crop_width jaw widths wide, crop_aspect × that high, centred horizontally between the jaw's midpoint and the
  // nose bridge, the nose tip crop_nose_offset × height below the centre. Measured in display pixels (x × PAR), so
  // blemishes stay at the scale the net learned whatever the pixel shape.
  if (par_n < 1 || par_d < 1) par_n = par_d = 1;
  const float sx = float(par_n) / float(par_d);
  const Eigen::Vector2f jaw_v = p[16] - p[0];
  const float jaw = std::hypot(jaw_v.x() * sx, jaw_v.y());
  const float w = std::max(8.0f, mi.crop_width * jaw), h = w * mi.crop_aspect;  // display pixels
  float bridge = 0;
  for (int i = 27; i <= 30; ++i) bridge += p[i].x() / 4;
  const float cx = 0.25f * (p[0].x() + p[16].x()) + 0.5f * bridge;  // stored pixels
  const float cy = p[30].y() - mi.crop_nose_offset * h;
  const float ws = w / sx;  // the crop's width in stored pixels
  const Rect crop{int(std::lround(cx - ws / 2)), int(std::lround(cy - h / 2)), int(std::lround(ws)),
                  int(std::lround(h))};
  // The net input has square pixels: in stored pixels its aspect is (net_w / net_h) / PAR.
  return blend::net_area(crop, net_w * par_d, net_h * par_n, frame_w, frame_h);
}

Retoucher::Retoucher(const StartConfig& c) : detection_(c.detection) {
  if (c.threads < 1 || c.threads > 64)
    throw ConfigError(ConfigError::Part::Settings, ErrorKind::Settings,
                      "threads must be 1..64 (0 picks the number of CPUs)");
  if (c.precision == Precision::Bf16 && !bf16_available())
    throw ConfigError(ConfigError::Part::Settings, ErrorKind::Settings,
                      "precision=bf16 needs a CPU with AVX512_BF16 (AMD Zen 4, Intel Cooper Lake, Sapphire Rapids or "
                      "newer, with the AVX-512 state enabled by the OS), and this one has none; set precision=auto or "
                      "precision=fp32");
  if (c.precision == Precision::Int8 && !int8_available())
    throw ConfigError(ConfigError::Part::Settings, ErrorKind::Settings,
                      "precision=int8 needs a CPU with AVX512_VNNI (AMD Zen 4, Intel Cascade Lake, Ice Lake or newer, "
                      "with the AVX-512 state enabled by the OS), and this one has none; set precision=auto, bf16 or "
                      "fp32");
  cpu_.threads = c.threads;
  check_stage_settings(c);
  try {
    choice_ = choose_model(c.model, c.tier, c.threads);
    model_ = load_model(choice_.path);
    if (choice_.tier.empty()) choice_.tier = info(*model_).tier;
    const ModelInfo& mi = info(*model_);
    cpu_.precision = c.precision == Precision::Auto ? auto_precision(mi) : c.precision;
    const int want = output_maps(mi.output_kind) * mi.output_shuffle * mi.output_shuffle;
    if (mi.output_channels != want)
      throw ModelError(ModelError::Kind::Unsupported,
                       "model '" + choice_.path + "' has " + std::to_string(mi.output_channels) +
                           " output channels, but its output_kind " + std::to_string(int(mi.output_kind)) +
                           " with output_shuffle " + std::to_string(mi.output_shuffle) + " needs " +
                           std::to_string(want) +
                           ": it is not a beautify retouch net. Set model= to a beautify .bmodel "
                           "(models/beautify-{s,m,l}.bmodel) or export the net with models/beautynet/bmodel.py");
    if (cpu_.precision == Precision::Int8 && mi.int8_convs == 0)
      throw ModelError(ModelError::Kind::Unsupported,
                       "precision=int8: model '" + choice_.path +
                           "' carries no int8 calibration (format version 3), so no conv would run in 8 bits. "
                           "Calibrate it with models/beautynet/calibrate_int8.py, or set precision=auto, bf16 or fp32");
    // The CPU net serves from the first frame; an OpenCL net (device=opencl, or auto's pick) starts in the
    // background (context creation alone takes 0.2-0.3 s on NVIDIA drivers) and takes over once it is ready.
    net_ = std::make_unique<Net>(model_, cpu_);
    if (c.device == Device::Cpu) {
      device_reason_ = net_->device_name() + " (device=cpu)";
    } else {
      device_reason_ = net_->device_name() + " (device=" + to_string(c.device) + ": OpenCL starting)";
      device_start_ = std::async(std::launch::async, start_device, choice_.path, model_, c.device, cpu_, c.max_faces);
      if (c.device_start_waits) device_start_.wait();
      adopt_started_device();
    }
  } catch (const ModelError& e) {
    throw ConfigError(ConfigError::Part::Model, e.kind(), e.what());
  } catch (const std::exception& e) {  // e.g. the engine refusing the options
    throw ConfigError(ConfigError::Part::Model, ErrorKind::Unsupported,
                      "cannot set up the beauty net from '" + choice_.path + "': " + e.what());
  }
  if (c.threads > 1) pool_ = std::make_unique<ThreadPool>(c.threads);
  stage_options_.landmark_model = c.landmark_model;
  // Several faces' refits and masks run on the element's threads too (the stage's own workers, asleep while the
  // nets and blends run on the element's pool): `threads=1` keeps all of it on the streaming thread.
  stage_options_.threads = c.threads;
  // Auto starts synchronous (files are where a missed first detection shows); a live upstream switches it off.
  stage_options_.synchronous_detection = c.detection != Detection::Never;
  stage_options_.max_faces = c.max_faces;
  stage_options_.min_face_size = c.min_face_size;
  stage_options_.detect_interval = c.detect_interval;
  try {
    stage_ = take_stage(stage_options_);
  } catch (const face::Error& e) {
    throw ConfigError(ConfigError::Part::Landmarks, e.kind(),
                      std::string(e.what()) +
                          " (set landmark-model= to dlib's "
                          "shape_predictor_68_face_landmarks.dat; Debian: apt install libdlib-data)");
  }
}

Retoucher::~Retoucher() {
  if (device_start_.valid()) device_start_.wait();  // the start holds the model: let it finish first
  give_stage(std::move(stage_), stage_options_);
}

Retoucher::DeviceStart Retoucher::start_device(const std::string& path, std::shared_ptr<const Model> model,
                                               Device device, const NetOptions& cpu, int max_faces) {
  // Test hook: a slow driver (tests/gst/test_device.cpp shows the first frames do not wait for it).
  if (const char* d = std::getenv("BEAUTIFY_TEST_DEVICE_START_DELAY_MS"))
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(d)));
  DeviceStart r;
  if (device == Device::Auto) {
    device = picked_device(path, model, cpu, r.reason);
    if (device == Device::Cpu) return r;
  } else {
    r.reason = std::string("device=") + to_string(device);
  }
  NetOptions cl = cpu;
  cl.device = Device::OpenCL;
  cl.batch = std::clamp(max_faces, 1, defaults::max_batch);  // more faces run in several batches
  cl.cl_output = kBlendClOutput;                             // the blend reads 8-bit precision at most
  try {
    r.net = std::make_unique<Net>(model, cl);
  } catch (const DeviceError& e) {
    r.failure = e.what();
  } catch (const std::exception& e) {  // e.g. out of host memory: still only a reason to stay on the CPU
    r.failure = e.what();
  }
  return r;
}

void Retoucher::adopt_started_device() {
  if (!device_start_.valid() || device_start_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
  DeviceStart r = device_start_.get();
  if (r.net) {
    net_ = std::move(r.net);
    device_reason_ = net_->device_name() + " (" + r.reason + ")";
  } else if (!r.failure.empty()) {
    device_warning_ = fallback_warning(r.failure);
    device_reason_ = net_->device_name() + " (" + r.reason + ", OpenCL failed)";
  } else {
    device_reason_ = net_->device_name() + " (" + r.reason + ")";
  }
}

void Retoucher::swap_stage(const face::Options& wanted) {
  // Built (or taken from the pool) before the old one goes, so the landmark model, shared while in use, is not
  // read again. The runtime-changeable options carry over.
  const face::Options old = stage_options_;
  const face::Options live = stage_->options();
  stage_options_ = wanted;
  stage_options_.max_faces = live.max_faces;
  stage_options_.min_face_size = live.min_face_size;
  stage_options_.detect_interval = live.detect_interval;
  std::unique_ptr<face::FaceStage> fresh = take_stage(stage_options_);
  give_stage(std::move(stage_), old);
  stage_ = std::move(fresh);
}

void Retoucher::configure(const StreamInfo& si) {
  stream_ = si;
  if (stream_.par_n < 1 || stream_.par_d < 1) stream_.par_n = stream_.par_d = 1;
  float rate = si.frame_rate;
  if (!(rate > 0) || !std::isfinite(rate)) rate = 30.f;  // variable/unknown rate
  stream_.frame_rate = rate;
  if (std::fabs(rate - stage_options_.frame_rate) > 1e-3f) {
    // The One-Euro filter's time step is fixed per stage: one built (or pooled) for this rate.
    face::Options o = stage_options_;
    o.frame_rate = rate;
    swap_stage(o);
  }
  reset();
}

bool Retoucher::set_upstream_live(bool live) {
  const bool sync = detection_ == Detection::Always || (detection_ == Detection::Auto && !live);
  if (sync != stage_options_.synchronous_detection) {
    face::Options o = stage_options_;
    o.synchronous_detection = sync;
    swap_stage(o);
    reset();
  }
  return sync;
}

void Retoucher::reset() {
  stage_->reset();
  smoother_.reset();
  fresh_start_ = true;
}

std::vector<face::Face> Retoucher::run_face_stage(const blend::Frame& f) {
  const uint8_t* luma = f.plane[0];
  int luma_stride = f.stride[0];
  if (is_yuv(f.format) && yuv_layout(f.format).luma_step != 1) {
    packed_luma(f, luma_);
    luma = luma_.data();
    luma_stride = f.width;
  } else if (!is_yuv(f.format) && f.format != PixelFormat::GRAY8) {
    rgb_luma(f, luma_);
    luma = luma_.data();
    luma_stride = f.width;
  }
  // The first frame after start, new caps or a flush. Detection inside the frame (non-live auto, always): the
  // complete scan, so every face >= min-face-size there is retouched at full alpha in that frame (the planned jobs
  // would find small faces only frames later, fading them in). Live streams (detection off the streaming thread):
  // it waits for one coarse detection when the last one fitted the frame budget.
  const face::Timings t = stage_->timings();
  const double budget_ms = 1000.0 / stream_.frame_rate;
  // A shot cut is such a start too (the face stage finds it): the same inline detection.
  const bool sync = stage_options_.synchronous_detection;
  const bool scan_now = fresh_start_ && sync;
  const bool inline_fits =
      detection_ == Detection::Auto && !sync && (t.detect_runs == 0 || t.detect_ms_total / t.detect_runs <= budget_ms);
  const bool detect_now = fresh_start_ && inline_fits;
  fresh_start_ = false;
  face::FrameInput in;
  in.luma = luma;
  in.width = f.width;
  in.height = f.height;
  in.stride = luma_stride;
  in.pixel_aspect = stream_.pixel_aspect();
  in.detect_now = detect_now;
  in.scan_now = scan_now;
  in.detect_on_cut = inline_fits;
  return stage_->process(in);
}

std::vector<face::Face> Retoucher::process(uint8_t* const plane[3], const int stride[3], const FrameSettings& s) {
  adopt_started_device();
  const blend::Frame f = frame_of(stream_, plane, stride);
  stage_->set_options(s.max_faces, s.min_face_size, s.detect_interval);
  std::vector<face::Face> faces = run_face_stage(f);
  retouch(f, faces, s);
  if (s.draw_faces) {
    for (const face::Face& fc : faces) {
      blend::draw_mask_outline(f, Rect{fc.roi.x, fc.roi.y, fc.roi.width, fc.roi.height}, fc.mask.data(), 127,
                               {255, 220, 0});
      blend::draw_rect(f, Rect{fc.box.x, fc.box.y, fc.box.width, fc.box.height}, {0, 255, 0});
      blend::draw_rect(f, Rect{fc.roi.x, fc.roi.y, fc.roi.width, fc.roi.height}, {0, 128, 255});
      for (const auto& p : fc.landmarks)
        blend::draw_dot(f, int(std::lround(p.x())), int(std::lround(p.y())), {255, 0, 0});
    }
  }
  return faces;
}

// Per frame: every face's net reads the frame before any blend writes it (so faces are independent of their order),
// the nets of several faces run at once (CPU: one single-thread net per worker; OpenCL: all faces as one batch, and
// on an OpenCL failure the CPU redoes them); the smoothing state is updated in face order; the blends run at once
// where the faces' reach does not overlap. The bytes are the same for any number of threads: each face's work is
// the same computation whichever worker does it.
void Retoucher::retouch(const blend::Frame& f, std::vector<face::Face>& faces, const FrameSettings& s) {
  const ModelInfo& mi = info(*model_);
  frame_device_ = net_->device();
  const bool tone = mi.output_kind == OutputKind::Layers && s.tone > 0.f;  // v1 nets have no tone layer
  if (!(s.strength > 0.f && (s.blemish > 0.f || tone))) {
    smoother_.reset();  // no net this frame: the next one starts over
    return;
  }
  // Faces with a usable mask, in the stage's order.
  std::vector<const face::Face*> retouched;
  for (const face::Face& fc : faces)
    if (!fc.roi.empty() && fc.mask.size() == size_t(fc.roi.width) * fc.roi.height) retouched.push_back(&fc);
  const int n = int(retouched.size());
  if (jobs_.size() < size_t(n)) jobs_.resize(n);
  for (int i = 0; i < n; ++i)
    jobs_[i].area = face_net_area(retouched[i]->landmarks, mi, net_->input_width(), net_->input_height(), f.width,
                                  f.height, stream_.par_n, stream_.par_d);
  const ImageView view = f.view();
  if (net_->device() == Device::OpenCL) {
    try {
      run_nets_on_device(view, n);
    } catch (const DeviceError& e) {  // no blend has written yet: the CPU redoes this frame's nets
      fall_back_to_cpu(e.what());
      frame_device_ = Device::Cpu;
      run_nets_on_cpu(view, n);
    }
  } else {
    run_nets_on_cpu(view, n);
  }

  smoother_.begin_frame();
  for (int i = 0; i < n; ++i)
    jobs_[i].smoothed =
        smoother_.smooth(retouched[i]->id, jobs_[i].area, jobs_[i].out, jobs_[i].size, s.temporal_smoothing);
  blend::Amounts amounts;
  amounts.strength = s.strength;
  amounts.blemish = s.blemish;
  amounts.tone = s.tone;
  auto layer_of = [&](int i) {
    blend::Layer layer;
    layer.chw = jobs_[i].smoothed.f;
    layer.half = jobs_[i].smoothed.h;
    layer.width = net_->output_width();
    layer.height = net_->output_height();
    layer.channels = net_->output_channels();
    layer.kind = mi.output_kind;
    layer.shuffle = mi.output_shuffle;
    layer.area = jobs_[i].area;
    layer.colour = mi.colour;
    layer.scale = mi.output_scale;
    return layer;
  };
  auto blend_face = [&](int i) {
    const face::Face& fc = *retouched[i];
    blend::apply(f, Rect{fc.roi.x, fc.roi.y, fc.roi.width, fc.roi.height}, fc.mask.data(), layer_of(i), amounts);
  };
  // A blend reads its ROI plus the spot step's radius and writes its ROI (chroma: whole 2-px blocks): faces whose
  // reach does not meet any other's are independent.
  bool apart = pool_ && n > 1;
  std::vector<Rect> reach;
  for (int i = 0; i < n && apart; ++i) {
    reach.push_back(blend_reach(*retouched[i], 2 + blend::spot_radius(layer_of(i))));
    for (int k = 0; k < i && apart; ++k) apart = !overlap(reach[i], reach[k]);
  }
  if (apart) {
    pool_->run(n, [&](int begin, int end) {
      for (int i = begin; i < end; ++i) blend_face(i);
    });
  } else {
    for (int i = 0; i < n; ++i) blend_face(i);
  }
  smoother_.end_frame();  // faces gone (or not retouched) this frame lose their state
}

// CPU: with one face (or one thread) net_ runs the faces in turn with all threads; with several, each worker runs
// whole faces on its own single-thread net.
void Retoucher::run_nets_on_cpu(const ImageView& view, int n) {
  const int workers = pool_ && n > 1 ? std::min(n, pool_->size()) : 1;
  while (workers > 1 && face_nets_.size() < size_t(workers)) {
    NetOptions one = cpu_;
    one.threads = 1;
    face_nets_.push_back(std::make_unique<Net>(model_, one));
  }
  auto run_net = [&](Net& net, int i) {
    FaceJob& j = jobs_[i];
    net.set_input(view, j.area);
    net.run();
    if (workers >= n) {
      const std::vector<float>& head = net.output();
      j.out = {head.data(), nullptr};
      j.size = head.size();
    } else {  // the net runs another face next: keep this output (swapped out, not copied)
      net.take_output(j.copy);
      j.out = {j.copy.data(), nullptr};
      j.size = j.copy.size();
    }
  };
  if (workers > 1) {
    pool_->run(workers, [&](int begin, int end) {
      for (int w = begin; w < end; ++w)
        for (int i = w; i < n; i += workers) run_net(*face_nets_[w], i);
    });
  } else {
    for (int i = 0; i < n; ++i) run_net(*net_, i);
  }
}

// OpenCL: every face's input goes into a slot, one run per batch of slots (it gathers the faces' bytes on the net's
// threads and uploads them at once). With several batches an earlier batch's outputs are copied before the next run
// overwrites them.
void Retoucher::run_nets_on_device(const ImageView& view, int n) {
  const int batch = net_->batch();
  for (int b0 = 0; b0 < n; b0 += batch) {
    const int count = std::min(n - b0, batch);
    for (int k = 0; k < count; ++k) net_->set_input(view, jobs_[b0 + k].area, k);
    net_->run(count);
    for (int k = 0; k < count; ++k) {
      FaceJob& j = jobs_[b0 + k];
      j.size = net_->output_size();
      // A half head goes to the smoother and the blend as it is: they convert the rows they read, when they read
      // them, instead of a pass over every face's head first (1.65 ms for 16 tier-L faces on the H200's host).
      if (const uint16_t* h = net_->output_half(k)) {
        j.out = {nullptr, h};
        if (n > batch) {
          j.half_copy.assign(h, h + j.size);
          j.out.h = j.half_copy.data();
        }
      } else {
        j.out = {net_->output_data(k), nullptr};
        if (n > batch) {
          j.copy.assign(j.out.f, j.out.f + j.size);
          j.out.f = j.copy.data();
        }
      }
    }
  }
}

void Retoucher::fall_back_to_cpu(const std::string& why) {
  net_ = std::make_unique<Net>(model_, cpu_);
  device_warning_ = fallback_warning(why);
  device_reason_ = net_->device_name() + " (OpenCL failed on a frame)";
}

}  // namespace bty::gst
