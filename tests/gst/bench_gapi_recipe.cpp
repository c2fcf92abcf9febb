// Bench-only peer: the OpenCV G-API face-beautification sample's recipe (opencv/samples/cpp/tutorial_code/gapi/
// face_beautification), written with plain OpenCV calls. Per frame, as the sample does: detect faces, fit
// landmarks, draw the face-contour mask (to be smoothed) and the eye/mouth mask (to be sharpened), Gaussian-blur
// the masks (5×5), bilateral filter (d=9, σcolour=30, σspace=30) and unsharp mask (σ 3, strength 0.7) of the whole
// frame, then compose bilateral·mask_blur + sharp·mask_sharp + input·(no face). The sample's OpenVINO detection and
// landmark nets are not available here: dlib's HOG detector (on the frame downscaled to at most 640 px, like ours)
// and its 68-point predictor stand in. Prints one JSON object like bench-element.
//
//   bench-gapi-recipe --picture P.png --width W --height H --frames N --rounds R --landmark-model F.dat
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv.h>
#include <sys/resource.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "json.h"
#include "options.h"

namespace {

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

cv::Mat unsharp(const cv::Mat& in, int sigma, float strength) {  // the sample's custom::unsharpMask
  cv::Mat blurred, lap, out;
  cv::medianBlur(in, blurred, sigma);
  cv::Laplacian(blurred, lap, CV_8U);
  cv::addWeighted(in, 1.0, lap, -strength, 0, out);
  return out;
}

struct Recipe {
  dlib::frontal_face_detector det = dlib::get_frontal_face_detector();
  dlib::shape_predictor sp;
  int faces = 0;

  cv::Mat run(const cv::Mat& bgr) {
    cv::Mat grey, small;
    cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
    const double s = std::min(1.0, 640.0 / std::max(bgr.cols, bgr.rows));
    cv::resize(grey, small, cv::Size(), s, s, cv::INTER_AREA);
    dlib::cv_image<unsigned char> dsmall(small), dfull(grey);
    std::vector<dlib::rectangle> boxes = det(dsmall);
    faces = int(boxes.size());
    cv::Mat mask_face = cv::Mat::zeros(bgr.size(), CV_8U), mask_sharp = cv::Mat::zeros(bgr.size(), CV_8U);
    for (const auto& b : boxes) {
      dlib::rectangle r(long(b.left() / s), long(b.top() / s), long(b.right() / s), long(b.bottom() / s));
      dlib::full_object_detection shape = sp(dfull, r);
      auto pt = [&](int i) { return cv::Point(int(shape.part(i).x()), int(shape.part(i).y())); };
      std::vector<cv::Point> face;  // jaw + brows (reversed), closed
      for (int i = 0; i <= 16; ++i) face.push_back(pt(i));
      for (int i = 26; i >= 17; --i) face.push_back(pt(i) - cv::Point(0, (pt(8).y - pt(27).y) / 5));
      std::vector<std::vector<cv::Point>> sharp(3);
      for (int i = 36; i <= 41; ++i) sharp[0].push_back(pt(i));
      for (int i = 42; i <= 47; ++i) sharp[1].push_back(pt(i));
      for (int i = 48; i <= 59; ++i) sharp[2].push_back(pt(i));
      cv::fillPoly(mask_face, std::vector<std::vector<cv::Point>>{face}, cv::Scalar(255));
      cv::fillPoly(mask_sharp, sharp, cv::Scalar(255));
    }
    cv::Mat blur_g, sharp_g;
    cv::GaussianBlur(mask_face, blur_g, cv::Size(5, 5), 0);
    cv::GaussianBlur(mask_sharp, sharp_g, cv::Size(5, 5), 0);
    cv::Mat blur_final = blur_g.clone();
    blur_final.setTo(0, sharp_g);  // mask(BlurG, SharpG) subtracted
    cv::Mat faces_white;
    cv::threshold(blur_final + sharp_g, faces_white, 0, 255, cv::THRESH_BINARY);
    cv::Mat no_faces = ~faces_white;
    cv::Mat bilat;
    cv::bilateralFilter(bgr, bilat, 9, 30.0, 30.0);
    cv::Mat sharp = unsharp(bgr, 3, 0.7f);
    auto mask3 = [](const cv::Mat& img, const cv::Mat& m) {
      cv::Mat m3, out;
      cv::merge(std::vector<cv::Mat>{m, m, m}, m3);
      cv::multiply(img, m3, out, 1.0 / 255);
      return out;
    };
    return mask3(bilat, blur_final) + mask3(sharp, sharp_g) + mask3(bgr, no_faces);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string picture, landmark_model = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
  int w = 1920, h = 1080, frames = 30, rounds = 5;
  bty::cli::Options opts("bench-gapi-recipe", "",
                         "Times the G-API sample's recipe on a panned picture (one JSON object).");
  opts.text("picture", 0, &picture, "P.png", "the picture the frames are cut from");
  opts.integer("width", 0, &w, 16, 16384, "W", "frame width");
  opts.integer("height", 0, &h, 16, 16384, "H", "frame height");
  opts.integer("frames", 0, &frames, 1, 10000000, "N", "frames per round");
  opts.integer("rounds", 0, &rounds, 1, 1000, "N", "timed rounds");
  opts.text("landmark-model", 0, &landmark_model, "F.dat", "dlib 68-point landmark model");
  opts.require({"--picture"});
  if (!opts.parse(argc, argv)) return bty::cli::kUsageError;
  cv::Mat pic = cv::imread(picture);
  if (pic.empty()) {
    std::cerr << "bench-gapi-recipe: cannot read '" << picture << "'\n";
    return 1;
  }
  cv::resize(pic, pic, cv::Size(w + 32, h), 0, 0, cv::INTER_AREA);
  std::vector<cv::Mat> input;  // preloaded: a slow pan back and forth
  for (int i = 0; i < 16; ++i) input.push_back(pic(cv::Rect(2 * i, 0, w, h)).clone());
  Recipe rec;
  dlib::deserialize(landmark_model) >> rec.sp;
  std::vector<double> fps, cpu;
  int faces_min = 1 << 30, faces_max = 0, n = 0;
  for (int i = 0; i < 5; ++i) rec.run(input[i]);
  for (int r = 0; r < rounds; ++r) {
    const double c0 = cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < frames; ++i, ++n) {
      const int k = n % 30;
      cv::Mat out = rec.run(input[k < 16 ? k : 30 - k]);
      faces_min = std::min(faces_min, rec.faces);
      faces_max = std::max(faces_max, rec.faces);
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fps.push_back(frames / wall);
    cpu.push_back((cpu_seconds() - c0) * 1e3 / frames);
  }
  std::sort(fps.begin(), fps.end());
  std::sort(cpu.begin(), cpu.end());
  bty::cli::Json j;
  j.begin_object().key("width").value(w).key("height").value(h).key("fps_median").value(fps[fps.size() / 2], 2);
  j.key("cpu_ms_per_frame").value(cpu[cpu.size() / 2], 1).key("faces_min").value(faces_min);
  j.key("faces_max").value(faces_max).end_object();
  std::cout << j.str() << "\n";
  return 0;
}
