// Public API of the beauty-net inference engine. No GStreamer, no dlib: the element, the tests, the benchmarks and
// the standalone tools all go through this header.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace bty {

// Every load/validation failure. what() names the file and the field that is wrong.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Colour : uint32_t { RGB = 0, YCbCr = 1 };

// What the output head means (docs/model-format.md, `output_kind`).
enum class OutputKind : uint32_t {
  Delta = 0,   // one RGB/YCbCr delta: 3 maps (version-1 files are all this kind)
  Layers = 1,  // retouch layers: 7 maps, see the kLayer* channel indices below
};
// Logical maps of an output kind: 3 (Delta) or 7 (Layers). The head has that many x output_shuffle^2 channels.
inline int output_maps(OutputKind k) { return k == OutputKind::Layers ? 7 : 3; }
// OutputKind::Layers, after the pixel shuffle: maps 0..2 blemish delta, 3..5 tone-evening delta (both x
// output_scale = 8-bit units, the tone delta applies on top of the blemish delta), 6 blemish alpha = (raw + 1) / 2.
constexpr int kLayerBlemish = 0, kLayerTone = 3, kLayerAlpha = 6;

// A validated model (docs/model-format.md). Immutable; share it between nets and threads.
// The defaults of output_kind, output_shuffle and crop_* are what a version-1 file means (the only place they are
// written down): one delta, no pixel shuffle, the face framing the v1 nets were trained with.
struct ModelInfo {
  std::string tier;
  int version = 0;  // of the file
  int input_width = 0, input_height = 0;
  Colour colour = Colour::RGB;
  float input_scale = 1, input_bias = 0, output_scale = 1;
  OutputKind output_kind = OutputKind::Delta;
  // Pixel shuffle (depth to space, PyTorch's F.pixel_shuffle order) from the head to the logical maps: map c at
  // pixel (s*y + dy, s*x + dx) = head channel c*s*s + dy*s + dx at (y, x). 1 or 2.
  int output_shuffle = 1;
  // Face framing of the net input: width = crop_width jaw widths, height = crop_aspect x width, the nose tip
  // (landmark 30) crop_nose_offset x height below the crop centre (models/beautynet/arch.py).
  float crop_width = 1.45f, crop_aspect = 1.25f, crop_nose_offset = 0.069f;
  int output_width = 0, output_height = 0, output_channels = 0;  // the raw head tensor (Net::output())
  int64_t macs = 0;  // direct-convolution multiply-accumulates at the model's input size
};
class Model;
std::shared_ptr<const Model> load_model(const std::string& path);
std::shared_ptr<const Model> parse_model(const uint8_t* data, size_t size, const std::string& name);
const ModelInfo& info(const Model& m);

// 8-bit images the input preparation reads directly (no whole-frame conversion).
enum class PixelFormat { I420, YV12, NV12, NV21, RGBA, BGRA, RGBx, BGRx, ARGB, ABGR, xRGB, xBGR, RGB, BGR, GRAY8 };
enum class YuvMatrix { BT601, BT709 };
struct ImageView {
  PixelFormat format = PixelFormat::RGB;
  int width = 0, height = 0;
  YuvMatrix matrix = YuvMatrix::BT709;  // YUV formats only
  bool full_range = false;              // YUV formats only: 0..255 instead of 16..235/240
  const uint8_t* plane[3] = {nullptr, nullptr, nullptr};
  int stride[3] = {0, 0, 0};
};
bool is_yuv(PixelFormat f);  // I420, YV12, NV12, NV21
// Byte offsets of R, G, B inside one packed pixel and the pixel size (packed RGB formats; GRAY8: 0, 0, 0, 1).
void packed_layout(PixelFormat f, int& r, int& g, int& b, int& bytes_per_pixel);

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
};

enum class Executor {
  Reference,  // scalar, planar, layer by layer: the oracle
  Layered,    // SIMD kernels on whole TILE feature maps, layer by layer
  Pipeline,   // SIMD kernels, tile-row super-pipeline with ring buffers and Segments
};
enum class Isa { Auto, Scalar, Avx2, Avx512 };  // Avx512: AVX-512F+VL (ymm kernels with 32 registers)
const char* to_string(Executor e);
const char* to_string(Isa i);
Isa best_isa();  // what CPUID allows on this machine

struct NetOptions {
  Executor executor = Executor::Pipeline;
  int threads = 1;      // 1..64
  Isa isa = Isa::Auto;  // a request above best_isa() is an error
  int width = 0;        // net input size; 0 = the model's own
  int height = 0;
  size_t segment_bytes = 512 * 1024;  // per-thread working-set budget of the pipeline
  bool winograd = true;  // allow Winograd F(2x2,3x3) where the CPU level finds it pays (docs/engine.md, conv kinds)
};

// A runnable instance of a model at one input size. Not thread-safe; use one per thread or guard it.
class Net {
 public:
  Net(std::shared_ptr<const Model> model, const NetOptions& options);
  ~Net();
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  // Bilinear-resamples `roi` of `image` (clamped at the image edges) to the net input, converts the colour and
  // normalises it, in one pass, into the input tensor.
  void set_input(const ImageView& image, const Rect& roi);
  // Raw normalised input, planar CHW floats at the net's input size (tests and the PyTorch comparison).
  void set_input_planar(const float* chw);
  void run();
  // Output as planar CHW floats (output_channels × output_height × output_width), before output_scale.
  const std::vector<float>& output() const;

  int input_width() const;
  int input_height() const;
  int output_width() const;
  int output_height() const;
  int output_channels() const;
  Isa isa() const;
  Executor executor() const;
  // Peak bytes of intermediate feature-map storage this executor holds (rings or whole maps, all threads).
  size_t working_set_bytes() const;
  // Per conv layer, seconds spent in the last run() (Layered executor only; others return an empty vector).
  const std::vector<double>& layer_seconds() const;
  // Per conv layer, direct-convolution MACs at this net's input size (same order as layer_seconds()).
  const std::vector<int64_t>& layer_macs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bty
