// Public API of the beauty-net inference engine. No GStreamer, no dlib: the element, the tests, the benchmarks and
// the standalone tools all go through this header.
#pragma once

#include "error.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace bty {

// Every load/validation failure. what() names the file and the field that is wrong; kind() says which failure it
// is (NotFound, NotRegularFile, TooLarge, Unreadable, Invalid, Unsupported), so callers decide on the type, never on
// the message text.
class ModelError : public Error {
 public:
  using Kind = ErrorKind;
  ModelError(Kind kind, const std::string& what) : Error(kind, what) {}
  explicit ModelError(const std::string& what) : ModelError(Kind::Invalid, what) {}
};
// The largest .bmodel accepted (bytes): far above any tier's net, far below what would hurt to read.
constexpr uint64_t kMaxModelBytes = 64u << 20;
// Throws ModelError (NotFound, NotRegularFile, TooLarge, Unreadable) unless `path` is a regular, readable file of at
// most kMaxModelBytes; returns its size. stat() only: nothing is read.
uint64_t check_model_file(const std::string& path);

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
  int64_t macs = 0;    // direct-convolution multiply-accumulates at the model's input size
  int int8_convs = 0;  // convs Precision::Int8 runs in 8 bits (calibrated, ReLU inputs; version 3)
  // Those convs' weights lie on their int8 grid (quantisation-aware training, models/beautynet/train.py --qat): int8
  // multiplies the same weights as fp32 and rounds only the activations. The element's precision=auto takes int8
  // only for such a file (issue 9's quality bound is measured on them; calibration alone moves the output more).
  bool int8_on_grid = false;
};
class Model;
std::shared_ptr<const Model> load_model(const std::string& path);
std::shared_ptr<const Model> parse_model(const uint8_t* data, size_t size, const std::string& name);
const ModelInfo& info(const Model& m);

// 8-bit images the input preparation reads directly (no whole-frame conversion).
enum class PixelFormat {
  I420,
  YV12,
  NV12,
  NV21,  // planar / semi-planar Y'CbCr 4:2:0
  YUY2,
  UYVY,
  YVYU,  // packed Y'CbCr 4:2:2 (one plane, 2 pixels in 4 bytes)
  RGBA,
  BGRA,
  RGBx,
  BGRx,
  ARGB,
  ABGR,
  xRGB,
  xBGR,
  RGB,
  BGR,
  GRAY8,
};
enum class YuvMatrix { BT601, BT709 };
struct ImageView {
  PixelFormat format = PixelFormat::RGB;
  int width = 0, height = 0;
  YuvMatrix matrix = YuvMatrix::BT709;  // YUV formats only
  bool full_range = false;              // YUV formats only: 0..255 instead of 16..235/240
  const uint8_t* plane[3] = {nullptr, nullptr, nullptr};
  int stride[3] = {0, 0, 0};
};
bool is_yuv(PixelFormat f);  // the Y'CbCr formats: I420, YV12, NV12, NV21, YUY2, UYVY, YVYU
// Where a Y'CbCr format keeps its samples. Luma of pixel x, row y: plane[0] + y*stride[0] + x*luma_step +
// luma_offset. Chroma covers 2 columns always and 2 rows (4:2:0) or 1 (4:2:2): sample (cx, cy) of Cb at
// plane[cb_plane] + cy*stride[cb_plane] + cx*chroma_step + cb_offset, Cr likewise.
struct YuvLayout {
  int luma_step = 1, luma_offset = 0;
  int chroma_rows = 2;  // luma rows per chroma row
  int cb_plane = 1, cr_plane = 2, chroma_step = 1, cb_offset = 0, cr_offset = 0;
};
YuvLayout yuv_layout(PixelFormat f);  // is_yuv(f) only
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
enum class Device {
  Cpu,     // the chosen CPU executor
  OpenCL,  // the OpenCL executor on the first GPU (any OpenCL device when there is no GPU, e.g. PoCL)
  Auto,    // OpenCL when a GPU is present and a micro-benchmark says it is faster than the CPU (pick_device)
};
const char* to_string(Executor e);
const char* to_string(Isa i);
const char* to_string(Device d);
Isa best_isa();  // what CPUID allows on this machine

