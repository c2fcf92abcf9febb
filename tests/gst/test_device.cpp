// The element's `device` property: its values and default; device=opencl gives the CPU's pixels on faces (the nets
// agree within 1e-4, so at most one code value after blending) and exact ones elsewhere; with no OpenCL platform
// (meson runs this binary again with OCL_ICD_VENDORS at an empty folder and BTY_EXPECT_NO_OPENCL=1) device=opencl
// posts exactly one warning saying why and the stream goes on, on the CPU, unchanged.
#include "element_test_util.h"

#include "settings.h"

#include <beautify/engine.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

using namespace test;

namespace {

bool no_opencl_expected() {
  const char* e = std::getenv("BTY_EXPECT_NO_OPENCL");
  return e && *e == '1';
}

// Warnings on the bus so far (drains it), their texts appended to `texts`.
int pop_warnings(GstBus* bus, std::string& texts) {
  int n = 0;
  while (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING)) {
    GError* err = nullptr;
    gchar* dbg = nullptr;
    gst_message_parse_warning(m, &err, &dbg);
    texts += std::string(err ? err->message : "") + "\n";
    g_clear_error(&err);
    g_free(dbg);
    gst_message_unref(m);
    ++n;
  }
  return n;
}

// Largest per-byte difference of two same-sized buffers.
int max_byte_diff(GstBuffer* a, GstBuffer* b) {
  GstMapInfo ma, mb;
  if (!gst_buffer_map(a, &ma, GST_MAP_READ)) return 256;
  if (!gst_buffer_map(b, &mb, GST_MAP_READ)) {
    gst_buffer_unmap(a, &ma);
    return 256;
  }
  int d = ma.size == mb.size ? 0 : 256;
  for (gsize i = 0; i < std::min(ma.size, mb.size); ++i) d = std::max(d, std::abs(int(ma.data[i]) - int(mb.data[i])));
  gst_buffer_unmap(a, &ma);
  gst_buffer_unmap(b, &mb);
  return d;
}

// Sets an environment variable for a scope (the element reads these at start), then restores it.
struct ScopedEnv {
  std::string name, old;
  bool had;
  ScopedEnv(const char* n, const char* v) : name(n), had(std::getenv(n) != nullptr) {
    if (had) old = std::getenv(n);
    setenv(n, v, 1);
  }
  ~ScopedEnv() {
    if (had)
      setenv(name.c_str(), old.c_str(), 1);
    else
      unsetenv(name.c_str());
  }
};

}  // namespace

TEST(Device, ValuesAndDefault) {
  GstElement* e = make_beautify();
  ASSERT_NE(e, nullptr);
  GParamSpec* ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "device");
  ASSERT_NE(ps, nullptr);
  ASSERT_TRUE(G_IS_PARAM_SPEC_ENUM(ps));
  GEnumClass* ec = G_PARAM_SPEC_ENUM(ps)->enum_class;
  for (const char* nick : {"auto", "cpu", "opencl"}) EXPECT_NE(g_enum_get_value_by_nick(ec, nick), nullptr) << nick;
  const char* env = std::getenv("BEAUTIFY_DEVICE");
  const char* want = env && (!std::strcmp(env, "cpu") || !std::strcmp(env, "opencl")) ? env : "auto";
  EXPECT_STREQ(want, bty::to_string(env ? bty::gst::default_device() : bty::gst::defaults::device));
  EXPECT_STREQ(g_enum_get_value(ec, G_PARAM_SPEC_ENUM(ps)->default_value)->value_nick, want);
  gst_util_set_object_arg(G_OBJECT(e), "device", "opencl");
  gint v = -1;
  g_object_get(e, "device", &v, NULL);
  EXPECT_STREQ(g_enum_get_value(ec, v)->value_nick, "opencl");
  gst_object_unref(e);
}

