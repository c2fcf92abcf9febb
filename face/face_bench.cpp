// face-bench: cost, jitter and recall of the face stage. A program, not a test (see scripts/bench-face).
//   face-bench [--data DIR] [--testdata DIR] [--out DIR] [--frames N] [--quick] [--only cost|jitter|recall]
//   face-bench --clip FILE.y [--clip-size WxH] [--frames N] [--rounds N] [--threads N] [--out DIR]
// DIR defaults: ../shared/data/faces (real photos; optional) and tests/face/data (public-domain fallback).
// Writes OUT/face.json and OUT/face.md; with --clip (a real clip as raw GRAY8, see bench_clip.h) OUT/face-clip.json
// and OUT/face-clip.md instead.
#include "bench_clip.h"
#include "csv.h"
#include "face_stage.h"
#include "geometry.h"
#include "image_io.h"
#include "json.h"
#include "options.h"
#include "render.h"

#include <sched.h>

#include <sys/stat.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace bty::face;
using V2 = Eigen::Vector2f;
using Clock = std::chrono::steady_clock;

namespace {

bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p / 100.0 * (v.size() - 1) + 0.5))];
}

std::string fmt(double v, int prec = 2) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(prec) << v;
  return o.str();
}

// A face photo cropped square around its face, with the face's size (predictor box side) in the crop.
struct FaceCrop {
  Image luma;
  V2 center;
  float size = 0;
};

std::vector<FaceCrop> load_faces(const std::vector<std::string>& files) {
  std::vector<FaceCrop> out;
  Options o;
  o.synchronous_detection = true;
  o.fade_frames = 0;
  o.detect_max_side = 1280;
  for (const std::string& f : files) {
    if (!exists(f)) continue;
    const Image g = to_luma(load_image(f));
    FaceStage s(o);
    const auto faces = s.process({g.data.data(), g.width, g.height, g.width});
    if (faces.empty()) continue;
    V2 c(0, 0);
    for (const auto& p : faces[0].landmarks) c += p / float(kNumLandmarks);
    out.push_back({g, c, faces[0].size});
  }
  return out;
}

struct CostRow {
  std::string res;
  int faces_wanted = 0;
  double faces_seen = 0;
  double med = 0, p99 = 0, cpu_med = 0, cpu_p99 = 0, landmarks = 0, smoothing = 0, masks = 0, reconcile = 0;
  double detect_per_run = 0, detect_amortised = 0, total_amortised = 0, per_face = 0;
  double one_core_med = 0, one_core_p99 = 0;
  int detect_runs = 0;
};

// Renders frame k of a scene: n faces on a background, each drifting slowly (so every refit has work to do).
Image scene(const std::vector<FaceCrop>& crops, int w, int h, int n, float face_px, int k, const Image& bg) {
  Image frame = bg;
  const int cols = n == 1 ? 1 : 2, rows = (n + cols - 1) / cols;
  for (int i = 0; i < n; ++i) {
    const FaceCrop& c = crops[i % crops.size()];
    const V2 cell_c((i % cols + 0.5f) * w / cols, (i / cols + 0.5f) * h / rows);
    const V2 drift(25.f * std::sin(0.05f * k + i), 12.f * std::cos(0.035f * k + 2 * i));
    Similarity t;
    t.scale = face_px / c.size;
    t.angle = 0.05f * std::sin(0.02f * k + i);
    t.t = cell_c + drift - t.linear() * c.center;
    paste(c.luma, frame, t);
  }
  add_noise(frame, 2, uint32_t(k));
  return frame;
}

