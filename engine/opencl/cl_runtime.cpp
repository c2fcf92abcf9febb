#include "cl_runtime.h"

namespace bty::cl {

const char* error_name(cl_int err) {
  switch (err) {
    case CL_SUCCESS: return "CL_SUCCESS";
    case CL_DEVICE_NOT_FOUND: return "CL_DEVICE_NOT_FOUND";
    case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE";
    case CL_COMPILER_NOT_AVAILABLE: return "CL_COMPILER_NOT_AVAILABLE";
    case CL_MEM_OBJECT_ALLOCATION_FAILURE: return "CL_MEM_OBJECT_ALLOCATION_FAILURE";
    case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES";
    case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY";
    case CL_PROFILING_INFO_NOT_AVAILABLE: return "CL_PROFILING_INFO_NOT_AVAILABLE";
    case CL_BUILD_PROGRAM_FAILURE: return "CL_BUILD_PROGRAM_FAILURE";
    case CL_INVALID_VALUE: return "CL_INVALID_VALUE";
    case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE";
    case CL_INVALID_BINARY: return "CL_INVALID_BINARY";
    case CL_INVALID_BUILD_OPTIONS: return "CL_INVALID_BUILD_OPTIONS";
    case CL_INVALID_PROGRAM: return "CL_INVALID_PROGRAM";
    case CL_INVALID_PROGRAM_EXECUTABLE: return "CL_INVALID_PROGRAM_EXECUTABLE";
    case CL_INVALID_KERNEL_NAME: return "CL_INVALID_KERNEL_NAME";
    case CL_INVALID_KERNEL_ARGS: return "CL_INVALID_KERNEL_ARGS";
    case CL_INVALID_WORK_GROUP_SIZE: return "CL_INVALID_WORK_GROUP_SIZE";
    case CL_INVALID_WORK_ITEM_SIZE: return "CL_INVALID_WORK_ITEM_SIZE";
    case CL_INVALID_GLOBAL_WORK_SIZE: return "CL_INVALID_GLOBAL_WORK_SIZE";
    case CL_INVALID_BUFFER_SIZE: return "CL_INVALID_BUFFER_SIZE";
    case CL_INVALID_MEM_OBJECT: return "CL_INVALID_MEM_OBJECT";
    case CL_INVALID_COMMAND_QUEUE: return "CL_INVALID_COMMAND_QUEUE";
    case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT";
    case CL_INVALID_EVENT: return "CL_INVALID_EVENT";
    case CL_INVALID_EVENT_WAIT_LIST: return "CL_INVALID_EVENT_WAIT_LIST";
    case CL_INVALID_GLOBAL_OFFSET: return "CL_INVALID_GLOBAL_OFFSET";
    case CL_INVALID_OPERATION: return "CL_INVALID_OPERATION";
    case CL_MISALIGNED_SUB_BUFFER_OFFSET: return "CL_MISALIGNED_SUB_BUFFER_OFFSET";
    case CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST: return "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST";
    case CL_INVALID_PLATFORM: return "CL_INVALID_PLATFORM";
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR (the ICD loader found no OpenCL driver)";
    default: return "unknown OpenCL error";
  }
}

void check(cl_int err, const std::string& what) {
  if (err != CL_SUCCESS) throw DeviceError(what + ": " + error_name(err) + " (" + std::to_string(err) + ")");
}

namespace {
std::string device_str(cl_device_id d, cl_device_info what) {
  size_t n = 0;
  if (clGetDeviceInfo(d, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return "?";
  std::string s(n, '\0');
  clGetDeviceInfo(d, what, n, s.data(), nullptr);
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
  return s;
}
std::string platform_str(cl_platform_id p, cl_platform_info what) {
  size_t n = 0;
  if (clGetPlatformInfo(p, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return "?";
  std::string s(n, '\0');
  clGetPlatformInfo(p, what, n, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}
}  // namespace

std::string DeviceInfo::describe() const { return name + " (" + vendor + ", " + version + ", driver " + driver + ")"; }

std::vector<DeviceInfo> list_devices(std::string* why) {
  std::vector<DeviceInfo> out;
  cl_uint np = 0;
  cl_int err = clGetPlatformIDs(0, nullptr, &np);
  if (err != CL_SUCCESS || np == 0) {
    if (why)
      *why = std::string("no OpenCL platform (") + (err != CL_SUCCESS ? error_name(err) : "0 platforms") +
             "): install a driver with an ICD file in /etc/OpenCL/vendors (e.g. pocl-opencl-icd, or the GPU vendor's)";
    return out;
  }
  std::vector<cl_platform_id> ps(np);
  clGetPlatformIDs(np, ps.data(), nullptr);
  for (cl_platform_id p : ps) {
    cl_uint nd = 0;
    if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &nd) != CL_SUCCESS || nd == 0) continue;
    std::vector<cl_device_id> ds(nd);
    clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, nd, ds.data(), nullptr);
    for (cl_device_id d : ds) {
      DeviceInfo i;
      i.platform = p;
      i.id = d;
      cl_device_type type = 0;
      clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, nullptr);
      i.gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
      i.name = device_str(d, CL_DEVICE_NAME);
      i.vendor = device_str(d, CL_DEVICE_VENDOR);
      i.driver = device_str(d, CL_DRIVER_VERSION);
      i.version = device_str(d, CL_DEVICE_VERSION);
      i.platform_name = platform_str(p, CL_PLATFORM_NAME);
      clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof i.max_work_group, &i.max_work_group, nullptr);
      clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof i.local_mem, &i.local_mem, nullptr);
      out.push_back(i);
    }
  }
  if (out.empty() && why) *why = "OpenCL platforms exist but none has a device";
  return out;
}

std::optional<DeviceInfo> find_device(bool gpu_only, std::string* why) {
  std::string none;
  std::vector<DeviceInfo> all = list_devices(&none);
  if (all.empty()) {
    if (why) *why = none;
    return std::nullopt;
  }
  for (const DeviceInfo& d : all)
    if (d.gpu) return d;
  if (gpu_only) {
    std::string names;
    for (const DeviceInfo& d : all) names += (names.empty() ? "" : ", ") + d.describe();
    if (why) *why = "no OpenCL GPU device (found: " + names + ")";
    return std::nullopt;
  }
  return all.front();
}

DeviceInfo pick_device(bool gpu_only) {
  std::string why;
  std::optional<DeviceInfo> d = find_device(gpu_only, &why);
  if (!d) throw DeviceError(why);
  return *d;
}

cl_ulong event_ns(cl_event e, cl_profiling_info what) {
  cl_ulong t = 0;
  check(clGetEventProfilingInfo(e, what, sizeof t, &t, nullptr), "clGetEventProfilingInfo");
  return t;
}

double event_ms(cl_event from, cl_profiling_info from_what, cl_event to, cl_profiling_info to_what) {
  const cl_ulong a = event_ns(from, from_what), b = event_ns(to, to_what);
  return b > a ? double(b - a) * 1e-6 : 0.0;
}

}  // namespace bty::cl
