#include "landmarker.h"

#include "landmark_model.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <system_error>

namespace bty::face {

using V2 = Eigen::Vector2f;

// Loading costs ~1 s and ~70 MB: stages using the same file share one copy while any of them lives.
static std::shared_ptr<const LandmarkModel> load_model(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<const LandmarkModel>> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto hit = cache[path].lock()) return hit;

  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    const bool missing = !std::filesystem::exists(path, ec) && !ec;
    throw Error(missing ? ErrorKind::NotFound : ErrorKind::Unreadable,
                "landmark model " + std::string(missing ? "not found" : "unreadable") + ": '" + path +
                    "' (install libdlib-data, or set landmark_model)");
  }
  auto m = std::make_shared<LandmarkModel>();
  try {
    read_landmark_model(*m, in);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Invalid,
                "landmark model '" + path + "' is corrupt or not a dlib 68-point shape predictor: " + e.what());
  }
  cache[path] = m;
  return m;
}

Landmarker::Landmarker(const std::string& model_path) : model_(load_model(model_path)) {}
Landmarker::~Landmarker() = default;

Placement Landmarker::placement_of(const Landmarks& lm) const {
  return fit_similarity(model_->mean.data(), lm.data(), kNumLandmarks);
}

Placement Landmarker::placement_of_box(const RectF& box) {
  Placement p;
  p.scale = std::max(1.f, 0.5f * (box.width() + box.height()));
  p.angle = 0;
  p.t = V2(box.x0, box.y0);
  return p;
}

RectF Landmarker::box_of(const Placement& p) {
  const V2 c[4] = {p.apply(V2(0, 0)), p.apply(V2(1, 0)), p.apply(V2(0, 1)), p.apply(V2(1, 1))};
  return bounds(c, 4);
}

namespace {

// The leaves' coefficient sum (integers: any order and vector width give the same sum). On x86-64 also compiled for
// AVX2 (16 int16 per add instead of 8), picked at load time where the CPU has it.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void sum_leaves(const int16_t* const* leaves, size_t n, int k, int32_t* acc) {
  for (size_t t = 0; t < n; ++t) {
    const int16_t* c = leaves[t];
    for (int d = 0; d < k; ++d) acc[d] += c[d];
  }
}

struct Sampler {
  const uint8_t* img;
  int w, h, stride;
  float inv_par;  // square px -> frame px along x
  // Bilinear, pixel centres at integer coordinates; outside the frame reads 0 (as the predictor was trained).
  float at(float xs, float y) const {
    const float x = xs * inv_par;
    if (!(x > -1.f && y > -1.f && x < float(w) && y < float(h))) return 0.f;
    const int x0 = int(std::floor(x)), y0 = int(std::floor(y));
    const float fx = x - x0, fy = y - y0;
    if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {  // inside: no clamping (most reads; same arithmetic)
      const uint8_t* p = img + size_t(y0) * stride + x0;
      const float a = p[0], b = p[1], c = p[stride], d = p[stride + 1];
      const float top = a + fx * (b - a);
      const float bot = c + fx * (d - c);
      return top + fy * (bot - top);
    }
    auto px = [&](int xx, int yy) -> float {
      xx = std::min(std::max(xx, 0), w - 1);
      yy = std::min(std::max(yy, 0), h - 1);
      return img[size_t(yy) * stride + xx];
    };
    const float top = px(x0, y0) + fx * (px(x0 + 1, y0) - px(x0, y0));
    const float bot = px(x0, y0 + 1) + fx * (px(x0 + 1, y0 + 1) - px(x0, y0 + 1));
    return top + fy * (bot - top);
  }
  // Mean over a (2n)x(2n) grid spanning +-r along the axes ax, ay (a cheap box prefilter for large faces).
  float area(const V2& f, const V2& ax, const V2& ay, int n) const {
    if (n <= 0) return at(f.x(), f.y());
    float s = 0;
    for (int j = -n; j < n; ++j)
      for (int i = -n; i < n; ++i) {
        const V2 q = f + ax * ((i + 0.5f) / n) + ay * ((j + 0.5f) / n);
        s += at(q.x(), q.y());
      }
    return s / float(4 * n * n);
  }
};

}  // namespace

