// Unit tests of the per-track temporal smoothing of the net's output (gst/temporal.h): the EMA's damping of an
// alternating output, w = 0 and identical outputs exact, restarts on a jump of the net area / a new output size /
// reset(), the state of a vanished track dropped, the state bounded by the faces of one frame.
#include "temporal.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using bty::Rect;
using bty::gst::TemporalSmoother;

namespace {

const Rect kArea{100, 80, 160, 224};

// One frame with one face: begin, smooth, end; returns a copy of what would be blended.
std::vector<float> frame(TemporalSmoother& s, int id, const Rect& area, const std::vector<float>& out, float w) {
  s.begin_frame();
  const float* r = s.smooth(id, area, out.data(), out.size(), w);
  std::vector<float> v(r, r + out.size());
  s.end_frame();
  return v;
}

}  // namespace

// An output that alternates +a, −a each frame settles, under y = w·y_prev + (1 − w)·x, to ±a·(1 − w)/(1 + w): the
// frame-to-frame change is damped by (1 − w)/(1 + w) (w = 0.6: a quarter).
TEST(Temporal, AlternatingOutputIsDampedByTheExpectedFactor) {
  for (float w : {0.3f, 0.6f, 0.9f}) {
    SCOPED_TRACE(w);
    TemporalSmoother s;
    const float a = 2.f;
    std::vector<float> plus(64, a), minus(64, -a);
    std::vector<float> y;
    double prev_y = a;
    for (int t = 0; t < 200; ++t) {
      y = frame(s, 7, kArea, t % 2 ? minus : plus, w);
      // exactly the recurrence, from the new output alone on frame 0
      const double want = t == 0 ? a : w * prev_y + (1 - w) * (t % 2 ? -a : a);
      ASSERT_NEAR(y[0], want, 1e-4) << "frame " << t;
      prev_y = y[0];
    }
    const float settled = a * (1 - w) / (1 + w);
    for (float v : y) EXPECT_NEAR(std::fabs(v), settled, 1e-3f);  // 200 frames: w^200 of the start is gone
    // the change from frame to frame: 2·settled of 2·a
    EXPECT_NEAR(2 * settled / (2 * a), (1 - w) / (1 + w), 1e-3);
  }
}

// A step from 0 to 1 reaches 1 − w^k after k frames (the lag of the retouch behind a change of expression).
TEST(Temporal, StepResponseIsTheEma) {
  TemporalSmoother s;
  const float w = 0.5f;
  frame(s, 1, kArea, std::vector<float>(8, 0.f), w);
  for (int k = 1; k <= 5; ++k) {
    const std::vector<float> y = frame(s, 1, kArea, std::vector<float>(8, 1.f), w);
    EXPECT_NEAR(y[3], 1 - std::pow(w, k), 1e-6);
  }
}

// w = 0: the new output itself (the same pointer, bit for bit) and nothing kept; identical outputs come out exact
// at any w (new + w·(prev − new) with prev == new is new).
TEST(Temporal, ZeroWeightAndIdenticalOutputsAreExact) {
  TemporalSmoother s;
  std::vector<float> x = {0.1f, -0.3f, 1e-7f, 3.14159f, -2.71828f, 0.f, 1e30f, -1e-30f};
  for (int t = 0; t < 3; ++t) {
    s.begin_frame();
    EXPECT_EQ(s.smooth(5, kArea, x.data(), x.size(), 0.f), x.data());
    s.end_frame();
    EXPECT_EQ(s.tracks(), 0u);
  }
  for (float w : {0.3f, 0.6f, 0.95f}) {
    TemporalSmoother e;
    for (int t = 0; t < 4; ++t) {
      const std::vector<float> y = frame(e, 5, kArea, x, w);
      for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], x[i]) << "w " << w << " frame " << t << " i " << i;
    }
  }
  // switched off mid-stream: the state goes, the next frame on is new alone
  TemporalSmoother o;
  frame(o, 5, kArea, std::vector<float>(4, 1.f), 0.6f);
  EXPECT_TRUE(o.has(5));
  EXPECT_EQ(frame(o, 5, kArea, std::vector<float>(4, 3.f), 0.f)[0], 3.f);
  EXPECT_FALSE(o.has(5));
  EXPECT_EQ(frame(o, 5, kArea, std::vector<float>(4, 7.f), 0.6f)[0], 7.f);
  // above the property's range: clamped to 0.95
  EXPECT_FLOAT_EQ(frame(o, 5, kArea, std::vector<float>(4, 8.f), 3.f)[0], 0.95f * 7.f + 0.05f * 8.f);
}

TEST(Temporal, JumpIsMoreThanAQuarterOfTheWidth) {
  const Rect a{100, 100, 200, 280};
  EXPECT_FALSE(TemporalSmoother::jump(a, a));
  EXPECT_FALSE(TemporalSmoother::jump(a, Rect{100, 100, 250, 350}));  // +25 % wide (centre +25, +35: 43 < 50)
  EXPECT_TRUE(TemporalSmoother::jump(a, Rect{100, 100, 251, 351}));
  EXPECT_TRUE(TemporalSmoother::jump(a, Rect{100, 100, 149, 209}));   // −25.5 %
  EXPECT_FALSE(TemporalSmoother::jump(a, Rect{150, 100, 200, 280}));  // centre 50 px = 25 % of 200
  EXPECT_TRUE(TemporalSmoother::jump(a, Rect{151, 100, 200, 280}));
  EXPECT_TRUE(TemporalSmoother::jump(a, Rect{136, 136, 200, 280}));   // 36·√2 = 51 px diagonally
  EXPECT_FALSE(TemporalSmoother::jump(a, Rect{135, 135, 200, 280}));  // 49.5 px
  EXPECT_TRUE(TemporalSmoother::jump(Rect{}, a));
}

