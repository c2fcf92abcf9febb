// Element tests of the stream side: where detection runs (synchronous-detection auto/always/never by upstream
// liveness; a default-property file job retouches from its first frame), non-square pixels in the caps, and
// several faces of a frame retouched at once on the element's threads with the same bytes as one after another.
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
    if (i == 0 && !f.rois.empty()) EXPECT_GT(compare("I420", 640, 360, in, out, f.rois).inside, 100);
    gst_buffer_unref(out);
    if (pace_ms) {
      if (n.size() >= 5 && std::all_of(n.end() - 5, n.end(), [](size_t k) { return k == 1; })) break;
      g_usleep(gulong(pace_ms) * 1000);
    }
  }
  if (in) gst_buffer_unref(in);
  return n;
}

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
  ASSERT_TRUE(gst_harness_push_event(t.h, gst_event_new_flush_start()));
  ASSERT_TRUE(gst_harness_push_event(t.h, gst_event_new_flush_stop(TRUE)));
  gst_harness_push_event(t.h, gst_event_new_segment([] {
                           static GstSegment s;
                           gst_segment_init(&s, GST_FORMAT_TIME);
                           return &s;
                         }()));
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

// Non-square pixels in the caps are accepted and the frame is processed in place, bit-exact outside the ROIs.
TEST(PixelAspect, NonSquarePixelsNegotiateAndProcess) {
  Harnessed t(make_beautify());
  gst_harness_set_src_caps_str(t.h, (caps_string("I420", 640, 360) + ",pixel-aspect-ratio=9/16").c_str());
  GstBuffer* in = load_frame(data_path("obama.jpg"), "I420", 640, 360);
  ASSERT_NE(in, nullptr);
  GstBuffer* out = t.push_copy(in);
  ASSERT_NE(out, nullptr);
  const FrameFaces f = pop_faces(t.bus);
  ASSERT_TRUE(f.ok);
  EXPECT_EQ(compare("I420", 640, 360, in, out, f.rois).outside, 0);
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
