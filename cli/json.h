// JSON output for the tools through json-glib: strings are escaped by the library, numbers are finite or null.
//   bty::cli::Json j;
//   j.begin_object().key("image").path(file).key("faces").begin_array() ... .end_array().end_object();
//   j.write_file(out + "/x.json");   or   std::cout << j.str() << "\n";
#pragma once
#include <cstdint>
#include <string>

typedef struct _JsonBuilder JsonBuilder;

namespace bty::cli {

class Json {
 public:
  Json();
  ~Json();
  Json(const Json&) = delete;
  Json& operator=(const Json&) = delete;

  Json& begin_object();
  Json& end_object();
  Json& begin_array();
  Json& end_array();
  Json& key(const char* name);
  Json& value(const std::string& s);  // must be UTF-8 (use path() for file names)
  Json& value(const char* s) { return value(std::string(s)); }
  Json& value(int64_t v);
  Json& value(int v) { return value(int64_t(v)); }
  Json& value(uint64_t v) { return value(int64_t(v)); }
  Json& value(bool v);
  // A double rounded to `decimals` places (-1: as is); NaN and infinities become null (JSON has no such numbers).
  Json& value(double v, int decimals = -1);
  Json& value(float v, int decimals = -1) { return value(double(v), decimals); }
  Json& null();
  // A file name as UTF-8 (bytes that are not valid UTF-8 are shown as GLib's display name does).
  Json& path(const std::string& file);

  // The document; `pretty` indents by 2.
  std::string str(bool pretty = false) const;
  // Writes the document and a newline to `file` (pretty: for people; compact: for programs and big documents);
  // throws std::runtime_error saying why it could not.
  void write_file(const std::string& file, bool pretty = true) const;

 private:
  JsonBuilder* b_;
};

}  // namespace bty::cli
