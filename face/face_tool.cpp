// face-tool: runs the face stage on images or a raw clip and writes landmarks, masks and overlays.
//   face-tool [opts] IMAGE...          OUT/<stem>.json, <stem>_mask.png (frame size), <stem>_overlay.png
//   face-tool --crops [opts] IMAGE...  per face k: OUT/<stem>_f<k>.json (ROI, landmarks in frame and ROI px),
//                                      <stem>_f<k>_crop.png (RGB at the ROI), <stem>_f<k>_mask.png (ROI size),
//                                      <stem>_f<k>_overlay.png (overlay at the ROI, for checking)
//   face-tool --raw WxH [--format gray|i420] [--overlay-every K] CLIP
//                                      OUT/<stem>_landmarks.json (per frame: faces with id, alpha, quality,
//                                      landmarks) and <stem>_<frame>_overlay.png every K frames
#include "face_stage.h"
#include "image_io.h"
#include "json.h"
#include "options.h"
#include "render.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

using namespace bty::face;

namespace {

std::string stem_of(const std::string& path) {
  std::string s = path.substr(path.find_last_of('/') + 1);
  const size_t dot = s.find_last_of('.');
  return dot == std::string::npos ? s : s.substr(0, dot);
}

void rect_json(bty::cli::Json& j, const Rect& r) {
  j.begin_object().key("x").value(r.x).key("y").value(r.y).key("width").value(r.width).key("height").value(r.height);
  j.end_object();
}

void points_json(bty::cli::Json& j, const Landmarks& lm, float ox, float oy) {
  j.begin_array();
  for (const auto& p : lm) j.begin_array().value(p.x() - ox, 2).value(p.y() - oy, 2).end_array();
  j.end_array();
}

void face_json(bty::cli::Json& j, const Face& f, bool roi_coords) {
  j.begin_object().key("id").value(f.id).key("quality").value(f.quality, 4).key("size").value(f.size, 2);
  j.key("roll").value(f.roll, 4).key("box");
  rect_json(j, f.box);
  j.key("roi");
  rect_json(j, f.roi);
  j.key("landmarks");
  points_json(j, f.landmarks, 0, 0);
  if (roi_coords) {
    j.key("landmarks_roi");
    points_json(j, f.landmarks, float(f.roi.x), float(f.roi.y));
  }
  j.end_object();
}

void image_header(bty::cli::Json& j, const std::string& file, const Image& img) {
  j.key("image").path(file).key("width").value(img.width).key("height").value(img.height);
}

Image crop(const Image& img, const Rect& r) {
  Image c;
  c.width = r.width, c.height = r.height, c.channels = img.channels;
  c.data.resize(size_t(r.width) * r.height * img.channels);
  for (int y = 0; y < r.height; ++y)
    std::memcpy(c.row(y), img.row(r.y + y) + size_t(r.x) * img.channels, size_t(r.width) * img.channels);
  return c;
}

int run_images(const std::vector<std::string>& files, const Options& base, const std::string& out, bool crops) {
  Options o = base;
  o.synchronous_detection = true;  // one frame per image: detect it now
  o.fade_frames = 0;               // and show the faces at full weight
  int failures = 0;
  FaceStage stage(o);  // one model load for all images
  for (const std::string& file : files) {
    try {
      stage.reset();
      const Image rgb = load_image(file);
      const Image luma = to_luma(rgb);
      const std::vector<Face> faces =
          stage.process({luma.data.data(), luma.width, luma.height, luma.width, 1.f, false, true});
      const std::string stem = out + "/" + stem_of(file);
      if (crops) {
        for (size_t k = 0; k < faces.size(); ++k) {
          const Face& f = faces[k];
          const std::string fs = stem + "_f" + std::to_string(k);
          bty::cli::Json j;
          j.begin_object();
          image_header(j, file, rgb);
          j.key("face");
          face_json(j, f, true);
          j.end_object().write_file(fs + ".json", false);
          save_png(crop(rgb, f.roi), fs + "_crop.png");
          Image m;
          m.width = f.roi.width, m.height = f.roi.height, m.channels = 1, m.data = f.mask;
          save_png(m, fs + "_mask.png");
          save_png(crop(draw_overlay(rgb, {f}), f.roi), fs + "_overlay.png");
        }
      } else {
        bty::cli::Json j;
        j.begin_object();
        image_header(j, file, rgb);
        j.key("faces").begin_array();
        for (const Face& f : faces) face_json(j, f, false);
        j.end_array().end_object().write_file(stem + ".json", false);
        save_png(full_mask(rgb.width, rgb.height, faces), stem + "_mask.png");
        save_png(draw_overlay(rgb, faces), stem + "_overlay.png");
      }
      std::cout << file << ": " << faces.size() << " face(s)\n";
    } catch (const std::exception& e) {
      std::cerr << file << ": " << e.what() << "\n";
      ++failures;
    }
  }
  return failures ? 1 : 0;
}

int run_clip(const std::string& file, int w, int h, const std::string& format, const Options& o, const std::string& out,
             int overlay_every) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read '" + file + "'");
  const size_t luma_bytes = size_t(w) * h;
  const size_t frame_bytes = format == "i420" ? luma_bytes + 2 * (size_t((w + 1) / 2) * ((h + 1) / 2)) : luma_bytes;
  std::vector<uint8_t> buf(frame_bytes);
  FaceStage stage(o);
  const std::string stem = out + "/" + stem_of(file);
  bty::cli::Json j;
  j.begin_object().key("clip").path(file).key("width").value(w).key("height").value(h).key("format").value(format);
  j.key("frames").begin_array();
  int n = 0;
  while (in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(frame_bytes))) {
    const std::vector<Face> faces = stage.process({buf.data(), w, h, w});
    j.begin_object().key("frame").value(n).key("faces").begin_array();
    for (const Face& f : faces) {
      j.begin_object().key("id").value(f.id).key("alpha").value(f.alpha, 4).key("quality").value(f.quality, 4);
      j.key("landmarks");
      points_json(j, f.landmarks, 0, 0);
      j.end_object();
    }
    j.end_array().end_object();
    if (overlay_every > 0 && n % overlay_every == 0) {
      Image g;
      g.width = w, g.height = h, g.channels = 1;
      g.data.assign(buf.begin(), buf.begin() + std::ptrdiff_t(luma_bytes));
      char name[32];
      std::snprintf(name, sizeof name, "_%05d_overlay.png", n);
      save_png(draw_overlay(g, faces), stem + name);
    }
    ++n;
  }
  j.end_array().end_object().write_file(stem + "_landmarks.json", false);
  std::cout << file << ": " << n << " frames\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.min_face_size = 64;
  o.detect_max_side = 1280;  // photos: find faces down to ~80 px in a 1280-px image
  o.max_faces = 20;
  std::string out = ".", raw, format = "gray";
  bool crops = false, sync = false;
  int overlay_every = 0;
  bty::cli::Options opts("face-tool", "IMAGE... | --raw WxH CLIP...",
                         "Finds faces, fits landmarks and writes JSON, masks and overlays per image (or per clip).");
  opts.text("out", 'o', &out, "DIR", "output folder");
  opts.text("model", 0, &o.landmark_model, "PATH", "dlib 68-point landmark model");
  opts.integer("max-faces", 0, &o.max_faces, 1, 1000, "N", "most faces per image or frame");
  opts.integer("min-face", 0, &o.min_face_size, 1, 16384, "PX", "smallest face width");
  opts.integer("detect-max-side", 0, &o.detect_max_side, 80, 16384, "PX", "cap on the detection image's longer side");
  opts.flag("crops", 0, &crops, "per face: ROI crop, ROI mask and JSON with landmarks in ROI coordinates");
  opts.text("raw", 0, &raw, "WxH", "the inputs are raw clips of this frame size");
  opts.choice("format", 0, &format, {"gray", "i420"}, "raw clip pixel format");
  opts.flag("sync", 0, &sync, "raw clips: detect in every frame that needs it, inline (deterministic)");
  opts.integer("overlay-every", 0, &overlay_every, 0, 1 << 30, "K",
               "raw clips: an overlay PNG every K frames, 0 = none");
  opts.positional(1, -1);
  if (!opts.parse(argc, argv)) return bty::cli::kUsageError;
  if (sync) o.synchronous_detection = true;
  int w = 0, h = 0;
  if (!raw.empty()) {
    const size_t x = raw.find('x');
    gint64 pw = 0, ph = 0;
    if (x == std::string::npos || !g_ascii_string_to_signed(raw.substr(0, x).c_str(), 10, 1, 16384, &pw, nullptr) ||
        !g_ascii_string_to_signed(raw.substr(x + 1).c_str(), 10, 1, 16384, &ph, nullptr))
      return opts.usage_error("--raw: '" + raw + "' is not a frame size WxH (1..16384 each)");
    w = int(pw), h = int(ph);
  } else if (opts.given("--format") || opts.given("--sync") || opts.given("--overlay-every")) {
    return opts.usage_error("--format, --sync and --overlay-every apply to raw clips (--raw WxH)");
  }
  if (!raw.empty() && crops) return opts.usage_error("--crops applies to images, not to raw clips");
  try {
    if (!raw.empty()) {
      int rc = 0;
      for (const auto& f : opts.args()) rc |= run_clip(f, w, h, format, o, out, overlay_every);
      return rc;
    }
    return run_images(opts.args(), o, out, crops);
  } catch (const std::exception& e) {
    std::cerr << "face-tool: " << e.what() << "\n";
    return 1;
  }
}
