// Device memory: one planar NCHW buffer per materialised tensor, batch-sized; weights repacked per conv as
// [output block][input channel in concat order][tap][output channel in block] so a work-item's weight reads are
// consecutive and identical across its work-group (broadcast). Kernel arguments, launch sizes and error texts are made
// once at construction; run() gathers the image slots' bytes (on the host's threads), then only enqueues their upload,
// the kernels (a launch per conv for all faces of a part, the face index offset by the part's first) and the output
// read, and waits once.
#include "cl_executor.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>

#include "cl_program_cache.h"
#include "cl_runtime.h"
#include "cl_source.h"
#include "thread_pool.h"

namespace bty {
namespace {

using namespace cl;

class OpenClExecutor final : public ClExecutor {
 public:
  OpenClExecutor(const Plan& plan, const ClOptions& o, RunTimes& times)
      : plan_(plan), batch_(o.batch), layer_times_(o.layer_times), half_(o.half_output),
        flush_every_(size_t(o.flush_every)), chunks_(o.chunks), part_queues_(o.part_queues), info_(o.info),
        colour_row_(o.colour_row) {
    using clock = std::chrono::steady_clock;
    auto ms_since = [](clock::time_point t) {
      return std::chrono::duration<double, std::milli>(clock::now() - t).count();
    };
    auto t = clock::now();
    dev_ = cl::pick_device(false);
    times.platform_ms = ms_since(t);
    t = clock::now();
    cl_int err = CL_SUCCESS;
    ctx_ = Context(clCreateContext(nullptr, 1, &dev_.id, nullptr, nullptr, &err));
    check(err, "clCreateContext on " + dev_.describe());
    queue_ = new_queue("clCreateCommandQueue");
    times.context_ms = ms_since(t);

    reads_ = o.reads != ClReads::Auto ? o.reads : dev_.gpu ? ClReads::Local : ClReads::Global;
    const std::string source = kernel_source(plan, reads_ == ClReads::Local, half_);
    BuildResult b = build_program(ctx_.get(), dev_, source, kBuildOptions, o.cache_dir);
    program_ = std::move(b.program);
    times.binary_cache_hit = b.cache_hit;
    times.build_ms = b.ms;
    times.cache_note = b.note;
    t = clock::now();

    tensors_.resize(plan.width.size());
    for (size_t t = 0; t < plan.width.size(); ++t) {
      if (!plan.materialized[t] || int(t) == plan.output_tensor) continue;
      tensors_[t] = alloc(floats(t) * batch_ * 4, CL_MEM_READ_WRITE, nullptr, "tensor " + std::to_string(t));
    }
    const int ot = plan.output_tensor;
    tensors_[ot] = alloc(out_bytes() * batch_, CL_MEM_READ_WRITE, nullptr, "output tensor");
    // Pinned host staging for the inputs (uploads from it are DMA, no driver-side copy), mapped for the net's life:
    // floats (set_input) and gathered 8-bit images (set_input_image), per slot.
    staging_buf_ = alloc(floats(0) * batch_ * 4, CL_MEM_READ_ONLY | CL_MEM_ALLOC_HOST_PTR, nullptr, "input staging");
    staging_ = static_cast<float*>(map(staging_buf_, CL_MAP_WRITE, floats(0) * batch_ * 4, "input staging"));
    slot_bytes_ = (gathered::capacity(plan.width[0], plan.height[0]) + 127) / 128 * 128;
    bytes_dev_ = alloc(slot_bytes_ * batch_, CL_MEM_READ_ONLY, nullptr, "8-bit input slots");
    bytes_buf_ = alloc(slot_bytes_ * batch_, CL_MEM_READ_ONLY | CL_MEM_ALLOC_HOST_PTR, nullptr, "8-bit staging");
    bytes_ = static_cast<uint8_t*>(map(bytes_buf_, CL_MAP_WRITE, slot_bytes_ * batch_, "8-bit staging"));
    uploads_.resize(batch_);
    image_slots_.assign(batch_, false);
    images_.resize(batch_);
    used_.assign(batch_, 0);
    upload_bytes_.assign(batch_, 0);
    // Gathering is host memory traffic (a frame's rows into pinned staging): one face per thread.
    if (o.threads > 1 && batch_ > 1) pool_ = std::make_unique<ThreadPool>(std::min(o.threads, batch_));
    // Pinned host memory for the outputs too: the download is one DMA of all faces, no driver-side staging copy.
    out_buf_ = alloc(out_bytes() * batch_, CL_MEM_WRITE_ONLY | CL_MEM_ALLOC_HOST_PTR, nullptr, "output staging");
    out_ = map(out_buf_, CL_MAP_READ, out_bytes() * batch_, "output staging");
    if (half_) converted_.assign(batch_, {});
    prep_ = Kernel(clCreateKernel(program_.get(), kPrepKernel, &err));
    check(err, std::string("clCreateKernel ") + kPrepKernel);
    arg(prep_, 0, bytes_dev_);
    arg(prep_, 1, tensors_[0]);
    const cl_uint sb = cl_uint(slot_bytes_);
    check(clSetKernelArg(prep_.get(), 3, sizeof sb, &sb), "clSetKernelArg");

    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const ConvStep& s = plan.steps[i];
      const int co = s.out_channels, cob = out_block(co), ci = s.in_channels;
      std::vector<float> w(size_t(co) * ci * 9);
      for (int o2 = 0; o2 < co; ++o2)
        for (int c = 0; c < ci; ++c)
          for (int t = 0; t < 9; ++t)
            w[((size_t(o2 / cob) * ci + c) * 9 + t) * cob + o2 % cob] = s.weights[(size_t(o2) * ci + c) * 9 + t];
      weights_.push_back(alloc(w.size() * 4, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, w.data(), "weights"));
      biases_.push_back(alloc(co * 4, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, const_cast<float*>(s.bias), "bias"));
      Kernel k(clCreateKernel(program_.get(), kernel_name(i).c_str(), &err));
      check(err, "clCreateKernel " + kernel_name(i));
      cl_uint a = 0;
      for (const ConvSource& src : s.sources) arg(k, a++, tensors_[src.tensor]);
      arg(k, a++, weights_.back());
      arg(k, a++, biases_.back());
      arg(k, a++, tensors_[s.tensor]);
      kernels_.push_back(std::move(k));
      launches_.push_back(step_launch(plan, i, 1));
      launch_what_.push_back("clEnqueueNDRangeKernel " + kernel_name(i));
    }
    finish_what_ = "running the net on " + dev_.name;
    check(clFinish(queue_.get()), "setting up the buffers");
    times.setup_ms = ms_since(t);
  }

