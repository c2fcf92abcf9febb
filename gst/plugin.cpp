/* The beautify plugin: one element, beautify (gstbeautify.cpp). Package name, origin and release date come from
 * the build (gst/meson.build, meson options package-name and package-origin). */
#include "gstbeautify.h"

static gboolean plugin_init(GstPlugin* plugin) { return GST_ELEMENT_REGISTER(beautify, plugin); }

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, beautify,
                  "Real-time face beautification: retouches skin in faces, leaves everything else bit-exact",
                  plugin_init, BEAUTIFY_VERSION, "LGPL", GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
