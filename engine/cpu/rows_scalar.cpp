// Portable row kernels of the TILE read/write paths and the input colour step: the fallback and the oracle for
// the SIMD versions (x86/rows_avx2.cpp).
#include <algorithm>

#include "../half.h"
#include "../kernels.h"

namespace bty {

void pack_input_scalar(const float* r, const float* g, const float* b, int n, float* dst, size_t tile_stride) {
  for (int i = 0; i < (n + kTile - 1) / kTile * kTile; ++i) {
    float* p = dst + size_t(i / kTile) * tile_stride + (i % kTile) * kGroup;
    std::fill(p, p + kGroup, 0.0f);
    if (i >= n) continue;
    p[0] = r[i];
    p[1] = g[i];
    p[2] = b[i];
  }
}

void unpack_scalar(const float* row, size_t tile_stride, int first, int n, int lanes, float* const* planes) {
  for (int i = 0; i < n; ++i) {
    const int p = first + i;
    const float* v = row + size_t(p >> 3) * tile_stride + (p & 7) * kGroup;
    for (int c = 0; c < lanes; ++c) planes[c][i] = v[c];
  }
}

void colour_row_scalar(float* rows, int stride, int n, const ColourParams& p) {
  for (int i = 0; i < n; ++i) {
    float in[3], v[3];
    for (int c = 0; c < 3; ++c) in[c] = rows[c * stride + i] - p.off[c];
    for (int r = 0; r < 3; ++r) {
      v[r] = p.add[r] + p.m[r][0] * in[0] + p.m[r][1] * in[1] + p.m[r][2] * in[2];
      if (p.clamp) v[r] = std::clamp(v[r], 0.0f, 255.0f);
      rows[r * stride + i] = v[r] * p.scale + p.bias;
    }
  }
}

void to_half_scalar(const float* src, size_t n, uint16_t* dst) {
  for (size_t i = 0; i < n; ++i) dst[i] = float_to_half(src[i]);
}

void from_half_scalar(const uint16_t* src, size_t n, float* dst) {
  for (size_t i = 0; i < n; ++i) dst[i] = half_to_float(src[i]);
}

}  // namespace bty
