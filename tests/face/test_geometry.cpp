// Geometry, filtering and rasterisation building blocks (no model needed).
#include "detector.h"
#include "face_test_util.h"
#include "mask.h"
#include "one_euro.h"

#include <numeric>
#include <random>

using namespace facetest;

TEST(Similarity, FitRecoversTransformAndInverts) {
  std::vector<V2> src, dst;
  Similarity t;
  t.scale = 2.5f, t.angle = 0.6f, t.t = V2(30, -12);
  for (int i = 0; i < 10; ++i) {
    src.emplace_back(float(i * 7 % 11), float(i * i % 13));
    dst.push_back(t.apply(src.back()));
  }
  const Similarity f = fit_similarity(src.data(), dst.data(), int(src.size()));
  EXPECT_NEAR(f.scale, 2.5f, 1e-4);
  EXPECT_NEAR(f.angle, 0.6f, 1e-4);
  EXPECT_NEAR((f.t - t.t).norm(), 0.f, 1e-3);
  const V2 back = f.inverse().apply(dst[3]);
  EXPECT_NEAR((back - src[3]).norm(), 0.f, 1e-4);
}

TEST(Rects, IouAndBounds) {
  EXPECT_FLOAT_EQ(iou(RectF{0, 0, 10, 10}, RectF{0, 0, 10, 10}), 1.f);
  EXPECT_FLOAT_EQ(iou(RectF{0, 0, 10, 10}, RectF{20, 0, 30, 10}), 0.f);
  EXPECT_NEAR(iou(RectF{0, 0, 10, 10}, RectF{5, 0, 15, 10}), 50.f / 150.f, 1e-6);
  const V2 pts[3] = {V2(3, 9), V2(-2, 4), V2(7, 1)};
  const RectF b = bounds(pts, 3);
  EXPECT_EQ(to_rect(b), (Rect{-2, 1, 9, 8}));
}

TEST(Roi, AlignedPaddedAndClamped) {
  // Inside the frame: origin on the grid, size a multiple of 8, contains the padded rect.
  Rect r = align_roi(RectF{101.3f, 57.8f, 180.2f, 160.1f}, 10.f, 8, 1920, 1080);
  EXPECT_EQ(r.x % 8, 0);
  EXPECT_EQ(r.y % 8, 0);
  EXPECT_EQ(r.width % 8, 0);
  EXPECT_EQ(r.height % 8, 0);
  EXPECT_LE(r.x, 91);
  EXPECT_LE(r.y, 47);
  EXPECT_GE(r.right(), 191);
  EXPECT_GE(r.bottom(), 171);
  EXPECT_EQ(r, (Rect{88, 40, 104, 136}));
  // Partly outside: clamped to the frame (a frame edge that is not on the grid ends the ROI).
  r = align_roi(RectF{-50, -20, 40, 30}, 4.f, 8, 101, 75);
  EXPECT_EQ(r, (Rect{0, 0, 48, 40}));
  r = align_roi(RectF{80, 60, 140, 120}, 4.f, 8, 101, 75);
  EXPECT_EQ(r, (Rect{72, 56, 29, 19}));
  // Entirely outside, or a NaN rect: empty.
  EXPECT_TRUE(align_roi(RectF{200, 200, 300, 300}, 4.f, 8, 101, 75).empty());
  EXPECT_TRUE(align_roi(RectF{NAN, NAN, NAN, NAN}, 4.f, 8, 101, 75).empty());
}

TEST(OneEuro, StillInputStaysAndStepConverges) {
  OneEuroFilter f(1.0f, 1.5f, 1.0f);
  std::vector<float> xy(2 * 4);
  for (int i = 0; i < 8; ++i) xy[i] = float(i);
  for (int k = 0; k < 5; ++k) {
    std::vector<float> v(xy);
    f.filter(v.data(), 4, 1.f / 30, 100.f);
    for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(v[i], float(i));
  }
  // A step of 10 px: lags at first, converges within ~2 s.
  std::vector<float> v;
  for (int k = 0; k < 60; ++k) {
    v = xy;
    for (float& x : v) x += 10.f;
    f.filter(v.data(), 4, 1.f / 30, 100.f);
    if (k == 0) {
      EXPECT_LT(v[0], 5.f);
    }
  }
  EXPECT_NEAR(v[0], 10.f, 0.05f);
  EXPECT_NEAR(v[7], 17.f, 0.05f);
}

