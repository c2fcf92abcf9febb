// Device memory: one planar NCHW buffer per materialised tensor, batch-sized; weights repacked per conv as
// [output block][input channel in concat order][tap][output channel in block] so a work-item's weight reads are
// consecutive and identical across its work-group (broadcast). Kernel arguments are bound once at construction;
// run() only enqueues, in order, the batch-sized kernels and the output reads, and waits once.
#include "cl_executor.h"

#include <chrono>
#include <cstring>

#include "cl_program_cache.h"
#include "cl_runtime.h"
#include "cl_source.h"

namespace bty {
namespace {

using namespace cl;

class OpenClExecutor final : public ClExecutor {
 public:
  OpenClExecutor(const Plan& plan, const ClOptions& o, RunTimes& times)
      : plan_(plan), batch_(o.batch), layer_times_(o.layer_times), dev_(cl::pick_device(false)) {
    cl_int err = CL_SUCCESS;
    ctx_ = Context(clCreateContext(nullptr, 1, &dev_.id, nullptr, nullptr, &err));
    check(err, "clCreateContext on " + dev_.describe());
    queue_ = Queue(clCreateCommandQueue(ctx_.get(), dev_.id, CL_QUEUE_PROFILING_ENABLE, &err));
    check(err, "clCreateCommandQueue");

    reads_ = o.reads != ClReads::Auto ? o.reads : dev_.gpu ? ClReads::Local : ClReads::Global;
    const std::string source = kernel_source(plan, reads_ == ClReads::Local);
    BuildResult b = build_program(ctx_.get(), dev_, source, kBuildOptions, o.cache_dir);
    program_ = std::move(b.program);
    times.binary_cache_hit = b.cache_hit;
    times.build_ms = b.ms;
    times.cache_note = b.note;

    tensors_.resize(plan.width.size());
    for (size_t t = 0; t < plan.width.size(); ++t) {
      if (!plan.materialized[t]) continue;
      tensors_[t] = alloc(floats(t) * batch_, CL_MEM_READ_WRITE, nullptr, "tensor " + std::to_string(t));
    }
    // Pinned host staging for the inputs (uploads from it are DMA, no driver-side copy), mapped for the net's life.
    staging_buf_ = alloc(floats(0) * batch_, CL_MEM_READ_ONLY | CL_MEM_ALLOC_HOST_PTR, nullptr, "input staging");
    staging_ = static_cast<float*>(clEnqueueMapBuffer(queue_.get(), staging_buf_.get(), CL_TRUE, CL_MAP_WRITE, 0,
                                                      floats(0) * batch_ * sizeof(float), 0, nullptr, nullptr, &err));
    check(err, "clEnqueueMapBuffer (input staging)");
    uploads_.resize(batch_);
    // Pinned host memory for the outputs too: the download is one DMA of all faces, no driver-side staging copy.
    const int ot = plan.output_tensor;
    out_buf_ = alloc(floats(ot) * batch_, CL_MEM_WRITE_ONLY | CL_MEM_ALLOC_HOST_PTR, nullptr, "output staging");
    out_ = static_cast<float*>(clEnqueueMapBuffer(queue_.get(), out_buf_.get(), CL_TRUE, CL_MAP_READ, 0,
                                                  floats(ot) * batch_ * sizeof(float), 0, nullptr, nullptr, &err));
    check(err, "clEnqueueMapBuffer (output staging)");

    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const ConvStep& s = plan.steps[i];
      const int co = s.out_channels, cob = out_block(co), ci = s.in_channels;
      std::vector<float> w(size_t(co) * ci * 9);
      for (int o2 = 0; o2 < co; ++o2)
        for (int c = 0; c < ci; ++c)
          for (int t = 0; t < 9; ++t)
            w[((size_t(o2 / cob) * ci + c) * 9 + t) * cob + o2 % cob] = s.weights[(size_t(o2) * ci + c) * 9 + t];
      weights_.push_back(alloc(w.size(), CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, w.data(), "weights"));
      biases_.push_back(alloc(co, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, const_cast<float*>(s.bias), "bias"));
      Kernel k(clCreateKernel(program_.get(), kernel_name(i).c_str(), &err));
      check(err, "clCreateKernel " + kernel_name(i));
      cl_uint a = 0;
      for (const ConvSource& src : s.sources) arg(k, a++, tensors_[src.tensor]);
      arg(k, a++, weights_.back());
      arg(k, a++, biases_.back());
      arg(k, a++, tensors_[s.tensor]);
      kernels_.push_back(std::move(k));
    }
  }

  ~OpenClExecutor() override {
    if (queue_) {
      clFinish(queue_.get());
      if (staging_) clEnqueueUnmapMemObject(queue_.get(), staging_buf_.get(), staging_, 0, nullptr, nullptr);
      if (out_) clEnqueueUnmapMemObject(queue_.get(), out_buf_.get(), out_, 0, nullptr, nullptr);
      clFinish(queue_.get());
    }
  }

