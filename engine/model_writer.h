// Serialises a model to the .bmodel format: used by the tests, the fuzz seed corpus and random-net generation.
// (Trained models are written by the Python exporter, models/beautynet/bmodel.py.)
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "model.h"

namespace bty {

struct ModelSpec {
  std::string tier = "test";
  int width = 64, height = 64;
  Colour colour = Colour::RGB;
  float input_scale = 2.0f / 255.0f, input_bias = -1.0f, output_scale = 64.0f;
  std::vector<Layer> layers;  // weights/bias filled for convs
};

std::vector<uint8_t> serialize_model(const ModelSpec& spec);

// A random net following the seed's rules (3x3 convs, stride-2 down, nearest-up, concat of skips, <= 64 channels)
// with He-initialised random weights; `levels` stride-2 stages. Input size = width x height.
ModelSpec random_net(std::mt19937& rng, int levels, int width, int height);

}  // namespace bty
