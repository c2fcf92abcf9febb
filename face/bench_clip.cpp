#include "bench_clip.h"

#include "face_stage.h"
#include "refit_check.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <thread>
#include <vector>

namespace bty::face {

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p / 100.0 * double(v.size() - 1) + 0.5))];
}

std::string fmt(double v, int prec = 2) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(prec) << v;
  return o.str();
}

std::vector<std::vector<uint8_t>> read_clip(const ClipBenchArgs& a) {
  std::ifstream in(a.path, std::ios::binary);
  if (!in) throw Error("cannot read clip '" + a.path + "'");
  const size_t frame_bytes = size_t(a.width) * size_t(a.height);
  std::vector<std::vector<uint8_t>> frames;
  for (;;) {
    if (a.frames > 0 && int(frames.size()) >= a.frames) break;
    std::vector<uint8_t> f(frame_bytes);
    if (!in.read(reinterpret_cast<char*>(f.data()), std::streamsize(frame_bytes))) break;
    frames.push_back(std::move(f));
  }
  if (frames.size() < 40)
    throw Error("clip '" + a.path + "' has " + std::to_string(frames.size()) + " frames of " + std::to_string(a.width) +
                "x" + std::to_string(a.height) + " GRAY8; need >= 40 (is --clip-size right?)");
  return frames;
}

constexpr int kWarmup = 30;  // frames before timing starts: first detections and fade-in

// One pass over the clip in the element's mode (asynchronous detection, frames paced at 30 fps). Per-face costs
// are the medians over frames of each step's CPU ms divided by that frame's face count.
struct Pass {
  double faces = 0, total = 0, landmarks = 0, smoothing = 0, masks = 0, reconcile = 0, other = 0, detect = 0;
  double skipped = 0;  // fraction of refits skipped
};

Pass run_pass(const std::vector<std::vector<uint8_t>>& clip, const ClipBenchArgs& a, bool skipping) {
  Options o;
  o.threads = a.threads;
  if (!skipping) o.refit_skip_mad = 0;
  FaceStage s(o);
  std::vector<double> total, lm, sm, mk, rc, other, faces;
  double refits = 0, skipped = 0;
  const auto start = Clock::now();
  for (size_t k = 0; k < clip.size(); ++k) {
    std::this_thread::sleep_until(start + std::chrono::microseconds(33333) * int64_t(k));
    const auto out = s.process({clip[k].data(), a.width, a.height, a.width});
    if (int(k) < kWarmup || out.empty()) continue;
    const Timings t = s.timings();
    const double n = double(out.size());
    faces.push_back(n);
    total.push_back(t.total_ms / n), lm.push_back(t.landmarks_ms / n), sm.push_back(t.smoothing_ms / n);
    mk.push_back(t.masks_ms / n), rc.push_back(t.reconcile_ms / n);
    other.push_back((t.total_ms - t.landmarks_ms - t.smoothing_ms - t.masks_ms - t.reconcile_ms - t.detect_ms) / n);
    refits += t.refits, skipped += t.refits_skipped;
  }
  Pass p;
  p.faces = median(faces);
  p.total = median(total), p.landmarks = median(lm), p.smoothing = median(sm), p.masks = median(mk);
  p.other = median(other);
  double rc_mean = 0;  // reconcile runs only on frames with a detection result: mean, not median
  for (double v : rc) rc_mean += v / double(std::max<size_t>(1, rc.size()));
  p.reconcile = rc_mean;
  const Timings t = s.timings();
  p.detect = t.detect_ms_total / double(clip.size()) / std::max(1.0, p.faces);
  p.skipped = refits + skipped > 0 ? skipped / (refits + skipped) : 0;
  return p;
}

// Landmarks with refit skipping against a full refit of the same frames (refit_check.h).
struct Accuracy {
  double median = 0, p95 = 0, max = 0, skipped = 0, jitter = 0;
  int faces = 0;
};

Accuracy accuracy(const std::vector<std::vector<uint8_t>>& clip, const ClipBenchArgs& a) {
  std::vector<FrameInput> frames;
  for (const auto& f : clip) frames.push_back({f.data(), a.width, a.height, a.width});
  Options o;
  o.threads = 1;
  const RefitDeviation d = compare_to_full_refit(frames, o);
  Accuracy r;
  r.faces = int(d.deviation.size());
  r.median = median(d.deviation), r.p95 = pct(d.deviation, 95);
  r.max = d.deviation.empty() ? 0 : *std::max_element(d.deviation.begin(), d.deviation.end());
  r.skipped = d.refits + d.skipped > 0 ? double(d.skipped) / (d.refits + d.skipped) : 0;
  r.jitter = median(d.full_motion);
  return r;
}

}  // namespace

