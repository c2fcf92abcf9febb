// The super-pipeline: every materialised tensor lives in a ring of tile-rows, and a precomputed schedule runs
// whichever stage has its input rows ready, deepest first, so rows are consumed as soon as they exist and the
// intermediates stay in cache. Wide inputs are cut into vertical Segments (strips with a halo as wide as the net's
// receptive field) so the rings of one strip fit the per-thread L2 budget at any input size. Both threads work on
// the same step (each takes half of the tile-row), so small inputs parallelise without halo overhead.
//
// Half rings (RingStorage::Half): the rings hold IEEE halves; a step converts the source rows it reads into a float
// scratch, runs the fp32 kernel into the scratch's output row, and each thread converts back the part it wrote.
//
// Skip masks (flat-tile bypass, reuse of unchanged tiles) plug in per step: a step is a (stage, tile-row, tile range)
// call, so a mask per tensor and tile-row lets the kernel skip tiles or copy them from the previous frame's ring.
#include <algorithm>
#include <map>
#include <stdexcept>

#include "executor.h"

namespace bty {
namespace {

// RingStorage::Auto: half rings only where the float rings do not fit the threads' working-set budget
// (NetOptions::segment_bytes each), i.e. where they would spill from L2 or force narrower strips.
bool auto_half_rings(size_t float_ring_bytes, size_t budget) { return float_ring_bytes > budget; }

// One strip width: its plan, convs and the replayable schedule. Stage 0 writes the input, stage k+1 runs step k.
struct Strip {
  Plan plan;
  std::vector<TileConv> convs;
  std::vector<TileGeom> geom;  // per stage
};

class PipelineExecutor final : public ExecutorImpl {
 public:
  PipelineExecutor(const Plan& full, const Kernels& k, ThreadPool& pool, size_t segment_bytes, bool winograd,
                   RingStorage rings)
      : full_(full), k_(k), pool_(pool), winograd_(winograd) {
    down_ = 1;
    for (const ConvStep& s : full.steps) down_ = std::max(down_, full.width[0] / full.width[s.tensor]);
    const int W = full.width[0];
    const int out_scale = W / full.width[full.output_tensor];
    stages_ = int(full.steps.size()) + 1;
    tensor_of_.push_back(0);
    for (const ConvStep& s : full.steps) tensor_of_.push_back(s.tensor);
    producer_.resize(stages_);
    for (int st = 1; st < stages_; ++st)
      for (const ConvSource& src : full.steps[st - 1].sources) producer_[st].push_back(stage_of(src.tensor));
    // Schedule and ring sizes depend only on heights, so one simulation on the full plan serves every strip.
    Strip probe = make_strip(W);
    simulate(probe);
    halo_ = halo(full);

    // Strip layout: the widest interior whose rings fit threads x budget, but never so narrow that the halo's
    // recomputation costs more than a quarter of the work: past that, spilling to L3 is cheaper than recomputing.
    const size_t budget = segment_bytes * size_t(pool.size());
    half_ = rings == RingStorage::Half || (rings == RingStorage::Auto && auto_half_rings(ring_bytes(W, false), budget));
    int interior = W;
    if (ring_bytes(W, half_) > budget) {
      int fit = down_;
      for (int w = W - down_; w >= down_; w -= down_)
        if (ring_bytes(std::min(W, w + 2 * halo_), half_) <= budget) {
          fit = w;
          break;
        }
      interior = std::min(W, std::max(fit, 8 * halo_));
      int n = (W + interior - 1) / interior;
      interior = ((W + n - 1) / n + down_ - 1) / down_ * down_;
    }
    for (int a = 0; a < W; a += interior) {
      int b = std::min(W, a + interior);
      Segment sg;
      sg.in0 = std::max(0, a - halo_);
      sg.in1 = std::min(W, b + halo_);
      sg.out0 = a / out_scale;
      sg.out1 = b / out_scale;
      int w = sg.in1 - sg.in0;
      if (!strips_.count(w)) strips_.emplace(w, make_strip(w));
      sg.strip = &strips_.at(w);
      segments_.push_back(sg);
    }
    int widest = 0;
    for (const Segment& s : segments_) widest = std::max(widest, s.in1 - s.in0);
    const Strip& ws = strips_.at(widest);
    if (half_) {
      // The output stage has no consumer: its rows are read back from the scratch, unrounded.
      hrings_.resize(stages_);
      for (int st = 0; st + 1 < stages_; ++st) hrings_[st].assign(ws.geom[st].row_floats * slots_[st], 0);
      scratch_.assign(scratch_floats(ws.geom), 0.0f);
    } else {
      rings_.resize(stages_);
      for (int st = 0; st < stages_; ++st) rings_[st].assign(ws.geom[st].row_floats * slots_[st], 0.0f);
    }
    bytes_ = ring_bytes(widest, half_);
  }

