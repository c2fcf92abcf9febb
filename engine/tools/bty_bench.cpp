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
  std::string model, input_planar, dump_output, input = "planar";
  int reps = 20, warmup = 3;
  double roi_scale = 1.0;
  bool peak = false, kernels = false, scalar = false;
  bty::cli::Options opts("bty-bench", "", "Times one executor on one model and input size (one JSON object).");
  opts.text("model", 'm', &model, "F.bmodel", "the model");
  na.add_to(opts);
  opts.integer("reps", 0, &reps, 1, 1000000, "N", "timed runs");
  opts.integer("warmup", 0, &warmup, 0, 1000000, "K", "untimed runs first");
  opts.text("input-planar", 0, &input_planar, "in.f32", "CHW float32 input (default: seeded random)");
  opts.text("dump-output", 0, &dump_output, "out.f32", "write the CHW float32 output of one run");
  opts.choice("input", 0, &input, {"planar", "rgb", "i420"},
              "planar: normalised floats (set_input_planar); rgb, i420: a seeded 8-bit frame, each face a ROI of "
              "--roi-scale x the net input (set_input, as the element feeds the net)");
  opts.real("roi-scale", 0, &roi_scale, 0.25, 8.0, "S", "with --input rgb/i420: ROI size / net input size");
  opts.flag(
      "peak", 0, &peak,
      "measure the FP32 FMA peak (and the zmm FMA and bf16 dot peaks) on --threads threads instead (needs AVX2+FMA)");
  opts.flag("kernels", 0, &kernels, "time every kernel-table entry of --model's convs at each CPU level");
  opts.flag("scalar", 0, &scalar, "with --kernels: the scalar entries too");
  if (!opts.parse(argc, argv)) return bty::cli::kUsageError;
  if (!peak && model.empty()) return opts.usage_error("--model is required (or --peak)");
  try {
    bty::cli::Json j;
    if (peak) {
      if (bty::best_isa() == bty::Isa::Scalar) throw std::runtime_error("--peak needs AVX2+FMA");
      // peak_gflops: the FP32 FMA (ymm) peak every % of peak is relative to; then the 512-bit FMA and bf16 dot
      // peaks and the AMX-BF16 tile peak measured the same way (0: the CPU or OS lacks it), and bf16 dot's gain over
      // each fp32 peak.
      const double fma256 = bty::peak_fma_gflops(na.threads, bty::tools::kBenchFmaProbe);
      const double fma512 = bty::peak_gflops(bty::PeakOp::Fma512, na.threads, bty::tools::kBenchFmaProbe);
      const double bf16 = bty::peak_gflops(bty::PeakOp::Bf16Dot512, na.threads, bty::tools::kBenchFmaProbe);
      const double amx = bty::peak_gflops(bty::PeakOp::AmxBf16, na.threads, bty::tools::kBenchFmaProbe);
      const double vnni = bty::peak_gflops(bty::PeakOp::Vnni512, na.threads, bty::tools::kBenchFmaProbe);
      j.begin_object().key("peak_gflops").value(fma256, 2);
      j.key("fma512_gflops").value(fma512, 2).key("bf16dot512_gflops").value(bf16, 2);
      j.key("amxbf16_gflops").value(amx, 2).key("vnni512_gops").value(vnni, 2);
      j.key("bf16_vs_fma256").value(fma256 > 0 ? bf16 / fma256 : 0, 3);
      j.key("bf16_vs_fma512").value(fma512 > 0 ? bf16 / fma512 : 0, 3);
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
    using clock = std::chrono::steady_clock;
    auto ms_since = [](clock::time_point t) {
      return std::chrono::duration<double, std::milli>(clock::now() - t).count();
    };
    auto t_start = clock::now();
    const bty::NetOptions o = na.options();
    auto loaded = bty::load_model(model);
    const double load_ms = ms_since(t_start);
    bty::Net net(loaded, o);
    const double construct_ms = ms_since(t_start);
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
    // An 8-bit frame holding every face's ROI side by side (seeded noise), for --input rgb/i420.
    const int rw = std::max(1, int(net.input_width() * roi_scale + 0.5)),
              rh = std::max(1, int(net.input_height() * roi_scale + 0.5));
    const int fw = (rw * batch + 1) / 2 * 2, fh = (rh + 1) / 2 * 2;
    std::vector<uint8_t> frame;
    bty::ImageView view;
    if (input != "planar") {
      frame.resize(size_t(fw) * fh * 3);
      std::mt19937 rng(11);
      for (uint8_t& v : frame) v = uint8_t(rng() >> 24);
      view.width = fw;
      view.height = fh;
      view.plane[0] = frame.data();
      if (input == "rgb") {
        view.format = bty::PixelFormat::RGB;
        view.stride[0] = fw * 3;
      } else {
        view.format = bty::PixelFormat::I420;
        view.stride[0] = fw;
        view.plane[1] = frame.data() + size_t(fw) * fh;
        view.plane[2] = view.plane[1] + size_t(fw / 2) * (fh / 2);
        view.stride[1] = view.stride[2] = fw / 2;
      }
    }
    auto set_inputs = [&] {
      for (int b = 0; b < batch; ++b)
        if (input == "planar")
          net.set_input_planar(in.data(), b);
        else
          net.set_input(view, bty::Rect{b * rw, 0, rw, rh}, b);
    };
    // Every face's output as the consumer reads it (ClOutput::Half: converted to float here).
    auto read_outputs = [&] {
      float sink = 0;
      for (int b = 0; b < batch; ++b) sink += net.output_data(b)[0];
      return sink;
    };
    auto t_first = clock::now();
    set_inputs();
    net.run(batch);
    read_outputs();
    const double first_run_ms = ms_since(t_first), first_frame_ms = ms_since(t_start);
    const bty::RunTimes start_times = net.last_times();
    if (!dump_output.empty()) {
      net.run();
      std::ofstream f(dump_output, std::ios::binary);
      f.write(reinterpret_cast<const char*>(net.output().data()), std::streamsize(net.output().size() * 4));
      if (!f) throw std::runtime_error("cannot write " + dump_output);
    }
    std::vector<double> ms, up, kern, down, conv, inputs, gather, up_enqueue, enqueue;
    std::vector<std::vector<double>> layer_s(net.layer_macs().size());
    // One frame = every face's input queued (OpenCL: uploaded) + the batch run + the outputs on the host.
    for (int i = 0; i < warmup + reps; ++i) {
      auto t0 = clock::now();
      if (o.device != bty::Device::Cpu || batch > 1 || input != "planar") set_inputs();
      const double in_ms = ms_since(t0);
      net.run(batch);
      const double t = ms_since(t0);
      auto t1 = clock::now();
      read_outputs();
      const double c = ms_since(t1);
      if (i < warmup) continue;
      ms.push_back(t);
      conv.push_back(c);
      up.push_back(net.last_times().upload_ms);
      kern.push_back(net.last_times().kernels_ms);
      down.push_back(net.last_times().download_ms);
      inputs.push_back(in_ms);
      gather.push_back(net.last_times().gather_ms);
      up_enqueue.push_back(net.last_times().upload_enqueue_ms);
      enqueue.push_back(net.last_times().enqueue_ms);
      const auto& ls = net.layer_seconds();
      for (size_t l = 0; l < ls.size(); ++l) layer_s[l].push_back(ls[l]);
    }
    int64_t total_macs = 0;
    for (int64_t m : net.layer_macs()) total_macs += m;
    auto med = [](const std::vector<double>& v) { return v.empty() ? 0.0 : median(v); };
    j.begin_object();
    j.key("executor").value(bty::to_string(net.executor())).key("isa").value(bty::to_string(net.isa()));
    j.key("rings").value(bty::to_string(net.rings())).key("precision").value(bty::to_string(net.precision()));
    j.key("winograd").value(o.winograd).key("threads").value(o.threads);
    j.key("width").value(net.input_width()).key("height").value(net.input_height()).key("macs").value(total_macs);
    const bty::ModelInfo& mi = bty::info(*loaded);  // what precision=auto reads from the file
    j.key("int8_convs").value(mi.int8_convs).key("int8_on_grid").value(mi.int8_on_grid);
    j.key("median_ms").value(med(ms)).key("times_ms").begin_array();
    for (double t : ms) j.value(t);
    j.end_array();
    j.key("device").value(bty::to_string(net.device())).key("device_name").value(net.device_name());
    j.key("batch").value(batch).key("upload_ms").value(med(up)).key("kernels_ms").value(med(kern));
    j.key("download_ms").value(med(down)).key("convert_ms").value(med(conv));
    // Host side of a frame (OpenCL): set_input calls, run()'s copy of the faces' bytes (gather), the queueing (and
    // flush) of their upload, and the queueing of the kernels and the download with their flushes (enqueue).
    j.key("inputs_ms").value(med(inputs)).key("gather_ms").value(med(gather));
    j.key("upload_enqueue_ms").value(med(up_enqueue)).key("enqueue_ms").value(med(enqueue));
    j.key("cl_flush_every").value(o.cl_flush_every).key("cl_chunks").value(net.last_times().chunks);
    j.key("cl_part_queues").value(o.cl_part_queues);
    j.key("input").value(input).key("roi_scale").value(roi_scale).key("cl_output").value(bty::to_string(o.cl_output));
    j.key("upload_bytes").value(uint64_t(net.last_times().upload_bytes));
    j.key("download_bytes").value(uint64_t(net.last_times().download_bytes));
    // Start-up split: model load; OpenCL device discovery, context + queue (the driver), program build or cache
    // load, buffers + weights + kernels; then the first frame's inputs, run and outputs.
    j.key("load_ms").value(load_ms).key("construct_ms").value(construct_ms);
    j.key("platform_ms").value(start_times.platform_ms).key("context_ms").value(start_times.context_ms);
    j.key("setup_ms").value(start_times.setup_ms).key("first_run_ms").value(first_run_ms);
    j.key("first_frame_ms").value(first_frame_ms).key("build_ms").value(start_times.build_ms);
    j.key("binary_cache_hit").value(start_times.binary_cache_hit).key("cl_reads").value(bty::to_string(net.cl_reads()));
    j.key("kinds").begin_array();  // per conv layer, the kernel kind it ran with (empty: reference, OpenCL)
    for (const std::string& kind : net.layer_kinds()) j.value(kind);
    j.end_array();
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
