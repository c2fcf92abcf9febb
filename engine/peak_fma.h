// The machine's FP32 FMA peak, measured: tier=auto's per-core peak (gst/model_lookup.cpp) and the benches' roofline
// (bty-bench) take it from here.
#pragma once

namespace bty {

// Bursts of `iters` rounds of 12 independent AVX2 FMA chains (enough to cover FMA latency × ports) on every thread,
// after `warmups` untimed ones (caches, clock frequency). The fastest burst is kept: on a shared machine it is one
// the OS left alone, as kernel timings (the minimum of many runs) are.
struct FmaProbe {
  long iters = 2000;  // ~50 us a burst at 100 GFLOP/s per core
  int bursts = 400;
  int warmups = 20;
};

// The most this probe can measure on one core: no core retires more than 2 AVX2 FMAs (8 lanes, 2 flops each) a cycle,
// and none runs at 8 GHz. A faster burst is a broken clock reading (one such reading, cached, once made tier=auto
// believe in 13,000 GFLOP/s per core and pick tier L on a machine that runs M): it is ignored.
constexpr double kMaxCoreGflops = 2 * 8 * 2 * 8.0;

// GFLOP/s (2 flops per FMA lane) of `threads` threads running bursts at once (1: on the calling thread; more: one
// thread each per burst, so give them bursts of milliseconds). 0 on a CPU without AVX2+FMA.
double peak_fma_gflops(int threads, const FmaProbe& probe = {});

// One burst; `seed` comes from a volatile so the compiler can neither fold a call nor hoist it out of the loop.
float fma_chains_avx2(long iters, float seed);  // x86/fma_chains_avx2.cpp

}  // namespace bty
