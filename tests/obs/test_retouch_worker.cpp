// The OBS filter's worker (obs/retouch_worker.h) without OBS: builds its core in the background, passes frames
// through until then or when the build fails (with the reason in its status), rebuilds only when a start-time
// setting changes, and retouches in place once ready.
#include "retouch_worker.h"

#include "image_io.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

namespace {

using bty::obs::RetouchWorker;

struct Log {
  std::mutex mu;
  std::vector<std::string> lines;
  RetouchWorker::Log fn() {
    return [this](RetouchWorker::Level, const std::string& m) {
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(m);
    };
  }
};

bty::obs::Settings settings(bty::gst::Tier tier) {
  bty::obs::Settings s;
  s.start.tier = tier;
  s.start.threads = 1;
  s.start.detection = bty::gst::Detection::Always;  // faces from the first frame
  return s;
}

struct Picture {
  bty::face::Image img = bty::face::load_image(TEST_PORTRAIT);
  bty::blend::Frame frame() {
    bty::blend::Frame f;
    f.format = bty::PixelFormat::RGB;
    f.width = img.width, f.height = img.height;
    f.plane[0] = img.data.data();
    f.stride[0] = img.width * 3;
    return f;
  }
};

long changed(const bty::face::Image& a, const bty::face::Image& b) {
  long n = 0;
  for (size_t i = 0; i < a.data.size(); ++i) n += a.data[i] != b.data[i];
  return n;
}

TEST(RetouchWorker, RetouchesOnceReadyOnlyTheFace) {
  Log log;
  RetouchWorker w(log.fn());
  w.set(settings(bty::gst::Tier::S));
  ASSERT_TRUE(w.wait_ready()) << w.status();
  EXPECT_EQ(w.status().rfind("tier s, ", 0), 0u) << w.status();
  Picture p;
  const bty::face::Image before = p.img;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(w.process(p.frame(), 33'333'333ull * i, 30.f));
  EXPECT_GT(changed(before, p.img), 1000);
  // The portrait's bottom rows (suit, desk) are far from the face: untouched.
  const size_t row = size_t(p.img.width) * 3;
  const size_t tail = row * 60;
  EXPECT_TRUE(std::equal(before.data.end() - tail, before.data.end(), p.img.data.end() - tail));
}

TEST(RetouchWorker, FailedBuildPassesFramesThroughAndSaysWhy) {
  Log log;
  RetouchWorker w(log.fn());
  bty::obs::Settings s = settings(bty::gst::Tier::S);
  s.start.model = "/nonexistent/beautify.bmodel";
  w.set(s);
  EXPECT_FALSE(w.wait_ready());
  EXPECT_EQ(w.status().rfind("error: ", 0), 0u) << w.status();
  EXPECT_NE(w.status().find("/nonexistent/beautify.bmodel"), std::string::npos) << w.status();
  Picture p;
  const bty::face::Image before = p.img;
  EXPECT_FALSE(w.process(p.frame(), 0, 30.f));
  EXPECT_EQ(changed(before, p.img), 0);
  std::lock_guard<std::mutex> lock(log.mu);
  ASSERT_FALSE(log.lines.empty());
  EXPECT_NE(log.lines.back().find("cannot start"), std::string::npos);
}

TEST(RetouchWorker, RebuildsOnlyForStartSettings) {
  Log log;
  RetouchWorker w(log.fn());
  bty::obs::Settings s = settings(bty::gst::Tier::S);
  w.set(s);
  ASSERT_TRUE(w.wait_ready());
  s.frame.strength = 0.f;  // a frame setting: the same core, nothing applied
  w.set(s);
  ASSERT_TRUE(w.wait_ready());
  Picture p;
  const bty::face::Image before = p.img;
  EXPECT_TRUE(w.process(p.frame(), 0, 30.f));
  EXPECT_EQ(changed(before, p.img), 0);
  {
    std::lock_guard<std::mutex> lock(log.mu);
    EXPECT_EQ(log.lines.size(), 1u);  // one "ready": no rebuild
  }
  s.start.tier = bty::gst::Tier::M;  // a start setting: a new core
  w.set(s);
  ASSERT_TRUE(w.wait_ready());
  EXPECT_EQ(w.status().rfind("tier m, ", 0), 0u) << w.status();
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_EQ(log.lines.size(), 2u);
}

}  // namespace
