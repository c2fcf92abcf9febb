// Detection policy and recall: small faces at 1080p and 4K (banded, tiled scan), faces cut by the frame edge,
// non-square pixels, the first frame of a stream (no fade-in, detect_now), shot cuts, refit skipping, parallel refits.
#include "detector.h"
#include "face_test_util.h"
#include "shot_cut.h"

#include <chrono>
#include <thread>
#include <tuple>

using namespace facetest;

namespace {

// The astronaut's face (99 px wide in the 512 px photo) cropped 170 x 170 around it.
Image astronaut_crop(float scale) {
  const Image a = luma_of("astronaut-grey.png");
  Image c;
  c.width = c.height = 170, c.channels = 1;
  c.data.resize(170 * 170);
  for (int y = 0; y < 170; ++y) std::copy(a.row(40 + y) + 140, a.row(40 + y) + 310, c.row(y));
  return resize_bilinear(c, int(std::lround(170 * scale)), int(std::lround(170 * scale)));
}

// n_x x n_y copies of the face scaled to ~face_px wide, spread over a textured w x h frame with mild noise.
Image tiled_faces(int w, int h, int nx, int ny, float face_px) {
  Image frame = to_luma(background(w, h, 3, 11));
  const Image c = astronaut_crop(face_px / 99.f);
  for (int ty = 0; ty < ny; ++ty)
    for (int tx = 0; tx < nx; ++tx) {
      const int x0 = (2 * tx + 1) * w / (2 * nx) - c.width / 2, y0 = (2 * ty + 1) * h / (2 * ny) - c.height / 2;
      for (int y = 0; y < c.height; ++y) std::copy(c.row(y), c.row(y) + c.width, frame.row(y0 + y) + x0);
    }
  add_noise(frame, 2, 5);
  return frame;
}

// Faces whose size is within 25% of `px`, and all of them distinct places.
int faces_near(const std::vector<Face>& faces, float px) {
  int n = 0;
  for (const Face& f : faces) n += std::abs(f.size - px) < 0.25f * px;
  return n;
}

FrameInput input(const Image& g, float par = 1.f, bool now = false, bool scan = false) {
  return FrameInput{g.data.data(), g.width, g.height, g.width, par, now, scan};
}

}  // namespace

TEST(Recall, EightFacesOf150pxAt1080pAllFoundOnTheFirstFrame) {
  const Image frame = tiled_faces(1920, 1080, 4, 2, 150);
  Options o = sync_options();
  o.max_faces = 8;
  FaceStage s(o);
  const auto faces = s.process(input(frame, 1.f, false, true));  // scan_now: every band and tile on this frame
  EXPECT_EQ(faces.size(), 8u);
  EXPECT_EQ(faces_near(faces, 150), 8);
  for (const Face& f : faces) EXPECT_FLOAT_EQ(f.alpha, 1.f) << "present from the first frame: no fade-in";
  std::printf("full scan 1080p: %.1f ms CPU, %d jobs\n", s.timings().detect_ms, s.timings().detect_runs);
}

