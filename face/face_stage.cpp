#include "face_stage.h"

#include "detector.h"
#include "geometry.h"
#include "landmarker.h"
#include "mask.h"
#include "motion.h"
#include "one_euro.h"
#include "shot_cut.h"
#include "thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace bty::face {

namespace {

// Costs (Timings) are this thread's CPU time: on a shared machine wall time would also count other processes.
double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}
double ms_since(double t0) { return cpu_ms() - t0; }

// Below this tracking quality a fit is doubtful: a detection restarts it from the detector's box (above it, a
// detection only refreshes the appearance template). Talking faces dip to 0.4-0.6 with expressions.
constexpr float kDoubtfulQuality = 0.6f;
// Measured frame-to-frame motion below this (square px) is not carried: on a still face it is the estimate's own
// noise, and a shape left in place keeps its cached mask.
constexpr float kMinCarryPx = 0.05f;

// Tracks live in square-pixel space (x = frame x * pixel_aspect); outputs are mapped back to frame px.
struct Track {
  int id = 0;
  Landmarks raw{}, smooth{};
  Placement place;                // detector-style placement of the smoothed shape (ROI size, overlap tests)
  Placement raw_place, raw_prev;  // placements of the last two raw fits (start of the next refit, with motion)
  bool has_prev = false;
  std::vector<float> templ;  // appearance template (refreshed when a detection confirms the track)
  float quality = 1.f;
  float alpha = 0.f;
  int low_quality_frames = 0;
  bool leaving = false;
  int64_t born = 0;
  OneEuroFilter filter;
  MotionRef motion;     // the face's region at its last refit (refit skipping)
  FrameFlow flow;       // the face's region in the previous frame (carrying the smoothed shape)
  Landmarks ref_raw{};  // raw fit at that refit
  Placement ref_place;
  int skipped = 0;                                // frames since that refit
  int64_t near_at = -1000000;                     // frame of the last detection around this (doubtful) track
  bool refitted = false;                          // this frame (timings)
  double fit_ms = 0, smooth_ms = 0, mask_ms = 0;  // this frame, per track (summed after the parallel steps)
  Face out;                                       // last output (reused while nothing it depends on changed)
  float out_alpha = -1.f;
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

Landmarks shifted(const Landmarks& lm, const Eigen::Vector2f& d) {
  Landmarks r = lm;
  for (auto& p : r) p += d;
  return r;
}

int pool_size(const Options& o) {
  if (o.threads > 0) return std::min(o.threads, 64);
  return int(std::max(1u, std::min(4u, std::thread::hardware_concurrency())));
}

}  // namespace

struct FaceStage::Impl {
  mutable std::mutex settings_mu;
  Options opt;  // guarded by settings_mu; process() works on a copy

  Landmarker landmarker;
  FaceDetector inline_detector;
  std::unique_ptr<AsyncDetector> async;
  std::unique_ptr<ThreadPool> pool;

  std::vector<Track> tracks;
  int next_id = 1;
  int64_t frame = -1;
  int64_t stream_start = 0;  // first frame index after construction or reset()
  int64_t last_coarse = -1000000, last_job = -1000000;
  bool want_detect = true;    // the coarse job at once (stream start, a track lost)
  bool tracking_none = true;  // nothing tracked: every other job is the coarse one
  bool last_was_coarse = false;
  bool full = false;  // max_faces tracks: the scan has nothing to add (doubtful tracks get near jobs instead)
  uint64_t generation = 0;
  int frame_w = -1, frame_h = -1;
  float frame_par = 1.f;
  // The scan: jobs[0] is the coarse job, the rest the small-face tiles, visited round-robin from `cursor`.
  std::vector<DetectJob> scan;
  ScanParams scan_key;
  size_t cursor = 1;
  std::deque<DetectJob> near;  // around tracks just lost: looked at first
  Timings t;
  // Search pacing (asynchronous mode, Options::search_cpu_share): the detector CPU seen at the last poll, whether
  // the job in flight is a search job, and the wall time before which no other search job starts.
  double async_ms_seen = 0;
  bool async_search_job = false;
  std::chrono::steady_clock::time_point search_rest_until{};
  double inline_detect_ms = 0;
  int inline_detect_runs = 0;
  ShotCut shot;

