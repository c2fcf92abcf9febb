// Parses and validates a .bmodel (docs/model-format.md). Every field is checked against the file length and the
// format's rules before use; any violation throws ModelError naming the file and the field.
#include <sys/stat.h>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <zlib.h>

#include "int8_quant.h"
#include "model.h"

namespace bty {
namespace {

constexpr size_t kHeader = 96, kLayer = 32;
constexpr uint32_t kMaxVersion = 3, kEndian = 0x01020304u;
constexpr int kMaxLayers = 256, kMaxChannels = 64, kMaxSize = 4096;
constexpr float kMaxCalibration = 1e6f;  // an activation maximum beyond this is a broken calibration

class Reader {
 public:
  Reader(const uint8_t* d, size_t n, std::string name) : d_(d), n_(n), name_(std::move(name)) {}
  [[noreturn]] void fail(const std::string& what) const { throw ModelError(name_ + ": " + what); }
  uint32_t u32(size_t off, const char* field) const {
    if (off + 4 > n_) fail(std::string("file ends before field '") + field + "'");
    return uint32_t(d_[off]) | uint32_t(d_[off + 1]) << 8 | uint32_t(d_[off + 2]) << 16 | uint32_t(d_[off + 3]) << 24;
  }
  int32_t i32(size_t off, const char* field) const { return int32_t(u32(off, field)); }
  float f32(size_t off, const char* field) const {
    uint32_t u = u32(off, field);
    float f;
    std::memcpy(&f, &u, 4);
    if (!std::isfinite(f)) fail(std::string("field '") + field + "' is not a finite number");
    return f;
  }
  const uint8_t* data() const { return d_; }
  size_t size() const { return n_; }