// Two faces in one frame go as one OpenCL batch; with max-faces=1 at start (a batch of one slot) raised to 2 while
// playing, they go as two batches (the first batch's outputs copied before the second run).
TEST(Device, OpenCLGivesTheCpuPixels) {
  if (no_opencl_expected()) GTEST_SKIP() << "BTY_EXPECT_NO_OPENCL=1: only the fallback test runs";
  std::string why;
  if (!bty::opencl_available(false, &why)) GTEST_SKIP() << "no OpenCL device: " << why;
  GstBuffer* in = load_pair(data_path("biden.jpg"), data_path("biden.jpg"), "I420", 970, 1102);
  ASSERT_NE(in, nullptr);
  struct Run {
    const char* device;
    int start_max_faces;
    GstBuffer* out = nullptr;
    FrameFaces faces;
  } runs[] = {{"cpu", 4, nullptr, {}}, {"opencl", 4, nullptr, {}}, {"opencl", 1, nullptr, {}}};
  ScopedEnv wait("BEAUTIFY_DEVICE_START", "wait");  // every frame on the chosen device
  for (Run& r : runs) {
    Harnessed t(make_beautify({{"device", r.device}, {"max-faces", std::to_string(r.start_max_faces)}}));
    gst_harness_set_src_caps_str(t.h, caps_string("I420", 970, 1102).c_str());
    g_object_set(t.element, "max-faces", 4, NULL);
    std::string texts;
    EXPECT_EQ(pop_warnings(t.bus, texts), 0) << r.device << ": " << texts;
    r.out = run_frames(t, in, 4, r.faces);
    EXPECT_EQ(r.faces.device, r.device);
    EXPECT_EQ(pop_warnings(t.bus, texts), 0) << r.device << ": " << texts;
  }
  for (Run& r : runs) {
    SCOPED_TRACE(std::string(r.device) + " max-faces " + std::to_string(r.start_max_faces) + " at start");
    ASSERT_EQ(r.faces.rois.size(), 2u);
    EXPECT_EQ(compare("I420", 970, 1102, in, r.out, r.faces.rois).outside, 0);
    EXPECT_GT(compare("I420", 970, 1102, in, r.out, r.faces.rois).inside, 2000);
    EXPECT_LE(max_byte_diff(runs[0].out, r.out), 1);
  }
  for (Run& r : runs) gst_buffer_unref(r.out);
  gst_buffer_unref(in);
}

TEST(Device, NoPlatformFallsBackWithOneWarning) {
  if (!no_opencl_expected()) GTEST_SKIP() << "runs only with BTY_EXPECT_NO_OPENCL=1 (see tests/gst/meson.build)";
  GstBuffer* in = load_frame(data_path("biden.jpg"), "RGBA", 485, 551);
  ASSERT_NE(in, nullptr);
  Harnessed t(make_beautify({{"device", "opencl"}}));
  gst_harness_set_src_caps_str(t.h, caps_string("RGBA", 485, 551).c_str());
  // The OpenCL start fails in the background (in milliseconds here): the warning comes with one of the first frames
  // (popped after each, as pop_faces drops other messages).
  std::string texts;
  int warnings = 0;
  for (int i = 0; i < 3; ++i) {
    gst_buffer_unref(t.push_copy(in));
    warnings += pop_warnings(t.bus, texts);
  }
  EXPECT_EQ(warnings, 1) << texts;
  EXPECT_NE(texts.find("OpenCL"), std::string::npos) << texts;
  EXPECT_NE(texts.find("CPU"), std::string::npos) << texts;
  FrameFaces faces;
  GstBuffer* out = run_frames(t, in, 1, faces);
  EXPECT_EQ(faces.device, "cpu");
  ASSERT_EQ(faces.rois.size(), 1u);
  EXPECT_EQ(compare("RGBA", 485, 551, in, out, faces.rois).outside, 0);
  EXPECT_GT(compare("RGBA", 485, 551, in, out, faces.rois).inside, 500);
  EXPECT_EQ(pop_warnings(t.bus, texts), 0) << "one warning only: " << texts;
  gst_buffer_unref(out);
  gst_buffer_unref(in);
}

// device=auto without a GPU (PoCL is a CPU device; or no platform at all) takes the CPU and says nothing.
TEST(Device, AutoWithoutAGpuTakesTheCpuSilently) {
  std::string why;
  if (bty::opencl_available(true, &why)) GTEST_SKIP() << "a GPU is present: " << why;
  GstBuffer* in = load_frame(data_path("biden.jpg"), "RGBA", 485, 551);
  ASSERT_NE(in, nullptr);
  Harnessed t(make_beautify({{"device", "auto"}}));
  gst_harness_set_src_caps_str(t.h, caps_string("RGBA", 485, 551).c_str());
  FrameFaces faces;
  GstBuffer* out = run_frames(t, in, 2, faces);
  std::string texts;
  EXPECT_EQ(pop_warnings(t.bus, texts), 0) << texts;
  ASSERT_EQ(faces.rois.size(), 1u);
  EXPECT_GT(compare("RGBA", 485, 551, in, out, faces.rois).inside, 500);
  gst_buffer_unref(out);
  gst_buffer_unref(in);
}

