// Coefficients of the SIMD tanh (YmmV::tanh, zmm::tanh): tanh(x) ~ x P(x^2) / Q(x^2) on |x| <= kTanhClamp, both of
// degree 4 in x^2, a minimax fit of the absolute error (5.7e-8 exact, 3.7e-7 evaluated in fp32 by Horner), made by
// engine/tools/fit_tanh.py. tanh(9) rounds to 1 in fp32, so the clamp costs nothing. Why not exp: 13 vector ops
// instead of 25 (the exp form was a third of the head conv's time on AVX2).
#pragma once

namespace bty {
constexpr float kTanhClamp = 9.0f;
constexpr float kTanhP[5] = {0.999999693f, 0.132701846f, 0.0033659439f, 1.8558381e-05f, 1.06761904e-08f};
constexpr float kTanhQ[5] = {1.0f, 0.466033928f, 0.0253785797f, 0.000307714105f, 6.64536889e-07f};
}  // namespace bty
