#include "model_writer.h"

#include <cmath>
#include <cstring>

#include <zlib.h>

namespace bty {
namespace {
void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}
void putf(std::vector<uint8_t>& b, float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  put32(b, u);
}
}  // namespace

std::vector<uint8_t> serialize_model(const ModelSpec& spec) {
  std::vector<uint8_t> table, blob;
  for (const Layer& L : spec.layers) {
    uint32_t off = 0, calib = 0;
    if (L.op == Op::Conv) {
      off = uint32_t(blob.size());
      for (float w : L.weights) putf(blob, w);
      for (float b : L.bias) putf(blob, b);
      if (spec.version >= 3 && !L.input_max.empty()) {  // after the weights, so never at offset 0 (= none)
        calib = uint32_t(blob.size());
        for (float v : L.input_max) putf(blob, v);
      }
    }
    put32(table, uint32_t(L.op));
    put32(table, uint32_t(L.a));
    put32(table, uint32_t(L.b));
    put32(table, uint32_t(L.out_channels));
    put32(table, uint32_t(L.stride));
    put32(table, uint32_t(L.act));
    put32(table, off);
    put32(table, calib);
  }
  std::vector<uint8_t> out(8);
  std::memcpy(out.data(), "BTFYMDL\0", 8);
  uint32_t weights_offset = uint32_t(96 + table.size());
  put32(out, uint32_t(spec.version));
  put32(out, 0x01020304u);
  put32(out, uint32_t(weights_offset + blob.size() + 4));
  char tier[16] = {};
  std::strncpy(tier, spec.tier.c_str(), 15);
  out.insert(out.end(), tier, tier + 16);
  put32(out, uint32_t(spec.width));
  put32(out, uint32_t(spec.height));
  put32(out, 3);
  put32(out, uint32_t(spec.colour));
  putf(out, spec.input_scale);
  putf(out, spec.input_bias);
  put32(out, uint32_t(spec.output_kind));
  putf(out, spec.output_scale);
  put32(out, uint32_t(spec.layers.size()));
  put32(out, weights_offset);
  put32(out, uint32_t(blob.size()));
  if (spec.version >= 2) {
    put32(out, uint32_t(spec.output_shuffle));
    putf(out, spec.crop_width);
    putf(out, spec.crop_aspect);
    putf(out, spec.crop_nose_offset);
  }
  out.resize(96, 0);
  out.insert(out.end(), table.begin(), table.end());
  out.insert(out.end(), blob.begin(), blob.end());
  put32(out, uint32_t(::crc32_z(0, out.data(), out.size())));  // the standard CRC-32 (IEEE 802.3)
  return out;
}

ModelSpec random_net(std::mt19937& rng, int levels, int width, int height, OutputKind kind, int shuffle) {
  ModelSpec spec;
  spec.tier = "test-random";
  spec.width = width;
  spec.height = height;
  spec.output_kind = kind;
  spec.output_shuffle = shuffle;
  std::vector<int> ch = {3};
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto add = [&](Layer L) {
    if (L.op == Op::Conv) {
      float sd = std::sqrt(2.0f / (ch[L.a] * 9));
      std::normal_distribution<float> nd(0.0f, sd), nb(0.0f, 0.1f);
      L.weights.resize(size_t(L.out_channels) * ch[L.a] * 9);
      for (float& w : L.weights) w = nd(rng);
      L.bias.resize(L.out_channels);
      for (float& b : L.bias) b = nb(rng);
      ch.push_back(L.out_channels);
    } else if (L.op == Op::Upsample) {
      ch.push_back(ch[L.a]);
    } else {
      ch.push_back(ch[L.a] + ch[L.b]);
    }
    spec.layers.push_back(L);
    return int(spec.layers.size());
  };
  auto conv = [&](int a, int c, int stride, Act act) {
    Layer L;
    L.a = a;
    L.out_channels = c;
    L.stride = stride;
    L.act = act;
    return add(L);
  };
  // Channel counts deliberately include non-multiples of 8 to exercise partial channel groups.
  std::vector<int> skips;
  int x = 0;
  for (int l = 0; l < levels; ++l) {
    int c = pick(3, 24);
    x = conv(x, c, 2, Act::Relu);
    skips.push_back(x);
    for (int k = pick(0, 2); k > 0; --k) x = conv(x, pick(3, 32), 1, pick(0, 1) ? Act::Relu : Act::None);
  }
  for (int l = levels - 1; l >= 1; --l) {
    Layer up;
    up.op = Op::Upsample;
    up.a = x;
    up.out_channels = ch[x];
    int u = add(up);
    int s = skips[l - 1];
    if (ch[u] + ch[s] <= 64 && pick(0, 3) > 0) {
      Layer cat;
      cat.op = Op::Concat;
      cat.a = pick(0, 1) ? u : s;
      cat.b = cat.a == u ? s : u;
      cat.out_channels = ch[u] + ch[s];
      x = conv(add(cat), pick(4, 32), 1, Act::Relu);
    } else {
      x = conv(u, pick(4, 32), 1, Act::Relu);
      // Keep the skip used: a stride-1 conv of it feeds nothing otherwise, so concat is required for validity.
      Layer cat;
      cat.op = Op::Concat;
      cat.a = x;
      cat.b = s;
      if (ch[x] + ch[s] > 64) {
        x = conv(x, 64 - ch[s], 1, Act::Relu);
        cat.a = x;
      }
      cat.out_channels = ch[cat.a] + ch[s];
      x = conv(add(cat), pick(4, 32), 1, Act::Relu);
    }
  }
  conv(x, output_maps(kind) * shuffle * shuffle, 1, Act::Tanh);
  return spec;
}

}  // namespace bty
