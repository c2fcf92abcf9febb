#pragma once
namespace bty::tools {
// Measured peak FP32 GFLOP/s (2 flops per FMA lane) on `threads` threads; needs AVX2+FMA.
double peak_gflops(int threads);
}  // namespace bty::tools
