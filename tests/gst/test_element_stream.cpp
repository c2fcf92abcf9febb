// Element tests of the stream side: where detection runs (synchronous-detection auto/always/never by upstream
// liveness; a default-property file job retouches from its first frame; a shot cut's faces from the cut frame),
// non-square pixels in the caps, and several faces of a frame retouched at once on the element's threads with the same
// bytes as one after another.
#include "element_test_util.h"

#include <gst/video/video.h>

#include <algorithm>
#include <vector>

using namespace test;

namespace {

// The element with the test model and messages, detection left at `mode`.
GstElement* make_with_detection(const char* mode, int threads = 1) {
  GstElement* e = make_beautify({{"synchronous-detection", mode}, {"threads", std::to_string(threads)}});
  return e;
}

// Faces per output frame for `frames` pushes of the portrait; with pace_ms, frames come that far apart (a live
// source's rhythm: background detection finishes in wall time), and stop once a face has been seen in 5 frames.
std::vector<size_t> faces_per_frame(Harnessed& t, int frames, int pace_ms = 0) {
  gst_harness_set_src_caps_str(t.h, caps_string("I420", 640, 360).c_str());
  GstBuffer* in = load_frame(data_path("obama.jpg"), "I420", 640, 360);
  EXPECT_NE(in, nullptr);
  std::vector<size_t> n;
  for (int i = 0; in && i < frames; ++i) {
    GST_BUFFER_PTS(in) = GstClockTime(i) * GST_SECOND / 30;
    GstBuffer* out = t.push_copy(in);
    const FrameFaces f = pop_faces(t.bus);
    EXPECT_TRUE(f.ok);
    n.push_back(f.rois.size());
    if (i == 0 && !f.rois.empty()) {
      EXPECT_GT(compare("I420", 640, 360, in, out, f.rois).inside, 100);
    }
    gst_buffer_unref(out);
    if (pace_ms) {
      if (n.size() >= 5 && std::all_of(n.end() - 5, n.end(), [](size_t k) { return k == 1; })) break;
      g_usleep(gulong(pace_ms) * 1000);
    }
  }
  if (in) gst_buffer_unref(in);
  return n;
}

// A flush (as a seek sends) and a new time segment.
void flush(Harnessed& t) {
  EXPECT_TRUE(gst_harness_push_event(t.h, gst_event_new_flush_start()));
  EXPECT_TRUE(gst_harness_push_event(t.h, gst_event_new_flush_stop(TRUE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  gst_harness_push_event(t.h, gst_event_new_segment(&seg));
}

// The portrait (960x540) scaled to this tile has a face box ~100 px wide (face-tool: 42 px at 320x180).
constexpr int kTileW = 768, kTileH = 432;

}  // namespace

TEST(Detection, IsAnEnumWithAutoDefault) {
  GstElement* e = gst_element_factory_make("beautify", NULL);
  ASSERT_NE(e, nullptr);
  GParamSpec* ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "synchronous-detection");
  ASSERT_TRUE(ps && G_IS_PARAM_SPEC_ENUM(ps));
  GEnumClass* ec = G_ENUM_CLASS(g_type_class_ref(ps->value_type));
  const GEnumValue* def = g_enum_get_value(ec, G_PARAM_SPEC_ENUM(ps)->default_value);
  ASSERT_NE(def, nullptr);
  EXPECT_STREQ(def->value_nick, "auto");
  for (const char* nick : {"auto", "always", "never"}) EXPECT_NE(g_enum_get_value_by_nick(ec, nick), nullptr) << nick;
  g_type_class_unref(ec);
  gst_object_unref(e);
}

// Non-live upstream (a file): auto detects inside the frame, so the face is there and retouched in frame 0, and
// again right after a flush.
TEST(Detection, AutoWithNonLiveUpstreamFindsTheFaceInTheFirstFrame) {
  Harnessed t(make_with_detection("auto"));
  gst_harness_set_live(t.h, FALSE);
  const std::vector<size_t> n = faces_per_frame(t, 3);
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0], 1u);
  EXPECT_EQ(n[2], 1u);
  flush(t);
  const std::vector<size_t> after = faces_per_frame(t, 1);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0], 1u) << "the first frame after a flush";
}

