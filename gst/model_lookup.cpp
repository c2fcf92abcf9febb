#include "model_lookup.h"

#include "peak_fma.h"

#include <beautify/engine.h>

#include <glib.h>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace bty::gst {
namespace {

bool is_file(const std::string& p) {
  try {
    check_model_file(p);
    return true;
  } catch (const ModelError&) {
    return false;
  }
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

std::string cache_file() { return std::string(g_get_user_cache_dir()) + "/gst-beautify/machine-peak"; }

}  // namespace

double measure_core_gflops() { return peak_fma_gflops(1); }

MachinePeak machine_peak() {
  MachinePeak m;
  m.cores = int(std::max(1u, std::thread::hardware_concurrency()));
  m.key = cpu_model() + " | " + to_string(best_isa()) + " | " + std::to_string(m.cores) + " threads";
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  const std::string path = cache_file();
  {
    // Format: two lines, the machine key and the per-core GFLOP/s. Another machine's, a damaged or an impossible
    // (0, or above what the probe can measure) file is measured over.
    std::ifstream in(path);
    std::string key, value;
    if (in && std::getline(in, key) && std::getline(in, value) && key == m.key) {
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      if (end != value.c_str() && v > 0 && v <= kMaxCoreGflops) {
        m.core_gflops = v;
        m.cached = true;
        return m;
      }
    }
  }
  m.core_gflops = std::round(measure_core_gflops() * 10) / 10;  // 0.1 GFLOP/s: what the cache file holds
  // Written to a temporary file and renamed, so concurrent processes never read half a file; a cache dir that
  // cannot be written only costs a measurement per process.
  const std::string dir = path.substr(0, path.rfind('/'));
  if (g_mkdir_with_parents(dir.c_str(), 0755) == 0) {
    const std::string tmp = path + "." + std::to_string(::getpid());
    {
      std::ofstream out(tmp);
      out << m.key << "\n" << m.core_gflops << "\n";
    }
    std::rename(tmp.c_str(), path.c_str());
  }
  return m;
}

double predicted_ms_per_face(int64_t macs, const MachinePeak& m, int threads) {
  // Without AVX2+FMA the scalar kernels run: no tier but the smallest fits any budget (pick_tier falls back).
  if (!(m.core_gflops > 0)) return 1e9;
  const int t = std::clamp(threads, 1, m.cores);
  const double gflops = m.core_gflops * kNetPeakShare * (1 + kExtraThreadGain * (t - 1));
  return 2.0 * double(macs) / (gflops * 1e6);
}

int pick_tier(const std::vector<int64_t>& macs, const MachinePeak& m, int threads) {
  int best = -1, smallest = -1;
  for (int i = 0; i < int(macs.size()); ++i) {
    if (macs[i] <= 0) continue;
    if (smallest < 0) smallest = i;
    if (predicted_ms_per_face(macs[i], m, threads) <= kBudgetMsPerFace) best = i;
  }
  return best >= 0 ? best : smallest;
}

std::vector<std::string> model_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("BEAUTIFY_MODEL_DIR"); env && *env) dirs.push_back(env);
#ifdef BEAUTIFY_MODEL_INSTALL_DIR
  dirs.push_back(BEAUTIFY_MODEL_INSTALL_DIR);
#endif
#ifdef BEAUTIFY_MODEL_SOURCE_DIR
  dirs.push_back(BEAUTIFY_MODEL_SOURCE_DIR);
#endif
  return dirs;
}

ModelChoice choose_model(const std::string& model_property, Tier tier, int threads) {
  if (!model_property.empty()) {
    check_model_file(model_property);  // typed: not found, not a regular file, too large, unreadable
    return {model_property, "", "model property"};
  }
  const std::vector<std::string> dirs = model_dirs();
  std::string searched;
  for (const auto& d : dirs) searched += (searched.empty() ? "" : ", ") + d;
  auto find = [&](const std::string& t) -> std::string {
    for (const auto& d : dirs) {
      std::string p = d + "/beautify-" + t + ".bmodel";
      if (is_file(p)) return p;
    }
    return {};
  };
  if (tier != Tier::Auto) {
    const std::string t = to_string(tier);
    std::string p = find(t);
    if (p.empty())
      throw ModelError(
          ModelError::Kind::NotFound,
          "no beautify-" + t + ".bmodel in " + searched +
              ": install the models (meson install), "
              "set BEAUTIFY_MODEL_DIR to their folder, choose another tier, or set model= to a .bmodel file");
    return {p, t, "tier property"};
  }
  const char* names[] = {"s", "m", "l"};
  std::vector<std::string> paths;
  std::vector<int64_t> macs;
  for (const char* t : names) {
    paths.push_back(find(t));
    macs.push_back(paths.back().empty() ? 0 : info(*load_model(paths.back())).macs);  // corrupt: ModelError
  }
  const MachinePeak m = machine_peak();
  const int i = pick_tier(macs, m, threads);
  if (i < 0)
    throw ModelError(ModelError::Kind::NotFound,
                     "no beautify model (beautify-{s,m,l}.bmodel) in " + searched +
                         ": install the models (meson "
                         "install), set BEAUTIFY_MODEL_DIR to their folder, or set model= to a .bmodel file");
  std::ostringstream why;
  why << "tier=auto: " << m.core_gflops << " GFLOP/s per core (" << (m.cached ? "cached" : "measured") << ", " << m.key
      << "), " << threads << " threads; predicted ms per face:";
  for (int k = 0; k < 3; ++k)
    if (macs[k] > 0) why << " " << names[k] << " " << predicted_ms_per_face(macs[k], m, threads);
  why << " (budget " << kBudgetMsPerFace << ")";
  return {paths[i], names[i], why.str()};
}

}  // namespace bty::gst
