// CPUID-based kernel selection, done once when a Net is built.
#include <cpuid.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels.h"
#include "peak_fma.h"

namespace bty {
namespace {
unsigned xcr0() {
  unsigned lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return lo;
}
}  // namespace

Isa best_isa() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::Scalar;
  // F16C (the half-ring row entries) came with or before AVX2 on every Intel and AMD core; checked all the same.
  bool fma = c & bit_FMA, osxsave = c & bit_OSXSAVE, avx = c & bit_AVX, f16c = c & bit_F16C;
  if (!(fma && osxsave && avx && f16c && (xcr0() & 0x6) == 0x6)) return Isa::Scalar;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::Scalar;
  if (!(b & bit_AVX2)) return Isa::Scalar;
  // AVX-512F + VL, and the OS saving opmask and upper ZMM state (XCR0 bits 5-7).
  if ((b & bit_AVX512F) && (b & bit_AVX512VL) && (xcr0() & 0xE0) == 0xE0) return Isa::Avx512;
  return Isa::Avx2;
}

// CPUID.(EAX=7,ECX=1):EAX bit 5, usable only with the AVX-512 state the OS saves (best_isa's check); and AVX512BW,
// which the bf16 convs' word shuffles need (every AVX512_BF16 CPU has it; a VM could hide it).
bool has_avx512_bf16() {
  unsigned a, b, c, d;
  if (best_isa() != Isa::Avx512 || !__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_AVX512BW)) return false;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5));
}

// CPUID.(EAX=7,ECX=0):ECX bit 11, with AVX512BW (the int8 conv's byte packing) and the AVX-512 state.
bool has_avx512_vnni() {
  unsigned a, b, c, d;
  if (best_isa() != Isa::Avx512 || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return (b & bit_AVX512BW) && (c & (1u << 11));
}

const char* to_string(Isa i) {
  switch (i) {
    case Isa::Auto: return "auto";
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

// BTY_ISA caps what Auto picks, so the scalar and AVX2 paths can run on a better CPU (tests, benchmarks).
Isa auto_isa() {
  const Isa best = best_isa();
  const char* env = std::getenv("BTY_ISA");
  if (!env || !*env) return best;
  const std::string v = env;
  Isa cap = v == "scalar" ? Isa::Scalar : v == "avx2" ? Isa::Avx2 : v == "avx512" ? Isa::Avx512 : Isa::Auto;
  if (cap == Isa::Auto)
    throw std::invalid_argument("BTY_ISA='" + v + "': must be scalar, avx2 or avx512 (or unset for the best)");
  return int(cap) < int(best) ? cap : best;
}

const char* to_string(Precision p) {
  switch (p) {
    case Precision::Auto: return "auto";
    case Precision::Float32: return "fp32";
    case Precision::Bf16: return "bf16";
    case Precision::Int8: return "int8";
  }
  return "?";
}

bool bf16_available() { return has_avx512_bf16(); }

namespace {
// Whether the AVX-512 level is what Isa::Auto picks (BTY_ISA may cap it; a bad value: the Net reports it).
bool auto_is_avx512() {
  try {
    return auto_isa() == Isa::Avx512;
  } catch (const std::invalid_argument&) {
    return false;
  }
}
// Whether `fast`'s peak is over 1.5x `slow`'s on one core. A shared host's noise moved one reading of the GPU host's
// Xeon (bf16 dot vs FMA, nominally 0.5x) to 1.26x, so the probes alternate (~3 ms each) and the best of each is kept.
bool peak_beats(PeakOp fast, PeakOp slow) {
  const FmaProbe quick{2000, 60, 5};
  double f = 0, s = 0;
  for (int round = 0; round < 3; ++round) {
    s = std::max(s, peak_gflops(slow, 1, quick));
    f = std::max(f, peak_gflops(fast, 1, quick));
  }
  return f > 1.5 * s;
}
}  // namespace

bool bf16_pays() {
  if (!bf16_available() || !auto_is_avx512()) return false;
  if (amx_bf16_available()) return true;
  static const bool dot_beats_fma = peak_beats(PeakOp::Bf16Dot512, PeakOp::Fma512);  // Zen 4 2x, Intel 0.5x
  return dot_beats_fma;
}

bool int8_pays() {
  if (!int8_available() || !auto_is_avx512()) return false;
  if (amx_bf16_available()) return false;  // AMX-BF16 tiles against VNNI: not measured, so bf16 stays
  // Against what auto would run otherwise: bf16 dot products where they pay, else FMAs (Zen 4: VNNI 2x bf16).
  static const bool vnni_beats = peak_beats(PeakOp::Vnni512, bf16_pays() ? PeakOp::Bf16Dot512 : PeakOp::Fma512);
  return vnni_beats;
}

bool amx_bf16_available() { return has_avx512_bf16() && amx_bf16_usable(); }
bool int8_available() { return has_avx512_vnni(); }

Kernels select_kernels(Isa want, Precision precision) {
  const Isa best = best_isa();
  if (want == Isa::Auto) want = auto_isa();
  if (int(want) > int(best))
    throw std::invalid_argument(std::string("ISA '") + to_string(want) +
                                "' is not available on this CPU (best: " + to_string(best) + ")");
  Kernels k;
  k.isa = want;
  fill_kernels_scalar(k);
  if (want >= Isa::Avx2) fill_kernels_avx2(k);
  if (want >= Isa::Avx512) fill_kernels_avx512(k);
  if (precision == Precision::Auto) precision = kAutoPrecision;
  if (precision == Precision::Bf16) {
    if (!bf16_available())
      throw std::invalid_argument(
          "precision bf16 needs AVX512_BF16 (AMD Zen 4, Intel Cooper Lake, Sapphire Rapids or "
          "newer); this CPU has none");
    if (want != Isa::Avx512)
      throw std::invalid_argument(std::string("precision bf16 runs on the avx512 level, not '") + to_string(want) +
                                  "'");
    fill_kernels_avx512bf16(k);
    if (amx_bf16_available()) fill_kernels_amx(k);
  }
  if (precision == Precision::Int8) {
    if (!int8_available())
      throw std::invalid_argument(
          "precision int8 needs AVX512_VNNI (AMD Zen 4, Intel Cascade Lake, Ice Lake or newer); this CPU has none");
    if (want != Isa::Avx512)
      throw std::invalid_argument(std::string("precision int8 runs on the avx512 level, not '") + to_string(want) +
                                  "'");
    // The convs int8 does not apply to: bf16 pixels where they beat fp32 (Zen 4: no AMX; on Intel the pixels-bf16
    // kind loses to fp32, docs/engine.md), else fp32.
    const bool bf16_rest = bf16_available() && !amx_bf16_available();
    if (bf16_rest) fill_kernels_avx512bf16(k);
    fill_kernels_avx512vnni(k, bf16_rest);
  }
  return k;
}
}  // namespace bty