// never: detection in the background even for a file; the face arrives a few frames late and stays.
TEST(Detection, NeverDetectsInTheBackground) {
  Harnessed t(make_with_detection("never"));
  gst_harness_set_live(t.h, FALSE);
  const std::vector<size_t> n = faces_per_frame(t, 300, 33);
  ASSERT_FALSE(n.empty());
  EXPECT_EQ(n[0], 0u) << "background detection cannot have finished before frame 0";
  EXPECT_EQ(n.back(), 1u) << n.size() << " frames";
}

// Live upstream: auto keeps detection off the streaming thread; the face is found and kept.
TEST(Detection, AutoWithLiveUpstreamFindsTheFace) {
  Harnessed t(make_with_detection("auto"));
  gst_harness_set_live(t.h, TRUE);
  const std::vector<size_t> n = faces_per_frame(t, 300, 33);
  ASSERT_FALSE(n.empty());
  EXPECT_EQ(n.back(), 1u) << n.size() << " frames";
}

// Live upstream: the first frame waits for one detection when the last one fitted the frame budget (5 fps here, so
// that it does on a loaded machine too), so the face is there at full alpha and retouched in frame 0.
TEST(Detection, LiveFirstFrameHasTheFaceAtFullAlpha) {
  Harnessed t(make_with_detection("auto"));
  gst_harness_set_live(t.h, TRUE);
  gst_harness_set_src_caps_str(t.h, caps_string("I420", 640, 360, 5).c_str());
  GstBuffer* in = load_frame(data_path("obama.jpg"), "I420", 640, 360);
  ASSERT_NE(in, nullptr);
  GstBuffer* out = t.push_copy(in);
  const FrameFaces f = pop_faces(t.bus);
  ASSERT_TRUE(f.ok);
  ASSERT_EQ(f.rois.size(), 1u) << "frame 0 of a live stream";
  EXPECT_DOUBLE_EQ(f.alphas[0], 1.0);
  EXPECT_GT(compare("I420", 640, 360, in, out, f.rois).inside, 100);
  gst_buffer_unref(out);
  gst_buffer_unref(in);
}

// Shot cuts on a live stream (portrait -> a frame of noise -> the portrait: each change is a new shot to the face
// stage's histograms): at the first cut the face's track ends at once (no fade-out over the noise); at the second
// the cut frame runs the coarse detection itself, so the face is a new track at full alpha, retouched in that frame,
// instead of arriving from the background detector frames later and fading in.
TEST(Detection, ShotCutsEndTracksAtOnceAndRetouchTheNewShotFromItsFirstFrame) {
  Harnessed t(make_with_detection("auto"));
  gst_harness_set_live(t.h, TRUE);
  gst_harness_set_src_caps_str(t.h, caps_string("I420", 640, 360, 5).c_str());
  GstBuffer* face = load_frame(data_path("obama.jpg"), "I420", 640, 360);
  GstBuffer* noise = noise_frame("I420", 640, 360, 7);
  ASSERT_NE(face, nullptr);
  ASSERT_NE(noise, nullptr);
  int i = 0;
  auto push = [&](GstBuffer* in, FrameFaces& f) {
    GST_BUFFER_PTS(in) = GstClockTime(i++) * GST_SECOND / 5;
    GstBuffer* out = t.push_copy(in);
    f = pop_faces(t.bus);
    return out;
  };
  FrameFaces f;
  for (int k = 0; k < 3; ++k) {
    gst_buffer_unref(push(face, f));
    ASSERT_TRUE(f.ok);
    ASSERT_EQ(f.rois.size(), 1u) << "frame " << k;
  }
  const int first_id = f.ids[0];
  gst_buffer_unref(push(noise, f));
  ASSERT_TRUE(f.ok);
  EXPECT_TRUE(f.rois.empty()) << "the cut to noise: the face's track ends in that frame";
  GstBuffer* out = push(face, f);
  ASSERT_TRUE(f.ok);
  ASSERT_EQ(f.rois.size(), 1u) << "the cut back: the face found in the cut frame itself";
  EXPECT_NE(f.ids[0], first_id);
  EXPECT_DOUBLE_EQ(f.alphas[0], 1.0);
  EXPECT_GT(compare("I420", 640, 360, face, out, f.rois).inside, 100);
  EXPECT_EQ(compare("I420", 640, 360, face, out, f.rois).outside, 0);
  gst_buffer_unref(out);
  gst_buffer_unref(noise);
  gst_buffer_unref(face);
}