void bench_clip(const ClipBenchArgs& a, bty::cli::Json& js, std::ostream& md) {
  const auto clip = read_clip(a);
  // Alternating order: round r runs (full, skip) when r is even, (skip, full) when odd, so a load change during
  // the run affects both variants alike; ratios are per round.
  std::vector<Pass> full, skip;
  std::vector<double> ratio_total, ratio_landmarks;
  for (int r = 0; r < a.rounds; ++r) {
    Pass f, s;
    if (r % 2 == 0) {
      f = run_pass(clip, a, false);
      s = run_pass(clip, a, true);
    } else {
      s = run_pass(clip, a, true);
      f = run_pass(clip, a, false);
    }
    full.push_back(f), skip.push_back(s);
    ratio_total.push_back((s.total + s.detect) / std::max(1e-9, f.total + f.detect));
    ratio_landmarks.push_back(s.landmarks / std::max(1e-9, f.landmarks));
  }
  const Accuracy acc = accuracy(clip, a);

  auto med = [](const std::vector<Pass>& ps, double Pass::*m) {
    std::vector<double> v;
    for (const Pass& p : ps) v.push_back(p.*m);
    return median(v);
  };
  js.key("clip").begin_object().key("file").path(a.path).key("width").value(a.width).key("height").value(a.height);
  js.key("frames").value(int(clip.size())).key("rounds").value(a.rounds).key("threads").value(a.threads);
  for (const auto* variant : {&full, &skip}) {
    js.key(variant == &full ? "full_refit" : "refit_skipping").begin_object();
    js.key("faces").value(med(*variant, &Pass::faces), 2);
    js.key("per_face_total_ms").value(med(*variant, &Pass::total) + med(*variant, &Pass::detect), 3);
    js.key("process_ms").value(med(*variant, &Pass::total), 3);
    js.key("landmarks_ms").value(med(*variant, &Pass::landmarks), 3);
    js.key("smoothing_ms").value(med(*variant, &Pass::smoothing), 3);
    js.key("masks_ms").value(med(*variant, &Pass::masks), 3);
    js.key("reconcile_ms").value(med(*variant, &Pass::reconcile), 3);
    js.key("other_ms").value(med(*variant, &Pass::other), 3);
    js.key("detect_amortised_ms").value(med(*variant, &Pass::detect), 3);
    js.key("refits_skipped").value(med(*variant, &Pass::skipped), 3).end_object();
  }
  js.key("ratio_total_median").value(median(ratio_total), 3);
  js.key("ratio_landmarks_median").value(median(ratio_landmarks), 3);
  js.key("deviation_from_full_refit").begin_object().key("faces").value(acc.faces);
  js.key("median").value(acc.median, 5).key("p95").value(acc.p95, 5).key("max").value(acc.max, 5);
  js.key("full_refit_frame_to_frame_median").value(acc.jitter, 5);
  js.key("refits_skipped").value(acc.skipped, 3).end_object().end_object();

  md << "\n### Real clip: " << a.path << " (" << a.width << "x" << a.height << ", " << clip.size() << " frames, "
     << a.rounds << " rounds, face stage threads " << a.threads << ")\n\n"
     << "Per face and frame, ms of thread CPU (medians over frames after " << kWarmup
     << " warm-up frames, then the median over rounds); detection amortised = detector-thread CPU / frames / faces; "
        "other = process() minus the listed steps (frame checks, track bookkeeping, the detection job's copy).\n\n"
     << "| variant | faces | landmark refit | smoothing | masks/ROI | reconcile | other | detection amortised | "
        "total per face | refits skipped |\n|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto* variant : {&full, &skip}) {
    md << "| " << (variant == &full ? "full refit" : "refit skipping") << " | " << fmt(med(*variant, &Pass::faces), 1)
       << " | " << fmt(med(*variant, &Pass::landmarks), 3) << " | " << fmt(med(*variant, &Pass::smoothing), 3) << " | "
       << fmt(med(*variant, &Pass::masks), 3) << " | " << fmt(med(*variant, &Pass::reconcile), 3) << " | "
       << fmt(med(*variant, &Pass::other), 3) << " | " << fmt(med(*variant, &Pass::detect), 3) << " | **"
       << fmt(med(*variant, &Pass::total) + med(*variant, &Pass::detect), 3) << "** | "
       << fmt(100 * med(*variant, &Pass::skipped), 0) << " % |\n";
  }
  md << "\nRatio skipping / full, median of the rounds' ratios: total per face " << fmt(median(ratio_total), 3)
     << ", landmark refit " << fmt(median(ratio_landmarks), 3) << ".\n\n"
     << "Raw landmarks with skipping vs a full refit of the same frames (lock step, synchronous detection; mean point "
        "distance / face size over "
     << acc.faces << " face-frames, " << fmt(100 * acc.skipped, 0) << " % of refits skipped): median "
     << fmt(acc.median, 4) << ", p95 " << fmt(acc.p95, 4) << ", max " << fmt(acc.max, 4)
     << "; the full refit's own frame-to-frame motion: median " << fmt(acc.jitter, 4) << ".\n";
}

}  // namespace bty::face