 private:
  const uint8_t* d_;
  size_t n_;
  std::string name_;
};

std::string layer_field(size_t i, const char* f) {
  std::ostringstream s;
  s << "layer " << i << " " << f;
  return s.str();
}

// The version-2 header fields (offset 80..95; version 1 has zeros there).
void read_v2_fields(const Reader& r, ModelInfo& info) {
  const uint32_t shuffle = r.u32(80, "output_shuffle");
  if (shuffle != 1 && shuffle != 2)
    r.fail("output_shuffle must be 1 or 2 (pixel-shuffle factor of the output head), not " + std::to_string(shuffle));
  info.output_shuffle = int(shuffle);
  struct {
    size_t off;
    const char* field;
    float lo, hi;
    float* out;
  } framing[] = {{84, "crop_width", 0.5f, 4.f, &info.crop_width},
                 {88, "crop_aspect", 0.5f, 3.f, &info.crop_aspect},
                 {92, "crop_nose_offset", -0.5f, 0.5f, &info.crop_nose_offset}};
  for (const auto& f : framing) {
    const float v = r.f32(f.off, f.field);
    if (!(v >= f.lo && v <= f.hi)) {
      std::ostringstream m;
      m << "face framing field '" << f.field << "' is " << v << ", outside " << f.lo << ".." << f.hi;
      r.fail(m.str());
    }
    *f.out = v;
  }
}

std::shared_ptr<const Model> parse(const uint8_t* data, size_t size, const std::string& name, bool check_head) {
  Reader r(data, size, name);
  if (size < 8 || std::memcmp(data, "BTFYMDL\0", 8) != 0)
    r.fail("not a beautify model (bad magic; expected a .bmodel file)");
  if (size < kHeader + 4) r.fail("truncated: " + std::to_string(size) + " bytes is shorter than the header");
  uint32_t endian = r.u32(12, "endian");
  if (endian == 0x04030201u) r.fail("written with the wrong byte order");
  if (endian != kEndian) r.fail("bad endian marker");
  uint32_t version = r.u32(8, "version");
  if (version < 1 || version > kMaxVersion)
    r.fail("unsupported version " + std::to_string(version) + " (this engine reads versions 1 to 3)");
  uint32_t file_size = r.u32(16, "file_size");
  if (file_size != size)
    r.fail("truncated or padded: header says " + std::to_string(file_size) + " bytes, file has " +
           std::to_string(size));
  uint32_t stored_crc = r.u32(size - 4, "checksum");
  if (::crc32_z(0, data, size - 4) != stored_crc) r.fail("checksum mismatch: the file is corrupt");

  auto m = std::make_shared<Model>();
  ModelInfo& info = m->info;
  const char* tier = reinterpret_cast<const char*>(data + 20);
  size_t tier_len = strnlen(tier, 16);
  if (tier_len == 0 || tier_len == 16) r.fail("tier name is empty or not NUL-terminated");
  for (size_t i = 0; i < tier_len; ++i)
    if (tier[i] < 0x21 || tier[i] > 0x7e) r.fail("tier name has a non-printable character");
  info.tier.assign(tier, tier_len);
  info.version = int(version);
  info.input_width = int(r.u32(36, "input_width"));
  info.input_height = int(r.u32(40, "input_height"));
  for (int v : {info.input_width, info.input_height})
    if (v < 8 || v > kMaxSize || v % 8) r.fail("input size must be 8..4096 and a multiple of 8");
  if (r.u32(44, "input_channels") != 3) r.fail("input_channels must be 3");
  uint32_t colour = r.u32(48, "colour");
  if (colour > 1) r.fail("unknown colour space " + std::to_string(colour));
  info.colour = Colour(colour);
  info.input_scale = r.f32(52, "input_scale");
  info.input_bias = r.f32(56, "input_bias");
  const uint32_t kind = r.u32(60, "output_kind");
  if (version == 1 && kind != 0) r.fail("output_kind must be 0 in a version-1 file, not " + std::to_string(kind));
  if (kind > 1) r.fail("unknown output_kind " + std::to_string(kind) + " (0 = one delta, 1 = retouch layers)");
  info.output_kind = OutputKind(kind);
  info.output_scale = r.f32(64, "output_scale");
  uint32_t n_layers = r.u32(68, "layer_count");
  if (n_layers < 1 || n_layers > uint32_t(kMaxLayers)) r.fail("layer_count must be 1..256");
  uint32_t w_off = r.u32(72, "weights_offset"), w_bytes = r.u32(76, "weights_bytes");
  if (version == 1) {
    for (size_t o = 80; o < kHeader; o += 4)
      if (r.u32(o, "reserved") != 0) r.fail("reserved header bytes are not zero");
  } else {
    read_v2_fields(r, info);
  }
  if (w_off != kHeader + n_layers * kLayer) r.fail("weights_offset does not follow the layer table");
  if (uint64_t(w_off) + w_bytes + 4 != size) r.fail("weights_bytes does not match the file size");

  // Layers: check the graph, then the weight ranges.
  std::vector<int>& ch = m->channels;
  ch = {3};
  std::vector<int> down = {1};  // downsampling factor of each tensor relative to the input
  std::vector<int> used(n_layers + 1, 0);
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  m->layers.resize(n_layers);
  for (size_t i = 0; i < n_layers; ++i) {
    size_t base = kHeader + i * kLayer;
    Layer& L = m->layers[i];
    uint32_t op = r.u32(base, "op");
    if (op < 1 || op > 3) r.fail(layer_field(i, "has unknown op ") + std::to_string(op));
    L.op = Op(op);
    L.a = r.i32(base + 4, "input_a");
    L.b = r.i32(base + 8, "input_b");
    L.out_channels = int(r.u32(base + 12, "out_channels"));
    L.stride = int(r.u32(base + 16, "stride"));
    uint32_t act = r.u32(base + 20, "activation");
    uint32_t woff = r.u32(base + 24, "weight_offset");
    // Version 3: a conv's calibration offset (0 = none); before, and for other ops, a reserved zero.
    const uint32_t calib = r.u32(base + 28, version >= 3 ? "calibration_offset" : "reserved");
    if (calib != 0 && (version < 3 || op != uint32_t(Op::Conv)))
      r.fail(layer_field(i, version < 3 ? "reserved field is not zero" : "calibration_offset must be 0 unless a conv"));
    if (L.a < 0 || L.a > int(i)) r.fail(layer_field(i, "input_a refers to a tensor not produced yet"));
    const Op in_op = L.a == 0 ? Op::Conv : m->layers[L.a - 1].op;
    if (L.op == Op::Conv) {
      if (L.b != -1) r.fail(layer_field(i, "conv must have input_b = -1"));
      if (L.out_channels < 1 || L.out_channels > kMaxChannels) r.fail(layer_field(i, "out_channels must be 1..64"));
      if (L.stride != 1 && L.stride != 2) r.fail(layer_field(i, "stride must be 1 or 2"));
      if (act > 2) r.fail(layer_field(i, "has unknown activation"));
      L.act = Act(act);
      if (woff % 4) r.fail(layer_field(i, "weight_offset is not a multiple of 4"));
      uint64_t n = uint64_t(L.out_channels) * ch[L.a] * 9 + L.out_channels;
      if (uint64_t(woff) + n * 4 > w_bytes) r.fail(layer_field(i, "weights lie outside the weight blob"));
      ranges.push_back({woff, uint32_t(woff + n * 4)});
      const uint8_t* p = data + w_off + woff;
      L.weights.resize(size_t(L.out_channels) * ch[L.a] * 9);
      L.bias.resize(L.out_channels);
      std::memcpy(L.weights.data(), p, L.weights.size() * 4);
      std::memcpy(L.bias.data(), p + L.weights.size() * 4, L.bias.size() * 4);
      for (float v : L.weights)
        if (!std::isfinite(v)) r.fail(layer_field(i, "has a weight that is not a finite number"));
      for (float v : L.bias)
        if (!std::isfinite(v)) r.fail(layer_field(i, "has a bias that is not a finite number"));
      if (calib != 0) {  // the input's per-channel maxima on the calibration crops (int8: docs/model-format.md)
        const uint64_t cn = uint64_t(ch[L.a]);
        if (calib % 4) r.fail(layer_field(i, "calibration_offset is not a multiple of 4"));
        if (uint64_t(calib) + cn * 4 > w_bytes) r.fail(layer_field(i, "calibration lies outside the weight blob"));
        ranges.push_back({calib, uint32_t(calib + cn * 4)});
        L.input_max.resize(size_t(cn));
        std::memcpy(L.input_max.data(), data + w_off + calib, cn * 4);
        for (float v : L.input_max)
          if (!(std::isfinite(v) && v >= 0.f && v <= kMaxCalibration))
            r.fail(layer_field(i, "has a calibration maximum that is negative, huge or not a finite number"));
      }
      if (L.stride == 2) {
        if (down[L.a] > kMaxSize / 2) r.fail(layer_field(i, "downsamples the input below 1 pixel"));
        down.push_back(down[L.a] * 2);
      } else {
        down.push_back(down[L.a]);
      }
      ch.push_back(L.out_channels);
    } else {
      if (L.stride != 1 || act != 0 || woff != 0)
        r.fail(layer_field(i, "stride/activation/weight_offset must be 1/0/0"));
      if (L.op == Op::Upsample) {
        if (L.b != -1) r.fail(layer_field(i, "upsample must have input_b = -1"));
        if (in_op != Op::Conv) r.fail(layer_field(i, "upsample input must be the net input or a conv output"));
        if (down[L.a] % 2) r.fail(layer_field(i, "upsamples above the input resolution"));
        if (L.out_channels != ch[L.a]) r.fail(layer_field(i, "upsample out_channels must equal its input's"));
        down.push_back(down[L.a] / 2);
        ch.push_back(ch[L.a]);
      } else {
        if (L.b < 0 || L.b > int(i)) r.fail(layer_field(i, "input_b refers to a tensor not produced yet"));
        if (down[L.a] != down[L.b]) r.fail(layer_field(i, "concat inputs have different resolutions"));
        if (L.out_channels != ch[L.a] + ch[L.b] || L.out_channels > kMaxChannels)
          r.fail(layer_field(i, "concat out_channels must be the sum of its inputs' and at most 64"));
        used[L.b]++;
        down.push_back(down[L.a]);
        ch.push_back(L.out_channels);
      }
    }
    used[L.a]++;
  }
  for (size_t i = 0; i < n_layers; ++i) {
    const Layer& L = m->layers[i];
    for (int in : {L.a, L.b}) {
      if (in <= 0) continue;
      Op pop = m->layers[in - 1].op;
      if (pop == Op::Upsample && L.op == Op::Upsample) r.fail(layer_field(i, "reads an upsample with an upsample"));
      if (pop == Op::Concat && L.op == Op::Upsample) r.fail(layer_field(i, "upsamples a concat"));
    }
  }
  const Layer& last = m->layers.back();
  if (last.op != Op::Conv) r.fail("the last layer (the output head) must be a conv");
  if (used[n_layers] != 0) r.fail("the output head is read by another layer");
  for (size_t t = 0; t < n_layers; ++t)
    if (used[t] == 0)
      r.fail(t == 0 ? std::string("the net input is never read") : layer_field(t - 1, "output is never used"));
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) r.fail("conv weight or calibration ranges overlap");

