// Helpers of the element tests: test images decoded into any format/size/stride, frame comparison outside rectangles,
// an element + harness with a bus, the faces of the element's per-frame message.
#pragma once

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace test {

struct Box {
  int x, y, w, h;
};

// Face entries of the newest 'beautify' element message on `bus` (drains the bus); ok=false if there was none.
struct FrameFaces {
  bool ok = false;
  std::vector<Box> rois;
  std::vector<Box> boxes;
  std::vector<int> ids;
  std::vector<double> alphas;
  std::string device;  // where the frame's nets ran: "cpu" or "opencl"
};
FrameFaces pop_faces(GstBus* bus);

// The picture at `path` (any format GStreamer decodes) as one buffer of `format` w×h, rows padded by `pad` extra
// bytes per plane through a GstVideoMeta when pad > 0. Returns nullptr on failure.
GstBuffer* load_frame(const std::string& path, const char* format, int w, int h, int pad = 0);
// The picture scaled to w×h whatever its aspect ratio (for streams with non-square pixels).
GstBuffer* load_stretched(const std::string& path, const char* format, int w, int h);
// `nx`×`ny` copies of the picture, each scaled to tile_w×tile_h (even), centred in the cells of a w×h mid-grey frame.
GstBuffer* load_tiles(const std::string& path, const char* format, int w, int h, int nx, int ny, int tile_w,
                      int tile_h);
// A buffer with the same layout filled with seeded noise (no faces).
GstBuffer* noise_frame(const char* format, int w, int h, unsigned seed);
// Two pictures side by side (each w/2 × h) in one frame.
GstBuffer* load_pair(const std::string& left, const std::string& right, const char* format, int w, int h);

std::string caps_string(const char* format, int w, int h, int fps = 30);

// Compares two frames of `format` w×h component by component (honouring their video metas). Components of pixels
// whose luma position lies in one of `exclude` (chroma: whose 2×2 block touches one) are skipped; alpha is always
// compared. Returns the number of differing bytes outside (and, in `inside`, inside) the excluded rectangles.
struct Diff {
  long outside = 0, inside = 0;
};
Diff compare(const char* format, int w, int h, GstBuffer* a, GstBuffer* b, const std::vector<Box>& exclude);
// Whole-buffer byte equality (padding included).
bool same_bytes(GstBuffer* a, GstBuffer* b);

// A beautify element with the test model, synchronous detection, messages on; `extra` are "name=value" pairs.
GstElement* make_beautify(const std::vector<std::pair<std::string, std::string>>& extra = {});
// Harness around `element` with a bus; the harness is PLAYING.
struct Harnessed {
  GstHarness* h = nullptr;
  GstBus* bus = nullptr;
  GstElement* element = nullptr;
  explicit Harnessed(GstElement* e);
  ~Harnessed();
  // Pushes a copy of `in` (ownership stays with the caller) and returns the output buffer.
  GstBuffer* push_copy(GstBuffer* in);
};

// Pushes `frames` copies of `in` (PTS at 30 fps); returns the last output and the faces of its message.
GstBuffer* run_frames(Harnessed& t, GstBuffer* in, int frames, FrameFaces& faces);

std::string data_path(const char* name);   // tests/face/data/<name>
std::string test_model(const char* tier);  // the random-weight test model of a tier

}  // namespace test
