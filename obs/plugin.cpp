/* obs-beautify: the OBS module. One filter, "Beautify" (beautify_filter.cpp). */
#include "beautify_filter.h"

#include <obs-module.h>

OBS_DECLARE_MODULE()
OBS_MODULE_USE_DEFAULT_LOCALE("obs-beautify", "en-US")

MODULE_EXPORT const char* obs_module_description(void) {
  return "Beautify: real-time face retouching (the gst-beautify core) as an async video filter";
}

bool obs_module_load(void) {
  bty::obs::register_beautify_filter();
  return true;
}
