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
    if (!a.has("model")) {
      std::cerr << "usage: bty-bench --model F.bmodel " << bty::tools::kNetOptionsUsage
                << " [--reps N] [--warmup K] [--input-planar in.f32 --dump-output out.f32]\n"
                   "       bty-bench --peak [--threads N]\n";
      return 2;
    }
    // Start-up as a pipeline sees it: model load, net construction (OpenCL: program build or binary-cache load,
    // buffers) and the first frame.
    auto t_start = std::chrono::steady_clock::now();
    auto model = bty::load_model(a.str("model"));
    const bty::NetOptions o = bty::tools::net_options(a);
    bty::Net net(model, o);
    const double construct_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_start).count();
    const int batch = net.batch();
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
    for (int b = 0; b < batch; ++b) net.set_input_planar(in.data(), b);
    net.run(batch);
    const double first_frame_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_start).count();
    const bty::RunTimes start_times = net.last_times();
    if (a.has("dump-output")) {
      net.run();
      std::ofstream f(a.str("dump-output"), std::ios::binary);
      f.write(reinterpret_cast<const char*>(net.output().data()), std::streamsize(net.output().size() * 4));
      if (!f) throw std::runtime_error("cannot write " + a.str("dump-output"));
    }
    const int reps = a.num("reps", 20), warmup = a.num("warmup", 3);
    std::vector<double> ms, up, kern, down;
    std::vector<std::vector<double>> layer_s(net.layer_macs().size());
    // One frame = every face's input queued (OpenCL: uploaded) + the batch run + the outputs on the host.
    for (int i = 0; i < warmup + reps; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      if (o.device != bty::Device::Cpu || batch > 1)
        for (int b = 0; b < batch; ++b) net.set_input_planar(in.data(), b);
      net.run(batch);
      double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (i < warmup) continue;
      ms.push_back(t);
      up.push_back(net.last_times().upload_ms);
      kern.push_back(net.last_times().kernels_ms);
      down.push_back(net.last_times().download_ms);
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
    auto med = [](const std::vector<double>& v) { return v.empty() ? 0.0 : median(v); };
    j << "], \"device\": \"" << bty::to_string(net.device()) << "\", \"device_name\": \"" << net.device_name()
      << "\", \"batch\": " << batch << ", \"upload_ms\": " << med(up) << ", \"kernels_ms\": " << med(kern)
      << ", \"download_ms\": " << med(down) << ", \"construct_ms\": " << construct_ms
      << ", \"first_frame_ms\": " << first_frame_ms << ", \"build_ms\": " << start_times.build_ms
      << ", \"binary_cache_hit\": " << (start_times.binary_cache_hit ? "true" : "false")
      << ", \"cl_reads\": \"" << bty::to_string(net.cl_reads()) << "\"";
    j << ", \"working_set_bytes\": " << net.working_set_bytes() << ", \"layers\": [";
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