  ~OpenClExecutor() override {
    if (transfers_) clFinish(transfers_.get());
    if (compute2_) clFinish(compute2_.get());
    if (queue_) {
      clFinish(queue_.get());
      if (staging_) clEnqueueUnmapMemObject(queue_.get(), staging_buf_.get(), staging_, 0, nullptr, nullptr);
      if (bytes_) clEnqueueUnmapMemObject(queue_.get(), bytes_buf_.get(), bytes_, 0, nullptr, nullptr);
      if (out_) clEnqueueUnmapMemObject(queue_.get(), out_buf_.get(), out_, 0, nullptr, nullptr);
      clFinish(queue_.get());
    }
  }

  void set_input(int slot, const InputSource& in) override {
    const int W = plan_.width[0], H = plan_.height[0];
    wait_upload(slot);
    float* dst = staging_ + floats(0) * slot;
    for (int y = 0; y < H; ++y) in.row(y, 0, W, dst + size_t(y) * W, W * H);
    const size_t bytes = floats(0) * sizeof(float);
    upload(slot, tensors_[0], bytes * slot, bytes, dst, "clEnqueueWriteBuffer (input)");
    image_slots_[slot] = false;
    images_[slot].reset();
  }

  // Only the bytes the taps read go up (input_prep.h: about a quarter of the floats' bytes for a face at the net's
  // size in RGB, an eighth in 4:2:0); run() builds the taps, gathers the bytes, and its prep kernel resamples and
  // converts them.
  void set_input_image(int slot, const ImageView& image, const Rect& roi) override {
    // A float upload still queued for this slot must land before the prep kernel writes the slot, which may run on
    // another queue; run() would no longer see its event.
    wait_upload(slot);
    images_[slot] = Pending{image, roi};
    image_slots_[slot] = true;
  }

