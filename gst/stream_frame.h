// The core's stream (StreamInfo: what the caps say) and the blend's frame (blend::Frame: one picture of it) share
// their format, size and colorimetry: one mapping each way, so the core (a frame of its stream over the caller's
// planes) and callers that get frames rather than caps (the OBS filter) cannot drift apart. Header-only: the pieces
// are a few assignments.
#pragma once

#include "blend/blend.h"
#include "retoucher.h"

#include <cmath>
#include <cstdint>

namespace bty::gst {

// The stream `f` belongs to: its format, size and colorimetry, square pixels, `frame_rate` (<= 0: the default).
inline StreamInfo stream_of(const blend::Frame& f, float frame_rate) {
  StreamInfo s;
  s.format = f.format;
  s.matrix = f.matrix;
  s.full_range = f.full_range;
  s.width = f.width;
  s.height = f.height;
  if (frame_rate > 0.f) s.frame_rate = frame_rate;
  return s;
}

// A frame of stream `s` over `plane`/`stride` (memory order, as bty::ImageView).
inline blend::Frame frame_of(const StreamInfo& s, uint8_t* const plane[3], const int stride[3]) {
  blend::Frame f;
  f.format = s.format;
  f.matrix = s.matrix;
  f.full_range = s.full_range;
  f.width = s.width;
  f.height = s.height;
  for (int i = 0; i < 3; ++i) {
    f.plane[i] = plane[i];
    f.stride[i] = stride[i];
  }
  return f;
}

// Whether a core configured for `a` can take frames of `b` as they are (else: configure() again).
inline bool same_stream(const StreamInfo& a, const StreamInfo& b) {
  return a.format == b.format && a.matrix == b.matrix && a.full_range == b.full_range && a.width == b.width &&
         a.height == b.height && a.par_n == b.par_n && a.par_d == b.par_d &&
         std::fabs(a.frame_rate - b.frame_rate) <= 1e-3f;
}

}  // namespace bty::gst