  int maxdown = 1;
  for (int d : down) maxdown = std::max(maxdown, d);
  m->down_factor = maxdown;
  if (info.input_width % maxdown || info.input_height % maxdown)
    r.fail("input size is not a multiple of the net's downsampling factor " + std::to_string(maxdown));
  Plan p = make_plan(*m, info.input_width, info.input_height);
  info.output_width = p.width[p.output_tensor];
  info.output_height = p.height[p.output_tensor];
  info.output_channels = p.channels[p.output_tensor];
  info.int8_on_grid = true;
  for (const ConvStep& s : p.steps) {
    info.macs += conv_macs(p, s);
    if (!s.input_max || !s.input_nonneg) continue;  // int8_applies (kernels.h), without the kernel header
    ++info.int8_convs;
    info.int8_on_grid = info.int8_on_grid && int8_weights_on_grid(s, quantise_int8(s));
  }
  info.int8_on_grid = info.int8_on_grid && info.int8_convs > 0;
  const int want = output_maps(info.output_kind) * info.output_shuffle * info.output_shuffle;
  if (check_head && info.output_channels != want)
    r.fail("the output head has " + std::to_string(info.output_channels) + " channels; output_kind " +
           std::to_string(kind) + " with output_shuffle " + std::to_string(info.output_shuffle) + " needs " +
           std::to_string(want) + " (" + std::to_string(output_maps(info.output_kind)) + " maps x " +
           std::to_string(info.output_shuffle) + "^2)");
  return m;
}

}  // namespace