// A file whose first frame holds four faces of ~100 px at 1080p (2x2 copies of the portrait) (below the coarse pass's
// reach, which finds faces of about 1/8 of the frame's longer side and up): with default min-face-size and max-faces
// the first frame runs the complete scan, so every face is retouched at full alpha in frame 0, and again in the first
// frame after a flush.
TEST(Detection, FirstFrameOfAFileRetouchesSmallFacesAtFullAlpha) {
  const int w = 1920, h = 1080;
  GstElement* e = make_with_detection("auto");
  for (const char* prop : {"min-face-size", "max-faces"}) {  // make_beautify lowers min-face-size for small pictures
    GParamSpec* ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), prop);
    g_object_set_property(G_OBJECT(e), prop, g_param_spec_get_default_value(ps));
  }
  int min_face = 0, max_faces = 0;
  g_object_get(e, "min-face-size", &min_face, "max-faces", &max_faces, NULL);
  ASSERT_EQ(max_faces, 4);
  Harnessed t(e);
  gst_harness_set_live(t.h, FALSE);
  gst_harness_set_src_caps_str(t.h, caps_string("I420", w, h).c_str());
  GstBuffer* in = load_tiles(data_path("obama.jpg"), "I420", w, h, 2, 2, kTileW, kTileH);
  ASSERT_NE(in, nullptr);
  for (int round = 0; round < 2; ++round) {
    if (round == 1) flush(t);
    GST_BUFFER_PTS(in) = 0;
    GstBuffer* out = t.push_copy(in);
    const FrameFaces f = pop_faces(t.bus);
    ASSERT_TRUE(f.ok);
    std::string widths;
    for (const Box& b : f.boxes) widths += " " + std::to_string(b.w);
    ASSERT_EQ(f.rois.size(), 4u) << (round ? "first frame after a flush" : "frame 0") << ", face widths:" << widths;
    for (size_t k = 0; k < f.rois.size(); ++k) {
      EXPECT_DOUBLE_EQ(f.alphas[k], 1.0) << "face " << k;
      EXPECT_GE(f.boxes[k].w, min_face) << "face " << k;
      EXPECT_LE(f.boxes[k].w, 140) << "face " << k;
      EXPECT_GT(compare("I420", w, h, in, out, {f.rois[k]}).inside, 100) << "face " << k << " retouched";
    }
    EXPECT_EQ(compare("I420", w, h, in, out, f.rois).outside, 0);
    gst_buffer_unref(out);
  }
  gst_buffer_unref(in);
}

