/* The Beautify OBS filter in real libobs: starts libobs (OpenGL on the X display the wrapper gives, e.g. Xvfb with
 * llvmpipe), loads OBS's own media-source module and our module from the build tree, plays the project's face clip
 * (render_face_clip.py) in three media sources on one scene — A with Beautify at strength 1, B with Beautify at
 * strength 0.4, C without — and captures each source's frames after its filters with a capture filter of this test.
 * Frames are paired by the index code in the clip. Asserts, per pair: the frame format (the clip's: I420 from
 * YUV4MPEG2, or packed YUY2 from raw AVI, as most webcams send) and size are the source's own;
 * A and B differ from C inside the face and nowhere else (bit-exact outside the face stage's ROI plus a margin);
 * A changed more than B (each filter has its own settings); the filter kept the frame timestamps.
 *
 * usage: obs_filter_test CLIP I420|YUY2 OBS_PLUGIN_DIR OBS_DATA_DIR OUR_MODULE.so OUR_DATA_DIR
 * exit: 0 pass, 1 fail, 77 skip (no display / no OpenGL / no media-source module). */
#include "face_stage.h"

#include <X11/Xlib.h>
#include <obs-nix-platform.h>
#include <obs.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kCodeBits = 16, kCodeBlock = 16, kCodeY = 8;  // as render_face_clip.py draws it
constexpr int kPairsNeeded = 20;                            // retouched frames compared per source
constexpr int kClipFrames = 60;                             // render_face_clip.py's default length

struct Captured {
  int width = 0, height = 0;
  int chroma_width = 0, chroma_height = 0;  // I420: half and half; YUY2: half width, full height
  video_format format = VIDEO_FORMAT_NONE;
  uint64_t timestamp = 0;
  std::vector<uint8_t> y, u, v;  // tightly packed planes (YUY2: unpacked)
};

struct Capture {
  std::mutex mu;
  std::map<int, Captured> frames;               // by clip index; the latest loop wins
  std::vector<std::pair<int, uint64_t>> order;  // (index, timestamp) as seen
};

int read_code(const uint8_t* y, int stride) {
  int v = 0;
  for (int b = 0; b < kCodeBits; ++b)
    if (y[(kCodeY + kCodeBlock / 2) * stride + 8 + b * kCodeBlock + kCodeBlock / 2] > 128) v |= 1 << b;
  return v;
}

void copy_plane(std::vector<uint8_t>& out, const uint8_t* p, int stride, int w, int h) {
  out.resize(size_t(w) * h);
  for (int r = 0; r < h; ++r) std::copy(p + size_t(r) * stride, p + size_t(r) * stride + w, out.data() + size_t(r) * w);
}

// Packed Y0 U Y1 V rows as separate planes.
void unpack_yuy2(Captured& k, const uint8_t* p, int stride) {
  k.y.resize(size_t(k.width) * k.height), k.u.resize(size_t(k.chroma_width) * k.height), k.v.resize(k.u.size());
  for (int r = 0; r < k.height; ++r)
    for (int c = 0; c < k.chroma_width; ++c) {
      const uint8_t* q = p + size_t(r) * stride + 4 * c;
      const size_t i = size_t(r) * k.chroma_width + c;
      k.y[2 * i] = q[0], k.u[i] = q[1], k.y[2 * i + 1] = q[2], k.v[i] = q[3];
    }
}

// The test's own async filter: records every frame it is given (after the filters before it) and passes it on.
obs_source_frame* capture_frame(void* data, obs_source_frame* f) {
  auto* c = static_cast<Capture*>(data);
  Captured k;
  k.width = int(f->width), k.height = int(f->height), k.format = f->format, k.timestamp = f->timestamp;
  k.chroma_width = k.width / 2;
  if (f->format == VIDEO_FORMAT_I420) {
    k.chroma_height = k.height / 2;
    copy_plane(k.y, f->data[0], int(f->linesize[0]), k.width, k.height);
    copy_plane(k.u, f->data[1], int(f->linesize[1]), k.chroma_width, k.chroma_height);
    copy_plane(k.v, f->data[2], int(f->linesize[2]), k.chroma_width, k.chroma_height);
  } else if (f->format == VIDEO_FORMAT_YUY2) {
    k.chroma_height = k.height;
    unpack_yuy2(k, f->data[0], int(f->linesize[0]));
  } else {
    std::lock_guard<std::mutex> lock(c->mu);
    c->frames[-1].format = f->format;  // reported below: the clips are I420 or YUY2
    return f;
  }
  const int idx = read_code(k.y.data(), k.width);
  std::lock_guard<std::mutex> lock(c->mu);
  c->order.emplace_back(idx, k.timestamp);
  c->frames[idx] = std::move(k);
  return f;
}

