// Start-up errors of the element: every bad `model=` or `landmark-model=` fails fast with its own typed reason
// (GError domain and code from the bty::Error kind, never from message text) and a message that says what to do; a
// failed start leaves nothing half-initialised.
#include "element_test_util.h"

#include <sys/stat.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

using namespace test;

namespace {

// Starts a lone element (READY -> PAUSED) and returns the error message it posted, if any.
GstMessage* start_error(GstElement* e, GstStateChangeReturn& ret) {
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  ret = gst_element_set_state(e, GST_STATE_PAUSED);
  GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, NULL);
  gst_object_unref(bus);
  return msg;
}

// Expects the start to fail with domain/code and `text` in the message; returns the seconds it took.
double expect_start_error(GstElement* e, GQuark domain, int code, const char* text) {
  GstStateChangeReturn ret;
  const auto t0 = std::chrono::steady_clock::now();
  GstMessage* msg = start_error(e, ret);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ret, GST_STATE_CHANGE_FAILURE);
  if (!msg) {
    ADD_FAILURE() << "no error message";
    return s;
  }
  GError* err = NULL;
  gchar* dbg = NULL;
  gst_message_parse_error(msg, &err, &dbg);
  EXPECT_EQ(err->domain, domain) << err->message;
  EXPECT_EQ(err->code, code) << err->message;
  EXPECT_NE(std::string(err->message).find(text), std::string::npos) << err->message;
  g_error_free(err);
  g_free(dbg);
  gst_message_unref(msg);
  return s;
}

std::string tmp_path(const char* what) {
  return std::string(g_get_tmp_dir()) + "/beautify-test-" + what + "-" + std::to_string(getpid());
}

// The same element starts once the property is fixed.
void expect_starts_with_a_good_model(GstElement* e) {
  g_object_set(e, "model", test_model("S").c_str(), NULL);
  GstStateChangeReturn ret;
  GstMessage* msg = start_error(e, ret);
  EXPECT_NE(ret, GST_STATE_CHANGE_FAILURE);
  EXPECT_EQ(msg, nullptr);
  if (msg) gst_message_unref(msg);
}

}  // namespace

TEST(ElementErrors, CorruptModelIsNotUsable) {
  const std::string path = tmp_path("corrupt") + ".bmodel";
  {
    std::ifstream good(test_model("S"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(good)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 100u);
    for (size_t i = 64; i < bytes.size(); i += 97) bytes[i] ^= 0x5a;  // damage weights and header fields
    std::ofstream(path, std::ios::binary) << bytes;
  }
  GstElement* e = make_beautify({{"model", path}});
  expect_start_error(e, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE, "checksum mismatch");
  expect_starts_with_a_good_model(e);
  gst_object_unref(e);
  std::remove(path.c_str());
}

TEST(ElementErrors, MissingModelFileIsNotFound) {
  GstElement* e = make_beautify({{"model", "/nonexistent/beautify-x.bmodel"}});
  expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "no such model file");
  gst_object_unref(e);
}

TEST(ElementErrors, DirectoryIsNotARegularFile) {
  GstElement* e = make_beautify({{"model", g_get_tmp_dir()}});
  expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ, "not a regular file (it is a directory)");
  expect_starts_with_a_good_model(e);
  gst_object_unref(e);
}

// A FIFO with no writer: opening it for reading would block for ever; stat() says what it is first.
TEST(ElementErrors, FifoIsNotARegularFileAndDoesNotBlock) {
  const std::string path = tmp_path("fifo");
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  GstElement* e = make_beautify({{"model", path}});
  const double s = expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ, "(it is a FIFO)");
  EXPECT_LT(s, 5.0);
  gst_object_unref(e);
  std::remove(path.c_str());
}

TEST(ElementErrors, DevZeroIsNotARegularFile) {
  GstElement* e = make_beautify({{"model", "/dev/zero"}});
  const double s = expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ, "(it is a device)");
  EXPECT_LT(s, 5.0);
  gst_object_unref(e);
}

