// Unit tests of the element's core (no GStreamer): the net framing with non-square pixels, and tier=auto's machine
// peak, which must not follow the machine's load.
#include "model_lookup.h"
#include "peak_fma.h"
#include "retoucher.h"

#include <glib.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace bty;
using namespace bty::gst;

namespace {

// A face in display (square-pixel) coordinates: jaw corners 0 and 16, nose bridge 27..30 (what the framing reads).
face::Landmarks display_face(float cx, float cy, float jaw) {
  face::Landmarks p{};
  for (auto& v : p) v = Eigen::Vector2f(cx, cy);
  p[0] = Eigen::Vector2f(cx - jaw / 2, cy - 0.1f * jaw);
  p[16] = Eigen::Vector2f(cx + jaw / 2, cy - 0.1f * jaw);
  for (int i = 27; i <= 30; ++i) p[i] = Eigen::Vector2f(cx + 0.02f * jaw, cy - 0.3f * jaw + 0.12f * (i - 27) * jaw);
  return p;
}

}  // namespace

// A 360×360 square-pixel picture stored as 640×360 with PAR 9:16 (each pixel 9/16 as wide as tall): the net area
// found in the stored frame, seen in display pixels, is the one found in the square picture.
TEST(Framing, NonSquarePixelsAreFramedAsInTheSquarePicture) {
  ModelInfo mi;                 // v1 framing defaults
  const float sx = 16.f / 9.f;  // display -> stored x
  for (float jaw : {60.f, 100.f}) {
    const face::Landmarks disp = display_face(170, 190, jaw);
    face::Landmarks stored = disp;
    for (auto& v : stored) v.x() *= sx;
    const Rect square = face_net_area(disp, mi, 160, 224, 360, 360, 1, 1);
    const Rect a = face_net_area(stored, mi, 160, 224, 640, 360, 9, 16);
    EXPECT_NEAR(a.x / sx, square.x, 2.0) << jaw;
    EXPECT_NEAR(a.width / sx, square.width, 2.0) << jaw;
    EXPECT_NEAR(a.y, square.y, 1.0) << jaw;
    EXPECT_NEAR(a.height, square.height, 1.0) << jaw;
    // The net's aspect ratio in display pixels (what the net sees undistorted).
    EXPECT_NEAR(double(a.width) / sx / a.height, 160.0 / 224.0, 0.02) << jaw;
    // Ignoring the PAR would frame it visibly differently (so this test can fail).
    const Rect naive = face_net_area(stored, mi, 160, 224, 640, 360, 1, 1);
    EXPECT_GT(std::abs(naive.height - square.height), 10) << jaw;
  }
}

TEST(Framing, SquarePixelsUnchanged) {
  ModelInfo mi;
  const face::Landmarks p = display_face(300, 200, 80);
  const Rect a = face_net_area(p, mi, 160, 224, 640, 480, 1, 1);
  const Rect b = face_net_area(p, mi, 160, 224, 640, 480, 7, 7);  // 7:7 is square too
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.y, b.y);
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
}

