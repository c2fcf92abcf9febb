#include "cl_source.h"

#include <sstream>

#include "input_prep.h"

namespace bty::cl {

int out_block(int out_channels) {
  for (int b : {8, 4, 2})
    if (out_channels % b == 0) return b;
  return 1;
}

StepLaunch step_launch(const Plan& p, size_t i, int count) {
  const ConvStep& s = p.steps[i];
  const int ow = p.width[s.tensor], oh = p.height[s.tensor];
  auto round_up = [](int v, int m) { return size_t((v + m - 1) / m * m); };
  StepLaunch l;
  l.out_block = out_block(s.out_channels);
  const size_t blocks = size_t(s.out_channels / l.out_block);
  if (round_up(ow, kGroupX) * round_up(oh, kGroupY) * blocks < size_t(kSplitBelowItems)) {
    l.group_x = kSplitGroupX;
    l.group_y = kSplitGroupY;
    const size_t items = round_up(ow, l.group_x) * round_up(oh, l.group_y) * blocks;
    while (l.split < kMaxSplit && items * l.split < size_t(kSplitBelowItems) &&
           s.in_channels / (2 * l.split) >= kMinSplitChannels)
      l.split *= 2;
  }
  if (l.split == 1) l.group_x = kGroupX, l.group_y = kGroupY;  // no split: the step runs as the others
  l.global[0] = round_up(ow, l.group_x);
  l.global[1] = round_up(oh, l.group_y);
  l.global[2] = size_t(count) * blocks * l.split;
  l.local[0] = size_t(l.group_x);
  l.local[1] = size_t(l.group_y);
  l.local[2] = size_t(l.split);
  return l;
}

std::string kernel_name(size_t step) { return "conv" + std::to_string(step); }

namespace {

const char* activation(Act a) {
  switch (a) {
    case Act::Relu: return "fmax(v, 0.0f)";
    case Act::Tanh: return "tanh(v)";
    case Act::None: break;
  }
  return "v";
}

// Channels per local-memory chunk: the largest of 16, 8, 4, 2, 1 that divides `channels` and fits kLocalFloats.
int chunk(int channels, int patch) {
  for (int c : {16, 8, 4, 2})
    if (channels % c == 0 && c * patch <= kLocalFloats) return c;
  return 1;
}

void emit_step(std::ostringstream& o, const Plan& p, size_t i, bool local_tiles, bool half_output) {
  const ConvStep& s = p.steps[i];
  const StepLaunch l = step_launch(p, i);
  const int OW = p.width[s.tensor], OH = p.height[s.tensor], S = s.stride;
  const int IW = OW * S, IH = OH * S, CO = s.out_channels, COB = l.out_block, CB = CO / COB;
  const int GX = l.group_x, GY = l.group_y, KS = l.split;
  const int PW = GX * S + 2, PH = GY * S + 2;
  local_tiles = local_tiles && KS == 1;  // split steps read global memory
  o << "\n// step " << i << ": " << s.in_channels << " -> " << CO << " at " << OW << "x" << OH << ", stride " << S
    << (KS > 1 ? ", input channels split " + std::to_string(KS) + " ways" : std::string()) << "\n__kernel "
    << "__attribute__((reqd_work_group_size(" << GX << ", " << GY << ", " << KS << ")))\nvoid " << kernel_name(i)
    << "(";
  for (size_t j = 0; j < s.sources.size(); ++j) o << "__global const float* restrict s" << j << ", ";
  const bool half_dst = half_output && s.tensor == p.output_tensor;
  o << "__global const float* restrict w, __global const float* restrict bias, __global "
    << (half_dst ? "half" : "float") << "* restrict dst) {\n"
    << "  const int ox = get_global_id(0), oy = get_global_id(1), ks = get_local_id(2);\n"
    << "  const int n = get_global_id(2) / " << CB * KS << ", cb = get_global_id(2) / " << KS << " % " << CB << ";\n"
    << "  const bool inside = ox < " << OW << " && oy < " << OH << ";\n";
  if (local_tiles) {
    int most = 0;
    for (const ConvSource& src : s.sources) most = std::max(most, chunk(src.channels, PW * PH) * PW * PH);
    o << "  __local float tile[" << most << "];\n"
      << "  const int lx = get_local_id(0), ly = get_local_id(1), lid = ly * " << GX << " + lx;\n"
      << "  const int gx0 = get_group_id(0) * " << GX * S << " - 1, gy0 = get_group_id(1) * " << GY * S << " - 1;\n";
  } else if (KS == 1) {
    o << "  if (!inside) return;\n";
  }
  // Split steps add the bias once, to the slices' summed partials.
  o << "  float acc[" << COB << "];\n"
    << "  #pragma unroll\n  for (int k = 0; k < " << COB
    << "; ++k) acc[k] = " << (KS == 1 ? "bias[cb * " + std::to_string(COB) + " + k]" : std::string("0.0f")) << ";\n"
    << "  __global const float* wp = w + cb * " << s.in_channels * 9 * COB << ";\n";
  if (KS > 1) o << "  if (inside) {\n";
  for (size_t j = 0; j < s.sources.size(); ++j) {
    const ConvSource& src = s.sources[j];
    const int SW = p.width[src.tensor], SH = p.height[src.tensor], C = src.channels, U = src.up ? 1 : 0;
    o << "  {  // source " << j << ": tensor " << src.tensor << ", " << C << " channels at " << SW << "x" << SH
      << (U ? ", read through a nearest x2 upsample" : "") << "\n"
      << "    __global const float* sp = s" << j << " + n * " << C * SH * SW << ";\n";
    if (local_tiles) {
      const int CC = chunk(C, PW * PH);
      o << "    for (int c0 = 0; c0 < " << C << "; c0 += " << CC << ") {\n"
        << "      barrier(CLK_LOCAL_MEM_FENCE);\n"
        << "      for (int t = lid; t < " << CC * PW * PH << "; t += " << GX * GY << ") {\n"
        << "        const int c = t / " << PW * PH << ", r = t % " << PW * PH << ";\n"
        << "        const int iy = gy0 + r / " << PW << ", ix = gx0 + r % " << PW << ";\n"
        << "        tile[t] = (iy >= 0 && iy < " << IH << " && ix >= 0 && ix < " << IW << ") ? sp[(c0 + c) * "
        << SH * SW << " + (iy >> " << U << ") * " << SW << " + (ix >> " << U << ")] : 0.0f;\n"
        << "      }\n"
        << "      barrier(CLK_LOCAL_MEM_FENCE);\n"
        << "      for (int c = 0; c < " << CC << "; ++c, wp += " << 9 * COB << ") {\n"
        << "        __local const float* tp = tile + c * " << PW * PH << " + ly * " << S * PW << " + lx * " << S
        << ";\n"
        << "        #pragma unroll\n        for (int ky = 0; ky < 3; ++ky) {\n"
        << "          #pragma unroll\n          for (int kx = 0; kx < 3; ++kx) {\n"
        << "            const float v = tp[ky * " << PW << " + kx];\n"
        << "            #pragma unroll\n            for (int k = 0; k < " << COB
        << "; ++k) acc[k] = fma(v, wp[(ky * 3 + kx) * " << COB << " + k], acc[k]);\n"
        << "          }\n        }\n      }\n    }\n";
    } else {
      // Every KS-th channel from ks on (KS = 1: all of them); this source's weights start at its channel offset in
      // concat order.
      o << "    __global const float* wq = wp + (" << src.channel_offset << " + ks) * " << 9 * COB << ";\n"
        << "    sp += ks * " << SH * SW << ";\n"
        << "    for (int ci = ks; ci < " << C << "; ci += " << KS << ", sp += " << KS * SH * SW
        << ", wq += " << KS * 9 * COB << ") {\n"
        << "      #pragma unroll\n      for (int ky = 0; ky < 3; ++ky) {\n"
        << "        const int iy = oy * " << S << " + ky - 1;\n"
        << "        if (iy < 0 || iy >= " << IH << ") continue;\n"
        << "        #pragma unroll\n        for (int kx = 0; kx < 3; ++kx) {\n"
        << "          const int ix = ox * " << S << " + kx - 1;\n"
        << "          if (ix < 0 || ix >= " << IW << ") continue;\n"
        << "          const float v = sp[(iy >> " << U << ") * " << SW << " + (ix >> " << U << ")];\n"
        << "          #pragma unroll\n          for (int k = 0; k < " << COB
        << "; ++k) acc[k] = fma(v, wq[(ky * 3 + kx) * " << COB << " + k], acc[k]);\n"
        << "        }\n      }\n    }\n";
    }
    o << "  }\n";
  }
  if (KS > 1) {
    // Slices 1..KS-1 leave their sums in local memory; slice 0 adds them (in slice order) and the bias.
    const int items = GX * GY;
    o << "  }\n"
      << "  __local float part[" << (KS - 1) * items * COB << "];\n"
      << "  const int lid = get_local_id(1) * " << GX << " + get_local_id(0);\n"
      << "  if (ks > 0) {\n"
      << "    #pragma unroll\n    for (int k = 0; k < " << COB << "; ++k) part[((ks - 1) * " << items << " + lid) * "
      << COB << " + k] = acc[k];\n"
      << "  }\n"
      << "  barrier(CLK_LOCAL_MEM_FENCE);\n"
      << "  if (ks > 0 || !inside) return;\n"
      << "  for (int q = 0; q < " << KS - 1 << "; ++q) {\n"
      << "    #pragma unroll\n    for (int k = 0; k < " << COB << "; ++k) acc[k] += part[(q * " << items << " + lid) * "
      << COB << " + k];\n"
      << "  }\n"
      << "  #pragma unroll\n  for (int k = 0; k < " << COB << "; ++k) acc[k] += bias[cb * " << COB << " + k];\n";
  }
  if (local_tiles) o << "  if (!inside) return;\n";
  o << "  const size_t at = (size_t)(n * " << CO << " + cb * " << COB << ") * " << OH * OW << " + oy * " << OW
    << " + ox;\n"
    << "  #pragma unroll\n  for (int k = 0; k < " << COB << "; ++k) {\n"
    << "    const float v = acc[k];\n";
  if (half_dst)  // round to nearest even, as vstore_half does by default
    o << "    vstore_half(" << activation(s.act) << ", at + k * " << OH * OW << ", dst);\n  }\n}\n";
  else
    o << "    dst[at + k * " << OH * OW << "] = " << activation(s.act) << ";\n  }\n}\n";
}

// prep_input: the net input from the gathered 8-bit slots (input_prep.h), as ImageInput::row computes it on the
// host: bilinear taps, then the colour step. Slots whose bit in `slots` is clear got floats from the host instead.
void emit_prep(std::ostringstream& o, const Plan& p) {
  using namespace gathered;
  const int W = p.width[0], H = p.height[0];
  o << "\n__kernel void " << kPrepKernel
    << "(__global const uchar* restrict in, __global float* restrict dst, const ulong slots, const uint slot_bytes) {\n"
    << "  const int x = get_global_id(0), y = get_global_id(1), n = get_global_id(2);\n"
    << "  if (x >= " << W << " || y >= " << H << " || !((slots >> n) & 1)) return;\n"
    << "  __global const uchar* s = in + (size_t)n * slot_bytes;\n"
    << "  __global const int* h = (__global const int*)s;\n"
    << "  const bool yuv = h[" << kMode << "] == " << kYuv << ";\n"
    << "  float v[3];\n"
    << "  for (int c = 0; c < 3; ++c) {\n"
    << "    const bool chroma = yuv && c > 0;\n"
    << "    __global const int* tx = (__global const int*)(s + h[chroma ? " << kTapCX << " : " << kTapX
    << "]) + 3 * x;\n"
    << "    __global const int* ty = (__global const int*)(s + h[chroma ? " << kTapCY << " : " << kTapY
    << "]) + 3 * y;\n"
    << "    const int pitch = h[" << kPitch << " + c];\n"
    << "    __global const uchar* r0 = s + h[" << kPlane << " + c] + ty[0] * pitch;\n"
    << "    __global const uchar* r1 = s + h[" << kPlane << " + c] + ty[1] * pitch;\n"
    << "    const float wx = as_float(tx[2]), wy = as_float(ty[2]);\n"
    << "    const float a = (float)r0[tx[0]] + wx * (float)((int)r0[tx[1]] - (int)r0[tx[0]]);\n"
    << "    const float b = (float)r1[tx[0]] + wx * (float)((int)r1[tx[1]] - (int)r1[tx[0]]);\n"
    << "    v[c] = a + wy * (b - a) - as_float(h[" << kOff << " + c]);\n"
    << "  }\n"
    << "  for (int r = 0; r < 3; ++r) {\n"
    << "    float u = as_float(h[" << kAdd << " + r]) + as_float(h[" << kM << " + 3 * r]) * v[0] + as_float(h[" << kM
    << " + 3 * r + 1]) * v[1] + as_float(h[" << kM << " + 3 * r + 2]) * v[2];\n"
    << "    if (h[" << kClamp << "]) u = clamp(u, 0.0f, 255.0f);\n"
    << "    dst[((size_t)n * 3 + r) * " << W * H << " + y * " << W << " + x] = u * as_float(h[" << kScale
    << "]) + as_float(h[" << kBias << "]);\n"
    << "  }\n}\n";
}

}  // namespace

std::string kernel_source(const Plan& p, bool local_tiles, bool half_output) {
  std::ostringstream o;
  o << "// gst-beautify: generated for a " << p.width[0] << "x" << p.height[0] << " input, " << p.steps.size()
    << " convs, " << (local_tiles ? "local-memory input tiles" : "global reads")
    << (half_output ? ", half-precision output" : "") << "\n";
  emit_prep(o, p);
  for (size_t i = 0; i < p.steps.size(); ++i) emit_step(o, p, i, local_tiles, half_output);
  return o.str();
}

}  // namespace bty::cl