// Every OpenCL failure (no ICD loader or platform, no device, kernel build error, out of resources, lost device).
// what() says which call failed and why; callers fall back to Device::Cpu.
class DeviceError : public Error {
 public:
  explicit DeviceError(const std::string& what) : Error(ErrorKind::Device, what) {}
};

// How the OpenCL kernels read their inputs: each work-group stages its input patch in local memory, or every tap
// reads global memory through the caches. Auto: Local on GPUs; Global on CPU devices (PoCL), whose local memory is
// emulated (measured 3.5x slower there, docs/engine.md).
enum class ClReads { Auto, Local, Global };
const char* to_string(ClReads r);

// Precision of the OpenCL executor's output download: Float (exact: what the executor tests compare with the
// reference) or Half (the head stored as half on the device, half the bytes over the bus; relative error <= 2^-11 of
// each value, far below one 8-bit code value after output_scale). kBlendClOutput is what a consumer that blends into
// 8-bit pixels (the element, the bench's rows) asks for.
enum class ClOutput { Float, Half };
constexpr ClOutput kBlendClOutput = ClOutput::Half;
const char* to_string(ClOutput p);
// IEEE half -> float of n values (F16C where the CPU has it; exact): for consumers of Net::output_half that read
// the head a row at a time.
void half_to_float(const uint16_t* in, float* out, size_t n);

// How the pipeline executor stores its intermediate tile-rows (the rings): Float, or Half (IEEE binary16 through
// F16C: half the bytes; every row a step reads is converted back to float for the kernels, all arithmetic stays
// fp32, the output is read back unrounded). Half changes values by <= 2^-11 relative per stored activation
// (docs/engine.md, "Reduced precision"). Other executors ignore it (they report Float).
enum class RingStorage { Auto, Float, Half };
const char* to_string(RingStorage r);
// What Auto means: Float. Half rings held the quality bound on the shipped tiers but ran 5-15 % slower on the
// machine they were measured on (2 MiB L2: the float rings of S, M and L fit or spill alike; docs/engine.md).
constexpr RingStorage kAutoRings = RingStorage::Float;

// Arithmetic of the CPU convs (Layered and Pipeline executors): Float32, or Bf16: the convs where it pays multiply
// bf16 operands (activations and weights rounded to bf16; fp32 accumulation, bias and activation; storage stays
// fp32) on AMX-BF16 tiles where the OS grants them, else with AVX512-BF16 dot products (vdpbf16ps); the others stay
// fp32 (docs/engine.md, "Reduced precision"). Bf16 on a CPU (or Isa) without AVX512_BF16 is an error
// (bf16_available() says beforehand). Int8: the convs whose model carries an int8 calibration (format version 3)
// and whose inputs are ReLU outputs multiply unsigned 8-bit activations (quantised per input channel from the
// calibrated maxima) by signed 8-bit weights (per output channel) with AVX512-VNNI dot products (vpdpbusd, int32
// sums; bias and activation fp32); the others run as with Bf16 where the CPU has AVX512_BF16 without AMX, else
// fp32. Int8 without AVX512_VNNI is an error (int8_available()). The reference executor and OpenCL ignore both.
enum class Precision { Auto, Float32, Bf16, Int8 };
const char* to_string(Precision p);
// What Auto means: Float32 (docs/engine.md has the measurement that decides it).
constexpr Precision kAutoPrecision = Precision::Float32;
// AVX512_BF16 (and AVX512BW) with the AVX-512 state enabled: Precision::Bf16 can run here.
bool bf16_available();
// Whether Precision::Bf16 pays here, for the element's precision=auto: bf16 available on the level Isa::Auto picks
// (BTY_ISA may cap it below AVX-512), and bf16 products faster than fp32 ones: AMX tiles, or a vdpbf16ps peak over
// 1.5x the zmm FMA peak (Zen 4: 2x; Intel cores without AMX: 0.5x, where bf16 would only lose precision). The two
// peaks are measured once per process (~20 ms).
bool bf16_pays();
// And AMX-BF16 tiles granted by the OS: Precision::Bf16 runs its convs on AMX.
bool amx_bf16_available();
// AVX512_VNNI (and AVX512BW) with the AVX-512 state enabled: Precision::Int8 can run here.
bool int8_available();
// Whether Precision::Int8 pays here, for the element's precision=auto (with a model whose weights lie on their int8
// grid, ModelInfo::int8_on_grid): int8 available on the level Isa::Auto picks, no AMX-BF16 (not compared), and a
// VNNI peak over 1.5x that of what auto runs otherwise (bf16 dot products where bf16_pays(), else FMAs; Zen 4: 2x).
bool int8_pays();

