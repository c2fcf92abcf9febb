// The loader rejects every truncation and each corrupted field with a message that names the problem.
#include <cstdio>
#include <cstring>
#include <fstream>

#include "crc32.h"
#include "test_util.h"

namespace bty::test {
namespace {

std::vector<uint8_t> valid_bytes() {
  std::mt19937 rng(3);
  return serialize_model(random_net(rng, 2, 32, 32));
}

void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = uint8_t(v >> (8 * i));
}
void fix_crc(std::vector<uint8_t>& b) { put32(b, b.size() - 4, crc32(b.data(), b.size() - 4)); }

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
  EXPECT_EQ(info(*m).input_width, 32);
  EXPECT_EQ(info(*m).output_channels, 3);
  EXPECT_GT(info(*m).macs, 0);
}

TEST(Loader, EveryTruncationIsRejected) {
  auto b = valid_bytes();
  for (size_t n = 0; n < b.size(); ++n) {
    std::vector<uint8_t> t(b.begin(), b.begin() + n);
    std::string e = error_of(t);
    ASSERT_FALSE(e.empty()) << "truncation to " << n << " bytes was accepted";
    EXPECT_EQ(e.rfind("m.bmodel: ", 0), 0u) << e;
    if (n >= 100) EXPECT_NE(e.find("truncated"), std::string::npos) << n << ": " << e;
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
      {8, 2, "unsupported version 2"},
      {12, 0x04030201, "wrong byte order"},
      {16, 12345, "truncated or padded"},
      {20, 0, "tier name"},
      {36, 12, "multiple of 8"},
      {40, 0, "multiple of 8"},
      {44, 4, "input_channels"},
      {48, 7, "colour space"},
      {52, 0x7fc00000, "not a finite number"},
      {60, 1, "output_kind"},
      {68, 0, "layer_count"},
      {68, 1000, "layer_count"},
      {72, 4, "weights_offset"},
      {80, 1, "reserved"},
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
    Layer c;
    c.op = Op::Concat;
    c.a = 0;
    c.b = 1;
    c.out_channels = 11;
    s.layers.push_back(c);
    s.layers.push_back(conv(2, 3, 1, Act::Tanh, rng, 11));
    auto b = serialize_model(s);
    EXPECT_NE(error_of(b).find("different resolutions"), std::string::npos) << error_of(b);
  }
}

TEST(Loader, MissingFileSaysSo) {
  try {
    load_model("/nonexistent/beautify.bmodel");
    FAIL() << "no error";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/beautify.bmodel: cannot open"), std::string::npos);
  }
}

}  // namespace
}  // namespace bty::test