CostRow measure_cost(const std::vector<FaceCrop>& crops, int w, int h, int n, float face_px, int frames,
                     bool one_core_too) {
  CostRow r;
  r.res = std::to_string(h) + "p";
  r.faces_wanted = n;
  const Image bg = to_luma(background(w, h, 3, 1));
  std::vector<Image> clip;
  for (int k = 0; k < frames; ++k) clip.push_back(scene(crops, w, h, n, face_px, k, bg));

  Options o;  // the element's configuration: asynchronous detection
  std::vector<double> total, cpu, lm, sm, mk, rc;
  double seen = 0;
  int counted = 0;
  {
    FaceStage s(o);
    // Frames arrive at 30 fps, as from a camera: the detector thread gets the time between frames.
    const auto start = Clock::now();
    for (int k = 0; k < frames; ++k) {
      std::this_thread::sleep_until(start + std::chrono::microseconds(33333) * k);
      const Image& f = clip[k];
      const auto t0 = Clock::now();
      const auto faces = s.process({f.data.data(), w, h, w});
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (k < 30) continue;  // warm-up: first detections and fade-in
      const Timings t = s.timings();
      total.push_back(ms), cpu.push_back(t.total_ms), lm.push_back(t.landmarks_ms), sm.push_back(t.smoothing_ms),
          mk.push_back(t.masks_ms);
      rc.push_back(t.reconcile_ms);
      seen += double(faces.size());
      ++counted;
    }
    const Timings t = s.timings();
    r.detect_runs = t.detect_runs;
    r.detect_per_run = t.detect_runs ? t.detect_ms_total / t.detect_runs : 0;
    // Frames are paced at 30 fps, so the runs are what a live stream gets (every detect_interval frames while
    // searching, none while max_faces faces are tracked; a doubtful one gets near jobs).
    r.detect_amortised = t.detect_ms_total / frames;
  }
  r.faces_seen = counted ? seen / counted : 0;
  r.med = pct(total, 50), r.p99 = pct(total, 99);
  r.cpu_med = pct(cpu, 50), r.cpu_p99 = pct(cpu, 99);
  r.landmarks = pct(lm, 50), r.smoothing = pct(sm, 50), r.masks = pct(mk, 50);
  double rc_mean = 0;
  for (double v : rc) rc_mean += v / std::max<size_t>(1, rc.size());
  r.reconcile = rc_mean;
  r.total_amortised = r.cpu_med + r.detect_amortised;
  r.per_face = r.total_amortised / std::max(1.0, r.faces_seen);

  if (one_core_too) {
    // Everything (frame thread and detector thread) on one core: the detector can only preempt, never block.
    cpu_set_t old_set, one;
    sched_getaffinity(0, sizeof old_set, &old_set);
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &old_set)) {
        CPU_SET(c, &one);
        break;
      }
    sched_setaffinity(0, sizeof one, &one);
    std::vector<double> t1;
    {
      FaceStage s(o);  // created after pinning: its detector thread inherits the single core
      const auto start = Clock::now();
      for (int k = 0; k < frames; ++k) {
        std::this_thread::sleep_until(start + std::chrono::microseconds(33333) * k);
        const auto t0 = Clock::now();
        s.process({clip[k].data.data(), w, h, w});
        if (k >= 30) t1.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    }
    sched_setaffinity(0, sizeof old_set, &old_set);
    r.one_core_med = pct(t1, 50), r.one_core_p99 = pct(t1, 99);
  }
  return r;
}

struct JitterRow {
  std::string clip;
  double raw_px = 0, smooth_px = 0, raw_rel = 0, smooth_rel = 0, lag_px = 0;
};

// Frame-to-frame landmark motion (RMS over points and frames) minus the true motion, raw vs smoothed; lag is the
// mean distance between smoothed and raw landmark centroids.
JitterRow measure_jitter(const FaceCrop& c, const std::string& name, float speed_px, int frames) {
  const int w = 1920, h = 1080;
  const Image bg = to_luma(background(w, h, 3, 2));
  Options o;
  o.synchronous_detection = true;
  FaceStage s(o);
  JitterRow r;
  r.clip = name;
  double raw = 0, smooth = 0, lag = 0, io = 0;
  int n = 0, nl = 0;
  Landmarks prev_raw{}, prev_s{};
  for (int k = 0; k < frames; ++k) {
    Image frame = bg;
    Similarity t;
    t.scale = 400.f / c.size;
    t.t = V2(700.f + speed_px * k, 540.f) - t.scale * c.center;
    paste(c.luma, frame, t);
    add_noise(frame, 6, uint32_t(1000 + k));  // sensor noise: the only thing that changes on a still face
    const auto faces = s.process({frame.data.data(), w, h, w});
    if (faces.size() != 1) continue;
    const Face& f = faces[0];
    if (k >= 20) {
      for (int i = 0; i < kNumLandmarks; ++i) {
        raw += (f.raw_landmarks[i] - prev_raw[i] - V2(speed_px, 0)).squaredNorm();
        smooth += (f.landmarks[i] - prev_s[i] - V2(speed_px, 0)).squaredNorm();
      }
      V2 cr(0, 0), cs(0, 0);
      for (int i = 0; i < kNumLandmarks; ++i) cr += f.raw_landmarks[i] / 68.f, cs += f.landmarks[i] / 68.f;
      lag += (cr - cs).norm();
      io += face_axes(f.landmarks).interocular;
      n += kNumLandmarks;
      ++nl;
    }
    prev_raw = f.raw_landmarks, prev_s = f.landmarks;
  }
  if (n) {
    r.raw_px = std::sqrt(raw / n), r.smooth_px = std::sqrt(smooth / n);
    io /= nl;
    r.raw_rel = r.raw_px / io, r.smooth_rel = r.smooth_px / io;
    r.lag_px = lag / nl;
  }
  return r;
}

