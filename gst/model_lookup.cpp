#include "model_lookup.h"

#include <beautify/engine.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sys/stat.h>

namespace bty::gst {
namespace {

bool is_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Fastest of a few timed runs of the tier's net (one face's cost) after two warm-up runs: on a loaded machine other
// processes only ever add time, so the minimum is the stable estimate of what this machine can do.
double time_net_ms(const std::string& path, int threads) {
  auto model = load_model(path);
  NetOptions o;
  o.threads = threads;
  Net net(model, o);
  std::vector<float> input(size_t(3) * net.input_width() * net.input_height(), 0.25f);
  net.set_input_planar(input.data());
  net.run();
  net.run();
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    net.run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return *std::min_element(ms.begin(), ms.end());
}

}  // namespace

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

ModelChoice choose_model(const std::string& model_property, const std::string& tier, int threads,
                         double budget_ms_per_face) {
  if (!model_property.empty()) {
    if (!is_file(model_property))
      throw ModelError("model file '" + model_property + "' does not exist: set model= to a .bmodel file, or unset "
                       "it to pick the installed model by tier");
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
  if (tier != "auto") {
    std::string p = find(tier);
    if (p.empty())
      throw ModelError("no beautify-" + tier + ".bmodel in " + searched + ": install the models (meson install), "
                       "set BEAUTIFY_MODEL_DIR to their folder, choose another tier, or set model= to a .bmodel file");
    return {p, tier, "tier property"};
  }
  // auto: time what is installed, once per process (the result does not change while the process runs).
  static std::mutex mu;
  static std::map<std::string, ModelChoice> cache;
  std::lock_guard<std::mutex> lock(mu);
  const std::string key = searched + "|" + std::to_string(threads);
  if (auto it = cache.find(key); it != cache.end() && is_file(it->second.path)) return it->second;
  ModelChoice best;
  std::string report;
  for (const char* t : {"s", "m", "l"}) {
    std::string p = find(t);
    if (p.empty()) continue;
    double ms = time_net_ms(p, threads);  // a corrupt file throws ModelError naming it
    report += std::string(report.empty() ? "" : ", ") + t + " " + std::to_string(ms).substr(0, 5) + " ms";
    if (best.path.empty() || ms <= budget_ms_per_face) best = {p, t, ""};
  }
  if (best.path.empty())
    throw ModelError("no beautify model (beautify-{s,m,l}.bmodel) in " + searched + ": install the models (meson "
                     "install), set BEAUTIFY_MODEL_DIR to their folder, or set model= to a .bmodel file");
  best.reason = "tier=auto (" + report + "; budget " + std::to_string(budget_ms_per_face).substr(0, 4) +
                " ms per face, " + std::to_string(threads) + " threads)";
  cache[key] = best;
  return best;
}

}  // namespace bty::gst
