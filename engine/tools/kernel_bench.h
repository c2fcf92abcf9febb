#pragma once
#include "model.h"

namespace bty::tools {
// Prints a markdown table: every kernel-table entry at every level, with the in-process FMA peak.
// only: one level's conv entries (Auto: every level).
int kernel_bench(const Model& model, int width, int height, int reps, bool scalar, Isa only);
}  // namespace bty::tools