  void run(const InputSource& in, std::vector<float>& out) override {
    const int ot = full_.output_tensor;
    const int OW = full_.width[ot], OH = full_.height[ot];
    out.assign(size_t(full_.channels[ot]) * OW * OH, 0.0f);
    for (const Segment& sg : segments_) run_segment(in, sg, out, OW, OH);
  }

  size_t working_set_bytes() const override { return bytes_; }
  RingStorage rings() const override { return half_ ? RingStorage::Half : RingStorage::Float; }

 private:
  struct Segment {
    int in0, in1;    // input columns the strip computes
    int out0, out1;  // output columns it keeps (global)
    const Strip* strip;
  };

  Strip make_strip(int width) const {
    Strip s;
    s.plan = make_plan_like(width);
    for (const ConvStep& st : s.plan.steps) s.convs.push_back(make_tile_conv(s.plan, st, k_, winograd_));
    s.geom.push_back(TileGeom(width, s.plan.height[0], 3));
    for (const TileConv& c : s.convs) s.geom.push_back(c.out);
    return s;
  }
  // The full plan re-sized to a strip width (same graph, same weights).
  Plan make_plan_like(int width) const {
    Plan p = full_;
    const int W = full_.width[0];
    for (size_t t = 0; t < p.width.size(); ++t) p.width[t] = int(int64_t(full_.width[t]) * width / W);
    return p;
  }

  // Stage that produces tensor t.
  int stage_of(int tensor) const {
    return int(std::find(tensor_of_.begin(), tensor_of_.end(), tensor) - tensor_of_.begin());
  }

  // Deepest-runnable-first on row counts alone; records the order and each ring's peak live rows.
  void simulate(const Strip& s) {
    std::vector<int> next(stages_, 0), rows(stages_);
    for (int st = 0; st < stages_; ++st) rows[st] = s.geom[st].tiles_y;
    std::vector<std::vector<std::pair<int, int>>> consumers(stages_);  // (consumer stage, source index)
    for (int st = 1; st < stages_; ++st)
      for (size_t si = 0; si < s.convs[st - 1].src.size(); ++si) consumers[producer_[st][si]].push_back({st, int(si)});
    slots_.assign(stages_, 1);
    int remaining = 0;
    for (int r : rows) remaining += r;
    while (remaining > 0) {
      int chosen = -1;
      for (int st = stages_ - 1; st >= 0 && chosen < 0; --st) {
        if (next[st] == rows[st]) continue;
        bool ready = true;
        if (st > 0) {
          const TileConv& c = s.convs[st - 1];
          for (size_t si = 0; si < c.src.size() && ready; ++si) {
            int first, count;
            source_rows(c, int(si), next[st], first, count);
            ready = first + count <= next[producer_[st][si]];
          }
        }
        if (ready) chosen = st;
      }
      if (chosen < 0) throw std::logic_error("pipeline schedule deadlocked");
      schedule_.push_back(chosen);
      next[chosen]++;
      remaining--;
      // Oldest row of `chosen` any unfinished consumer still needs: everything from there to next is live.
      int lo = next[chosen];
      for (auto [cs, si] : consumers[chosen]) {
        if (next[cs] == rows[cs]) continue;
        int first, count;
        source_rows(s.convs[cs - 1], si, next[cs], first, count);
        lo = std::min(lo, first);
      }
      slots_[chosen] = std::max(slots_[chosen], next[chosen] - lo);
    }
  }

