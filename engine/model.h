// The validated in-memory model (docs/model-format.md) and the conv plan derived from it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "beautify/engine.h"

namespace bty {

enum class Op : uint32_t { Conv = 1, Upsample = 2, Concat = 3 };
enum class Act : uint32_t { None = 0, Relu = 1, Tanh = 2 };

struct Layer {
  Op op = Op::Conv;
  int a = 0, b = -1;  // input tensor indices (tensor 0 = net input, tensor i+1 = output of layer i)
  int out_channels = 0;
  int stride = 1;
  Act act = Act::None;
  std::vector<float> weights;  // conv: OIHW
  std::vector<float> bias;
  // Version 3, conv only: the maximum of each input channel over the calibration crops (empty: not calibrated).
  // Precision::Int8 quantises a conv's input to 0..255 per channel from it (docs/model-format.md).
  std::vector<float> input_max;
};

class Model {
 public:
  ModelInfo info;
  std::vector<Layer> layers;
  std::vector<int> channels;  // per tensor
  int down_factor = 1;        // product of strides along the deepest path: input sizes must be multiples of it
};

// One source a conv reads: a materialized tensor, possibly seen through a nearest x2 upsample, contributing
// `channels` input channels starting at `channel_offset` of the conv's (concatenated) input.
struct ConvSource {
  int tensor = 0;
  bool up = false;
  int channels = 0;
  int channel_offset = 0;
};

// A conv with its concat/upsample inputs folded into its reads.
struct ConvStep {
  int layer = 0;   // index into Model::layers
  int tensor = 0;  // the tensor it produces
  std::vector<ConvSource> sources;
  int in_channels = 0, out_channels = 0, stride = 1;
  Act act = Act::None;
  const float* weights = nullptr;  // OIHW, in_channels in concat order
  const float* bias = nullptr;
  const float* input_max = nullptr;  // per input channel (concat order), or null: Layer::input_max
  bool input_nonneg = false;         // every source is a ReLU conv's output (int8 needs unsigned inputs)
};

// Spatial size of every tensor for a given input size, and the convs in execution order.
struct Plan {
  std::vector<int> width, height, channels;  // per tensor
  std::vector<bool> materialized;            // input and conv outputs
  std::vector<ConvStep> steps;
  int output_tensor = 0;
};
Plan make_plan(const Model& m, int width, int height);

// parse_model() without its last rule (head channels == output_maps(output_kind) x output_shuffle^2): for the
// kernel tests, whose single-op nets end in a conv of any width. Everything else is validated the same.
std::shared_ptr<const Model> parse_model_any_head(const uint8_t* data, size_t size, const std::string& name);
int64_t conv_macs(const Plan& p, const ConvStep& s);

}  // namespace bty
