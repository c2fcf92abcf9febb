// OBS's async source frames as the blend's frames: same memory, same format (the filter writes in place, so OBS
// keeps its frame format, size and timestamp).
#pragma once

#include "blend/blend.h"

#include <obs.h>

namespace bty::obs {

// False (and `why` set) for formats the blend does not handle; those frames go through untouched.
bool to_blend_frame(const obs_source_frame& in, blend::Frame& out, const char*& why);

}  // namespace bty::obs
