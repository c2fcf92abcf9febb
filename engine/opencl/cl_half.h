// IEEE half -> float for the OpenCL executor's half-precision downloads: F16C where the CPU has it (every AVX2 CPU),
// else the portable conversion of half.h. Exact either way (every half is a float).
#pragma once
#include <cstddef>
#include <cstdint>

namespace bty::cl {

void half_to_float(const uint16_t* in, float* out, size_t n);

}  // namespace bty::cl
