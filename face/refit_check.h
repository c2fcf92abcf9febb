// How far refit skipping moves the landmarks: a clip through two stages in lock step, one with refit skipping (the
// given options) and one refitting every frame, both with synchronous detection so they see the same detections.
// Used by face-bench --clip and the real-clip tests (one definition of the measure).
#pragma once

#include "face_stage.h"

#include <vector>

namespace bty::face {

struct RefitDeviation {
  std::vector<double> deviation;    // per face and frame: mean landmark distance / face size, skipping vs full refit
  std::vector<double> full_motion;  // per face and frame: the full refit's own frame-to-frame motion, same measure
  int refits = 0, skipped = 0;      // the skipping stage's refits and skipped refits over the clip
};

// frames: the clip's luma planes (all of one size and pixel aspect). Throws Error as FaceStage does.
RefitDeviation compare_to_full_refit(const std::vector<FrameInput>& frames, Options skipping);

}  // namespace bty::face
