#include "settings.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace bty::gst {

const char* to_string(Tier t) {
  switch (t) {
    case Tier::S: return "s";
    case Tier::M: return "m";
    case Tier::L: return "l";
    default: return "auto";
  }
}

Device default_device() {
  const char* e = std::getenv("BEAUTIFY_DEVICE");
  if (e)
    for (Device d : {Device::Auto, Device::Cpu, Device::OpenCL})
      if (std::strcmp(e, to_string(d)) == 0) return d;
  return defaults::device;
}

bool device_start_waits() {
  const char* e = std::getenv("BEAUTIFY_DEVICE_START");
  if (e && std::strcmp(e, "wait") == 0) return true;
  if (e && std::strcmp(e, "background") == 0) return false;
  return defaults::device_start_waits;
}

StartConfig start_config(const Settings& s, unsigned hardware_threads) {
  StartConfig c;
  c.device_start_waits = device_start_waits();
  c.model = s.model;
  c.tier = s.tier;
  c.landmark_model = s.landmark_model;
  c.threads = s.threads > 0 ? s.threads : int(std::clamp(hardware_threads, 1u, unsigned(defaults::max_auto_threads)));
  c.detection = s.detection;
  c.device = s.device;
  c.precision = s.precision;
  c.max_faces = s.max_faces;
  c.min_face_size = s.min_face_size;
  c.detect_interval = s.detect_interval;
  return c;
}

FrameSettings frame_settings(const Settings& s) {
  FrameSettings f;
  f.strength = float(s.strength);
  f.blemish = float(s.blemish);
  f.tone = float(s.tone);
  f.temporal_smoothing = float(s.temporal_smoothing);
  f.max_faces = s.max_faces;
  f.min_face_size = s.min_face_size;
  f.detect_interval = s.detect_interval;
  f.draw_faces = s.draw_faces;
  return f;
}

}  // namespace bty::gst
