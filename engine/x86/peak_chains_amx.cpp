// The AMX-BF16 peak probe's burst (compiled with -mamx-tile -mamx-bf16). Linux hands out the tile data state only on
// request (arch_prctl ARCH_REQ_XCOMP_PERM), so amx_bf16_usable() asks once; the engine's kernels do not use AMX yet:
// the probe says what a tile kernel could reach on this CPU (docs/engine.md, "Reduced precision").
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "../peak_fma.h"

namespace bty {
namespace {
constexpr long kArchReqXcompPerm = 0x1023;  // <asm/prctl.h>
constexpr long kXfeatureXtiledata = 18;

struct TileConfig {  // palette 1: 8 tiles of 16 rows × 64 bytes
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
}  // namespace

bool amx_bf16_usable() {
  static const bool usable = [] {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const bool tile = d & (1u << 24), bf16 = d & (1u << 22),
               osxsave = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_OSXSAVE);
    if (!(tile && bf16 && osxsave)) return false;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return usable;
}

// 4 independent accumulator tiles, each += A (16×32 bf16) · B (32×16 bf16) per round.
__attribute__((noinline)) float amx_bf16_chains(long iters, float seed) {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) cfg.colsb[t] = 64, cfg.rows[t] = 16;
  _tile_loadconfig(&cfg);
  alignas(64) uint16_t a[16 * 32], b[16 * 32];
  for (int i = 0; i < 16 * 32; ++i) a[i] = 0x3f80, b[i] = 0x3380;  // bf16 1.0 and ~6e-8
  alignas(64) float c[16 * 16];
  for (float& v : c) v = seed;
  _tile_loadd(0, c, 64);
  _tile_loadd(1, c, 64);
  _tile_loadd(2, c, 64);
  _tile_loadd(3, c, 64);
  _tile_loadd(4, a, 64);
  _tile_loadd(5, a, 64);
  _tile_loadd(6, b, 64);
  _tile_loadd(7, b, 64);
  for (long n = 0; n < iters; ++n) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, c, 64);
  float s = c[0];
  _tile_stored(3, c, 64);
  s += c[0];
  _tile_release();
  return s;
}

}  // namespace bty
