#include "cl_source.h"

#include <sstream>

namespace bty::cl {

int out_block(int out_channels) {
  for (int b : {8, 4, 2})
    if (out_channels % b == 0) return b;
  return 1;
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

void emit_step(std::ostringstream& o, const Plan& p, size_t i, bool local_tiles) {
  const ConvStep& s = p.steps[i];
  const int OW = p.width[s.tensor], OH = p.height[s.tensor], S = s.stride;
  const int IW = OW * S, IH = OH * S, CO = s.out_channels, COB = out_block(CO), CB = CO / COB;
  const int PW = kGroupX * S + 2, PH = kGroupY * S + 2;
  o << "\n// step " << i << ": " << s.in_channels << " -> " << CO << " at " << OW << "x" << OH << ", stride " << S
    << "\n__kernel __attribute__((reqd_work_group_size(" << kGroupX << ", " << kGroupY << ", 1)))\nvoid "
    << kernel_name(i) << "(";
  for (size_t j = 0; j < s.sources.size(); ++j) o << "__global const float* restrict s" << j << ", ";
  o << "__global const float* restrict w, __global const float* restrict bias, __global float* restrict dst) {\n"
    << "  const int ox = get_global_id(0), oy = get_global_id(1);\n"
    << "  const int n = get_global_id(2) / " << CB << ", cb = get_global_id(2) % " << CB << ";\n";
  if (local_tiles) {
    int most = 0;
    for (const ConvSource& src : s.sources) most = std::max(most, chunk(src.channels, PW * PH) * PW * PH);
    o << "  __local float tile[" << most << "];\n"
      << "  const int lx = get_local_id(0), ly = get_local_id(1), lid = ly * " << kGroupX << " + lx;\n"
      << "  const int gx0 = get_group_id(0) * " << kGroupX * S << " - 1, gy0 = get_group_id(1) * " << kGroupY * S
      << " - 1;\n";
  } else {
    o << "  if (ox >= " << OW << " || oy >= " << OH << ") return;\n";
  }
  o << "  float acc[" << COB << "];\n"
    << "  #pragma unroll\n  for (int k = 0; k < " << COB << "; ++k) acc[k] = bias[cb * " << COB << " + k];\n"
    << "  __global const float* wp = w + cb * " << s.in_channels * 9 * COB << ";\n";
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
        << "      for (int t = lid; t < " << CC * PW * PH << "; t += " << kGroupX * kGroupY << ") {\n"
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
      o << "    for (int ci = 0; ci < " << C << "; ++ci, sp += " << SH * SW << ", wp += " << 9 * COB << ") {\n"
        << "      #pragma unroll\n      for (int ky = 0; ky < 3; ++ky) {\n"
        << "        const int iy = oy * " << S << " + ky - 1;\n"
        << "        if (iy < 0 || iy >= " << IH << ") continue;\n"
        << "        #pragma unroll\n        for (int kx = 0; kx < 3; ++kx) {\n"
        << "          const int ix = ox * " << S << " + kx - 1;\n"
        << "          if (ix < 0 || ix >= " << IW << ") continue;\n"
        << "          const float v = sp[(iy >> " << U << ") * " << SW << " + (ix >> " << U << ")];\n"
        << "          #pragma unroll\n          for (int k = 0; k < " << COB
        << "; ++k) acc[k] = fma(v, wp[(ky * 3 + kx) * " << COB << " + k], acc[k]);\n"
        << "        }\n      }\n    }\n";
    }
    o << "  }\n";
  }
  if (local_tiles) o << "  if (ox >= " << OW << " || oy >= " << OH << ") return;\n";
  o << "  __global float* op = dst + (n * " << CO << " + cb * " << COB << ") * " << OH * OW << " + oy * " << OW
    << " + ox;\n"
    << "  #pragma unroll\n  for (int k = 0; k < " << COB << "; ++k) {\n"
    << "    const float v = acc[k];\n    op[k * " << OH * OW << "] = " << activation(s.act) << ";\n  }\n}\n";
}

}  // namespace

std::string kernel_source(const Plan& p, bool local_tiles) {
  std::ostringstream o;
  o << "// gst-beautify: generated for a " << p.width[0] << "x" << p.height[0] << " input, " << p.steps.size()
    << " convs, " << (local_tiles ? "local-memory input tiles" : "global reads") << "\n";
  for (size_t i = 0; i < p.steps.size(); ++i) emit_step(o, p, i, local_tiles);
  return o.str();
}

}  // namespace bty::cl
