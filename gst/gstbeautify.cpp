/* beautify element: caps, properties, frame mapping, metas, messages, errors. The work is in retoucher.cpp.
 *
 * Settings (properties) live under a mutex and are copied once per frame, so any thread may change them while
 * PLAYING; the state (the core: model, nets, face stage, and the stream the caps describe) is built in start() and
 * set_info(), dropped in stop(), and touched only by the streaming thread in between. */
#include "gstbeautify.h"

#include "retoucher.h"

#include <gst/video/gstvideometa.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

GST_DEBUG_CATEGORY_STATIC(beautify_debug);
#define GST_CAT_DEFAULT beautify_debug

enum {
  PROP_0,
  PROP_STRENGTH,
  PROP_BLEMISH,
  PROP_TONE,
  PROP_TEMPORAL_SMOOTHING,
  PROP_TIER,
  PROP_MODEL,
  PROP_LANDMARK_MODEL,
  PROP_MAX_FACES,
  PROP_MIN_FACE_SIZE,
  PROP_DETECT_INTERVAL,
  PROP_THREADS,
  PROP_DRAW_FACES,
  PROP_POST_MESSAGES,
  PROP_SYNCHRONOUS_DETECTION,
  PROP_DEVICE,
  PROP_PRECISION,
};

// Every default comes from the core (settings.h), so it is written down once.
namespace defaults = bty::gst::defaults;
#define DEFAULT_TIER GstBeautifyTier(defaults::tier)
#define DEFAULT_DETECTION GstBeautifyDetection(defaults::detection)

#define BEAUTIFY_FORMATS \
  "{ I420, YV12, NV12, NV21, YUY2, UYVY, YVYU, RGBA, BGRA, RGBx, BGRx, ARGB, ABGR, xRGB, xBGR, RGB, BGR, GRAY8 }"

namespace {

// The GObject enums are the core's, value for value.
static_assert(int(bty::gst::Tier::Auto) == GST_BEAUTIFY_TIER_AUTO && int(bty::gst::Tier::L) == GST_BEAUTIFY_TIER_L);
static_assert(int(bty::gst::Detection::Auto) == GST_BEAUTIFY_DETECTION_AUTO &&
              int(bty::gst::Detection::Never) == GST_BEAUTIFY_DETECTION_NEVER);
static_assert(int(bty::Device::Cpu) == GST_BEAUTIFY_DEVICE_CPU &&
              int(bty::Device::OpenCL) == GST_BEAUTIFY_DEVICE_OPENCL &&
              int(bty::Device::Auto) == GST_BEAUTIFY_DEVICE_AUTO);
static_assert(int(bty::Precision::Auto) == GST_BEAUTIFY_PRECISION_AUTO &&
              int(bty::Precision::Float32) == GST_BEAUTIFY_PRECISION_FP32 &&
              int(bty::Precision::Bf16) == GST_BEAUTIFY_PRECISION_BF16 &&
              int(bty::Precision::Int8) == GST_BEAUTIFY_PRECISION_INT8);

struct Private {
  std::mutex lock;
  bty::gst::Settings settings;  // guarded by lock

  // State, built in start() (core) and set_info() (its stream), dropped in stop(); streaming thread only.
  std::unique_ptr<bty::gst::Retoucher> core;
  bool live_known = false;  // upstream's liveness answered since the last caps
};

bool to_pixel_format(GstVideoFormat f, bty::PixelFormat& out) {
  using P = bty::PixelFormat;
  switch (f) {
    case GST_VIDEO_FORMAT_I420: out = P::I420; return true;
    case GST_VIDEO_FORMAT_YV12: out = P::YV12; return true;
    case GST_VIDEO_FORMAT_NV12: out = P::NV12; return true;
    case GST_VIDEO_FORMAT_NV21: out = P::NV21; return true;
    case GST_VIDEO_FORMAT_YUY2: out = P::YUY2; return true;
    case GST_VIDEO_FORMAT_UYVY: out = P::UYVY; return true;
    case GST_VIDEO_FORMAT_YVYU: out = P::YVYU; return true;
    case GST_VIDEO_FORMAT_RGBA: out = P::RGBA; return true;
    case GST_VIDEO_FORMAT_BGRA: out = P::BGRA; return true;
    case GST_VIDEO_FORMAT_RGBx: out = P::RGBx; return true;
    case GST_VIDEO_FORMAT_BGRx: out = P::BGRx; return true;
    case GST_VIDEO_FORMAT_ARGB: out = P::ARGB; return true;
    case GST_VIDEO_FORMAT_ABGR: out = P::ABGR; return true;
    case GST_VIDEO_FORMAT_xRGB: out = P::xRGB; return true;
    case GST_VIDEO_FORMAT_xBGR: out = P::xBGR; return true;
    case GST_VIDEO_FORMAT_RGB: out = P::RGB; return true;
    case GST_VIDEO_FORMAT_BGR: out = P::BGR; return true;
    case GST_VIDEO_FORMAT_GRAY8: out = P::GRAY8; return true;
    default: return false;
  }
}

}  // namespace

