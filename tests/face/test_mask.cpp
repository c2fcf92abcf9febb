// Skin mask geometry on the stored reference landmarks (no model needed).
#include "data/reference_landmarks.h"
#include "face_test_util.h"
#include "mask.h"

using namespace facetest;

namespace {

Landmarks ref_landmarks(int i) {
  Landmarks lm;
  for (int k = 0; k < kNumLandmarks; ++k) lm[k] = V2(kReferenceFaces[i].pts[k][0], kReferenceFaces[i].pts[k][1]);
  return lm;
}

Face render(const Landmarks& lm, float size, int w, int h, float alpha = 1.f) {
  Face f;
  f.landmarks = lm;
  const SkinShape s = skin_shape(lm, size);
  f.roi = align_roi(bounds(s.outline.data(), int(s.outline.size())), 0.15f * size, 8, w, h);
  render_mask(s, f.roi, alpha, f.mask);
  return f;
}

void expect_skin_mask(const Face& f, const Landmarks& lm, const char* what) {
  SCOPED_TRACE(what);
  for (int i = 36; i < 48; ++i) EXPECT_LE(mask_at(f, lm[i]), 8.f) << "eye landmark " << i;
  for (int i = 48; i < 68; ++i) EXPECT_LE(mask_at(f, lm[i]), 8.f) << "mouth landmark " << i;
  for (int i = 17; i < 27; ++i) EXPECT_LE(mask_at(f, lm[i]), 8.f) << "brow landmark " << i;
  for (int i = 31; i < 36; ++i) EXPECT_LE(mask_at(f, lm[i]), 40.f) << "nostril landmark " << i;
  EXPECT_GE(mask_at(f, cheek_left(lm)), 230.f);
  EXPECT_GE(mask_at(f, cheek_right(lm)), 230.f);
  const FaceAxes ax = face_axes(lm);
  const V2 forehead = 0.5f * (lm[21] + lm[22]) + ax.up * (0.25f * ax.eye_to_chin);
  EXPECT_GE(mask_at(f, forehead), 200.f) << "forehead";
  EXPECT_GE(mask_at(f, lm[30]), 200.f) << "nose tip is skin";
  const V2 chin_below = lm[8] - ax.up * (0.3f * ax.eye_to_chin);
  EXPECT_LE(mask_at(f, chin_below), 2.f) << "below the chin";
  const V2 beside = lm[0] - ax.right * (0.3f * ax.interocular);
  EXPECT_LE(mask_at(f, beside), 60.f) << "beside the face";
}

}  // namespace

TEST(Mask, ExcludesFeaturesCoversSkin) {
  for (int i = 0; i < 3; ++i) {
    const Landmarks lm = ref_landmarks(i);
    const Face f = render(lm, kReferenceFaces[i].size, 2000, 2000);
    ASSERT_EQ(f.mask.size(), size_t(f.roi.width) * f.roi.height);
    expect_skin_mask(f, lm, kReferenceFaces[i].file);
  }
}

TEST(Mask, RollFollowsTheFace) {
  const Landmarks base = ref_landmarks(1);
  const V2 c = centroid(base);
  for (float deg : {-35.f, 20.f, 50.f}) {
    Landmarks lm;
    const Similarity t = about(c, 1.f, deg * float(M_PI) / 180.f, V2(0, 0));
    for (int k = 0; k < kNumLandmarks; ++k) lm[k] = t.apply(base[k]);
    const Face f = render(lm, kReferenceFaces[1].size, 2000, 2000);
    expect_skin_mask(f, lm, ("roll " + std::to_string(deg)).c_str());
  }
}

TEST(Mask, SoftEdgesScaleWithFaceSize) {
  // The same face at 1x and 3x: the ramp across the jaw spans ~3x the pixels.
  auto ramp_width = [](float k) {
    const Landmarks base = ref_landmarks(1);
    Landmarks lm;
    for (int i = 0; i < kNumLandmarks; ++i) lm[i] = base[i] * k;
    const Face f = render(lm, kReferenceFaces[1].size * k, 4000, 4000);
    // Walk from the nose tip straight down past the chin: count partially-covered pixels.
    int partial = 0;
    const V2 a = lm[33], b = lm[8] + (lm[8] - lm[33]) * 0.5f;
    for (int s = 0; s <= 2000; ++s) {
      const float m = mask_at(f, a + (b - a) * (s / 2000.f));
      partial += m > 10.f && m < 245.f;
    }
    return float(partial);
  };
  const float r1 = ramp_width(1.f), r3 = ramp_width(3.f);
  EXPECT_GT(r1, 0.f);
  EXPECT_NEAR(r3 / r1, 1.f, 0.35f);  // counted along a path scaled 3x: same number of steps covers 3x pixels
}

TEST(Mask, AlphaScalesAndPartlyOutsideFaceIsClamped) {
  Landmarks lm = ref_landmarks(0);
  const Face full = render(lm, kReferenceFaces[0].size, 512, 512, 1.f);
  const Face half = render(lm, kReferenceFaces[0].size, 512, 512, 0.5f);
  const float c1 = mask_at(full, cheek_left(lm)), c2 = mask_at(half, cheek_left(lm));
  EXPECT_NEAR(c2, c1 * 0.5f, 2.f);
  // Shift the face so its left half is outside the frame.
  for (auto& p : lm) p.x() -= 225.f;
  const Face out = render(lm, kReferenceFaces[0].size, 512, 512);
  EXPECT_EQ(out.roi.x, 0);
  EXPECT_GT(out.roi.width, 0);
  EXPECT_LE(out.roi.right(), 512);
  EXPECT_EQ(out.mask.size(), size_t(out.roi.width) * out.roi.height);
  EXPECT_GE(mask_at(out, cheek_right(lm)), 230.f);
}

TEST(Mask, DegenerateLandmarksDoNotCrash) {
  Landmarks lm;
  for (auto& p : lm) p = V2(50, 50);
  const Face f = render(lm, 100, 200, 200);
  EXPECT_EQ(f.mask.size(), size_t(f.roi.width) * f.roi.height);
  for (auto& p : lm) p = V2(1e9f, -1e9f);
  const Face g = render(lm, 100, 200, 200);
  EXPECT_EQ(g.mask.size(), size_t(g.roi.width) * g.roi.height);
}
