// Temporal smoothing of the beauty net's raw output, per face track: an exponential moving average in the net's own
// (face-aligned) coordinates, so that frame-to-frame noise of a net that runs on each frame on its own (camera
// noise, small jitter of the net area) does not go straight into the retouch. No GStreamer; the element's core
// (retoucher.cpp) and the tests call it directly.
//
// Per frame: begin_frame(), then smooth() once per face whose net ran, then end_frame() (drops the tracks that were
// not smoothed in between, so the state never holds more tracks than one frame had faces: at most max-faces).
#pragma once

#include <beautify/engine.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bty::gst {

class TemporalSmoother {
 public:
  // The head as the net gave it: floats (f), or the IEEE halves an OpenCL net downloads (h, Net::output_half).
  struct Head {
    const float* f = nullptr;
    const uint16_t* h = nullptr;
  };
  // A track starts over (its new output is used alone) when its net area's width changes by more than this share
  // of the previous width, or the area's centre moves by more than this share of the previous width, between two
  // consecutive frames: a cut or a re-detection jump, where the past output belongs to another face or framing.
  static constexpr float kJump = 0.25f;
  // True when going from net area `prev` to `cur` is such a jump.
  static bool jump(const Rect& prev, const Rect& cur);

  // Marks every track unseen for this frame.
  void begin_frame();
  // The net's raw output `out` (n floats, the head tensor before the blend reads it) for face track `id`, whose net
  // area this frame is `area`; w = weight of the past, 0..0.95 (clamped). Returns what to blend:
  //   out = new + w · (prev − new)   (= w·prev + (1 − w)·new; identical prev and new give new exactly),
  // kept as the track's prev for the next frame. The new output alone (the pointer `out` itself) when w <= 0 (no
  // state is kept then), or when the track starts over: new track, a jump of the area (kJump), another output size.
  // The returned pointer is valid until the next call for this id, end_frame() or reset().
  const float* smooth(int id, const Rect& area, const float* out, size_t n, float w);
  // The same for either kind of head: a half head is converted only where a track's state needs floats (the
  // average, or a start-over's copy), in that pass; with w <= 0 it comes back as it is, for the blend to read.
  Head smooth(int id, const Rect& area, Head out, size_t n, float w);
  // Ends the frame: the state of the tracks not smoothed since begin_frame() is dropped.
  void end_frame();
  // Drops every track (flush, seek, new caps, a frame whose net did not run).
  void reset() { tracks_.clear(); }

  size_t tracks() const { return tracks_.size(); }
  bool has(int id) const;

 private:
  struct Track {
    int id = 0;
    Rect area;
    std::vector<float> prev;  // the last output blended for this track (after smoothing)
    bool seen = false;
  };
  std::vector<Track> tracks_;
};

}  // namespace bty::gst
