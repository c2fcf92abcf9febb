// The tools' shared helpers: option parsing with ranges and choices, JSON escaping, CSV with quoted fields.
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include <climits>
#include <sstream>
#include <string>
#include <vector>

#include "csv.h"
#include "json.h"
#include "options.h"

namespace {

// Parses `args` (program name added) with options a, n, x, c, f; returns what parse() did and what stderr said.
struct Parsed {
  bool ok = false;
  std::string err;
  int n = 5;
  int64_t big = 0;
  double x = 0.5;
  std::string c = "one", a;
  bool f = false;
  std::vector<std::string> rest;
};

Parsed parse(std::vector<std::string> args, int min_args = 0, int max_args = -1) {
  Parsed p;
  bty::cli::Options o("prog", "", "test");
  o.integer("n", 'n', &p.n, -3, 7, "N", "an int");
  o.integer("big", 0, &p.big, INT64_MIN, INT64_MAX, "B", "an int64");
  o.real("x", 0, &p.x, 0.0, 1.0, "X", "a fraction");
  o.choice("c", 0, &p.c, {"one", "two"}, "a choice");
  o.text("a", 0, &p.a, "S", "a string");
  o.flag("f", 'f', &p.f, "a flag");
  o.positional(min_args, max_args);
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  testing::internal::CaptureStderr();
  p.ok = o.parse(int(argv.size()), argv.data());
  p.err = testing::internal::GetCapturedStderr();
  p.rest = o.args();
  return p;
}

TEST(Options, ValuesWithinRangeAreStored) {
  const Parsed p = parse({"--n", "-3", "--big", "-9223372036854775808", "--x", "1", "--c", "two", "-f", "--a", "v",
                          "file1", "--", "--file2"});
  ASSERT_TRUE(p.ok) << p.err;
  EXPECT_EQ(p.n, -3);
  EXPECT_EQ(p.big, INT64_MIN);
  EXPECT_EQ(p.x, 1.0);
  EXPECT_EQ(p.c, "two");
  EXPECT_EQ(p.a, "v");
  EXPECT_TRUE(p.f);
  EXPECT_EQ(p.rest, (std::vector<std::string>{"file1", "--file2"}));
  const Parsed d = parse({"-n", "7", "--n=6"});  // short form, = form; the last one wins
  ASSERT_TRUE(d.ok) << d.err;
  EXPECT_EQ(d.n, 6);
  EXPECT_EQ(d.x, 0.5);  // defaults kept
  EXPECT_EQ(d.c, "one");
}

TEST(Options, BadValuesAreRefusedWithTheOptionNamed) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--n", "8"}, "prog: --n: 8 is out of range -3..7\n"},
      {{"--n", "4294967297"}, "prog: --n: 4294967297 is out of range -3..7\n"},
      {{"--n", "x"}, "prog: --n: 'x' is not a whole number\n"},
      {{"--n", " 1"}, "prog: --n: ' 1' is not a whole number\n"},
      {{"--big", "9223372036854775808"}, "is out of range"},
      {{"--x", "1.5"}, "prog: --x: 1.5 is out of range 0..1\n"},
      {{"--x", "nan"}, "prog: --x: 'nan' is not a number\n"},
      {{"--x", "0.5z"}, "prog: --x: '0.5z' is not a number\n"},
      {{"--x", "1e999"}, "prog: --x: '1e999' is not a number\n"},
      {{"--c", "three"}, "prog: --c: must be one of one|two, got 'three'\n"},
      {{"--a", ""}, "prog: --a: needs a value, got an empty string\n"},
      {{"--nope"}, "Unknown option --nope"},
  };
  for (const auto& [args, want] : cases) {
    const Parsed p = parse(args);
    EXPECT_FALSE(p.ok) << args[0];
    EXPECT_NE(p.err.find(want), std::string::npos) << p.err;
    EXPECT_NE(p.err.find("Run 'prog --help' to see the options."), std::string::npos) << p.err;
  }
  EXPECT_EQ(parse({"--n", "8"}).n, 5);  // a refused value leaves the default
}

