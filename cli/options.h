// Command-line options for the project's tools, on GLib's GOptionContext: typed options with range checks, choices
// and required options, one error format. Every tool: "TOOL: MESSAGE" and "Run 'TOOL --help' ..." on stderr, exit
// status 2 for a usage error (kUsageError), 1 for a failure while running.
#pragma once
#include <glib.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bty::cli {

constexpr int kUsageError = 2;

class Options {
 public:
  // `params` follows the program name in the usage line ("IMAGE..."); `summary` is the help text's first paragraph.
  Options(const char* program, const char* params, const char* summary);
  ~Options();
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;

  // Each adds --name (and -short when short_name != 0). The help line shows the default and the allowed range.
  void flag(const char* name, char short_name, bool* out, const char* help);
  void text(const char* name, char short_name, std::string* out, const char* arg, const char* help);
  void integer(const char* name, char short_name, int64_t* out, int64_t lo, int64_t hi, const char* arg,
               const char* help);
  void integer(const char* name, char short_name, int* out, int lo, int hi, const char* arg, const char* help);
  void real(const char* name, char short_name, double* out, double lo, double hi, const char* arg, const char* help);
  void choice(const char* name, char short_name, std::string* out, std::vector<std::string> choices, const char* help);
  // Options another library defines (GStreamer's --gst-*): parsed with ours, shown under --help-all.
  void add_group(GOptionGroup* group);
  // Names given here must be present after parsing ("--model is required").
  void require(std::vector<std::string> names) { required_ = std::move(names); }
  // Positional arguments: at least min_args, at most max_args (-1: any number).
  void positional(int min_args, int max_args) { min_args_ = min_args, max_args_ = max_args; }

  // Parses argv. On a usage error prints it and returns false (the caller exits with kUsageError); --help prints
  // the help and exits 0. The positional arguments are left in args().
  bool parse(int argc, char** argv);
  const std::vector<std::string>& args() const { return args_; }
  bool given(const std::string& name) const { return given_.count(name) != 0; }
  // Prints "PROGRAM: message" and the --help hint; returns kUsageError (for `return opts.usage_error(...)`).
  int usage_error(const std::string& message) const;

 private:
  // Stores a value given on the command line, or says in *error why it cannot.
  using Setter = std::function<bool(const char* value, std::string* error)>;
  struct Spec {
    std::string name;  // "--name"
    Setter set;
  };
  static gboolean on_value(const gchar* option_name, const gchar* value, gpointer self, GError** error);
  void add(const char* name, char short_name, bool takes_value, const char* arg, std::string help, Setter set);

  std::string program_;
  GOptionContext* context_ = nullptr;
  GOptionGroup* main_ = nullptr;
  std::deque<std::string> strings_;  // names and help texts the GOptionEntries point into
  std::vector<GOptionEntry> entries_;
  std::map<std::string, Spec> specs_;  // by "--name" and "-s"
  std::deque<int64_t> wides_;          // int options are parsed as int64_t with int bounds, then stored
  std::vector<std::pair<int64_t*, int*>> targets_;
  std::map<std::string, std::string> given_;
  std::vector<std::string> required_;
  std::vector<std::string> args_;
  int min_args_ = 0, max_args_ = 0;
};

}  // namespace bty::cli
