// The project's one error base: the engine's ModelError and DeviceError, the face stage's face::Error and the
// element's ConfigError all derive from bty::Error, whose kind() says what failed (never the message text), so the
// element maps every failure to a GStreamer error domain and code the same way.
#pragma once

#include <stdexcept>
#include <string>

namespace bty {

enum class ErrorKind {
  NotFound,        // no such file (or no model found for a tier)
  NotRegularFile,  // a directory, FIFO, device, ...
  TooLarge,        // larger than the file can be (checked before reading)
  Unreadable,      // permissions, I/O error
  Invalid,         // read, but corrupt or not the expected kind of file (bad magic, checksum, field, graph)
  Unsupported,     // valid file this engine or caller cannot use (e.g. a net that is not a retouch net)
  Settings,        // option values out of range, bad input to a call
  Device,          // OpenCL (no ICD loader or platform, no device, kernel build error, out of resources)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace bty
