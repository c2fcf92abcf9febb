// The face stage on real clips from ../shared/data/faces/videos (decoded with GStreamer; skipped when the shared data
// is missing): refit skipping stays within a stated tolerance of a full refit, a still real face skips its refits
// and a moving one does not, and a full set of tracks does not keep the detector scanning.
#include "face_stage.h"
#include "refit_check.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace bty::face;

namespace {

struct Clip {
  int width = 0, height = 0;
  std::vector<std::vector<uint8_t>> frames;  // GRAY8, tightly packed
  std::vector<FrameInput> inputs() const {
    std::vector<FrameInput> v;
    for (const auto& f : frames) v.push_back({f.data(), width, height, width});
    return v;
  }
};

std::string shared_clip(const std::string& rel) { return std::string(FACE_SHARED_DATA) + "/videos/" + rel; }

bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

// The first `n` frames of a clip as grey planes.
Clip decode(const std::string& path, int n) {
  Clip c;
  GError* err = nullptr;
  gchar* loc = g_strescape(path.c_str(), nullptr);
  const std::string desc = "filesrc location=\"" + std::string(loc) +
                           "\" ! decodebin ! videoconvert ! video/x-raw,format=GRAY8 ! appsink name=out sync=false";
  g_free(loc);
  GstElement* pipe = gst_parse_launch(desc.c_str(), &err);
  if (!pipe) {
    ADD_FAILURE() << "cannot build the decoding pipeline: " << (err ? err->message : "?");
    if (err) g_error_free(err);
    return c;
  }
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipe), "out");
  gst_element_set_state(pipe, GST_STATE_PLAYING);
  while (int(c.frames.size()) < n) {
    // Bounded wait: a pipeline that fails (no decoder for the clip) posts an error and never reaches end of stream.
    GstSample* s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND);
    if (!s) break;  // end of stream, error or stall
    GstVideoInfo info;
    GstMapInfo map;
    GstBuffer* buf = gst_sample_get_buffer(s);
    if (gst_video_info_from_caps(&info, gst_sample_get_caps(s)) && gst_buffer_map(buf, &map, GST_MAP_READ)) {
      c.width = GST_VIDEO_INFO_WIDTH(&info), c.height = GST_VIDEO_INFO_HEIGHT(&info);
      const int stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
      std::vector<uint8_t> f(size_t(c.width) * c.height);
      for (int y = 0; y < c.height; ++y)
        std::copy_n(map.data + size_t(y) * stride, c.width, f.data() + size_t(y) * c.width);
      c.frames.push_back(std::move(f));
      gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(s);
  }
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipe);
  return c;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p / 100.0 * double(v.size() - 1) + 0.5))];
}

Options sync_options() {
  Options o;
  o.synchronous_detection = true;
  o.threads = 1;
  return o;
}

// Talking heads: the mouth and eyes move most frames, the head drifts.
const char* const kClips[] = {"github-OpenTalker-SadTalker/WDA_KatieHill_000.mp4",
                              "github-OpenTalker-video-retalking/1.mp4"};
constexpr int kFrames = 75;

}  // namespace

// Tolerance: a skipped refit reuses the last fit moved by a whole-pixel shift, and the next full refit starts from
// there, so the two stages' landmarks differ by the fit's own noise at most. Measured: median 0.004 of the face
// size against the full refit's frame-to-frame motion of 0.0055-0.009 (median), p95 0.012, max 0.015; the bounds
// leave room for other decoders' pixels.
TEST(RealClips, RefitSkippingStaysWithinToleranceOfAFullRefit) {
  int refits = 0, skipped = 0;
  for (const char* rel : kClips) {
    const std::string path = shared_clip(rel);
    if (!exists(path)) GTEST_SKIP() << "../shared/data/faces not present: " << path;
    const Clip c = decode(path, kFrames);
    if (c.frames.empty()) GTEST_SKIP() << "no GStreamer decoder for " << path << " (gstreamer1.0-libav)";
    ASSERT_EQ(int(c.frames.size()), kFrames) << path;
    const RefitDeviation d = compare_to_full_refit(c.inputs(), sync_options());
    ASSERT_GT(d.deviation.size(), size_t(kFrames / 2)) << path << ": the face is tracked";
    refits += d.refits, skipped += d.skipped;
    const double med = pct(d.deviation, 50), p95 = pct(d.deviation, 95), mx = pct(d.deviation, 100);
    const double motion = pct(d.full_motion, 50);
    EXPECT_LT(med, motion) << path;
    EXPECT_LT(med, 0.006) << path;
    EXPECT_LT(p95, 0.02) << path;
    EXPECT_LT(mx, 0.03) << path;
    std::printf(
        "%s: %d refits, %d skipped; deviation from a full refit / face size: median %.4f, p95 %.4f, "
        "max %.4f; full refit's frame-to-frame motion median %.4f\n",
        rel, d.refits, d.skipped, med, p95, mx, motion);
  }
  // Real talking heads do skip (a tolerance over no skipped frames would say nothing), and refit_max_skip holds.
  EXPECT_GT(skipped, (refits + skipped) / 10);
  EXPECT_GE(refits, skipped / Options{}.refit_max_skip);
}

