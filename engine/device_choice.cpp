// Device::Auto: OpenCL only where a GPU exists and it is measured faster than the CPU for one face of this model.
#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "model.h"
#ifdef BTY_HAVE_OPENCL
#include "opencl/cl_runtime.h"
#endif

namespace bty {

bool opencl_available(bool gpu_only, std::string* why) {
#ifdef BTY_HAVE_OPENCL
  // No exception on this path: it runs in every default pipeline (device=auto), usually to find no GPU, and in a
  // process where GStreamer's libunwind took the _Unwind_* symbols (Python with gi, e.g.) unwinding through this
  // code aborted (tests/gst/bench_pictures.py did).
  const std::optional<cl::DeviceInfo> d = cl::find_device(gpu_only, why);
  if (d && why) *why = d->describe();
  return d.has_value();
#else
  (void)gpu_only;
  if (why) *why = "this build of the engine has no OpenCL executor";
  return false;
#endif
}

namespace {
// Fastest of 5 timed runs after 2 warm-ups, including the input upload (set_input) as a frame would.
double time_face_ms(const std::shared_ptr<const Model>& model, const NetOptions& o) {
  Net net(model, o);
  std::vector<float> input(size_t(3) * net.input_width() * net.input_height(), 0.25f);
  double best = 1e30;
  for (int i = 0; i < 7; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    net.set_input_planar(input.data());
    net.run();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (i >= 2) best = std::min(best, ms);
  }
  return best;
}
}  // namespace

Device pick_device(const std::shared_ptr<const Model>& model, const NetOptions& cpu, std::string* why) {
  std::string gpu;
  if (!opencl_available(true, &gpu)) {
    if (why) *why = "CPU: " + gpu;
    return Device::Cpu;
  }
  NetOptions c = cpu, g = cpu;
  c.device = Device::Cpu;
  c.batch = g.batch = 1;
  g.device = Device::OpenCL;
  double cpu_ms = time_face_ms(model, c), gpu_ms = 0;
  try {
    gpu_ms = time_face_ms(model, g);
  } catch (const DeviceError& e) {
    if (why) *why = std::string("CPU: OpenCL failed on ") + gpu + ": " + e.what();
    return Device::Cpu;
  }
  const bool use_gpu = gpu_ms < cpu_ms;
  if (why)
    *why = std::string(use_gpu ? "OpenCL" : "CPU") + ": one face " + std::to_string(gpu_ms) + " ms on " + gpu + " vs " +
           std::to_string(cpu_ms) + " ms on the CPU";
  return use_gpu ? Device::OpenCL : Device::Cpu;
}

}  // namespace bty