  explicit Impl(const Options& o) : opt(o), landmarker(o.landmark_model) {
    if (!o.synchronous_detection) async = std::make_unique<AsyncDetector>();
    const int n = pool_size(o);
    if (n > 1) pool = std::make_unique<ThreadPool>(n);
  }

  void drop_all() {
    tracks.clear();
    near.clear();
    ++generation;  // results of an in-flight detection are for the old tracks/frame size: ignore them
    want_detect = true;
    last_coarse = last_job = -1000000;
    tracking_none = true;
    cursor = 1;
    stream_start = frame + 1;
  }

  void for_each_track(const std::function<void(Track&)>& fn) {
    if (pool && tracks.size() > 1) {
      pool->run(int(tracks.size()), [&](int b, int e) {
        for (int i = b; i < e; ++i) fn(tracks[size_t(i)]);
      });
    } else {
      for (Track& tr : tracks) fn(tr);
    }
  }

  const std::vector<DetectJob>& plan(const Options& o) {
    const ScanParams p{o.min_face_size, o.detect_face_px, o.detect_max_side, o.detect_tile_px};
    if (scan.empty() || p.min_face != scan_key.min_face || p.face_px != scan_key.face_px ||
        p.max_side != scan_key.max_side || p.tile_px != scan_key.tile_px) {
      scan = plan_scan(frame_w * frame_par, frame_h, p);
      scan_key = p;
      cursor = 1;
    }
    return scan;
  }

  // The next job while searching, or false: lost tracks' surroundings first, then the coarse job when due, then
  // the next small-face tile.
  bool next_job(const Options& o, bool searching, DetectJob& job, bool& coarse) {
    coarse = false;
    if (!near.empty()) {
      job = near.front();
      near.pop_front();
      return true;
    }
    if (!want_detect && !searching) return false;
    const auto& jobs = plan(o);
    const bool tiles = jobs.size() > 1 && o.detect_job_interval > 0;
    // Due coarse jobs alternate with tiles, so a slow detector (or fast frames) cannot starve the small-face scan.
    const bool coarse_due = tracking_none || frame - last_coarse >= o.detect_interval;
    if (want_detect || (coarse_due && !(tiles && last_was_coarse))) {
      job = jobs[0];
      coarse = true;
      return true;
    }
    if (tiles && frame - last_job >= o.detect_job_interval) {
      if (cursor >= jobs.size()) cursor = 1;
      job = jobs[cursor++];
      return true;
    }
    return false;
  }

  void job_started(bool coarse) {
    last_job = frame;
    last_was_coarse = coarse;
    if (coarse) {
      last_coarse = frame;
      want_detect = false;
    }
  }

  std::vector<Detection> run_inline(const LumaView& img, const DetectJob& job) {
    const auto t0 = cpu_ms();
    auto d = inline_detector.detect(img.data, img.stride, Rect{0, 0, img.width, img.height}, img.width, img.height,
                                    img.pixel_aspect, job);
    const double ms = ms_since(t0);
    t.detect_ms += ms;
    inline_detect_ms += ms;
    ++inline_detect_runs;
    return d;
  }

  void reconcile(const std::vector<Detection>& dets, const Options& o, const LumaView& img);
  void refit(Track& tr, const Options& o, const LumaView& img);
  void output(Track& tr, const Options& o) const;
};

