#include "element_test_util.h"

#include <cstring>
#include <random>

namespace test {

namespace {
// Every element test binary starts GStreamer once, before its first test.
class GstEnv : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(NULL, NULL); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new GstEnv);
}  // namespace

std::string data_path(const char* name) { return std::string(FACE_TEST_DATA) + "/" + name; }
std::string test_model(const char* tier) { return std::string(TEST_MODEL_DIR) + "/test-" + tier + ".bmodel"; }

std::string caps_string(const char* format, int w, int h, int fps) {
  return "video/x-raw,format=" + std::string(format) + ",width=" + std::to_string(w) + ",height=" + std::to_string(h) +
         ",framerate=" + std::to_string(fps) + "/1";
}

namespace {

// stretch: scaled to the size whatever its aspect ratio (otherwise the picture keeps it, with borders).
GstBuffer* decode(const std::string& path, const std::string& caps, bool stretch = false) {
  gchar* loc = g_strescape(path.c_str(), NULL);
  std::string desc = "filesrc location=\"" + std::string(loc) + "\" ! decodebin ! videoconvert ! videoscale" +
                     (stretch ? " add-borders=false" : "") + " ! " + caps +
                     ",pixel-aspect-ratio=1/1 ! appsink name=sink sync=false";
  g_free(loc);
  GError* err = NULL;
  GstElement* pipe = gst_parse_launch(desc.c_str(), &err);
  if (!pipe) {
    ADD_FAILURE() << "decode pipeline: " << (err ? err->message : "?");
    g_clear_error(&err);
    return nullptr;
  }
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
  gst_element_set_state(pipe, GST_STATE_PLAYING);
  GstSample* sample = NULL;
  g_signal_emit_by_name(sink, "pull-preroll", &sample);
  GstBuffer* buf = NULL;
  if (sample) {
    buf = gst_buffer_copy_deep(gst_sample_get_buffer(sample));
    gst_sample_unref(sample);
  } else {
    ADD_FAILURE() << "could not decode " << path;
  }
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipe);
  return buf;
}

int plane_rows(const GstVideoInfo& info, int p) {
  const GstVideoFormatInfo* fi = info.finfo;
  for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS(fi); ++c)
    if (GST_VIDEO_FORMAT_INFO_PLANE(fi, c) == guint(p)) return GST_VIDEO_INFO_COMP_HEIGHT(&info, c);
  return 0;
}

// Same pixels, every plane's rows `pad` bytes longer (filled with 0xA5), described by a GstVideoMeta.
GstBuffer* repad(GstBuffer* in, const GstVideoInfo& info, int pad) {
  gsize offset[GST_VIDEO_MAX_PLANES] = {0};
  gint stride[GST_VIDEO_MAX_PLANES] = {0};
  gsize size = 0;
  const int n = GST_VIDEO_INFO_N_PLANES(&info);
  for (int p = 0; p < n; ++p) {
    stride[p] = GST_VIDEO_INFO_PLANE_STRIDE(&info, p) + pad;
    offset[p] = size;
    size += gsize(stride[p]) * plane_rows(info, p);
  }
  GstBuffer* out = gst_buffer_new_allocate(NULL, size, NULL);
  GstMapInfo src, dst;
  gst_buffer_map(in, &src, GST_MAP_READ);
  gst_buffer_map(out, &dst, GST_MAP_WRITE);
  memset(dst.data, 0xA5, size);
  for (int p = 0; p < n; ++p)
    for (int y = 0; y < plane_rows(info, p); ++y)
      memcpy(dst.data + offset[p] + gsize(y) * stride[p],
             src.data + GST_VIDEO_INFO_PLANE_OFFSET(&info, p) + gsize(y) * GST_VIDEO_INFO_PLANE_STRIDE(&info, p),
             GST_VIDEO_INFO_PLANE_STRIDE(&info, p));
  gst_buffer_unmap(out, &dst);
  gst_buffer_unmap(in, &src);
  gst_buffer_add_video_meta_full(out, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT(&info),
                                 GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info), n, offset, stride);
  return out;
}

}  // namespace

std::string still_caps(const char* format, int w, int h) {
  return "video/x-raw,format=" + std::string(format) + ",width=" + std::to_string(w) + ",height=" + std::to_string(h);
}

GstBuffer* load_frame(const std::string& path, const char* format, int w, int h, int pad) {
  GstBuffer* buf = decode(path, still_caps(format, w, h));
  if (!buf || pad <= 0) return buf;
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), w, h);
  GstBuffer* padded = repad(buf, info, pad);
  gst_buffer_unref(buf);
  return padded;
}

GstBuffer* load_stretched(const std::string& path, const char* format, int w, int h) {
  return decode(path, still_caps(format, w, h), true);
}

GstBuffer* noise_frame(const char* format, int w, int h, unsigned seed) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), w, h);
  GstBuffer* buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&info), NULL);
  GstMapInfo m;
  gst_buffer_map(buf, &m, GST_MAP_WRITE);
  std::mt19937 rng(seed);
  for (gsize i = 0; i < m.size; ++i) m.data[i] = uint8_t(rng());
  gst_buffer_unmap(buf, &m);
  return buf;
}

