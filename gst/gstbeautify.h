/* beautify: real-time face retouching for raw video, in place (GstVideoFilter). A thin GObject shell over
 * bty::gst::Retoucher (retoucher.h); no C++ exception crosses into GStreamer. */
#pragma once

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_BEAUTIFY (gst_beautify_get_type())
G_DECLARE_FINAL_TYPE(GstBeautify, gst_beautify, GST, BEAUTIFY, GstVideoFilter)

#define GST_TYPE_BEAUTIFY_TIER (gst_beautify_tier_get_type())
GType gst_beautify_tier_get_type(void);

typedef enum {
  GST_BEAUTIFY_TIER_AUTO,
  GST_BEAUTIFY_TIER_S,
  GST_BEAUTIFY_TIER_M,
  GST_BEAUTIFY_TIER_L,
} GstBeautifyTier;

#define GST_TYPE_BEAUTIFY_DETECTION (gst_beautify_detection_get_type())
GType gst_beautify_detection_get_type(void);

typedef enum {
  GST_BEAUTIFY_DETECTION_AUTO,
  GST_BEAUTIFY_DETECTION_ALWAYS,
  GST_BEAUTIFY_DETECTION_NEVER,
} GstBeautifyDetection;

#define GST_TYPE_BEAUTIFY_DEVICE (gst_beautify_device_get_type())
GType gst_beautify_device_get_type(void);

typedef enum {
  GST_BEAUTIFY_DEVICE_CPU,
  GST_BEAUTIFY_DEVICE_OPENCL,
  GST_BEAUTIFY_DEVICE_AUTO,
} GstBeautifyDevice;

#define GST_TYPE_BEAUTIFY_PRECISION (gst_beautify_precision_get_type())
GType gst_beautify_precision_get_type(void);

typedef enum {
  GST_BEAUTIFY_PRECISION_AUTO,
  GST_BEAUTIFY_PRECISION_FP32,
  GST_BEAUTIFY_PRECISION_BF16,
  GST_BEAUTIFY_PRECISION_INT8,
} GstBeautifyPrecision;

GST_ELEMENT_REGISTER_DECLARE(beautify);

G_END_DECLS
