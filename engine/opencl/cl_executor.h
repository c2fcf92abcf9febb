// The OpenCL executor behind Net (Device::OpenCL): per-model kernels, one input/output slot per face, all faces of a
// run() as one batch.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "input_prep.h"
#include "model.h"

namespace bty {

class ClExecutor {
 public:
  virtual ~ClExecutor() = default;
  // Prepares the slot's input on the host (into pinned memory) and queues its upload without waiting for it:
  // floats as they are, or an image's gathered 8-bit bytes (the prep kernel resamples them in run()).
  virtual void set_input(int slot, const InputSource& in) = 0;
  virtual void set_input_image(int slot, const ImageInput& in) = 0;
  // Runs slots 0..count-1 and downloads their outputs (planar CHW each) into pinned host memory: output(slot).
  virtual void run(int count, RunTimes& times) = 0;
  // Half output: converted to float on the first call per slot after a run().
  virtual const float* output(int slot) const = 0;
  virtual std::string device_name() const = 0;
  virtual size_t device_bytes() const = 0;
  virtual ClReads reads() const = 0;  // Local or Global: what Auto chose
  virtual const std::vector<double>& layer_seconds() const = 0;
};

struct ClOptions {
  int batch = 1;
  std::string cache_dir;  // "" = no binary cache
  ClReads reads = ClReads::Auto;
  bool layer_times = false;
  bool half_output = false;  // ClOutput::Half
};
// Throws DeviceError when OpenCL cannot run this plan; `times` gets the build time and cache hit.
std::unique_ptr<ClExecutor> make_cl_executor(const Plan& plan, const ClOptions& o, RunTimes& times);

}  // namespace bty
