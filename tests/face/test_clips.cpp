// Synthetic clips rendered from the committed public-domain photos: pan, zoom, roll, partial exit, a second face
// arriving, faces vanishing, twenty faces at once. Detection runs inline so the runs are deterministic.
#include "face_test_util.h"
#include "motion.h"

#include <set>

using namespace facetest;

namespace {

struct Seen {
  std::set<int> ids;
  int max_count = 0;
};

// The obama portrait's face centre (from the stored reference: landmarks centroid, rounded).
const V2 kObamaFace(455, 226);

Image obama() { return luma_of("obama.jpg"); }

}  // namespace

TEST(Clips, PanKeepsOneIdAndFollows) {
  const Image g = obama();
  FaceStage s(sync_options());
  int id = -1;
  V2 first(0, 0);
  for (int k = 0; k < 40; ++k) {
    const V2 shift(6.f * k, 2.f * k);  // 6 px/frame right, 2 down
    const Image frame = warp_into(g, g.width, g.height, about(kObamaFace, 1.f, 0.f, shift), 90);
    const auto faces = run(s, frame);
    ASSERT_EQ(faces.size(), 1u) << "frame " << k;
    if (id < 0) id = faces[0].id, first = centroid(faces[0].landmarks);
    EXPECT_EQ(faces[0].id, id) << "frame " << k;
    // Raw landmarks follow the motion closely; the smoothed ones may lag a little while moving.
    EXPECT_LT((centroid(faces[0].raw_landmarks) - first - shift).norm(), 4.f) << "frame " << k;
    EXPECT_LT((centroid(faces[0].landmarks) - first - shift).norm(), 12.f) << "frame " << k;
  }
}

TEST(Clips, ZoomKeepsOneIdAndScales) {
  const Image g = obama();
  FaceStage s(sync_options());
  int id = -1;
  float size0 = 0;
  for (int k = 0; k <= 40; ++k) {
    const float z = 1.f + 0.02f * k;  // to 1.8x
    const auto faces = run(s, warp_into(g, g.width, g.height, about(kObamaFace, z, 0.f, V2(0, 0)), 90));
    ASSERT_EQ(faces.size(), 1u) << "frame " << k;
    if (id < 0) id = faces[0].id, size0 = faces[0].size;
    EXPECT_EQ(faces[0].id, id);
    if (k == 40) {
      EXPECT_NEAR(faces[0].size / size0, 1.8f, 0.12f);
    }
  }
}

TEST(Clips, RollIsTrackedAndMasked) {
  const Image g = obama();
  FaceStage s(sync_options());
  int id = -1;
  for (int k = 0; k <= 45; ++k) {
    const float deg = std::min(k, 40) * 1.f;  // rolls to 40 degrees at 1 degree/frame (30 deg/s), then holds
    const auto faces =
        run(s, warp_into(g, g.width, g.height, about(kObamaFace, 1.f, deg * float(M_PI) / 180.f, V2(0, 0)), 90));
    ASSERT_EQ(faces.size(), 1u) << "frame " << k;
    if (id < 0) id = faces[0].id;
    EXPECT_EQ(faces[0].id, id) << "frame " << k;
    const Face& f = faces[0];
    // The upright portrait has a slight roll of its own; compare changes of roll.
    static float roll0 = 0;
    if (k == 0) roll0 = f.roll;
    if (k == 45) {
      EXPECT_NEAR((f.roll - roll0) * 180.f / float(M_PI), 40.f, 4.f);
      for (int i : {36, 39, 42, 45}) EXPECT_LE(mask_at(f, f.landmarks[i]), 8.f) << "eye " << i;
      for (int i : {48, 54, 57}) EXPECT_LE(mask_at(f, f.landmarks[i]), 8.f) << "mouth " << i;
      EXPECT_GE(mask_at(f, cheek_left(f.landmarks)), 220.f);
      EXPECT_GE(mask_at(f, cheek_right(f.landmarks)), 220.f);
    }
  }
}

