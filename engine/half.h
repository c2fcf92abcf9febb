// IEEE 754 binary16 ("half") conversions, portable: the scalar row entries of the kernel table (the pipeline's half
// rings), the oracle the F16C entries are tested against, and the OpenCL executor's fallback for half downloads.
// float -> half rounds to nearest even (as vcvtps2ph with _MM_FROUND_TO_NEAREST_INT does): overflow gives +-inf,
// values below the smallest subnormal round to +-0, NaN stays a (quiet) NaN. half -> float is exact.
#pragma once
#include <cstdint>

namespace bty {

uint16_t float_to_half(float f);
float half_to_float(uint16_t h);

}  // namespace bty
