// AVX2 + FMA kernels (compiled with -mavx2 -mfma; called only when CPUID reports both).
#include <algorithm>

#include "../kernels.h"
#include "ymm_traits.h"

namespace bty {
namespace {
#include "../conv_tile.inc"
#include "../winograd.inc"
}  // namespace

void conv_row_avx2(const TileConv& c, int ty, int y0, int y1, int tx0, int tx1, const RowWindow* win,
                   float* dst) {
  conv_row_impl<YmmV>(c, ty, y0, y1, tx0, tx1, win, dst);
}
}  // namespace bty