struct _GstBeautify {
  GstVideoFilter parent;
  Private* priv;  // C++ members: GObject instances are zero-filled memory, so they live in their own allocation
};

G_DEFINE_TYPE(GstBeautify, gst_beautify, GST_TYPE_VIDEO_FILTER)
GST_ELEMENT_REGISTER_DEFINE(beautify, "beautify", GST_RANK_NONE, GST_TYPE_BEAUTIFY)

GType gst_beautify_tier_get_type(void) {
  static gsize type = 0;
  static const GEnumValue values[] = {
      {GST_BEAUTIFY_TIER_AUTO,
       "The largest tier within 4 ms per face on this machine (its FMA peak, cached; "
       "not its load)",
       "auto"},
      {GST_BEAUTIFY_TIER_S, "Small: 128x160 net input, fastest", "s"},
      {GST_BEAUTIFY_TIER_M, "Medium: 160x224 net input", "m"},
      {GST_BEAUTIFY_TIER_L, "Large: 160x224 net input, twice M's width at the finer scales, best quality", "l"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstBeautifyTier", values));
  return GType(type);
}

GType gst_beautify_detection_get_type(void) {
  static gsize type = 0;
  static const GEnumValue values[] = {
      {GST_BEAUTIFY_DETECTION_AUTO,
       "Inside the frame for non-live upstream (files: faces from the first frame), "
       "in the background for live upstream (the first frame after start or a flush waits for one detection)",
       "auto"},
      {GST_BEAUTIFY_DETECTION_ALWAYS,
       "Always inside the frame's processing (deterministic; slower frames when it "
       "runs)",
       "always"},
      {GST_BEAUTIFY_DETECTION_NEVER, "Always in the background (faces appear a few frames late)", "never"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstBeautifyDetection", values));
  return GType(type);
}

GType gst_beautify_device_get_type(void) {
  static gsize type = 0;
  static const GEnumValue values[] = {
      {GST_BEAUTIFY_DEVICE_AUTO,
       "OpenCL when a GPU is present and a start-up micro-benchmark finds it faster for one face, else the CPU",
       "auto"},
      {GST_BEAUTIFY_DEVICE_CPU, "The CPU (threads= of them; several faces at once)", "cpu"},
      {GST_BEAUTIFY_DEVICE_OPENCL,
       "OpenCL on the first GPU, else any OpenCL device; all faces of a frame as one batch. A failure falls back to "
       "the CPU with a warning",
       "opencl"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstBeautifyDevice", values));
  return GType(type);
}

GType gst_beautify_precision_get_type(void) {
  static gsize type = 0;
  static const GEnumValue values[] = {
      {GST_BEAUTIFY_PRECISION_AUTO,
       "int8 for a model whose weights lie on their int8 grid where AVX512-VNNI is faster, else bf16 where it is "
       "faster "
       "than fp32 (AMX, or AVX512-BF16 at twice the FMA rate as on Zen 4), else fp32",
       "auto"},
      {GST_BEAUTIFY_PRECISION_FP32, "32-bit float arithmetic", "fp32"},
      {GST_BEAUTIFY_PRECISION_BF16,
       "bfloat16 products, fp32 sums: on AMX tiles, else AVX512-BF16 dot products (the net 1.3-2.7x faster; an error "
       "on CPUs without AVX512_BF16)",
       "bf16"},
      {GST_BEAUTIFY_PRECISION_INT8,
       "8-bit products (AVX512-VNNI) on the model's calibrated convs, bf16 or fp32 on the rest: faster than bf16; "
       "within one code value of fp32 only for weights trained onto their int8 grid, which auto takes "
       "(docs/engine.md, \"int8\"); an error on CPUs without AVX512_VNNI",
       "int8"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstBeautifyPrecision", values));
  return GType(type);
}

// Neutral settings make the element a passthrough: no mapping, no writes, buffers go through untouched.
static void gst_beautify_update_passthrough(GstBeautify* self) {
  bool passthrough;
  {
    std::lock_guard<std::mutex> lock(self->priv->lock);
    passthrough = self->priv->settings.passthrough();
  }
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), passthrough);
}

static void gst_beautify_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  GstBeautify* self = GST_BEAUTIFY(object);
  bool passthrough_may_change = false;
  {
    std::lock_guard<std::mutex> lock(self->priv->lock);
    bty::gst::Settings& s = self->priv->settings;
    switch (prop_id) {
      case PROP_STRENGTH:
        s.strength = g_value_get_double(value);
        passthrough_may_change = true;
        break;
      case PROP_BLEMISH:
        s.blemish = g_value_get_double(value);
        passthrough_may_change = true;
        break;
      case PROP_TONE:
        s.tone = g_value_get_double(value);
        passthrough_may_change = true;
        break;
      case PROP_TEMPORAL_SMOOTHING: s.temporal_smoothing = g_value_get_double(value); break;
      case PROP_TIER: s.tier = bty::gst::Tier(g_value_get_enum(value)); break;
      case PROP_MODEL: {
        const char* v = g_value_get_string(value);
        s.model = v ? v : "";
        break;
      }
      case PROP_LANDMARK_MODEL: {
        const char* v = g_value_get_string(value);
        s.landmark_model = v ? v : "";
        break;
      }
      case PROP_MAX_FACES: s.max_faces = g_value_get_int(value); break;
      case PROP_MIN_FACE_SIZE: s.min_face_size = g_value_get_int(value); break;
      case PROP_DETECT_INTERVAL: s.detect_interval = g_value_get_int(value); break;
      case PROP_THREADS: s.threads = g_value_get_int(value); break;
      case PROP_DRAW_FACES:
        s.draw_faces = g_value_get_boolean(value);
        passthrough_may_change = true;
        break;
      case PROP_POST_MESSAGES:
        s.post_messages = g_value_get_boolean(value);
        passthrough_may_change = true;
        break;
      case PROP_SYNCHRONOUS_DETECTION: s.detection = bty::gst::Detection(g_value_get_enum(value)); break;
      case PROP_DEVICE: s.device = bty::Device(g_value_get_enum(value)); break;
      case PROP_PRECISION: s.precision = bty::Precision(g_value_get_enum(value)); break;
      default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
    }
  }
  if (passthrough_may_change) gst_beautify_update_passthrough(self);
}

static void gst_beautify_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GstBeautify* self = GST_BEAUTIFY(object);
  std::lock_guard<std::mutex> lock(self->priv->lock);
  const bty::gst::Settings& s = self->priv->settings;
  switch (prop_id) {
    case PROP_STRENGTH: g_value_set_double(value, s.strength); break;
    case PROP_BLEMISH: g_value_set_double(value, s.blemish); break;
    case PROP_TONE: g_value_set_double(value, s.tone); break;
    case PROP_TEMPORAL_SMOOTHING: g_value_set_double(value, s.temporal_smoothing); break;
    case PROP_TIER: g_value_set_enum(value, int(s.tier)); break;
    case PROP_MODEL: g_value_set_string(value, s.model.empty() ? NULL : s.model.c_str()); break;
    case PROP_LANDMARK_MODEL: g_value_set_string(value, s.landmark_model.c_str()); break;
    case PROP_MAX_FACES: g_value_set_int(value, s.max_faces); break;
    case PROP_MIN_FACE_SIZE: g_value_set_int(value, s.min_face_size); break;
    case PROP_DETECT_INTERVAL: g_value_set_int(value, s.detect_interval); break;
    case PROP_THREADS: g_value_set_int(value, s.threads); break;
    case PROP_DRAW_FACES: g_value_set_boolean(value, s.draw_faces); break;
    case PROP_POST_MESSAGES: g_value_set_boolean(value, s.post_messages); break;
    case PROP_SYNCHRONOUS_DETECTION: g_value_set_enum(value, int(s.detection)); break;
    case PROP_DEVICE: g_value_set_enum(value, int(s.device)); break;
    case PROP_PRECISION: g_value_set_enum(value, int(s.precision)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

// What a start error says to do, by the part that failed and the typed kind of the failure (never by its text):
// missing → RESOURCE NOT_FOUND, unreadable → RESOURCE OPEN_READ, present but unusable (corrupt, too large,
// unsupported) → STREAM WRONG_TYPE, bad values → RESOURCE SETTINGS.
static void post_start_error(GstBeautify* self, const bty::gst::ConfigError& e, const bty::gst::StartConfig& c) {
  using P = bty::gst::ConfigError::Part;
  using K = bty::ErrorKind;
  const char* model = c.model.empty() ? "(unset)" : c.model.c_str();
  const bool landmarks = e.part == P::Landmarks;
  const char* what = landmarks ? "face landmark model" : "beautify model";
  const std::string details = landmarks ? "landmark-model=" + c.landmark_model
                                        : std::string("tier=") + bty::gst::to_string(c.tier) + " model=" + model;
  if (e.part == P::Settings || e.kind() == K::Settings) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid beautify settings: %s", e.what()), (NULL));
    return;
  }
  switch (e.kind()) {
    case K::NotFound:
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("Could not find the %s: %s", what, e.what()),
                        ("%s", details.c_str()));
      break;
    case K::NotRegularFile:
    case K::Unreadable:
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Could not read the %s: %s", what, e.what()),
                        ("%s", details.c_str()));
      break;
    default:  // TooLarge, Invalid, Unsupported, Device: a file, but not a usable one
      GST_ELEMENT_ERROR(self, STREAM, WRONG_TYPE, ("The %s is not usable: %s", what, e.what()),
                        ("%s", details.c_str()));
      break;
  }
}

// OpenCL failed and the net moved to the CPU: one warning, the stream goes on.
static void post_device_warning(GstBeautify* self) {
  const std::string w = self->priv->core->take_device_warning();
  if (!w.empty())
    GST_ELEMENT_WARNING(self, LIBRARY, FAILED, ("%s", w.c_str()),
                        ("set device=cpu to skip OpenCL, or fix the OpenCL driver (clinfo lists what the ICD loader "
                         "finds)"));
}

static gboolean gst_beautify_start(GstBaseTransform* trans) {
  GstBeautify* self = GST_BEAUTIFY(trans);
  bty::gst::StartConfig c;
  {
    std::lock_guard<std::mutex> lock(self->priv->lock);
    c = bty::gst::start_config(self->priv->settings, std::thread::hardware_concurrency());
  }
  self->priv->live_known = false;
  try {
    self->priv->core = std::make_unique<bty::gst::Retoucher>(c);
  } catch (const bty::gst::ConfigError& e) {
    self->priv->core.reset();
    post_start_error(self, e, c);
    return FALSE;
  } catch (const std::exception& e) {
    self->priv->core.reset();
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("beautify could not start: %s", e.what()),
                      ("report this as a bug with GST_DEBUG=beautify:6 output"));
    return FALSE;
  }
  post_device_warning(self);
  GST_INFO_OBJECT(self, "beauty net on %s", self->priv->core->device_description().c_str());
  const auto& m = self->priv->core->model();
  GST_INFO_OBJECT(self, "model %s (tier %s, %s), %d threads", m.path.c_str(), m.tier.c_str(), m.reason.c_str(),
                  c.threads);
  return TRUE;
}

// Upstream's liveness from a latency query: answered once the source runs (caps, first buffer). Detection
// auto follows it; until it is known, auto detects inside the frame (the non-live choice).
// last_try: the first frame; if upstream does not answer then either, it is taken as not live.
static void gst_beautify_query_liveness(GstBeautify* self, bool last_try) {
  Private* p = self->priv;
  if (p->live_known || !p->core) return;
  GstQuery* q = gst_query_new_latency();
  if (gst_pad_peer_query(GST_BASE_TRANSFORM_SINK_PAD(self), q)) {
    gboolean live = FALSE;
    gst_query_parse_latency(q, &live, NULL, NULL);
    p->live_known = true;
    const bool sync = p->core->set_upstream_live(live);
    GST_INFO_OBJECT(self, "upstream is %s: detection %s", live ? "live" : "not live",
                    sync ? "inside the frame" : "in the background");
  } else if (last_try) {
    p->live_known = true;
    p->core->set_upstream_live(false);
    GST_INFO_OBJECT(self, "upstream does not answer the latency query: taken as not live");
  }
  gst_query_unref(q);
}

static gboolean gst_beautify_stop(GstBaseTransform* trans) {
  GstBeautify* self = GST_BEAUTIFY(trans);
  self->priv->core.reset();
  return TRUE;
}

static void gst_beautify_before_transform(GstBaseTransform* trans, GstBuffer* buf) {
  // Controlled properties (strength, blemish, tone, temporal-smoothing) take their value for this buffer's stream time.
  GstClockTime ts = gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, GST_BUFFER_TIMESTAMP(buf));
  if (GST_CLOCK_TIME_IS_VALID(ts)) gst_object_sync_values(GST_OBJECT(trans), ts);
}

static gboolean gst_beautify_set_info(GstVideoFilter* filter, GstCaps*, GstVideoInfo* in_info, GstCaps*,
                                      GstVideoInfo*) {
  GstBeautify* self = GST_BEAUTIFY(filter);
  Private* p = self->priv;
  bty::gst::StreamInfo si;
  if (!to_pixel_format(GST_VIDEO_INFO_FORMAT(in_info), si.format)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("beautify cannot process %s video", gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(in_info))),
                      ("put videoconvert before beautify, or use one of its formats: " BEAUTIFY_FORMATS));
    return FALSE;
  }
  if (!p->core) {
    GST_ELEMENT_ERROR(self, CORE, STATE_CHANGE, ("beautify got caps before it was started"),
                      ("set the element to PAUSED or PLAYING before data flows"));
    return FALSE;
  }
  const GstVideoColorimetry& cm = GST_VIDEO_INFO_COLORIMETRY(in_info);
  si.matrix = (cm.matrix == GST_VIDEO_COLOR_MATRIX_BT601 || cm.matrix == GST_VIDEO_COLOR_MATRIX_FCC)
                  ? bty::YuvMatrix::BT601
                  : bty::YuvMatrix::BT709;
  si.full_range = cm.range == GST_VIDEO_COLOR_RANGE_0_255;
  si.width = GST_VIDEO_INFO_WIDTH(in_info);
  si.height = GST_VIDEO_INFO_HEIGHT(in_info);
  if (GST_VIDEO_INFO_PAR_N(in_info) > 0 && GST_VIDEO_INFO_PAR_D(in_info) > 0) {
    si.par_n = GST_VIDEO_INFO_PAR_N(in_info);
    si.par_d = GST_VIDEO_INFO_PAR_D(in_info);
  }
  if (!(si.pixel_aspect() >= bty::face::kMinPixelAspect && si.pixel_aspect() <= bty::face::kMaxPixelAspect)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("beautify cannot process pixels %d:%d wide (it takes %g to %g)", si.par_n, si.par_d,
                       double(bty::face::kMinPixelAspect), double(bty::face::kMaxPixelAspect)),
                      ("scale to square pixels before beautify: videoscale ! video/x-raw,pixel-aspect-ratio=1/1"));
    return FALSE;
  }
  if (GST_VIDEO_INFO_FPS_N(in_info) > 0 && GST_VIDEO_INFO_FPS_D(in_info) > 0)
    si.frame_rate = float(GST_VIDEO_INFO_FPS_N(in_info)) / float(GST_VIDEO_INFO_FPS_D(in_info));
  try {
    p->core->configure(si);  // new geometry: old tracks are meaningless
    p->live_known = false;
    gst_beautify_query_liveness(self, false);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS, ("beautify could not reconfigure for the new caps: %s", e.what()),
                      ("check landmark-model= (the face stage is rebuilt for a new frame rate) and free memory"));
    return FALSE;
  }
  GST_DEBUG_OBJECT(self, "configured %s %dx%d par %d:%d @ %.3f fps",
                   gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(in_info)), si.width, si.height, si.par_n, si.par_d,
                   si.frame_rate);
  return TRUE;
}

