// bty-bench: times one executor on one model and input size, or measures the FMA peak. Prints one JSON object.
// The benchmark driver (scripts/bench-engine) alternates calls of this tool with the peer engines.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <vector>

#include "args.h"
#include "kernel_bench.h"
#include "peak_fma.h"

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
}  // namespace

int main(int argc, char** argv) {
  try {
    bty::tools::Args a(argc, argv);
    if (a.has("peak")) {
      if (bty::best_isa() == bty::Isa::Scalar) throw std::runtime_error("--peak needs AVX2+FMA");
      int t = a.num("threads", 1);
      std::printf("{\"peak_gflops\": %.2f, \"threads\": %d}\n", bty::tools::peak_gflops(t), t);
      return 0;
    }
    if (a.has("kernels")) {
      if (!a.has("model")) throw std::runtime_error("--kernels needs --model");
      auto model = bty::load_model(a.str("model"));
      const auto& mi = bty::info(*model);
      return bty::tools::kernel_bench(*model, a.num("width", mi.input_width), a.num("height", mi.input_height),
                                      a.num("reps", 20), a.has("scalar"),
                                      bty::tools::parse_isa(a.str("isa")));
    }
    if (!a.has("model")) {
      std::cerr << "usage: bty-bench --model F.bmodel " << bty::tools::kNetOptionsUsage
                << " [--reps N] [--warmup K] [--input-planar in.f32 --dump-output out.f32]\n"
                   "       bty-bench --peak [--threads N]\n"
                   "       bty-bench --kernels --model F.bmodel [--width W --height H] [--reps N] [--scalar] [--isa L]\n";
      return 2;
    }
    auto model = bty::load_model(a.str("model"));
    const bty::NetOptions o = bty::tools::net_options(a);
    bty::Net net(model, o);
    std::vector<float> in(size_t(3) * net.input_width() * net.input_height());
    if (a.has("input-planar")) {
      std::ifstream f(a.str("input-planar"), std::ios::binary);
      if (!f.read(reinterpret_cast<char*>(in.data()), std::streamsize(in.size() * 4)))
        throw std::runtime_error(a.str("input-planar") + ": too short for this input size");
    } else {
      std::mt19937 rng(7);
      std::uniform_real_distribution<float> u(-1, 1);
      for (float& v : in) v = u(rng);
    }
    net.set_input_planar(in.data());
    if (a.has("dump-output")) {
      net.run();
      std::ofstream f(a.str("dump-output"), std::ios::binary);
      f.write(reinterpret_cast<const char*>(net.output().data()), std::streamsize(net.output().size() * 4));
      if (!f) throw std::runtime_error("cannot write " + a.str("dump-output"));
    }
    const int reps = a.num("reps", 20), warmup = a.num("warmup", 3);
    std::vector<double> ms;
    std::vector<std::vector<double>> layer_s(net.layer_macs().size());
    for (int i = 0; i < warmup + reps; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      net.run();
      double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (i < warmup) continue;
      ms.push_back(t);
      const auto& ls = net.layer_seconds();
      for (size_t l = 0; l < ls.size(); ++l) layer_s[l].push_back(ls[l]);
    }
    int64_t total_macs = 0;
    for (int64_t m : net.layer_macs()) total_macs += m;
    std::ostringstream j;
    j << "{\"executor\": \"" << bty::to_string(net.executor()) << "\", \"isa\": \"" << bty::to_string(net.isa())
      << "\", \"winograd\": " << (o.winograd ? "true" : "false") << ", \"threads\": " << o.threads << ", \"width\": " << net.input_width() << ", \"height\": "
      << net.input_height() << ", \"macs\": " << total_macs << ", \"median_ms\": " << (ms.empty() ? 0.0 : median(ms)) << ", \"times_ms\": [";
    for (size_t i = 0; i < ms.size(); ++i) j << (i ? ", " : "") << ms[i];
    j << "], \"working_set_bytes\": " << net.working_set_bytes() << ", \"layers\": [";
    bool first = true;
    for (size_t l = 0; l < layer_s.size(); ++l) {
      if (layer_s[l].empty()) continue;
      j << (first ? "" : ", ") << "{\"index\": " << l << ", \"macs\": " << net.layer_macs()[l]
        << ", \"median_s\": " << median(layer_s[l]) << "}";
      first = false;
    }
    j << "]}";
    std::cout << j.str() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bty-bench: " << e.what() << "\n";
    return 1;
  }
}
