#include "options.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace bty::cli {
namespace {

std::string number(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

Options::Options(const char* program, const char* params, const char* summary) : program_(program) {
  context_ = g_option_context_new(params);
  g_option_context_set_summary(context_, summary);
  main_ = g_option_group_new(nullptr, nullptr, nullptr, this, nullptr);
  g_option_context_set_main_group(context_, main_);  // the context owns it from here
}

Options::~Options() { g_option_context_free(context_); }

void Options::add(const char* name, char short_name, bool takes_value, const char* arg, std::string help, Setter set) {
  const std::string long_name = std::string("--") + name;
  const Spec spec{long_name, std::move(set)};
  specs_[long_name] = spec;
  if (short_name) specs_[std::string("-") + short_name] = spec;
  GOptionEntry e{};
  e.long_name = strings_.emplace_back(name).c_str();
  e.short_name = short_name;
  // Values are taken as bytes (file names need not be UTF-8); callbacks check what they need.
  e.flags = G_OPTION_FLAG_FILENAME | (takes_value ? 0 : G_OPTION_FLAG_NO_ARG);
  e.arg = G_OPTION_ARG_CALLBACK;
  e.arg_data = reinterpret_cast<gpointer>(&Options::on_value);
  e.description = strings_.emplace_back(std::move(help)).c_str();
  e.arg_description = arg ? strings_.emplace_back(arg).c_str() : nullptr;
  entries_.push_back(e);
}

void Options::flag(const char* name, char short_name, bool* out, const char* help) {
  const Setter set = [out](const char*, std::string*) {
    *out = true;
    return true;
  };
  add(name, short_name, false, nullptr, help, set);
}

void Options::text(const char* name, char short_name, std::string* out, const char* arg, const char* help) {
  std::string h = help;
  if (!out->empty()) h += " (default " + *out + ")";
  const Setter set = [out](const char* v, std::string* err) {
    if (!*v) {
      *err = "needs a value, got an empty string";
      return false;
    }
    *out = v;
    return true;
  };
  add(name, short_name, true, arg, h, set);
}

void Options::integer(const char* name, char short_name, int64_t* out, int64_t lo, int64_t hi, const char* arg,
                      const char* help) {
  const std::string h = std::string(help) + " (" + std::to_string(lo) + ".." + std::to_string(hi) + ", default " +
                        std::to_string(*out) + ")";
  const Setter set = [out, lo, hi](const char* v, std::string* err) {
    gint64 n = 0;
    GError* e = nullptr;
    // Whole string, base 10, no overflow, within [lo, hi]: GLib checks all four.
    if (!g_ascii_string_to_signed(v, 10, lo, hi, &n, &e)) {
      const bool range = e->code == G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS;
      g_error_free(e);
      *err = range ? std::string(v) + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi)
                   : "'" + std::string(v) + "' is not a whole number";
      return false;
    }
    *out = n;
    return true;
  };
  add(name, short_name, true, arg, h, set);
}

void Options::integer(const char* name, char short_name, int* out, int lo, int hi, const char* arg, const char* help) {
  auto* wide = &wides_.emplace_back(*out);
  targets_.push_back({wide, out});
  integer(name, short_name, wide, lo, hi, arg, help);
}

void Options::real(const char* name, char short_name, double* out, double lo, double hi, const char* arg,
                   const char* help) {
  const std::string h = std::string(help) + " (" + number(lo) + ".." + number(hi) + ", default " + number(*out) + ")";
  const Setter set = [out, lo, hi](const char* v, std::string* err) {
    char* end = nullptr;
    errno = 0;
    const double d = g_ascii_strtod(v, &end);
    if (!*v || end == v || *end || errno == ERANGE || !std::isfinite(d)) {
      *err = "'" + std::string(v) + "' is not a number";
      return false;
    }
    if (d < lo || d > hi) {
      *err = std::string(v) + " is out of range " + number(lo) + ".." + number(hi);
      return false;
    }
    *out = d;
    return true;
  };
  add(name, short_name, true, arg, h, set);
}

void Options::choice(const char* name, char short_name, std::string* out, std::vector<std::string> choices,
                     const char* help) {
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : "|") + c;
  const std::string h = std::string(help) + " (default " + *out + ")";
  const Setter set = [out, choices, list](const char* v, std::string* err) {
    for (const auto& c : choices)
      if (c == v) {
        *out = c;
        return true;
      }
    *err = "must be one of " + list + ", got '" + v + "'";
    return false;
  };
  add(name, short_name, true, strings_.emplace_back(list).c_str(), h, set);
}

void Options::add_group(GOptionGroup* group) { g_option_context_add_group(context_, group); }

gboolean Options::on_value(const gchar* option_name, const gchar* value, gpointer data, GError** error) {
  auto* self = static_cast<Options*>(data);
  const auto it = self->specs_.find(option_name);
  if (it == self->specs_.end()) {  // cannot happen: GLib calls us only for our entries
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "%s: not an option of this tool", option_name);
    return FALSE;
  }
  std::string err;
  if (!it->second.set(value ? value : "", &err)) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: %s", it->second.name.c_str(), err.c_str());
    return FALSE;
  }
  self->given_[it->second.name] = value ? value : "";
  return TRUE;
}

bool Options::parse(int argc, char** argv) {
  gchar** rest = nullptr;
  entries_.push_back({G_OPTION_REMAINING, 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_FILENAME_ARRAY, &rest, nullptr,
                      strings_.emplace_back(std::string()).c_str()});
  entries_.push_back({});  // terminator
  g_option_group_add_entries(main_, entries_.data());
  std::vector<char*> copy(argv, argv + argc);  // GLib removes what it parsed; the caller's argv stays as it was
  int n = argc;
  char** v = copy.data();
  GError* e = nullptr;
  const bool ok = g_option_context_parse(context_, &n, &v, &e);
  for (gchar** p = rest; p && *p; ++p) args_.emplace_back(*p);
  g_strfreev(rest);
  if (!ok) {
    usage_error(e->message);
    g_error_free(e);
    return false;
  }
  for (const auto& [wide, narrow] : targets_) *narrow = int(*wide);  // ranges were checked against int bounds
  std::string problem;
  for (const auto& r : required_)
    if (problem.empty() && !given(r)) problem = r + " is required";
  if (problem.empty() && int(args_.size()) < min_args_)
    problem = min_args_ == 1 ? "needs an argument" : "needs " + std::to_string(min_args_) + " arguments";
  if (problem.empty() && max_args_ >= 0 && int(args_.size()) > max_args_)
    problem = max_args_ == 0 ? "unexpected argument '" + args_[0] + "'"
                             : "too many arguments (at most " + std::to_string(max_args_) + ")";
  if (!problem.empty()) {
    usage_error(problem);
    return false;
  }
  return true;
}

int Options::usage_error(const std::string& message) const {
  std::fprintf(stderr, "%s: %s\nRun '%s --help' to see the options.\n", program_.c_str(), message.c_str(),
               program_.c_str());
  return kUsageError;
}

}  // namespace bty::cli