static gboolean gst_beautify_sink_event(GstBaseTransform* trans, GstEvent* event) {
  GstBeautify* self = GST_BEAUTIFY(trans);
  if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP && self->priv->core) {
    self->priv->core->reset();  // a seek or flush: the next frame need not follow the last one
  }
  return GST_BASE_TRANSFORM_CLASS(gst_beautify_parent_class)->sink_event(trans, event);
}

static void add_face_metas(GstBuffer* buf, const std::vector<bty::face::Face>& faces, int w, int h) {
  for (const auto& f : faces) {
    const int x0 = std::max(0, f.box.x), y0 = std::max(0, f.box.y);
    const int x1 = std::min(w, f.box.right()), y1 = std::min(h, f.box.bottom());
    if (x1 <= x0 || y1 <= y0) continue;
    GstVideoRegionOfInterestMeta* meta =
        gst_buffer_add_video_region_of_interest_meta(buf, "face", guint(x0), guint(y0), guint(x1 - x0), guint(y1 - y0));
    meta->id = f.id;
    gst_video_region_of_interest_meta_add_param(
        meta, gst_structure_new("face", "id", G_TYPE_INT, f.id, "alpha", G_TYPE_DOUBLE, double(f.alpha), "quality",
                                G_TYPE_DOUBLE, double(f.quality), "roll", G_TYPE_DOUBLE, double(f.roll), NULL));
  }
}

