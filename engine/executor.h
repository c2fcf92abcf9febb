// The three executors behind Net. Each runs a Plan on an InputSource and fills planar CHW output.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "input_prep.h"
#include "kernels.h"
#include "model.h"
#include "thread_pool.h"

namespace bty {

class ExecutorImpl {
 public:
  virtual ~ExecutorImpl() = default;
  virtual void run(const InputSource& in, std::vector<float>& out) = 0;
  virtual size_t working_set_bytes() const = 0;
  virtual const std::vector<double>& layer_seconds() const { return no_times_; }
  virtual RingStorage rings() const { return RingStorage::Float; }
  // Per conv layer, the kind of kernel it runs (to_string(ConvKind)); empty where the executor has no kernel table.
  virtual std::vector<std::string> conv_kinds() const { return {}; }

 private:
  std::vector<double> no_times_;
};

std::unique_ptr<ExecutorImpl> make_reference_executor(const Plan& plan);
std::unique_ptr<ExecutorImpl> make_layered_executor(const Plan& plan, const Kernels& k, ThreadPool& pool,
                                                    bool winograd);
std::unique_ptr<ExecutorImpl> make_pipeline_executor(const Plan& plan, const Kernels& k, ThreadPool& pool,
                                                     size_t segment_bytes, bool winograd, RingStorage rings);

}  // namespace bty
