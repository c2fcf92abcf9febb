// Cache file layout: "BTYCLBIN", u32 format, u32 key length, key (device, driver, options, source hash: compared
// byte for byte), u64 binary size, u32 CRC-32 of the binary, the binary. Written to a temporary file and renamed, so
// a reader never sees half a file from a concurrent writer.
#include "cl_program_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <zlib.h>

namespace bty::cl {
namespace {

constexpr char kMagic[8] = {'B', 'T', 'Y', 'C', 'L', 'B', 'I', 'N'};
constexpr uint32_t kFormat = 1;

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}
std::string hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}
std::string cache_key(const DeviceInfo& dev, const std::string& source, const std::string& options) {
  return "device=" + dev.name + "\nvendor=" + dev.vendor + "\nversion=" + dev.version + "\ndriver=" + dev.driver +
         "\nplatform=" + dev.platform_name + "\noptions=" + options + "\nsource=" + hex(fnv1a(source)) + "/" +
         std::to_string(source.size()) + "\n";
}

bool mkdirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i)
    if (i == dir.size() || dir[i] == '/') {
      std::string p = dir.substr(0, i);
      if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) return false;
    }
  return true;
}

// The binary of a valid entry for `key`, or empty with `why` set.
std::vector<unsigned char> read_entry(const std::string& path, const std::string& key, std::string& why) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};  // no entry: not worth a note
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto bad = [&](const char* what) {
    why = "cache entry " + path + " " + what + ": rebuilt";
    return std::vector<unsigned char>{};
  };
  size_t at = 0;
  auto take = [&](void* dst, size_t n) {
    if (data.size() - at < n) return false;
    std::memcpy(dst, data.data() + at, n);
    at += n;
    return true;
  };
  char magic[8];
  uint32_t format = 0, key_len = 0, crc = 0;
  uint64_t size = 0;
  if (!take(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) return bad("is not a program-binary cache file");
  if (!take(&format, 4) || format != kFormat) return bad("has another format version");
  if (!take(&key_len, 4) || key_len != key.size() || data.size() - at < key_len) return bad("is for another build");
  if (data.compare(at, key_len, key) != 0) return bad("is for another device, driver or source (hash collision)");
  at += key_len;
  if (!take(&size, 8) || !take(&crc, 4) || data.size() - at != size || size == 0) return bad("is truncated");
  std::vector<unsigned char> bin(data.begin() + long(at), data.end());
  if (uint32_t(::crc32_z(0, bin.data(), bin.size())) != crc) return bad("fails its checksum");
  return bin;
}

void write_entry(const std::string& dir, const std::string& path, const std::string& key,
                 const std::vector<unsigned char>& bin, std::string& why) {
  if (!mkdirs(dir)) {
    why = "cannot create the binary cache folder " + dir + ": " + std::strerror(errno);
    return;
  }
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    uint32_t key_len = uint32_t(key.size()), crc = uint32_t(::crc32_z(0, bin.data(), bin.size()));
    uint64_t size = bin.size();
    f.write(kMagic, 8);
    f.write(reinterpret_cast<const char*>(&kFormat), 4);
    f.write(reinterpret_cast<const char*>(&key_len), 4);
    f.write(key.data(), std::streamsize(key.size()));
    f.write(reinterpret_cast<const char*>(&size), 8);
    f.write(reinterpret_cast<const char*>(&crc), 4);
    f.write(reinterpret_cast<const char*>(bin.data()), std::streamsize(bin.size()));
    if (!f) {
      why = "cannot write the binary cache file " + tmp;
      std::remove(tmp.c_str());
      return;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    why = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    std::remove(tmp.c_str());
  }
}

std::string build_log(cl_program p, cl_device_id d) {
  size_t n = 0;
  clGetProgramBuildInfo(p, d, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n);
  std::string log(n, '\0');
  if (n) clGetProgramBuildInfo(p, d, CL_PROGRAM_BUILD_LOG, n, log.data(), nullptr);
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
  if (log.size() > 4000) log.replace(4000, std::string::npos, "\n...");
  return log;
}

// nullptr-free build of a program from source; throws DeviceError with the log on failure.
Program from_source(cl_context ctx, const DeviceInfo& dev, const std::string& source, const std::string& options) {
  const char* src = source.c_str();
  size_t len = source.size();
  cl_int err = CL_SUCCESS;
  Program p(clCreateProgramWithSource(ctx, 1, &src, &len, &err));
  check(err, "clCreateProgramWithSource");
  err = clBuildProgram(p.get(), 1, &dev.id, options.c_str(), nullptr, nullptr);
  if (err != CL_SUCCESS)
    throw DeviceError(std::string("OpenCL kernel build failed on ") + dev.describe() + ": " + error_name(err) + "\n" +
                      build_log(p.get(), dev.id));
  return p;
}

}  // namespace

std::string default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/gst-beautify";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/gst-beautify";
  return {};
}

std::string cache_path(const std::string& cache_dir, const DeviceInfo& dev, const std::string& source,
                       const std::string& options) {
  return cache_dir + "/" + hex(fnv1a(cache_key(dev, source, options))) + ".clbin";
}

BuildResult build_program(cl_context ctx, const DeviceInfo& dev, const std::string& source, const std::string& options,
                          const std::string& cache_dir) {
  auto t0 = std::chrono::steady_clock::now();
  BuildResult r;
  const std::string key = cache_key(dev, source, options);
  const std::string path = cache_dir.empty() ? "" : cache_path(cache_dir, dev, source, options);
  if (!path.empty()) {
    std::vector<unsigned char> bin = read_entry(path, key, r.note);
    if (!bin.empty()) {
      const unsigned char* b = bin.data();
      size_t n = bin.size();
      cl_int status = CL_SUCCESS, err = CL_SUCCESS;
      Program p(clCreateProgramWithBinary(ctx, 1, &dev.id, &n, &b, &status, &err));
      if (err == CL_SUCCESS && status == CL_SUCCESS &&
          clBuildProgram(p.get(), 1, &dev.id, options.c_str(), nullptr, nullptr) == CL_SUCCESS) {
        r.program = std::move(p);
        r.cache_hit = true;
      } else {
        r.note = "cache entry " + path + " was refused by the driver (" + error_name(err != CL_SUCCESS ? err : status) +
                 "): rebuilt";
      }
    }
  }
  if (!r.program) {
    r.program = from_source(ctx, dev, source, options);
    if (!path.empty()) {
      size_t n = 0;
      cl_int err = clGetProgramInfo(r.program.get(), CL_PROGRAM_BINARY_SIZES, sizeof n, &n, nullptr);
      if (err == CL_SUCCESS && n > 0) {
        std::vector<unsigned char> bin(n);
        unsigned char* b = bin.data();
        if (clGetProgramInfo(r.program.get(), CL_PROGRAM_BINARIES, sizeof b, &b, nullptr) == CL_SUCCESS) {
          std::string why;
          write_entry(cache_dir, path, key, bin, why);
          if (!why.empty()) r.note += (r.note.empty() ? "" : "; ") + why;
        }
      }
    }
  }
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace bty::cl