  void run(int count, RunTimes& times) override {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const int chunks = std::min(count, chunks_ ? chunks_ : dev_.gpu && count >= NetOptions::kMinChunkedFaces ? 2 : 1);
    // One part: everything in order on one queue. More: the transfers on their own queue, so that the next part's
    // upload and the previous part's download overlap a part's kernels (each queue is flushed before another waits
    // on its events, as OpenCL asks).
    if (chunks > 1 && !transfers_) transfers_ = new_queue("clCreateCommandQueue (transfers)");
    cl_command_queue xfer = chunks > 1 ? transfers_.get() : queue_.get();
    // With two compute queues the parts' kernels alternate over them, so one part's convs may run beside another's
    // (the low-resolution ones leave most of a GPU idle).
    const int queues = std::min(chunks, part_queues_);
    if (queues > 1 && !compute2_) compute2_ = new_queue("clCreateCommandQueue (second compute queue)");
    cl_ulong images = 0;
    for (int n = 0; n < count; ++n)
      if (image_slots_[n]) images |= cl_ulong(1) << n;
    // Set when the image slots change only: a driver call saved on every run with the same ones.
    if (images && images != prep_images_)
      check(clSetKernelArg(prep_.get(), 2, sizeof images, &images), "clSetKernelArg");
    if (images) prep_images_ = images;
    times.gather_ms = times.upload_enqueue_ms = times.enqueue_ms = 0;
    times.chunks = chunks;
    const size_t K = kernels_.size();
    std::vector<Event> each(layer_times_ ? K * chunks : 0), starts(chunks), ends(chunks), reads(chunks);
    auto read = [&](int c, int n0, int n1, cl_uint waits, const cl_event* wait) {
      cl_event ev = nullptr;
      const size_t off = out_bytes() * n0;
      check(clEnqueueReadBuffer(xfer, tensors_[plan_.output_tensor].get(), CL_FALSE, off, out_bytes() * (n1 - n0),
                                static_cast<char*>(out_) + off, waits, wait, &ev),
            "clEnqueueReadBuffer (outputs)");
      reads[c] = Event(ev);
    };
    // A failure part way leaves work queued on up to three queues: it is drained before the error goes up, so that
    // the next run() (which may split the batch otherwise) never races it.
    try {
      for (int c = 0; c < chunks; ++c) {
        const int n0 = count * c / chunks, n1 = count * (c + 1) / chunks;
        cl_command_queue q = c % queues ? compute2_.get() : queue_.get();
        gather_images(n0, n1, xfer, times);
        const auto t1 = clock::now();
        std::vector<cl_event> wait;  // the part's first kernel waits for its upload on the other queue
        auto waits = [&] { return wait.empty() ? nullptr : wait.data(); };  // OpenCL: no list, no pointer
        if (chunks > 1)
          for (int n = n0; n < n1; ++n)
            if (uploads_[n]) wait.push_back(uploads_[n].get());
        const cl_ulong mine = ((n1 - n0 == 64 ? ~cl_ulong(0) : (cl_ulong(1) << (n1 - n0)) - 1) << n0) & images;
        if (mine) {  // the prep kernel is the part's first kernel
          const size_t offset[3] = {0, 0, size_t(n0)};
          const size_t global[3] = {round_up(plan_.width[0], kGroupX), round_up(plan_.height[0], kGroupY),
                                    size_t(n1 - n0)};
          const size_t local[3] = {size_t(kGroupX), size_t(kGroupY), 1};
          cl_event ev = nullptr;
          check(clEnqueueNDRangeKernel(q, prep_.get(), 3, offset, global, local, cl_uint(wait.size()), waits(), &ev),
                std::string("clEnqueueNDRangeKernel ") + kPrepKernel);
          starts[c] = Event(ev);
          wait.clear();
        }
        for (size_t i = 0; i < K; ++i) {
          const StepLaunch& l = launches_[i];  // for one face: the batch is the third axis
          const size_t offset[3] = {0, 0, l.global[2] * size_t(n0)};
          const size_t global[3] = {l.global[0], l.global[1], l.global[2] * size_t(n1 - n0)};
          const bool is_first = !starts[c], is_last = i + 1 == K;
          cl_event ev = nullptr;
          check(clEnqueueNDRangeKernel(q, kernels_[i].get(), 3, offset, global, l.local, cl_uint(wait.size()), waits(),
                                       layer_times_ || is_first || is_last ? &ev : nullptr),
                launch_what_[i]);
          wait.clear();
          if (flush_every_ && i % flush_every_ == 0) clFlush(q);
          if (!ev) continue;
          if (layer_times_) clRetainEvent(ev), each[c * K + i] = Event(ev);
          if (is_first && is_last) clRetainEvent(ev);
          if (is_first) starts[c] = Event(ev);
          if (is_last) ends[c] = Event(ev);
          if (!is_first && !is_last) clReleaseEvent(ev);
        }
        if (chunks == 1)
          read(0, 0, count, 0, nullptr);
        else
          clFlush(q);
        times.enqueue_ms += std::chrono::duration<double, std::milli>(clock::now() - t1).count();
      }
      if (chunks > 1) {  // after every upload on the transfer queue: a download waits for its part's kernels
        const auto t1 = clock::now();
        for (int c = 0; c < chunks; ++c) {
          cl_event end = ends[c].get();
          read(c, count * c / chunks, count * (c + 1) / chunks, 1, &end);
        }
        clFlush(xfer);
        times.enqueue_ms += std::chrono::duration<double, std::milli>(clock::now() - t1).count();
      }
    } catch (...) {
      for (const Queue* q : {&queue_, &compute2_, &transfers_})
        if (*q) clFinish(q->get());
      throw;
    }
    check(clFinish(queue_.get()), finish_what_);
    if (queues > 1) check(clFinish(compute2_.get()), finish_what_);
    if (chunks > 1) check(clFinish(xfer), finish_what_);
    times.wall_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    times.upload_ms = times.download_ms = 0;
    times.upload_bytes = 0;
    times.download_bytes = out_bytes() * count;
    for (int n = 0; n < count; ++n)
      if (uploads_[n]) {
        times.upload_ms +=
            event_ms(uploads_[n].get(), CL_PROFILING_COMMAND_START, uploads_[n].get(), CL_PROFILING_COMMAND_END);
        times.upload_bytes += upload_bytes_[n];
        uploads_[n].reset();
      }
    // From the earliest part's first start to the latest part's last end: with two compute queues the parts need not
    // start or end in the order they were enqueued.
    cl_ulong begin = ~cl_ulong(0), end = 0;
    for (int c = 0; c < chunks; ++c) {
      begin = std::min(begin, event_ns(starts[c].get(), CL_PROFILING_COMMAND_START));
      end = std::max(end, event_ns(ends[c].get(), CL_PROFILING_COMMAND_END));
    }
    times.kernels_ms = end > begin ? 1e-6 * double(end - begin) : 0.0;
    for (auto& c : converted_) c.clear();
    for (const Event& r : reads)
      times.download_ms += event_ms(r.get(), CL_PROFILING_COMMAND_START, r.get(), CL_PROFILING_COMMAND_END);
    seconds_.assign(layer_times_ ? K : 0, 0.0);
    for (size_t i = 0; i < each.size(); ++i)
      seconds_[i % K] +=
          1e-3 * event_ms(each[i].get(), CL_PROFILING_COMMAND_START, each[i].get(), CL_PROFILING_COMMAND_END);
  }

