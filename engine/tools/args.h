// Tiny --key value argument parsing shared by the engine tools.
#pragma once
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

#include "beautify/engine.h"

namespace bty::tools {

class Args {
 public:
  Args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string k = argv[i];
      if (k.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument '" + k + "'");
      k = k.substr(2);
      if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) kv_[k] = argv[++i];
      else kv_[k] = "";
    }
  }
  bool has(const std::string& k) const { return kv_.count(k) != 0; }
  std::string str(const std::string& k, const std::string& def = "") const {
    auto it = kv_.find(k);
    return it == kv_.end() ? def : it->second;
  }
  int num(const std::string& k, int def) const {
    auto it = kv_.find(k);
    if (it == kv_.end()) return def;
    char* end = nullptr;
    long v = std::strtol(it->second.c_str(), &end, 10);
    if (!end || *end) throw std::invalid_argument("--" + k + " needs a number");
    return int(v);
  }

 private:
  std::map<std::string, std::string> kv_;
};

inline Executor parse_executor(const std::string& s) {
  if (s == "reference") return Executor::Reference;
  if (s == "layered") return Executor::Layered;
  if (s == "pipeline" || s.empty()) return Executor::Pipeline;
  throw std::invalid_argument("--executor must be reference, layered or pipeline");
}

inline Isa parse_isa(const std::string& s) {
  if (s.empty() || s == "auto") return Isa::Auto;
  if (s == "scalar") return Isa::Scalar;
  if (s == "avx2") return Isa::Avx2;
  if (s == "avx512") return Isa::Avx512;
  throw std::invalid_argument("--isa must be auto, scalar, avx2 or avx512");
}

inline Device parse_device(const std::string& s) {
  if (s.empty() || s == "cpu") return Device::Cpu;
  if (s == "opencl") return Device::OpenCL;
  if (s == "auto") return Device::Auto;
  throw std::invalid_argument("--device must be cpu, opencl or auto");
}

constexpr const char* kNetOptionsUsage =
    "[--executor reference|layered|pipeline] [--threads N] [--isa auto|scalar|avx2|avx512] [--width W --height H] "
    "[--segment-kib K] [--no-winograd] [--device cpu|opencl|auto] [--batch N] [--cl-cache DIR|-] [--cl-reads auto|local|global] [--cl-layer-times]";

inline NetOptions net_options(const Args& a) {
  NetOptions o;
  o.executor = parse_executor(a.str("executor"));
  o.threads = a.num("threads", 1);
  o.isa = parse_isa(a.str("isa"));
  o.width = a.num("width", 0);
  o.height = a.num("height", 0);
  o.segment_bytes = size_t(a.num("segment-kib", 512)) * 1024;
  o.winograd = !a.has("no-winograd");
  o.device = parse_device(a.str("device"));
  o.batch = a.num("batch", 1);
  o.cl_cache_dir = a.str("cl-cache");
  o.cl_layer_times = a.has("cl-layer-times");
  const std::string r = a.str("cl-reads", "auto");
  if (r == "auto") o.cl_reads = ClReads::Auto;
  else if (r == "local") o.cl_reads = ClReads::Local;
  else if (r == "global") o.cl_reads = ClReads::Global;
  else throw std::invalid_argument("--cl-reads must be auto, local or global");
  return o;
}

}  // namespace bty::tools