// A 3 GiB sparse file: refused by its size, without reading it (reading 3 GiB would take many seconds and GBs).
TEST(ElementErrors, HugeFileIsRefusedBeforeReading) {
  const std::string path = tmp_path("huge") + ".bmodel";
  ASSERT_EQ(truncate(path.c_str(), 0), -1);  // does not exist yet
  { std::ofstream(path, std::ios::binary) << "BTFYMDL"; }
  ASSERT_EQ(truncate(path.c_str(), off_t(3) << 30), 0);
  GstElement* e = make_beautify({{"model", path}});
  const double s = expect_start_error(e, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE, "larger than any beauty model");
  EXPECT_LT(s, 2.0) << "the file was read";
  gst_object_unref(e);
  std::remove(path.c_str());
}

TEST(ElementErrors, MissingTierModelSaysWhereItLooked) {
  g_setenv("BEAUTIFY_MODEL_DIR", "/nonexistent-model-dir", TRUE);
  GstElement* e = make_beautify({{"tier", "l"}});
  g_object_set(e, "model", NULL, NULL);
  // The installed and source-tree dirs are searched too; only when neither has beautify-l.bmodel is it an error.
  GstStateChangeReturn ret;
  GstMessage* msg = start_error(e, ret);
  if (msg) {
    GError* err = NULL;
    gst_message_parse_error(msg, &err, NULL);
    EXPECT_EQ(err->domain, GST_RESOURCE_ERROR);
    EXPECT_EQ(err->code, GST_RESOURCE_ERROR_NOT_FOUND);
    EXPECT_NE(std::string(err->message).find("/nonexistent-model-dir"), std::string::npos) << err->message;
    g_error_free(err);
    gst_message_unref(msg);
  }
  gst_object_unref(e);
  g_unsetenv("BEAUTIFY_MODEL_DIR");
}

TEST(ElementErrors, MissingLandmarkModelIsAStartError) {
  GstElement* e = make_beautify({{"landmark-model", "/nonexistent/shape_predictor.dat"}});
  expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "landmark");
  gst_object_unref(e);
}

// A landmark model that exists but is not a shape predictor is reported as unusable (corrupt), not as missing.
TEST(ElementErrors, CorruptLandmarkModelIsNotUsableNotNotFound) {
  const std::string path = tmp_path("corrupt-landmarks") + ".dat";
  std::ofstream(path, std::ios::binary) << std::string(4096, '\x5a');
  GstElement* e = make_beautify({{"landmark-model", path}});
  expect_start_error(e, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE, "corrupt");
  gst_object_unref(e);
  std::remove(path.c_str());
}

// Caps whose pixels are too squeezed for the face stage (PAR 1:20) fail in set_info with a negotiation error that
// says to scale to square pixels first, instead of failing on every frame.
TEST(ElementErrors, ExtremePixelAspectIsANegotiationErrorThatSaysWhatToDo) {
  Harnessed t(make_beautify());
  gst_harness_set_src_caps_str(t.h, (caps_string("I420", 64, 64) + ",pixel-aspect-ratio=1/20").c_str());
  GstBuffer* in = noise_frame("I420", 64, 64, 1);
  EXPECT_EQ(gst_harness_push(t.h, in), GST_FLOW_NOT_NEGOTIATED);
  GstMessage* msg = gst_bus_pop_filtered(t.bus, GST_MESSAGE_ERROR);
  ASSERT_NE(msg, nullptr) << "no error message";
  GError* err = NULL;
  gchar* dbg = NULL;
  gst_message_parse_error(msg, &err, &dbg);
  EXPECT_EQ(err->domain, GST_CORE_ERROR);
  EXPECT_EQ(err->code, GST_CORE_ERROR_NEGOTIATION);
  EXPECT_NE(std::string(err->message).find("pixels 1:20 wide"), std::string::npos) << err->message;
  EXPECT_NE(std::string(dbg ? dbg : "").find("pixel-aspect-ratio=1/1"), std::string::npos) << dbg;
  g_error_free(err);
  g_free(dbg);
  gst_message_unref(msg);
}