namespace {

// Copies every component of `src` into `dst` with its top-left corner at luma px (x0, y0), subsampled components
// at x0, y0 rounded down; the source must fit.
void paste(GstVideoFrame& dst, const GstVideoFrame& src, int x0, int y0) {
  const GstVideoFormatInfo* fi = src.info.finfo;
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&src); ++c) {
    const int ps = GST_VIDEO_FRAME_COMP_PSTRIDE(&src, c);
    const int cx = x0 >> GST_VIDEO_FORMAT_INFO_W_SUB(fi, c), cy = y0 >> GST_VIDEO_FORMAT_INFO_H_SUB(fi, c);
    const auto* s = static_cast<const uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(&src, c));
    auto* d = static_cast<uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(&dst, c));
    for (int y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT(&src, c); ++y)
      for (int x = 0; x < GST_VIDEO_FRAME_COMP_WIDTH(&src, c); ++x)
        d[(cy + y) * GST_VIDEO_FRAME_COMP_STRIDE(&dst, c) + (cx + x) * ps] =
            s[y * GST_VIDEO_FRAME_COMP_STRIDE(&src, c) + x * ps];
  }
}

// Pastes `pieces` (each pw×ph, format of `info`) at `at` (luma px) into a new frame of `info` filled with `fill`.
GstBuffer* compose(const GstVideoInfo& info, uint8_t fill, const std::vector<GstBuffer*>& pieces, int pw, int ph,
                   const std::vector<std::pair<int, int>>& at) {
  GstBuffer* out = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&info), NULL);
  gst_buffer_memset(out, 0, fill, GST_VIDEO_INFO_SIZE(&info));
  GstVideoInfo pinfo;
  gst_video_info_set_format(&pinfo, GST_VIDEO_INFO_FORMAT(&info), pw, ph);
  GstVideoFrame dst, src;
  gst_video_frame_map(&dst, &info, out, GST_MAP_WRITE);
  for (size_t k = 0; k < at.size(); ++k) {
    gst_video_frame_map(&src, &pinfo, pieces[k], GST_MAP_READ);
    paste(dst, src, at[k].first, at[k].second);
    gst_video_frame_unmap(&src);
  }
  gst_video_frame_unmap(&dst);
  return out;
}

}  // namespace

GstBuffer* load_pair(const std::string& left, const std::string& right, const char* format, int w, int h) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), w, h);
  std::vector<GstBuffer*> halves = {decode(left, still_caps(format, w / 2, h)),
                                    decode(right, still_caps(format, w / 2, h))};
  GstBuffer* out = nullptr;
  if (halves[0] && halves[1]) out = compose(info, 0, halves, w / 2, h, {{0, 0}, {w - w / 2, 0}});
  for (GstBuffer* b : halves)
    if (b) gst_buffer_unref(b);
  return out;
}

GstBuffer* load_tiles(const std::string& path, const char* format, int w, int h, int nx, int ny, int tile_w,
                      int tile_h) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), w, h);
  GstBuffer* tile = decode(path, still_caps(format, tile_w, tile_h));
  if (!tile) return nullptr;
  std::vector<std::pair<int, int>> at;
  for (int ty = 0; ty < ny; ++ty)
    for (int tx = 0; tx < nx; ++tx)
      at.emplace_back(((2 * tx + 1) * w / (2 * nx) - tile_w / 2) & ~1, ((2 * ty + 1) * h / (2 * ny) - tile_h / 2) & ~1);
  GstBuffer* out = compose(info, 128, std::vector<GstBuffer*>(at.size(), tile), tile_w, tile_h, at);
  gst_buffer_unref(tile);
  return out;
}

Diff compare(const char* format, int w, int h, GstBuffer* a, GstBuffer* b, const std::vector<Box>& exclude) {
  Diff d;
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), w, h);
  GstVideoFrame fa, fb;
  if (!gst_video_frame_map(&fa, &info, a, GST_MAP_READ)) {
    ADD_FAILURE() << "map a";
    return d;
  }
  if (!gst_video_frame_map(&fb, &info, b, GST_MAP_READ)) {
    gst_video_frame_unmap(&fa);
    ADD_FAILURE() << "map b";
    return d;
  }
  const GstVideoFormatInfo* fi = info.finfo;
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&fa); ++c) {
    const bool alpha = GST_VIDEO_FORMAT_INFO_HAS_ALPHA(fi) && c == GST_VIDEO_COMP_A;
    const int ws = GST_VIDEO_FORMAT_INFO_W_SUB(fi, c), hs = GST_VIDEO_FORMAT_INFO_H_SUB(fi, c);
    const uint8_t* pa = static_cast<const uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(&fa, c));
    const uint8_t* pb = static_cast<const uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(&fb, c));
    const int sa = GST_VIDEO_FRAME_COMP_STRIDE(&fa, c), sb = GST_VIDEO_FRAME_COMP_STRIDE(&fb, c);
    const int ps = GST_VIDEO_FRAME_COMP_PSTRIDE(&fa, c);
    for (int y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT(&fa, c); ++y)
      for (int x = 0; x < GST_VIDEO_FRAME_COMP_WIDTH(&fa, c); ++x) {
        bool in = false;
        if (!alpha)
          for (const Box& r : exclude) {
            const int lx0 = x << ws, lx1 = (x + 1) << ws, ly0 = y << hs, ly1 = (y + 1) << hs;
            if (lx1 > r.x && lx0 < r.x + r.w && ly1 > r.y && ly0 < r.y + r.h) in = true;
          }
        if (pa[y * sa + x * ps] != pb[y * sb + x * ps]) (in ? d.inside : d.outside)++;
      }
  }
  gst_video_frame_unmap(&fa);
  gst_video_frame_unmap(&fb);
  return d;
}

