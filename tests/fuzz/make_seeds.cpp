// Writes the loader fuzzer's seed corpus: valid random nets of 1-3 levels, so mutations start from deep inside
// the format rather than at the magic.
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
    auto bytes = bty::serialize_model(bty::random_net(rng, levels, 8 << levels, 8 << levels));
    std::ofstream f(std::string(argv[1]) + "/seed-" + std::to_string(i) + ".bmodel", std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (!f) return 1;
  }
  return 0;
}