TEST(Recall, SmallFacesAt1080pAnd4KFoundByTheScanWithinItsJobs) {
  // Asynchronous (the element's mode): the scan's tiles go to the detector one at a time; every face is found
  // once the scan has visited its tile. Faces ~80 px wide (stage's size) at 1080p and 4K (min_face_size 64).
  for (const auto& [w, h, px] : std::vector<std::tuple<int, int, float>>{{1920, 1080, 96.f}, {3840, 2160, 96.f}}) {
    const Image frame = tiled_faces(w, h, 4, 2, px);
    Options o;
    o.max_faces = 8;
    o.detect_job_interval = 1;
    o.search_cpu_share = 0;  // jobs back to back: what this counts is jobs, not time
    FaceStage s(o);
    const Options d;
    const ScanParams p{d.min_face_size, d.detect_face_px, d.detect_max_side, d.detect_tile_px};
    const size_t jobs = plan_scan(float(w), h, p).size();
    size_t found = 0;
    int frames = 0;
    // Frames come every 2 ms while the detector is busy (load-independent: what counts is the jobs run). Until the
    // first track, every other job is the coarse one; then tiles follow one per frame.
    const auto t0 = std::chrono::steady_clock::now();
    while (found < 8 && s.timings().detect_runs <= int(2 * jobs) + 4 &&
           std::chrono::steady_clock::now() - t0 < std::chrono::seconds(200)) {
      found = s.process(input(frame)).size();
      ++frames;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_EQ(found, 8u) << w << "x" << h << " after " << s.timings().detect_runs << " jobs run, plan of " << jobs;
    const Timings t = s.timings();
    std::printf("%dx%d: %zu jobs, %d run, %.1f ms CPU per job, all found after %d frames\n", w, h, jobs, t.detect_runs,
                t.detect_ms_total / std::max(1, t.detect_runs), frames);
  }
}

TEST(Recall, FaceCutByTheFrameEdgeIsFoundWhileStatic) {
  // The astronaut's face past the left edge (a fifth of its box; half of it, cut along the nose) and the top edge
  // (a fifth). The detection image mirrors the frame at its edges: the cut face looks whole to the detector.
  const Image c = astronaut_crop(1.5f);  // face box ~125 px, centred in the 255 px crop
  for (const auto& [side, frac] : std::vector<std::pair<int, float>>{{0, 0.3f}, {0, 0.5f}, {1, 0.3f}}) {
    Image frame = to_luma(background(640, 480, 3, 3));
    const int cut = int(frac * 150) + (255 - 150) / 2;  // crop px outside the frame
    for (int y = 0; y < c.height; ++y)
      for (int x = 0; x < c.width; ++x) {
        const int fx = side == 0 ? x - cut : 200 + x, fy = side == 0 ? 100 + y : y - cut + 20;
        if (fx >= 0 && fy >= 0 && fx < frame.width && fy < frame.height) frame.row(fy)[fx] = c.row(y)[x];
      }
    FaceStage s(sync_options());
    const auto faces = run(s, frame);
    ASSERT_EQ(faces.size(), 1u) << (side == 0 ? "left" : "top") << " edge, " << frac;
    EXPECT_NEAR(faces[0].size, 150.f, 40.f);
    EXPECT_EQ(side == 0 ? faces[0].roi.x : faces[0].roi.y, 0);
  }
}

TEST(Recall, NonSquarePixelsDetectedAndMappedToFramePixels) {
  // A square-pixel frame and the same scene stored with pixels 16/9 wide (640x360 of a 1138x360 view squeezed).
  const Image sq = luma_of("obama.jpg");
  const float par = 16.f / 9.f;
  const Image squeezed = resize_bilinear(sq, int(std::lround(sq.width / par)), sq.height);
  FaceStage a(sync_options()), b(sync_options());
  const auto fa = a.process(input(sq));
  const auto fb = b.process(input(squeezed, float(sq.width) / squeezed.width));
  ASSERT_EQ(fa.size(), 1u);
  ASSERT_EQ(fb.size(), 1u) << "detected on the square-pixel view";
  const float sx = float(squeezed.width) / sq.width;
  float err = 0;
  for (int i = 0; i < kNumLandmarks; ++i)
    err = std::max(err, std::abs(fb[0].landmarks[i].x() - fa[0].landmarks[i].x() * sx) +
                            std::abs(fb[0].landmarks[i].y() - fa[0].landmarks[i].y()));
  EXPECT_LT(err, 0.04f * fa[0].size) << "landmarks in the squeezed frame's own px";
  EXPECT_NEAR(fb[0].box.width, fa[0].box.width * sx, 6);
  EXPECT_NEAR(fb[0].box.height, fa[0].box.height, 6);
  EXPECT_EQ(fb[0].mask.size(), size_t(fb[0].roi.width) * fb[0].roi.height);
  EXPECT_GE(mask_at(fb[0], cheek_left(fb[0].landmarks)), 200.f);
  EXPECT_LE(mask_at(fb[0], fb[0].landmarks[37]), 8.f);
  // Bad aspect ratios are refused with a reason.
  EXPECT_THROW(b.process(input(squeezed, 0.f)), Error);
  EXPECT_THROW(b.process(input(squeezed, 20.f)), Error);
}

TEST(FirstFrame, FacesPresentFromTheStartDoNotFadeLaterOnesDo) {
  const Image face = luma_of("astronaut-grey.png");
  // The same picture with the face covered: the face arrives in an unchanged scene (not a shot cut).
  Image empty = face;
  for (int y = 40; y < 215; ++y) std::fill(empty.row(y) + 150, empty.row(y) + 310, uint8_t(70));
  FaceStage s(sync_options(4));
  EXPECT_FLOAT_EQ(run(s, face).at(0).alpha, 1.f);
  s.reset();  // a new stream
  EXPECT_FLOAT_EQ(run(s, face).at(0).alpha, 1.f);
  s.reset();
  EXPECT_TRUE(run(s, empty).empty());
  std::vector<float> alphas;
  for (int k = 0; k < 8 && alphas.size() < 5; ++k) {
    const auto f = run(s, face);
    if (!f.empty()) alphas.push_back(f[0].alpha);
  }
  ASSERT_EQ(alphas.size(), 5u) << "found within 4 frames (the coarse job runs every other frame while none is tracked)";
  EXPECT_FLOAT_EQ(alphas[0], 0.25f) << "appeared mid-stream: fades in";
  EXPECT_FLOAT_EQ(alphas[1], 0.5f);
  EXPECT_FLOAT_EQ(alphas[3], 1.f);
  EXPECT_FALSE(s.timings().shot_cut);
}

TEST(ShotCut, TheNewShotsFacesStartAtFullAlphaAndNoTrackCarriesOver) {
  // Shot a: the obama portrait; shot b: the astronaut's face (centre ~(225, 125) in its photo) 1.5x in a frame of
  // the same size, centred.
  const Image a = luma_of("obama.jpg");
  const V2 centre_b(a.width / 2.f, a.height / 2.f);
  const Image b = warp_into(luma_of("astronaut-grey.png"), a.width, a.height,
                            about(V2(225, 125), 1.5f, 0.f, centre_b - V2(225, 125)), 90);
  for (const bool sync : {true, false}) {
    SCOPED_TRACE(sync ? "synchronous" : "asynchronous, detect_on_cut");
    FaceStage s(sync ? sync_options(4) : Options{});
    auto faces = s.process(input(a, 1.f, true));
    ASSERT_EQ(faces.size(), 1u);
    const int first_id = faces[0].id;
    for (int k = 0; k < 3; ++k) {
      faces = s.process(input(a));
      EXPECT_FALSE(s.timings().shot_cut) << "frame " << k;
      ASSERT_EQ(faces.size(), 1u);
      EXPECT_EQ(faces[0].id, first_id);
    }
    FrameInput cut = input(b);
    cut.detect_on_cut = true;
    faces = s.process(cut);
    EXPECT_TRUE(s.timings().shot_cut);
    ASSERT_EQ(faces.size(), 1u) << "the old face is gone at once (no fade-out over the new picture), the new one found";
    EXPECT_NE(faces[0].id, first_id);
    EXPECT_FLOAT_EQ(faces[0].alpha, 1.f) << "there from the shot's first frame: no fade-in";
    EXPECT_LT((centroid(faces[0].landmarks) - centre_b).norm(), 40.f);
    const int second_id = faces[0].id;
    faces = s.process(input(b));
    EXPECT_FALSE(s.timings().shot_cut) << "the same shot";
    ASSERT_EQ(faces.size(), 1u);
    EXPECT_EQ(faces[0].id, second_id);
  }
  // Asynchronous without detect_on_cut: the tracks still end, the new face comes from the detector thread later.
  FaceStage s(Options{});
  ASSERT_EQ(s.process(input(a, 1.f, true)).size(), 1u);
  EXPECT_TRUE(s.process(input(b)).empty());
  EXPECT_TRUE(s.timings().shot_cut);
}

TEST(ShotCut, MotionLightAndNoiseAreNoCut) {
  ShotCut c;
  const Image g = luma_of("obama.jpg");
  EXPECT_FALSE(c.update(g.data.data(), g.width, g.height, g.width)) << "the first frame";
  // A fast pan (40 px a frame), a zoom, a global light change of 25 %, and camera noise: the same shot.
  const V2 centre(455, 226);
  for (int k = 1; k <= 6; ++k) {
    Image f = warp_into(g, g.width, g.height, about(centre, 1.f + 0.03f * k, 0.f, V2(40.f * k, 0)), 90);
    for (auto& v : f.data) v = uint8_t(std::min(255, int(v) * (100 + 5 * k) / 100));
    add_noise(f, 4, uint32_t(k));
    EXPECT_FALSE(c.update(f.data.data(), f.width, f.height, f.width))
        << "frame " << k << ": " << c.global_distance() << " / " << c.region_distance();
  }
  const Image b = luma_of("biden.jpg");
  EXPECT_TRUE(c.update(b.data.data(), b.width, b.height, b.width));
  EXPECT_GT(c.region_distance(), kCutRegion);
  // Any size, padded strides, 1x1 and empty regions: no crash, a repeat is no cut.
  const std::vector<uint8_t> tiny(3 * 16, 200);
  ShotCut t;
  for (int k = 0; k < 3; ++k) {
    EXPECT_FALSE(t.update(tiny.data(), 2, 3, 16));
  }
  EXPECT_FALSE(t.update(tiny.data(), 1, 1, 1));
}

TEST(FirstFrame, DetectNowGivesFacesOnThisFrameInAsynchronousMode) {
  const Image face = luma_of("obama.jpg");
  FaceStage s(Options{});  // asynchronous
  const auto faces = s.process(input(face, 1.f, true));
  ASSERT_EQ(faces.size(), 1u);
  EXPECT_FLOAT_EQ(faces[0].alpha, 1.f);
  EXPECT_GT(s.timings().detect_ms, 0.0);
  EXPECT_EQ(s.timings().detect_runs, 1) << "one job: the coarse one";
  // Without it, the first frame has nothing yet (the detector thread has only just been given the frame).
  FaceStage t(Options{});
  EXPECT_TRUE(t.process(input(face)).empty());
  // scan_now: the small faces too, on this frame.
  const Image small = tiled_faces(1280, 720, 4, 2, 96);
  Options o;
  o.max_faces = 8;
  FaceStage u(o), v(o);
  EXPECT_EQ(u.process(input(small, 1.f, true)).size(), 0u) << "80 px faces at 720p: below the coarse job's reach";
  EXPECT_EQ(v.process(input(small, 1.f, false, true)).size(), 8u);
  EXPECT_GT(v.timings().detect_runs, 1);
}

TEST(Refit, StillAndShiftedFacesSkipTheRefitMovingFacesDont) {
  const Image a = luma_of("obama.jpg");
  FaceStage s(sync_options(0));
  const auto f0 = run(s, a);
  ASSERT_EQ(f0.size(), 1u);
  // The same frame again: nothing moved, the fit is reused (after the first refit of the track).
  run(s, a);
  int skipped = 0;
  for (int k = 0; k < 5; ++k) {
    const auto f = run(s, a);
    skipped += s.timings().refits_skipped;
    EXPECT_EQ(f.at(0).raw_landmarks[30], f0[0].raw_landmarks[30]) << "a skipped refit keeps the fit exactly";
  }
  EXPECT_EQ(skipped, 5);
  // Shifted by whole pixels: block matching finds the shift and moves the fit by it.
  Image shifted = a;
  for (int y = 0; y < a.height; ++y)
    for (int x = 0; x < a.width; ++x) shifted.row(y)[x] = a.row(std::max(0, y - 2))[std::max(0, x - 3)];
  const auto fs = run(s, shifted);
  EXPECT_EQ(s.timings().refits_skipped, 1);
  EXPECT_NEAR(fs.at(0).raw_landmarks[30].x() - f0[0].raw_landmarks[30].x(), 3.f, 1e-3);
  EXPECT_NEAR(fs.at(0).raw_landmarks[30].y() - f0[0].raw_landmarks[30].y(), 2.f, 1e-3);
  // The face changed (mouth region darkened): refit.
  Image changed = shifted;
  const V2 m = f0[0].raw_landmarks[62] + V2(3, 2);
  for (int y = int(m.y()) - 12; y < int(m.y()) + 12; ++y)
    for (int x = int(m.x()) - 25; x < int(m.x()) + 25; ++x) changed.row(y)[x] = uint8_t(changed.row(y)[x] / 3);
  run(s, changed);
  EXPECT_EQ(s.timings().refits, 1);
  EXPECT_EQ(s.timings().refits_skipped, 0);
  // At most refit_max_skip frames in a row are skipped.
  Options o = sync_options(0);
  o.refit_max_skip = 3;
  FaceStage r(o);
  int refits = 0;
  for (int k = 0; k < 9; ++k) {
    run(r, a);
    refits += r.timings().refits;
  }
  EXPECT_EQ(refits, 2) << "frames 1 and 5 refit (frame 0 is the detection's own fit)";
  // Sensor noise above the threshold: every frame refits.
  FaceStage n(sync_options(0));
  for (int k = 0; k < 4; ++k) {
    Image g = a;
    add_noise(g, 8, uint32_t(k));
    run(n, g);
    if (k > 0) {
      EXPECT_EQ(n.timings().refits, 1);
    }
  }
}

TEST(Refit, ParallelRefitsGiveTheSameFacesAsOneThread) {
  const Image frame = tiled_faces(1280, 720, 3, 2, 150);
  Options o1 = sync_options(), o4 = sync_options();
  o1.max_faces = o4.max_faces = 6;
  o1.threads = 1, o4.threads = 4;
  o1.refit_skip_mad = o4.refit_skip_mad = 0;  // every frame refits
  FaceStage s1(o1), s4(o4);
  for (int k = 0; k < 4; ++k) {
    Image g = frame;
    add_noise(g, 3, uint32_t(k));
    const auto a = run(s1, g), b = run(s4, g);
    ASSERT_EQ(a.size(), 6u);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].id, b[i].id);
      EXPECT_EQ(a[i].landmarks, b[i].landmarks);
      EXPECT_EQ(a[i].mask, b[i].mask);
    }
  }
}
