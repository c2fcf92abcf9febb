// Portable kernels: plain C++ over 8-float structs. The fallback on CPUs without AVX2 and the TILE-level oracle the
// SIMD versions are tested against.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "../kernels.h"

namespace bty {
namespace {
struct ScalarV {
  struct T {
    float v[8];
  };
  static T load(const float* p) {
    T r;
    for (int l = 0; l < 8; ++l) r.v[l] = p[l];
    return r;
  }
  static T bcast(const float* p) {
    T r;
    for (int l = 0; l < 8; ++l) r.v[l] = *p;
    return r;
  }
  static T fma(const T& a, const T& b, const T& c) {
    T r;
    for (int l = 0; l < 8; ++l) r.v[l] = std::fma(a.v[l], b.v[l], c.v[l]);
    return r;
  }
  static T add(T a, const T& b) {
    for (int l = 0; l < 8; ++l) a.v[l] += b.v[l];
    return a;
  }
  static T sub(T a, const T& b) {
    for (int l = 0; l < 8; ++l) a.v[l] -= b.v[l];
    return a;
  }
  static T zero() { return T{}; }
  static T relu(T a) {
    for (float& x : a.v) x = std::max(x, 0.0f);
    return a;
  }
  static T tanh(T a) {
    for (float& x : a.v) x = std::tanh(x);
    return a;
  }
  static void store(float* p, const T& a) { std::copy(a.v, a.v + 8, p); }
  // Pixel-vector side of ConvKind::Pixels (pixels.inc): the same 8-float type with pixels in the lanes.
  static constexpr int N = 8;
  static constexpr bool kHalfPasses = false;
  static T bias(float b) { return bcast(&b); }
  static T fma_bcast(const T& x, const float* w, const T& acc) { return fma(x, bcast(w), acc); }
  static void to_pixels(const T* acc, float* const* out8) {
    for (int i = 0; i < N; ++i)
      for (int m = 0; m < 8; ++m) out8[0][i * 8 + m] = acc[m].v[i];
  }
  static void t8(const float* const* from, int lanes, float* dst, size_t stride) {
    for (int c = 0; c < lanes; ++c)
      for (int i = 0; i < 8; ++i) dst[c * stride + i] = from[i][c];
  }
};
#include "../conv_tile.inc"
#include "../pixels.inc"
#include "../winograd.inc"
}  // namespace

void pack_input_scalar(const float*, const float*, const float*, int, float*, size_t);
void unpack_scalar(const float*, size_t, int, int, int, float* const*);
void colour_row_scalar(float*, int, int, const ColourParams&);
void to_half_scalar(const float*, size_t, uint16_t*);
void from_half_scalar(const uint16_t*, size_t, float*);

void fill_kernels_scalar(Kernels& k) {
  k.conv[int(ConvKind::Direct)] = conv_direct<GroupPairs<ScalarV>, ScalarV>;
  k.conv[int(ConvKind::Winograd)] = wino_rows<ScalarV>;
  k.conv[int(ConvKind::Pixels)] = conv_pixels<ScalarV, ScalarV>;
  k.conv_input = conv_input_by_kind<ScalarV, ScalarV>;
  k.conv_input_direct = true;
  k.choose = choose_kind_ymm;
  k.pack_input = pack_input_scalar;
  k.unpack = unpack_scalar;
  k.colour_row = colour_row_scalar;
  k.to_half = to_half_scalar;
  k.from_half = from_half_scalar;
}
}  // namespace bty