  const float* output(int slot) const override {
    if (!half_) return static_cast<const float*>(out_) + floats(plan_.output_tensor) * slot;
    std::vector<float>& c = converted_[slot];
    if (c.empty()) {
      const size_t n = floats(plan_.output_tensor);
      c.resize(n);
      half_to_float(static_cast<const uint16_t*>(out_) + n * slot, c.data(), n);
    }
    return c.data();
  }
  const uint16_t* output_half(int slot) const override {
    return half_ ? static_cast<const uint16_t*>(out_) + floats(plan_.output_tensor) * slot : nullptr;
  }
  std::string device_name() const override { return dev_.describe(); }
  size_t device_bytes() const override { return device_bytes_; }
  ClReads reads() const override { return reads_; }
  const std::vector<double>& layer_seconds() const override { return seconds_; }

 private:
  static constexpr const char* kBuildOptions = "-cl-std=CL1.2";
  static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }
  size_t floats(size_t t) const { return size_t(plan_.channels[t]) * plan_.width[t] * plan_.height[t]; }
  size_t out_bytes() const { return floats(plan_.output_tensor) * (half_ ? 2 : 4); }  // per slot
  Queue new_queue(const char* what) {                                                 // in-order, profiled
    cl_int err = CL_SUCCESS;
    Queue q(clCreateCommandQueue(ctx_.get(), dev_.id, CL_QUEUE_PROFILING_ENABLE, &err));
    check(err, what);
    return q;
  }
  Buffer alloc(size_t bytes, cl_mem_flags flags, void* host, const std::string& what) {
    cl_int err = CL_SUCCESS;
    Buffer b(clCreateBuffer(ctx_.get(), flags, bytes, host, &err));
    check(err, "clCreateBuffer (" + what + ", " + std::to_string(bytes) + " bytes)");
    device_bytes_ += bytes;
    return b;
  }
  void* map(const Buffer& b, cl_map_flags flags, size_t bytes, const std::string& what) {
    cl_int err = CL_SUCCESS;
    void* p = clEnqueueMapBuffer(queue_.get(), b.get(), CL_TRUE, flags, 0, bytes, 0, nullptr, nullptr, &err);
    check(err, "clEnqueueMapBuffer (" + what + ")");
    return p;
  }
  void wait_upload(int slot) {  // the slot's previous upload still reads the staging memory we are about to overwrite
    Event& e = uploads_[slot];
    if (!e) return;
    cl_event h = e.get();
    check(clWaitForEvents(1, &h), "waiting for an earlier upload");
    e.reset();
  }
  void upload(int slot, const Buffer& dst, size_t offset, size_t bytes, const void* src, const char* what) {
    cl_event ev = nullptr;
    check(clEnqueueWriteBuffer(queue_.get(), dst.get(), CL_FALSE, offset, bytes, src, 0, nullptr, &ev), what);
    queued_upload(slot, ev, bytes);
    clFlush(queue_.get());  // start the transfer now: run() may come much later
  }
  void queued_upload(int slot, cl_event ev, size_t bytes) {
    uploads_[slot] = Event(ev);
    upload_bytes_[slot] = bytes;
  }
  // The image slots set since the last run() among slots n0..n1-1 (one part of the run), gathered into their pinned
  // staging on the pool: a face's gather is a few hundred KB of a frame's rows, memory traffic that one core alone
  // makes the largest host cost of a 16-face batch. One face per thread (splitting a face's rows over threads did not
  // pay on the H200's host: docs/engine.md). Each run of consecutive slots then goes up in one strided transfer of
  // every slot's first `widest` bytes: the faces of a frame gather about as many bytes, and the slots' unused tails
  // (a slot holds the worst case, three full planes) stay behind.
  void gather_images(int n0, int n1, cl_command_queue q, RunTimes& times) {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    std::vector<int> pending;
    for (int n = n0; n < n1; ++n)
      if (images_[n]) pending.push_back(n);
    if (pending.empty()) return;
    const int faces = int(pending.size());
    std::exception_ptr failed;  // out of memory on a pool thread: rethrown here, on the caller's
    std::mutex failed_lock;
    auto gather = [&](int begin, int end) {
      try {
        for (int i = begin; i < end; ++i) {
          const int n = pending[i];
          const ImageInput in(images_[n]->image, images_[n]->roi, plan_.width[0], plan_.height[0], *info_, colour_row_);
          used_[n] = in.gather(bytes_ + slot_bytes_ * n);
        }
      } catch (...) {
        std::lock_guard<std::mutex> g(failed_lock);
        if (!failed) failed = std::current_exception();
      }
    };
    if (pool_ && faces > 1)
      pool_->run(faces, gather);
    else
      gather(0, faces);
    if (failed) std::rethrow_exception(failed);
    const auto t1 = clock::now();
    for (size_t i = 0; i < pending.size();) {
      size_t j = i;
      while (j + 1 < pending.size() && pending[j + 1] == pending[j] + 1) ++j;
      const int a = pending[i], b = pending[j];
      size_t widest = 0;
      for (size_t k = i; k <= j; ++k) widest = std::max(widest, used_[pending[k]]);
      const size_t origin[3] = {0, size_t(a), 0}, region[3] = {widest, size_t(b - a + 1), 1};
      cl_event ev = nullptr;
      check(clEnqueueWriteBufferRect(q, bytes_dev_.get(), CL_FALSE, origin, origin, region, slot_bytes_, 0, slot_bytes_,
                                     0, bytes_, 0, nullptr, &ev),
            "clEnqueueWriteBufferRect (8-bit input)");
      queued_upload(a, ev, region[0] * region[1]);
      i = j + 1;
    }
    clFlush(q);                                // start the transfer while the host queues the kernels
    for (int n : pending) images_[n].reset();  // the frame may go now: a rerun reuses the device's copy
    const auto t2 = clock::now();
    times.gather_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
    times.upload_enqueue_ms += std::chrono::duration<double, std::milli>(t2 - t1).count();
  }
  static void arg(const Kernel& k, cl_uint i, const Buffer& b) {
    cl_mem m = b.get();
    check(clSetKernelArg(k.get(), i, sizeof m, &m), "clSetKernelArg");
  }