// The new user's job with default properties: a file decoded and pushed as fast as possible (non-live), every
// frame retouched from the first.
TEST(Detection, DefaultPropertyFileJobRetouchesFromFrameZero) {
  gchar* loc = g_strescape(data_path("obama.jpg").c_str(), NULL);
  const std::string desc = "filesrc location=\"" + std::string(loc) +
                           "\" ! jpegdec ! videoconvert ! videoscale ! "
                           "video/x-raw,format=I420,width=640,height=360,pixel-aspect-ratio=1/1 ! "
                           "imagefreeze num-buffers=6 ! video/x-raw,framerate=30/1 ! "
                           "beautify name=b post-messages=true model=\"" +
                           test_model("M") + "\" ! fakesink sync=false";
  g_free(loc);
  GError* err = NULL;
  GstElement* pipe = gst_parse_launch(desc.c_str(), &err);
  ASSERT_NE(pipe, nullptr) << (err ? err->message : "");
  GstBus* bus = gst_element_get_bus(pipe);
  ASSERT_NE(gst_element_set_state(pipe, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  std::vector<int> faces;
  for (;;) {
    GstMessage* m = gst_bus_timed_pop_filtered(
        bus, 60 * GST_SECOND, GstMessageType(GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    ASSERT_NE(m, nullptr) << "timeout";
    const GstMessageType type = GST_MESSAGE_TYPE(m);
    if (type == GST_MESSAGE_ELEMENT && gst_structure_has_name(gst_message_get_structure(m), "beautify")) {
      int n = 0;
      gst_structure_get_int(gst_message_get_structure(m), "n-faces", &n);
      faces.push_back(n);
    }
    if (type == GST_MESSAGE_ERROR) ADD_FAILURE() << "pipeline error";
    gst_message_unref(m);
    if (type != GST_MESSAGE_ELEMENT) break;
  }
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipe);
  ASSERT_EQ(faces.size(), 6u);
  for (size_t i = 0; i < faces.size(); ++i) EXPECT_EQ(faces[i], 1) << "frame " << i;
}

// Non-square pixels in the caps: the portrait stored squeezed (360x360 YUY2, pixels 16/9 wide, so it displays as
// 640x360) is negotiated, its face found where it is in the stored frame and retouched in place, bit-exact
// outside the ROI.
TEST(PixelAspect, NonSquarePixelsNegotiateAndProcess) {
  Harnessed t(make_beautify());
  gst_harness_set_src_caps_str(t.h, (caps_string("YUY2", 360, 360) + ",pixel-aspect-ratio=16/9").c_str());
  GstBuffer* in = load_stretched(data_path("obama.jpg"), "YUY2", 360, 360);
  GstBuffer* square = load_frame(data_path("obama.jpg"), "YUY2", 640, 360);
  ASSERT_NE(in, nullptr);
  ASSERT_NE(square, nullptr);
  GstBuffer* out = t.push_copy(in);
  ASSERT_NE(out, nullptr);
  const FrameFaces f = pop_faces(t.bus);
  ASSERT_TRUE(f.ok);
  ASSERT_EQ(f.rois.size(), 1u) << "the face of the squeezed picture";
  EXPECT_DOUBLE_EQ(f.alphas[0], 1.0);
  const Diff d = compare("YUY2", 360, 360, in, out, f.rois);
  EXPECT_EQ(d.outside, 0);
  EXPECT_GT(d.inside, 100) << "retouched";
  // The same face in the square-pixel picture: the box is as wide in display px, as tall, at the same place.
  Harnessed u(make_beautify());
  gst_harness_set_src_caps_str(u.h, caps_string("YUY2", 640, 360).c_str());
  GstBuffer* out_sq = u.push_copy(square);
  const FrameFaces g = pop_faces(u.bus);
  ASSERT_EQ(g.boxes.size(), 1u);
  EXPECT_NEAR(f.boxes[0].w * 16.0 / 9.0, g.boxes[0].w, 0.08 * g.boxes[0].w);
  EXPECT_NEAR(f.boxes[0].h, g.boxes[0].h, 0.08 * g.boxes[0].h);
  EXPECT_NEAR(f.boxes[0].x * 16.0 / 9.0, g.boxes[0].x, 0.08 * g.boxes[0].w);
  gst_buffer_unref(out_sq);
  gst_buffer_unref(square);
  gst_buffer_unref(in);
  gst_buffer_unref(out);
}

// Two faces: with 4 threads their nets (and, apart, their blends) run at once; the bytes of every frame are those
// of the same element with 1 thread (faces one after another), temporal smoothing included.
TEST(ParallelFaces, SameBytesAsOneAfterAnother) {
  const int w = 970, h = 1102, frames = 5;
  GstBuffer* in = load_pair(data_path("biden.jpg"), data_path("biden.jpg"), "I420", w, h);
  ASSERT_NE(in, nullptr);
  std::vector<GstBuffer*> outs[2];
  size_t faces_seen[2] = {0, 0};
  for (int k = 0; k < 2; ++k) {
    Harnessed t(make_beautify({{"threads", k == 0 ? "1" : "4"}}));
    gst_harness_set_src_caps_str(t.h, caps_string("I420", w, h).c_str());
    for (int i = 0; i < frames; ++i) {
      GST_BUFFER_PTS(in) = GstClockTime(i) * GST_SECOND / 30;
      outs[k].push_back(t.push_copy(in));
      const FrameFaces f = pop_faces(t.bus);
      if (i == frames - 1) faces_seen[k] = f.rois.size();
    }
  }
  EXPECT_EQ(faces_seen[0], 2u);
  EXPECT_EQ(faces_seen[1], 2u);
  for (int i = 0; i < frames; ++i) {
    EXPECT_EQ(compare("I420", w, h, outs[0][i], outs[1][i], {}).outside, 0) << "frame " << i;
    EXPECT_FALSE(same_bytes(in, outs[1][i])) << "frame " << i << " was not retouched";
  }
  for (auto& v : outs)
    for (GstBuffer* b : v) gst_buffer_unref(b);
  gst_buffer_unref(in);
}