struct RecallBucket {
  int present = 0, found = 0, images = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string data = "../shared/data/faces", testdata = "tests/face/data", out = "out/bench";
  int frames = 300;
  bool quick = false;
  std::string only = "all";
  bty::cli::Options opts("face-bench", "",
                         "Cost, jitter and recall of the face stage; writes OUT/face.json and OUT/face.md.");
  opts.text("data", 0, &data, "DIR", "the shared face photos (optional)");
  opts.text("testdata", 0, &testdata, "DIR", "the public-domain fallback photos");
  opts.text("out", 'o', &out, "DIR", "output folder");
  opts.integer("frames", 0, &frames, 60, 1000000, "N", "frames per cost measurement");
  opts.flag("quick", 0, &quick, "fewer frames (90 unless --frames) and photos");
  opts.choice("only", 0, &only, {"all", "cost", "jitter", "recall"}, "which measurement");
  ClipBenchArgs clip;
  std::string clip_size = "1920x1080";
  opts.text("clip", 0, &clip.path, "FILE", "a real clip as raw GRAY8 frames: per-face cost, refit skipping on/off");
  opts.text("clip-size", 0, &clip_size, "WxH", "the clip's frame size");
  opts.integer("rounds", 0, &clip.rounds, 1, 100, "N", "--clip: rounds of both variants (alternating)");
  opts.integer("threads", 0, &clip.threads, 0, 64, "N", "--clip: face stage threads (0: min(4, cores))");
  if (!opts.parse(argc, argv)) return bty::cli::kUsageError;
  if (!clip.path.empty()) {
    char x = 0;
    std::istringstream ss(clip_size);
    if (!(ss >> clip.width >> x >> clip.height) || x != 'x' || clip.width < 1 || clip.height < 1 || !ss.eof())
      return opts.usage_error("--clip-size must be WxH (e.g. 1920x1080), not '" + clip_size + "'");
    if (opts.given("--frames")) clip.frames = frames;
    std::string load;
    std::ifstream la("/proc/loadavg");
    std::getline(la, load);
    bty::cli::Json js;
    std::ostringstream md;
    md << "Load average at start: " << load << "\n";
    js.begin_object().key("machine_load").value(load);
    try {
      bench_clip(clip, js, md);
      js.end_object();
      js.write_file(out + "/face-clip.json");
    } catch (const std::exception& e) {
      std::cerr << "face-bench: " << e.what() << "\n";
      return 1;
    }
    std::ofstream(out + "/face-clip.md") << md.str();
    std::cout << md.str();
    return 0;
  }
  if (quick && !opts.given("--frames")) frames = 90;
  const bool all = only == "all";
  // Keeps the landmark model loaded for the whole run (stages share it while one lives).
  Options pin_opt;
  pin_opt.synchronous_detection = true;
  FaceStage pin(pin_opt);
  const bool have_shared = exists(data + "/manifest.csv");
  const std::string fr = data + "/images/github-ageitgey-face_recognition/";
  std::vector<std::string> photos = {fr + "examples_obama-1080p.jpg",
                                     fr + "examples_knn_examples_train_biden_biden2.jpg",
                                     data + "/images/debian-opencv-doc/230501201_1.jpg",
                                     data + "/images/github-google-mediapipe/mediapipe_objc_testdata_sergey.png"};
  std::vector<FaceCrop> crops = have_shared ? load_faces(photos) : std::vector<FaceCrop>{};
  if (crops.size() < 4) {
    const auto pd = load_faces({testdata + "/obama.jpg", testdata + "/biden.jpg", testdata + "/astronaut-grey.png"});
    crops.insert(crops.end(), pd.begin(), pd.end());
  }
  if (crops.empty()) {
    std::cerr << "face-bench: no face photos found (" << data << ", " << testdata << ")\n";
    return 1;
  }
  std::string load;
  {
    std::ifstream la("/proc/loadavg");
    std::getline(la, load);
  }
  std::cerr << "face-bench: " << crops.size() << " face photos; load " << load << "\n";

