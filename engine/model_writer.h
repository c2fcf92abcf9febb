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
  int version = 2;  // 1: the version-1 header (output_kind 0; the fields below must keep ModelInfo's defaults);
                    // 3: convs' Layer::input_max are written (int8 calibration)
  OutputKind output_kind = OutputKind::Delta;
  int output_shuffle = 1;
  float crop_width = ModelInfo{}.crop_width, crop_aspect = ModelInfo{}.crop_aspect,
        crop_nose_offset = ModelInfo{}.crop_nose_offset;
};

std::vector<uint8_t> serialize_model(const ModelSpec& spec);

// A random net following the seed's rules (3x3 convs, stride-2 down, nearest-up, concat of skips, <= 64 channels)
// with He-initialised random weights; `levels` stride-2 stages. Input size = width x height. The head has
// output_maps(kind) x shuffle^2 channels (tanh) and the spec says so.
ModelSpec random_net(std::mt19937& rng, int levels, int width, int height, OutputKind kind = OutputKind::Delta,
                     int shuffle = 1);

}  // namespace bty