static void post_faces_message(GstBeautify* self, GstBuffer* buf, const std::vector<bty::face::Face>& faces) {
  GstBaseTransform* trans = GST_BASE_TRANSFORM(self);
  const GstClockTime pts = GST_BUFFER_PTS(buf);
  GstStructure* s = gst_structure_new(
      "beautify", "timestamp", G_TYPE_UINT64, guint64(pts), "stream-time", G_TYPE_UINT64,
      guint64(gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, pts)), "running-time", G_TYPE_UINT64,
      guint64(gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, pts)), "n-faces", G_TYPE_INT,
      int(faces.size()), "device", G_TYPE_STRING, bty::to_string(self->priv->core->frame_device()), NULL);
  GValue list = G_VALUE_INIT;
  g_value_init(&list, GST_TYPE_LIST);
  for (const auto& f : faces) {
    GstStructure* fs = gst_structure_new(
        "face", "id", G_TYPE_INT, f.id, "x", G_TYPE_INT, f.box.x, "y", G_TYPE_INT, f.box.y, "width", G_TYPE_INT,
        f.box.width, "height", G_TYPE_INT, f.box.height, "roi-x", G_TYPE_INT, f.roi.x, "roi-y", G_TYPE_INT, f.roi.y,
        "roi-width", G_TYPE_INT, f.roi.width, "roi-height", G_TYPE_INT, f.roi.height, "alpha", G_TYPE_DOUBLE,
        double(f.alpha), "quality", G_TYPE_DOUBLE, double(f.quality), NULL);
    GValue pts_arr = G_VALUE_INIT;  // landmarks: x0, y0, x1, y1, ... (68 points, dlib order)
    g_value_init(&pts_arr, GST_TYPE_ARRAY);
    for (const auto& p : f.landmarks)
      for (float c : {p.x(), p.y()}) {
        GValue v = G_VALUE_INIT;
        g_value_init(&v, G_TYPE_FLOAT);
        g_value_set_float(&v, c);
        gst_value_array_append_and_take_value(&pts_arr, &v);
      }
    gst_structure_take_value(fs, "landmarks", &pts_arr);
    GValue fv = G_VALUE_INIT;
    g_value_init(&fv, GST_TYPE_STRUCTURE);
    gst_value_set_structure(&fv, fs);
    gst_structure_free(fs);
    gst_value_list_append_and_take_value(&list, &fv);
  }
  gst_structure_take_value(s, "faces", &list);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static GstFlowReturn gst_beautify_transform_frame_ip(GstVideoFilter* filter, GstVideoFrame* frame) {
  GstBeautify* self = GST_BEAUTIFY(filter);
  Private* p = self->priv;
  if (!p->core) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("beautify got a frame before its caps"),
                      ("upstream must send caps (video/x-raw) before buffers"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  bty::gst::FrameSettings fs;
  bool post;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    fs = bty::gst::frame_settings(p->settings);
    post = p->settings.post_messages;
  }
  gst_beautify_query_liveness(self, true);  // not answered at caps time: ask again now that data flows
  uint8_t* planes[3] = {nullptr, nullptr, nullptr};
  int strides[3] = {0, 0, 0};
  for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES(frame) && i < 3; ++i) {
    planes[i] = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, i));
    strides[i] = GST_VIDEO_FRAME_PLANE_STRIDE(frame, i);
  }
  const int w = GST_VIDEO_FRAME_WIDTH(frame), h = GST_VIDEO_FRAME_HEIGHT(frame);
  std::vector<bty::face::Face> faces;
  try {
    faces = p->core->process(planes, strides, fs);
    post_device_warning(self);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("beautify failed on a frame: %s", e.what()),
                      ("%dx%d %s; set strength=0 to pass the stream through, and report this with "
                       "GST_DEBUG=beautify:6 output",
                       w, h, GST_VIDEO_INFO_NAME(&frame->info)));
    return GST_FLOW_ERROR;
  }
  GST_LOG_OBJECT(self, "%zu faces", faces.size());
  add_face_metas(frame->buffer, faces, w, h);
  if (post) post_faces_message(self, frame->buffer, faces);
  return GST_FLOW_OK;
}

