// The int8 quantisation of one conv's operands (Precision::Int8), apart from the kernels: the model loader asks it
// whether a file's weights already lie on their grid (ModelInfo::int8_on_grid), the kernels' setup quantises with it.
#pragma once
#include <cstdint>
#include <vector>

#include "model.h"

namespace bty {

// Per input channel the activation step (calibrated max / 255; 0: the channel is dropped), per output channel the
// weights' step; w_q[co][ci][k] in -127..127 (OIHW).
struct Int8Quant {
  std::vector<float> x_step, w_step;
  std::vector<int8_t> w_q;
};
Int8Quant quantise_int8(const ConvStep& step);

// Whether every weight of the conv is its int8 value to within 1e-3 of a step (a net fine-tuned on the grid:
// models/beautynet/train.py --qat): int8 then multiplies the same weights fp32 does and rounds only the activations.
bool int8_weights_on_grid(const ConvStep& step, const Int8Quant& q);

}  // namespace bty