TEST(RealClips, StillRealFaceSkipsItsRefitsAMovingOneDoesNot) {
  const std::string path = shared_clip(kClips[0]);
  if (!exists(path)) GTEST_SKIP() << "../shared/data/faces not present: " << path;
  const Clip c = decode(path, 1);
  if (c.frames.empty()) GTEST_SKIP() << "no GStreamer decoder for " << path << " (gstreamer1.0-libav)";
  const int w = c.width, h = c.height;
  const FrameInput still{c.frames[0].data(), w, h, w};
  const Options o = sync_options();
  FaceStage s(o);
  ASSERT_EQ(s.process(still).size(), 1u);
  int refits = 0, skipped = 0;
  for (int k = 0; k < 18; ++k) {
    s.process(still);
    refits += s.timings().refits, skipped += s.timings().refits_skipped;
  }
  // The first refit after the detection's own fit, then one every refit_max_skip + 1 frames.
  EXPECT_EQ(refits, 1 + 17 / (o.refit_max_skip + 1));
  EXPECT_EQ(skipped, 18 - refits);
  // The same frame zoomed about its centre by 1 % more each frame: the face's tiles move apart, no whole-pixel
  // shift matches them all, every frame refits.
  FaceStage m(o);
  std::vector<uint8_t> g(size_t(w) * h);
  for (int k = 0; k < 10; ++k) {
    const float z = 1.f + 0.01f * float(k);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const float sx = (float(x) - 0.5f * w) / z + 0.5f * w, sy = (float(y) - 0.5f * h) / z + 0.5f * h;
        const int x0 = std::clamp(int(std::floor(sx)), 0, w - 2), y0 = std::clamp(int(std::floor(sy)), 0, h - 2);
        const float fx = std::clamp(sx - float(x0), 0.f, 1.f), fy = std::clamp(sy - float(y0), 0.f, 1.f);
        const uint8_t* p = c.frames[0].data() + size_t(y0) * w + x0;
        const float v = (1 - fy) * ((1 - fx) * p[0] + fx * p[1]) + fy * ((1 - fx) * p[w] + fx * p[w + 1]);
        g[size_t(y) * w + x] = uint8_t(std::lround(v));
      }
    ASSERT_EQ(m.process({g.data(), w, h, w}).size(), 1u) << "frame " << k;
    if (k > 0) {
      EXPECT_EQ(m.timings().refits_skipped, 0) << "frame " << k;
    }
  }
}

// With max_faces tracks the scan has nothing to add: a talking face whose fit quality dips below the doubtful
// level gets a detection around itself at most every detect_interval frames, not a scan job every other frame.
TEST(RealClips, AFullSetOfTracksDoesNotKeepTheDetectorScanning) {
  const std::string path = shared_clip(kClips[0]);
  if (!exists(path)) GTEST_SKIP() << "../shared/data/faces not present: " << path;
  const Clip c = decode(path, kFrames);
  if (c.frames.empty()) GTEST_SKIP() << "no GStreamer decoder for " << path << " (gstreamer1.0-libav)";
  ASSERT_EQ(int(c.frames.size()), kFrames);
  Options o = sync_options();
  o.max_faces = 1;
  FaceStage s(o);
  int with_face = 0;
  for (const FrameInput& in : c.inputs()) with_face += int(s.process(in).size());
  EXPECT_GE(with_face, kFrames - 2);
  // The first frame's coarse job, then at most one near job per detect_interval frames.
  EXPECT_LE(s.timings().detect_runs, 1 + kFrames / o.detect_interval) << "detection jobs over " << kFrames << " frames";
}

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
