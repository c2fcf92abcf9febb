#include "half.h"

#include <cstring>

namespace bty {

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t abs = x & 0x7fffffff;
  if (abs >= 0x7f800000)  // inf, or NaN quietened with the payload's top bits kept (as F16C does)
    return uint16_t(sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 | ((abs >> 13) & 0x3ff) : 0));
  const int exp = int(abs >> 23) - 127;
  if (exp > 15) return uint16_t(sign | 0x7c00);  // rounds to inf whatever the mantissa
  uint32_t man = (abs & 0x7fffff) | 0x800000;    // 24 significant bits with the implicit one
  int shift;                                     // bits dropped from the 24
  uint32_t base;                                 // the half's exponent field before the mantissa is added
  if (exp >= -14) {
    shift = 13;
    base = uint32_t(exp + 15) << 10;
    man &= 0x7fffff;  // normal: the implicit one is the exponent field's
  } else {
    shift = -exp - 1;  // subnormal: value = man * 2^(exp-23) = m * 2^-24 -> m = man >> (-exp - 1)
    if (shift > 24) return uint16_t(sign);
    base = 0;
  }
  const uint32_t kept = man >> shift, rest = man & ((1u << shift) - 1), half = 1u << (shift - 1);
  uint32_t h = base + kept;  // a carry out of the mantissa bumps the exponent, up to inf: the format allows it
  if (rest > half || (rest == half && (kept & 1))) ++h;
  return uint16_t(sign | h);
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13) | (man ? 0x400000u : 0);  // inf; NaN quietened, as F16C does
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);  // normal: rebias 15 -> 127
  } else if (man == 0) {
    bits = sign;  // +-0
  } else {        // subnormal half: normalise the mantissa
    exp = 113;
    while (!(man & 0x400)) man <<= 1, --exp;
    bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace bty