struct NetOptions {
  static constexpr int kMaxThreads = 64;
  static constexpr int kMaxSide = 8192;  // largest net input width or height
  static constexpr size_t kMinSegmentBytes = 16 * 1024;

  Executor executor = Executor::Pipeline;
  int threads = 1;      // 1..kMaxThreads
  Isa isa = Isa::Auto;  // a request above best_isa() is an error
  int width = 0;        // net input size; 0 = the model's own
  int height = 0;
  size_t segment_bytes = 512 * 1024;  // per-thread working-set budget of the pipeline, >= kMinSegmentBytes
  bool winograd = true;  // allow Winograd F(2x2,3x3) where the CPU level finds it pays (docs/engine.md, conv kinds)
  Device device = Device::Cpu;
  int batch = 1;  // input slots (faces run together by run(count)), 1..64
  // OpenCL program-binary cache folder; empty = $XDG_CACHE_HOME/gst-beautify (~/.cache/gst-beautify), "-" = none.
  std::string cl_cache_dir;
  ClReads cl_reads = ClReads::Auto;
  // OpenCL: a profiling event per kernel, so layer_seconds() has every conv's kernel time (costs ~1 us a kernel on
  // the host; off by default).
  bool cl_layer_times = false;
  ClOutput cl_output = ClOutput::Float;
  // OpenCL: run() submits what it has queued (clFlush) after every cl_flush_every-th conv kernel from the first (0:
  // none, clFinish submits all), so the device starts while the host still queues the rest. Each flush is a driver
  // call; which spacing pays is the driver's (docs/engine.md, "Transfers and batching").
  int cl_flush_every = 4;
  // OpenCL: run(count) splits its faces into this many parts, each gathered, uploaded and run in turn with the
  // transfers on a second queue, so one part's upload and download overlap another's kernels (0 = auto: 2 parts on a
  // GPU for kMinChunkedFaces faces or more, else 1; at most count parts).
  static constexpr int kMinChunkedFaces = 8;
  int cl_chunks = 0;
  // OpenCL, a batch in parts: the compute queues the parts' kernels alternate over (1 or 2; with 2 one part's convs
  // may run beside another's on the device: L x 16 on the H200 1.53 -> 1.48 ms, docs/benchmarks.md "sixth run").
  int cl_part_queues = 2;
  RingStorage rings = RingStorage::Auto;
  Precision precision = Precision::Auto;
};

// Wall-time split of the last run() (OpenCL: from profiling events; CPU: all in kernels_ms).
struct RunTimes {
  double upload_ms = 0;    // input slots host -> device (set_input_planar's floats, run()'s gathered bytes)
  double kernels_ms = 0;   // first kernel start to last kernel end
  double download_ms = 0;  // outputs device -> host
  double wall_ms = 0;      // host clock of run(), including waiting for the uploads
  // OpenCL, the last run(), host clock summed over its parts (NetOptions::cl_chunks): copying the image slots' tapped
  // 8-bit bytes into pinned staging (a part's faces at once over NetOptions::threads), queueing their upload
  // (clEnqueueWriteBufferRect and its clFlush), then queueing the kernels and the download (driver API calls, with
  // the cl_flush_every flushes); the rest of wall_ms is waiting for the device.
  double gather_ms = 0, upload_enqueue_ms = 0, enqueue_ms = 0;
  int chunks = 1;                 // OpenCL, the last run(): the parts it ran (NetOptions::cl_chunks, auto resolved)
  bool binary_cache_hit = false;  // OpenCL: the program came from the binary cache (set at construction)
  double build_ms = 0;            // OpenCL: program build or cache load at construction
  std::string cache_note;         // OpenCL: why a cache entry was rebuilt or not written (empty: all went well)
  // OpenCL construction, the other parts (set once): device discovery (clGetPlatformIDs, clGetDeviceIDs and the
  // device queries), clCreateContext + clCreateCommandQueue (the driver's context creation), and buffers, weight
  // uploads and kernel objects after the program.
  double platform_ms = 0, context_ms = 0, setup_ms = 0;
  // OpenCL, the last run(): bytes moved host -> device (inputs: 8-bit gathered or floats) and device -> host.
  size_t upload_bytes = 0, download_bytes = 0;
};

