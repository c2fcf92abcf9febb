#include "landmarker.h"

#include <dlib/image_processing/shape_predictor.h>
#include <dlib/serialize.h>

#include <Eigen/Eigenvalues>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <system_error>

namespace bty::face {

using V2 = Eigen::Vector2f;

// One cascade level repacked for speed. dlib keeps every split list and every 136-float leaf in its own heap
// block: a fit then walks ~7500 scattered leaves (4 MB) and is bound by cache misses. Here the splits are packed
// contiguously, and the leaves are stored as coefficients in the level's principal subspace of leaf space
// (leaves add up linearly, so the level's sum is basis * sum of coefficients): ~8x less memory traffic.
struct PackedLevel {
  std::vector<uint32_t> split_off, leaf_off;  // per tree: first split, first leaf
  std::vector<uint16_t> nsplit;               // per tree
  std::vector<uint16_t> idx1, idx2;
  std::vector<float> thresh;
  int k = 0;                      // subspace dimension
  std::vector<int16_t> coef;      // (leaf_off[t] + leaf) * k: k coefficients per leaf, quantised
  std::vector<float> coef_scale;  // per dimension: coefficient = int16 * scale
  Eigen::MatrixXf basis;          // 136 x k
};

struct LandmarkModel {
  Landmarks mean{};                                               // initial shape, unit-box coordinates
  std::vector<std::vector<dlib::impl::regression_tree>> forests;  // one forest per cascade level
  std::vector<std::vector<unsigned long>> anchor_idx;             // per level, per feature pixel: anchor landmark
  std::vector<std::vector<dlib::vector<float, 2>>> deltas;        // per level, per feature pixel: offset (unit box)
  std::vector<PackedLevel> packed;
};

// Leaf-space energy kept per level. 0.999 keeps 24-95 of 136 dimensions and moves landmarks by ~0.2-0.4% of the
// face size against the exact sum (under the fit's own noise); BTY_FACE_LEAF_ENERGY overrides it (1 = exact).
static double leaf_energy() {
  const char* e = std::getenv("BTY_FACE_LEAF_ENERGY");
  return e ? std::atof(e) : 0.999;
}

static void pack(LandmarkModel& m) {
  const double keep = leaf_energy();
  constexpr int D = 2 * kNumLandmarks;
  for (const auto& forest : m.forests) {
    PackedLevel p;
    size_t nleaves = 0;
    for (const auto& tree : forest) {
      p.split_off.push_back(uint32_t(p.idx1.size()));
      p.leaf_off.push_back(uint32_t(nleaves));
      p.nsplit.push_back(uint16_t(tree.splits.size()));
      for (const auto& sp : tree.splits) {
        p.idx1.push_back(uint16_t(sp.idx1));
        p.idx2.push_back(uint16_t(sp.idx2));
        p.thresh.push_back(sp.thresh);
      }
      nleaves += tree.leaf_values.size();
    }
    Eigen::MatrixXf leaves(D, Eigen::Index(nleaves));
    size_t col = 0;
    for (const auto& tree : forest)
      for (const auto& leaf : tree.leaf_values)
        leaves.col(Eigen::Index(col++)) = Eigen::Map<const Eigen::VectorXf>(&leaf(0), D);
    const Eigen::MatrixXd cov = (leaves.cast<double>() * leaves.cast<double>().transpose());
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
    const Eigen::VectorXd ev = eig.eigenvalues().reverse();  // descending
    const double total = std::max(ev.sum(), 1e-30);
    int k = 0;
    double acc = 0;
    while (k < D && (keep >= 1.0 || acc / total < keep)) acc += ev(k++);
    p.k = k;
    if (std::getenv("BTY_FACE_DEBUG")) fprintf(stderr, "level k=%d leaves=%zu\n", k, nleaves);
    p.basis = eig.eigenvectors().rightCols(k).rowwise().reverse().cast<float>();
    // 16-bit coefficients with a scale per dimension halve the memory traffic again; the rounding error
    // (1/65534 of each dimension's range per leaf) is far below the subspace truncation.
    const Eigen::MatrixXf c = p.basis.transpose() * leaves;  // k x nleaves, column-major: leaf-major
    p.coef_scale.resize(size_t(k));
    for (int d = 0; d < k; ++d) p.coef_scale[size_t(d)] = std::max(c.row(d).cwiseAbs().maxCoeff(), 1e-30f) / 32767.f;
    p.coef.resize(size_t(c.size()));
    for (Eigen::Index j = 0; j < c.cols(); ++j)
      for (int d = 0; d < k; ++d)
        p.coef[size_t(j) * size_t(k) + size_t(d)] = int16_t(std::lround(c(d, j) / p.coef_scale[size_t(d)]));
    m.packed.push_back(std::move(p));
  }
}

// The file layout is dlib's shape_predictor serialisation: version 1, initial shape, forests, anchors, deltas.
static void read_model(LandmarkModel& m, std::istream& in) {
  int version = 0;
  dlib::deserialize(version, in);
  if (version != 1) throw dlib::serialization_error("unexpected version " + std::to_string(version));
  dlib::matrix<float, 0, 1> initial;
  dlib::deserialize(initial, in);
  if (initial.size() != 2 * kNumLandmarks)
    throw dlib::serialization_error("model has " + std::to_string(initial.size() / 2) + " points, need 68");
  for (int i = 0; i < kNumLandmarks; ++i) m.mean[i] = V2(initial(2 * i), initial(2 * i + 1));
  dlib::deserialize(m.forests, in);
  dlib::deserialize(m.anchor_idx, in);
  dlib::deserialize(m.deltas, in);
  if (m.forests.empty() || m.anchor_idx.size() != m.forests.size() || m.deltas.size() != m.forests.size())
    throw dlib::serialization_error("inconsistent cascade");
  if (m.forests.size() > 100) throw dlib::serialization_error("implausible cascade depth");
  for (size_t l = 0; l < m.forests.size(); ++l) {
    if (m.anchor_idx[l].size() != m.deltas[l].size()) throw dlib::serialization_error("inconsistent feature pool");
    for (unsigned long a : m.anchor_idx[l])
      if (a >= unsigned(kNumLandmarks)) throw dlib::serialization_error("anchor out of range");
    const size_t nf = m.deltas[l].size();
    if (nf > 65535) throw dlib::serialization_error("feature pool too large");
    for (const auto& tree : m.forests[l]) {
      if (tree.leaf_values.size() != tree.splits.size() + 1 || tree.splits.size() > 4095)
        throw dlib::serialization_error("malformed tree");
      for (const auto& s : tree.splits)
        if (s.idx1 >= nf || s.idx2 >= nf) throw dlib::serialization_error("split feature out of range");
      for (const auto& leaf : tree.leaf_values)
        if (leaf.size() != 2 * kNumLandmarks) throw dlib::serialization_error("malformed leaf");
    }
  }
}

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
    read_model(*m, in);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Invalid,
                "landmark model '" + path + "' is corrupt or not a dlib 68-point shape predictor: " + e.what());
  }
  pack(*m);
  m->forests.clear();  // the packed copy is all fit() reads
  m->forests.shrink_to_fit();
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
      const V2 u = tl * V2(deltas[i].x(), deltas[i].y()) + cur[anchors[i]];
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
    Eigen::Map<Eigen::VectorXf>(shape.data(), 2 * kNumLandmarks) += p.basis * accf;
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
