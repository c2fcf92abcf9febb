#include "hog_scan.h"

#include <dlib/image_processing/frontal_face_detector.h>

#include <map>

namespace bty::face {

struct HogScanner::Impl {
  dlib::frontal_face_detector base = dlib::get_frontal_face_detector();
  std::map<int, dlib::frontal_face_detector> by_levels;  // copies limited to n pyramid levels
  dlib::array2d<unsigned char> img;

  dlib::frontal_face_detector& detector(int levels) {
    if (levels <= 0) return base;
    auto it = by_levels.find(levels);
    if (it != by_levels.end()) return it->second;
    dlib::frontal_face_detector::image_scanner_type scanner;  // not copyable: copy its configuration
    scanner.copy_configuration(base.get_scanner());
    scanner.set_max_pyramid_levels(unsigned(levels));
    std::vector<dlib::frontal_face_detector::feature_vector_type> w;
    for (unsigned long i = 0; i < base.num_detectors(); ++i) w.push_back(base.get_w(i));
    return by_levels.emplace(levels, dlib::frontal_face_detector(scanner, base.get_overlap_tester(), w)).first->second;
  }
};

HogScanner::HogScanner() : impl_(new Impl) {}
HogScanner::~HogScanner() = default;

uint8_t* HogScanner::image(int w, int h) {
  impl_->img.set_size(h, w);  // dlib's array2d: one block, rows nc() apart
  return impl_->img.size() ? &impl_->img[0][0] : nullptr;
}

std::vector<HogScanner::Hit> HogScanner::run(int levels) {
  std::vector<dlib::rect_detection> dets;
  impl_->detector(levels)(impl_->img, dets);
  std::vector<Hit> hits;
  hits.reserve(dets.size());
  for (const auto& d : dets)
    hits.push_back(
        Hit{int(d.rect.left()), int(d.rect.top()), int(d.rect.right()), int(d.rect.bottom()), d.detection_confidence});
  return hits;
}

}  // namespace bty::face
