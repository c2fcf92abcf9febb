// face-tool end to end: the crops mode the training pipeline uses, and the overlay mode.
#include "face_test_util.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>

using namespace facetest;

namespace {

// The root object of a JSON file the tool wrote (nullptr and a test failure when it is not valid JSON).
using Parsed = std::unique_ptr<JsonParser, decltype(&g_object_unref)>;
Parsed parse_json(const std::string& file, JsonObject** root) {
  Parsed p(json_parser_new(), &g_object_unref);
  GError* e = nullptr;
  *root = nullptr;
  if (!json_parser_load_from_file(p.get(), file.c_str(), &e)) {
    ADD_FAILURE() << file << ": " << e->message;
    g_error_free(e);
    return p;
  }
  JsonNode* node = json_parser_get_root(p.get());
  if (JSON_NODE_HOLDS_OBJECT(node))
    *root = json_node_get_object(node);
  else
    ADD_FAILURE() << file << ": the root is not an object";
  return p;
}

}  // namespace

TEST(FaceTool, CropsModeWritesRoiLandmarksAndMask) {
  const std::string out = ::testing::TempDir() + "face_tool_out";
  ASSERT_EQ(std::system(("rm -rf '" + out + "' && mkdir -p '" + out + "'").c_str()), 0);
  const std::string cmd =
      std::string(FACE_TOOL) + " --crops --out '" + out + "' '" + data("obama.jpg") + "' > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  JsonObject* root = nullptr;
  const Parsed pj = parse_json(out + "/obama_f0.json", &root);
  ASSERT_TRUE(root);
  EXPECT_EQ(json_object_get_string_member(root, "image"), data("obama.jpg"));
  JsonObject* face = json_object_get_object_member(root, "face");
  ASSERT_TRUE(face);
  JsonObject* roi = json_object_get_object_member(face, "roi");
  ASSERT_TRUE(roi);
  const int x = int(json_object_get_int_member(roi, "x")), y = int(json_object_get_int_member(roi, "y"));
  const int w = int(json_object_get_int_member(roi, "width")), h = int(json_object_get_int_member(roi, "height"));
  EXPECT_EQ(x % 8, 0);
  EXPECT_EQ(w % 8, 0);
  JsonArray* lm_roi = json_object_get_array_member(face, "landmarks_roi");
  JsonArray* lm = json_object_get_array_member(face, "landmarks");
  ASSERT_TRUE(lm_roi && lm);
  ASSERT_EQ(json_array_get_length(lm_roi), guint(kNumLandmarks));
  ASSERT_EQ(json_array_get_length(lm), guint(kNumLandmarks));
  for (guint i = 0; i < guint(kNumLandmarks); ++i) {  // the same points, shifted by the ROI origin
    JsonArray* a = json_array_get_array_element(lm, i);
    JsonArray* b = json_array_get_array_element(lm_roi, i);
    EXPECT_NEAR(json_array_get_double_element(a, 0) - x, json_array_get_double_element(b, 0), 0.011);
    EXPECT_NEAR(json_array_get_double_element(a, 1) - y, json_array_get_double_element(b, 1), 0.011);
  }
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
    for (int xx = 0; xx < w; xx += 7)
      diff = std::max(diff, std::abs(int(cl.row(yy)[xx]) - int(src.row(y + yy)[x + xx])));
  EXPECT_LE(diff, 2);
  // Overlay mode on a face-free image: succeeds, writes an empty face list and an all-zero mask.
  Image bg = to_luma(background(200, 120, 3, 9));
  save_png(bg, out + "/empty.png");
  ASSERT_EQ(std::system((std::string(FACE_TOOL) + " --out '" + out + "' '" + out + "/empty.png' > /dev/null").c_str()),
            0);
  const Image m = load_image(out + "/empty_mask.png");
  for (uint8_t v : m.data) ASSERT_EQ(v, 0);
  JsonObject* empty = nullptr;
  const Parsed pe = parse_json(out + "/empty.json", &empty);
  ASSERT_TRUE(empty);
  EXPECT_EQ(json_array_get_length(json_object_get_array_member(empty, "faces")), 0u);
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
  const std::string cmd = std::string(FACE_TOOL) + " --raw " + std::to_string(g.width) + "x" +
                          std::to_string(g.height) + " --sync --overlay-every 2 --out '" + out + "' '" + out +
                          "/clip.y' > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  JsonObject* clip = nullptr;
  const Parsed pc = parse_json(out + "/clip_landmarks.json", &clip);
  ASSERT_TRUE(clip);
  EXPECT_EQ(json_object_get_int_member(clip, "width"), g.width);
  EXPECT_EQ(json_object_get_string_member(clip, "format"), std::string("gray"));
  JsonArray* frames = json_object_get_array_member(clip, "frames");
  ASSERT_TRUE(frames);
  int rows = 0;
  gint64 first_id = -1;
  for (guint k = 0; k < json_array_get_length(frames); ++k) {
    JsonObject* fr = json_array_get_object_element(frames, k);
    EXPECT_EQ(json_object_get_int_member(fr, "frame"), k);
    JsonArray* faces = json_object_get_array_member(fr, "faces");
    ASSERT_EQ(json_array_get_length(faces), 1u) << "frame " << k;
    JsonObject* f = json_array_get_object_element(faces, 0);
    if (first_id < 0) first_id = json_object_get_int_member(f, "id");
    EXPECT_EQ(json_object_get_int_member(f, "id"), first_id);
    EXPECT_EQ(json_array_get_length(json_object_get_array_member(f, "landmarks")), guint(kNumLandmarks));
    ++rows;
  }
  EXPECT_EQ(rows, 4);
  EXPECT_TRUE(exists(out + "/clip_00000_overlay.png"));
  EXPECT_TRUE(exists(out + "/clip_00002_overlay.png"));
  EXPECT_FALSE(exists(out + "/clip_00001_overlay.png"));
}
