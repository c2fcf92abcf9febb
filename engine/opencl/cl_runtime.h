// Thin layer over the OpenCL C API (through the ICD loader): error checks that throw DeviceError, owning handles,
// and device discovery. OpenCL 1.2 calls only, so NVIDIA, AMD, Intel and PoCL all serve.
#pragma once
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "beautify/engine.h"

namespace bty::cl {

const char* error_name(cl_int err);
// Throws DeviceError("<what>: <error name>") unless err is CL_SUCCESS.
void check(cl_int err, const std::string& what);

// Owning handle of one OpenCL object kind (retain/release are the API's reference counts).
template <class T, cl_int (*Release)(T)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(T h) : h_(h) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  void reset() {
    if (h_) Release(h_);
    h_ = nullptr;
  }
  T get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  T h_ = nullptr;
};
using Context = Handle<cl_context, clReleaseContext>;
using Queue = Handle<cl_command_queue, clReleaseCommandQueue>;
using Program = Handle<cl_program, clReleaseProgram>;
using Kernel = Handle<cl_kernel, clReleaseKernel>;
using Buffer = Handle<cl_mem, clReleaseMemObject>;
using Event = Handle<cl_event, clReleaseEvent>;

struct DeviceInfo {
  cl_platform_id platform = nullptr;
  cl_device_id id = nullptr;
  bool gpu = false;
  std::string name, vendor, driver, version, platform_name;
  size_t max_work_group = 0;
  cl_ulong local_mem = 0;
  std::string describe() const;  // "NAME (VENDOR, OpenCL x.y, driver D)"
};

// Every device of every platform; empty with `why` set when there is no platform or no device.
std::vector<DeviceInfo> list_devices(std::string* why);
// The first GPU; without one, the first device of any kind unless gpu_only. None, with `why` saying what exists,
// when there is no such device (no exception: device=auto asks this in every pipeline).
std::optional<DeviceInfo> find_device(bool gpu_only, std::string* why);
// The same, throwing DeviceError with that reason (the executor, which cannot run without a device).
DeviceInfo pick_device(bool gpu_only);

// A profiling timestamp of an event (CL_PROFILING_COMMAND_START/END), in the device's nanoseconds.
cl_ulong event_ns(cl_event e, cl_profiling_info what);
// Milliseconds between two profiling timestamps of events (0 if the second is not later).
double event_ms(cl_event from, cl_profiling_info from_what, cl_event to, cl_profiling_info to_what);

}  // namespace bty::cl
