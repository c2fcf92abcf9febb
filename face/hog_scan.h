// dlib's HOG frontal face detector (five filters: frontal, looking left/right, rolled left/right) behind a plain
// interface. Its own translation unit so that sanitizer builds can leave dlib's feature extraction and filtering
// uninstrumented (face/meson.build says why); the detector's planning and resampling stay in detector.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace bty::face {

class HogScanner {
 public:
  struct Hit {
    int left, top, right, bottom;  // detection image px, inclusive (dlib's rectangle)
    double score;
  };

  HogScanner();
  ~HogScanner();

  // The w x h grey image the next run() scans, rows w bytes apart: the caller writes it in place (no copy).
  uint8_t* image(int w, int h);
  // Scans that image. levels > 0 limits the pyramid (each level 5/6 of the last) to that many levels; 0 runs all of
  // them down to the 80 px window.
  std::vector<Hit> run(int levels);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bty::face
