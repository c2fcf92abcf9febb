// AVX2 + FMA kernels (compiled with -mavx2 -mfma; called only when CPUID reports both).
#include <algorithm>
#include <type_traits>

#include "../kernels.h"
#include "ymm_traits.h"

namespace bty {
namespace {
#include "../conv_tile.inc"
#include "../pixels.inc"
#include "../winograd.inc"
}  // namespace

void pack_input_avx2(const float*, const float*, const float*, int, float*, size_t);
void unpack_avx2(const float*, size_t, int, int, int, float* const*);
void colour_row_avx2(float*, int, int, const ColourParams&);
void to_half_avx2(const float*, size_t, uint16_t*);
void from_half_avx2(const uint16_t*, size_t, float*);

void fill_kernels_avx2(Kernels& k) {
  k.conv[int(ConvKind::Direct)] = conv_direct<GroupPairs<YmmV>, YmmV>;
  k.conv[int(ConvKind::Winograd)] = wino_rows<YmmV>;
  k.conv[int(ConvKind::Pixels)] = conv_pixels<YmmV, YmmPair>;
  k.conv_input = conv_input_by_kind<YmmV, YmmPair>;
  k.conv_input_direct = true;
  k.pack_input = pack_input_avx2;
  k.unpack = unpack_avx2;
  k.colour_row = colour_row_avx2;
  k.to_half = to_half_avx2;
  k.from_half = from_half_avx2;
}
}  // namespace bty
