#include "face_stage.h"

#include "detector.h"
#include "geometry.h"
#include "landmarker.h"
#include "mask.h"
#include "one_euro.h"

#include <algorithm>
#include <ctime>
#include <cmath>
#include <mutex>

namespace bty::face {

namespace {

// Costs (Timings) are this thread's CPU time: on a shared machine wall time would also count other processes.
double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}
double ms_since(double t0) { return cpu_ms() - t0; }

struct Track {
  int id = 0;
  Landmarks raw{}, smooth{};
  Placement place;               // detector-style placement of the smoothed shape (ROI size, overlap tests)
  Placement raw_place, raw_prev; // placements of the last two raw fits (start of the next refit, with motion)
  bool has_prev = false;
  std::vector<float> templ;      // appearance template (refreshed when a detection confirms the track)
  float quality = 1.f;
  float alpha = 0.f;
  int low_quality_frames = 0;
  bool leaving = false;
  bool fitted_this_frame = false;
  int64_t born = 0;
  OneEuroFilter filter;
  explicit Track(const Options& o) : filter(o.smooth_min_cutoff, o.smooth_beta, o.smooth_d_cutoff) {}
};

// Quality from appearance (NCC against the track's template) and shape plausibility (distance from the mean
// shape): a fit that slid onto background loses the face's appearance and usually its shape too.
float quality_of(const FitResult& f, const std::vector<float>& templ) {
  const float app = std::max(0.f, patch_ncc(f.patch, templ));
  // Residuals on real faces are ~0.02-0.05 of the box (expressions, yaw); 0.12 and above is no face shape.
  const float shape = std::min(1.f, std::max(0.f, 1.f - (f.shape_residual - 0.05f) / 0.07f));
  const float vis = std::min(1.f, f.visible / 0.5f);  // under half the face in the frame: fade out
  return std::min(app, shape) * vis;
}

}  // namespace

struct FaceStage::Impl {
  mutable std::mutex settings_mu;
  Options opt;  // guarded by settings_mu; process() works on a copy

  Landmarker landmarker;
  FaceDetector sync_detector;
  std::unique_ptr<AsyncDetector> async;

  std::vector<Track> tracks;
  int next_id = 1;
  int64_t frame = -1;
  int64_t last_detect = -1000000;
  bool want_detect = true;
  bool full_and_healthy = false;  // max_faces tracks, all fitting well: periodic detection has nothing to add
  uint64_t generation = 0;
  int frame_w = -1, frame_h = -1;
  Timings t;
  double sync_detect_ms = 0;
  int sync_detect_runs = 0;

  explicit Impl(const Options& o) : opt(o), landmarker(o.landmark_model) {
    if (!o.synchronous_detection) async = std::make_unique<AsyncDetector>();
  }

  void drop_all() {
    tracks.clear();
    ++generation;  // results of an in-flight detection are for the old tracks/frame size: ignore them
    want_detect = true;
    last_detect = -1000000;
  }

  void reconcile(const std::vector<Detection>& dets, const Options& o, const uint8_t* luma, int w, int h, int stride);
  void refit(Track& tr, const Options& o, const uint8_t* luma, int w, int h, int stride);
  Face output(const Track& tr, const Options& o, int w, int h, double& mask_ms) const;
};

FaceStage::FaceStage(const Options& options) {
  if (options.max_faces < 0 || options.min_face_size < 1 || options.detect_interval < 1 || options.roi_align < 1 ||
      options.detect_face_px < 40 || options.fade_frames < 0 || !(options.frame_rate > 0))
    throw Error("invalid face stage options (need max_faces >= 0, min_face_size >= 1, detect_interval >= 1, "
                "roi_align >= 1, detect_face_px >= 40, fade_frames >= 0, frame_rate > 0)");
  impl_ = std::make_unique<Impl>(options);
}

FaceStage::~FaceStage() = default;

