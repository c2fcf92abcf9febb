/* Embedding beautify in an application: builds a pipeline with gst_parse_launch and changes `strength` live while it
 * plays (a slow sine sweep 0..1 from a timer in the main loop; set_property is safe from any thread).
 *
 *   cc beautify-app.c -o beautify-app $(pkg-config --cflags --libs gstreamer-1.0)
 *   ./beautify-app                                   # webcam -> window
 *   ./beautify-app "videotestsrc num-buffers=90" fakesink
 * It prints the number of faces whenever it changes (from the element's per-frame messages).
 */
#include <gst/gst.h>
#include <math.h>

typedef struct {
  GMainLoop* loop;
  GstElement* beautify;
  int tick;
  int faces; /* last count printed */
  int status;
} App;

static gboolean sweep_strength(gpointer data) {
  App* app = data;
  double strength = 0.5 - 0.5 * cos(app->tick++ * 0.2);
  g_object_set(app->beautify, "strength", strength, NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean on_message(GstBus* bus, GstMessage* msg, gpointer data) {
  App* app = data;
  (void)bus;
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR: {
      GError* err = NULL;
      gchar* dbg = NULL;
      gst_message_parse_error(msg, &err, &dbg);
      g_printerr("error: %s\n%s\n", err->message, dbg ? dbg : "");
      g_error_free(err);
      g_free(dbg);
      app->status = 1;
      g_main_loop_quit(app->loop);
      break;
    }
    case GST_MESSAGE_EOS: g_main_loop_quit(app->loop); break;
    case GST_MESSAGE_ELEMENT: {
      const GstStructure* s = gst_message_get_structure(msg);
      int n = 0;
      if (gst_structure_has_name(s, "beautify") && gst_structure_get_int(s, "n-faces", &n) && n != app->faces) {
        app->faces = n;
        double strength = 0;
        g_object_get(app->beautify, "strength", &strength, NULL);
        g_print("faces %d, strength %.2f\n", n, strength);
      }
      break;
    }
    default: break;
  }
  return TRUE;
}

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  const char* src = argc > 1 ? argv[1] : "v4l2src";
  const char* sink = argc > 2 ? argv[2] : "autovideosink";
  gchar* desc =
      g_strdup_printf("%s ! videoconvert ! beautify name=fx post-messages=true ! videoconvert ! %s", src, sink);
  GError* err = NULL;
  GstElement* pipeline = gst_parse_launch(desc, &err);
  g_free(desc);
  if (!pipeline) {
    g_printerr("pipeline: %s\n", err->message);
    g_error_free(err);
    return 1;
  }
  App app = {g_main_loop_new(NULL, FALSE), gst_bin_get_by_name(GST_BIN(pipeline), "fx"), 0, -1, 0};
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_bus_add_watch(bus, on_message, &app);
  guint timer = g_timeout_add(50, sweep_strength, &app);
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    /* the error message (e.g. a missing model) is on the bus */
    GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    if (msg) {
      on_message(bus, msg, &app);
      gst_message_unref(msg);
    }
    app.status = 1;
  } else {
    g_main_loop_run(app.loop);
  }
  g_source_remove(timer);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_bus_remove_watch(bus);
  gst_object_unref(bus);
  gst_object_unref(app.beautify);
  gst_object_unref(pipeline);
  g_main_loop_unref(app.loop);
  return app.status;
}
