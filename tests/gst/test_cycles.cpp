// 100 NULL -> PLAYING -> NULL cycles of a pipeline through beautify (faces present, so every stage runs), checked by
// GStreamer's leaks tracer: no object created during the cycles may outlive them. Run with GST_TRACERS=leaks.
#include "element_test_util.h"

#include <gst/gsttracer.h>

#include <cstring>

using namespace test;

namespace {

bool leaks_reported = false;

// The leaks tracer reports at gst_deinit(): each leaked object under GST_TRACER:7 (in the test log) and then one
// g_warning "Leaks detected ...", caught here.
void log_handler(const gchar* domain, GLogLevelFlags level, const gchar* message, gpointer) {
  if (message && strstr(message, "Leaks detected")) leaks_reported = true;
  g_log_default_handler(domain, level, message, NULL);
}

bool leaks_tracer_active() {
  bool found = false;
  GList* tracers = gst_tracing_get_active_tracers();
  for (GList* l = tracers; l; l = l->next) found = found || g_str_equal(G_OBJECT_TYPE_NAME(l->data), "GstLeaksTracer");
  g_list_free_full(tracers, gst_object_unref);
  return found;
}

void cycle(GstElement* pipe) {
  ASSERT_NE(gst_element_set_state(pipe, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  GstBus* bus = gst_element_get_bus(pipe);
  GstMessage* msg =
      gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg), GST_MESSAGE_EOS);
  gst_message_unref(msg);
  gst_object_unref(bus);
  ASSERT_EQ(gst_element_set_state(pipe, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  // Element messages (post-messages=true) stay on the bus until flushed: drop them like an app's bus watch would.
  bus = gst_element_get_bus(pipe);
  gst_bus_set_flushing(bus, TRUE);
  gst_bus_set_flushing(bus, FALSE);
  gst_object_unref(bus);
}

}  // namespace

TEST(Cycles, HundredNullPlayingNullWithoutLeaks) {
  g_log_set_default_handler(log_handler, NULL);
  gst_init(NULL, NULL);
  ASSERT_TRUE(leaks_tracer_active()) << "run with GST_TRACERS=leaks";
  gchar* loc = g_strescape(data_path("obama.jpg").c_str(), NULL);
  const std::string desc = "filesrc location=\"" + std::string(loc) +
                           "\" ! jpegdec ! videoconvert ! videoscale ! video/x-raw,format=I420,width=320,height=180 ! "
                           "imagefreeze num-buffers=2 ! beautify synchronous-detection=always post-messages=true "
                           "min-face-size=24 strength=1 model=\"" +
                           test_model("S") + "\" ! fakesink";
  g_free(loc);
  GError* err = NULL;
  GstElement* pipe = gst_parse_launch(desc.c_str(), &err);
  ASSERT_NE(pipe, nullptr) << (err ? err->message : "");
  for (int i = 0; i < 100 && !HasFatalFailure(); ++i) cycle(pipe);
  gst_object_unref(pipe);
  gst_deinit();
  EXPECT_FALSE(leaks_reported) << "the leaks tracer reported leaks (listed above under GST_TRACER)";
}