void FaceStage::set_options(int max_faces, int min_face_size, int detect_interval) {
  std::lock_guard<std::mutex> lock(impl_->settings_mu);
  impl_->opt.max_faces = std::max(0, max_faces);
  impl_->opt.min_face_size = std::max(1, min_face_size);
  impl_->opt.detect_interval = std::max(1, detect_interval);
}

Options FaceStage::options() const {
  std::lock_guard<std::mutex> lock(impl_->settings_mu);
  return impl_->opt;
}

void FaceStage::reset() { impl_->drop_all(); }

Timings FaceStage::timings() const {
  Timings t = impl_->t;
  if (impl_->async) {
    t.detect_ms_total = impl_->async->total_ms();
    t.detect_runs = impl_->async->runs();
  } else {
    t.detect_ms_total = impl_->sync_detect_ms;
    t.detect_runs = impl_->sync_detect_runs;
  }
  return t;
}

bool FaceStage::detection_busy() const { return impl_->async && impl_->async->busy(); }

void FaceStage::Impl::refit(Track& tr, const Options& o, const uint8_t* luma, int w, int h, int stride) {
  // Start from the last raw fit moved on by its last motion (not from the smoothed shape: that lags behind a
  // moving face and the fit would inherit the lag). Damped so noise is not amplified on a still face.
  Placement start = tr.raw_place;
  if (tr.has_prev) {
    start.t += 0.7f * (tr.raw_place.t - tr.raw_prev.t);
    start.scale *= std::pow(tr.raw_place.scale / tr.raw_prev.scale, 0.7f);
    start.angle += 0.7f * std::remainder(tr.raw_place.angle - tr.raw_prev.angle, 2.f * float(M_PI));
  }
  const FitResult f = landmarker.fit(luma, w, h, stride, start);
  tr.raw = f.lm;
  tr.raw_prev = tr.raw_place;
  tr.raw_place = landmarker.placement_of(f.lm);
  tr.has_prev = true;
  tr.quality = quality_of(f, tr.templ);
  if (tr.quality > 0.75f && !f.patch.empty() && tr.templ.size() == f.patch.size()) {
    // Follow slow appearance changes (light, expression) only while the fit is clearly good.
    float n = 0;
    for (size_t i = 0; i < f.patch.size(); ++i) {
      tr.templ[i] = 0.95f * tr.templ[i] + 0.05f * f.patch[i];
      n += tr.templ[i] * tr.templ[i];
    }
    n = std::sqrt(n);
    if (n > 0) for (float& v : tr.templ) v /= n;
  }
  // A doubtful fit does not move the output: the face stays where it was last seen while the track decides.
  if (tr.quality < o.drop_quality) return;
  const auto t0 = cpu_ms();
  tr.smooth = tr.raw;
  if (o.smoothing)
    tr.filter.filter(tr.smooth[0].data(), kNumLandmarks, 1.f / o.frame_rate, tr.place.scale);
  tr.place = landmarker.placement_of(tr.smooth);
  t.smoothing_ms += ms_since(t0);
}

