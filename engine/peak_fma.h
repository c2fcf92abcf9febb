// The machine's arithmetic peaks, measured: the FP32 FMA peak (tier=auto's per-core peak in gst/model_lookup.cpp and
// the benches' roofline take it from here), and the 512-bit FMA, bf16 and int8 dot peaks that decide whether an AVX-512
// or a reduced-precision kernel can pay on this CPU (bty-bench --peak, docs/engine.md "Reduced precision").
#pragma once

namespace bty {

// Bursts of `iters` rounds of 12 independent chains (enough to cover latency × ports) on every thread, after
// `warmups` untimed ones (caches, clock frequency). The fastest burst is kept: on a shared machine it is one the OS
// left alone, as kernel timings (the minimum of many runs) are.
struct FmaProbe {
  long iters = 2000;  // ~50 us a burst at 100 GFLOP/s per core
  int bursts = 400;
  int warmups = 20;
};

// What a chain step is. Flops are counted as the instruction's multiply-adds × 2.
enum class PeakOp {
  Fma256,      // vfmadd231ps ymm: 8 lanes × 1 MAC (the engine's "FMA peak")
  Fma512,      // vfmadd231ps zmm: 16 lanes × 1 MAC (what the AVX-512 fp32 kernels run on)
  Bf16Dot512,  // vdpbf16ps zmm: 16 lanes × 2 bf16 MACs, fp32 accumulation (AVX512_BF16)
  Vnni512,     // vpdpbusd zmm: 16 lanes × 4 u8·s8 MACs, int32 accumulation (AVX512_VNNI); "flops" = 2 per MAC
  AmxBf16,     // tdpbf16ps: a 16×16 fp32 tile += 16×32 bf16 × 32×16 bf16 (AMX-BF16; Linux asks the kernel for the
               // tile state first). Runs iters / 16 rounds: one tile product takes ~16 cycles.
};
const char* to_string(PeakOp op);

// The most this probe can measure of Fma256 on one core: no core retires more than 2 AVX2 FMAs (8 lanes, 2 flops
// each) a cycle, and none runs at 8 GHz. A faster burst is a broken clock reading (one such reading, cached, once made
// tier=auto believe in 13,000 GFLOP/s per core and pick tier L on a machine that runs M): it is ignored.
constexpr double kMaxCoreGflops = 2 * 8 * 2 * 8.0;
// The same ceiling for any op: 2 instructions a cycle at 8 GHz (AMX: one 1024-flop tile product a cycle).
double max_core_gflops(PeakOp op);

// GFLOP/s of `threads` threads running bursts at once (1: on the calling thread; more: one thread each per burst, so
// give them bursts of milliseconds). 0 on a CPU without the op (has_peak_op).
double peak_gflops(PeakOp op, int threads, const FmaProbe& probe = {});
bool has_peak_op(PeakOp op);
// The FP32 FMA peak: peak_gflops(PeakOp::Fma256, ...); 0 on a CPU without AVX2+FMA.
double peak_fma_gflops(int threads, const FmaProbe& probe = {});

// One burst; `seed` comes from a volatile so the compiler can neither fold a call nor hoist it out of the loop.
float fma_chains_avx2(long iters, float seed);         // x86/fma_chains_avx2.cpp
float fma_chains_avx512(long iters, float seed);       // x86/peak_chains_avx512bf16.cpp
float bf16_dot_chains_avx512(long iters, float seed);  // x86/peak_chains_avx512bf16.cpp
float vnni_chains_avx512(long iters, float seed);      // x86/peak_chains_avx512bf16.cpp
float amx_bf16_chains(long iters, float seed);         // x86/peak_chains_amx.cpp
bool amx_bf16_usable();                                // x86/peak_chains_amx.cpp: CPUID, XCR0, the kernel's leave

}  // namespace bty