// Busy threads on every core (twice over) barely move the measured per-core peak, so tier=auto picks the same.
TEST(TierAuto, PeakAndPickDoNotFollowTheLoad) {
  measure_core_gflops();  // a first run pays the clock ramp-up (seen as a low idle figure under ASan in CI)
  const double idle = measure_core_gflops();
  if (idle == 0) GTEST_SKIP() << "no AVX2+FMA: tier=auto always picks the smallest tier";
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  const unsigned n = 2 * std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i)
    busy.emplace_back([&stop] {
      volatile double x = 1;
      while (!stop.load(std::memory_order_relaxed)) x = x * 1.0000001 + 1e-9;
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const double loaded = measure_core_gflops();
  stop = true;
  for (auto& t : busy) t.join();
  std::printf("per-core FMA peak: idle %.1f GFLOP/s, %u busy threads %.1f GFLOP/s\n", idle, n, loaded);
  EXPECT_GE(loaded, 0.85 * idle) << "idle " << idle << " GFLOP/s, loaded " << loaded;
  EXPECT_LE(loaded, 1.15 * idle) << "idle " << idle << " GFLOP/s, loaded " << loaded;
}

// The peak is measured once per machine and read back afterwards: identical whatever the load.
TEST(TierAuto, MachinePeakIsCachedPerMachine) {
  char tmpl[] = "/tmp/bty-cache-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  setenv("XDG_CACHE_HOME", tmpl, 1);
  // GLib caches the user cache dir at first use; this process has not asked before this test.
  const MachinePeak first = machine_peak();
  const MachinePeak second = machine_peak();
  EXPECT_FALSE(first.cached);
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(first.core_gflops, second.core_gflops);
  EXPECT_EQ(first.key, second.key);
  // Under load the cached peak is read back: the same pick for every thread count.
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (unsigned i = 0; i < 2 * std::max(1u, std::thread::hardware_concurrency()); ++i)
    busy.emplace_back([&stop] {
      volatile double x = 1;
      while (!stop.load(std::memory_order_relaxed)) x = x * 1.0000001 + 1e-9;
    });
  const MachinePeak loaded = machine_peak();
  stop = true;
  for (auto& t : busy) t.join();
  const std::vector<int64_t> macs = {48844800, 96122880, 260628480};  // the shipped tiers (docs/model-card.md)
  for (int threads : {1, 2, 4})
    EXPECT_EQ(pick_tier(macs, first, threads), pick_tier(macs, loaded, threads)) << threads << " threads";
  const std::string file = std::string(tmpl) + "/gst-beautify/machine-peak";
  std::remove(file.c_str());
  std::remove((std::string(tmpl) + "/gst-beautify").c_str());
  std::remove(tmpl);
}

// A cache holding a peak no core can reach (a broken clock reading once wrote 13241.4) is measured over, and the
// measurement itself stays within what the probe can measure.
TEST(TierAuto, ImpossibleCachedPeakIsMeasuredOver) {
  char tmpl[] = "/tmp/bty-cache-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  setenv("XDG_CACHE_HOME", tmpl, 1);
  // GLib keeps the cache dir it found first in this process: use whatever machine_peak() uses.
  const std::string dir = std::string(g_get_user_cache_dir()) + "/gst-beautify", file = dir + "/machine-peak";
  const std::string key = machine_peak().key;  // measured or read: the file exists now, with this machine's key
  {
    std::ofstream out(file);
    out << key << "\n13241.4\n";
  }
  const MachinePeak m = machine_peak();
  EXPECT_FALSE(m.cached);
  EXPECT_GT(m.core_gflops, 0);
  EXPECT_LE(m.core_gflops, kMaxCoreGflops);
  std::ifstream in(file);
  std::string k, value;
  ASSERT_TRUE(std::getline(in, k) && std::getline(in, value));
  EXPECT_EQ(std::stod(value), m.core_gflops);  // rewritten with the new measurement
  std::remove(file.c_str());
  std::remove(dir.c_str());
  std::remove(tmpl);
}

TEST(TierAuto, RuleIsTheDocumentedOne) {
  MachinePeak m;
  m.core_gflops = 100;
  m.cores = 2;
  // 2 × MACs / (peak × 0.7 × (1 + 0.8 × (threads − 1))): M's 96.1 M MACs at 100 GFLOP/s, 1 thread = 2.75 ms.
  EXPECT_NEAR(predicted_ms_per_face(96122880, m, 1), 2 * 96.12288 / 70.0, 1e-6);
  EXPECT_NEAR(predicted_ms_per_face(96122880, m, 2), 2 * 96.12288 / (70.0 * 1.8), 1e-6);
  EXPECT_NEAR(predicted_ms_per_face(96122880, m, 8), predicted_ms_per_face(96122880, m, 2), 1e-9);  // cores cap
  const std::vector<int64_t> macs = {48844800, 96122880, 260628480};
  EXPECT_EQ(pick_tier(macs, m, 1), 1);  // M: 2.75 ms; L: 7.4 ms
  EXPECT_EQ(pick_tier(macs, m, 2), 1);  // L: 4.1 ms
  m.cores = 4;
  EXPECT_EQ(pick_tier(macs, m, 4), 2);  // L: 2.2 ms
  m.core_gflops = 10;
  EXPECT_EQ(pick_tier(macs, m, 1), 0);  // nothing fits: the smallest
  m.core_gflops = 0;                    // no AVX2+FMA
  EXPECT_EQ(pick_tier(macs, m, 1), 0);
  EXPECT_EQ(pick_tier({0, 96122880, 0}, m, 1), 1);  // only M installed
}