TEST(Clips, PartialExitClampsThenLeavesCleanly) {
  const Image g = obama();
  FaceStage s(sync_options());
  int id = -1, last_seen = -1;
  for (int k = 0; k < 70; ++k) {
    // Slide right at 8 px/frame: half the face is out around frame 40, all of it by ~frame 60.
    const V2 shift(8.f * k, 0.f);
    const auto faces = run(s, warp_into(g, g.width, g.height, about(kObamaFace, 1.f, 0.f, shift), 90));
    ASSERT_LE(faces.size(), 1u);
    const float face_right_edge_out = kObamaFace.x() + shift.x() - g.width;  // centre beyond the frame edge
    if (face_right_edge_out < -40.f) {
      ASSERT_EQ(faces.size(), 1u) << "frame " << k << ": mostly visible face lost";
    }
    if (!faces.empty()) {
      const Face& f = faces[0];
      if (id < 0) id = f.id;
      EXPECT_EQ(f.id, id);
      EXPECT_GE(f.roi.x, 0);
      EXPECT_LE(f.roi.right(), g.width);
      EXPECT_EQ(f.mask.size(), size_t(f.roi.width) * f.roi.height);
      last_seen = k;
    }
  }
  EXPECT_GT(last_seen, 0);
  EXPECT_LT(last_seen, 68) << "the track must fade out once the face has left";
}

TEST(Clips, SecondFaceArrivesWithNewIdFirstKeepsItsId) {
  const Image bg = to_luma(background(960, 540, 3, 11));
  const Image a = luma_of("astronaut-grey.png");
  const Image b = luma_of("biden.jpg");
  FaceStage s(sync_options());
  int id_a = -1, id_b = -1;
  for (int k = 0; k < 40; ++k) {
    Image frame = bg;
    // The astronaut's face (~100 px) at 1.6x on the left, drifting; Biden's (~150 px) at 1.0x on the right from
    // frame 15.
    paste(a, frame, about(V2(225, 140), 1.6f, 0.f, V2(-20.f + k, 130.f)));
    if (k >= 15) paste(b, frame, about(V2(240, 250), 1.f, 0.f, V2(460.f, 20.f)));
    add_noise(frame, 3, uint32_t(k));
    const auto faces = run(s, frame);
    ASSERT_EQ(faces.size(), k < 15 ? 1u : (k < 26 ? faces.size() : 2u)) << "frame " << k;
    for (const Face& f : faces) {
      const bool left = centroid(f.landmarks).x() < 480;
      int& id = left ? id_a : id_b;
      if (id < 0) id = f.id;
      EXPECT_EQ(f.id, id) << "frame " << k << (left ? " left" : " right");
    }
  }
  EXPECT_GT(id_a, 0);
  EXPECT_GT(id_b, 0);
  EXPECT_NE(id_a, id_b);
}

TEST(Clips, VanishingFaceFadesOutAndNoTrackStays) {
  const Image g = obama();
  const Image empty = to_luma(background(g.width, g.height, 3, 5));
  FaceStage s(sync_options(4));
  for (int k = 0; k < 12; ++k) ASSERT_EQ(run(s, g).size(), 1u);
  int frames_to_gone = -1;
  float prev_alpha = 1.f;
  for (int k = 0; k < 20; ++k) {
    Image frame = empty;
    add_noise(frame, 4, uint32_t(k));
    const auto faces = run(s, frame);
    if (!faces.empty()) {
      EXPECT_LE(faces[0].alpha, prev_alpha) << "fading out, not in";
      prev_alpha = faces[0].alpha;
    } else if (frames_to_gone < 0) {
      frames_to_gone = k;
    }
    if (frames_to_gone >= 0) {
      EXPECT_TRUE(faces.empty()) << "a track came back on an empty frame " << k;
    }
  }
  EXPECT_GE(frames_to_gone, 0);
  EXPECT_LE(frames_to_gone, 8);
}

