/* The "Beautify" OBS filter: an async video filter on a source's frames (webcam, media, capture card) that runs the
 * beautify element's core on each frame in place. Properties map one to one onto the element's (same names as the
 * GStreamer properties, same defaults from gst/retoucher.h). Each filter instance has its own core, so several
 * sources can each carry one with their own settings. */
#include "beautify_filter.h"

#include "obs_frame.h"
#include "retouch_worker.h"

#include <obs-module.h>

#include <algorithm>
#include <set>
#include <string>
#include <thread>

namespace bty::obs {
namespace {

namespace d = gst::defaults;

struct Filter {
  obs_source_t* source;
  RetouchWorker worker;
  std::set<int> warned_formats;  // video thread: each unsupported format is logged once

  explicit Filter(obs_source_t* s)
      : source(s), worker([s](RetouchWorker::Level level, const std::string& msg) {
          const int l = level == RetouchWorker::Error     ? LOG_ERROR
                        : level == RetouchWorker::Warning ? LOG_WARNING
                                                          : LOG_INFO;
          blog(l, "[beautify] '%s': %s", obs_source_get_name(s), msg.c_str());
        }) {}
};

const char* get_name(void*) { return obs_module_text("Beautify"); }

Settings read(obs_data_t* data) {
  Settings s;
  const std::string tier = obs_data_get_string(data, "tier");
  s.start.tier = tier == "s" ? gst::Tier::S : tier == "m" ? gst::Tier::M : tier == "l" ? gst::Tier::L : gst::Tier::Auto;
  s.start.model = obs_data_get_string(data, "model");
  s.start.landmark_model = obs_data_get_string(data, "landmark-model");
  const int threads = int(obs_data_get_int(data, "threads"));
  s.start.threads = threads > 0 ? threads : int(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  // OBS sources are live: detection runs off the render thread (the first frame waits for one) unless asked inline.
  s.start.detection = obs_data_get_bool(data, "synchronous-detection") ? gst::Detection::Always : gst::Detection::Auto;
  s.start.max_faces = s.frame.max_faces = int(obs_data_get_int(data, "max-faces"));
  s.start.min_face_size = s.frame.min_face_size = int(obs_data_get_int(data, "min-face-size"));
  s.start.detect_interval = s.frame.detect_interval = int(obs_data_get_int(data, "detect-interval"));
  s.frame.strength = float(obs_data_get_double(data, "strength"));
  s.frame.blemish = float(obs_data_get_double(data, "blemish"));
  s.frame.tone = float(obs_data_get_double(data, "tone"));
  s.frame.temporal_smoothing = float(obs_data_get_double(data, "temporal-smoothing"));
  s.frame.draw_faces = obs_data_get_bool(data, "draw-faces");
  return s;
}

void update(void* data, obs_data_t* settings) { static_cast<Filter*>(data)->worker.set(read(settings)); }

void* create(obs_data_t* settings, obs_source_t* source) {
  auto* f = new Filter(source);
  update(f, settings);
  return f;
}

void destroy(void* data) { delete static_cast<Filter*>(data); }

void get_defaults(obs_data_t* s) {
  obs_data_set_default_double(s, "strength", d::strength);
  obs_data_set_default_double(s, "blemish", d::blemish);
  obs_data_set_default_double(s, "tone", d::tone);
  obs_data_set_default_double(s, "temporal-smoothing", d::temporal_smoothing);
  obs_data_set_default_string(s, "tier", gst::to_string(d::tier));
  obs_data_set_default_string(s, "model", "");
  obs_data_set_default_string(s, "landmark-model", d::landmark_model);
  obs_data_set_default_int(s, "max-faces", d::max_faces);
  obs_data_set_default_int(s, "min-face-size", d::min_face_size);
  obs_data_set_default_int(s, "detect-interval", d::detect_interval);
  obs_data_set_default_int(s, "threads", 0);
  obs_data_set_default_bool(s, "draw-faces", d::draw_faces);
  obs_data_set_default_bool(s, "synchronous-detection", d::detection == gst::Detection::Always);
}

obs_properties_t* get_properties(void* data) {
  obs_properties_t* p = obs_properties_create();
  auto t = [](const char* k) { return obs_module_text(k); };
  obs_properties_add_float_slider(p, "strength", t("Strength"), 0.0, 1.0, 0.01);
  obs_properties_add_float_slider(p, "blemish", t("Blemish"), 0.0, 1.0, 0.01);
  obs_properties_add_float_slider(p, "tone", t("Tone"), 0.0, 1.0, 0.01);
  obs_properties_add_float_slider(p, "temporal-smoothing", t("TemporalSmoothing"), 0.0, 0.95, 0.05);
  obs_property_t* tier = obs_properties_add_list(p, "tier", t("Tier"), OBS_COMBO_TYPE_LIST, OBS_COMBO_FORMAT_STRING);
  for (const char* k : {"auto", "s", "m", "l"})
    obs_property_list_add_string(tier, t((std::string("Tier.") + k).c_str()), k);
  obs_properties_add_int(p, "max-faces", t("MaxFaces"), 0, 32, 1);
  obs_properties_add_int(p, "min-face-size", t("MinFaceSize"), 1, 8192, 1);
  obs_properties_add_int(p, "detect-interval", t("DetectInterval"), 1, 1000, 1);
  obs_properties_add_int(p, "threads", t("Threads"), 0, 64, 1);
  obs_properties_add_bool(p, "draw-faces", t("DrawFaces"));
  obs_properties_add_bool(p, "synchronous-detection", t("SynchronousDetection"));
  obs_properties_add_path(p, "model", t("Model"), OBS_PATH_FILE, "beautify models (*.bmodel)", nullptr);
  obs_properties_add_path(p, "landmark-model", t("LandmarkModel"), OBS_PATH_FILE, "dlib shape predictor (*.dat)",
                          nullptr);
  if (data) {  // where the filter stands: the model it runs, or why it does not
    const std::string status = static_cast<Filter*>(data)->worker.status();
    const std::string text = std::string(t("Status")) + ": " + status;
    obs_property_t* info = obs_properties_add_text(p, "status", text.c_str(), OBS_TEXT_INFO);
    obs_property_text_set_info_type(info, status.rfind("error", 0) == 0 ? OBS_TEXT_INFO_ERROR : OBS_TEXT_INFO_NORMAL);
  }
  return p;
}

obs_source_frame* filter_video(void* data, obs_source_frame* frame) {
  auto* f = static_cast<Filter*>(data);
  blend::Frame bf;
  const char* why = nullptr;
  if (!to_blend_frame(*frame, bf, why)) {
    if (f->warned_formats.insert(int(frame->format) * 2 + frame->flip).second)
      blog(LOG_WARNING, "[beautify] '%s': %s (frame format %s)", obs_source_get_name(f->source), why,
           get_video_format_name(frame->format));
    return frame;
  }
  obs_video_info ovi;
  const float rate = obs_get_video_info(&ovi) && ovi.fps_den ? float(ovi.fps_num) / float(ovi.fps_den) : 30.f;
  f->worker.process(bf, frame->timestamp, rate);
  return frame;  // same frame, same timestamp: OBS's timing is untouched
}

}  // namespace

void register_beautify_filter() {
  obs_source_info info = {};
  info.id = "beautify_filter";
  info.type = OBS_SOURCE_TYPE_FILTER;
  info.output_flags = OBS_SOURCE_VIDEO | OBS_SOURCE_ASYNC;
  info.get_name = get_name;
  info.create = create;
  info.destroy = destroy;
  info.update = update;
  info.get_defaults = get_defaults;
  info.get_properties = get_properties;
  info.filter_video = filter_video;
  obs_register_source(&info);
}

}  // namespace bty::obs