  Plan plan_;
  int batch_;
  ClReads reads_ = ClReads::Local;
  bool layer_times_ = false;
  bool half_ = false;
  size_t flush_every_;  // ClOptions::flush_every (0: no flush before clFinish)
  int chunks_;          // ClOptions::chunks (0: auto)
  std::vector<double> seconds_;
  DeviceInfo dev_;
  Context ctx_;
  Queue queue_;      // kernels (and, with one part, everything)
  Queue transfers_;  // with more than one part: the 8-bit uploads and the downloads; made on first use
  Queue compute2_;   // with part_queues_ 2: every other part's kernels; made on first use
  int part_queues_;  // ClOptions::part_queues
  Program program_;
  std::vector<Buffer> tensors_, weights_, biases_;
  std::vector<Kernel> kernels_;
  std::vector<StepLaunch> launches_;      // per conv, for one face
  std::vector<std::string> launch_what_;  // per conv, the error text of its launch
  std::string finish_what_;
  Buffer staging_buf_;
  float* staging_ = nullptr;
  std::vector<Event> uploads_;
  Buffer bytes_dev_, bytes_buf_;  // 8-bit input slots on the device, and their pinned staging
  uint8_t* bytes_ = nullptr;
  size_t slot_bytes_ = 0;
  std::vector<bool> image_slots_;  // the slot's last input was an image (prep kernel) rather than floats
  struct Pending {    // an image slot's input, set since the last run(): its ImageInput is built (the taps) and
    ImageView image;  // gathered by run(), on the gathering threads
    Rect roi;
  };
  std::vector<std::optional<Pending>> images_;
  const ModelInfo* info_;
  ColourRowFn colour_row_;
  std::vector<size_t> used_;          // bytes of each slot's last gather
  std::unique_ptr<ThreadPool> pool_;  // gathers; none with one thread
  std::vector<size_t> upload_bytes_;  // of each slot's last upload
  Kernel prep_;
  cl_ulong prep_images_ = 0;  // the image-slot mask prep_ has as its argument (0: none set yet)
  Buffer out_buf_;
  void* out_ = nullptr;                                // float or half per ClOptions::half_output
  mutable std::vector<std::vector<float>> converted_;  // half output: each slot's floats, made on demand
  size_t device_bytes_ = 0;
};

}  // namespace

std::unique_ptr<ClExecutor> make_cl_executor(const Plan& plan, const ClOptions& o, RunTimes& times) {
  return std::make_unique<OpenClExecutor>(plan, o, times);
}

}  // namespace bty