// A runnable instance of a model at one input size. Not thread-safe; use one per thread or guard it.
class Net {
 public:
  Net(std::shared_ptr<const Model> model, const NetOptions& options);
  ~Net();
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  // Bilinear-resamples `roi` of `image` (clamped at the image edges) to the net input, converts the colour and
  // normalises it, in one pass, into input slot `slot` (0..batch-1). Read during run(), so `image` must stay valid
  // until then. OpenCL: run() builds the taps and gathers the 8-bit bytes the resampling reads, the faces of a part
  // (NetOptions::cl_chunks) at once over NetOptions::threads, uploads them in one transfer per part, and a kernel
  // resamples and converts them on the device.
  void set_input(const ImageView& image, const Rect& roi, int slot = 0);
  // Raw normalised input, planar CHW floats at the net's input size (tests and the PyTorch comparison).
  void set_input_planar(const float* chw, int slot = 0);
  // Runs slots 0..count-1 (OpenCL: as one batch).
  void run(int count = 1);
  // Output of a slot as planar CHW floats (output_channels × output_height × output_width), before output_scale.
  const std::vector<float>& output(int slot = 0) const;
  // The same without a copy (OpenCL: the pinned memory the download wrote, or with ClOutput::Half its conversion to
  // float, a pass over the whole head done here on the first call per slot; valid until the next run()).
  const float* output_data(int slot = 0) const;
  // OpenCL with ClOutput::Half: the head as the download wrote it (IEEE half, planar CHW; valid until the next run()),
  // for a consumer that converts only the rows it reads, when it reads them; nullptr otherwise.
  const uint16_t* output_half(int slot = 0) const;
  // Moves a slot's output into `v` (CPU: a swap, no copy; the next run() writes into v's old storage. OpenCL: a
  // copy): for callers that keep several faces' outputs while the net runs the next.
  void take_output(std::vector<float>& v, int slot = 0);
  size_t output_size() const;  // floats per slot
  const RunTimes& last_times() const;
  int batch() const;
  Device device() const;            // Cpu or OpenCL (never Auto)
  std::string device_name() const;  // "cpu" or the OpenCL device and driver
  ClReads cl_reads() const;         // OpenCL: Local or Global (what Auto chose); CPU: Auto

  int input_width() const;
  int input_height() const;
  int output_width() const;
  int output_height() const;
  int output_channels() const;
  Isa isa() const;
  Executor executor() const;
  RingStorage rings() const;    // the pipeline's ring storage (what Auto chose); Float for the other executors
  Precision precision() const;  // what Auto chose; Float32 for the reference and OpenCL executors
  // Peak bytes of intermediate feature-map storage this executor holds (rings or whole maps, all threads).
  size_t working_set_bytes() const;
  // Per conv layer, seconds spent in the last run() (Layered executor, and OpenCL with cl_layer_times: the kernel's
  // profiled time for the whole batch; others return an empty vector).
  const std::vector<double>& layer_seconds() const;
  // Per conv layer, the CPU kernel kind it runs: "direct", "winograd", "pixels", "amx-bf16", "pixels-bf16" or
  // "pixels-int8" (docs/engine.md, "Conv kinds"); empty for the reference and OpenCL executors.
  std::vector<std::string> layer_kinds() const;
  // Per conv layer, direct-convolution MACs at this net's input size (same order as layer_seconds()).
  const std::vector<int64_t>& layer_macs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Device::Auto's choice for a model: OpenCL when a GPU device is present and one face's wall time on it (after
// warm-up, fastest of a few) beats the CPU executor of `cpu`; `why` says what was measured or missing.
Device pick_device(const std::shared_ptr<const Model>& model, const NetOptions& cpu, std::string* why = nullptr);
// Whether this build has the OpenCL executor and a platform with at least one (GPU if gpu_only) device answers.
bool opencl_available(bool gpu_only, std::string* why = nullptr);

}  // namespace bty
