#pragma once
#include "model.h"
#include "peak_fma.h"

namespace bty::tools {
// The benches' FMA peak: millisecond bursts (one thread each per burst on several threads).
constexpr FmaProbe kBenchFmaProbe{400'000, 100, 1};

// Prints a markdown table: every kernel-table entry at every level, with the in-process FMA peak.
// only: one level's conv entries (Auto: every level).
int kernel_bench(const Model& model, int width, int height, int reps, bool scalar, Isa only);
}  // namespace bty::tools
