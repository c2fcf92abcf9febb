// Which beauty-net file the element loads: the `model` property, else the tier's file (beautify-<tier>.bmodel)
// from $BEAUTIFY_MODEL_DIR, the installed data dir, or the source tree's models/ (uninstalled use), in that order.
// tier=auto decides from the machine, not from how busy it is right now (docs/element.md, "Which model is loaded"):
// the per-core FMA peak (best of many short probes, cached per machine), the core count and each tier's MACs.
#pragma once

#include "settings.h"

#include <cstdint>
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
// Throws bty::ModelError (typed: NotFound, NotRegularFile, TooLarge, ...) with what to do when nothing usable is
// found.
ModelChoice choose_model(const std::string& model_property, Tier tier, int threads);

// --- tier=auto ---
// The share of the per-core FMA peak the engine reaches on a whole net (measured 76-84 % on the M and L nets of a
// 2-core Xeon, 1 thread; a little below, so a borderline tier is not taken), the per-face budget, and how much each
// extra thread adds.
constexpr double kNetPeakShare = 0.7, kBudgetMsPerFace = 4.0, kExtraThreadGain = 0.8;
struct MachinePeak {
  double core_gflops = 0;  // FP32 FMA peak of one core; 0: no AVX2+FMA (the engine's scalar kernels)
  int cores = 1;           // hardware threads
  std::string key;         // what identifies the machine (CPU model, ISA, cores)
  bool cached = false;     // read from the cache file, not measured by this call
};
// bty::peak_fma_gflops on the calling thread, best of many ~50 us bursts: a busy machine preempts some, never speeds
// one up, and one burst in a time slice of its own is enough. 0 without AVX2+FMA.
double measure_core_gflops();
// The machine's peak from $XDG_CACHE_HOME/gst-beautify/machine-peak (~/.cache when unset), measured and written
// there on first use; the same machine gives the same answer afterwards whatever its load.
MachinePeak machine_peak();
// The predicted net time per face of a net of `macs` multiply-accumulates (ms) with `threads` threads.
double predicted_ms_per_face(int64_t macs, const MachinePeak& m, int threads);
// The tier auto picks among `macs` (per tier, smallest first; 0 = not installed): the largest within the budget,
// else the smallest installed. Returns the index.
int pick_tier(const std::vector<int64_t>& macs, const MachinePeak& m, int threads);

}  // namespace bty::gst
