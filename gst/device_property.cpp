#include "device_property.h"

#include <cstdlib>
#include <cstring>

GType gst_beautify_device_get_type(void) {
  static gsize type = 0;
  static const GEnumValue values[] = {
      {GST_BEAUTIFY_DEVICE_AUTO, "OpenCL when a GPU is present and a start-up micro-benchmark finds it faster", "auto"},
      {GST_BEAUTIFY_DEVICE_CPU, "The CPU", "cpu"},
      {GST_BEAUTIFY_DEVICE_OPENCL, "OpenCL (first GPU, else any OpenCL device); falls back to the CPU with a warning",
       "opencl"},
      {0, NULL, NULL},
  };
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstBeautifyDevice", values));
  return type;
}

namespace bty::gst {

bty::Device to_engine_device(GstBeautifyDevice d) {
  switch (d) {
    case GST_BEAUTIFY_DEVICE_CPU: return bty::Device::Cpu;
    case GST_BEAUTIFY_DEVICE_OPENCL: return bty::Device::OpenCL;
    default: return bty::Device::Auto;
  }
}

GstBeautifyDevice default_device() {
  const char* e = std::getenv("BEAUTIFY_DEVICE");
  if (e && std::strcmp(e, "cpu") == 0) return GST_BEAUTIFY_DEVICE_CPU;
  if (e && std::strcmp(e, "opencl") == 0) return GST_BEAUTIFY_DEVICE_OPENCL;
  return GST_BEAUTIFY_DEVICE_AUTO;
}

}  // namespace bty::gst