void register_capture_filter() {
  static obs_source_info info = {};
  info.id = "bty_test_capture";
  info.type = OBS_SOURCE_TYPE_FILTER;
  info.output_flags = OBS_SOURCE_VIDEO | OBS_SOURCE_ASYNC;
  info.get_name = [](void*) { return "capture (test)"; };
  info.create = [](obs_data_t*, obs_source_t*) -> void* { return new Capture; };
  info.destroy = [](void* d) { delete static_cast<Capture*>(d); };
  info.filter_video = capture_frame;
  obs_register_source(&info);
}

#define FAIL(...)                               \
  do {                                          \
    std::fprintf(stderr, "FAIL: " __VA_ARGS__); \
    std::fprintf(stderr, "\n");                 \
    return 1;                                   \
  } while (0)

struct Source {
  obs_source_t* media = nullptr;
  obs_source_t* beautify = nullptr;
  obs_source_t* capture = nullptr;
  Capture* cap = nullptr;
};

Source add_source(obs_scene_t* scene, const char* name, const char* clip, double strength) {
  Source s;
  obs_data_t* ms = obs_data_create();
  obs_data_set_bool(ms, "is_local_file", true);
  obs_data_set_string(ms, "local_file", clip);
  obs_data_set_bool(ms, "looping", true);
  obs_data_set_bool(ms, "hw_decode", false);
  obs_data_set_bool(ms, "close_when_inactive", false);
  s.media = obs_source_create("ffmpeg_source", name, ms, nullptr);
  obs_data_release(ms);
  if (strength >= 0) {
    obs_data_t* fs = obs_data_create();
    obs_data_set_double(fs, "strength", strength);
    obs_data_set_string(fs, "tier", "s");
    obs_data_set_int(fs, "threads", 1);
    obs_data_set_bool(fs, "synchronous-detection", true);
    s.beautify = obs_source_create("beautify_filter", (std::string(name) + " beautify").c_str(), fs, nullptr);
    obs_data_release(fs);
    obs_source_filter_add(s.media, s.beautify);
  }
  s.capture = obs_source_create("bty_test_capture", (std::string(name) + " capture").c_str(), nullptr, nullptr);
  obs_source_filter_add(s.media, s.capture);
  s.cap = static_cast<Capture*>(obs_obj_get_data(s.capture));
  obs_scene_add(scene, s.media);
  return s;
}

struct Diff {
  long changed = 0, outside = 0;
  double sum_abs_inside = 0;                         // summed |change| of the samples inside the face
  int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;  // bounding box of the changes, frame px
};

// Differences of `a` against reference `c`, inside and outside `face` (frame px; a chroma sample at the position of
// its first pixel).
Diff diff(const Captured& a, const Captured& c, const bty::face::Rect& face) {
  Diff d;
  auto plane = [&](const std::vector<uint8_t>& pa, const std::vector<uint8_t>& pc, int w, int h) {
    const int sx = a.width / w, sy = a.height / h;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int e = std::abs(int(pa[size_t(y) * w + x]) - int(pc[size_t(y) * w + x]));
        if (!e) continue;
        ++d.changed;
        d.x0 = std::min(d.x0, x * sx), d.y0 = std::min(d.y0, y * sy);
        d.x1 = std::max(d.x1, x * sx + sx - 1), d.y1 = std::max(d.y1, y * sy + sy - 1);
        const bool in = x * sx >= face.x && x * sx < face.right() && y * sy >= face.y && y * sy < face.bottom();
        if (in)
          d.sum_abs_inside += e;
        else
          ++d.outside;
      }
  };
  plane(a.y, c.y, a.width, a.height);
  plane(a.u, c.u, a.chroma_width, a.chroma_height);
  plane(a.v, c.v, a.chroma_width, a.chroma_height);
  return d;
}

