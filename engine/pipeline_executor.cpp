// The super-pipeline: every materialised tensor lives in a ring of tile-rows, and a precomputed schedule runs
// whichever stage has its input rows ready, deepest first, so rows are consumed as soon as they exist and the
// intermediates stay in cache. Wide inputs are cut into vertical Segments (strips with a halo as wide as the net's
// receptive field) so the rings of one strip fit the per-thread L2 budget at any input size.
//
// Threads: when the frame is tall enough, it is cut into horizontal Bands, one per thread, each with its own rings
// and a halo of rows above and below (the same contamination radius as the strips' columns): the threads then never
// synchronise inside a frame and every ring stays in its own core's L2. Otherwise (small inputs, where the halo would
// cost more than it saves) all threads work on the same step, each on half of the tile-row.
//
// Half rings (RingStorage::Half): the rings hold IEEE halves. A step runs in column chunks of a few tiles, each in a
// small per-thread float scratch: the source tiles the chunk's taps reach (plus a margin) are converted in, the fp32
// kernel writes the chunk's output tiles there, and they are converted back into the ring (the output stage is read
// back from the scratch unrounded). So the float working copy is tens of KiB, not whole rows.
//
// Skip masks (flat-tile bypass, reuse of unchanged tiles) plug in per step: a step is a (stage, tile-row, tile range)
// call, so a mask per tensor and tile-row lets the kernel skip tiles or copy them from the previous frame's ring.
#include <algorithm>
#include <map>
#include <stdexcept>

#include "executor.h"

namespace bty {
namespace {

// One strip size (width x band height): its plan, convs and the replayable schedule. Stage 0 writes the input,
// stage k+1 runs step k.
struct Strip {
  Plan plan;
  std::vector<int> order;      // the schedule: stage per step
  std::vector<int> slots;      // per stage: ring slots (peak live tile-rows)
  std::vector<TileConv> convs;
  std::vector<TileGeom> geom;  // per stage
  std::vector<int> chunk;      // per stage: output tiles per column chunk (half rings)
  size_t scratch_floats = 0;   // the largest chunk's float scratch (half rings)
};

class PipelineExecutor final : public ExecutorImpl {
 public:
  PipelineExecutor(const Plan& full, const Kernels& k, ThreadPool& pool, size_t segment_bytes, bool winograd,
                   RingStorage rings)
      : full_(full), k_(k), pool_(pool), winograd_(winograd) {
    down_ = 1;
    for (const ConvStep& s : full.steps) down_ = std::max(down_, full.width[0] / full.width[s.tensor]);
    const int W = full.width[0], H = full.height[0];
    scale_ = W / full.width[full.output_tensor];
    stages_ = int(full.steps.size()) + 1;
    tensor_of_.push_back(0);
    for (const ConvStep& s : full.steps) tensor_of_.push_back(s.tensor);
    producer_.resize(stages_);
    for (int st = 1; st < stages_; ++st)
      for (const ConvSource& src : full.steps[st - 1].sources) producer_[st].push_back(stage_of(src.tensor));
    halo_ = halo(full);
    half_ = (rings == RingStorage::Auto ? kAutoRings : rings) == RingStorage::Half;

    // Bands: one per thread, each interior rounded to the downsampling factor (every band's stride-2 grids line up
    // with the full frame's), when the interior is at least kBandHalos halos tall; else one band whose steps the
    // threads share.
    const int threads = pool.size();
    const int band = (H + threads - 1) / threads, band_interior = (band + down_ - 1) / down_ * down_;
    const bool banded = threads > 1 && band_interior >= kBandHalos * halo_ && band_interior < H;
    bands_ = cut(H, banded ? band_interior : H, scale_);
    step_threads_ = banded ? 1 : threads;

    // A one-tile chunk reads <= 4 tiles of each of its source rows (stride 2 and the margin).
    for (const ConvStep& st : full.steps) {
      size_t f = size_t(TileGeom(8, 8, st.out_channels).groups) * kGroupFloats;
      for (const ConvSource& src : st.sources)
        f += 3 * 4 * size_t(TileGeom(8, 8, full.channels[src.tensor]).groups) * kGroupFloats;
      chunk_scratch_floats_ = std::max(chunk_scratch_floats_, f);
    }
    // Schedule and ring sizes depend only on heights: the tallest band's serve the strip layout.
    int tallest = 0;
    for (const Range& b : bands_) tallest = std::max(tallest, b.in1 - b.in0);
    const std::vector<int> slots = make_strip(W, tallest).slots;

    // Strip layout: the widest interior whose rings fit the budget of the threads that share them, but never so narrow
    // that the halo's recomputation costs more than a quarter of the work: past that, spilling to L3 is cheaper than
    // recomputing.
    const size_t budget = segment_bytes * size_t(step_threads_);
    int interior = W;
    if (ring_bytes(W, tallest, slots) > budget) {
      int fit = down_;
      for (int w = W - down_; w >= down_; w -= down_)
        if (ring_bytes(std::min(W, w + 2 * halo_), tallest, slots) <= budget) {
          fit = w;
          break;
        }
      interior = std::min(W, std::max(fit, 8 * halo_));
      int n = (W + interior - 1) / interior;
      interior = ((W + n - 1) / n + down_ - 1) / down_ * down_;
    }
    segments_ = cut(W, interior, scale_);
    for (const Range& sg : segments_)
      for (const Range& b : bands_) {
        const std::pair<int, int> wh(sg.in1 - sg.in0, b.in1 - b.in0);
        if (!strips_.count(wh)) strips_.emplace(wh, make_strip(wh.first, wh.second));
      }

    // Every band's rings hold the largest strip it runs. Half: the output stage has no consumer (its rows are read
    // back from the scratch, unrounded), and the chunks' scratch is at most the bound the strips were laid out with.
    size_t elems = 0;
    for (const Range& b : bands_) {
      std::vector<size_t> n(stages_ - (half_ ? 1 : 0), 0);
      for (const Range& sg : segments_) {
        const Strip& s = strip(sg, b);
        for (size_t st = 0; st < n.size(); ++st) n[st] = std::max(n[st], s.geom[st].row_floats * s.slots[st]);
      }
      if (half_) {
        hrings_.emplace_back(n.size());
        for (size_t st = 0; st < n.size(); ++st) hrings_.back()[st].assign(n[st], 0);
      } else {
        rings_.emplace_back(n.size());
        for (size_t st = 0; st < n.size(); ++st) rings_.back()[st].assign(n[st], 0.0f);
      }
      for (size_t v : n) elems += v;
    }
    if (half_) {
      size_t used = 0;
      for (const auto& [wh, st] : strips_) used = std::max(used, st.scratch_floats);
      chunk_scratch_floats_ = used;
    }
    bytes_ = half_ ? elems * sizeof(uint16_t) + size_t(threads) * chunk_scratch_floats_ * sizeof(float)
                   : elems * sizeof(float);
  }

