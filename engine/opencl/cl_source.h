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

// Low-resolution steps have too few output pixels to fill a GPU at batch 1 (a 20x28 map: 8 work-groups per output
// block), and each work-item's serial loop over every input channel and tap is long: measured 50-90 us a conv on the
// H200. Below kSplitBelowItems work-items (batch 1) a step splits its input channels over `split` work-items of one
// group (the z axis, every split-th channel each), which add their partial sums in local memory; it reads global
// memory (small maps stay in the caches) in a kSplitGroupX x kSplitGroupY pixel tile, which wastes less on them.
constexpr int kSplitBelowItems = 65536, kSplitGroupX = 8, kSplitGroupY = 4, kMaxSplit = 8;
constexpr int kMinSplitChannels = 4;  // input channels per slice at least
struct StepLaunch {
  int group_x = kGroupX, group_y = kGroupY;  // output pixels per work-group
  int split = 1;                             // input-channel slices per output pixel (1: none)
  int out_block = 1;                         // output channels per work-item
  size_t global[3] = {0, 0, 0};              // for `count` faces
  size_t local[3] = {0, 0, 0};
};
StepLaunch step_launch(const Plan& plan, size_t step, int count = 1);

std::string kernel_name(size_t step);
// local_tiles: each work-group of an unsplit step stages its input patch (all taps, zero padding, upsampling) in
// local memory per chunk of input channels; otherwise every tap reads global memory (through the device's caches).
// half_output: the head (the output tensor) is stored as half (vstore_half), halving the download.
std::string kernel_source(const Plan& plan, bool local_tiles, bool half_output = false);
// The kernel that builds the net input on the device from 8-bit gathered slots (input_prep.h).
constexpr const char* kPrepKernel = "prep_input";

}  // namespace bty::cl