  void set_input(int slot, const InputSource& in) override {
    const int W = plan_.width[0], H = plan_.height[0];
    Event& e = uploads_[slot];
    if (e) {  // the slot's previous upload still reads the staging memory we are about to overwrite
      cl_event h = e.get();
      check(clWaitForEvents(1, &h), "waiting for an earlier upload");
      e.reset();
    }
    float* dst = staging_ + floats(0) * slot;
    for (int y = 0; y < H; ++y) in.row(y, 0, W, dst + size_t(y) * W, W * H);
    const size_t bytes = floats(0) * sizeof(float);
    cl_event ev = nullptr;
    check(clEnqueueWriteBuffer(queue_.get(), tensors_[0].get(), CL_FALSE, bytes * slot, bytes, dst, 0, nullptr, &ev),
          "clEnqueueWriteBuffer (input)");
    e = Event(ev);
    clFlush(queue_.get());  // start the transfer now, while the host prepares the next face
  }

  void run(int count, RunTimes& times) override {
    auto t0 = std::chrono::steady_clock::now();
    Event first, last;
    std::vector<Event> each(layer_times_ ? kernels_.size() : 0);
    for (size_t i = 0; i < kernels_.size(); ++i) {
      const StepLaunch l = step_launch(plan_, i, count);
      const bool timed = layer_times_ || i == 0 || i + 1 == kernels_.size();
      cl_event ev = nullptr;
      check(clEnqueueNDRangeKernel(queue_.get(), kernels_[i].get(), 3, nullptr, l.global, l.local, 0, nullptr,
                                   timed ? &ev : nullptr),
            "clEnqueueNDRangeKernel " + kernel_name(i));
      if (layer_times_) {
        each[i] = Event(ev);
        if (i == 0) clRetainEvent(ev), first = Event(ev);
        if (i + 1 == kernels_.size() && i > 0) clRetainEvent(ev), last = Event(ev);
      } else if (i == 0) {
        first = Event(ev);
      } else if (timed) {
        last = Event(ev);
      }
    }
    const int ot = plan_.output_tensor;
    cl_event ev = nullptr;
    check(clEnqueueReadBuffer(queue_.get(), tensors_[ot].get(), CL_FALSE, 0, floats(ot) * count * sizeof(float), out_,
                              0, nullptr, &ev),
          "clEnqueueReadBuffer (outputs)");
    Event read(ev);
    check(clFinish(queue_.get()), "running the net on " + dev_.name);
    times.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    times.upload_ms = times.download_ms = 0;
    for (int n = 0; n < count; ++n)
      if (uploads_[n]) {
        times.upload_ms +=
            event_ms(uploads_[n].get(), CL_PROFILING_COMMAND_START, uploads_[n].get(), CL_PROFILING_COMMAND_END);
        uploads_[n].reset();
      }
    const Event& end = kernels_.size() > 1 ? last : first;
    times.kernels_ms = event_ms(first.get(), CL_PROFILING_COMMAND_START, end.get(), CL_PROFILING_COMMAND_END);
    times.download_ms = event_ms(read.get(), CL_PROFILING_COMMAND_START, read.get(), CL_PROFILING_COMMAND_END);
    seconds_.resize(each.size());
    for (size_t i = 0; i < each.size(); ++i)
      seconds_[i] = 1e-3 * event_ms(each[i].get(), CL_PROFILING_COMMAND_START, each[i].get(), CL_PROFILING_COMMAND_END);
  }

  const float* output(int slot) const override { return out_ + floats(plan_.output_tensor) * slot; }
  std::string device_name() const override { return dev_.describe(); }
  size_t device_bytes() const override { return device_bytes_; }
  ClReads reads() const override { return reads_; }
  const std::vector<double>& layer_seconds() const override { return seconds_; }

 private:
  static constexpr const char* kBuildOptions = "-cl-std=CL1.2";
  size_t floats(size_t t) const { return size_t(plan_.channels[t]) * plan_.width[t] * plan_.height[t]; }
  Buffer alloc(size_t n, cl_mem_flags flags, void* host, const std::string& what) {
    cl_int err = CL_SUCCESS;
    Buffer b(clCreateBuffer(ctx_.get(), flags, n * sizeof(float), host, &err));
    check(err, "clCreateBuffer (" + what + ", " + std::to_string(n * sizeof(float)) + " bytes)");
    device_bytes_ += n * sizeof(float);
    return b;
  }
  static void arg(const Kernel& k, cl_uint i, const Buffer& b) {
    cl_mem m = b.get();
    check(clSetKernelArg(k.get(), i, sizeof m, &m), "clSetKernelArg");
  }

  Plan plan_;
  int batch_;
  ClReads reads_ = ClReads::Local;
  bool layer_times_ = false;
  std::vector<double> seconds_;
  DeviceInfo dev_;
  Context ctx_;
  Queue queue_;
  Program program_;
  std::vector<Buffer> tensors_, weights_, biases_;
  std::vector<Kernel> kernels_;
  Buffer staging_buf_;
  float* staging_ = nullptr;
  std::vector<Event> uploads_;
  Buffer out_buf_;
  float* out_ = nullptr;
  size_t device_bytes_ = 0;
};

}  // namespace

std::unique_ptr<ClExecutor> make_cl_executor(const Plan& plan, const ClOptions& o, RunTimes& times) {
  return std::make_unique<OpenClExecutor>(plan, o, times);
}

}  // namespace bty
