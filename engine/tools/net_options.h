// The NetOptions command-line options shared by bty-run and bty-bench.
#pragma once
#include <string>

#include "beautify/engine.h"
#include "options.h"

namespace bty::tools {

struct NetArgs {
  std::string executor = "pipeline", isa = "auto";
  int threads = 1, width = 0, height = 0;
  int segment_kib = int(NetOptions{}.segment_bytes / 1024);
  bool no_winograd = false;
  std::string device = "cpu", cl_cache, cl_reads = "auto", cl_output = to_string(NetOptions{}.cl_output);
  int batch = 1;
  bool cl_layer_times = false;
  int cl_flush_every = NetOptions{}.cl_flush_every;
  int cl_chunks = NetOptions{}.cl_chunks;
  int cl_part_queues = NetOptions{}.cl_part_queues;
  std::string rings = to_string(NetOptions{}.rings);
  std::string precision = to_string(NetOptions{}.precision);

  void add_to(cli::Options& o) {
    o.choice("executor", 0, &executor, {"reference", "layered", "pipeline"}, "executor");
    o.integer("threads", 't', &threads, 1, NetOptions::kMaxThreads, "N", "worker threads");
    o.choice("isa", 0, &isa, {"auto", "scalar", "avx2", "avx512"}, "kernel instruction set");
    o.integer("width", 0, &width, 0, NetOptions::kMaxSide, "W", "net input width, 0 = the model's own");
    o.integer("height", 0, &height, 0, NetOptions::kMaxSide, "H", "net input height, 0 = the model's own");
    o.integer("segment-kib", 0, &segment_kib, int(NetOptions::kMinSegmentBytes / 1024), 1 << 20, "K",
              "per-thread working-set budget of the pipeline executor, KiB");
    o.flag("no-winograd", 0, &no_winograd, "direct convolution only");
    o.choice("device", 0, &device, {"cpu", "opencl", "auto"}, "where the net runs");
    o.integer("batch", 0, &batch, 1, 64, "N", "input slots run together (faces of one frame)");
    o.text("cl-cache", 0, &cl_cache, "DIR", "OpenCL program-binary cache folder ('-': none; default: the user's)");
    o.choice("cl-reads", 0, &cl_reads, {"auto", "local", "global"}, "OpenCL conv input reads");
    o.flag("cl-layer-times", 0, &cl_layer_times, "OpenCL: profile every kernel");
    o.choice("cl-output", 0, &cl_output, {"float", "half", "blend"},
             "OpenCL output download precision (blend: what a blending consumer such as the element uses)");
    o.integer("cl-flush-every", 0, &cl_flush_every, 0, 1 << 20, "N",
              "OpenCL: submit the queued kernels (clFlush) after every N-th from the first (0: only at the end)");
    o.integer("cl-chunks", 0, &cl_chunks, 0, 64, "N",
              "OpenCL: run a batch as N parts whose transfers overlap each other's kernels (0: auto)");
    o.integer("cl-part-queues", 0, &cl_part_queues, 1, 2, "N",
              "OpenCL: compute queues a batch's parts alternate over (2: parts may run side by side)");
    o.choice("rings", 0, &rings, {"auto", "float", "half"}, "pipeline executor's intermediate row storage");
    o.choice("precision", 0, &precision, {"auto", "fp32", "bf16", "int8"},
             "CPU conv arithmetic (bf16: AMX-BF16 tiles, else AVX512-BF16 dot products; an error without AVX512_BF16; "
             "int8: AVX512-VNNI on the model's calibrated convs; an error without AVX512_VNNI)");
  }

  NetOptions options() const {
    NetOptions o;
    o.executor = executor == "reference" ? Executor::Reference
                 : executor == "layered" ? Executor::Layered
                                         : Executor::Pipeline;
    o.isa = isa == "scalar" ? Isa::Scalar : isa == "avx2" ? Isa::Avx2 : isa == "avx512" ? Isa::Avx512 : Isa::Auto;
    o.threads = threads;
    o.width = width;
    o.height = height;
    o.segment_bytes = size_t(segment_kib) * 1024;
    o.winograd = !no_winograd;
    o.device = device == "opencl" ? Device::OpenCL : device == "auto" ? Device::Auto : Device::Cpu;
    o.batch = batch;
    o.cl_cache_dir = cl_cache;
    o.cl_reads = cl_reads == "local" ? ClReads::Local : cl_reads == "global" ? ClReads::Global : ClReads::Auto;
    o.cl_layer_times = cl_layer_times;
    o.cl_flush_every = cl_flush_every;
    o.cl_chunks = cl_chunks;
    o.cl_part_queues = cl_part_queues;
    o.cl_output = cl_output == "half" ? ClOutput::Half : cl_output == "blend" ? kBlendClOutput : ClOutput::Float;
    o.rings = rings == "half" ? RingStorage::Half : rings == "float" ? RingStorage::Float : RingStorage::Auto;
    o.precision = precision == "bf16"   ? Precision::Bf16
                  : precision == "int8" ? Precision::Int8
                  : precision == "fp32" ? Precision::Float32
                                        : Precision::Auto;
    return o;
  }
};

}  // namespace bty::tools
