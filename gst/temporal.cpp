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

// The same from halves, through a cache-resident block of their floats (the same floats: the same result).
void blend_into(float* prev, const uint16_t* out, size_t n, float w) {
  constexpr size_t kBlock = 1024;
  float f[kBlock];
  for (size_t i = 0; i < n; i += kBlock) {
    const size_t k = std::min(kBlock, n - i);
    half_to_float(out + i, f, k);
    blend_into(prev + i, f, k, w);
  }
}
}  // namespace

const float* TemporalSmoother::smooth(int id, const Rect& area, const float* out, size_t n, float w) {
  return smooth(id, area, Head{out, nullptr}, n, w).f;
}

TemporalSmoother::Head TemporalSmoother::smooth(int id, const Rect& area, Head out, size_t n, float w) {
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
    if (out.f)
      blend_into(p, out.f, n, w);
    else
      blend_into(p, out.h, n, w);
    it->area = area;
    it->seen = true;
    return Head{p, nullptr};
  }
  // starts over: new track, a jump, another output size (or the same id twice in one frame)
  it->area = area;
  it->seen = true;
  if (out.f) {
    it->prev.assign(out.f, out.f + n);
    return out;
  }
  it->prev.resize(n);
  half_to_float(out.h, it->prev.data(), n);
  return Head{it->prev.data(), nullptr};
}

void TemporalSmoother::end_frame() {
  tracks_.erase(std::remove_if(tracks_.begin(), tracks_.end(), [](const Track& t) { return !t.seen; }), tracks_.end());
}

}  // namespace bty::gst
