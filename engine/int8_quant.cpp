// Activations: u8 = round(x / x_step[q]), x_step = the calibrated maximum / 255. Weights: the products' other factor
// is w * x_step (the activation scale folded in), quantised per output channel to -127..127 (symmetric: the s8
// range's -128 stays unused, as in VNNI practice, so that a negated weight row is representable). The Python side's
// copy of this rule is models/beautynet/int8.py (snap_weights), which the tests hold to it.
#include "int8_quant.h"

#include <algorithm>
#include <cmath>

namespace bty {

Int8Quant quantise_int8(const ConvStep& s) {
  Int8Quant qz;
  const int cin = s.in_channels, cout = s.out_channels;
  qz.x_step.resize(size_t(cin));
  for (int q = 0; q < cin; ++q) qz.x_step[size_t(q)] = s.input_max ? s.input_max[q] / 255.0f : 0.0f;
  qz.w_step.assign(size_t(cout), 0.0f);
  qz.w_q.assign(size_t(cout) * cin * 9, 0);
  for (int co = 0; co < cout; ++co) {
    float m = 0;
    for (int q = 0; q < cin; ++q)
      for (int k = 0; k < 9; ++k)
        m = std::max(m, std::fabs(s.weights[(size_t(co) * cin + q) * 9 + k] * qz.x_step[size_t(q)]));
    if (m == 0) continue;
    const float step = m / 127.0f;
    qz.w_step[size_t(co)] = step;
    for (int q = 0; q < cin; ++q)
      for (int k = 0; k < 9; ++k) {
        const size_t i = (size_t(co) * cin + q) * 9 + k;
        qz.w_q[i] = int8_t(std::clamp(std::nearbyint(s.weights[i] * qz.x_step[size_t(q)] / step), -127.0f, 127.0f));
      }
  }
  return qz;
}

bool int8_weights_on_grid(const ConvStep& s, const Int8Quant& qz) {
  const int cin = s.in_channels;
  for (int co = 0; co < s.out_channels; ++co)
    for (int q = 0; q < cin; ++q)
      for (int k = 0; k < 9; ++k) {
        const size_t i = (size_t(co) * cin + q) * 9 + k;
        const float w = s.weights[i];
        if (qz.x_step[size_t(q)] == 0 || qz.w_step[size_t(co)] == 0) {
          if (w != 0) return false;  // a dropped channel or an all-zero row runs as 0
          continue;
        }
        if (std::fabs(w * qz.x_step[size_t(q)] / qz.w_step[size_t(co)] - float(qz.w_q[i])) > 1e-3f) return false;
      }
  return true;
}

}  // namespace bty
