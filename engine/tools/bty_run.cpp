// bty-run: runs a model once on a normalised planar input and writes the planar output (float32 CHW files).
// Used by the PyTorch export test and by hand.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "args.h"

int main(int argc, char** argv) {
  try {
    bty::tools::Args a(argc, argv);
    if (!a.has("model") || !a.has("input-planar") || !a.has("output")) {
      std::cerr << "usage: bty-run --model F.bmodel --input-planar in.f32 --output out.f32 "
                   << bty::tools::kNetOptionsUsage << "\n";
      return 2;
    }
    auto model = bty::load_model(a.str("model"));
    const bty::NetOptions o = bty::tools::net_options(a);
    bty::Net net(model, o);
    size_t n = size_t(3) * net.input_width() * net.input_height();
    std::vector<float> in(n);
    std::ifstream f(a.str("input-planar"), std::ios::binary);
    if (!f.read(reinterpret_cast<char*>(in.data()), std::streamsize(n * sizeof(float))))
      throw std::runtime_error(a.str("input-planar") + ": expected " + std::to_string(n * 4) + " bytes (3x" +
                               std::to_string(net.input_height()) + "x" + std::to_string(net.input_width()) +
                               " float32)");
    net.set_input_planar(in.data());
    net.run();
    std::ofstream o_(a.str("output"), std::ios::binary);
    o_.write(reinterpret_cast<const char*>(net.output().data()), std::streamsize(net.output().size() * 4));
    if (!o_) throw std::runtime_error(a.str("output") + ": write failed");
    std::cout << net.output_channels() << " " << net.output_height() << " " << net.output_width() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bty-run: " << e.what() << "\n";
    return 1;
  }
}