bool same_bytes(GstBuffer* a, GstBuffer* b) {
  GstMapInfo ma, mb;
  gst_buffer_map(a, &ma, GST_MAP_READ);
  gst_buffer_map(b, &mb, GST_MAP_READ);
  const bool same = ma.size == mb.size && memcmp(ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap(a, &ma);
  gst_buffer_unmap(b, &mb);
  return same;
}

FrameFaces pop_faces(GstBus* bus) {
  FrameFaces out;
  while (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) {
    const GstStructure* s = gst_message_get_structure(msg);
    if (s && gst_structure_has_name(s, "beautify")) {
      out = FrameFaces();
      out.ok = true;
      const GValue* list = gst_structure_get_value(s, "faces");
      int n = 0;
      gst_structure_get_int(s, "n-faces", &n);
      if (const char* d = gst_structure_get_string(s, "device")) out.device = d;
      EXPECT_TRUE(list && GST_VALUE_HOLDS_LIST(list));
      EXPECT_EQ(guint(n), list ? gst_value_list_get_size(list) : 0u);
      for (guint i = 0; list && i < gst_value_list_get_size(list); ++i) {
        const GstStructure* f = gst_value_get_structure(gst_value_list_get_value(list, i));
        Box roi{}, box{};
        int id = 0;
        double alpha = -1;
        gst_structure_get_double(f, "alpha", &alpha);
        gst_structure_get(f, "roi-x", G_TYPE_INT, &roi.x, "roi-y", G_TYPE_INT, &roi.y, "roi-width", G_TYPE_INT, &roi.w,
                          "roi-height", G_TYPE_INT, &roi.h, "x", G_TYPE_INT, &box.x, "y", G_TYPE_INT, &box.y, "width",
                          G_TYPE_INT, &box.w, "height", G_TYPE_INT, &box.h, "id", G_TYPE_INT, &id, NULL);
        const GValue* lm = gst_structure_get_value(f, "landmarks");
        EXPECT_TRUE(lm && GST_VALUE_HOLDS_ARRAY(lm) && gst_value_array_get_size(lm) == 136);
        out.rois.push_back(roi);
        out.boxes.push_back(box);
        out.ids.push_back(id);
        out.alphas.push_back(alpha);
      }
    }
    gst_message_unref(msg);
  }
  return out;
}

GstBuffer* run_frames(Harnessed& t, GstBuffer* in, int frames, FrameFaces& faces) {
  GstBuffer* out = nullptr;
  for (int i = 0; i < frames; ++i) {
    if (out) gst_buffer_unref(out);
    GST_BUFFER_PTS(in) = GstClockTime(i) * GST_SECOND / 30;
    out = t.push_copy(in);
    faces = pop_faces(t.bus);
  }
  return out;
}

GstElement* make_beautify(const std::vector<std::pair<std::string, std::string>>& extra) {
  GstElement* e = gst_element_factory_make("beautify", NULL);
  if (!e) {
    ADD_FAILURE() << "no beautify element (GST_PLUGIN_PATH?)";
    return nullptr;
  }
  gst_object_ref_sink(e);
  g_object_set(e, "model", test_model("M").c_str(), "post-messages", TRUE, "strength", 1.0, "min-face-size", 32,
               "threads", 1, NULL);
  gst_util_set_object_arg(G_OBJECT(e), "synchronous-detection", "always");
  for (const auto& kv : extra) gst_util_set_object_arg(G_OBJECT(e), kv.first.c_str(), kv.second.c_str());
  return e;
}

Harnessed::Harnessed(GstElement* e) : element(e) {
  bus = gst_bus_new();
  gst_element_set_bus(element, bus);
  h = gst_harness_new_with_element(element, "sink", "src");
}

Harnessed::~Harnessed() {
  gst_harness_teardown(h);
  gst_element_set_bus(element, NULL);
  gst_object_unref(bus);
  gst_object_unref(element);
}

GstBuffer* Harnessed::push_copy(GstBuffer* in) {
  GstBuffer* copy = gst_buffer_copy_deep(in);
  GST_BUFFER_PTS(copy) = GST_BUFFER_PTS(in);
  EXPECT_EQ(gst_harness_push(h, copy), GST_FLOW_OK);
  return gst_harness_pull(h);
}

}  // namespace test
