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
  // Floats: written into pinned memory and queued for upload now, without waiting for it.
  virtual void set_input(int slot, const InputSource& in) = 0;
  // An image (checked by ImageInput::check): kept until run(), which builds each image slot's ImageInput and gathers
  // its 8-bit bytes on the gathering threads (the prep kernel resamples them).
  virtual void set_input_image(int slot, const ImageView& image, const Rect& roi) = 0;
  // Runs slots 0..count-1 and downloads their outputs (planar CHW each) into pinned host memory: output(slot).
  virtual void run(int count, RunTimes& times) = 0;
  // Half output: converted to float on the first call per slot after a run().
  virtual const float* output(int slot) const = 0;
  // Half output: the downloaded halves as they are; nullptr for float output.
  virtual const uint16_t* output_half(int slot) const = 0;
  virtual std::string device_name() const = 0;
  virtual size_t device_bytes() const = 0;
  virtual ClReads reads() const = 0;  // Local or Global: what Auto chose
  virtual const std::vector<double>& layer_seconds() const = 0;
};

struct ClOptions {
  const ModelInfo* info = nullptr;  // the model's (colour space), for the image inputs; outlives the executor
  ColourRowFn colour_row = nullptr;
  int batch = 1;
  int threads = 1;        // host threads that gather the image slots' bytes in run(), one face each
  std::string cache_dir;  // "" = no binary cache
  ClReads reads = ClReads::Auto;
  bool layer_times = false;
  bool half_output = false;                       // ClOutput::Half
  int flush_every = NetOptions{}.cl_flush_every;  // NetOptions::cl_flush_every
  int chunks = NetOptions{}.cl_chunks;            // NetOptions::cl_chunks
  int part_queues = NetOptions{}.cl_part_queues;  // NetOptions::cl_part_queues
};
// Throws DeviceError when OpenCL cannot run this plan; `times` gets the build time and cache hit.
std::unique_ptr<ClExecutor> make_cl_executor(const Plan& plan, const ClOptions& o, RunTimes& times);

}  // namespace bty