  // Input columns at a strip's inner edge whose values can differ from the full-width result: the contamination
  // from the edge's zero padding grows by one source pixel per conv at that conv's resolution.
  int halo(const Plan& p) const {
    const int W = p.width[0];
    std::vector<int> k(p.width.size(), 0);  // contaminated pixels at each tensor's resolution
    for (const ConvStep& s : p.steps) {
      int kin = 0;
      for (const ConvSource& src : s.sources) kin = std::max(kin, src.up ? 2 * k[src.tensor] : k[src.tensor]);
      k[s.tensor] = (kin + 1 + s.stride - 1) / s.stride + 1;
    }
    int ot = p.output_tensor;
    int m = k[ot] * (W / p.width[ot]);
    return (m + down_ - 1) / down_ * down_;
  }

  // Rings of a strip `width` wide (half: without the output stage's, plus the float scratch).
  size_t ring_bytes(int width, bool half) const {
    const std::vector<TileGeom> geom = stage_geoms(make_plan_like(width));
    size_t elems = 0;
    for (int st = 0; st < stages_ - (half ? 1 : 0); ++st) elems += geom[st].row_floats * slots_[st];
    return half ? elems * sizeof(uint16_t) + scratch_floats(geom) * sizeof(float) : elems * sizeof(float);
  }
  std::vector<TileGeom> stage_geoms(const Plan& p) const {
    std::vector<TileGeom> g = {TileGeom(p.width[0], p.height[0], 3)};
    for (const ConvStep& s : p.steps) g.push_back(TileGeom(p.width[s.tensor], p.height[s.tensor], s.out_channels));
    return g;
  }
  // Half rings' float scratch: the largest step's source rows (<= 3 per source) and its output row.
  size_t scratch_floats(const std::vector<TileGeom>& geom) const {
    size_t most = geom[0].row_floats;
    for (int st = 1; st < stages_; ++st) {
      size_t f = geom[st].row_floats;
      for (int src : producer_[st]) f += 3 * geom[src].row_floats;
      most = std::max(most, f);
    }
    return most;
  }

  void run_segment(const InputSource& in, const Segment& sg, std::vector<float>& out, int OW, int OH) {
    const Strip& s = *sg.strip;
    std::vector<int> next(stages_, 0);
    auto row_ptr = [&](int st, int r) { return rings_[st].data() + s.geom[st].row_floats * (r % slots_[st]); };
    auto hrow_ptr = [&](int st, int r) { return hrings_[st].data() + s.geom[st].row_floats * (r % slots_[st]); };
    const int out_stage = stages_ - 1;
    const int scale = full_.width[0] / full_.width[full_.output_tensor];
    const int keep0 = sg.out0 - sg.in0 / scale, keep1 = sg.out1 - sg.in0 / scale;
    RowWindow win[8];
    for (size_t i = 0; i < schedule_.size(); ++i) {
      const int st = schedule_[i];
      const int r = next[st]++;
      const TileGeom& g = s.geom[st];
      if (i + 1 < schedule_.size()) {
        if (half_)
          prefetch_sources(s, schedule_[i + 1], next, hrow_ptr);
        else
          prefetch_sources(s, schedule_[i + 1], next, row_ptr);
      }
      // Half: the kernels write the scratch's output row; each share is converted into the ring as it is done.
      float* dst = half_ ? nullptr : row_ptr(st, r);
      uint16_t* hdst = half_ && st != out_stage ? hrow_ptr(st, r) : nullptr;
      auto store_half = [&](int y0, int y1, int t0, int t1) {
        if (!hdst) return;
        const size_t n = size_t(y1 - y0) * kTile * kGroup;
        for (int t = t0; t < t1; ++t)
          for (int gr = 0; gr < g.groups; ++gr) {
            const size_t o = size_t(t * g.groups + gr) * kGroupFloats + size_t(y0) * kTile * kGroup;
            k_.to_half(dst + o, n, hdst + o);
          }
      };
      if (st == 0) {
        if (half_) dst = scratch_.data();
        pool_.run(kTile * g.tiles_x, [&](int a, int b) {
          for_share(g.tiles_x, a, b, [&](int y0, int y1, int t0, int t1) {
            write_input_tile_row(k_, in, g, r, y0, y1, sg.in0, t0, t1, dst);
            store_half(y0, y1, t0, t1);
          });
        });
        continue;
      }
      const TileConv& c = s.convs[st - 1];
      float* scratch = scratch_.data();
      int decode = 0;  // half: rows to convert, (ring row, scratch row, floats)
      for (size_t si = 0; si < c.src.size(); ++si) {
        int first, count;
        source_rows(c, int(si), r, first, count);
        win[si].first = first;
        for (int q = 0; q < count; ++q) {
          if (!half_) {
            win[si].rows[q] = row_ptr(producer_[st][si], first + q);
            continue;
          }
          decode_[decode++] = {hrow_ptr(producer_[st][si], first + q), scratch, c.src[si].geom.row_floats};
          win[si].rows[q] = scratch;
          scratch += c.src[si].geom.row_floats;
        }
      }
      if (half_) {
        dst = scratch;
        decode_rows(decode);
      }
      pool_.run(kTile * g.tiles_x, [&](int a, int b) {
        for_share(g.tiles_x, a, b, [&](int y0, int y1, int t0, int t1) {
          k_.conv_row(c, r, y0, y1, t0, t1, win, dst);
          store_half(y0, y1, t0, t1);
        });
      });
      if (st == out_stage) read_output_tile_row(k_, g, dst, r, keep0, keep1, sg.out0 - keep0, out, OW, OH);
    }
  }

