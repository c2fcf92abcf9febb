// The element's `device` property (auto, cpu, opencl): its enum type and its default, which $BEAUTIFY_DEVICE may
// override (run a pipeline, or the element tests, on another device without editing it).
#pragma once
#include <glib-object.h>

#include <beautify/engine.h>

G_BEGIN_DECLS
typedef enum {
  GST_BEAUTIFY_DEVICE_AUTO = 0,
  GST_BEAUTIFY_DEVICE_CPU = 1,
  GST_BEAUTIFY_DEVICE_OPENCL = 2,
} GstBeautifyDevice;
GType gst_beautify_device_get_type(void);
#define GST_TYPE_BEAUTIFY_DEVICE (gst_beautify_device_get_type())
G_END_DECLS

namespace bty::gst {
bty::Device to_engine_device(GstBeautifyDevice d);
// $BEAUTIFY_DEVICE (auto, cpu or opencl) if set to one of those, else auto.
GstBeautifyDevice default_device();
}  // namespace bty::gst