  // 1. Per-frame cost.
  std::vector<CostRow> cost;
  struct Cfg {
    int w, h, n;
    float px;
  };
  for (const Cfg& c :
       {Cfg{1280, 720, 1, 260}, Cfg{1280, 720, 4, 180}, Cfg{1920, 1080, 1, 400}, Cfg{1920, 1080, 4, 260}}) {
    if (!all && only != "cost") break;
    std::cerr << "cost " << c.h << "p x" << c.n << "\n";
    cost.push_back(measure_cost(crops, c.w, c.h, c.n, c.px, frames, c.h == 1080));
  }
  // 2. Jitter and lag.
  std::vector<JitterRow> jitter;
  if (all || only == "jitter") {
    std::cerr << "jitter\n";
    jitter.push_back(measure_jitter(crops[0], "still", 0.f, quick ? 60 : 150));
    jitter.push_back(measure_jitter(crops[0], "pan 4 px/frame", 4.f, quick ? 60 : 120));
    jitter.push_back(measure_jitter(crops[0], "pan 15 px/frame", 15.f, 60));
  }

  // 3. Detection recall on the shared photos, by face size (Haar's largest box from manifest.csv).
  std::map<std::string, std::map<int, RecallBucket>> recall;  // policy -> bucket lower bound -> counts
  const int edges[] = {0, 100, 200, 400, 800};
  if (have_shared && (all || only == "recall")) {
    std::cerr << "recall\n";
    std::ifstream man(data + "/manifest.csv");
    int done = 0;
    try {
      bty::cli::CsvTable rows(man);
      while (rows.next()) {
        if (rows["kind"] != "images") continue;
        const int haar = std::atoi(rows["haar_faces"].c_str()), max_px = std::atoi(rows["max_face_px"].c_str());
        if (haar <= 0) continue;
        if (quick && ++done > 40) break;
        Image g;
        try {
          g = to_luma(load_image(data + "/" + rows["file"]));
        } catch (const std::exception& e) {
          std::cerr << e.what() << "\n";
          continue;
        }
        int bucket = 0;
        for (int e : edges)
          if (max_px >= e) bucket = e;
        for (int side : {640, 1280}) {
          Options o;
          o.synchronous_detection = true;
          o.fade_frames = 0;
          o.max_faces = 50;
          o.detect_max_side = side;
          FaceStage s(o);
          const auto faces = s.process({g.data.data(), g.width, g.height, g.width, 1.f, false, true});
          RecallBucket& b = recall["detect_max_side " + std::to_string(side)][bucket];
          b.present += haar;
          b.found += std::min<int>(haar, int(faces.size()));
          b.images += 1;
        }
      }
    } catch (const std::exception& e) {  // a manifest that is not the CSV described in the shared data's README
      std::cerr << "face-bench: " << data << "/manifest.csv: " << e.what() << "\n";
      return 1;
    }
  }

  // Reports.
  bty::cli::Json js;
  js.begin_object().key("machine_load").value(load).key("frames").value(frames).key("cost").begin_array();
  for (const CostRow& c : cost) {
    js.begin_object().key("resolution").value(c.res).key("faces").value(c.faces_wanted);
    js.key("faces_tracked_mean").value(c.faces_seen, 2);
    js.key("process_wall_median_ms").value(c.med, 3).key("process_wall_p99_ms").value(c.p99, 3);
    js.key("process_cpu_median_ms").value(c.cpu_med, 3).key("process_cpu_p99_ms").value(c.cpu_p99, 3);
    js.key("landmarks_median_ms").value(c.landmarks, 3).key("smoothing_median_ms").value(c.smoothing, 3);
    js.key("masks_median_ms").value(c.masks, 3).key("reconcile_mean_ms").value(c.reconcile, 3);
    js.key("detect_ms_per_run").value(c.detect_per_run, 2).key("detect_runs").value(c.detect_runs);
    js.key("detect_amortised_ms").value(c.detect_amortised, 3).key("total_amortised_ms").value(c.total_amortised, 3);
    js.key("per_face_amortised_ms").value(c.per_face, 3);
    if (c.one_core_med > 0) {
      js.key("one_core_process_median_ms").value(c.one_core_med, 3);
      js.key("one_core_process_p99_ms").value(c.one_core_p99, 3);
    }
    js.end_object();
  }
  js.end_array().key("jitter").begin_array();
  for (const JitterRow& j : jitter) {
    js.begin_object().key("clip").value(j.clip).key("raw_rms_px").value(j.raw_px, 3);
    js.key("smoothed_rms_px").value(j.smooth_px, 3).key("raw_rms_interocular").value(j.raw_rel, 4);
    js.key("smoothed_rms_interocular").value(j.smooth_rel, 4).key("lag_px").value(j.lag_px, 2).end_object();
  }
  js.end_array().key("recall").begin_object();
  for (const auto& [policy, buckets] : recall) {
    js.key(policy.c_str()).begin_array();
    for (const auto& [lo, b] : buckets) {
      js.begin_object().key("max_face_px_from").value(lo).key("images").value(b.images);
      js.key("faces_present").value(b.present).key("faces_found").value(b.found).end_object();
    }
    js.end_array();
  }
  js.end_object().end_object();
  try {
    js.write_file(out + "/face.json");
  } catch (const std::exception& e) {
    std::cerr << "face-bench: " << e.what() << "\n";
    return 1;
  }