TEST(Options, PositionalCountsAreChecked) {
  EXPECT_NE(parse({}, 1, 1).err.find("prog: needs an argument"), std::string::npos);
  EXPECT_NE(parse({"a", "b"}, 1, 1).err.find("too many arguments (at most 1)"), std::string::npos);
  EXPECT_NE(parse({"a"}, 0, 0).err.find("unexpected argument 'a'"), std::string::npos);
  EXPECT_TRUE(parse({"a", "b", "c"}, 1, -1).ok);
}

TEST(Options, RequiredOptions) {
  std::string m;
  bty::cli::Options o("prog", "", "test");
  o.text("model", 0, &m, "F", "a model");
  o.require({"--model"});
  char prog[] = "prog";
  char* argv[] = {prog};
  testing::internal::CaptureStderr();
  EXPECT_FALSE(o.parse(1, argv));
  EXPECT_NE(testing::internal::GetCapturedStderr().find("prog: --model is required"), std::string::npos);
}

TEST(Json, StringsAreEscapedAndNonFiniteNumbersAreNull) {
  bty::cli::Json j;
  const std::string awkward = "a \"quoted\" \\ back\tslash\n\x01 é";
  j.begin_object().key("s").value(awkward).key("p").path("caf\xe9.png").key("inf").value(1.0 / 0.0);
  j.key("r").value(2.0 / 3.0, 3).key("i").value(int64_t(1) << 40).key("b").value(true).end_object();
  const std::string text = j.str();
  JsonParser* p = json_parser_new();
  ASSERT_TRUE(json_parser_load_from_data(p, text.c_str(), -1, nullptr)) << text;
  JsonObject* o = json_node_get_object(json_parser_get_root(p));
  EXPECT_EQ(json_object_get_string_member(o, "s"), awkward);
  EXPECT_TRUE(g_utf8_validate(json_object_get_string_member(o, "p"), -1, nullptr));
  EXPECT_TRUE(json_object_get_null_member(o, "inf"));
  EXPECT_DOUBLE_EQ(json_object_get_double_member(o, "r"), 0.667);
  EXPECT_EQ(json_object_get_int_member(o, "i"), int64_t(1) << 40);
  EXPECT_TRUE(json_object_get_boolean_member(o, "b"));
  g_object_unref(p);
}

TEST(Json, WriteFileSaysWhyItFailed) {
  bty::cli::Json j;
  j.begin_array().end_array();
  try {
    j.write_file("/nonexistent-dir/x.json");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.json"), std::string::npos) << e.what();
  }
}

TEST(Csv, QuotedFieldsCommasNewlinesAndCrlf) {
  std::istringstream in("kind,file,n\r\nimages,\"a, \"\"b\"\"\nc.jpg\",3\r\nvideos,plain.mp4,\n\"\",x");
  bty::cli::CsvTable t(in);
  ASSERT_TRUE(t.next());
  EXPECT_EQ(t["kind"], "images");
  EXPECT_EQ(t["file"], "a, \"b\"\nc.jpg");
  EXPECT_EQ(t["n"], "3");
  ASSERT_TRUE(t.next());
  EXPECT_EQ(t["file"], "plain.mp4");
  EXPECT_EQ(t["n"], "");
  ASSERT_TRUE(t.next());
  EXPECT_EQ(t["kind"], "");
  EXPECT_EQ(t["file"], "x");
  EXPECT_EQ(t["n"], "");  // a short record
  EXPECT_FALSE(t.next());
  EXPECT_THROW(t["missing"], std::out_of_range);
  std::istringstream bad("a\n\"open");
  bty::cli::CsvTable tb(bad);
  EXPECT_THROW(tb.next(), std::runtime_error);
}

}  // namespace