// Start-up: the first frame never waits for OpenCL. With the device start slowed down (the test hook sleeps before
// it for 3 s, or 3x what a CPU element's start and first frame take where that is longer, as under sanitizers), the
// first frame comes out of the CPU net (its exact bytes) well before the start could have finished, and a later
// frame runs on OpenCL once it has, with exact pixels outside the face.
TEST(Device, FirstFrameDoesNotWaitForOpenCLStart) {
  if (no_opencl_expected()) GTEST_SKIP() << "BTY_EXPECT_NO_OPENCL=1: only the fallback test runs";
  std::string why;
  if (!bty::opencl_available(false, &why)) GTEST_SKIP() << "no OpenCL device: " << why;
  ScopedEnv background("BEAUTIFY_DEVICE_START", "background");
  GstBuffer* in = load_frame(data_path("biden.jpg"), "RGBA", 485, 551);
  ASSERT_NE(in, nullptr);
  GstBuffer* cpu_out = nullptr;
  const gint64 c0 = g_get_monotonic_time();
  {
    Harnessed c(make_beautify({{"device", "cpu"}}));
    gst_harness_set_src_caps_str(c.h, caps_string("RGBA", 485, 551).c_str());
    FrameFaces f;
    cpu_out = run_frames(c, in, 1, f);
  }
  const double cpu_first_ms = double(g_get_monotonic_time() - c0) / 1000.0;
  const int kDelayMs = std::max(3000, int(3 * cpu_first_ms));
  ScopedEnv delay("BEAUTIFY_TEST_DEVICE_START_DELAY_MS", std::to_string(kDelayMs).c_str());
  const gint64 t0 = g_get_monotonic_time();
  Harnessed t(make_beautify({{"device", "opencl"}}));
  gst_harness_set_src_caps_str(t.h, caps_string("RGBA", 485, 551).c_str());
  GstBuffer* first = t.push_copy(in);
  const double first_ms = double(g_get_monotonic_time() - t0) / 1000.0;
  ASSERT_NE(first, nullptr);
  FrameFaces faces = pop_faces(t.bus);
  ASSERT_TRUE(faces.ok);
  EXPECT_EQ(faces.device, "cpu") << "the first frame waited for the OpenCL start";
  EXPECT_LT(first_ms, kDelayMs) << "the first frame came out only after the OpenCL start";
  ASSERT_EQ(faces.rois.size(), 1u);
  EXPECT_EQ(compare("RGBA", 485, 551, in, first, faces.rois).outside, 0);
  EXPECT_GT(compare("RGBA", 485, 551, in, first, faces.rois).inside, 500);
  EXPECT_EQ(max_byte_diff(cpu_out, first), 0) << "the CPU net's frame";
  gst_buffer_unref(first);
  // Later frames: OpenCL once the start is done (PoCL builds the program here, possibly from a cold cache).
  GstBuffer* out = nullptr;
  double switched_ms = 0;
  for (int i = 0; i < 2000 && faces.device != "opencl" && switched_ms < kDelayMs + 240000; ++i) {
    if (out) gst_buffer_unref(out);
    out = t.push_copy(in);
    faces = pop_faces(t.bus);
    switched_ms = double(g_get_monotonic_time() - t0) / 1000.0;
  }
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(faces.device, "opencl") << "no frame ran on OpenCL within " << switched_ms << " ms";
  EXPECT_GE(switched_ms, kDelayMs);
  ASSERT_EQ(faces.rois.size(), 1u);
  EXPECT_EQ(compare("RGBA", 485, 551, in, out, faces.rois).outside, 0);
  std::string texts;
  EXPECT_EQ(pop_warnings(t.bus, texts), 0) << texts;
  gst_buffer_unref(out);
  gst_buffer_unref(cpu_out);
  gst_buffer_unref(in);
}
