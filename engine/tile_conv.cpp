// Prepares convs for the TILE kernels and converts between planar rows and TILE tile-rows.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace bty {

const char* to_string(ConvKind k) {
  switch (k) {
    case ConvKind::Direct: return "direct";
    case ConvKind::Winograd: return "winograd";
    case ConvKind::Pixels: return "pixels";
    case ConvKind::AmxBf16: return "amx-bf16";
    case ConvKind::PixelsBf16: return "pixels-bf16";
    case ConvKind::PixelsI8: return "pixels-int8";
  }
  return "?";
}

uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // NaN stays a (quiet) NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

float bf16_to_float(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

namespace {
// ConvKind::AmxBf16's weights (kernels.h, TileConv::amx_b): per tap row ky, K = kx * cin8 + the channel's place in
// the bf16 pixel (sources' groups in order, 8 lanes each), as B tiles of 32 K x 16 outputs in VNNI pairs.
void pack_amx(const ConvStep& s, TileConv& c) {
  int cin8 = 0;
  for (const ConvSource& cs : s.sources) cin8 += TileGeom(1, 1, cs.channels).groups * kGroup;
  c.amx_cin8 = cin8;
  c.amx_kblocks = (3 * cin8 + 31) / 32;
  c.amx_ntiles = (s.out_channels + 15) / 16;
  c.amx_fold = c.amx_parts == 2 && s.out_channels <= kGroup;
  const int kb = c.amx_kblocks, nt = c.amx_ntiles, parts = c.amx_b_parts();
  c.amx_b.assign(size_t(3) * kb * parts * nt * 512, 0);
  c.amx_bias.assign(size_t(nt) * 16, 0.0f);
  for (int co = 0; co < s.out_channels; ++co) c.amx_bias[size_t(co)] = s.bias[co];
  for (int ky = 0; ky < 3; ++ky)
    for (int kx = 0; kx < 3; ++kx) {
      int q0 = 0;  // the source's first place in the bf16 pixel
      for (const ConvSource& cs : s.sources) {
        for (int ci = 0; ci < cs.channels; ++ci) {
          const int k = kx * cin8 + q0 + ci, b = k / 32, pair = (k % 32) / 2, half = k % 2;
          for (int co = 0; co < s.out_channels; ++co) {
            float w = s.weights[(size_t(co) * s.in_channels + cs.channel_offset + ci) * 9 + ky * 3 + kx];
            for (int part = 0; part < c.amx_parts; ++part) {  // hi, then lo = what hi leaves
              const uint16_t h = float_to_bf16(w);
              const int p = c.amx_fold ? 0 : part, col = c.amx_fold ? co + part * kGroup : co % 16;
              c.amx_b[(((size_t(ky * kb + b) * parts + p) * nt + co / 16) * 16 + pair) * 32 + col * 2 + half] = h;
              w -= bf16_to_float(h);
            }
          }
        }
        q0 += TileGeom(1, 1, cs.channels).groups * kGroup;
      }
    }
}

// ConvKind::PixelsBf16's weights (kernels.h, TileConv::pair_w): channel q of the transposed rows is the sources'
// channels in order (pixels.inc), so pair p holds channels 2p and 2p + 1 of that order.
void pack_pairs(const ConvStep& s, TileConv& c) {
  const int pairs = (s.in_channels + 1) / 2, groups = c.out.groups;
  std::vector<int> chan;  // the net's input channel of each transposed-row channel
  for (const ConvSource& cs : s.sources)
    for (int ci = 0; ci < cs.channels; ++ci) chan.push_back(cs.channel_offset + ci);
  c.pair_w.assign(size_t(groups) * 9 * pairs * kGroup, 0u);
  for (int og = 0; og < groups; ++og)
    for (int k = 0; k < 9; ++k)
      for (int q = 0; q < s.in_channels; ++q)
        for (int l = 0; l < kGroup; ++l) {
          const int co = og * kGroup + l;
          if (co >= s.out_channels) continue;
          const uint16_t h = float_to_bf16(s.weights[(size_t(co) * s.in_channels + chan[size_t(q)]) * 9 + k]);
          c.pair_w[((size_t(og) * 9 + k) * pairs + q / 2) * kGroup + l] |= uint32_t(h) << (16 * (q % 2));
        }
}

// ConvKind::PixelsI8's operands (kernels.h, TileConv::quad_w, quad_inv, quad_scale): channel q of the transposed
// rows is the sources' channels in order, so quad p holds channels 4p .. 4p + 3 of that order (= the concat order).
void pack_quads(const ConvStep& s, TileConv& c) {
  const Int8Quant qz = quantise_int8(s);
  const int quads = (s.in_channels + 3) / 4, groups = c.out.groups;
  c.quad_inv.assign(size_t(quads) * 4, 0.0f);
  for (int q = 0; q < s.in_channels; ++q) c.quad_inv[size_t(q)] = qz.x_step[size_t(q)] > 0 ? 1.0f / qz.x_step[q] : 0;
  c.quad_scale.assign(size_t(groups) * kGroup, 0.0f);
  std::copy(qz.w_step.begin(), qz.w_step.end(), c.quad_scale.begin());
  c.quad_w.assign(size_t(groups) * 9 * quads * kGroup, 0u);
  for (int co = 0; co < s.out_channels; ++co)
    for (int k = 0; k < 9; ++k)
      for (int q = 0; q < s.in_channels; ++q) {
        const uint8_t b = uint8_t(qz.w_q[(size_t(co) * s.in_channels + q) * 9 + k]);
        c.quad_w[((size_t(co / kGroup) * 9 + k) * quads + q / 4) * kGroup + co % kGroup] |= uint32_t(b)
                                                                                            << (8 * (q % 4));
      }
}
}  // namespace

bool int8_applies(const ConvStep& s) { return s.input_max != nullptr && s.input_nonneg; }

bool conv_kind_applies(const ConvStep& s, ConvKind k) {
  if (k == ConvKind::PixelsI8) return int8_applies(s);
  return k != ConvKind::Winograd || s.stride == 1;
}
// (The bf16 kinds apply to every conv; whether a table has them is Kernels::precision, and AmxBf16 also AMX.)

// Where each kind pays with 8-lane kernels (docs/engine.md, measured per layer with `bty-bench --kernels`):
// Winograd for stride-1 convs with >= 8 inputs and several output groups (the 8->28 head included: 1.2-2x direct),
// pixels in the lanes for convs with one output group (16 pixels per weight broadcast at AVX2, YmmPair: M's 8->8 and
// 24->8 10-20 % faster than the patch, the 3->8 stride-2 first conv 9-12 %; twenty-first session, AVX2-only EPYC),
// per-pixel tap pointers otherwise.
ConvKind choose_kind_ymm(const ConvStep& s, bool winograd) {
  if (winograd && s.stride == 1 && s.in_channels >= kGroup && s.out_channels > kGroup) return ConvKind::Winograd;
  if (s.in_channels == 3 && s.sources.size() == 1 && !s.sources[0].up) return ConvKind::Direct;  // direct3
  if (s.out_channels <= kGroup) return ConvKind::Pixels;
  return ConvKind::Direct;
}

namespace {
// The step's only source is the net input, and no other step reads the input.
bool reads_input_alone(const Plan& p, const ConvStep& s) {
  if (s.sources.size() != 1 || s.sources[0].tensor != 0 || s.sources[0].up) return false;
  for (const ConvStep& o : p.steps)
    if (&o != &s)
      for (const ConvSource& src : o.sources)
        if (src.tensor == 0) return false;
  return true;
}
}  // namespace

TileConv make_tile_conv(const Plan& p, const ConvStep& s, const Kernels& k, bool winograd) {
  const ConvKind kind = k.choose(s, winograd);
  TileConv c = make_tile_conv(p, s, winograd, &kind);
  c.input_fused = k.conv_input && (kind == ConvKind::Pixels || (kind == ConvKind::Direct && k.conv_input_direct)) &&
                  reads_input_alone(p, s);
  return c;
}

TileConv make_tile_conv(const Plan& p, const ConvStep& s, bool winograd, const ConvKind* force, int amx_parts) {
  TileConv c;
  c.amx_parts = amx_parts;
  c.step = &s;
  c.out = TileGeom(p.width[s.tensor], p.height[s.tensor], s.out_channels);
  c.in_w = c.out.width * s.stride;
  c.in_h = c.out.height * s.stride;
  if (s.sources.size() > 8)
    throw ModelError(ModelError::Kind::Unsupported,
                     "layer " + std::to_string(s.layer) + " concatenates more than 8 inputs (engine limit)");
  for (const ConvSource& cs : s.sources) {
    TileConv::Source src;
    src.geom = TileGeom(p.width[cs.tensor], p.height[cs.tensor], cs.channels);
    src.up = cs.up;
    src.xoff.resize(size_t(c.out.width) * 3);
    for (int ox = 0; ox < c.out.width; ++ox)
      for (int kx = 0; kx < 3; ++kx) {
        int ix = ox * s.stride + kx - 1;
        int sx = cs.up ? ix >> 1 : ix;
        src.xoff[size_t(ox) * 3 + kx] = (ix < 0 || ix >= c.in_w) ? -1 : int(src.geom.offset(sx, 0, 0));
      }
    src.col.resize(size_t(c.in_w) + 2);
    for (int ix = -1; ix <= c.in_w; ++ix)
      src.col[size_t(ix + 1)] = (ix < 0 || ix >= c.in_w) ? -1 : int(src.geom.offset(cs.up ? ix >> 1 : ix, 0, 0));
    c.src.push_back(std::move(src));
  }
  const int groups = c.out.groups;
  c.packed_group = size_t(9) * s.in_channels * kGroup;
  c.packed.assign(c.packed_group * groups, 0.0f);
  c.bias.assign(size_t(groups) * kGroup, 0.0f);
  for (int og = 0; og < groups; ++og) {
    float* w = c.packed.data() + c.packed_group * og;
    for (const ConvSource& cs : s.sources)
      for (int k = 0; k < 9; ++k)
        for (int ci = 0; ci < cs.channels; ++ci, w += kGroup)
          for (int l = 0; l < kGroup; ++l) {
            int co = og * kGroup + l;
            if (co < s.out_channels) w[l] = s.weights[(size_t(co) * s.in_channels + cs.channel_offset + ci) * 9 + k];
          }
    for (int l = 0; l < kGroup; ++l)
      if (og * kGroup + l < s.out_channels) c.bias[og * kGroup + l] = s.bias[og * kGroup + l];
  }
  c.kind = force ? *force : choose_kind_ymm(s, winograd);
  if (!conv_kind_applies(s, c.kind))
    throw std::invalid_argument(
        std::string("conv kind ") + to_string(c.kind) +
        (c.kind == ConvKind::PixelsI8 ? " needs a calibrated conv with ReLU inputs" : " needs stride 1"));
  if (c.kind == ConvKind::AmxBf16) pack_amx(s, c);
  if (c.kind == ConvKind::PixelsBf16) pack_pairs(s, c);
  if (c.kind == ConvKind::PixelsI8) pack_quads(s, c);
  // Winograd F(2x2, 3x3) weights U = G g G^T, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
  if (c.kind == ConvKind::Winograd) {
    c.wino.assign(size_t(groups) * 16 * s.in_channels * kGroup, 0.0f);
    for (int co = 0; co < s.out_channels; ++co)
      for (int ci = 0; ci < s.in_channels; ++ci) {
        const float* g = s.weights + (size_t(co) * s.in_channels + ci) * 9;
        float gg[4][3], u[4][4];
        for (int x = 0; x < 3; ++x) {
          gg[0][x] = g[x];
          gg[1][x] = 0.5f * (g[x] + g[3 + x] + g[6 + x]);
          gg[2][x] = 0.5f * (g[x] - g[3 + x] + g[6 + x]);
          gg[3][x] = g[6 + x];
        }
        for (int r = 0; r < 4; ++r) {
          u[r][0] = gg[r][0];
          u[r][1] = 0.5f * (gg[r][0] + gg[r][1] + gg[r][2]);
          u[r][2] = 0.5f * (gg[r][0] - gg[r][1] + gg[r][2]);
          u[r][3] = gg[r][2];
        }
        for (int pos = 0; pos < 16; ++pos)
          c.wino[((size_t(co / kGroup) * 16 + pos) * s.in_channels + ci) * kGroup + co % kGroup] = u[pos / 4][pos % 4];
      }
    // 16 lanes: each pair of groups interleaved per (position, channel); an odd last group pairs with zeros.
    c.wino16.assign(size_t((groups + 1) / 2) * 16 * s.in_channels * 2 * kGroup, 0.0f);
    for (int og = 0; og < groups; ++og)
      for (size_t v = 0; v < size_t(16) * s.in_channels; ++v) {
        const float* src = c.wino.data() + (size_t(og) * 16 * s.in_channels + v) * kGroup;
        std::copy(src, src + kGroup,
                  c.wino16.data() + ((size_t(og / 2) * 16 * s.in_channels + v) * 2 + og % 2) * kGroup);
      }
  }
  // 16-lane packing: interleave each pair of groups per (source, tap, channel); an odd last group pairs with zeros.
  const int pairs = (groups + 1) / 2;
  c.packed16.assign(c.packed_group * 2 * pairs, 0.0f);
  c.bias16.assign(size_t(pairs) * 2 * kGroup, 0.0f);
  std::copy(c.bias.begin(), c.bias.end(), c.bias16.begin());
  for (int og = 0; og < groups; ++og) {
    const float* src = c.packed.data() + c.packed_group * og;
    float* dst = c.packed16.data() + c.packed_group * 2 * (og / 2) + (og % 2) * kGroup;
    for (size_t v = 0; v < c.packed_group / kGroup; ++v)
      std::copy(src + v * kGroup, src + (v + 1) * kGroup, dst + v * 2 * kGroup);
  }
  return c;
}

void source_pixel_rows(const TileConv& c, int s, int ty, int& y0, int& y1) {
  int oy0 = ty * kTile, oy1 = std::min(oy0 + kTile, c.out.height) - 1;
  y0 = std::max(oy0 * c.step->stride - 1, 0);
  y1 = std::min(oy1 * c.step->stride + 1, c.in_h - 1);
  if (c.src[s].up) {
    y0 >>= 1;
    y1 >>= 1;
  }
}

void source_rows(const TileConv& c, int s, int ty, int& first, int& count) {
  int y0, y1;
  source_pixel_rows(c, s, ty, y0, y1);
  first = y0 >> 3;
  count = (y1 >> 3) - first + 1;
}

void write_input_tile_row(const Kernels& k, const InputSource& in, const TileGeom& g, int ty, int y0, int y1,
                          int x_origin, int tx0, int tx1, float* dst) {
  const int x0 = tx0 * kTile, x1 = std::min(tx1 * kTile, g.width);
  alignas(64) float row[3 * 64 * kTile];  // up to 64 tiles per call; longer spans are done in pieces
  const size_t tile_stride = size_t(g.groups) * kGroupFloats;
  for (int yy = y0; yy < y1; ++yy) {
    const int y = ty * kTile + yy;
    if (y >= g.height) {  // below the map's last row: zeros
      for (int tx = tx0; tx < tx1; ++tx) std::fill_n(dst + g.offset(tx * kTile, yy, 0), kTile * kGroup, 0.0f);
      continue;
    }
    for (int a = x0; a < x1; a += 64 * kTile) {  // a is a tile boundary; pack_input zeroes past the map's edge
      const int b = std::min(x1, a + 64 * kTile), n = b - a;
      in.row(y, x_origin + a, x_origin + b, row, n);
      k.pack_input(row, row + n, row + 2 * n, n, dst + g.offset(a, yy, 0), tile_stride);
    }
  }
}

void read_output_tile_row(const Kernels& k, const TileGeom& g, const float* row, int ty, int x_from, int x_to,
                          int x_shift, std::vector<float>& out, int out_w, int out_h) {
  for (int yy = 0; yy < kTile; ++yy) {
    const int y = ty * kTile + yy;
    if (y >= g.height) break;
    if (x_from >= x_to) continue;
    for (int grp = 0; grp < g.groups; ++grp) {
      const int lanes = std::min(kGroup, g.channels - grp * kGroup);
      float* planes[kGroup];
      for (int c = 0; c < lanes; ++c)
        planes[c] = out.data() + (size_t(grp * kGroup + c) * out_h + y) * out_w + x_from + x_shift;
      k.unpack(row + g.offset(0, yy, grp), size_t(g.groups) * kGroupFloats, x_from, x_to - x_from, lanes, planes);
    }
  }
}

}  // namespace bty