  void run(const InputSource& in, std::vector<float>& out) override {
    const int ot = full_.output_tensor;
    const int OW = full_.width[ot], OH = full_.height[ot];
    out.assign(size_t(full_.channels[ot]) * OW * OH, 0.0f);
    if (bands_.size() == 1) {
      for (const Range& sg : segments_) run_segment(in, sg, bands_[0], 0, true, out, OW, OH);
      return;
    }
    // One band per share: a thread runs its band's strips alone (a descheduled worker's band is taken by the caller).
    pool_.run(int(bands_.size()), [&](int a, int b) {
      for (int i = a; i < b; ++i)
        for (const Range& sg : segments_) run_segment(in, sg, bands_[size_t(i)], i, false, out, OW, OH);
    });
  }

  size_t working_set_bytes() const override { return bytes_; }
  RingStorage rings() const override { return half_ ? RingStorage::Half : RingStorage::Float; }

 private:
  // A Segment's columns or a Band's rows.
  struct Range {
    int in0, in1;    // input columns/rows it computes
    int out0, out1;  // output columns/rows it keeps (global)
  };
  // A band's interior rows must outnumber its halo rows by this much: two bands then compute at most 1/kBandHalos more
  // than one does, far less than what two threads on one step lose to waiting and to cross-core ring traffic.
  static constexpr int kBandHalos = 2;

  // [0, n) in interiors of `interior` (a multiple of down_), each widened by the halo within [0, n).
  std::vector<Range> cut(int n, int interior, int out_scale) const {
    std::vector<Range> r;
    for (int a = 0; a < n; a += interior) {
      const int b = std::min(n, a + interior);
      r.push_back({std::max(0, a - halo_), std::min(n, b + halo_), a / out_scale, b / out_scale});
    }
    return r;
  }
  const Strip& strip(const Range& segment, const Range& band) const {
    return strips_.at({segment.in1 - segment.in0, band.in1 - band.in0});
  }

