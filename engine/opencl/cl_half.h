// IEEE half -> float for the OpenCL executor's half-precision downloads: F16C where the CPU has it (every AVX2 CPU),
// else a portable bit conversion. Exact either way (every half is a float).
#pragma once
#include <cstddef>
#include <cstdint>

namespace bty::cl {

void half_to_float(const uint16_t* in, float* out, size_t n);
float half_to_float_portable(uint16_t h);  // the fallback, one value (tests compare it with F16C)

}  // namespace bty::cl