TEST(Clips, TwentyFaces) {
  // One 170x170 crop of the astronaut's face tiled 5 x 4.
  const Image a = luma_of("astronaut-grey.png");
  Image frame;
  frame.width = 5 * 170, frame.height = 4 * 170, frame.channels = 1;
  frame.data.assign(size_t(frame.width) * frame.height, 100);
  for (int ty = 0; ty < 4; ++ty)
    for (int tx = 0; tx < 5; ++tx)
      for (int y = 0; y < 170; ++y)
        std::copy(a.row(40 + y) + 140, a.row(40 + y) + 310, frame.row(ty * 170 + y) + tx * 170);
  Options o = sync_options(0);
  o.max_faces = 20;
  o.detect_max_side = 1024;
  FaceStage s(o);
  std::set<int> ids;
  for (int k = 0; k < 3; ++k) {
    const auto faces = run(s, frame);
    ASSERT_EQ(faces.size(), 20u) << "frame " << k;
    for (const Face& f : faces) {
      ids.insert(f.id);
      EXPECT_LE(mask_at(f, f.landmarks[37]), 8.f);
      EXPECT_GE(mask_at(f, cheek_left(f.landmarks)), 200.f);
    }
  }
  EXPECT_EQ(ids.size(), 20u) << "ids stable over 3 frames";
  // max_faces caps the count; lowering it at run time trims the tracks.
  s.set_options(4, 64, 10);
  EXPECT_EQ(run(s, frame).size(), 4u);
}

// Frame-to-frame motion of a face's region, measured on the picture: sub-pixel shifts under sensor noise are found
// to a tenth of a pixel; a picture that no shift explains gives none.
TEST(Clips, FrameFlowFindsSubPixelShifts) {
  const Image g = obama();
  const RectF box{kObamaFace.x() - 100, kObamaFace.y() - 110, kObamaFace.x() + 100, kObamaFace.y() + 110};
  const auto view = [](const Image& im) { return LumaView{im.data.data(), im.width, im.height, im.width, 1.f}; };
  for (const V2& shift : {V2(0.3f, -0.6f), V2(2.4f, 1.7f), V2(-5.2f, 0.25f)}) {
    Image a = g, b = warp_into(g, g.width, g.height, about(kObamaFace, 1.f, 0.f, shift), 90);
    add_noise(a, 4, 1);
    add_noise(b, 4, 2);
    FrameFlow flow;
    Eigen::Vector2f d;
    EXPECT_FALSE(flow.track(view(a), box, 12.f, d)) << "the first frame is the reference only";
    ASSERT_TRUE(flow.track(view(b), box, 12.f, d)) << shift.transpose();
    EXPECT_NEAR(d.x(), shift.x(), 0.1f) << shift.transpose();
    EXPECT_NEAR(d.y(), shift.y(), 0.1f) << shift.transpose();
  }
  FrameFlow flow;
  Eigen::Vector2f d;
  flow.track(view(g), box, 12.f, d);
  const Image other = background(g.width, g.height, 1, 5);
  EXPECT_FALSE(flow.track(view(other), box, 12.f, d));
  EXPECT_EQ(d, Eigen::Vector2f::Zero());
}

// A face panning by sub-pixel steps under sensor noise: the smoothed landmarks, which place the ROI, the net's
// framing and the mask, move with the skin; the landmark filter alone (follow_motion_mad 0) lags behind.
TEST(Clips, SmoothedShapeMovesWithTheSkinNotBehindIt) {
  const Image g = obama();
  const auto mean_lag = [&](float follow_mad) {
    Options o = sync_options(0);
    o.follow_motion_mad = follow_mad;
    FaceStage s(o);
    V2 first(0, 0);
    double sum = 0;
    int n = 0;
    for (int k = 0; k < 40; ++k) {
      const V2 shift(1.3f * k, 0.6f * k);
      Image frame = warp_into(g, g.width, g.height, about(kObamaFace, 1.f, 0.f, shift), 90);
      add_noise(frame, 4, uint32_t(30 + k));
      const auto faces = run(s, frame);
      EXPECT_EQ(faces.size(), 1u) << "frame " << k;
      if (faces.size() != 1) return 1e9;
      if (k == 0) first = centroid(faces[0].landmarks);
      if (k >= 10) sum += (centroid(faces[0].landmarks) - first - shift).norm(), ++n;
    }
    return sum / n;
  };
  const double with = mean_lag(12.f), without = mean_lag(0.f);
  EXPECT_LT(with, 0.5) << "px behind the skin, carried by the measured motion";
  EXPECT_LT(with, 0.5 * without) << "carried " << with << " px, filter alone " << without << " px";
}
