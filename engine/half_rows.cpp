// IEEE half -> float rows (engine.h): F16C where the CPU has it (every AVX2 CPU), else the portable conversion of
// half.h. Exact either way (every half is a float).
#include "beautify/engine.h"
#include "half.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define BTY_HALF_X86 1
#endif

namespace bty {

namespace {
#ifdef BTY_HALF_X86
__attribute__((target("f16c,avx"))) void half_to_float_f16c(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
  for (; i < n; ++i) out[i] = bty::half_to_float(in[i]);
}
#endif
}  // namespace

void half_to_float(const uint16_t* in, float* out, size_t n) {
#ifdef BTY_HALF_X86
  // F16C from CPUID leaf 1 (clang's __builtin_cpu_supports does not know "f16c"), AVX with OS support.
  static const bool f16c = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) && __builtin_cpu_supports("avx");
  }();
  if (f16c) return half_to_float_f16c(in, out, n);
#endif
  for (size_t i = 0; i < n; ++i) out[i] = bty::half_to_float(in[i]);
}

}  // namespace bty