  // Converts the step's half source rows into the scratch, the rows cut into chunks the threads share.
  void decode_rows(int rows) {
    constexpr size_t kChunk = 4096;  // floats
    int units = 0;
    for (int q = 0; q < rows; ++q) units += int((decode_[q].floats + kChunk - 1) / kChunk);
    pool_.run(units, [&](int a, int b) {
      int u0 = 0;
      for (int q = 0; q < rows && u0 < b; ++q) {
        const Decode& d = decode_[q];
        const int n = int((d.floats + kChunk - 1) / kChunk);
        for (int u = std::max(a, u0); u < std::min(b, u0 + n); ++u) {
          const size_t o = size_t(u - u0) * kChunk;
          k_.from_half(d.src + o, std::min(kChunk, d.floats - o), d.dst + o);
        }
        u0 += n;
      }
    });
  }

  // Starts the hardware prefetcher on the rows the next step reads (the first 4 KiB of each: the stream takes over).
  template <class RowPtr>
  void prefetch_sources(const Strip& s, int st, const std::vector<int>& next, RowPtr row_ptr) const {
    if (st == 0) return;
    const TileConv& c = s.convs[st - 1];
    for (size_t si = 0; si < c.src.size(); ++si) {
      int first, count;
      source_rows(c, int(si), next[st], first, count);
      for (int q = 0; q < count; ++q) {
        const auto* row = row_ptr(producer_[st][si], first + q);
        const char* p = reinterpret_cast<const char*>(row);
        size_t bytes = std::min<size_t>(4096, c.src[si].geom.row_floats * sizeof(*row));
        for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(p + o, 0, 2);
      }
    }
  }

  Plan full_;
  Kernels k_;
  ThreadPool& pool_;
  bool winograd_ = false;
  int down_ = 1, stages_ = 0, halo_ = 0;
  std::vector<int> tensor_of_, slots_, schedule_;
  std::vector<std::vector<int>> producer_;  // [stage][source] -> producing stage
  std::map<int, Strip> strips_;
  std::vector<Segment> segments_;
  std::vector<AlignedFloats> rings_;
  bool half_ = false;
  std::vector<std::vector<uint16_t, AlignedAllocator<uint16_t>>> hrings_;
  AlignedFloats scratch_;
  struct Decode {
    const uint16_t* src;
    float* dst;
    size_t floats;
  };
  Decode decode_[3 * 8];  // <= 3 rows of each of a RowWindow array's 8 sources
  size_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<ExecutorImpl> make_pipeline_executor(const Plan& plan, const Kernels& k, ThreadPool& pool,
                                                     size_t segment_bytes, bool winograd, RingStorage rings) {
  return std::make_unique<PipelineExecutor>(plan, k, pool, segment_bytes, winograd, rings);
}

}  // namespace bty
