// Element benchmark driver (a program, not a test; scripts/bench-element runs it): pushes preloaded frames through
// beautify in a GstHarness and prints one JSON object: fps (median over rounds), CPU ms per frame (all threads of the
// process: streaming, net workers, detector), per-frame processing time, frames of added latency, faces tracked, and
// the start: ms from setting the element up (state change, caps) to its first frame out, for this process's first
// start and for a second element started after the first stopped (warm pools; with device=opencl a warm binary
// cache: the element's first frames never wait for OpenCL, docs/element.md "Start-up").
//
//   bench-element --picture P.png --width 1920 --height 1080 [--format I420] [--tier m | --model F] [--frames 300]
//                 [--rounds 5] [--threads 0] [--faces-expected 1] [--detection auto|always|never]
//                 [--precision auto|fp32|bf16] [--device auto|cpu|opencl]
// (--detection always: every detection job inside the frame, so a run is deterministic: for callgrind profiles.)
#include "element_test_util.h"
#include "json.h"
#include "options.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

using namespace test;

namespace {

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Shifted copies of the picture (a slow pan), so consecutive frames differ as in video.
std::vector<GstBuffer*> make_frames(const std::string& pic, const char* fmt, int w, int h, int n) {
  std::vector<GstBuffer*> out;
  GstBuffer* base = load_frame(pic, fmt, w + 2 * n, h);
  if (!base) return out;
  GstVideoInfo big, small;
  gst_video_info_set_format(&big, gst_video_format_from_string(fmt), w + 2 * n, h);
  gst_video_info_set_format(&small, gst_video_format_from_string(fmt), w, h);
  GstVideoFrame src, dst;
  for (int i = 0; i < n; ++i) {
    GstBuffer* b = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&small), NULL);
    gst_video_frame_map(&src, &big, base, GST_MAP_READ);
    gst_video_frame_map(&dst, &small, b, GST_MAP_WRITE);
    for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&dst); ++c) {
      const int ps = GST_VIDEO_FRAME_COMP_PSTRIDE(&dst, c);
      const int dx = (2 * i) >> GST_VIDEO_FORMAT_INFO_W_SUB(dst.info.finfo, c);
      for (int y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT(&dst, c); ++y)
        for (int x = 0; x < GST_VIDEO_FRAME_COMP_WIDTH(&dst, c); ++x)
          static_cast<uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(&dst, c))[y * GST_VIDEO_FRAME_COMP_STRIDE(&dst, c) + x * ps] =
              static_cast<const uint8_t*>(
                  GST_VIDEO_FRAME_COMP_DATA(&src, c))[y * GST_VIDEO_FRAME_COMP_STRIDE(&src, c) + (x + dx) * ps];
    }
    gst_video_frame_unmap(&dst);
    gst_video_frame_unmap(&src);
    out.push_back(b);
  }
  gst_buffer_unref(base);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string pic, tier = "auto", model, fmt = "I420", detection = "auto", precision = "auto", device;
  int w = 1920, h = 1080, frames = 300, rounds = 5, threads = 0, warmup = 60, faces_expected = 1;
  bty::cli::Options opts("bench-element", "", "Pushes preloaded frames through beautify; prints one JSON object.");
  opts.text("picture", 0, &pic, "P.png", "the picture the frames are cut from");
  opts.integer("width", 0, &w, 16, 16384, "W", "frame width");
  opts.integer("height", 0, &h, 16, 16384, "H", "frame height");
  opts.text("format", 0, &fmt, "FMT", "GStreamer video format");
  opts.text("tier", 0, &tier, "TIER", "the element's tier property");
  opts.text("model", 0, &model, "F.bmodel", "the element's model property (instead of the tier)");
  opts.integer("frames", 0, &frames, 1, 10000000, "N", "frames per round");
  opts.integer("rounds", 0, &rounds, 1, 1000, "N", "timed rounds");
  opts.integer("threads", 0, &threads, 0, 64, "N", "the element's threads property");
  opts.integer("warmup", 0, &warmup, 0, 10000000, "N", "untimed frames first (at least)");
  opts.integer("faces-expected", 0, &faces_expected, 0, 64, "N", "faces the warm-up waits for");
  opts.choice("detection", 0, &detection, {"auto", "always", "never"}, "the element's synchronous-detection");
  opts.choice("precision", 0, &precision, {"auto", "fp32", "bf16"}, "the element's precision");
  opts.choice("device", 0, &device, {"", "auto", "cpu", "opencl"}, "the element's device (default: its own)");
  opts.require({"--picture"});
  opts.add_group(gst_init_get_option_group());
  if (!opts.parse(argc, argv)) return bty::cli::kUsageError;
  if (gst_video_format_from_string(fmt.c_str()) == GST_VIDEO_FORMAT_UNKNOWN)
    return opts.usage_error("--format: '" + fmt + "' is not a GStreamer video format");
  std::vector<GstBuffer*> input = make_frames(pic, fmt.c_str(), w, h, 16);
  if (input.empty()) {
    std::cerr << "bench-element: cannot make " << fmt << " frames from '" << pic << "'\n";
    return 1;
  }

  auto make = [&]() -> GstElement* {
    GstElement* e = gst_element_factory_make("beautify", NULL);
    if (!e) return nullptr;
    gst_object_ref_sink(e);
    g_object_set(e, "post-messages", TRUE, "threads", threads, NULL);
    gst_util_set_object_arg(G_OBJECT(e), "tier", tier.c_str());
    gst_util_set_object_arg(G_OBJECT(e), "synchronous-detection", detection.c_str());
    gst_util_set_object_arg(G_OBJECT(e), "precision", precision.c_str());
    if (!device.empty()) gst_util_set_object_arg(G_OBJECT(e), "device", device.c_str());
    if (!model.empty()) g_object_set(e, "model", model.c_str(), NULL);
    return e;
  };
  GstElement* e = make();
  if (!e) {
    std::cerr << "bench-element: the beautify element is not found (GST_PLUGIN_PATH?)\n";
    return 1;
  }
  // A start: the harness (state change to PLAYING), the caps, one frame pushed and pulled; returns its ms.
  // (-1 when no frame came out.)
  auto first_frame = [&](Harnessed& t, std::chrono::steady_clock::time_point t0) {
    gst_harness_set_src_caps_str(t.h, caps_string(fmt.c_str(), w, h).c_str());
    GstBuffer* b = gst_buffer_copy_deep(input[0]);
    GST_BUFFER_PTS(b) = 0;
    if (gst_harness_push(t.h, b) != GST_FLOW_OK) return -1.0;
    GstBuffer* out = gst_harness_pull(t.h);
    if (!out) return -1.0;
    gst_buffer_unref(out);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  double first_ms = 0, restart_ms = 0;
  std::vector<double> fps, cpu_ms, frame_ms;
  int late = 0, faces_min = 1 << 30, faces_max = 0;
  {
    const auto t_start = std::chrono::steady_clock::now();
    Harnessed t(e);
    e = nullptr;
    first_ms = first_frame(t, t_start);
    if (first_ms < 0) {
      std::cerr << "bench-element: the first frame did not come out (see the bus messages above)\n";
      return 1;
    }
    // The element works in place: each frame is a fresh deep copy made before the clock starts; its CPU time is
    // measured and subtracted from the CPU figure.
    auto push = [&](int i, bool& immediate, double& copy_s) -> double {
      auto c0 = std::chrono::steady_clock::now();
      const int period = 2 * int(input.size()) - 2, k = i % period;  // pan back and forth
      GstBuffer* b = gst_buffer_copy_deep(input[k < int(input.size()) ? k : period - k]);
      GST_BUFFER_PTS(b) = GstClockTime(i) * GST_SECOND / 30;
      auto t0 = std::chrono::steady_clock::now();
      copy_s += std::chrono::duration<double>(t0 - c0).count();
      gst_harness_push(t.h, b);
      immediate = gst_harness_buffers_in_queue(t.h) == 1;  // this frame is out before push() returned
      GstBuffer* out = gst_harness_pull(t.h);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      gst_buffer_unref(out);
      return ms;
    };
    bool immediate = true;
    double copy_s = 0;
    // Warm-up: at least `warmup` frames, and until the expected faces have been tracked for 10 frames in a row
    // (detection runs in the background; at most 20 s).
    int n = 1, streak = 0;  // frame 0 was the first frame above
    const auto w0 = std::chrono::steady_clock::now();
    while (n < warmup || (streak < 10 && std::chrono::steady_clock::now() - w0 < std::chrono::seconds(20))) {
      push(n++, immediate, copy_s);
      FrameFaces ff = pop_faces(t.bus);
      streak = int(ff.rois.size()) >= faces_expected ? streak + 1 : 0;
      if (streak < 10) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // let the detector thread run
    }
    for (int r = 0; r < rounds; ++r) {
      const double c0 = cpu_seconds();
      double busy_ms = 0;
      copy_s = 0;
      for (int i = 0; i < frames; ++i, ++n) {
        const double ms = push(n, immediate, copy_s);
        busy_ms += ms;
        frame_ms.push_back(ms);
        if (!immediate) ++late;
        FrameFaces ff = pop_faces(t.bus);
        faces_min = std::min<int>(faces_min, int(ff.rois.size()));
        faces_max = std::max<int>(faces_max, int(ff.rois.size()));
      }
      fps.push_back(frames / (busy_ms / 1e3));
      cpu_ms.push_back((cpu_seconds() - c0 - copy_s) * 1e3 / frames);
    }
  }
  {  // a second start: the first element has stopped (its face stage back in the pool, the binary cache written)
    GstElement* again = make();
    if (!again) return 1;
    const auto t_start = std::chrono::steady_clock::now();
    Harnessed t(again);
    restart_ms = first_frame(t, t_start);
  }
  std::sort(frame_ms.begin(), frame_ms.end());
  bty::cli::Json j;
  j.begin_object().key("width").value(w).key("height").value(h).key("format").value(fmt).key("tier").value(tier);
  j.key("frames").value(frames).key("rounds").value(rounds).key("fps_median").value(median(fps), 1);
  j.key("fps_rounds").begin_array();
  for (double f : fps) j.value(f, 1);
  j.end_array().key("cpu_ms_per_frame").value(median(cpu_ms), 2);
  j.key("frame_ms_median").value(frame_ms[frame_ms.size() / 2], 2);
  j.key("frame_ms_p95").value(frame_ms[frame_ms.size() * 95 / 100], 2);
  j.key("added_latency_frames").value(late ? 1 : 0).key("faces_min").value(faces_min).key("faces_max").value(faces_max);
  j.key("faces_expected").value(faces_expected);
  j.key("first_frame_ms").value(first_ms, 1).key("restart_first_frame_ms").value(restart_ms, 1).end_object();
  std::cout << j.str() << "\n";
  for (GstBuffer* b : input) gst_buffer_unref(b);
  return 0;
}