void FaceStage::Impl::reconcile(const std::vector<Detection>& dets, const Options& o, const uint8_t* luma, int w,
                                int h, int stride) {
  std::vector<bool> used(dets.size(), false);
  // Detections arrive a few frames late: match them to tracks by overlap with the tracks' current boxes.
  for (Track& tr : tracks) {
    if (tr.leaving) continue;
    const RectF tb = Landmarker::box_of(tr.place);
    int best = -1;
    float best_iou = 0.3f;
    for (size_t i = 0; i < dets.size(); ++i) {
      const float v = iou(tb, dets[i].box);
      if (!used[i] && v > best_iou) best = int(i), best_iou = v;
    }
    if (best >= 0) {
      used[best] = true;
      if (tr.quality > 0.6f) {
        // Confirmed: re-anchor the appearance template on this frame's fit.
        const FitResult f = landmarker.fit(luma, w, h, stride, tr.raw_place);
        if (!f.patch.empty()) tr.templ = f.patch;
      } else {
        // A doubtful fit that the detector still sees: restart the fit from the detector's box.
        FitResult f = landmarker.fit(luma, w, h, stride, Landmarker::placement_of_box(dets[best].box));
        f = landmarker.fit(luma, w, h, stride, landmarker.placement_of(f.lm));
        const float q = quality_of(f, tr.templ);
        if (q > tr.quality) {
          tr.raw = f.lm;
          tr.quality = q;
          tr.raw_place = landmarker.placement_of(f.lm);
          tr.has_prev = false;
          tr.low_quality_frames = 0;
        }
      }
    }
  }
  int active = 0;
  for (const Track& tr : tracks) active += !tr.leaving;
  for (size_t i = 0; i < dets.size() && active < o.max_faces; ++i) {
    if (used[i]) continue;
    const RectF& b = dets[i].box;
    if (b.width() + 1 < o.min_face_size) continue;
    // Not a face already tracked (also not one that is fading out)?
    bool dup = false;
    for (const Track& tr : tracks) dup = dup || iou(Landmarker::box_of(tr.place), b) > 0.3f;
    if (dup) continue;
    Track tr(o);
    tr.id = next_id++;
    tr.born = frame;
    // Two fits: the detector's box is a coarse start; refit from the first fit's placement.
    FitResult f = landmarker.fit(luma, w, h, stride, Landmarker::placement_of_box(b));
    f = landmarker.fit(luma, w, h, stride, landmarker.placement_of(f.lm));
    tr.templ = f.patch;
    tr.quality = quality_of(f, tr.templ);
    if (tr.quality < o.drop_quality) continue;
    tr.raw = tr.smooth = f.lm;
    tr.raw_place = landmarker.placement_of(f.lm);
    if (o.smoothing) tr.filter.filter(tr.smooth[0].data(), kNumLandmarks, 1.f / o.frame_rate, b.width());
    tr.place = landmarker.placement_of(tr.smooth);
    tr.alpha = o.fade_frames > 0 ? 1.f / o.fade_frames : 1.f;
    tr.fitted_this_frame = true;
    tracks.push_back(std::move(tr));
    ++active;
  }
}

Face FaceStage::Impl::output(const Track& tr, const Options& o, int w, int h, double& mask_ms) const {
  Face f;
  f.id = tr.id;
  f.alpha = tr.alpha;
  f.landmarks = tr.smooth;
  f.raw_landmarks = tr.raw;
  f.quality = tr.quality;
  f.roll = tr.place.angle;
  f.size = tr.place.scale;
  const auto t0 = cpu_ms();
  const SkinShape shape = skin_shape(tr.smooth, tr.place.scale);
  f.box = to_rect(bounds(shape.outline.data(), int(shape.outline.size())));
  f.roi = align_roi(bounds(shape.outline.data(), int(shape.outline.size())),
                    o.roi_pad * tr.place.scale + 0.5f * shape.feather, o.roi_align, w, h);
  if (o.masks) render_mask(shape, f.roi, tr.alpha, f.mask);
  mask_ms += ms_since(t0);
  return f;
}

