// TILE layout and the conv kernel interface shared by the scalar and SIMD implementations.
//
// Layout: a feature map is a sequence of tile-rows (8 pixel rows each); a tile-row holds ceil(W/8) tiles; a tile
// holds every channel of an 8x8 pixel block as ceil(C/8) channel groups of [8 rows][8 cols][8 channels]. So one
// pixel's 8 channels are one 32-byte AVX2 vector, a tile's channel group is 2 KiB contiguous, and a tile-row is the
// unit the pipeline schedules. Why 8 channels x 1 pixel rather than 8 pixels x 1 channel: the direct 3x3 kernel
// broadcasts one input value and multiplies it by a vector of 8 output-channel weights, so every FMA is useful
// whatever the image width, taps never need cross-lane shuffles (a shifted tap is just another pixel pointer, also
// across tile boundaries), and the padded lanes of the 3-channel input cost only the first layer.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "aligned.h"
#include "beautify/engine.h"
#include "input_prep.h"
#include "int8_quant.h"
#include "model.h"

namespace bty {

constexpr int kTile = 8;
constexpr int kGroup = 8;                             // channels per group = AVX2 fp32 lanes
constexpr int kGroupFloats = kTile * kTile * kGroup;  // 512 floats = 2 KiB
constexpr int kMaxGroups = 8;                         // 64 channels

struct TileGeom {
  int width = 0, height = 0, channels = 0;
  int groups = 0, tiles_x = 0, tiles_y = 0;
  size_t row_floats = 0;  // floats per tile-row
  TileGeom() = default;
  TileGeom(int w, int h, int c)
      : width(w), height(h), channels(c), groups((c + kGroup - 1) / kGroup), tiles_x((w + kTile - 1) / kTile),
        tiles_y((h + kTile - 1) / kTile), row_floats(size_t(tiles_x) * groups * kGroupFloats) {}
  size_t offset(int x, int y_in_tile, int group) const {
    return (size_t(x >> 3) * groups + group) * kGroupFloats + y_in_tile * 64 + (x & 7) * 8;
  }
};

// ConvKind::AmxBf16's weights: 2 = each weight as hi + lo bf16 (TileConv::amx_parts), 1 = rounded to bf16 once.
constexpr int kAmxWeightParts = 2;

// How a conv is computed; every kernel level implements every kind (make_tile_conv picks one per conv).
enum class ConvKind {
  Direct,    // per-pixel tap pointers, NPX pixels x 2 output groups in registers (several output groups)
  Winograd,  // F(2x2, 3x3), stride 1
  Pixels,    // pixels in the lanes: input rows transposed to planar once per call, weights broadcast (narrow convs)
  AmxBf16,   // AMX-BF16 tiles: bf16 activations and weights, fp32 accumulation (Precision::Bf16 only, x86/conv_amx.cpp)
  PixelsBf16,  // Pixels with AVX512-BF16 dot products (vdpbf16ps): bf16 channel pairs and weights, fp32 sums
               // (Precision::Bf16 only, x86/conv_avx512bf16.cpp)
  PixelsI8,    // Pixels with AVX512-VNNI dot products (vpdpbusd): u8 channel quads x s8 weights, int32 sums
               // (Precision::Int8 only, calibrated convs with ReLU inputs: int8_applies; x86/conv_avx512vnni.cpp)
};
constexpr int kConvKinds = 6;
constexpr int kFloatConvKinds = 3;  // the fp32 kinds, which every level implements (the bf16 kinds come after them)
const char* to_string(ConvKind k);

// A conv prepared for the TILE kernels: weights repacked per 8 output channels, column offset tables per source.
struct TileConv {
  struct Source {
    TileGeom geom;
    bool up = false;
    std::vector<int> xoff;  // [ox * 3 + kx]: float offset inside a source tile-row, or -1 for zero padding
    std::vector<int> col;   // [ix + 1], input-grid column ix = -1..in_w: the same offsets per column
  };
  const ConvStep* step = nullptr;
  TileGeom out;
  int in_w = 0, in_h = 0;  // the conv's input grid (after folded upsampling)
  std::vector<Source> src;
  AlignedFloats packed;     // [out group][source][ky][kx][source channel][8]
  size_t packed_group = 0;  // floats per output group
  AlignedFloats bias;       // [out group][8]
  ConvKind kind = ConvKind::Direct;
  AlignedFloats wino;      // U = G g G^T: [out group][16 positions][input channel][8]
  AlignedFloats wino16;    // the same for 16-lane products: [group pair][16 positions][input channel][16]
  AlignedFloats packed16;  // the same weights for 16-lane kernels: [group pair][source][ky][kx][channel][16]
  AlignedFloats bias16;    // [group pair][16]
  // ConvKind::AmxBf16 (x86/conv_amx.cpp): a tap row's K dimension is the 3 kx taps x amx_cin8 channels of a bf16
  // pixel (every source's groups, 8 lanes each, padded lanes zero), padded to amx_kblocks blocks of 32. Weights as
  // AMX B tiles in the VNNI pair layout: [ky][k block][part][n tile][16 pairs][16 outputs][2] bf16; padding is zero.
  // amx_parts = 2 splits each weight into hi + lo bf16 (w - hi rounded again: ~16 mantissa bits; one more tile
  // product per A tile), so only the activations are rounded.
  std::vector<uint16_t, AlignedAllocator<uint16_t>> amx_b;
  int amx_cin8 = 0, amx_kblocks = 0, amx_ntiles = 0, amx_parts = kAmxWeightParts;  // ntiles: 16-output tiles
  // hi + lo with <= 8 outputs: lo sits in B columns 8-15 of hi's tile (one product per A tile instead of two; the
  // epilogue adds the two halves): amx_b then holds one part.
  bool amx_fold = false;
  int amx_b_parts() const { return amx_fold ? 1 : amx_parts; }  // weight parts amx_b holds per K block and tile
  AlignedFloats amx_bias;                                       // [n tile][16]
  // ConvKind::PixelsBf16: [out group][ky][kx][channel pair][8 outputs] as bf16 pairs in 32 bits (low half: the even
  // channel, as vdpbf16ps pairs them); channels in the sources' order, an odd count padded with a zero weight.
  std::vector<uint32_t, AlignedAllocator<uint32_t>> pair_w;
  // ConvKind::PixelsI8: input channel q is quantised as u8 = round(x * quad_inv[q]) clamped to 0..255 (quad_inv =
  // 255 / the calibrated maximum, 0 for a channel that never fired); weights [out group][ky][kx][channel quad][8
  // outputs] as 4 s8 in 32 bits (byte k: channel 4 quad + k), per output channel of the weights times the input
  // scales; a sum of products times quad_scale[output] is the fp32 sum.
  std::vector<uint32_t, AlignedAllocator<uint32_t>> quad_w;
  AlignedFloats quad_inv;    // [input channel]
  AlignedFloats quad_scale;  // [out group][8]
  // The conv may read the net input straight from its InputSource (Kernels::conv_input): its only source is the
  // input, nothing else reads the input, and it runs the fp32 pixels kind or (Kernels::conv_input_direct) the direct
  // one. The pipeline executor then keeps no input
  // stage; the layered one, an oracle, still writes the TILE input map and reads it (the same values either way).
  bool input_fused = false;
};
// `winograd` allows ConvKind::Winograd where it pays; `force` (tests, micro-bench) overrides the choice (Winograd
// only for stride 1).
// amx_parts: ConvKind::AmxBf16's weight split (TileConv::amx_parts: 2 = hi + lo, 1 = plain bf16 weights).
TileConv make_tile_conv(const Plan& plan, const ConvStep& step, bool winograd, const ConvKind* force = nullptr,
                        int amx_parts = kAmxWeightParts);
struct Kernels;
// The kind the table's level prefers for this conv (Kernels::choose).
TileConv make_tile_conv(const Plan& plan, const ConvStep& step, const Kernels& k, bool winograd);
bool conv_kind_applies(const ConvStep& step, ConvKind k);
// Whether ConvKind::PixelsI8 can run a conv: its model carries the input's calibration and every input is a ReLU
// output (unsigned 8-bit activations).
bool int8_applies(const ConvStep& step);

// Source tile-rows a conv's output tile-row needs: rows [first, first + count) of source s (clipped to the map).
void source_rows(const TileConv& c, int s, int ty, int& first, int& count);
// The same as source pixel rows [y0, y1] (inclusive): a tile-row's kernels read no other rows of the window.
void source_pixel_rows(const TileConv& c, int s, int ty, int& y0, int& y1);

// Up to 3 consecutive source tile-rows; rows[k] is tile-row (first + k).
struct RowWindow {
  const float* rows[3] = {nullptr, nullptr, nullptr};
  int first = 0;
};

// Computes pixel rows [y0, y1) (0..8, within the tile-row) of output tile-row `ty`, tiles [tx0, tx1), into `dst`
// (that tile-row's storage).
using ConvRowFn = void (*)(const TileConv& c, int ty, int y0, int y1, int tx0, int tx1, const RowWindow* win,
                           float* dst);

// The net input as the first conv reads it when input preparation is fused into that conv (TileConv::input_fused):
// map column x is input column x_origin + x.
struct InputWindow {
  const InputSource* source = nullptr;
  int x_origin = 0;
};
// As ConvRowFn, reading the net input from `in` instead of TILE rows.
using ConvInputRowFn = void (*)(const TileConv& c, int ty, int y0, int y1, int tx0, int tx1, const InputWindow& in,
                                float* dst);

// Row kernels of the TILE read/write paths (one tile's pixels at a time: they are contiguous 8-float vectors).
// n pixels from 3 planar rows -> pixel vectors of one pixel row across tiles, lanes 3..7 zeroed: pixel i goes to
// dst + (i / 8) * tile_stride + (i % 8) * 8 (dst: that row of the first tile); the last tile's pixels past n are
// zeroed (the map's right edge).
using PackInputFn = void (*)(const float* r, const float* g, const float* b, int n, float* dst, size_t tile_stride);
// Pixels [first, first + n) of one pixel row and channel group, across tiles -> `lanes` planar rows: pixel p's
// vector is row + (p / 8) * tile_stride + (p % 8) * 8 (row: that pixel row of tile 0), planes[c][p - first] = lane
// c. One call per row and group: the tiles are walked inside the kernel.
using UnpackFn = void (*)(const float* row, size_t tile_stride, int first, int n, int lanes, float* const* planes);
// n floats <-> n IEEE halves (the pipeline's half rings, NetOptions::rings): round to nearest even (half.h), exact
// back.
using ToHalfFn = void (*)(const float* src, size_t n, uint16_t* dst);
using FromHalfFn = void (*)(const uint16_t* src, size_t n, float* dst);

// One table per CPU level, filled once (dav1d-style): every hot loop of the engine. tests/engine/test_kernel_table.cpp
// checks each SIMD entry against the scalar one; `bty-bench --kernels` times each entry.
struct Kernels {
  Isa isa = Isa::Scalar;
  Precision precision = Precision::Float32;  // Bf16 / Int8: the reduced-precision kinds are filled, `choose` picks them
  ConvRowFn conv[kConvKinds] = {};
  ConvInputRowFn conv_input = nullptr;  // the conv reading the net input (TileConv::input_fused), by its kind:
  bool conv_input_direct = false;       // ConvKind::Pixels, and where true also ConvKind::Direct (its direct3 form)
  // Which kind runs a conv at this level: measured per layer with `bty-bench --kernels` (docs/engine.md).
  ConvKind (*choose)(const ConvStep& s, bool winograd) = nullptr;
  PackInputFn pack_input = nullptr;
  UnpackFn unpack = nullptr;
  ColourRowFn colour_row = nullptr;
  ToHalfFn to_half = nullptr;
  FromHalfFn from_half = nullptr;
  void conv_row(const TileConv& c, int ty, int y0, int y1, int tx0, int tx1, const RowWindow* win, float* dst) const {
    conv[int(c.kind)](c, ty, y0, y1, tx0, tx1, win, dst);
  }
};
// The table of one level; `want` = Auto selects the best the CPU has, capped by the environment variable BTY_ISA
// (scalar, avx2, avx512: runs the lower paths on a better CPU). A level above the CPU's is an error.
// precision = Bf16 adds the bf16 convs: the AVX512-BF16 pixels kind (fill_kernels_avx512bf16) and, where the CPU
// and OS grant AMX, the AMX-BF16 conv (fill_kernels_amx); an error unless the level is Avx512 and bf16_available().
// Auto means kAutoPrecision.
Kernels select_kernels(Isa want, Precision precision = Precision::Float32);
// The best level CPUID allows, capped by BTY_ISA.
Isa auto_isa();
// AVX512_BF16 (vdpbf16ps, vcvtne2ps2bf16) with the AVX-512 state enabled.
bool has_avx512_bf16();
// AVX512_VNNI (vpdpbusd) and AVX512BW with the AVX-512 state enabled.
bool has_avx512_vnni();

// Per-level fillers (each in its own translation unit, compiled with that level's flags).
void fill_kernels_scalar(Kernels& k);
ConvKind choose_kind_ymm(const ConvStep& s, bool winograd);  // scalar and AVX2 levels
void fill_kernels_avx2(Kernels& k);
void fill_kernels_avx512(Kernels& k);
ConvKind choose_kind_zmm(const ConvStep& s, bool winograd);   // the AVX-512 level
void fill_kernels_avx512bf16(Kernels& k);                     // on top of the AVX-512 level (Precision::Bf16)
void fill_kernels_amx(Kernels& k);                            // on top of that, where AMX is granted
ConvKind choose_kind_bf16(const ConvStep& s, bool winograd);  // the AVX512-BF16 pixels level
// Precision::Int8 on top of the AVX-512 level (and of the AVX512-BF16 one when bf16_rest: the convs int8 does not
// apply to run as with Precision::Bf16).
void fill_kernels_avx512vnni(Kernels& k, bool bf16_rest);
// bf16 <-> float as the AMX conv rounds (round to nearest even; NaN stays NaN).
uint16_t float_to_bf16(float f);
float bf16_to_float(uint16_t h);

// TILE tile-row -> planar CHW: columns [x_from, x_to) of the map go to out columns x + x_shift.
// Input rows -> pixel rows [y0, y1) of tiles [tx0, tx1) of TILE tile-row ty; x_origin = the map's column 0 in input
// coordinates.
void write_input_tile_row(const Kernels& k, const InputSource& in, const TileGeom& g, int ty, int y0, int y1,
                          int x_origin, int tx0, int tx1, float* dst);
void read_output_tile_row(const Kernels& k, const TileGeom& g, const float* row, int ty, int x_from, int x_to,
                          int x_shift, std::vector<float>& out, int out_w, int out_h);

}  // namespace bty
