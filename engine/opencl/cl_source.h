// OpenCL C source of one model at one input size: one kernel per conv step, with every channel count, map size,
// stride, activation and folded upsample/concat read written into the code as constants.
#pragma once
#include <string>

#include "model.h"

namespace bty::cl {

// Work-group tile of output pixels (x, y); the batch and output-channel blocks are the third dimension.
constexpr int kGroupX = 16, kGroupY = 8;
// Largest local-memory patch a work-group stages per chunk of input channels, in floats (16 KiB: leaves room for
// several resident groups on every GPU's 48-64 KiB of local memory).
constexpr int kLocalFloats = 4096;

// Output channels one work-item accumulates (registers): 8, 4, 2 or 1, whichever is the largest divisor.
int out_block(int out_channels);

std::string kernel_name(size_t step);
// local_tiles: each work-group stages its input patch (all taps, zero padding, upsampling) in local memory per chunk
// of input channels; otherwise every tap reads global memory (through the device's caches).
std::string kernel_source(const Plan& plan, bool local_tiles);

}  // namespace bty::cl
