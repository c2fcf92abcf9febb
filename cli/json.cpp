#include "json.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include <cmath>
#include <stdexcept>

namespace bty::cli {

Json::Json() : b_(json_builder_new()) {}
Json::~Json() { g_object_unref(b_); }

Json& Json::begin_object() {
  json_builder_begin_object(b_);
  return *this;
}
Json& Json::end_object() {
  json_builder_end_object(b_);
  return *this;
}
Json& Json::begin_array() {
  json_builder_begin_array(b_);
  return *this;
}
Json& Json::end_array() {
  json_builder_end_array(b_);
  return *this;
}
Json& Json::key(const char* name) {
  json_builder_set_member_name(b_, name);
  return *this;
}
Json& Json::value(const std::string& s) {
  json_builder_add_string_value(b_, s.c_str());
  return *this;
}
Json& Json::value(int64_t v) {
  json_builder_add_int_value(b_, v);
  return *this;
}
Json& Json::value(bool v) {
  json_builder_add_boolean_value(b_, v);
  return *this;
}
Json& Json::value(double v, int decimals) {
  if (!std::isfinite(v)) return null();
  if (decimals >= 0) {
    const double scale = std::pow(10.0, decimals);
    v = std::round(v * scale) / scale;
  }
  json_builder_add_double_value(b_, v);
  return *this;
}
Json& Json::null() {
  json_builder_add_null_value(b_);
  return *this;
}
Json& Json::path(const std::string& file) {
  gchar* utf8 = g_filename_display_name(file.c_str());
  json_builder_add_string_value(b_, utf8);
  g_free(utf8);
  return *this;
}

std::string Json::str(bool pretty) const {
  JsonNode* root = json_builder_get_root(b_);
  if (!root) throw std::logic_error("Json: the document is not complete");
  JsonGenerator* g = json_generator_new();
  json_generator_set_root(g, root);
  json_generator_set_pretty(g, pretty);
  json_generator_set_indent(g, 2);
  gchar* text = json_generator_to_data(g, nullptr);
  std::string out = text;
  g_free(text);
  g_object_unref(g);
  json_node_unref(root);
  return out;
}

void Json::write_file(const std::string& file, bool pretty) const {
  const std::string text = str(pretty) + "\n";
  GError* e = nullptr;
  if (!g_file_set_contents(file.c_str(), text.data(), gssize(text.size()), &e)) {
    const std::string why = e->message;
    g_error_free(e);
    throw std::runtime_error(why);
  }
}

}  // namespace bty::cli
