// bty-bench: times one executor on one model and input size, or measures the FMA peak. Prints one JSON object.
// The benchmark driver (scripts/bench-engine) alternates calls of this tool with the peer engines.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <random>
#include <stdexcept>
#include <vector>

#include "json.h"
#include "kernel_bench.h"
#include "net_options.h"

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
}  // namespace

int main(int argc, char** argv) {
  bty::tools::NetArgs na;
  std::string model, input_planar, dump_output;
  int reps = 20, warmup = 3;
  bool peak = false, kernels = false, scalar = false;
  bty::cli::Options opts("bty-bench", "", "Times one executor on one model and input size (one JSON object).");
  opts.text("model", 'm', &model, "F.bmodel", "the model");
  na.add_to(opts);
  opts.integer("reps", 0, &reps, 1, 1000000, "N", "timed runs");
  opts.integer("warmup", 0, &warmup, 0, 1000000, "K", "untimed runs first");
  opts.text("input-planar", 0, &input_planar, "in.f32", "CHW float32 input (default: seeded random)");
  opts.text("dump-output", 0, &dump_output, "out.f32", "write the CHW float32 output of one run");
  opts.flag("peak", 0, &peak, "measure the FP32 FMA peak on --threads threads instead (needs AVX2+FMA)");
  opts.flag("kernels", 0, &kernels, "time every kernel-table entry of --model's convs at each CPU level");
  opts.flag("scalar", 0, &scalar, "with --kernels: the scalar entries too");
  if (!opts.parse(argc, argv)) return bty::cli::kUsageError;
  if (!peak && model.empty()) return opts.usage_error("--model is required (or --peak)");
  try {
    bty::cli::Json j;
    if (peak) {
      if (bty::best_isa() == bty::Isa::Scalar) throw std::runtime_error("--peak needs AVX2+FMA");
      j.begin_object().key("peak_gflops").value(bty::peak_fma_gflops(na.threads, bty::tools::kBenchFmaProbe), 2);
      j.key("threads").value(na.threads).end_object();
      std::cout << j.str() << "\n";
      return 0;
    }
    if (kernels) {
      auto m = bty::load_model(model);
      const auto& mi = bty::info(*m);
      return bty::tools::kernel_bench(*m, na.width ? na.width : mi.input_width, na.height ? na.height : mi.input_height,
                                      reps, scalar, na.options().isa);
    }
    // Start-up as a pipeline sees it: model load, net construction (OpenCL: program build or binary-cache load,
    // buffers) and the first frame.
    auto t_start = std::chrono::steady_clock::now();
    const bty::NetOptions o = na.options();
    bty::Net net(bty::load_model(model), o);
    const double construct_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_start).count();
    const int batch = net.batch();
    std::vector<float> in(size_t(3) * net.input_width() * net.input_height());
    if (!input_planar.empty()) {
      std::ifstream f(input_planar, std::ios::binary);
      if (!f) throw std::runtime_error(input_planar + ": cannot open");
      if (!f.read(reinterpret_cast<char*>(in.data()), std::streamsize(in.size() * 4)))
        throw std::runtime_error(input_planar + ": too short for this input size");
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
    if (!dump_output.empty()) {
      net.run();
      std::ofstream f(dump_output, std::ios::binary);
      f.write(reinterpret_cast<const char*>(net.output().data()), std::streamsize(net.output().size() * 4));
      if (!f) throw std::runtime_error("cannot write " + dump_output);
    }
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
    auto med = [](const std::vector<double>& v) { return v.empty() ? 0.0 : median(v); };
    j.begin_object();
    j.key("executor").value(bty::to_string(net.executor())).key("isa").value(bty::to_string(net.isa()));
    j.key("winograd").value(o.winograd).key("threads").value(o.threads);
    j.key("width").value(net.input_width()).key("height").value(net.input_height()).key("macs").value(total_macs);
    j.key("median_ms").value(med(ms)).key("times_ms").begin_array();
    for (double t : ms) j.value(t);
    j.end_array();
    j.key("device").value(bty::to_string(net.device())).key("device_name").value(net.device_name());
    j.key("batch").value(batch).key("upload_ms").value(med(up)).key("kernels_ms").value(med(kern));
    j.key("download_ms").value(med(down)).key("construct_ms").value(construct_ms);
    j.key("first_frame_ms").value(first_frame_ms).key("build_ms").value(start_times.build_ms);
    j.key("binary_cache_hit").value(start_times.binary_cache_hit).key("cl_reads").value(bty::to_string(net.cl_reads()));
    j.key("working_set_bytes").value(uint64_t(net.working_set_bytes())).key("layers").begin_array();
    for (size_t l = 0; l < layer_s.size(); ++l) {
      if (layer_s[l].empty()) continue;
      j.begin_object().key("index").value(uint64_t(l)).key("macs").value(net.layer_macs()[l]);
      j.key("median_s").value(median(layer_s[l])).end_object();
    }
    j.end_array().end_object();
    std::cout << j.str() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bty-bench: " << e.what() << "\n";
    return 1;
  }
}
