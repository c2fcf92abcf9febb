// OBS frames as the blend's frames (obs/obs_frame.cpp): same planes and strides, the colour matrix recognised from
// the frame's own YUV->RGB matrix, packed 4:2:2 as one plane, unsupported formats and flipped frames refused with a
// reason.
#include "obs_frame.h"

#include <gtest/gtest.h>

namespace {

obs_source_frame yuv_frame(video_format fmt, video_colorspace cs, bool full) {
  obs_source_frame f = {};
  f.format = fmt;
  f.width = 64, f.height = 32;
  f.full_range = full;
  float lo[3], hi[3];
  video_format_get_parameters_for_format(cs, full ? VIDEO_RANGE_FULL : VIDEO_RANGE_PARTIAL, fmt, f.color_matrix, lo,
                                         hi);
  static uint8_t buf[3][64 * 32];
  for (int i = 0; i < 3; ++i) f.data[i] = buf[i], f.linesize[i] = i ? 32 : 64;
  return f;
}

TEST(ObsFrame, I420KeepsPlanesAndFindsTheMatrix) {
  for (auto [cs, want] :
       {std::pair{VIDEO_CS_601, bty::YuvMatrix::BT601}, std::pair{VIDEO_CS_709, bty::YuvMatrix::BT709}})
    for (bool full : {false, true}) {
      obs_source_frame in = yuv_frame(VIDEO_FORMAT_I420, cs, full);
      bty::blend::Frame out;
      const char* why = nullptr;
      ASSERT_TRUE(bty::obs::to_blend_frame(in, out, why));
      EXPECT_EQ(out.format, bty::PixelFormat::I420);
      EXPECT_EQ(out.matrix, want) << "colour space " << int(cs) << " full " << full;
      EXPECT_EQ(out.full_range, full);
      EXPECT_EQ(out.width, 64);
      EXPECT_EQ(out.height, 32);
      for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(out.plane[i], in.data[i]);
        EXPECT_EQ(out.stride[i], int(in.linesize[i]));
      }
    }
}

TEST(ObsFrame, Nv12AndPackedRgb) {
  obs_source_frame nv12 = yuv_frame(VIDEO_FORMAT_NV12, VIDEO_CS_709, false);
  bty::blend::Frame out;
  const char* why = nullptr;
  ASSERT_TRUE(bty::obs::to_blend_frame(nv12, out, why));
  EXPECT_EQ(out.format, bty::PixelFormat::NV12);
  EXPECT_EQ(out.plane[2], nullptr);
  for (auto [fmt, want] :
       {std::pair{VIDEO_FORMAT_BGRA, bty::PixelFormat::BGRA}, std::pair{VIDEO_FORMAT_RGBA, bty::PixelFormat::RGBA},
        std::pair{VIDEO_FORMAT_BGRX, bty::PixelFormat::BGRx}, std::pair{VIDEO_FORMAT_BGR3, bty::PixelFormat::BGR}}) {
    obs_source_frame f = yuv_frame(VIDEO_FORMAT_I420, VIDEO_CS_709, false);
    f.format = fmt;
    ASSERT_TRUE(bty::obs::to_blend_frame(f, out, why));
    EXPECT_EQ(out.format, want);
    EXPECT_EQ(out.plane[1], nullptr);
  }
}

TEST(ObsFrame, Packed422IsOnePlane) {
  for (auto [fmt, want] :
       {std::pair{VIDEO_FORMAT_YUY2, bty::PixelFormat::YUY2}, std::pair{VIDEO_FORMAT_UYVY, bty::PixelFormat::UYVY},
        std::pair{VIDEO_FORMAT_YVYU, bty::PixelFormat::YVYU}})
    for (bool full : {false, true}) {
      obs_source_frame in = yuv_frame(fmt, VIDEO_CS_601, full);
      in.linesize[0] = 128;  // 2 bytes a pixel
      bty::blend::Frame out;
      const char* why = nullptr;
      ASSERT_TRUE(bty::obs::to_blend_frame(in, out, why)) << why;
      EXPECT_EQ(out.format, want);
      EXPECT_EQ(out.matrix, bty::YuvMatrix::BT601);
      EXPECT_EQ(out.full_range, full);
      EXPECT_EQ(out.plane[0], in.data[0]);
      EXPECT_EQ(out.stride[0], 128);
      EXPECT_EQ(out.plane[1], nullptr);
      EXPECT_EQ(out.plane[2], nullptr);
    }
}

TEST(ObsFrame, RefusesWhatTheBlendCannotWriteWithAReason) {
  for (video_format fmt : {VIDEO_FORMAT_I422, VIDEO_FORMAT_I444, VIDEO_FORMAT_Y800, VIDEO_FORMAT_P010}) {
    obs_source_frame f = yuv_frame(VIDEO_FORMAT_I420, VIDEO_CS_709, false);
    f.format = fmt;
    bty::blend::Frame out;
    const char* why = nullptr;
    EXPECT_FALSE(bty::obs::to_blend_frame(f, out, why));
    ASSERT_NE(why, nullptr);
    EXPECT_NE(std::string(why).find("I420, NV12 or YUY2"), std::string::npos);
  }
  obs_source_frame flipped = yuv_frame(VIDEO_FORMAT_I420, VIDEO_CS_709, false);
  flipped.flip = true;
  bty::blend::Frame out;
  const char* why = nullptr;
  EXPECT_FALSE(bty::obs::to_blend_frame(flipped, out, why));
  EXPECT_NE(std::string(why).find("flipped"), std::string::npos);
}

}  // namespace
