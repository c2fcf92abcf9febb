// The loader rejects every truncation and each corrupted field with a message that names the problem.
#include <sys/stat.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <zlib.h>

#include "test_util.h"

namespace bty::test {
namespace {

// A valid file: version 2 (the writer's default) with a one-delta head, or the same net as a version-1 file, or a
// version-2 retouch-layers net (7 maps, pixel shuffle 2: a 28-channel head).
std::vector<uint8_t> valid_bytes(int version = 2) {
  std::mt19937 rng(3);
  ModelSpec s = random_net(rng, 2, 32, 32);
  s.version = version;
  return serialize_model(s);
}
std::vector<uint8_t> valid_layers_bytes() {
  std::mt19937 rng(3);
  ModelSpec s = random_net(rng, 2, 32, 32, OutputKind::Layers, 2);
  s.crop_width = 1.6f;
  s.crop_aspect = 1.3f;
  s.crop_nose_offset = -0.05f;
  return serialize_model(s);
}

void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = uint8_t(v >> (8 * i));
}
uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
void fix_crc(std::vector<uint8_t>& b) { put32(b, b.size() - 4, uint32_t(::crc32_z(0, b.data(), b.size() - 4))); }

std::string error_of(const std::vector<uint8_t>& b) {
  try {
    parse_model(b.data(), b.size(), "m.bmodel");
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

TEST(Loader, ValidFileLoads) {
  auto b = valid_bytes();
  auto m = parse_model(b.data(), b.size(), "m.bmodel");
  EXPECT_EQ(info(*m).tier, "test-random");
  EXPECT_EQ(info(*m).version, 2);
  EXPECT_EQ(info(*m).input_width, 32);
  EXPECT_EQ(info(*m).output_channels, 3);
  EXPECT_EQ(info(*m).output_kind, OutputKind::Delta);
  EXPECT_EQ(info(*m).output_shuffle, 1);
  EXPECT_GT(info(*m).macs, 0);
}

// Version 1 has zeros where version 2 keeps the shuffle and the framing: it loads as one delta, no shuffle, and the
// framing the v1 nets were trained with.
TEST(Loader, Version1FileLoadsWithTheV1Meaning) {
  auto b = valid_bytes(1);
  auto m = parse_model(b.data(), b.size(), "m.bmodel");
  const ModelInfo& i = info(*m);
  EXPECT_EQ(i.version, 1);
  EXPECT_EQ(i.output_kind, OutputKind::Delta);
  EXPECT_EQ(i.output_shuffle, 1);
  EXPECT_FLOAT_EQ(i.crop_width, 1.45f);
  EXPECT_FLOAT_EQ(i.crop_aspect, 1.25f);
  EXPECT_FLOAT_EQ(i.crop_nose_offset, 0.069f);
  EXPECT_EQ(i.output_channels, 3);
}

TEST(Loader, Version2RetouchLayersLoad) {
  auto b = valid_layers_bytes();
  auto m = parse_model(b.data(), b.size(), "m.bmodel");
  const ModelInfo& i = info(*m);
  EXPECT_EQ(i.version, 2);
  EXPECT_EQ(i.output_kind, OutputKind::Layers);
  EXPECT_EQ(i.output_shuffle, 2);
  EXPECT_EQ(i.output_channels, 28);
  EXPECT_FLOAT_EQ(i.crop_width, 1.6f);
  EXPECT_FLOAT_EQ(i.crop_aspect, 1.3f);
  EXPECT_FLOAT_EQ(i.crop_nose_offset, -0.05f);
}

TEST(Loader, EveryTruncationIsRejected) {
  for (const auto& b : {valid_bytes(1), valid_bytes(2), valid_layers_bytes()}) {
    for (size_t n = 0; n < b.size(); ++n) {
      std::vector<uint8_t> t(b.begin(), b.begin() + n);
      std::string e = error_of(t);
      ASSERT_FALSE(e.empty()) << "truncation to " << n << " bytes was accepted";
      EXPECT_EQ(e.rfind("m.bmodel: ", 0), 0u) << e;
      if (n >= 100) {
        EXPECT_NE(e.find("truncated"), std::string::npos) << n << ": " << e;
      }
    }
  }
}

TEST(Loader, CorruptedFieldsAreRejectedWithTheRightMessage) {
  const auto good = valid_bytes();
  struct Case {
    size_t off;
    uint32_t value;
    const char* message;
  } cases[] = {
      {0, 0x41414141, "bad magic"},
      {8, 0, "unsupported version 0"},
      {8, 4, "unsupported version 4 (this engine reads versions 1 to 3)"},
      {12, 0x04030201, "wrong byte order"},
      {16, 12345, "truncated or padded"},
      {20, 0, "tier name"},
      {36, 12, "multiple of 8"},
      {40, 0, "multiple of 8"},
      {44, 4, "input_channels"},
      {48, 7, "colour space"},
      {52, 0x7fc00000, "not a finite number"},
      {60, 2, "unknown output_kind 2"},
      {60, 1, "the output head has 3 channels; output_kind 1 with output_shuffle 1 needs 7"},
      {80, 0, "output_shuffle must be 1 or 2"},
      {80, 4, "output_shuffle must be 1 or 2"},
      {80, 2, "output head has 3 channels; output_kind 0 with output_shuffle 2 needs 12"},
      {84, 0x7fc00000, "field 'crop_width' is not a finite number"},
      {84, bits(0.4f), "'crop_width' is 0.4, outside 0.5..4"},
      {84, bits(4.5f), "'crop_width' is 4.5, outside 0.5..4"},
      {88, 0xff800000, "field 'crop_aspect' is not a finite number"},
      {88, bits(0.3f), "'crop_aspect' is 0.3, outside 0.5..3"},
      {88, bits(3.5f), "'crop_aspect' is 3.5, outside 0.5..3"},
      {92, 0x7f800000, "field 'crop_nose_offset' is not a finite number"},
      {92, bits(-0.6f), "'crop_nose_offset' is -0.6, outside -0.5..0.5"},
      {92, bits(0.75f), "'crop_nose_offset' is 0.75, outside -0.5..0.5"},
      {68, 0, "layer_count"},
      {68, 1000, "layer_count"},
      {72, 4, "weights_offset"},
      {96 + 0, 9, "unknown op"},
      {96 + 4, 5, "not produced yet"},
      {96 + 12, 65, "out_channels must be 1..64"},
      {96 + 16, 3, "stride must be 1 or 2"},
      {96 + 20, 7, "unknown activation"},
      {96 + 24, 2, "multiple of 4"},
      {96 + 24, 0x100000, "outside the weight blob"},
      {96 + 28, 1, "reserved field"},
  };
  for (const Case& c : cases) {
    auto b = good;
    put32(b, c.off, c.value);
    if (c.off >= 8) fix_crc(b);  // reach the field check, not the checksum
    std::string e = error_of(b);
    EXPECT_NE(e.find(c.message), std::string::npos) << "offset " << c.off << " -> '" << e << "'";
  }
}

// Version 1: output_kind 0 only, and 80..95 are reserved zeros.
TEST(Loader, Version1FieldsAreRejectedWithTheRightMessage) {
  const auto good = valid_bytes(1);
  const struct {
    size_t off;
    uint32_t value;
    const char* message;
  } cases[] = {{60, 1, "output_kind must be 0 in a version-1 file, not 1"},
               {80, 2, "reserved header bytes are not zero"},
               {92, 1, "reserved header bytes are not zero"}};
  for (const auto& c : cases) {
    auto b = good;
    put32(b, c.off, c.value);
    fix_crc(b);
    std::string e = error_of(b);
    EXPECT_NE(e.find(c.message), std::string::npos) << "offset " << c.off << " -> '" << e << "'";
  }
}

// A retouch-layers head must have 7 x shuffle^2 channels: a 28-channel head read with shuffle 1 is wrong.
TEST(Loader, RetouchLayersHeadMustMatchTheShuffle) {
  auto b = valid_layers_bytes();
  put32(b, 80, 1);
  fix_crc(b);
  EXPECT_NE(
      error_of(b).find("the output head has 28 channels; output_kind 1 with output_shuffle 1 needs 7 (7 maps x 1^2)"),
      std::string::npos)
      << error_of(b);
  b = valid_layers_bytes();
  put32(b, 60, 0);
  fix_crc(b);
  EXPECT_NE(error_of(b).find("output_kind 0 with output_shuffle 2 needs 12"), std::string::npos) << error_of(b);
}

TEST(Loader, FlippedWeightByteFailsTheChecksum) {
  auto b = valid_bytes();
  b[b.size() - 10] ^= 0x40;
  EXPECT_NE(error_of(b).find("checksum mismatch"), std::string::npos);
}

TEST(Loader, GraphRulesAreEnforced) {
  std::mt19937 rng(4);
  {  // the output head must be a conv
    ModelSpec s;
    s.layers.push_back(conv(0, 8, 2, Act::Relu, rng, 3));
    Layer u;
    u.op = Op::Upsample;
    u.a = 1;
    u.out_channels = 8;
    s.layers.push_back(u);
    auto b = serialize_model(s);
    EXPECT_NE(error_of(b).find("output head"), std::string::npos) << error_of(b);
  }
  {  // an unused intermediate output
    ModelSpec s;
    s.layers.push_back(conv(0, 8, 1, Act::Relu, rng, 3));
    s.layers.push_back(conv(0, 3, 1, Act::Tanh, rng, 3));
    auto b = serialize_model(s);
    EXPECT_NE(error_of(b).find("never used"), std::string::npos) << error_of(b);
  }
  {  // concat of different resolutions
    ModelSpec s;
    s.layers.push_back(conv(0, 8, 2, Act::Relu, rng, 3));
    s.layers.push_back(concat(0, 1, 11));
    s.layers.push_back(conv(2, 3, 1, Act::Tanh, rng, 11));
    auto b = serialize_model(s);
    EXPECT_NE(error_of(b).find("different resolutions"), std::string::npos) << error_of(b);
  }
}

// The Python writer (models/beautynet/bmodel.py, through make_test_model.py) and this loader agree on its current
// version (3; uncalibrated here: no int8 conv) and on version 1.
TEST(Loader, PythonWrittenFilesOfBothVersionsLoad) {
  const char* dir = std::getenv("BTY_TEST_MODELS");
  const std::string base = std::string(dir ? dir : ".") + "/test-M";
  auto v2 = load_model(base + ".bmodel");
  EXPECT_EQ(info(*v2).version, 3);
  EXPECT_EQ(info(*v2).int8_convs, 0);
  EXPECT_EQ(info(*v2).output_kind, OutputKind::Layers);
  EXPECT_EQ(info(*v2).output_shuffle, 2);
  EXPECT_EQ(info(*v2).output_channels, 28);
  EXPECT_EQ(info(*v2).output_width, info(*v2).input_width / 2);
  EXPECT_NEAR(info(*v2).crop_width, 1.45f, 1e-6f);
  EXPECT_NEAR(info(*v2).crop_aspect, 1.25f, 1e-6f);
  EXPECT_NEAR(info(*v2).crop_nose_offset, 0.069f, 1e-6f);
  auto v1 = load_model(base + "-v1.bmodel");
  EXPECT_EQ(info(*v1).version, 1);
  EXPECT_EQ(info(*v1).output_kind, OutputKind::Delta);
  EXPECT_EQ(info(*v1).output_shuffle, 1);
  EXPECT_EQ(info(*v1).output_channels, 3);
}

ModelError::Kind load_error(const std::string& path, std::string* what = nullptr) {
  try {
    load_model(path);
  } catch (const ModelError& e) {
    if (what) *what = e.what();
    return e.kind();
  }
  ADD_FAILURE() << path << ": no error";
  return ModelError::Kind::Invalid;
}

TEST(Loader, MissingFileSaysSo) {
  std::string what;
  EXPECT_EQ(load_error("/nonexistent/beautify.bmodel", &what), ModelError::Kind::NotFound);
  EXPECT_NE(what.find("/nonexistent/beautify.bmodel: no such model file"), std::string::npos) << what;
}

// Directories, FIFOs and devices are refused by stat() before any open or read (a FIFO would block, /dev/zero
// never ends); a file over kMaxModelBytes by its size (a sparse 3 GiB file is not read).
TEST(Loader, NotARegularFileOrTooLargeIsRefusedBeforeReading) {
  std::string what;
  EXPECT_EQ(load_error("/tmp", &what), ModelError::Kind::NotRegularFile);
  EXPECT_NE(what.find("not a regular file (it is a directory)"), std::string::npos) << what;
  EXPECT_EQ(load_error("/dev/zero", &what), ModelError::Kind::NotRegularFile);
  EXPECT_NE(what.find("(it is a device)"), std::string::npos) << what;
  const std::string fifo = "/tmp/bty-loader-fifo-" + std::to_string(getpid());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(load_error(fifo, &what), ModelError::Kind::NotRegularFile);
  EXPECT_NE(what.find("(it is a FIFO)"), std::string::npos) << what;
  std::remove(fifo.c_str());
  const std::string huge = "/tmp/bty-loader-huge-" + std::to_string(getpid());
  { std::ofstream(huge, std::ios::binary) << "BTFYMDL"; }
  ASSERT_EQ(truncate(huge.c_str(), off_t(3) << 30), 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(load_error(huge, &what), ModelError::Kind::TooLarge);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 0.5);
  EXPECT_NE(what.find("larger than any beauty model"), std::string::npos) << what;
  std::remove(huge.c_str());
  // Exactly at the limit is still read (and then rejected as not a model).
  { std::ofstream(huge, std::ios::binary) << "XXXXXXXX"; }
  ASSERT_EQ(truncate(huge.c_str(), off_t(kMaxModelBytes)), 0);
  EXPECT_EQ(load_error(huge, &what), ModelError::Kind::Invalid);
  EXPECT_NE(what.find("bad magic"), std::string::npos) << what;
  std::remove(huge.c_str());
}

TEST(Loader, CorruptFileIsInvalid) {
  const std::string path = "/tmp/bty-loader-corrupt-" + std::to_string(getpid());
  { std::ofstream(path, std::ios::binary) << std::string(200, 'x'); }
  EXPECT_EQ(load_error(path), ModelError::Kind::Invalid);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace bty::test
