#include "obs_frame.h"

#include <cmath>

namespace bty::obs {
namespace {

// OBS gives the frame's YUV->RGB matrix, not its colour space: pick the one of BT.601/BT.709 whose matrix (for the
// frame's range) it is closest to. Everything else OBS can send in 8 bits is one of these two.
YuvMatrix matrix_of(const obs_source_frame& f) {
  const video_range_type range = f.full_range ? VIDEO_RANGE_FULL : VIDEO_RANGE_PARTIAL;
  float best = INFINITY;
  YuvMatrix out = YuvMatrix::BT709;
  for (auto [cs, m] : {std::pair{VIDEO_CS_601, YuvMatrix::BT601}, std::pair{VIDEO_CS_709, YuvMatrix::BT709}}) {
    float mat[16], lo[3], hi[3];
    if (!video_format_get_parameters_for_format(cs, range, f.format, mat, lo, hi)) continue;
    float d = 0;
    for (int i = 0; i < 16; ++i) d += std::fabs(mat[i] - f.color_matrix[i]);
    if (d < best) best = d, out = m;
  }
  return out;
}

}  // namespace

bool to_blend_frame(const obs_source_frame& in, blend::Frame& out, const char*& why) {
  int planes = 1;
  switch (in.format) {
    case VIDEO_FORMAT_I420: out.format = PixelFormat::I420, planes = 3; break;
    case VIDEO_FORMAT_I40A: out.format = PixelFormat::I420, planes = 3; break;  // the alpha plane is left alone
    case VIDEO_FORMAT_NV12: out.format = PixelFormat::NV12, planes = 2; break;
    // Packed 4:2:2, one plane: what most webcams send by default.
    case VIDEO_FORMAT_YUY2: out.format = PixelFormat::YUY2; break;
    case VIDEO_FORMAT_UYVY: out.format = PixelFormat::UYVY; break;
    case VIDEO_FORMAT_YVYU: out.format = PixelFormat::YVYU; break;
    case VIDEO_FORMAT_RGBA: out.format = PixelFormat::RGBA; break;
    case VIDEO_FORMAT_BGRA: out.format = PixelFormat::BGRA; break;
    case VIDEO_FORMAT_BGRX: out.format = PixelFormat::BGRx; break;
    case VIDEO_FORMAT_BGR3: out.format = PixelFormat::BGR; break;
    default:
      why =
          "this frame format is not retouched (supported: I420, NV12, YUY2, UYVY, YVYU, RGBA, BGRA, BGRX, BGR3); "
          "for a video capture device set Video Format to I420, NV12 or YUY2 (or an RGB format) in the source's "
          "properties";
      return false;
  }
  if (in.flip) {
    why = "upside-down (flipped) frames are not retouched";
    return false;
  }
  out.width = int(in.width);
  out.height = int(in.height);
  out.full_range = in.full_range;
  out.matrix = blend::is_yuv(out.format) ? matrix_of(in) : YuvMatrix::BT709;
  for (int i = 0; i < 3; ++i) {
    out.plane[i] = i < planes ? in.data[i] : nullptr;
    out.stride[i] = i < planes ? int(in.linesize[i]) : 0;
  }
  return true;
}

}  // namespace bty::obs
