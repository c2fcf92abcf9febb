// Building the per-model OpenCL program, through an on-disk cache of program binaries so the second start is fast.
#pragma once
#include <string>

#include "cl_runtime.h"

namespace bty::cl {

// $XDG_CACHE_HOME/gst-beautify, else $HOME/.cache/gst-beautify; empty when neither is set.
std::string default_cache_dir();

struct BuildResult {
  Program program;
  bool cache_hit = false;
  double ms = 0;     // build or load time
  std::string note;  // why a cache entry was not used or not written (empty when all went well)
};

// Builds `source` with `options` for `dev`. With a non-empty cache_dir the binary is looked up under a key of the
// device, its driver version, the options and a hash of the source; an entry that does not load, does not match
// the key exactly, fails its checksum or is refused by the driver is rebuilt from source and rewritten.
// A build failure throws DeviceError with the compiler's log.
BuildResult build_program(cl_context ctx, const DeviceInfo& dev, const std::string& source, const std::string& options,
                          const std::string& cache_dir);

// The cache file a (device, source, options) triple maps to (tests corrupt it).
std::string cache_path(const std::string& cache_dir, const DeviceInfo& dev, const std::string& source,
                       const std::string& options);

}  // namespace bty::cl
