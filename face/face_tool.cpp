// face-tool: runs the face stage on images or a raw clip and writes landmarks, masks and overlays.
//   face-tool [opts] IMAGE...          OUT/<stem>.json, <stem>_mask.png (frame size), <stem>_overlay.png
//   face-tool --crops [opts] IMAGE...  per face k: OUT/<stem>_f<k>.json (ROI, landmarks in frame and ROI px),
//                                      <stem>_f<k>_crop.png (RGB at the ROI), <stem>_f<k>_mask.png (ROI size),
//                                      <stem>_f<k>_overlay.png (overlay at the ROI, for checking)
//   face-tool --raw WxH [--format gray|i420] [--overlay-every K] CLIP
//                                      OUT/<stem>_landmarks.csv (frame,id,alpha,quality,x0,y0..x67,y67) and
//                                      <stem>_<frame>_overlay.png every K frames
#include "face_stage.h"
#include "image_io.h"
#include "render.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using namespace bty::face;

namespace {

void usage() {
  std::cerr << "usage: face-tool [--out DIR] [--model PATH] [--max-faces N] [--min-face PX] [--detect-max-side PX]\n"
               "                 [--crops] IMAGE...\n"
               "       face-tool [--out DIR] ... --raw WxH [--format gray|i420] [--sync] [--overlay-every K] CLIP\n";
}

std::string stem_of(const std::string& path) {
  std::string s = path.substr(path.find_last_of('/') + 1);
  const size_t dot = s.find_last_of('.');
  return dot == std::string::npos ? s : s.substr(0, dot);
}

std::string rect_json(const Rect& r) {
  std::ostringstream o;
  o << "{\"x\": " << r.x << ", \"y\": " << r.y << ", \"width\": " << r.width << ", \"height\": " << r.height << "}";
  return o.str();
}

std::string points_json(const Landmarks& lm, float ox, float oy) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(2);
  o << "[";
  for (int i = 0; i < kNumLandmarks; ++i) o << (i ? ", " : "") << "[" << lm[i].x() - ox << ", " << lm[i].y() - oy << "]";
  o << "]";
  return o.str();
}

std::string face_json(const Face& f, bool roi_coords) {
  std::ostringstream o;
  o << "{\"id\": " << f.id << ", \"quality\": " << f.quality << ", \"size\": " << f.size << ", \"roll\": " << f.roll
    << ", \"box\": " << rect_json(f.box) << ", \"roi\": " << rect_json(f.roi)
    << ", \"landmarks\": " << points_json(f.landmarks, 0, 0);
  if (roi_coords) o << ", \"landmarks_roi\": " << points_json(f.landmarks, float(f.roi.x), float(f.roi.y));
  o << "}";
  return o.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  if (!out || !(out << text)) throw Error("cannot write '" + path + "'");
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
      const std::vector<Face> faces = stage.process({luma.data.data(), luma.width, luma.height, luma.width, 1.f, false, true});
      const std::string stem = out + "/" + stem_of(file);
      if (crops) {
        for (size_t k = 0; k < faces.size(); ++k) {
          const Face& f = faces[k];
          const std::string fs = stem + "_f" + std::to_string(k);
          write_text(fs + ".json", "{\"image\": \"" + file + "\", \"width\": " + std::to_string(rgb.width) +
                                       ", \"height\": " + std::to_string(rgb.height) + ", \"face\": " + face_json(f, true) + "}\n");
          save_png(crop(rgb, f.roi), fs + "_crop.png");
          Image m;
          m.width = f.roi.width, m.height = f.roi.height, m.channels = 1, m.data = f.mask;
          save_png(m, fs + "_mask.png");
          save_png(crop(draw_overlay(rgb, {f}), f.roi), fs + "_overlay.png");
        }
      } else {
        std::string js = "{\"image\": \"" + file + "\", \"width\": " + std::to_string(rgb.width) +
                         ", \"height\": " + std::to_string(rgb.height) + ", \"faces\": [";
        for (size_t k = 0; k < faces.size(); ++k) js += (k ? ",\n  " : "\n  ") + face_json(faces[k], false);
        write_text(stem + ".json", js + "]}\n");
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
  std::ofstream csv(stem + "_landmarks.csv");
  if (!csv) throw Error("cannot write '" + stem + "_landmarks.csv'");
  csv << "frame,id,alpha,quality";
  for (int i = 0; i < kNumLandmarks; ++i) csv << ",x" << i << ",y" << i;
  csv << "\n";
  int n = 0;
  while (in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(frame_bytes))) {
    const std::vector<Face> faces = stage.process({buf.data(), w, h, w});
    for (const Face& f : faces) {
      csv << n << "," << f.id << "," << f.alpha << "," << f.quality;
      for (const auto& p : f.landmarks) csv << "," << p.x() << "," << p.y();
      csv << "\n";
    }
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
  bool crops = false;
  int overlay_every = 0;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--out") out = next();
    else if (a == "--model") o.landmark_model = next();
    else if (a == "--max-faces") o.max_faces = std::stoi(next());
    else if (a == "--min-face") o.min_face_size = std::stoi(next());
    else if (a == "--detect-max-side") o.detect_max_side = std::stoi(next());
    else if (a == "--crops") crops = true;
    else if (a == "--raw") raw = next();
    else if (a == "--format") format = next();
    else if (a == "--sync") o.synchronous_detection = true;
    else if (a == "--overlay-every") overlay_every = std::stoi(next());
    else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      usage();
      return 2;
    } else files.push_back(a);
  }
  if (files.empty()) {
    usage();
    return 2;
  }
  try {
    if (!raw.empty()) {
      int w = 0, h = 0;
      if (std::sscanf(raw.c_str(), "%dx%d", &w, &h) != 2 || w < 1 || h < 1 || (format != "gray" && format != "i420")) {
        usage();
        return 2;
      }
      int rc = 0;
      for (const auto& f : files) rc |= run_clip(f, w, h, format, o, out, overlay_every);
      return rc;
    }
    return run_images(files, o, out, crops);
  } catch (const std::exception& e) {
    std::cerr << "face-tool: " << e.what() << "\n";
    return 1;
  }
}