  std::ofstream md(out + "/face.md");
  md << "### Face stage (`scripts/bench face`)\n\n"
     << "Per frame, asynchronous detection (the element's mode), " << frames
     << " frames at 30 fps of slowly drifting faces "
     << "pasted from real photos; medians unless noted; load average at start: " << load
     << " (2 cores shared with other work: "
     << "wall times include waiting for the CPU, CPU times do not).\n"
     << "Costs are thread CPU time. Detection amortised = detection CPU ms over the run / frames (every 10th frame "
        "while "
     << "searching; none while max_faces (4) faces are tracked, beyond near jobs for doubtful ones); total = "
     << "process() CPU + detection amortised; one core = wall time of process() with the frame and detector threads "
     << "pinned to one core (the detector can only preempt, never block).\n\n"
     << "| frame | faces | process() wall median / p99 | CPU median / p99 | landmarks | smoothing | masks | detection "
        "/ run (runs) | detection amortised | total amortised | per face | one core: wall median / p99 |\n"
     << "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const CostRow& c : cost) {
    md << "| " << c.res << " | " << c.faces_wanted << " (" << fmt(c.faces_seen, 1) << ") | " << fmt(c.med) << " / "
       << fmt(c.p99) << " ms | " << fmt(c.cpu_med) << " / " << fmt(c.cpu_p99) << " ms | " << fmt(c.landmarks) << " | "
       << fmt(c.smoothing, 3) << " | " << fmt(c.masks) << " | " << fmt(c.detect_per_run, 1) << " ms (" << c.detect_runs
       << ") | " << fmt(c.detect_amortised) << " | " << fmt(c.total_amortised) << " ms | **" << fmt(c.per_face)
       << " ms** | "
       << (c.one_core_med > 0 ? fmt(c.one_core_med) + " / " + fmt(c.one_core_p99) + " ms" : std::string("-")) << " |\n";
  }
  md << "\nLandmark jitter, 1080p, face 400 px, sensor noise +-6 grey levels (RMS frame-to-frame landmark motion minus "
        "the true motion):\n\n| clip | raw | smoothed | raw / interocular | smoothed / interocular | smoothing lag "
        "|\n|---|---|---|---|---|---|\n";
  for (const JitterRow& j : jitter)
    md << "| " << j.clip << " | " << fmt(j.raw_px, 3) << " px | " << fmt(j.smooth_px, 3) << " px | "
       << fmt(j.raw_rel, 4) << " | " << fmt(j.smooth_rel, 4) << " | " << fmt(j.lag_px, 2) << " px |\n";
  if (!recall.empty()) {
    md << "\nDetection recall on ../shared/data/faces/images (faces found by the stage / faces OpenCV's Haar cascade "
          "found, "
          "bucketed by Haar's largest face; Haar's count is not ground truth):\n\n| largest face (px) |";
    for (const auto& [policy, b] : recall) md << " " << policy << " |";
    md << "\n|---|";
    for (size_t i = 0; i < recall.size(); ++i) md << "---|";
    md << "\n";
    for (int e : edges) {
      md << "| " << e << (e == 800 ? "+" : "-" + std::to_string(e == 0 ? 100 : e * 2)) << " |";
      for (const auto& [policy, buckets] : recall) {
        const auto it = buckets.find(e);
        if (it == buckets.end())
          md << " - |";
        else
          md << " " << it->second.found << "/" << it->second.present << " ("
             << fmt(100.0 * it->second.found / std::max(1, it->second.present), 0) << "%) |";
      }
      md << "\n";
    }
  }
  md.close();
  std::cout << std::ifstream(out + "/face.md").rdbuf();
  return 0;
}