TEST(OneEuro, ReducesNoiseAndFollowsFastMotionWithLessLag) {
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.f, 1.f);
  auto run_motion = [&](float speed_px_per_frame, float& jitter_out, float& lag_out) {
    OneEuroFilter f(1.0f, 1.5f, 1.0f);
    double jitter = 0, lag = 0;
    float prev = 0;
    const int n = 120;
    for (int k = 0; k < n; ++k) {
      const float truth = speed_px_per_frame * k;
      std::vector<float> v{truth + noise(rng), 0.f, truth + 100.f + noise(rng), 0.f};
      f.filter(v.data(), 2, 1.f / 30, 200.f);
      if (k >= 60) {
        jitter += std::pow((v[0] - prev) - speed_px_per_frame, 2);
        lag += truth - v[0];
      }
      prev = v[0];
    }
    jitter_out = float(std::sqrt(jitter / 60));
    lag_out = float(lag / 60);
  };
  float j_still, lag_still, j_fast, lag_fast;
  run_motion(0.f, j_still, lag_still);
  run_motion(20.f, j_fast, lag_fast);
  // Raw frame-to-frame noise of a unit-sigma signal is sqrt(2) ~ 1.41.
  EXPECT_LT(j_still, 0.5f);
  // Fast motion opens the filter: lag stays far below what the still-face cutoff would give (20*(1-a)/a ~ 100 px).
  EXPECT_LT(lag_fast, 25.f);
  EXPECT_GT(lag_fast, 0.f);
}

TEST(Raster, FillPolygonAreaAndHalfOpenEdges) {
  std::vector<uint8_t> img(20 * 20, 0);
  const Polygon sq{V2(2, 3), V2(12, 3), V2(12, 9), V2(2, 9)};
  fill_polygon(img.data(), 20, 20, 20, sq, 255);
  int n = 0;
  for (uint8_t v : img) n += v == 255;
  EXPECT_EQ(n, 60);  // 10 x 6 pixels exactly: no double-counted edges
  EXPECT_EQ(img[3 * 20 + 2], 255);
  EXPECT_EQ(img[8 * 20 + 11], 255);
  EXPECT_EQ(img[9 * 20 + 11], 0);
  EXPECT_EQ(img[3 * 20 + 12], 0);
  // Triangle: area close to 0.5*b*h, clipped at the image border without overflow.
  std::fill(img.begin(), img.end(), 0);
  const Polygon tri{V2(-10, 0), V2(30, 0), V2(10, 40)};
  fill_polygon(img.data(), 20, 20, 20, tri, 1);
  n = std::accumulate(img.begin(), img.end(), 0);
  EXPECT_GT(n, 300);
  EXPECT_LE(n, 400);
  // Scaled/offset grid: a 10x10 square at step 2 covers 5x5 cells.
  std::fill(img.begin(), img.end(), 0);
  fill_polygon(img.data(), 20, 20, 20, Polygon{V2(10, 10), V2(20, 10), V2(20, 20), V2(10, 20)}, 1, V2(10, 10), 2.f);
  EXPECT_EQ(std::accumulate(img.begin(), img.end(), 0), 25);
}

TEST(Raster, BoxBlurKeepsConstantsAndMass) {
  std::vector<uint8_t> img(32 * 16, 200);
  box_blur(img.data(), 32, 16, 3);
  for (uint8_t v : img) EXPECT_EQ(v, 200);
  std::fill(img.begin(), img.end(), 0);
  img[8 * 32 + 16] = 255;
  img[8 * 32 + 17] = 255;
  box_blur(img.data(), 32, 16, 1);
  EXPECT_GT(img[8 * 32 + 16], 0);
  EXPECT_GT(img[7 * 32 + 15], 0);
  EXPECT_EQ(img[8 * 32 + 20], 0);
  const int sum = std::accumulate(img.begin(), img.end(), 0);
  EXPECT_NEAR(sum, 510, 40);  // mass preserved up to rounding
}