  Strip make_strip(int width, int height) {
    Strip s;
    s.plan = make_plan_like(width, height);
    for (const ConvStep& st : s.plan.steps) s.convs.push_back(make_tile_conv(s.plan, st, k_, winograd_));
    s.geom.push_back(TileGeom(width, s.plan.height[0], 3));
    for (const TileConv& c : s.convs) s.geom.push_back(c.out);
    if (half_) {
      for (int st = 0; st < stages_; ++st) {
        const TileConv* c = st ? &s.convs[size_t(st - 1)] : nullptr;
        const TileGeom& g = s.geom[size_t(st)];
        s.chunk.push_back(chunk_tiles(c, g));
        for (int t = 0; t < g.tiles_x; t += s.chunk.back())
          s.scratch_floats = std::max(s.scratch_floats, chunk_floats(c, g, t, std::min(g.tiles_x, t + s.chunk.back())));
      }
    }
    simulate(s);
    return s;
  }
  // The full plan re-sized to a strip (same graph, same weights).
  Plan make_plan_like(int width, int height) const {
    Plan p = full_;
    const int W = full_.width[0], H = full_.height[0];
    for (size_t t = 0; t < p.width.size(); ++t) {
      p.width[t] = int(int64_t(full_.width[t]) * width / W);
      p.height[t] = int(int64_t(full_.height[t]) * height / H);
    }
    return p;
  }

  // Stage that produces tensor t.
  int stage_of(int tensor) const {
    return int(std::find(tensor_of_.begin(), tensor_of_.end(), tensor) - tensor_of_.begin());
  }