// Pairs the three sources' frames by clip index and checks them (the header says what). 0: pass.
int check_frames(const Source& a, const Source& b, const Source& c, video_format clip_format) {
  // The face region on the unfiltered frames: the face stage's ROI (no tracking), grown by a fifth each side for
  // the filter's landmark smoothing, which trails a moving face by a few pixels.
  bty::face::Options fo;
  fo.synchronous_detection = true;
  bty::face::FaceStage stage(fo);

  int pairs_a = 0, pairs_b = 0;
  double mean_a = 0, mean_b = 0;  // summed |change| inside the face, mean over the frames
  long changed_a = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  while (pairs_a < kPairsNeeded || pairs_b < kPairsNeeded) {
    if (std::chrono::steady_clock::now() > deadline)
      FAIL("only %d / %d retouched frame pairs (A / B) in 240 s", pairs_a, pairs_b);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::map<int, Captured> fa, fb, fc;
    for (auto [cap, out] : {std::pair{a.cap, &fa}, std::pair{b.cap, &fb}, std::pair{c.cap, &fc}}) {
      std::lock_guard<std::mutex> lock(cap->mu);
      if (cap->frames.count(-1))
        FAIL("a frame was %s, not the clip's %s", get_video_format_name(cap->frames[-1].format),
             get_video_format_name(clip_format));
      out->swap(cap->frames);
    }
    for (auto& [idx, ref] : fc) {
      stage.reset();  // frames come in batches, not in order: each one measured on its own
      std::vector<bty::face::Face> faces = stage.process({ref.y.data(), ref.width, ref.height, ref.width});
      if (faces.empty()) continue;
      bty::face::Rect box = faces[0].roi;
      const int m = box.width / 5;
      box = {box.x - m, box.y - m, box.width + 2 * m, box.height + 2 * m};
      for (auto [frames, pairs, mean, name] :
           {std::tuple{&fa, &pairs_a, &mean_a, "A"}, std::tuple{&fb, &pairs_b, &mean_b, "B"}}) {
        auto it = frames->find(idx);
        if (it == frames->end()) continue;
        const Captured& f = it->second;
        if (f.format != clip_format || ref.format != clip_format)
          FAIL("%s: frame %s, source %s, clip %s", name, get_video_format_name(f.format),
               get_video_format_name(ref.format), get_video_format_name(clip_format));
        if (f.width != ref.width || f.height != ref.height)
          FAIL("%s: size %dx%d, source %dx%d", name, f.width, f.height, ref.width, ref.height);
        const Diff d = diff(f, ref, box);
        if (d.changed == 0) continue;  // the filter's core still loading: frames go through untouched
        if (d.outside)
          FAIL("%s frame %d: %ld samples changed outside the face (ROI %d,%d %dx%d + 20%%; changes span %d,%d-%d,%d)",
               name, idx, d.outside, box.x, box.y, box.width, box.height, d.x0, d.y0, d.x1, d.y1);
        if (*pairs < kPairsNeeded) {
          ++*pairs;
          *mean += d.sum_abs_inside / kPairsNeeded;
          if (name[0] == 'A') changed_a += d.changed;
        }
      }
    }
  }
  std::printf("%s frames\n", get_video_format_name(clip_format));
  std::printf("A (strength 1.0): %d frames retouched, %.0f samples changed a frame, summed |change| %.0f a frame\n",
              pairs_a, double(changed_a) / kPairsNeeded, mean_a);
  std::printf("B (strength 0.4): %d frames retouched, summed |change| %.0f a frame (A / B %.2f)\n", pairs_b, mean_b,
              mean_a / mean_b);
  if (!(mean_a > 1.5 * mean_b))
    FAIL("A (strength 1) did not change 1.5x more than B (strength 0.4): %.0f vs %.0f", mean_a, mean_b);
  if (changed_a / kPairsNeeded < 1000) FAIL("A changed only %ld samples a frame", changed_a / kPairsNeeded);
  // Timing: frames seen after Beautify are (index step) x 1/30 s apart, as the media source stamped them — plus
  // whole loops of the clip when OBS, starved of CPU, skipped past a loop end (looping keeps the clock running).
  std::vector<std::pair<int, uint64_t>> order;
  {
    std::lock_guard<std::mutex> lock(a.cap->mu);
    order = a.cap->order;
  }
  const double period_ms = 1000.0 / 30, loop_ms = kClipFrames * period_ms;
  int steps = 0;
  for (size_t i = 1; i < order.size(); ++i) {
    const int di = order[i].first - order[i - 1].first;
    if (di <= 0 || order[i].second <= order[i - 1].second) continue;  // across a loop end: index steps unknown
    const double dt_ms = double(order[i].second - order[i - 1].second) / 1e6;
    const double rest = dt_ms - di * period_ms, loops = std::round(rest / loop_ms);
    if (loops < 0 || std::fabs(rest - loops * loop_ms) > 1.0)
      FAIL("frames %d->%d are %.2f ms apart after Beautify, not %.2f (+ whole loops of %.0f ms)", order[i - 1].first,
           order[i].first, dt_ms, di * period_ms, loop_ms);
    ++steps;
  }
  if (steps < 10) FAIL("only %d frame steps within a loop seen after Beautify", steps);
  std::printf("timestamps: %d steps after Beautify, each (index step) x 33.33 ms (+ whole loops) +- 1 ms\n", steps);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string format = argc == 7 ? argv[2] : "";
  const video_format clip_format = format == "I420"   ? VIDEO_FORMAT_I420
                                   : format == "YUY2" ? VIDEO_FORMAT_YUY2
                                                      : VIDEO_FORMAT_NONE;
  if (argc != 7 || clip_format == VIDEO_FORMAT_NONE) {
    std::fprintf(stderr, "usage: %s CLIP I420|YUY2 OBS_PLUGIN_DIR OBS_DATA_DIR OUR_MODULE.so OUR_DATA_DIR\n", argv[0]);
    return 2;
  }
  const std::string clip = argv[1], obs_bin = argv[3], obs_data = argv[4], ours = argv[5], ours_data = argv[6];
  Display* display = XOpenDisplay(nullptr);
  if (!display) {
    std::printf("SKIP: no X display (run under xvfb-run)\n");
    return 77;
  }
  obs_set_nix_platform(OBS_NIX_PLATFORM_X11_EGL);
  obs_set_nix_platform_display(display);
  if (!obs_startup("en-US", nullptr, nullptr)) FAIL("obs_startup failed");

  obs_video_info ovi = {};
  ovi.graphics_module = "libobs-opengl";
  ovi.fps_num = 30, ovi.fps_den = 1;
  ovi.base_width = ovi.output_width = 640;
  ovi.base_height = ovi.output_height = 360;
  ovi.output_format = VIDEO_FORMAT_NV12;
  ovi.gpu_conversion = true;
  ovi.colorspace = VIDEO_CS_709;
  ovi.range = VIDEO_RANGE_PARTIAL;
  ovi.scale_type = OBS_SCALE_BICUBIC;
  if (int rc = obs_reset_video(&ovi); rc != OBS_VIDEO_SUCCESS) {
    std::printf("SKIP: obs_reset_video failed (%d): no usable OpenGL on this display\n", rc);
    obs_shutdown();
    return 77;
  }
  obs_audio_info oai = {48000, SPEAKERS_STEREO};
  obs_reset_audio(&oai);

  obs_module_t* ffmpeg = nullptr;
  if (obs_open_module(&ffmpeg, (obs_bin + "/obs-ffmpeg.so").c_str(), (obs_data + "/obs-ffmpeg").c_str()) !=
          MODULE_SUCCESS ||
      !obs_init_module(ffmpeg)) {
    std::printf("SKIP: OBS's media source module (obs-ffmpeg) is not in %s\n", obs_bin.c_str());
    obs_shutdown();
    return 77;
  }
  obs_module_t* mod = nullptr;
  if (obs_open_module(&mod, ours.c_str(), ours_data.c_str()) != MODULE_SUCCESS || !obs_init_module(mod))
    FAIL("our module %s did not load", ours.c_str());
  register_capture_filter();

  obs_scene_t* scene = obs_scene_create("test scene");
  Source a = add_source(scene, "A", clip.c_str(), 1.0);
  Source b = add_source(scene, "B", clip.c_str(), 0.4);
  Source c = add_source(scene, "C", clip.c_str(), -1);
  obs_set_output_source(0, obs_scene_get_source(scene));

  const int status = check_frames(a, b, c, clip_format);
  obs_set_output_source(0, nullptr);
  for (Source* s : {&a, &b, &c}) {
    if (s->beautify) obs_source_release(s->beautify);
    obs_source_release(s->capture);
    obs_source_release(s->media);
  }
  obs_scene_release(scene);
  obs_shutdown();
  XCloseDisplay(display);
  if (status == 0) std::printf("PASS\n");
  return status;
}