TEST(Raster, DilateGrowsBothWindingOrders) {
  const Polygon cw{V2(0, 0), V2(10, 0), V2(10, 10), V2(0, 10)};
  const Polygon ccw(cw.rbegin(), cw.rend());
  for (const Polygon& p : {cw, ccw}) {
    const Polygon d = dilate_polygon(p, 2.f);
    const RectF b = bounds(d.data(), int(d.size()));
    EXPECT_NEAR(b.x0, -2.f, 1e-4);
    EXPECT_NEAR(b.y1, 12.f, 1e-4);
  }
}

// Every face size from min_face up is some band's, every frame point lies in a tile of each band with a whole
// face of that band around it, and no job's detection image exceeds the tile budget.
TEST(Detection, ScanPlanCoversSizesAndPlaceWithBoundedJobs) {
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{1920, 1080}, {3840, 2160}, {1280, 720}}) {
    const Options o;  // min_face 64, 80 px window, coarse side 640
    const ScanParams p{o.min_face_size, o.detect_face_px, o.detect_max_side, o.detect_tile_px};
    const std::vector<DetectJob> jobs = plan_scan(float(w), h, p);
    ASSERT_FALSE(jobs.empty());
    EXPECT_EQ(jobs[0].levels, 0);  // the coarse job: all sizes from its smallest up
    EXPECT_FLOAT_EQ(jobs[0].scale, 640.f / float(w));
    EXPECT_FLOAT_EQ(jobs.back().scale, 80.f / 64.f) << "the finest band brings 64 px faces to the 80 px window";
    float coarser = jobs[0].scale;
    for (size_t i = 1; i < jobs.size(); ++i) {
      const DetectJob& j = jobs[i];
      const float dw = j.region.width() * j.scale, dh = j.region.height() * j.scale;
      EXPECT_LE(dw * dh, p.tile_px * 1.001f) << w << " job " << i;
      if (j.scale != jobs[i - 1].scale) {
        // A new band: its largest face reaches the coarser band's smallest.
        EXPECT_GE(80.f / j.scale * std::pow(1.2f, float(j.levels - 1)), 80.f / coarser * 0.999f) << w;
        coarser = j.scale;
        // Its tiles cover the frame, overlapping by at least the band's largest face.
        const float face = 80.f * std::pow(1.2f, float(j.levels - 1)) / j.scale;
        for (float y = 0; y < h; y += 37)
          for (float x = 0; x < w; x += 37) {
            bool inside = false;
            for (const DetectJob& t : jobs)
              if (t.scale == j.scale) {
                const float cx = std::min(std::max(x, t.region.x0 + face / 2), t.region.x1 - face / 2);
                const float cy = std::min(std::max(y, t.region.y0 + face / 2), t.region.y1 - face / 2);
                inside = inside || (std::abs(cx - x) < 1 && std::abs(cy - y) < 1) ||
                         (x < face / 2 || y < face / 2 || x > w - face / 2 || y > h - face / 2);
              }
            ASSERT_TRUE(inside) << w << " band " << j.scale << " at " << x << "," << y;
          }
      }
    }
  }
  // Faces the coarse job already reaches need no finer band.
  const Options d;
  const ScanParams big{240, d.detect_face_px, d.detect_max_side, d.detect_tile_px};
  EXPECT_EQ(plan_scan(1920, 1080, big).size(), 1u);
}

TEST(Detection, NearJobLooksAroundTheBox) {
  const DetectJob j = plan_near(RectF{500, 300, 600, 400}, 1920, 1080, 80);
  EXPECT_FLOAT_EQ(j.region.x0, 450);
  EXPECT_FLOAT_EQ(j.region.x1, 650);
  EXPECT_LE(80.f / j.scale, 0.61f * 100);  // a face 0.6x as wide is found
  EXPECT_GE(80.f / j.scale * std::pow(1.2f, float(j.levels - 1)), 1.7f * 100);
}
