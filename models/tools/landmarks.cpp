// Training-data helper: dlib HOG face detection + 68-point landmarks for a list of binary PGM (P5) images.
// Used by models/beautynet/prepare_data.py while the project's face-tool (face/) is not available.
// Build: g++ -O2 -std=c++17 landmarks.cpp -o landmarks -ldlib -lblas -llapack   (Debian libdlib-dev, libdlib-data)
// Usage: landmarks PREDICTOR.dat < list.txt   (one PGM path per line)
// Output per image: "IMG path n", then per face "FACE l t r b" and one line of 136 ints (x0 y0 ... x67 y67).
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

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
  if (argc != 2) {
    std::cerr << "usage: landmarks PREDICTOR.dat < list\n";
    return 2;
  }
  dlib::frontal_face_detector det = dlib::get_frontal_face_detector();
  dlib::shape_predictor sp;
  dlib::deserialize(argv[1]) >> sp;
  std::string path;
  while (std::getline(std::cin, path)) {
    dlib::array2d<unsigned char> img;
    if (!read_pgm(path, img)) {
      std::cout << "IMG " << path << " -1\n";
      continue;
    }
    std::vector<dlib::rectangle> faces = det(img, 1);  // one pyramid-up: faces down to ~40 px
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
