/* The beautify plugin: one element, beautify (gstbeautify.cpp). */
#include "gstbeautify.h"

static gboolean plugin_init(GstPlugin* plugin) { return GST_ELEMENT_REGISTER(beautify, plugin); }

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, beautify,
                  "Real-time face beautification: retouches skin in faces, leaves everything else bit-exact",
                  plugin_init, BEAUTIFY_VERSION, "LGPL", PACKAGE, "https://github.com/gst-beautify")
