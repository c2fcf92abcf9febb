// libFuzzer target: any byte string given to the model loader is either a valid model or a ModelError, never a
// crash, hang or out-of-bounds read (run under AddressSanitizer by scripts/fuzz).
#include <cstddef>
#include <cstdint>

#include "model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto m = bty::parse_model(data, size, "fuzz");
    bty::Plan p = bty::make_plan(*m, m->info.input_width, m->info.input_height);
    if (p.steps.empty()) __builtin_trap();  // a valid model always has its output head
  } catch (const bty::ModelError&) {
  }
  return 0;
}