// The track starts over (its new output alone) on a jump of the area, then smooths again from there; small moves
// of the area keep smoothing.
TEST(Temporal, ResetsOnAJumpOfTheArea) {
  TemporalSmoother s;
  const float w = 0.6f;
  std::vector<float> zero(16, 0.f), one(16, 1.f);
  frame(s, 3, kArea, zero, w);
  Rect moved = kArea;
  moved.x += 20;  // 12.5 % of the width: the same face, moved
  EXPECT_FLOAT_EQ(frame(s, 3, moved, one, w)[0], 1 - w);
  Rect cut = moved;
  cut.x += 41;  // 25.6 %: a cut
  EXPECT_EQ(frame(s, 3, cut, zero, w)[0], 0.f);
  EXPECT_FLOAT_EQ(frame(s, 3, cut, one, w)[0], 1 - w);
  Rect grown = cut;
  grown.width = cut.width * 13 / 10;  // +30 % wide
  grown.height = cut.height * 13 / 10;
  grown.x -= (grown.width - cut.width) / 2;
  grown.y -= (grown.height - cut.height) / 2;
  EXPECT_EQ(frame(s, 3, grown, zero, w)[0], 0.f);
  // another output size (another model or net size): starts over too
  EXPECT_EQ(frame(s, 3, grown, std::vector<float>(32, 1.f), w)[0], 1.f);
  EXPECT_FLOAT_EQ(frame(s, 3, grown, std::vector<float>(32, 0.f), w)[0], w);
  // reset() (flush, seek, new caps)
  s.reset();
  EXPECT_EQ(s.tracks(), 0u);
  EXPECT_EQ(frame(s, 3, grown, std::vector<float>(32, 5.f), w)[0], 5.f);
}

// Tracks are independent; a track not reported in a frame loses its state at once (it comes back new), so the state
// never holds more tracks than the last frame's faces.
TEST(Temporal, VanishedTrackStateIsDropped) {
  TemporalSmoother s;
  const float w = 0.5f;
  const Rect b{600, 80, 160, 224};
  std::vector<float> zero(8, 0.f), one(8, 1.f), four(8, 4.f);
  s.begin_frame();
  s.smooth(1, kArea, zero.data(), zero.size(), w);
  s.smooth(2, b, four.data(), four.size(), w);
  s.end_frame();
  EXPECT_EQ(s.tracks(), 2u);
  s.begin_frame();
  EXPECT_FLOAT_EQ(s.smooth(1, kArea, one.data(), one.size(), w)[0], 0.5f);  // track 1 only: not mixed with 2
  s.end_frame();
  EXPECT_EQ(s.tracks(), 1u);
  EXPECT_TRUE(s.has(1));
  EXPECT_FALSE(s.has(2));
  s.begin_frame();
  EXPECT_EQ(s.smooth(2, b, zero.data(), zero.size(), w)[0], 0.f);  // 2 is back: new, not 0.5·4
  s.end_frame();
  EXPECT_FALSE(s.has(1));
  // many faces over time, never more state than one frame's faces
  for (int t = 0; t < 100; ++t) {
    s.begin_frame();
    for (int k = 0; k < 3; ++k) s.smooth(10 + t + k, kArea, one.data(), one.size(), w);
    s.end_frame();
    EXPECT_EQ(s.tracks(), 3u);
  }
  // a frame with no face at all
  s.begin_frame();
  s.end_frame();
  EXPECT_EQ(s.tracks(), 0u);
}

// A half head (an OpenCL net's download) gives what its floats give: the same EMA, the same start-over copy; with
// w = 0 it comes back untouched as halves (the blend reads them), and no state is kept.
TEST(Temporal, HalfHeadIsSmoothedAsItsFloats) {
  std::mt19937 rng(3);
  const size_t n = 2500;  // not a multiple of the conversion block
  TemporalSmoother a, b;
  for (int f = 0; f < 4; ++f) {
    std::vector<uint16_t> h(n);
    for (auto& v : h) v = uint16_t((rng() & 0x8000) | (rng() % 16) << 10 | (rng() & 0x3ff));
    std::vector<float> x(n);
    bty::half_to_float(h.data(), x.data(), n);
    a.begin_frame();
    b.begin_frame();
    const float* fa = a.smooth(7, kArea, x.data(), n, 0.6f);
    const TemporalSmoother::Head hb = b.smooth(7, kArea, TemporalSmoother::Head{nullptr, h.data()}, n, 0.6f);
    ASSERT_NE(hb.f, nullptr);
    ASSERT_EQ(std::memcmp(fa, hb.f, n * sizeof(float)), 0) << "frame " << f;
    a.end_frame();
    b.end_frame();
  }
  b.begin_frame();
  const uint16_t one = 0x3c00;
  const TemporalSmoother::Head off = b.smooth(7, kArea, TemporalSmoother::Head{nullptr, &one}, 1, 0.f);
  EXPECT_EQ(off.h, &one);
  EXPECT_EQ(off.f, nullptr);
  EXPECT_FALSE(b.has(7));
}
