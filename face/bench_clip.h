// face-bench --clip: the face stage's per-face cost on a real clip (raw GRAY8 frames), split into its steps, with
// refit skipping on and off alternating in one run (ratios, not lone absolute numbers), and how far the skipped
// frames' landmarks are from a full refit of the same frames.
#pragma once

#include "json.h"

#include <ostream>
#include <string>

namespace bty::face {

struct ClipBenchArgs {
  std::string path;  // raw GRAY8, width*height bytes per frame
  int width = 1920, height = 1080;
  int frames = 0;   // 0: all
  int rounds = 3;   // each round runs both variants (order alternating)
  int threads = 1;  // face stage threads (1: every step's CPU time is on the timed thread)
};

// Runs the measurement; writes a "clip" member into `js` (inside an open object) and a Markdown section to `md`.
// Throws Error when the clip cannot be read.
void bench_clip(const ClipBenchArgs& a, bty::cli::Json& js, std::ostream& md);

}  // namespace bty::face
