#include "temporal.h"

#include <algorithm>
#include <cmath>

namespace bty::gst {

bool TemporalSmoother::jump(const Rect& prev, const Rect& cur) {
  if (prev.width <= 0 || cur.width <= 0) return true;
  const float w = float(prev.width);
  if (std::fabs(float(cur.width) - w) > kJump * w) return true;
  const float dx = (cur.x + 0.5f * cur.width) - (prev.x + 0.5f * prev.width);
  const float dy = (cur.y + 0.5f * cur.height) - (prev.y + 0.5f * prev.height);
  return std::hypot(dx, dy) > kJump * w;
}

void TemporalSmoother::begin_frame() {
  for (Track& t : tracks_) t.seen = false;
}

bool TemporalSmoother::has(int id) const {
  return std::any_of(tracks_.begin(), tracks_.end(), [id](const Track& t) { return t.id == id; });
}

namespace {
// prev = out + w·(prev − out), elementwise: a loop GCC vectorises; on x86-64 also compiled for AVX2 (twice the
// width; the same operations, no FMA, so the same floats).
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void blend_into(float* prev, const float* out, size_t n, float w) {
  for (size_t i = 0; i < n; ++i) prev[i] = out[i] + w * (prev[i] - out[i]);
}
}  // namespace

const float* TemporalSmoother::smooth(int id, const Rect& area, const float* out, size_t n, float w) {
  auto it = std::find_if(tracks_.begin(), tracks_.end(), [id](const Track& t) { return t.id == id; });
  if (!(w > 0.f)) {  // off (NaN too): each frame on its own, nothing kept
    if (it != tracks_.end()) tracks_.erase(it);
    return out;
  }
  w = std::min(w, 0.95f);
  if (it == tracks_.end()) {
    tracks_.emplace_back();
    it = std::prev(tracks_.end());
    it->id = id;
  } else if (!it->seen && it->prev.size() == n && !jump(it->area, area)) {
    float* p = it->prev.data();
    blend_into(p, out, n, w);
    it->area = area;
    it->seen = true;
    return p;
  }
  // starts over: new track, a jump, another output size (or the same id twice in one frame)
  it->prev.assign(out, out + n);
  it->area = area;
  it->seen = true;
  return out;
}

void TemporalSmoother::end_frame() {
  tracks_.erase(std::remove_if(tracks_.begin(), tracks_.end(), [](const Track& t) { return !t.seen; }), tracks_.end());
}

}  // namespace bty::gst
