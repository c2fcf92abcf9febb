// Net: validates options, selects kernels once, builds the chosen executor.
#include <algorithm>
#include <string>

#include "executor.h"

namespace bty {

const char* to_string(Executor e) {
  switch (e) {
    case Executor::Reference: return "reference";
    case Executor::Layered: return "layered";
    case Executor::Pipeline: return "pipeline";
  }
  return "?";
}

struct Net::Impl {
  std::shared_ptr<const Model> model;
  NetOptions opt;
  Kernels kernels;
  Plan plan;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<ExecutorImpl> exec;
  std::unique_ptr<InputSource> input;
  std::vector<float> output;
  std::vector<int64_t> macs;
};

Net::Net(std::shared_ptr<const Model> model, const NetOptions& o) : impl_(std::make_unique<Impl>()) {
  if (!model) throw std::invalid_argument("Net: no model");
  Impl& d = *impl_;
  d.model = std::move(model);
  d.opt = o;
  const Model& m = *d.model;
  if (o.threads < 1 || o.threads > 64) throw std::invalid_argument("threads must be 1..64");
  int w = o.width ? o.width : m.info.input_width, h = o.height ? o.height : m.info.input_height;
  if (w < m.down_factor || h < m.down_factor || w > 8192 || h > 8192 || w % m.down_factor || h % m.down_factor)
    throw std::invalid_argument("net input size " + std::to_string(w) + "x" + std::to_string(h) +
                                " must be positive multiples of " + std::to_string(m.down_factor) + ", at most 8192");
  if (o.segment_bytes < 16 * 1024) throw std::invalid_argument("segment_bytes must be at least 16 KiB");
  d.kernels = select_kernels(o.executor == Executor::Reference ? Isa::Scalar : o.isa);
  d.plan = make_plan(m, w, h);
  for (const ConvStep& s : d.plan.steps) d.macs.push_back(conv_macs(d.plan, s));
  d.pool = std::make_unique<ThreadPool>(o.executor == Executor::Reference ? 1 : o.threads);
  switch (o.executor) {
    case Executor::Reference: d.exec = make_reference_executor(d.plan); break;
    case Executor::Layered: d.exec = make_layered_executor(d.plan, d.kernels, *d.pool, o.winograd); break;
    case Executor::Pipeline:
      d.exec = make_pipeline_executor(d.plan, d.kernels, *d.pool, o.segment_bytes, o.winograd);
      break;
  }
}

Net::~Net() = default;

void Net::set_input(const ImageView& image, const Rect& roi) {
  impl_->input = std::make_unique<ImageInput>(image, roi, input_width(), input_height(), impl_->model->info,
                                               impl_->kernels.colour_row);
}

void Net::set_input_planar(const float* chw) {
  if (!chw) throw std::invalid_argument("set_input_planar: null input");
  impl_->input = std::make_unique<PlanarInput>(chw, input_width(), input_height());
}

void Net::run() {
  if (!impl_->input) throw std::logic_error("Net::run before set_input");
  impl_->exec->run(*impl_->input, impl_->output);
}

const std::vector<float>& Net::output() const { return impl_->output; }
int Net::input_width() const { return impl_->plan.width[0]; }
int Net::input_height() const { return impl_->plan.height[0]; }
int Net::output_width() const { return impl_->plan.width[impl_->plan.output_tensor]; }
int Net::output_height() const { return impl_->plan.height[impl_->plan.output_tensor]; }
int Net::output_channels() const { return impl_->plan.channels[impl_->plan.output_tensor]; }
Isa Net::isa() const { return impl_->kernels.isa; }
Executor Net::executor() const { return impl_->opt.executor; }
size_t Net::working_set_bytes() const { return impl_->exec->working_set_bytes(); }
const std::vector<double>& Net::layer_seconds() const { return impl_->exec->layer_seconds(); }
const std::vector<int64_t>& Net::layer_macs() const { return impl_->macs; }

}  // namespace bty
