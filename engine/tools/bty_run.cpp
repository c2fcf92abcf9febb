// bty-run: runs a model once on a normalised planar input and writes the planar output (float32 CHW files).
// Used by the PyTorch export test and by hand.
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <vector>

#include "net_options.h"

int main(int argc, char** argv) {
  bty::tools::NetArgs na;
  std::string model, input, output;
  bty::cli::Options opts("bty-run", "",
                         "Runs a model once on a CHW float32 input and writes the CHW float32 output; prints the "
                         "output's channels, height and width.");
  opts.text("model", 'm', &model, "F.bmodel", "the model");
  opts.text("input-planar", 0, &input, "in.f32", "CHW float32 input, 3 x height x width");
  opts.text("output", 'o', &output, "out.f32", "where the output goes");
  na.add_to(opts);
  opts.require({"--model", "--input-planar", "--output"});
  if (!opts.parse(argc, argv)) return bty::cli::kUsageError;
  try {
    bty::Net net(bty::load_model(model), na.options());
    const size_t n = size_t(3) * net.input_width() * net.input_height();
    std::vector<float> in(n);
    std::ifstream f(input, std::ios::binary);
    if (!f) throw std::runtime_error(input + ": cannot open");
    if (!f.read(reinterpret_cast<char*>(in.data()), std::streamsize(n * sizeof(float))))
      throw std::runtime_error(input + ": expected " + std::to_string(n * 4) + " bytes (3x" +
                               std::to_string(net.input_height()) + "x" + std::to_string(net.input_width()) +
                               " float32)");
    net.set_input_planar(in.data());
    net.run();
    std::ofstream out(output, std::ios::binary);
    out.write(reinterpret_cast<const char*>(net.output().data()), std::streamsize(net.output().size() * 4));
    if (!out) throw std::runtime_error(output + ": write failed");
    std::cout << net.output_channels() << " " << net.output_height() << " " << net.output_width() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bty-run: " << e.what() << "\n";
    return 1;
  }
}
