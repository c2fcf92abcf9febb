#include "retoucher.h"

#include "blend/draw.h"

#include <algorithm>
#include <cmath>
#include <mutex>

namespace bty::gst {
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

// Building a face stage costs about a second (dlib's HOG detector and the 68-point predictor are read from their
// serialised forms). Stopped elements hand their stage back here, reset, and the next start() with the same landmark
// model, detection mode and frame rate takes it: apps that cycle NULL<->PLAYING (OBS scene switches, tests) restart
// at once. At most two idle stages are kept (the detector thread of an idle stage sleeps); freed at exit.
struct StagePool {
  std::mutex mu;
  std::vector<std::pair<face::Options, std::unique_ptr<face::FaceStage>>> idle;  // most recent last
  static bool same(const face::Options& a, const face::Options& b) {
    return a.landmark_model == b.landmark_model && a.synchronous_detection == b.synchronous_detection &&
           a.frame_rate == b.frame_rate;
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

}  // namespace

Retoucher::Retoucher(const StartConfig& c) : config_(c) {
  if (c.threads < 1 || c.threads > 64)
    throw ConfigError(ConfigError::Kind::Settings, "threads must be 1..64 (0 picks the number of CPUs)");
  try {
    choice_ = choose_model(c.model, c.tier, c.threads);
    model_ = load_model(choice_.path);
    if (choice_.tier.empty()) choice_.tier = info(*model_).tier;
    const ModelInfo& mi = info(*model_);
    const int want = output_maps(mi.output_kind) * mi.output_shuffle * mi.output_shuffle;
    if (mi.output_channels != want)
      throw ModelError("model '" + choice_.path + "' has " + std::to_string(mi.output_channels) +
                       " output channels, but its output_kind " + std::to_string(int(mi.output_kind)) +
                       " with output_shuffle " + std::to_string(mi.output_shuffle) + " needs " +
                       std::to_string(want) + ": it is not a beautify retouch net. Set model= to a beautify .bmodel "
                       "(models/beautify-{s,m,l}.bmodel) or export the net with models/beautynet/bmodel.py");
    net_options_.threads = c.threads;
    net_options_.batch = std::clamp(c.max_faces, 1, 16);  // more faces run in several batches
    net_options_.device = c.device == Device::Auto ? pick_device(model_, net_options_, &device_reason_) : c.device;
    if (c.device != Device::Auto) device_reason_ = std::string("device=") + to_string(c.device);
    try {
      net_ = std::make_unique<Net>(model_, net_options_);
    } catch (const DeviceError& e) {
      fall_back_to_cpu(e.what());
    }
    device_reason_ = net_->device_name() + " (" + device_reason_ + ")";
  } catch (const ModelError& e) {
    throw ConfigError(ConfigError::Kind::Model, e.what());
  } catch (const std::exception& e) {  // e.g. the engine refusing the options
    throw ConfigError(ConfigError::Kind::Model, "cannot set up the beauty net from '" + choice_.path + "': " + e.what());
  }
  stage_options_.landmark_model = c.landmark_model;
  stage_options_.synchronous_detection = c.synchronous_detection;
  stage_options_.max_faces = c.max_faces;
  stage_options_.min_face_size = c.min_face_size;
  stage_options_.detect_interval = c.detect_interval;
  try {
    stage_ = take_stage(stage_options_);
  } catch (const face::Error& e) {
    const bool settings = std::string(e.what()).find("invalid face stage options") != std::string::npos;
    throw ConfigError(settings ? ConfigError::Kind::Settings : ConfigError::Kind::Landmarks,
                      std::string(e.what()) + (settings ? "" : " (set landmark-model= to dlib's "
                      "shape_predictor_68_face_landmarks.dat; Debian: apt install libdlib-data)"));
  }
}

Retoucher::~Retoucher() { give_stage(std::move(stage_), stage_options_); }

void Retoucher::fall_back_to_cpu(const std::string& why) {
  net_options_.device = Device::Cpu;
  net_ = std::make_unique<Net>(model_, net_options_);
  device_warning_ = "OpenCL failed, the beauty net runs on the CPU from now on: " + why;
  device_reason_ = net_->device_name() + " (OpenCL failed)";
}

const ModelInfo& Retoucher::model_info() const { return info(*model_); }

void Retoucher::configure(float frame_rate) {
  if (!(frame_rate > 0) || !std::isfinite(frame_rate)) frame_rate = 30.f;  // variable/unknown rate
  if (std::fabs(frame_rate - stage_options_.frame_rate) > 1e-3f) {
    // The One-Euro filter's time step is fixed per stage: swap in one built (or pooled) for this rate. Built
    // before the old one goes, so the landmark model (shared while in use) is not read again.
    const face::Options old = stage_options_;
    const face::Options live = stage_->options();
    stage_options_.max_faces = live.max_faces;
    stage_options_.min_face_size = live.min_face_size;
    stage_options_.detect_interval = live.detect_interval;
    stage_options_.frame_rate = frame_rate;
    std::unique_ptr<face::FaceStage> fresh = take_stage(stage_options_);
    give_stage(std::move(stage_), old);
    stage_ = std::move(fresh);
  } else {
    stage_->reset();
  }
  smoother_.reset();
}

namespace {
// The face region the net was trained on (models/beautynet/prepare_data.py), as the model's header says
// (docs/model-format.md): crop_width jaw widths wide, crop_aspect × that high, centred horizontally between the
// jaw's midpoint and the nose bridge, the nose tip crop_nose_offset × height below the centre. Feeding the same
// framing keeps blemishes at the scale the net learned; net_area() then adds the net's aspect ratio.
Rect training_crop(const face::Face& fc, const ModelInfo& mi) {
  const auto& p = fc.landmarks;
  const float jaw = (p[16] - p[0]).norm();
  const float w = std::max(8.0f, mi.crop_width * jaw), h = w * mi.crop_aspect;
  float bridge = 0;
  for (int i = 27; i <= 30; ++i) bridge += p[i].x() / 4;
  const float cx = 0.25f * (p[0].x() + p[16].x()) + 0.5f * bridge;
  const float cy = p[30].y() - mi.crop_nose_offset * h;
  return Rect{int(std::lround(cx - w / 2)), int(std::lround(cy - h / 2)), int(std::lround(w)), int(std::lround(h))};
}
}  // namespace

std::vector<face::Face> Retoucher::process(const blend::Frame& f, const FrameSettings& s) {
  stage_->set_options(s.max_faces, s.min_face_size, s.detect_interval);
  const uint8_t* luma = f.plane[0];
  int luma_stride = f.stride[0];
  if (!blend::is_yuv(f.format)) {
    rgb_luma(f, luma_);
    luma = luma_.data();
    luma_stride = f.width;
  }
  std::vector<face::Face> faces = stage_->process(luma, f.width, f.height, luma_stride);

  const ModelInfo& mi = info(*model_);
  const bool tone = mi.output_kind == OutputKind::Layers && s.tone > 0.f;  // v1 nets have no tone layer
  if (s.strength > 0.f && (s.blemish > 0.f || tone)) {
    const ImageView view = f.view();
    blend::Amounts amounts;
    amounts.strength = s.strength;
    amounts.blemish = s.blemish;
    amounts.tone = s.tone;
    smoother_.begin_frame();
    batch_faces_.clear();
    batch_areas_.clear();
    for (const face::Face& fc : faces) {
      if (fc.roi.empty() || fc.mask.size() != size_t(fc.roi.width) * fc.roi.height) continue;
      batch_faces_.push_back(&fc);
      batch_areas_.push_back(
          blend::net_area(training_crop(fc, mi), net_->input_width(), net_->input_height(), f.width, f.height));
    }
    // The faces as batches of up to net_->batch(): all inputs queued (OpenCL: uploading while the next face is
    // prepared), one run, then the blends. An OpenCL failure moves the net to the CPU and redoes the batch there.
    for (size_t b0 = 0; b0 < batch_faces_.size(); b0 += size_t(net_->batch())) {
      const int n = int(std::min(batch_faces_.size() - b0, size_t(net_->batch())));
      try {
        for (int i = 0; i < n; ++i) net_->set_input(view, batch_areas_[b0 + i], i);
        net_->run(n);
      } catch (const DeviceError& e) {
        fall_back_to_cpu(e.what());
        for (int i = 0; i < n; ++i) net_->set_input(view, batch_areas_[b0 + i], i);
        net_->run(n);
      }
      for (int i = 0; i < n; ++i) {
        const face::Face& fc = *batch_faces_[b0 + i];
        const Rect roi{fc.roi.x, fc.roi.y, fc.roi.width, fc.roi.height};
        const Rect& area = batch_areas_[b0 + i];
        const float* head = net_->output_data(i);
        blend::Layer layer;
        layer.chw = smoother_.smooth(fc.id, area, head, net_->output_size(), s.temporal_smoothing);
        layer.width = net_->output_width();
        layer.height = net_->output_height();
        layer.channels = net_->output_channels();
        layer.kind = mi.output_kind;
        layer.shuffle = mi.output_shuffle;
        layer.area = area;
        layer.colour = mi.colour;
        layer.scale = mi.output_scale;
        blend::apply(f, roi, fc.mask.data(), layer, amounts);
      }
    }
    smoother_.end_frame();  // faces gone (or not retouched) this frame lose their state
  } else {
    smoother_.reset();  // no net this frame: the next one starts over
  }
  if (s.draw_faces) {
    for (const face::Face& fc : faces) {
      blend::draw_mask_outline(f, Rect{fc.roi.x, fc.roi.y, fc.roi.width, fc.roi.height}, fc.mask.data(), 127,
                               {255, 220, 0});
      blend::draw_rect(f, Rect{fc.box.x, fc.box.y, fc.box.width, fc.box.height}, {0, 255, 0});
      blend::draw_rect(f, Rect{fc.roi.x, fc.roi.y, fc.roi.width, fc.roi.height}, {0, 128, 255});
      for (const auto& p : fc.landmarks) blend::draw_dot(f, int(std::lround(p.x())), int(std::lround(p.y())), {255, 0, 0});
    }
  }
  return faces;
}

}  // namespace bty::gst
