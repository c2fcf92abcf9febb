// CPUID-based kernel selection, done once when a Net is built.
#include <cpuid.h>

#include <stdexcept>
#include <string>

#include "kernels.h"

namespace bty {
namespace {
bool os_saves_ymm() {
  unsigned lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 0x6) == 0x6;
}
}  // namespace

Isa best_isa() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::Scalar;
  bool fma = c & bit_FMA, osxsave = c & bit_OSXSAVE, avx = c & bit_AVX;
  if (!(fma && osxsave && avx && os_saves_ymm())) return Isa::Scalar;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::Scalar;
  if (!(b & bit_AVX2)) return Isa::Scalar;
  return Isa::Avx2;
}

const char* to_string(Isa i) {
  switch (i) {
    case Isa::Auto: return "auto";
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
  }
  return "?";
}

Kernels select_kernels(Isa want) {
  Isa best = best_isa();
  if (want == Isa::Auto) want = best;
  if (int(want) > int(best))
    throw std::invalid_argument(std::string("ISA '") + to_string(want) + "' is not available on this CPU (best: " +
                                to_string(best) + ")");
  Kernels k;
  k.isa = want;
  k.conv_row = want == Isa::Avx2 ? conv_row_avx2 : conv_row_scalar;
  return k;
}
}  // namespace bty