static void gst_beautify_finalize(GObject* object) {
  GstBeautify* self = GST_BEAUTIFY(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_beautify_parent_class)->finalize(object);
}

static void gst_beautify_class_init(GstBeautifyClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass* filter_class = GST_VIDEO_FILTER_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(beautify_debug, "beautify", 0, "beautify face retouching element");

  gobject_class->set_property = gst_beautify_set_property;
  gobject_class->get_property = gst_beautify_get_property;
  gobject_class->finalize = gst_beautify_finalize;

  const GParamFlags rw = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const GParamFlags live = GParamFlags(rw | GST_PARAM_MUTABLE_PLAYING);
  const GParamFlags at_start = GParamFlags(rw | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_STRENGTH,
      g_param_spec_double("strength", "Strength", "How much of the retouch to apply (0 = passthrough)", 0.0, 1.0,
                          defaults::strength, GParamFlags(live | GST_PARAM_CONTROLLABLE)));
  g_object_class_install_property(
      gobject_class, PROP_BLEMISH,
      g_param_spec_double("blemish", "Blemish",
                          "How much of the blemish removal to apply (spots, acne; scaled by "
                          "strength)",
                          0.0, 1.0, defaults::blemish, GParamFlags(live | GST_PARAM_CONTROLLABLE)));
  g_object_class_install_property(
      gobject_class, PROP_TONE,
      g_param_spec_double("tone", "Tone",
                          "How much tone evening to apply (redness, blotches, under-eye; scaled by "
                          "strength). Does nothing with v1 models, which have no tone layer",
                          0.0, 1.0, defaults::tone, GParamFlags(live | GST_PARAM_CONTROLLABLE)));
  g_object_class_install_property(
      gobject_class, PROP_TEMPORAL_SMOOTHING,
      g_param_spec_double("temporal-smoothing", "Temporal smoothing",
                          "Weight of the previous frame in each face's "
                          "moving average of the net's output: steadier retouch on video, which lags a little behind "
                          "changes of expression (0 = every frame on its own)",
                          0.0, 0.95, defaults::temporal_smoothing, GParamFlags(live | GST_PARAM_CONTROLLABLE)));
  g_object_class_install_property(
      gobject_class, PROP_TIER,
      g_param_spec_enum("tier", "Tier",
                        "Net size; auto picks the largest that keeps 4 ms per face on this machine "
                        "(ignored when model is set; applies at start)",
                        GST_TYPE_BEAUTIFY_TIER, DEFAULT_TIER, at_start));
  g_object_class_install_property(
      gobject_class, PROP_MODEL,
      g_param_spec_string("model", "Model",
                          "Path of a beautify .bmodel file; overrides tier (applies at start). "
                          "Unset: beautify-<tier>.bmodel from $BEAUTIFY_MODEL_DIR, the installed data dir, or the "
                          "source tree",
                          NULL, at_start));
  g_object_class_install_property(
      gobject_class, PROP_LANDMARK_MODEL,
      g_param_spec_string("landmark-model", "Landmark model", "dlib 68-point shape predictor (applies at start)",
                          defaults::landmark_model, at_start));
  g_object_class_install_property(
      gobject_class, PROP_MAX_FACES,
      g_param_spec_int("max-faces", "Max faces", "Most faces retouched per frame", 0, 32, defaults::max_faces, live));
  g_object_class_install_property(
      gobject_class, PROP_MIN_FACE_SIZE,
      g_param_spec_int("min-face-size", "Min face size", "Smallest face width retouched, pixels", 1, 8192,
                       defaults::min_face_size, live));
  g_object_class_install_property(
      gobject_class, PROP_DETECT_INTERVAL,
      g_param_spec_int("detect-interval", "Detect interval", "Frames between face detections while tracking", 1, 1000,
                       defaults::detect_interval, live));
  g_object_class_install_property(gobject_class, PROP_THREADS,
                                  g_param_spec_int("threads", "Threads",
                                                   "Threads of the element: one face's net, or several faces at once "
                                                   "(0 = one per CPU, at most 8; applies at start)",
                                                   0, 64, defaults::threads, at_start));
  g_object_class_install_property(
      gobject_class, PROP_DEVICE,
      g_param_spec_enum("device", "Device",
                        "Where the beauty net runs: auto = OpenCL when a GPU is present and a start-up "
                        "micro-benchmark finds it faster; an OpenCL failure falls back to the CPU with a warning "
                        "(applies at start; the default is $BEAUTIFY_DEVICE when set)",
                        GST_TYPE_BEAUTIFY_DEVICE, int(bty::gst::default_device()), at_start));
  g_object_class_install_property(
      gobject_class, PROP_PRECISION,
      g_param_spec_enum("precision", "Precision",
                        "Arithmetic of the beauty net on the CPU: auto = int8 for a model whose weights lie on their "
                        "int8 grid (quantisation-aware training) where VNNI is faster, else bf16 where it is faster "
                        "than fp32 (AMX, or AVX512-BF16 dot products at twice the FMA rate), else fp32; bf16 = "
                        "bfloat16 products (AMX tiles or vdpbf16ps; a start error on CPUs without AVX512_BF16); int8 "
                        "= 8-bit products on the model's calibrated convs (AVX512-VNNI; faster; less exact unless "
                        "the weights lie on their grid; a start error without AVX512_VNNI) (applies at start)",
                        GST_TYPE_BEAUTIFY_PRECISION, int(defaults::precision), at_start));
  g_object_class_install_property(gobject_class, PROP_DRAW_FACES,
                                  g_param_spec_boolean("draw-faces", "Draw faces",
                                                       "Debug overlay: face boxes (green), ROIs (blue), landmarks "
                                                       "(red), mask outline (yellow)",
                                                       defaults::draw_faces, live));
  g_object_class_install_property(gobject_class, PROP_POST_MESSAGES,
                                  g_param_spec_boolean("post-messages", "Post messages",
                                                       "Post a 'beautify' element message per frame with the "
                                                       "faces",
                                                       defaults::post_messages, live));
  g_object_class_install_property(
      gobject_class, PROP_SYNCHRONOUS_DETECTION,
      g_param_spec_enum("synchronous-detection", "Synchronous detection",
                        "Where faces are detected: auto = inside "
                        "the frame for non-live upstream (files: every face from its first frame), in the background "
                        "for live upstream; always; never (applies at start)",
                        GST_TYPE_BEAUTIFY_DETECTION, DEFAULT_DETECTION, at_start));

  gst_element_class_set_static_metadata(
      element_class, "Face beautification", "Filter/Effect/Video",
      "Retouches faces in real time (blemishes, tone, under-eye) and leaves everything else bit-exact",
      "gst-beautify developers");
  GstCaps* caps = gst_caps_from_string(GST_VIDEO_CAPS_MAKE(BEAUTIFY_FORMATS));
  gst_element_class_add_pad_template(element_class, gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
  gst_element_class_add_pad_template(element_class, gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
  gst_caps_unref(caps);

  trans_class->transform_ip_on_passthrough = FALSE;  // passthrough: the frame is not even mapped
  trans_class->start = GST_DEBUG_FUNCPTR(gst_beautify_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_beautify_stop);
  trans_class->before_transform = GST_DEBUG_FUNCPTR(gst_beautify_before_transform);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_beautify_sink_event);
  filter_class->set_info = GST_DEBUG_FUNCPTR(gst_beautify_set_info);
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR(gst_beautify_transform_frame_ip);

  gst_type_mark_as_plugin_api(GST_TYPE_BEAUTIFY_TIER, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_BEAUTIFY_DETECTION, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_BEAUTIFY_DEVICE, GstPluginAPIFlags(0));
}

static void gst_beautify_init(GstBeautify* self) {
  self->priv = new Private();
  gst_beautify_update_passthrough(self);
}