std::shared_ptr<const Model> parse_model(const uint8_t* data, size_t size, const std::string& name) {
  return parse(data, size, name, true);
}

std::shared_ptr<const Model> parse_model_any_head(const uint8_t* data, size_t size, const std::string& name) {
  return parse(data, size, name, false);
}

uint64_t check_model_file(const std::string& path) {
  using K = ModelError::Kind;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ENOTDIR)
      throw ModelError(K::NotFound, path + ": no such model file (check the path; models are *.bmodel files)");
    throw ModelError(K::Unreadable, path + ": cannot access the model file: " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    const char* what = S_ISDIR(st.st_mode)                          ? "a directory"
                       : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                       : S_ISSOCK(st.st_mode)                       ? "a socket"
                                                                    : "not a plain file";
    throw ModelError(K::NotRegularFile, path + ": not a regular file (it is " + what + "); point it at a .bmodel file");
  }
  if (uint64_t(st.st_size) > kMaxModelBytes)
    throw ModelError(K::TooLarge, path + ": " + std::to_string(uint64_t(st.st_size)) +
                                      " bytes, larger than any beauty "
                                      "model (at most " +
                                      std::to_string(kMaxModelBytes >> 20) + " MiB): not a .bmodel file");
  return uint64_t(st.st_size);
}

std::shared_ptr<const Model> load_model(const std::string& path) {
  using K = ModelError::Kind;
  // Type and size from stat() first: a directory, FIFO, device or a huge file is refused before any read.
  const uint64_t size = check_model_file(path);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ModelError(K::Unreadable, path + ": cannot open the model file (is it readable?)");
  std::vector<uint8_t> bytes(size);
  f.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size));
  if (f.gcount() != std::streamsize(size) || f.peek() != std::ifstream::traits_type::eof())
    throw ModelError(K::Unreadable, path + ": the model file changed size while being read");
  return parse_model(bytes.data(), bytes.size(), path);
}

const ModelInfo& info(const Model& m) { return m.info; }

}  // namespace bty