FaceStage::FaceStage(const Options& options) {
  if (options.max_faces < 0 || options.min_face_size < 1 || options.detect_interval < 1 ||
      options.detect_job_interval < 0 || options.roi_align < 1 || options.detect_face_px < 40 ||
      options.detect_max_side < 0 || options.detect_tile_px < 6400 || options.fade_frames < 0 ||
      !(options.frame_rate > 0) || options.threads < 0 || !(options.refit_skip_mad >= 0) ||
      options.refit_max_skip < 0 || !(options.search_cpu_share >= 0))
    throw Error(
        "invalid face stage options (need max_faces >= 0, min_face_size >= 1, detect_interval >= 1, "
        "detect_job_interval >= 0, roi_align >= 1, detect_face_px >= 40, detect_max_side >= 0, "
        "detect_tile_px >= 6400, fade_frames >= 0, frame_rate > 0, threads >= 0, refit_skip_mad >= 0, "
        "refit_max_skip >= 0, search_cpu_share >= 0)");
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

void FaceStage::reset() {
  impl_->drop_all();
  impl_->shot.reset();  // a new stream: its first frame is no cut
}

Timings FaceStage::timings() const {
  Timings t = impl_->t;
  t.detect_ms_total = impl_->inline_detect_ms;
  t.detect_runs = impl_->inline_detect_runs;
  if (impl_->async) {
    t.detect_ms_total += impl_->async->total_ms();
    t.detect_runs += impl_->async->runs();
  }
  return t;
}

bool FaceStage::detection_busy() const { return impl_->async && impl_->async->busy(); }

void FaceStage::Impl::refit(Track& tr, const Options& o, const LumaView& img) {
  const auto t0 = cpu_ms();
  tr.refitted = false;
  // How the face's region moved since the previous frame, measured on the picture (before this frame's fit).
  Eigen::Vector2f flow(0.f, 0.f);
  const bool carry = o.follow_motion_mad > 0 &&
                     tr.flow.track(img, Landmarker::box_of(tr.place), o.follow_motion_mad, flow) &&
                     flow.norm() >= kMinCarryPx;
  // The face's region unchanged since its last refit (up to a shift found by block matching): move the last fit
  // by that shift instead of fitting again.
  Eigen::Vector2f shift;
  if (o.refit_skip_mad > 0 && tr.skipped < o.refit_max_skip && tr.motion.valid() &&
      tr.motion.still(img, o.refit_skip_mad, shift)) {
    ++tr.skipped;
    tr.raw_prev = tr.raw_place;
    tr.raw = shifted(tr.ref_raw, shift);
    tr.raw_place = tr.ref_place;
    tr.raw_place.t += shift;
  } else {
    // Start from the last raw fit moved on by its last motion (not from the smoothed shape: that lags behind a
    // moving face and the fit would inherit the lag). Damped so noise is not amplified on a still face.
    Placement start = tr.raw_place;
    if (tr.has_prev) {
      start.t += 0.7f * (tr.raw_place.t - tr.raw_prev.t);
      start.scale *= std::pow(tr.raw_place.scale / tr.raw_prev.scale, 0.7f);
      start.angle += 0.7f * std::remainder(tr.raw_place.angle - tr.raw_prev.angle, 2.f * float(M_PI));
    }
    const FitResult f = landmarker.fit(img, start);
    tr.raw = f.lm;
    tr.raw_prev = tr.raw_place;
    tr.raw_place = landmarker.placement_of(f.lm);
    tr.has_prev = true;
    tr.quality = quality_of(f, tr.templ);
    tr.refitted = true;
    if (tr.quality > 0.75f && !f.patch.empty() && tr.templ.size() == f.patch.size()) {
      // Follow slow appearance changes (light, expression) only while the fit is clearly good.
      float n = 0;
      for (size_t i = 0; i < f.patch.size(); ++i) {
        tr.templ[i] = 0.95f * tr.templ[i] + 0.05f * f.patch[i];
        n += tr.templ[i] * tr.templ[i];
      }
      n = std::sqrt(n);
      if (n > 0)
        for (float& v : tr.templ) v /= n;
    }
    tr.skipped = 0;
    tr.ref_raw = tr.raw;
    tr.ref_place = tr.raw_place;
    if (o.refit_skip_mad > 0) tr.motion.capture(img, Landmarker::box_of(tr.raw_place));
  }
  const double t1 = cpu_ms();
  tr.fit_ms = t1 - t0;
  tr.smooth_ms = 0;
  // A doubtful fit does not move the output: the face stays where it was last seen while the track decides.
  if (tr.quality < o.drop_quality) return;
  // A still face whose smoothed shape has settled on the fit keeps it (and so its cached mask).
  float settle = 0;
  for (int i = 0; i < kNumLandmarks; ++i) settle = std::max(settle, (tr.smooth[i] - tr.raw[i]).cwiseAbs().maxCoeff());
  if (!tr.refitted && !carry && settle < 0.25f) return;
  tr.smooth = tr.raw;
  if (o.smoothing) {
    // The filter's state moves with the skin first; it then smooths only the fit's own jitter around that.
    if (carry) tr.filter.carry(flow.x(), flow.y());
    tr.filter.filter(tr.smooth[0].data(), kNumLandmarks, 1.f / o.frame_rate, tr.place.scale);
  }
  tr.place = landmarker.placement_of(tr.smooth);
  tr.smooth_ms = ms_since(t1);
}

void FaceStage::Impl::reconcile(const std::vector<Detection>& dets, const Options& o, const LumaView& img) {
  std::vector<bool> used(dets.size(), false);
  // Detections may arrive a few frames late: match them to tracks by overlap with the tracks' current boxes.
  for (Track& tr : tracks) {
    if (tr.leaving) continue;
    const RectF tb = Landmarker::box_of(tr.place);
    int best = -1;
    float best_iou = 0.3f;
    for (size_t i = 0; i < dets.size(); ++i) {
      const float v = iou(tb, dets[i].box);
      if (!used[i] && v > best_iou) best = int(i), best_iou = v;
    }
    if (best < 0) continue;
    used[size_t(best)] = true;
    if (tr.quality > kDoubtfulQuality) {
      // Confirmed: re-anchor the appearance template on this frame's fit.
      const FitResult f = landmarker.fit(img, tr.raw_place);
      if (!f.patch.empty()) tr.templ = f.patch;
    } else {
      // A doubtful fit that the detector still sees: restart the fit from the detector's box.
      FitResult f = landmarker.fit(img, Landmarker::placement_of_box(dets[size_t(best)].box));
      f = landmarker.fit(img, landmarker.placement_of(f.lm));
      const float q = quality_of(f, tr.templ);
      if (q > tr.quality) {
        tr.raw = tr.ref_raw = f.lm;
        tr.quality = q;
        tr.raw_place = tr.ref_place = landmarker.placement_of(f.lm);
        tr.has_prev = false;
        tr.low_quality_frames = 0;
        tr.motion = MotionRef{};  // the stored region was of the doubtful fit
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
    FitResult f = landmarker.fit(img, Landmarker::placement_of_box(b));
    f = landmarker.fit(img, landmarker.placement_of(f.lm));
    tr.templ = f.patch;
    tr.quality = quality_of(f, tr.templ);
    if (tr.quality < o.drop_quality) continue;
    tr.raw = tr.smooth = tr.ref_raw = f.lm;
    tr.raw_place = tr.ref_place = landmarker.placement_of(f.lm);
    if (o.smoothing) tr.filter.filter(tr.smooth[0].data(), kNumLandmarks, 1.f / o.frame_rate, b.width());
    tr.place = landmarker.placement_of(tr.smooth);
    // On a stream's first frame the face was there all along: no fade-in.
    tr.alpha = (frame == stream_start || o.fade_frames == 0) ? 1.f : 1.f / o.fade_frames;
    if (o.refit_skip_mad > 0) tr.motion.capture(img, Landmarker::box_of(tr.raw_place));
    tracks.push_back(std::move(tr));
    ++active;
  }
}

void FaceStage::Impl::output(Track& tr, const Options& o) const {
  const auto t0 = cpu_ms();
  Face& f = tr.out;
  const float par = frame_par;
  // Nothing it depends on changed (settled still face, same alpha): last frame's output holds.
  if (tr.out_alpha == tr.alpha && f.id == tr.id && f.landmarks == [&] {
        Landmarks lm = tr.smooth;
        for (auto& p : lm) p.x() /= par;
        return lm;
      }()) {
    for (int i = 0; i < kNumLandmarks; ++i) f.raw_landmarks[i] = Eigen::Vector2f(tr.raw[i].x() / par, tr.raw[i].y());
    f.quality = tr.quality;
    tr.mask_ms = ms_since(t0);
    return;
  }
  f.id = tr.id;
  f.alpha = tr.alpha;
  for (int i = 0; i < kNumLandmarks; ++i) {
    f.landmarks[i] = Eigen::Vector2f(tr.smooth[i].x() / par, tr.smooth[i].y());
    f.raw_landmarks[i] = Eigen::Vector2f(tr.raw[i].x() / par, tr.raw[i].y());
  }
  f.quality = tr.quality;
  f.roll = tr.place.angle;
  f.size = tr.place.scale;
  const SkinShape shape = skin_shape(tr.smooth, tr.place.scale);
  const RectF b = bounds(shape.outline.data(), int(shape.outline.size()));
  f.box = to_rect(RectF{b.x0 / par, b.y0, b.x1 / par, b.y1});
  const float pad = o.roi_pad * tr.place.scale + 0.5f * shape.feather;
  if (par == 1.f) {
    f.roi = align_roi(b, pad, o.roi_align, frame_w, frame_h);
  } else {
    f.roi = align_roi(RectF{(b.x0 - pad) / par, b.y0 - pad, (b.x1 + pad) / par, b.y1 + pad}, 0.f, o.roi_align, frame_w,
                      frame_h);
  }
  if (o.masks) {
    render_mask(shape, f.roi, tr.alpha, f.mask, par);
  } else {
    f.mask.clear();
  }
  tr.out_alpha = tr.alpha;
  tr.mask_ms = ms_since(t0);
}

std::vector<Face> FaceStage::process(const FrameInput& in) {
  if (!in.luma || in.width < 1 || in.height < 1 || in.stride < in.width)
    throw Error("process(): need a luma plane, size >= 1x1, stride >= width");
  if (!(in.pixel_aspect >= kMinPixelAspect && in.pixel_aspect <= kMaxPixelAspect))
    throw Error("process(): pixel_aspect must be 0.1..10 (pixel width / height; 1 for square pixels)");
  Impl& s = *impl_;
  const auto t_start = cpu_ms();
  Options o;
  {
    std::lock_guard<std::mutex> lock(s.settings_mu);
    o = s.opt;
  }
  ++s.frame;
  if (in.width != s.frame_w || in.height != s.frame_h || in.pixel_aspect != s.frame_par) {
    s.drop_all();
    s.stream_start = s.frame;
    s.frame_w = in.width, s.frame_h = in.height, s.frame_par = in.pixel_aspect;
    s.scan.clear();
    s.shot.reset();
  }
  s.t = Timings{};
  // 0. A shot cut starts the stream over on this frame: no track carries into the new picture, and the coarse job
  // runs inline (synchronous mode, or where the caller allows it), so the new shot's large faces start at full
  // alpha. Not the complete scan of a stream's first frame: files with a cut every few seconds would pay it each time
  // (~0.8 s at 1080p); smaller faces arrive with the scan's next jobs and fade in.
  if (s.shot.update(in.luma, in.width, in.height, in.stride)) {
    s.drop_all();
    s.stream_start = s.frame;
    s.t.shot_cut = true;
  }
  const bool detect_now = in.detect_now || (s.t.shot_cut && (o.synchronous_detection || in.detect_on_cut));
  const LumaView img{in.luma, in.width, in.height, in.stride, in.pixel_aspect};
  const bool searching = !s.full;

  // 1. Detections: inline (synchronous mode, detect_now) or whatever the detector thread has finished.
  std::vector<Detection> dets;
  bool have_dets = false;
  if (in.scan_now || detect_now) {
    // Inline: lost tracks' surroundings, the coarse job and (a complete scan) every small-face tile.
    std::vector<DetectJob> jobs(s.near.begin(), s.near.end());
    s.near.clear();
    const auto& plan = s.plan(o);
    const bool full = in.scan_now;
    jobs.insert(jobs.end(), plan.begin(), full ? plan.end() : plan.begin() + 1);
    for (const DetectJob& j : jobs) {
      auto d = s.run_inline(img, j);
      dets.insert(dets.end(), d.begin(), d.end());
    }
    s.job_started(true);
    if (full) s.cursor = 1;
    have_dets = true;
  } else if (o.synchronous_detection) {
    // The jobs the detector thread would get, inline: the coarse one first (stream start), then one per
    // detect_job_interval frames; when a track was lost, its surroundings and the coarse job in the same frame.
    DetectJob job;
    bool coarse = false;
    for (;;) {
      const bool from_near = !s.near.empty();
      if (!s.next_job(o, searching, job, coarse)) break;
      auto d = s.run_inline(img, job);
      dets.insert(dets.end(), d.begin(), d.end());
      have_dets = true;
      s.job_started(coarse);
      if (!from_near) break;
    }
  } else {
    int64_t det_frame = 0;
    uint64_t gen = 0;
    if (s.async->poll(dets, det_frame, gen)) {
      have_dets = gen == s.generation;
      const double total = s.async->total_ms(), job_ms = total - s.async_ms_seen;
      s.async_ms_seen = total;
      const float share = o.search_cpu_share;
      if (s.async_search_job && share > 0.f && share < 1.f)
        s.search_rest_until =
            std::chrono::steady_clock::now() + std::chrono::microseconds(int64_t(job_ms * 1e3 * (1.0 / share - 1.0)));
      s.async_search_job = false;
    }
  }
  if (have_dets)
    std::stable_sort(dets.begin(), dets.end(),
                     [](const Detection& a, const Detection& b) { return a.score > b.score; });

  // 2. Refit every live track (in parallel); fade out lost ones.
  {
    for (Track& tr : s.tracks) tr.fit_ms = tr.smooth_ms = 0, tr.refitted = false;
    s.for_each_track([&](Track& tr) {
      if (!tr.leaving) s.refit(tr, o, img);
    });
    for (Track& tr : s.tracks) {
      if (tr.leaving) {
        tr.alpha = o.fade_frames > 0 ? tr.alpha - 1.f / o.fade_frames : 0.f;
        continue;
      }
      s.t.landmarks_ms += tr.fit_ms;
      s.t.smoothing_ms += tr.smooth_ms;
      (tr.refitted ? s.t.refits : s.t.refits_skipped) += 1;
      tr.low_quality_frames = tr.quality < o.drop_quality ? tr.low_quality_frames + 1 : 0;
      if (tr.low_quality_frames >= 2 || tr.place.scale < 0.5f * o.min_face_size) {
        tr.leaving = true;
        if (o.fade_frames == 0) tr.alpha = 0.f;
        s.want_detect = true;
        if (tr.place.scale >= 0.5f * o.min_face_size)
          s.near.push_back(
              plan_near(Landmarker::box_of(tr.place), in.width * in.pixel_aspect, in.height, o.detect_face_px));
      } else {
        tr.alpha = std::min(1.f, o.fade_frames > 0 ? tr.alpha + 1.f / o.fade_frames : 1.f);
      }
    }
  }

  // 3. Reconcile detections with tracks; new faces start tracks.
  if (have_dets) {
    const auto t0 = cpu_ms();
    s.reconcile(dets, o, img);
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
  s.tracks.erase(
      std::remove_if(s.tracks.begin(), s.tracks.end(), [](const Track& t) { return t.leaving && t.alpha <= 0.f; }),
      s.tracks.end());
  s.tracking_none = active == 0;
  // With max_faces tracks a scan job could only re-anchor doubtful tracks, at the cost of a whole tile or coarse
  // pass: a doubtful track gets a detection around itself instead (about a third of a coarse job for a 250 px face
  // at 1080p), at most every detect_interval frames.
  s.full = active >= o.max_faces;
  if (s.full && s.near.empty()) {
    for (Track& tr : s.tracks) {
      if (tr.leaving || tr.quality >= kDoubtfulQuality || s.frame - tr.near_at < o.detect_interval) continue;
      tr.near_at = s.frame;
      s.near.push_back(
          plan_near(Landmarker::box_of(tr.place), in.width * in.pixel_aspect, in.height, o.detect_face_px));
      break;
    }
  }

  // 5. Asynchronous detection: the next job of the plan, when the detector thread is idle.
  if (!o.synchronous_detection && s.async) {
    DetectJob job;
    bool coarse = false;
    // Looking for more faces while some are tracked is paced by CPU share too; urgent jobs (around a lost track,
    // the coarse job after a loss or at a start) and the search for a first face are not.
    const bool urgent = !s.near.empty() || s.want_detect || s.tracking_none;
    const bool resting = !urgent && std::chrono::steady_clock::now() < s.search_rest_until;
    if (!resting && !s.async->busy() && s.next_job(o, !s.full, job, coarse)) {
      if (s.async->submit(in.luma, in.width, in.height, in.stride, in.pixel_aspect, job, s.frame, s.generation)) {
        s.job_started(coarse);
        s.async_search_job = !urgent;
      }
    }
  }

  // 6. Outputs: masks and ROIs for faces big enough to matter (in parallel).
  s.for_each_track([&](Track& tr) {
    tr.mask_ms = 0;
    if (tr.alpha > 0.f && tr.place.scale >= o.min_face_size) s.output(tr, o);
  });
  std::vector<Face> faces;
  for (const Track& tr : s.tracks) {
    s.t.masks_ms += tr.mask_ms;
    if (tr.alpha > 0.f && tr.place.scale >= o.min_face_size) faces.push_back(tr.out);
  }
  s.t.total_ms = ms_since(t_start);
  return faces;
}

}  // namespace bty::face