FitResult Landmarker::fit(const LumaView& img, const Placement& start) const {
  const LandmarkModel& m = *model_;
  const Sampler smp{img.data, img.width, img.height, img.stride, 1.f / img.pixel_aspect};
  // The cascade was trained on faces of ~100-250 px; on larger ones each feature reads a small box instead of
  // one pixel so that sensor noise and texture alias less (half a training pixel on each side).
  const float px_per_train_px = start.scale / 160.f;
  const int sub = px_per_train_px > 1.5f ? 1 : 0;
  const Eigen::Matrix2f lin = start.linear();
  const V2 half_x = lin.col(0) * (1.f / 160.f), half_y = lin.col(1) * (1.f / 160.f);

  std::array<float, 2 * kNumLandmarks> shape;
  for (int i = 0; i < kNumLandmarks; ++i) shape[2 * i] = m.mean[i].x(), shape[2 * i + 1] = m.mean[i].y();
  std::vector<float> feat;
  std::vector<const int16_t*> leaves;
  Landmarks cur;
  for (size_t level = 0; level < m.packed.size(); ++level) {
    for (int i = 0; i < kNumLandmarks; ++i) cur[i] = V2(shape[2 * i], shape[2 * i + 1]);
    // Feature offsets are defined relative to the mean shape: move them with the current shape's similarity.
    const Similarity t = fit_similarity(m.mean.data(), cur.data(), kNumLandmarks);
    const Eigen::Matrix2f tl = t.linear();
    const auto& anchors = m.anchor_idx[level];
    const auto& deltas = m.deltas[level];
    feat.resize(deltas.size());
    for (size_t i = 0; i < deltas.size(); ++i) {
      const V2 u = tl * deltas[i] + cur[anchors[i]];
      feat[i] = smp.area(start.apply(u), half_x, half_y, sub);
    }
    // Walk every tree (left when feat[idx1] - feat[idx2] > thresh, as dlib) and prefetch the leaves it lands
    // in; then sum their coefficients. Splitting the two lets the leaf cache misses overlap.
    const PackedLevel& p = m.packed[level];
    const float* fv = feat.data();
    const size_t leaf_bytes = size_t(p.k) * sizeof(int16_t);
    leaves.resize(p.nsplit.size());
    for (size_t t = 0; t < p.nsplit.size(); ++t) {
      const uint32_t so = p.split_off[t];
      const unsigned ns = p.nsplit[t];
      unsigned i = 0;
      while (i < ns) i = (fv[p.idx1[so + i]] - fv[p.idx2[so + i]] > p.thresh[so + i]) ? 2 * i + 1 : 2 * i + 2;
      leaves[t] = p.coef.data() + size_t(p.leaf_off[t] + (i - ns)) * size_t(p.k);
      for (size_t b = 0; b < leaf_bytes; b += 64) __builtin_prefetch(reinterpret_cast<const char*>(leaves[t]) + b);
    }
    const int k = p.k;  // a local: stores to acc could otherwise alias p.k and block vectorisation
    int32_t acc[2 * kNumLandmarks] = {};
    sum_leaves(leaves.data(), leaves.size(), k, acc);
    Eigen::VectorXf accf(k);
    for (int d = 0; d < k; ++d) accf(d) = float(acc[d]) * p.coef_scale[size_t(d)];
    const Eigen::Map<const Eigen::MatrixXf> basis(p.basis.data(), 2 * kNumLandmarks, k);
    Eigen::Map<Eigen::VectorXf>(shape.data(), 2 * kNumLandmarks) += basis * accf;
  }

  FitResult r;
  for (int i = 0; i < kNumLandmarks; ++i) r.lm[i] = start.apply(V2(shape[2 * i], shape[2 * i + 1]));

  // Appearance patch: box means over the inner face (unit box [0.15, 0.85]^2) of the start placement.
  r.patch.assign(kPatch * kPatch, 0.f);
  const float cell = 0.7f / kPatch;
  const V2 cx = lin.col(0) * (0.5f * cell), cy = lin.col(1) * (0.5f * cell);
  double sum = 0;
  for (int pj = 0; pj < kPatch; ++pj)
    for (int pi = 0; pi < kPatch; ++pi) {
      const V2 u(0.15f + (pi + 0.5f) * cell, 0.15f + (pj + 0.5f) * cell);
      const float v = smp.area(start.apply(u), cx, cy, 1);
      r.patch[pj * kPatch + pi] = v;
      sum += v;
    }
  const float mean = float(sum / r.patch.size());
  double ss = 0;
  for (float& v : r.patch) {
    v -= mean;
    ss += double(v) * v;
  }
  // Flat patches (standard deviation under ~2 grey levels) carry no appearance: leave them all-zero.
  const float norm = float(std::sqrt(ss));
  if (norm > 2.f * kPatch) {
    for (float& v : r.patch) v /= norm;
  } else {
    std::fill(r.patch.begin(), r.patch.end(), 0.f);
  }

  // Shape plausibility: residual after aligning the fit to the mean shape.
  const Placement inv = placement_of(r.lm).inverse();
  double res = 0;
  for (int i = 0; i < kNumLandmarks; ++i) res += (inv.apply(r.lm[i]) - m.mean[i]).squaredNorm();
  r.shape_residual = float(std::sqrt(res / kNumLandmarks));

  const RectF fb = box_of(start);
  const float ix = std::max(0.f, std::min(fb.x1, float(img.width) * img.pixel_aspect) - std::max(fb.x0, 0.f));
  const float iy = std::max(0.f, std::min(fb.y1, float(img.height)) - std::max(fb.y0, 0.f));
  r.visible = fb.width() * fb.height() > 0 ? ix * iy / (fb.width() * fb.height()) : 0.f;
  return r;
}

float patch_ncc(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) return 0.f;
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += double(a[i]) * b[i];
  return float(d);
}

}  // namespace bty::face