  // Deepest-runnable-first on row counts alone; records the order and each ring's peak live rows.
  void simulate(Strip& s) const {
    std::vector<int> next(stages_, 0), rows(stages_);
    for (int st = 0; st < stages_; ++st) rows[st] = s.geom[st].tiles_y;
    std::vector<std::vector<std::pair<int, int>>> consumers(stages_);  // (consumer stage, source index)
    for (int st = 1; st < stages_; ++st)
      for (size_t si = 0; si < s.convs[st - 1].src.size(); ++si) consumers[producer_[st][si]].push_back({st, int(si)});
    s.slots.assign(stages_, 1);
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
      s.order.push_back(chosen);
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
      s.slots[chosen] = std::max(s.slots[chosen], next[chosen] - lo);
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

  // Rings of one strip (half: without the output stage's, plus the chunk scratch of every thread sharing them).
  size_t ring_bytes(int width, int height, const std::vector<int>& slots) const {
    const std::vector<TileGeom> geom = stage_geoms(make_plan_like(width, height));
    size_t elems = 0;
    for (int st = 0; st < stages_ - (half_ ? 1 : 0); ++st) elems += geom[st].row_floats * slots[st];
    return half_ ? elems * sizeof(uint16_t) + size_t(step_threads_) * chunk_scratch_floats_ * sizeof(float)
                 : elems * sizeof(float);
  }
  std::vector<TileGeom> stage_geoms(const Plan& p) const {
    std::vector<TileGeom> g = {TileGeom(p.width[0], p.height[0], 3)};
    for (const ConvStep& s : p.steps) g.push_back(TileGeom(p.width[s.tensor], p.height[s.tensor], s.out_channels));
    return g;
  }

  // Half rings: a chunk's float scratch (per thread) holds per source its rows' tiles [first, last] the chunk reads,
  // then the chunk's output tiles: kChunkTargetFloats (64 KiB, L2-resident), or one output tile's needs if larger.
  static constexpr size_t kChunkTargetFloats = 16 * 1024;
  // Source tiles output tiles [tx0, tx1) of conv c may read: the taps' columns with a margin of two (Winograd spans
  // and patches read up to two columns past the last output), through the folded upsampling.
  static void source_tiles(const TileConv& c, int s, int tx0, int tx1, int& first, int& last) {
    const int st = c.step->stride;
    const int ix_lo = std::max(0, tx0 * kTile * st - 2), ix_hi = std::min(c.in_w - 1, tx1 * kTile * st + 2 * st + 2);
    const bool up = c.src[size_t(s)].up;
    first = (up ? ix_lo >> 1 : ix_lo) / kTile;
    last = std::min(c.src[size_t(s)].geom.tiles_x - 1, (up ? ix_hi >> 1 : ix_hi) / kTile);
  }
  static size_t chunk_floats(const TileConv* c, const TileGeom& out, int tx0, int tx1) {
    size_t f = size_t(tx1 - tx0) * out.groups * kGroupFloats;
    if (c)
      for (size_t si = 0; si < c->src.size(); ++si) {
        int first, last;
        source_tiles(*c, int(si), tx0, tx1, first, last);
        f += 3 * size_t(std::max(0, last - first + 1)) * c->src[si].geom.groups * kGroupFloats;
      }
    return f;
  }
  // Output tiles per chunk of a stage: the most whose every chunk fits the scratch, and no more than a thread's share.
  int chunk_tiles(const TileConv* c, const TileGeom& out) const {
    auto fits = [&](int n) {
      for (int t = 0; t < out.tiles_x; t += n)
        if (chunk_floats(c, out, t, std::min(out.tiles_x, t + n)) > chunk_scratch_floats_) return false;
      return true;
    };
    if (!fits(1)) throw std::logic_error("pipeline: a one-tile chunk exceeds the half-ring scratch");
    const int share = (out.tiles_x + step_threads_ - 1) / step_threads_;
    int n = 1;
    while (n < share && fits(n + 1)) ++n;
    return n;
  }
  float* chunk_scratch() const {
    thread_local AlignedFloats buf;
    if (buf.size() < chunk_scratch_floats_) buf.resize(chunk_scratch_floats_);
    return buf.data();
  }

  // One strip of one band as run_segment runs it.
  struct Job {
    const Strip& s;
    const Range &sg, &bd;
    int lane;    // the band's rings
    bool split;  // the pool's threads share each step (one band), or this thread runs them all (a band per thread)
    int keep0, keep1, keep_y0, keep_y1;  // the output map's columns and rows it keeps (strip coordinates)
    std::vector<float>& out;
    int OW, OH;
    // fn(begin, end) over [0, n): shared by the pool's threads, or all on this one.
    template <class Fn>
    void par(ThreadPool& pool, int n, const Fn& fn) const {
      if (split)
        pool.run(n, fn);
      else
        fn(0, n);
    }
    // The output stage's tile-row r lies in the band's halo: nothing reads it.
    bool unkept(int r) const { return (r + 1) * kTile <= keep_y0 || r * kTile >= keep_y1; }
    void read_output(const Kernels& k, const TileGeom& g, const float* row, int r, int x0, int x1) const {
      read_output_tile_row(k, g, row, r, x0, x1, sg.out0 - keep0, keep_y0, keep_y1, bd.out0 - keep_y0, out, OW, OH);
    }
  };

  // Half rings: one step as column chunks shared by the threads (see the top of the file).
  void run_half_step(const Job& j, const InputSource& in, int st, int r) {
    const Strip& s = j.s;
    const TileGeom& g = s.geom[st];
    const TileConv* c = st > 0 ? &s.convs[st - 1] : nullptr;
    const int ct = s.chunk[st], chunks = (g.tiles_x + ct - 1) / ct;
    const size_t out_tile = size_t(g.groups) * kGroupFloats;
    const bool last = st == stages_ - 1;
    uint16_t* hdst = last ? nullptr : hring_row(j, st, r);
    j.par(pool_, chunks, [&](int a, int b) {
      float* buf = chunk_scratch();
      for (int ch = a; ch < b; ++ch) {
        const int tx0 = ch * ct, tx1 = std::min(g.tiles_x, tx0 + ct);
        float* p = buf;
        RowWindow win[8];
        if (c)
          for (size_t si = 0; si < c->src.size(); ++si) {
            const size_t tile = size_t(c->src[si].geom.groups) * kGroupFloats;
            int first, count, y0, y1, t0, t1;
            source_rows(*c, int(si), r, first, count);
            source_pixel_rows(*c, int(si), r, y0, y1);
            source_tiles(*c, int(si), tx0, tx1, t0, t1);
            win[si].first = first;
            const int groups = c->src[si].geom.groups;
            for (int q = 0; q < count; ++q) {
              // The row pointer is based so that tile t0 lands at p: the kernel addresses tiles as in the ring.
              // Only the pixel rows the kernels read are converted (of the tile-rows above and below: one or two).
              const uint16_t* h = hring_row(j, producer_[st][si], first + q);
              const int top = 8 * (first + q), r0 = std::max(0, y0 - top), r1 = std::min(kTile - 1, y1 - top);
              const size_t o0 = size_t(r0) * kTile * kGroup, n = size_t(r1 - r0 + 1) * kTile * kGroup;
              for (int t = t0; t <= t1; ++t)
                for (int gr = 0; gr < groups; ++gr) {
                  const size_t o = (size_t(t - t0) * groups + gr) * kGroupFloats + o0;
                  k_.from_half(h + size_t(t0) * tile + o, n, p + o);
                }
              win[si].rows[q] = p - size_t(t0) * tile;
              p += size_t(std::max(0, t1 - t0 + 1)) * tile;
            }
          }
        float* dst = p - size_t(tx0) * out_tile;  // tiles [tx0, tx1) at p
        if (c)
          k_.conv_row(*c, r, 0, kTile, tx0, tx1, win, dst);
        else
          write_input_tile_row(k_, in, g, r, 0, kTile, j.sg.in0, j.bd.in0, tx0, tx1, dst);
        if (hdst) k_.to_half(p, size_t(tx1 - tx0) * out_tile, hdst + size_t(tx0) * out_tile);
        if (last) {
          const int x0 = std::max(j.keep0, tx0 * kTile), x1 = std::min(j.keep1, tx1 * kTile);
          if (x0 < x1) j.read_output(k_, g, dst, r, x0, x1);
        }
      }
    });
  }
  uint16_t* hring_row(const Job& j, int st, int r) {
    return hrings_[size_t(j.lane)][size_t(st)].data() + j.s.geom[st].row_floats * (r % j.s.slots[st]);
  }

  void run_segment(const InputSource& in, const Range& sg, const Range& bd, int lane, bool split,
                   std::vector<float>& out, int OW, int OH) {
    const Strip& s = strip(sg, bd);
    const int x_origin = sg.in0 / scale_, y_origin = bd.in0 / scale_;
    const Job j{s,           sg, bd, lane, split, sg.out0 - x_origin, sg.out1 - x_origin, bd.out0 - y_origin,
                bd.out1 - y_origin, out, OW, OH};
    std::vector<int> next(stages_, 0);
    auto row_ptr = [&](int st, int r) {
      return rings_[size_t(lane)][size_t(st)].data() + s.geom[st].row_floats * (r % s.slots[st]);
    };
    auto hrow_ptr = [&](int st, int r) { return hring_row(j, st, r); };
    const int out_stage = stages_ - 1;
    RowWindow win[8];
    for (size_t i = 0; i < s.order.size(); ++i) {
      const int st = s.order[i];
      const int r = next[st]++;
      const TileGeom& g = s.geom[st];
      if (st == out_stage && j.unkept(r)) continue;
      if (half_) {
        if (i + 1 < s.order.size()) prefetch_sources(s, s.order[i + 1], next, hrow_ptr);
        run_half_step(j, in, st, r);
        continue;
      }
      if (i + 1 < s.order.size()) prefetch_sources(s, s.order[i + 1], next, row_ptr);
      float* dst = row_ptr(st, r);
      if (st == 0) {
        j.par(pool_, kTile * g.tiles_x, [&](int a, int b) {
          for_share(g.tiles_x, a, b, [&](int y0, int y1, int t0, int t1) {
            write_input_tile_row(k_, in, g, r, y0, y1, sg.in0, bd.in0, t0, t1, dst);
          });
        });
        continue;
      }
      const TileConv& c = s.convs[st - 1];
      for (size_t si = 0; si < c.src.size(); ++si) {
        int first, count;
        source_rows(c, int(si), r, first, count);
        win[si].first = first;
        for (int q = 0; q < count; ++q) win[si].rows[q] = row_ptr(producer_[st][si], first + q);
      }
      j.par(pool_, kTile * g.tiles_x, [&](int a, int b) {
        for_share(g.tiles_x, a, b,
                  [&](int y0, int y1, int t0, int t1) { k_.conv_row(c, r, y0, y1, t0, t1, win, dst); });
      });
      if (st == out_stage) j.read_output(k_, g, dst, r, j.keep0, j.keep1);
    }
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
  int down_ = 1, stages_ = 0, halo_ = 0, scale_ = 1;  // scale_: input pixels per output pixel
  int step_threads_ = 1;                                // threads sharing each step: all with one band, else 1
  std::vector<int> tensor_of_;
  std::vector<std::vector<int>> producer_;  // [stage][source] -> producing stage
  std::map<std::pair<int, int>, Strip> strips_;  // by (width, height)
  std::vector<Range> segments_, bands_;
  std::vector<std::vector<AlignedFloats>> rings_;  // [band][stage]
  bool half_ = false;
  size_t chunk_scratch_floats_ = kChunkTargetFloats;
  std::vector<std::vector<std::vector<uint16_t, AlignedAllocator<uint16_t>>>> hrings_;  // [band][stage]
  size_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<ExecutorImpl> make_pipeline_executor(const Plan& plan, const Kernels& k, ThreadPool& pool,
                                                     size_t segment_bytes, bool winograd, RingStorage rings) {
  return std::make_unique<PipelineExecutor>(plan, k, pool, segment_bytes, winograd, rings);
}

}  // namespace bty
