// Helpers shared by the engine tests: random single-op nets and output comparison.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "beautify/engine.h"
#include "model.h"
#include "model_writer.h"

namespace bty::test {

inline std::shared_ptr<const Model> parse(const ModelSpec& spec) {
  auto bytes = serialize_model(spec);
  return parse_model(bytes.data(), bytes.size(), "test-model");
}
// For single-op nets whose head is the op under test, of any width (not a beauty net's 3 or 7 x shuffle^2).
inline std::shared_ptr<const Model> parse_any_head(const ModelSpec& spec) {
  auto bytes = serialize_model(spec);
  return parse_model_any_head(bytes.data(), bytes.size(), "test-model");
}

inline Layer conv(int a, int c, int stride, Act act, std::mt19937& rng, int in_channels) {
  Layer L;
  L.a = a;
  L.out_channels = c;
  L.stride = stride;
  L.act = act;
  std::normal_distribution<float> nd(0.0f, std::sqrt(2.0f / (9 * in_channels)));
  L.weights.resize(size_t(c) * in_channels * 9);
  for (float& w : L.weights) w = nd(rng);
  L.bias.resize(c);
  for (float& b : L.bias) b = nd(rng);
  return L;
}

// A net whose last conv is the op under test: its input is cin channels made by a first conv, seen through a
// nearest upsample and/or concatenated with a second producer's output, as the op says.
struct OpCase {
  const char* name;
  int stride;
  bool up, concat;
};

// A concat layer of tensors a and b (channels: their sum).
inline Layer concat(int a, int b, int channels) {
  Layer L;
  L.op = Op::Concat;
  L.a = a;
  L.b = b;
  L.out_channels = channels;
  return L;
}

inline ModelSpec op_net(const OpCase& op, std::mt19937& rng, int cin, int cout, Act act) {
  ModelSpec s;
  s.tier = "test-op";
  s.layers.push_back(conv(0, cin, 1, Act::Relu, rng, 3));  // feeds the op cin channels
  int x = 1, ch = cin;
  if (op.up) {
    Layer u;
    u.op = Op::Upsample;
    u.a = x;
    u.out_channels = cin;
    s.layers.push_back(u);
    x = int(s.layers.size());
    // The skip for concat must match the upsampled size: a stride-1 conv of the input is half the size, so use
    // a stride-2 producer under the upsample instead.
    s.layers[0].stride = 2;
  }
  if (op.concat) {
    int c2 = std::max(1, std::min(64 - cin, 1 + int(rng() % 20)));
    s.layers.push_back(conv(0, c2, 1, Act::None, rng, 3));
    s.layers.push_back(concat(int(s.layers.size()), x, c2 + cin));  // the second producer first: source order
    x = int(s.layers.size());
    ch = c2 + cin;
  }
  s.layers.push_back(conv(x, cout, op.stride, act, rng, ch));
  return s;
}

inline std::vector<float> random_input(std::mt19937& rng, int w, int h) {
  std::vector<float> v(size_t(3) * w * h);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (float& x : v) x = u(rng);
  return v;
}

inline std::vector<float> run(std::shared_ptr<const Model> m, NetOptions o, const std::vector<float>& in) {
  Net net(std::move(m), o);
  net.set_input_planar(in.data());
  net.run();
  return net.output();
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

}  // namespace bty::test
