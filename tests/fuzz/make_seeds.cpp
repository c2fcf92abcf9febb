// Writes the loader fuzzer's seed corpus: valid random nets of 1-3 levels, so mutations start from deep inside
// the format rather than at the magic. Every header variant is there: version 1, version 2 with one delta, and
// version 2 retouch layers with pixel shuffle 1 and 2 (7- and 28-channel heads).
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include "model_writer.h"
#include "options.h"

int main(int argc, char** argv) {
  bty::cli::Options opts("fuzz-seeds", "DIR", "Writes the loader fuzzer's seed corpus into DIR.");
  opts.positional(1, 1);
  if (!opts.parse(argc, argv)) return bty::cli::kUsageError;
  const std::string dir = opts.args()[0];
  std::mt19937 rng(11);
  for (int i = 0; i < 12; ++i) {
    int levels = 1 + i % 3;
    const int variant = i % 4;  // 0: v1, 1: v2 delta, 2: v2 layers shuffle 1, 3: v2 layers shuffle 2
    bty::ModelSpec spec =
        bty::random_net(rng, levels, 8 << levels, 8 << levels,
                        variant >= 2 ? bty::OutputKind::Layers : bty::OutputKind::Delta, variant == 3 ? 2 : 1);
    if (variant == 0) spec.version = 1;
    auto bytes = bty::serialize_model(spec);
    const std::string file = dir + "/seed-" + std::to_string(i) + ".bmodel";
    std::ofstream f(file, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (!f) {
      std::cerr << "fuzz-seeds: cannot write '" << file << "'\n";
      return 1;
    }
  }
  return 0;
}
