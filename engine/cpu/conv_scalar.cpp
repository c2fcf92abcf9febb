// Portable kernels: plain C++ over 8-float structs. The fallback on CPUs without AVX2 and the TILE-level oracle the
// SIMD versions are tested against.
#include <algorithm>
#include <cmath>

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
};
#include "../conv_tile.inc"
#include "../winograd.inc"
}  // namespace

void conv_row_scalar(const TileConv& c, int ty, int y0, int y1, int tx0, int tx1, const RowWindow* win,
                   float* dst) {
  conv_row_impl<ScalarV>(c, ty, y0, y1, tx0, tx1, win, dst);
}
}  // namespace bty
