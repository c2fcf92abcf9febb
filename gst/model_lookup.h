// Which beauty-net file the element loads: the `model` property, else the tier's file (beautify-<tier>.bmodel)
// from $BEAUTIFY_MODEL_DIR, the installed data dir, or the source tree's models/ (uninstalled use), in that order.
// tier=auto times each available tier's net on this machine once per process and takes the largest that stays
// within the per-face budget.
#pragma once

#include <string>
#include <vector>

namespace bty::gst {

struct ModelChoice {
  std::string path;
  std::string tier;    // "s", "m", "l" (or the file's own tier when `model` was given)
  std::string reason;  // for the debug log: how it was chosen
};

// Directories searched for beautify-<tier>.bmodel, in order (existing or not).
std::vector<std::string> model_dirs();
// tier: "auto", "s", "m" or "l". Throws bty::ModelError with what to do when nothing usable is found.
ModelChoice choose_model(const std::string& model_property, const std::string& tier, int threads,
                         double budget_ms_per_face = 4.0);

}  // namespace bty::gst
