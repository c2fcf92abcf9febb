// Net: validates options, selects kernels once, builds the chosen executor (CPU) or the OpenCL executor.
#include <algorithm>
#include <chrono>
#include <string>

#include "executor.h"
#ifdef BTY_HAVE_OPENCL
#include "opencl/cl_executor.h"
#include "opencl/cl_program_cache.h"
#endif

namespace bty {

const char* to_string(Executor e) {
  switch (e) {
    case Executor::Reference: return "reference";
    case Executor::Layered: return "layered";
    case Executor::Pipeline: return "pipeline";
  }
  return "?";
}

const char* to_string(Device d) {
  switch (d) {
    case Device::Cpu: return "cpu";
    case Device::OpenCL: return "opencl";
    case Device::Auto: return "auto";
  }
  return "?";
}

const char* to_string(ClReads r) {
  switch (r) {
    case ClReads::Auto: return "auto";
    case ClReads::Local: return "local";
    case ClReads::Global: return "global";
  }
  return "?";
}

const char* to_string(ClOutput p) { return p == ClOutput::Half ? "half" : "float"; }
const char* to_string(RingStorage r) {
  return r == RingStorage::Half ? "half" : r == RingStorage::Float ? "float" : "auto";
}

struct Net::Impl {
  std::shared_ptr<const Model> model;
  NetOptions opt;
  Device device = Device::Cpu;
  Kernels kernels;
  Plan plan;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<ExecutorImpl> exec;
  std::vector<std::unique_ptr<InputSource>> inputs;  // CPU: read during run()
  std::vector<bool> ready;                           // slot has had an input (it stays set: run() repeats it)
  std::vector<std::vector<float>> outputs;
  std::vector<int64_t> macs;
  RunTimes times;
#ifdef BTY_HAVE_OPENCL
  std::unique_ptr<ClExecutor> cl;
#endif
  void put_input(int slot, std::unique_ptr<InputSource> src);
};

Net::Net(std::shared_ptr<const Model> model, const NetOptions& o) : impl_(std::make_unique<Impl>()) {
  if (!model) throw std::invalid_argument("Net: no model");
  Impl& d = *impl_;
  d.model = std::move(model);
  d.opt = o;
  const Model& m = *d.model;
  if (o.threads < 1 || o.threads > NetOptions::kMaxThreads)
    throw std::invalid_argument("threads must be 1.." + std::to_string(NetOptions::kMaxThreads));
  if (o.batch < 1 || o.batch > 64) throw std::invalid_argument("batch must be 1..64");
  if (o.cl_flush_every < 0) throw std::invalid_argument("cl_flush_every must be >= 0");
  if (o.cl_part_queues != 1 && o.cl_part_queues != 2) throw std::invalid_argument("cl_part_queues must be 1 or 2");
  if (o.cl_chunks < 0 || o.cl_chunks > o.batch)
    throw std::invalid_argument("cl_chunks must be 0 (auto) .. batch (" + std::to_string(o.batch) + ")");
  int w = o.width ? o.width : m.info.input_width, h = o.height ? o.height : m.info.input_height;
  const int max_side = NetOptions::kMaxSide;
  if (w < m.down_factor || h < m.down_factor || w > max_side || h > max_side || w % m.down_factor || h % m.down_factor)
    throw std::invalid_argument("net input size " + std::to_string(w) + "x" + std::to_string(h) +
                                " must be positive multiples of " + std::to_string(m.down_factor) + ", at most " +
                                std::to_string(max_side));
  if (o.segment_bytes < NetOptions::kMinSegmentBytes)
    throw std::invalid_argument("segment_bytes must be at least " +
                                std::to_string(NetOptions::kMinSegmentBytes / 1024) + " KiB");
  if (o.executor == Executor::Reference || o.device == Device::OpenCL)
    d.kernels = select_kernels(o.executor == Executor::Reference ? Isa::Scalar : o.isa);
  else
    d.kernels = select_kernels(o.isa, o.precision);
  d.plan = make_plan(m, w, h);
  for (const ConvStep& s : d.plan.steps) d.macs.push_back(conv_macs(d.plan, s));
  d.inputs.resize(o.batch);
  d.ready.assign(o.batch, false);
  d.outputs.resize(o.batch);
  d.device = o.device == Device::Auto ? pick_device(d.model, o) : o.device;
  if (d.device == Device::OpenCL) {
#ifdef BTY_HAVE_OPENCL
    ClOptions co;
    co.info = &d.model->info;
    co.colour_row = d.kernels.colour_row;
    co.batch = o.batch;
    co.threads = o.threads;
    co.cache_dir = o.cl_cache_dir == "-" ? "" : o.cl_cache_dir.empty() ? cl::default_cache_dir() : o.cl_cache_dir;
    co.reads = o.cl_reads;
    co.layer_times = o.cl_layer_times;
    co.half_output = o.cl_output == ClOutput::Half;
    co.flush_every = o.cl_flush_every;
    co.chunks = o.cl_chunks;
    co.part_queues = o.cl_part_queues;
    d.cl = make_cl_executor(d.plan, co, d.times);
    return;
#else
    throw DeviceError(
        "this build of the engine has no OpenCL executor (configure with the OpenCL ICD loader "
        "installed: ocl-icd-opencl-dev, opencl-headers)");
#endif
  }
  d.pool = std::make_unique<ThreadPool>(o.executor == Executor::Reference ? 1 : o.threads);
  switch (o.executor) {
    case Executor::Reference: d.exec = make_reference_executor(d.plan); break;
    case Executor::Layered: d.exec = make_layered_executor(d.plan, d.kernels, *d.pool, o.winograd); break;
    case Executor::Pipeline:
      d.exec = make_pipeline_executor(d.plan, d.kernels, *d.pool, o.segment_bytes, o.winograd, o.rings);
      break;
  }
}

Net::~Net() = default;

namespace {
void check_slot(int slot, int batch) {
  if (slot < 0 || slot >= batch)
    throw std::out_of_range("input slot " + std::to_string(slot) + " outside 0.." + std::to_string(batch - 1) +
                            " (NetOptions::batch)");
}
}  // namespace

// Both kinds of input take one path: OpenCL prepares and queues the upload now, the CPU reads the source in run().
void Net::Impl::put_input(int slot, std::unique_ptr<InputSource> src) {
  check_slot(slot, opt.batch);
#ifdef BTY_HAVE_OPENCL
  if (cl)
    cl->set_input(slot, *src);
  else
#endif
    inputs[slot] = std::move(src);
  ready[slot] = true;
}

void Net::set_input(const ImageView& image, const Rect& roi, int slot) {
  Impl& d = *impl_;
#ifdef BTY_HAVE_OPENCL
  if (d.cl) {
    check_slot(slot, d.opt.batch);
    ImageInput::check(image, roi);
    d.cl->set_input_image(slot, image, roi);
    d.ready[slot] = true;
    return;
  }
#endif
  d.put_input(slot, std::make_unique<ImageInput>(image, roi, input_width(), input_height(), d.model->info,
                                                 d.kernels.colour_row));
}

void Net::set_input_planar(const float* chw, int slot) {
  if (!chw) throw std::invalid_argument("set_input_planar: null input");
  impl_->put_input(slot, std::make_unique<PlanarInput>(chw, input_width(), input_height()));
}

void Net::run(int count) {
  Impl& d = *impl_;
  if (count < 1 || count > batch())
    throw std::out_of_range("run(" + std::to_string(count) + "): count must be 1.." + std::to_string(batch()));
  for (int i = 0; i < count; ++i)
    if (!d.ready[i]) throw std::logic_error("Net::run before set_input of slot " + std::to_string(i));
#ifdef BTY_HAVE_OPENCL
  if (d.cl) {
    d.cl->run(count, d.times);
    for (int i = 0; i < count; ++i) d.outputs[i].clear();  // output() copies from the pinned memory on demand
    return;
  }
#endif
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) d.exec->run(*d.inputs[i], d.outputs[i]);
  d.times.wall_ms = d.times.kernels_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

const std::vector<float>& Net::output(int slot) const {
  check_slot(slot, batch());
  std::vector<float>& o = impl_->outputs[slot];
#ifdef BTY_HAVE_OPENCL
  if (impl_->cl && o.empty()) {
    const float* p = impl_->cl->output(slot);
    o.assign(p, p + output_size());
  }
#endif
  return o;
}

const float* Net::output_data(int slot) const {
  check_slot(slot, batch());
#ifdef BTY_HAVE_OPENCL
  if (impl_->cl) return impl_->cl->output(slot);
#endif
  return impl_->outputs[slot].data();
}

const uint16_t* Net::output_half(int slot) const {
  check_slot(slot, batch());
#ifdef BTY_HAVE_OPENCL
  if (impl_->cl) return impl_->cl->output_half(slot);
#endif
  return nullptr;
}

void Net::take_output(std::vector<float>& v, int slot) {
  check_slot(slot, batch());
#ifdef BTY_HAVE_OPENCL
  if (impl_->cl) {
    const float* p = impl_->cl->output(slot);
    v.assign(p, p + output_size());
    return;
  }
#endif
  std::swap(impl_->outputs[slot], v);
}

size_t Net::output_size() const { return size_t(output_channels()) * output_width() * output_height(); }
const RunTimes& Net::last_times() const { return impl_->times; }
int Net::batch() const { return impl_->opt.batch; }
Device Net::device() const { return impl_->device; }
std::string Net::device_name() const {
#ifdef BTY_HAVE_OPENCL
  if (impl_->cl) return "OpenCL: " + impl_->cl->device_name();
#endif
  return std::string("cpu (") + to_string(impl_->opt.executor) + ", " + to_string(impl_->kernels.isa) + ", " +
         to_string(precision()) + ", " + std::to_string(impl_->opt.threads) + " threads)";
}
ClReads Net::cl_reads() const {
#ifdef BTY_HAVE_OPENCL
  if (impl_->cl) return impl_->cl->reads();
#endif
  return ClReads::Auto;
}
int Net::input_width() const { return impl_->plan.width[0]; }
int Net::input_height() const { return impl_->plan.height[0]; }
int Net::output_width() const { return impl_->plan.width[impl_->plan.output_tensor]; }
int Net::output_height() const { return impl_->plan.height[impl_->plan.output_tensor]; }
int Net::output_channels() const { return impl_->plan.channels[impl_->plan.output_tensor]; }
Isa Net::isa() const { return impl_->kernels.isa; }
Executor Net::executor() const { return impl_->opt.executor; }
Precision Net::precision() const { return impl_->exec ? impl_->kernels.precision : Precision::Float32; }
RingStorage Net::rings() const { return impl_->exec ? impl_->exec->rings() : RingStorage::Float; }
size_t Net::working_set_bytes() const {
#ifdef BTY_HAVE_OPENCL
  if (impl_->cl) return impl_->cl->device_bytes();
#endif
  return impl_->exec->working_set_bytes();
}
std::vector<std::string> Net::layer_kinds() const {
#ifdef BTY_HAVE_OPENCL
  if (impl_->cl) return {};
#endif
  return impl_->exec ? impl_->exec->conv_kinds() : std::vector<std::string>{};
}
const std::vector<double>& Net::layer_seconds() const {
  static const std::vector<double> none;
#ifdef BTY_HAVE_OPENCL
  if (impl_->cl) return impl_->cl->layer_seconds();
#endif
  return impl_->exec ? impl_->exec->layer_seconds() : none;
}
const std::vector<int64_t>& Net::layer_macs() const { return impl_->macs; }

}  // namespace bty
