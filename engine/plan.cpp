// Folds upsample and concat layers into the reads of the conv that consumes them, and sizes every tensor.
#include "model.h"

namespace bty {
namespace {
void resolve(const Model& m, const Plan& p, int tensor, bool up, std::vector<ConvSource>& out, int& offset) {
  if (p.materialized[tensor]) {
    out.push_back({tensor, up, m.channels[tensor], offset});
    offset += m.channels[tensor];
    return;
  }
  const Layer& L = m.layers[tensor - 1];
  if (L.op == Op::Upsample) {
    resolve(m, p, L.a, true, out, offset);
  } else {
    resolve(m, p, L.a, up, out, offset);
    resolve(m, p, L.b, up, out, offset);
  }
}
}  // namespace

Plan make_plan(const Model& m, int width, int height) {
  Plan p;
  size_t n = m.layers.size() + 1;
  p.width = {width};
  p.height = {height};
  p.channels = m.channels;
  p.materialized = {true};
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const Layer& L = m.layers[i];
    int w = p.width[L.a], h = p.height[L.a];
    if (L.op == Op::Conv) {
      w /= L.stride;
      h /= L.stride;
    } else if (L.op == Op::Upsample) {
      w *= 2;
      h *= 2;
    }
    p.width.push_back(w);
    p.height.push_back(h);
    p.materialized.push_back(L.op == Op::Conv);
  }
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const Layer& L = m.layers[i];
    if (L.op != Op::Conv) continue;
    ConvStep s;
    s.layer = int(i);
    s.tensor = int(i) + 1;
    int offset = 0;
    resolve(m, p, L.a, false, s.sources, offset);
    s.in_channels = offset;
    s.out_channels = L.out_channels;
    s.stride = L.stride;
    s.act = L.act;
    s.weights = L.weights.data();
    s.bias = L.bias.data();
    s.input_max = L.input_max.empty() ? nullptr : L.input_max.data();
    s.input_nonneg = true;
    for (const ConvSource& cs : s.sources)
      s.input_nonneg = s.input_nonneg && cs.tensor > 0 && m.layers[size_t(cs.tensor) - 1].act == Act::Relu;
    p.steps.push_back(s);
  }
  p.output_tensor = int(n) - 1;
  return p;
}

int64_t conv_macs(const Plan& p, const ConvStep& s) {
  return int64_t(p.width[s.tensor]) * p.height[s.tensor] * s.in_channels * s.out_channels * 9;
}
}  // namespace bty