std::vector<Face> FaceStage::process(const uint8_t* luma, int width, int height, int stride) {
  if (!luma || width < 1 || height < 1 || stride < width) throw Error("process(): need a luma plane, size >= 1x1, stride >= width");
  Impl& s = *impl_;
  const auto t_start = cpu_ms();
  Options o;
  {
    std::lock_guard<std::mutex> lock(s.settings_mu);
    o = s.opt;
  }
  if (width != s.frame_w || height != s.frame_h) {
    s.drop_all();
    s.frame_w = width, s.frame_h = height;
  }
  ++s.frame;
  s.t = Timings{};
  for (Track& tr : s.tracks) tr.fitted_this_frame = false;
  const float scale = detection_scale(width, height, o.min_face_size, o.detect_face_px, o.detect_max_side);

  // 1. Detections: inline (synchronous mode) or whatever the detector thread has finished.
  std::vector<Detection> dets;
  bool have_dets = false;
  if (o.synchronous_detection) {
    if (s.want_detect || (!s.full_and_healthy && s.frame - s.last_detect >= o.detect_interval)) {
      const auto t0 = cpu_ms();
      dets = s.sync_detector.detect(luma, width, height, stride, scale);
      s.sync_detect_ms += ms_since(t0);
      ++s.sync_detect_runs;
      s.last_detect = s.frame;
      s.want_detect = false;
      have_dets = true;
    }
  } else {
    int64_t det_frame = 0;
    uint64_t gen = 0;
    if (s.async->poll(dets, det_frame, gen)) have_dets = gen == s.generation;
  }

  // 2. Refit every live track from its previous smoothed shape; fade out lost ones.
  {
    const auto t0 = cpu_ms();
    for (Track& tr : s.tracks) {
      if (tr.leaving) {
        tr.alpha = o.fade_frames > 0 ? tr.alpha - 1.f / o.fade_frames : 0.f;
        continue;
      }
      s.refit(tr, o, luma, width, height, stride);
      tr.fitted_this_frame = true;
      tr.low_quality_frames = tr.quality < o.drop_quality ? tr.low_quality_frames + 1 : 0;
      if (tr.low_quality_frames >= 2 || tr.place.scale < 0.5f * o.min_face_size) {
        tr.leaving = true;
        if (o.fade_frames == 0) tr.alpha = 0.f;
        s.want_detect = true;
      } else {
        tr.alpha = std::min(1.f, o.fade_frames > 0 ? tr.alpha + 1.f / o.fade_frames : 1.f);
      }
    }
    s.t.landmarks_ms = ms_since(t0) - s.t.smoothing_ms;
  }

  // 3. Reconcile detections with tracks; new faces start tracks.
  if (have_dets) {
    const auto t0 = cpu_ms();
    s.reconcile(dets, o, luma, width, height, stride);
    s.t.reconcile_ms = ms_since(t0);
  }

  // 4. Duplicates (two tracks converged on one face) and too many faces (max_faces lowered): oldest wins.
  std::stable_sort(s.tracks.begin(), s.tracks.end(), [](const Track& a, const Track& b) { return a.born < b.born; });
  int active = 0;
  for (size_t i = 0; i < s.tracks.size(); ++i) {
    Track& a = s.tracks[i];
    if (a.leaving) continue;
    bool dup = false;
    for (size_t j = 0; j < i && !dup; ++j)
      dup = !s.tracks[j].leaving && iou(Landmarker::box_of(a.place), Landmarker::box_of(s.tracks[j].place)) > 0.5f;
    if (dup || active >= o.max_faces) {
      a.leaving = true;
      if (o.fade_frames == 0) a.alpha = 0.f;
    } else {
      ++active;
    }
  }
  s.tracks.erase(std::remove_if(s.tracks.begin(), s.tracks.end(), [](const Track& t) { return t.leaving && t.alpha <= 0.f; }),
                 s.tracks.end());
  if (active == 0) s.want_detect = true;
  s.full_and_healthy = active >= o.max_faces;
  for (const Track& tr : s.tracks)
    if (!tr.leaving && tr.quality < 0.6f) s.full_and_healthy = false;
  const bool periodic = !s.full_and_healthy && s.frame - s.last_detect >= o.detect_interval;

  // 5. Asynchronous detection: every detect_interval frames, and at once while tracking is lost.
  if (!o.synchronous_detection && (s.want_detect || periodic)) {
    if (s.async->submit(luma, width, height, stride, scale, s.frame, s.generation)) {
      s.last_detect = s.frame;
      s.want_detect = false;
    }
  }

  // 6. Outputs: masks and ROIs for faces big enough to matter.
  std::vector<Face> faces;
  double mask_ms = 0;
  for (const Track& tr : s.tracks) {
    if (tr.alpha <= 0.f || tr.place.scale < o.min_face_size) continue;
    faces.push_back(s.output(tr, o, width, height, mask_ms));
  }
  s.t.masks_ms = mask_ms;
  s.t.total_ms = ms_since(t_start);
  return faces;
}

}  // namespace bty::face
