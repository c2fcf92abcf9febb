// SIMD kernels layer by layer over whole TILE feature maps: the classic engine structure, kept to measure what the
// super-pipeline gains and as a second oracle for it.
#include <chrono>

#include "executor.h"

namespace bty {
namespace {

class LayeredExecutor final : public ExecutorImpl {
 public:
  LayeredExecutor(const Plan& p, const Kernels& k, ThreadPool& pool, bool winograd) : plan_(p), k_(k), pool_(pool) {
    maps_.resize(p.width.size());
    geom_.resize(p.width.size());
    for (size_t t = 0; t < p.width.size(); ++t) {
      if (!p.materialized[t]) continue;
      geom_[t] = TileGeom(p.width[t], p.height[t], p.channels[t]);
      maps_[t].assign(geom_[t].row_floats * geom_[t].tiles_y, 0.0f);
      bytes_ += maps_[t].size() * sizeof(float);
    }
    for (const ConvStep& s : plan_.steps) convs_.push_back(make_tile_conv(plan_, s, k_, winograd));
    seconds_.assign(convs_.size(), 0.0);
  }

  void run(const InputSource& in, std::vector<float>& out) override {
    const TileGeom& g0 = geom_[0];
    pool_.run(g0.tiles_y, [&](int a, int b) {
      for (int ty = a; ty < b; ++ty)
        write_input_tile_row(k_, in, g0, ty, 0, kTile, 0, 0, g0.tiles_x, maps_[0].data() + g0.row_floats * ty);
    });
    for (size_t i = 0; i < convs_.size(); ++i) {
      auto t0 = std::chrono::steady_clock::now();
      const TileConv& c = convs_[i];
      float* dst = maps_[c.step->tensor].data();
      pool_.run(c.out.tiles_y, [&](int a, int b) {
        RowWindow win[8];
        for (int ty = a; ty < b; ++ty) {
          for (size_t s = 0; s < c.src.size(); ++s) {
            int first, count;
            source_rows(c, int(s), ty, first, count);
            win[s].first = first;
            const AlignedFloats& m = maps_[c.step->sources[s].tensor];
            for (int r = 0; r < count; ++r) win[s].rows[r] = m.data() + c.src[s].geom.row_floats * (first + r);
          }
          k_.conv_row(c, ty, 0, kTile, 0, c.out.tiles_x, win, dst + c.out.row_floats * ty);
        }
      });
      seconds_[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    const int ot = plan_.output_tensor;
    const TileGeom& go = geom_[ot];
    out.resize(size_t(go.channels) * go.width * go.height);  // every value is written below: no fill
    for (int ty = 0; ty < go.tiles_y; ++ty)
      read_output_tile_row(k_, go, maps_[ot].data() + go.row_floats * ty, ty, 0, go.width, 0, out, go.width, go.height);
  }
  size_t working_set_bytes() const override { return bytes_; }
  std::vector<std::string> conv_kinds() const override {
    std::vector<std::string> k;
    for (const TileConv& c : convs_) k.push_back(to_string(c.kind));
    return k;
  }
  const std::vector<double>& layer_seconds() const override { return seconds_; }

 private:
  Plan plan_;
  Kernels k_;
  ThreadPool& pool_;
  std::vector<TileGeom> geom_;
  std::vector<AlignedFloats> maps_;
  std::vector<TileConv> convs_;
  std::vector<double> seconds_;
  size_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<ExecutorImpl> make_layered_executor(const Plan& plan, const Kernels& k, ThreadPool& pool,
                                                    bool winograd) {
  return std::make_unique<LayeredExecutor>(plan, k, pool, winograd);
}

}  // namespace bty
