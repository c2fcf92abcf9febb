#include "landmark_model.h"

#include <dlib/image_processing/shape_predictor.h>
#include <dlib/serialize.h>

#include <Eigen/Eigenvalues>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace bty::face {

using V2 = Eigen::Vector2f;

// Leaf-space energy kept per level. 0.999 keeps 24-95 of 136 dimensions and moves landmarks by ~0.2-0.4% of the
// face size against the exact sum (under the fit's own noise); BTY_FACE_LEAF_ENERGY overrides it (1 = exact).
static double leaf_energy() {
  const char* e = std::getenv("BTY_FACE_LEAF_ENERGY");
  return e ? std::atof(e) : 0.999;
}

using Forests = std::vector<std::vector<dlib::impl::regression_tree>>;  // one forest per cascade level

static void pack(LandmarkModel& m, const Forests& forests) {
  const double keep = leaf_energy();
  constexpr int D = 2 * kNumLandmarks;
  for (const auto& forest : forests) {
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
    const Eigen::MatrixXf basis = eig.eigenvectors().rightCols(k).rowwise().reverse().cast<float>();
    p.basis.assign(basis.data(), basis.data() + basis.size());
    // 16-bit coefficients with a scale per dimension halve the memory traffic again; the rounding error
    // (1/65534 of each dimension's range per leaf) is far below the subspace truncation.
    const Eigen::MatrixXf c = basis.transpose() * leaves;  // k x nleaves, column-major: leaf-major
    p.coef_scale.resize(size_t(k));
    for (int d = 0; d < k; ++d) p.coef_scale[size_t(d)] = std::max(c.row(d).cwiseAbs().maxCoeff(), 1e-30f) / 32767.f;
    p.coef.resize(size_t(c.size()));
    for (Eigen::Index j = 0; j < c.cols(); ++j)
      for (int d = 0; d < k; ++d)
        p.coef[size_t(j) * size_t(k) + size_t(d)] = int16_t(std::lround(c(d, j) / p.coef_scale[size_t(d)]));
    m.packed.push_back(std::move(p));
  }
}

void read_landmark_model(LandmarkModel& m, std::istream& in) {
  int version = 0;
  dlib::deserialize(version, in);
  if (version != 1) throw dlib::serialization_error("unexpected version " + std::to_string(version));
  dlib::matrix<float, 0, 1> initial;
  dlib::deserialize(initial, in);
  if (initial.size() != 2 * kNumLandmarks)
    throw dlib::serialization_error("model has " + std::to_string(initial.size() / 2) + " points, need 68");
  for (int i = 0; i < kNumLandmarks; ++i) m.mean[i] = V2(initial(2 * i), initial(2 * i + 1));
  Forests forests;
  std::vector<std::vector<dlib::vector<float, 2>>> deltas;
  dlib::deserialize(forests, in);
  dlib::deserialize(m.anchor_idx, in);
  dlib::deserialize(deltas, in);
  if (forests.empty() || m.anchor_idx.size() != forests.size() || deltas.size() != forests.size())
    throw dlib::serialization_error("inconsistent cascade");
  if (forests.size() > 100) throw dlib::serialization_error("implausible cascade depth");
  for (size_t l = 0; l < forests.size(); ++l) {
    if (m.anchor_idx[l].size() != deltas[l].size()) throw dlib::serialization_error("inconsistent feature pool");
    for (unsigned long a : m.anchor_idx[l])
      if (a >= unsigned(kNumLandmarks)) throw dlib::serialization_error("anchor out of range");
    const size_t nf = deltas[l].size();
    if (nf > 65535) throw dlib::serialization_error("feature pool too large");
    for (const auto& tree : forests[l]) {
      if (tree.leaf_values.size() != tree.splits.size() + 1 || tree.splits.size() > 4095)
        throw dlib::serialization_error("malformed tree");
      for (const auto& s : tree.splits)
        if (s.idx1 >= nf || s.idx2 >= nf) throw dlib::serialization_error("split feature out of range");
      for (const auto& leaf : tree.leaf_values)
        if (leaf.size() != 2 * kNumLandmarks) throw dlib::serialization_error("malformed leaf");
    }
  }
  m.deltas.resize(deltas.size());
  for (size_t l = 0; l < deltas.size(); ++l)
    for (const auto& d : deltas[l]) m.deltas[l].emplace_back(d.x(), d.y());
  pack(m, forests);  // the packed copy is all fit() reads; the forests go with this scope
}

}  // namespace bty::face
