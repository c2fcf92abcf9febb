// Training-data helper: dlib HOG face detection + 68-point landmarks for a list of binary PGM (P5) images.
// Used by models/beautynet/prepare_data.py (its own dlib calls, no face stage: the training data must not depend on
// the element's detection plan).
// Build: g++ -O2 -std=c++17 -Icli landmarks.cpp cli/options.cpp -o landmarks $(pkg-config --cflags --libs glib-2.0)
//        -ldlib -lblas -llapack   (Debian libdlib-dev, libdlib-data, libglib2.0-dev)
// Usage: landmarks [--upsample N] PREDICTOR.dat < list.txt   (one PGM path per line; --help for the options)
// Output per image: "IMG path n" (n = -1: not a readable 8-bit P5 PGM), then per face "FACE l t r b" and one line of
// 136 ints (x0 y0 ... x67 y67).
#include "options.h"

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>

static bool read_pgm(const std::string& path, dlib::array2d<unsigned char>& img) {
  std::ifstream f(path, std::ios::binary);
  std::string magic;
  long w = 0, h = 0, maxv = 0;
  if (!(f >> magic >> w >> h >> maxv) || magic != "P5" || maxv != 255 || w <= 0 || h <= 0) return false;
  f.get();
  img.set_size(h, w);
  for (long y = 0; y < h; ++y) f.read(reinterpret_cast<char*>(&img[y][0]), w);
  return bool(f);
}

int main(int argc, char** argv) {
  int upsample = 1;  // one pyramid-up: faces down to ~40 px
  bty::cli::Options opts("landmarks", "PREDICTOR.dat",
                         "Reads PGM paths from stdin, one a line; writes dlib's faces and 68 landmarks for each.");
  opts.integer("upsample", 0, &upsample, 0, 3, "N", "times the image is doubled before detection (smaller faces)");
  opts.positional(1, 1);
  if (!opts.parse(argc, argv)) return bty::cli::kUsageError;
  const std::string& predictor = opts.args()[0];
  dlib::frontal_face_detector det = dlib::get_frontal_face_detector();
  dlib::shape_predictor sp;
  try {
    dlib::deserialize(predictor) >> sp;
  } catch (const std::exception& e) {
    std::cerr << "landmarks: cannot load the predictor '" << predictor << "': " << e.what()
              << " (Debian: apt install libdlib-data)\n";
    return 1;
  }
  std::string path;
  while (std::getline(std::cin, path)) {
    dlib::array2d<unsigned char> img;
    if (!read_pgm(path, img)) {
      std::cout << "IMG " << path << " -1\n";
      continue;
    }
    std::vector<dlib::rectangle> faces = det(img, upsample);
    std::cout << "IMG " << path << " " << faces.size() << "\n";
    for (const auto& r : faces) {
      dlib::full_object_detection s = sp(img, r);
      std::cout << "FACE " << r.left() << " " << r.top() << " " << r.right() << " " << r.bottom() << "\n";
      for (unsigned i = 0; i < s.num_parts(); ++i) std::cout << s.part(i).x() << " " << s.part(i).y() << " ";
      std::cout << "\n";
    }
    std::cout.flush();
  }
  return 0;
}
