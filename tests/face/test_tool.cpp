// face-tool end to end: the crops mode the training pipeline uses, and the overlay mode.
#include "face_test_util.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace facetest;

TEST(FaceTool, CropsModeWritesRoiLandmarksAndMask) {
  const std::string out = ::testing::TempDir() + "face_tool_out";
  ASSERT_EQ(std::system(("rm -rf '" + out + "' && mkdir -p '" + out + "'").c_str()), 0);
  const std::string cmd = std::string(FACE_TOOL) + " --crops --out '" + out + "' '" + data("obama.jpg") + "' > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream js(out + "/obama_f0.json");
  ASSERT_TRUE(js) << "no obama_f0.json";
  std::stringstream ss;
  ss << js.rdbuf();
  const std::string j = ss.str();
  int x = -1, y = -1, w = -1, h = -1;
  const size_t roi = j.find("\"roi\": ");
  ASSERT_NE(roi, std::string::npos);
  ASSERT_EQ(std::sscanf(j.c_str() + roi, "\"roi\": {\"x\": %d, \"y\": %d, \"width\": %d, \"height\": %d", &x, &y, &w, &h), 4);
  EXPECT_EQ(x % 8, 0);
  EXPECT_EQ(w % 8, 0);
  EXPECT_NE(j.find("\"landmarks_roi\": [["), std::string::npos);
  const Image crop = load_image(out + "/obama_f0_crop.png");
  const Image mask = load_image(out + "/obama_f0_mask.png");
  EXPECT_EQ(crop.width, w);
  EXPECT_EQ(crop.height, h);
  EXPECT_EQ(mask.width, w);
  EXPECT_EQ(mask.height, h);
  // The crop is the photo's ROI: its luma matches the source there.
  const Image src = luma_of("obama.jpg");
  const Image cl = to_luma(crop);
  int diff = 0;
  for (int yy = 0; yy < h; yy += 7)
    for (int xx = 0; xx < w; xx += 7) diff = std::max(diff, std::abs(int(cl.row(yy)[xx]) - int(src.row(y + yy)[x + xx])));
  EXPECT_LE(diff, 2);
  // Overlay mode on a face-free image: succeeds, writes an empty face list and an all-zero mask.
  Image bg = to_luma(background(200, 120, 3, 9));
  save_png(bg, out + "/empty.png");
  ASSERT_EQ(std::system((std::string(FACE_TOOL) + " --out '" + out + "' '" + out + "/empty.png' > /dev/null").c_str()), 0);
  const Image m = load_image(out + "/empty_mask.png");
  for (uint8_t v : m.data) ASSERT_EQ(v, 0);
  std::ifstream ej(out + "/empty.json");
  std::stringstream es;
  es << ej.rdbuf();
  EXPECT_NE(es.str().find("\"faces\": []"), std::string::npos);
  // A missing input fails with a non-zero status.
  EXPECT_NE(std::system((std::string(FACE_TOOL) + " --out '" + out + "' /nonexistent.png 2> /dev/null").c_str()), 0);
}

TEST(FaceTool, RawClipModeWritesLandmarksPerFrame) {
  const std::string out = ::testing::TempDir() + "face_tool_clip";
  ASSERT_EQ(std::system(("rm -rf '" + out + "' && mkdir -p '" + out + "'").c_str()), 0);
  // Four grey frames: the portrait, shifted 3 px per frame.
  const Image g = luma_of("obama.jpg");
  {
    std::ofstream clip(out + "/clip.y", std::ios::binary);
    for (int k = 0; k < 4; ++k) {
      const Image f = warp_into(g, g.width, g.height, about(V2(0, 0), 1.f, 0.f, V2(3.f * k, 0)), 90);
      clip.write(reinterpret_cast<const char*>(f.data.data()), std::streamsize(f.data.size()));
    }
  }
  const std::string cmd = std::string(FACE_TOOL) + " --raw " + std::to_string(g.width) + "x" + std::to_string(g.height) +
                          " --sync --overlay-every 2 --out '" + out + "' '" + out + "/clip.y' > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream csv(out + "/clip_landmarks.csv");
  ASSERT_TRUE(csv);
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line.rfind("frame,id,alpha,quality,x0,y0,", 0), 0u);
  int rows = 0, first_id = -1;
  while (std::getline(csv, line)) {
    int frame = -1, id = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "%d,%d,", &frame, &id), 2);
    EXPECT_EQ(frame, rows);
    if (first_id < 0) first_id = id;
    EXPECT_EQ(id, first_id);
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 3 + 2 * kNumLandmarks);
    ++rows;
  }
  EXPECT_EQ(rows, 4);
  EXPECT_TRUE(exists(out + "/clip_00000_overlay.png"));
  EXPECT_TRUE(exists(out + "/clip_00002_overlay.png"));
  EXPECT_FALSE(exists(out + "/clip_00001_overlay.png"));
}
