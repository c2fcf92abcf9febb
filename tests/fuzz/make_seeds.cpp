// Writes the loader fuzzer's seed corpus: valid random nets of 1-3 levels, so mutations start from deep inside
// the format rather than at the magic. Every header variant is there: version 1, version 2 with one delta, and
// version 2 retouch layers with pixel shuffle 1 and 2 (7- and 28-channel heads).
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include "model_writer.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz-seeds DIR\n";
    return 2;
  }
  std::mt19937 rng(11);
  for (int i = 0; i < 12; ++i) {
    int levels = 1 + i % 3;
    const int variant = i % 4;  // 0: v1, 1: v2 delta, 2: v2 layers shuffle 1, 3: v2 layers shuffle 2
    bty::ModelSpec spec = bty::random_net(rng, levels, 8 << levels, 8 << levels,
                                          variant >= 2 ? bty::OutputKind::Layers : bty::OutputKind::Delta,
                                          variant == 3 ? 2 : 1);
    if (variant == 0) spec.version = 1;
    auto bytes = bty::serialize_model(spec);
    std::ofstream f(std::string(argv[1]) + "/seed-" + std::to_string(i) + ".bmodel", std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (!f) return 1;
  }
  return 0;
}
