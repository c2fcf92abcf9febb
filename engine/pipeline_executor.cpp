// The super-pipeline: every materialised tensor lives in a ring of tile-rows (but the net input, where the first conv
// reads it itself: TileConv::input_fused), and a precomputed schedule runs
// whichever stage has its input rows ready, deepest first, so rows are consumed as soon as they exist and the
// intermediates stay in cache. Wide inputs are cut into vertical Segments (strips with a halo as wide as the net's
// receptive field) so the rings of one strip fit the per-thread L2 budget at any input size.
//
// Threads: the stages are cut into contiguous groups of about equal measured cost (kGroupsPerThread per thread), and
// each group runs its steps in schedule order as soon as their source rows exist and the ring slot they overwrite is
// no longer read, so threads wait on each other only while the pipeline fills or drains. Each step runs whole on one
// thread: no per-step fork-join, no halo recomputation, and the same arithmetic as with one thread. Rings read across
// groups get kGroupSlack more slots so a group can run that far ahead. Any free thread takes any group whose next step
// is ready, so a descheduled worker stalls the frame only while it holds a group mid-step.
//
// Half rings (RingStorage::Half): the rings hold IEEE halves. A step runs in column chunks of a few tiles, each in a
// small per-thread float scratch: the source tiles the chunk's taps reach (plus a margin) are converted in, the fp32
// kernel writes the chunk's output tiles there, and they are converted back into the ring (the output stage is read
// back from the scratch unrounded). So the float working copy is tens of KiB, not whole rows.
//
// Skip masks (flat-tile bypass, reuse of unchanged tiles) plug in per step: a step is a (stage, tile-row, tile range)
// call, so a mask per tensor and tile-row lets the kernel skip tiles or copy them from the previous frame's ring.
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>

#include "executor.h"

namespace bty {
namespace {

// One strip width: its plan, convs and the replayable schedule. Stage 0 writes the input (nothing where the first
// conv reads it itself), stage k+1 runs step k.
struct Strip {
  Plan plan;
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
    const int W = full.width[0];
    const int out_scale = W / full.width[full.output_tensor];
    stages_ = int(full.steps.size()) + 1;
    tensor_of_.push_back(0);
    for (const ConvStep& s : full.steps) tensor_of_.push_back(s.tensor);
    producer_.resize(stages_);
    for (int st = 1; st < stages_; ++st)
      for (const ConvSource& src : full.steps[st - 1].sources) producer_[st].push_back(stage_of(src.tensor));
    consumers_.resize(stages_);
    for (int st = 1; st < stages_; ++st)
      for (size_t si = 0; si < producer_[st].size(); ++si) consumers_[producer_[st][si]].push_back({st, int(si)});
    // Schedule and ring sizes depend only on heights, so one simulation on the full plan serves every strip.
    Strip probe = make_strip(W);
    // A first conv that reads the input itself leaves stage 0 with nothing to do and no ring (TileConv::input_fused).
    for (const TileConv& c : probe.convs) input_fused_ = input_fused_ || c.input_fused;
    simulate(probe);
    halo_ = halo(full);
    // The layout assumes every ring has the groups' slack: the partition may change with the measured costs.
    std::vector<int> most = slots_;
    if (pool.size() > 1)
      for (int& n : most) n += kGroupSlack;

    // Strip layout: the widest interior whose rings fit threads x budget, but never so narrow that the halo's
    // recomputation costs more than a quarter of the work: past that, spilling to L3 is cheaper than recomputing.
    const size_t budget = segment_bytes * size_t(pool.size());
    half_ = (rings == RingStorage::Auto ? kAutoRings : rings) == RingStorage::Half;
    // A one-tile chunk reads <= 4 tiles of each of its source rows (stride 2 and the margin).
    for (const ConvStep& st : full.steps) {
      size_t f = size_t(TileGeom(8, 8, st.out_channels).groups) * kGroupFloats;
      for (const ConvSource& src : st.sources)
        f += 3 * 4 * size_t(TileGeom(8, 8, full.channels[src.tensor]).groups) * kGroupFloats;
      chunk_scratch_floats_ = std::max(chunk_scratch_floats_, f);
    }
    int interior = W;
    if (ring_bytes(W, half_, most) > budget) {
      int fit = down_;
      for (int w = W - down_; w >= down_; w -= down_)
        if (ring_bytes(std::min(W, w + 2 * halo_), half_, most) <= budget) {
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
    for (const Segment& s : segments_) widest_ = std::max(widest_, s.in1 - s.in0);
    if (half_) {
      // The scratch the chunks use: at most the bound the strips were laid out with.
      size_t used = 0;
      for (const auto& [w, st] : strips_) used = std::max(used, st.scratch_floats);
      chunk_scratch_floats_ = used;
    }
    // Until a frame has been timed, a stage costs its MACs (the input stage: a pixel each).
    cost_.assign(size_t(stages_), input_fused_ ? 0.0 : double(W) * full.height[0]);
    for (int st = 1; st < stages_; ++st) cost_[st] = double(conv_macs(full, full.steps[st - 1]));
    done_ = std::make_unique<StageDone[]>(size_t(stages_));
    groups_ = pool.size() > 1 ? kGroupsPerThread * pool.size() : 1;
    group_ = std::make_unique<Group[]>(size_t(groups_));
    next_.assign(size_t(stages_), 0);
    partition();
  }

  void run(const InputSource& in, std::vector<float>& out) override {
    const int ot = full_.output_tensor;
    const int OW = full_.width[ot], OH = full_.height[ot];
    out.resize(size_t(full_.channels[ot]) * OW * OH);  // every value is written below: no fill (1 MB for M)
    for (const Segment& sg : segments_) run_segment(in, sg, out, OW, OH);
    if (pool_.size() > 1) {
      // Balance the next frame on this one's times (per stage the least seen: preemption only ever adds).
      for (int st = 0; st < stages_; ++st)
        cost_[st] = timed_ ? std::min(cost_[st], double(ticks_[st])) : double(ticks_[st]);
      timed_ = true;
      partition();
    }
  }

  size_t working_set_bytes() const override { return bytes_; }
  std::vector<std::string> conv_kinds() const override {  // every strip width chooses the same kinds
    std::vector<std::string> k;
    for (const TileConv& c : segments_.front().strip->convs) k.push_back(to_string(c.kind));
    return k;
  }
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
    if (half_) {
      for (int st = 0; st < stages_; ++st) {
        const TileConv* c = st ? &s.convs[size_t(st - 1)] : nullptr;
        const TileGeom& g = s.geom[size_t(st)];
        s.chunk.push_back(chunk_tiles(c, g));
        for (int t = 0; t < g.tiles_x; t += s.chunk.back())
          s.scratch_floats = std::max(s.scratch_floats, chunk_floats(c, g, t, std::min(g.tiles_x, t + s.chunk.back())));
      }
    }
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
      for (auto [cs, si] : consumers_[chosen]) {
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

  // Rings of a strip `width` wide (half: without the output stage's, plus every thread's chunk scratch).
  size_t ring_bytes(int width, bool half, const std::vector<int>& slots) const {
    const std::vector<TileGeom> geom = stage_geoms(make_plan_like(width));
    size_t elems = 0;
    for (int st = input_fused_ ? 1 : 0; st < stages_ - (half ? 1 : 0); ++st) elems += geom[st].row_floats * slots[st];
    return half ? elems * sizeof(uint16_t) + size_t(pool_.size()) * chunk_scratch_floats_ * sizeof(float)
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
  // Output tiles per chunk of a stage: the most whose every chunk fits the scratch.
  int chunk_tiles(const TileConv* c, const TileGeom& out) const {
    auto fits = [&](int n) {
      for (int t = 0; t < out.tiles_x; t += n)
        if (chunk_floats(c, out, t, std::min(out.tiles_x, t + n)) > chunk_scratch_floats_) return false;
      return true;
    };
    if (!fits(1)) throw std::logic_error("pipeline: a one-tile chunk exceeds the half-ring scratch");
    int n = 1;
    while (n < out.tiles_x && fits(n + 1)) ++n;
    return n;
  }
  float* chunk_scratch() const {
    thread_local AlignedFloats buf;
    if (buf.size() < chunk_scratch_floats_) buf.resize(chunk_scratch_floats_);
    return buf.data();
  }

  // Half rings: one step as column chunks (see the top of the file).
  void run_half_step(const Strip& s, const Segment& sg, const InputSource& in, int st, int r, std::vector<float>& out,
                     int OW, int OH, int keep0, int keep1) {
    if (st == 0 && input_fused_) return;
    const TileGeom& g = s.geom[st];
    const TileConv* c = st > 0 ? &s.convs[st - 1] : nullptr;
    const int ct = s.chunk[st], chunks = (g.tiles_x + ct - 1) / ct;
    const size_t out_tile = size_t(g.groups) * kGroupFloats;
    const bool last = st == stages_ - 1;
    uint16_t* hdst = last ? nullptr : hring_row(s, st, r);
    float* buf = chunk_scratch();
    for (int ch = 0; ch < chunks; ++ch) {
      const int tx0 = ch * ct, tx1 = std::min(g.tiles_x, tx0 + ct);
      float* p = buf;
      RowWindow win[8];
      if (c && !c->input_fused)
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
            const uint16_t* h = hring_row(s, producer_[st][si], first + q);
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
      if (c && c->input_fused)
        k_.conv_input(*c, r, 0, kTile, tx0, tx1, InputWindow{&in, sg.in0}, dst);
      else if (c)
        k_.conv_row(*c, r, 0, kTile, tx0, tx1, win, dst);
      else
        write_input_tile_row(k_, in, g, r, 0, kTile, sg.in0, tx0, tx1, dst);
      if (hdst) k_.to_half(p, size_t(tx1 - tx0) * out_tile, hdst + size_t(tx0) * out_tile);
      if (last) {
        const int x0 = std::max(keep0, tx0 * kTile), x1 = std::min(keep1, tx1 * kTile);
        if (x0 < x1) read_output_tile_row(k_, g, dst, r, x0, x1, sg.out0 - keep0, out, OW, OH);
      }
    }
  }
  uint16_t* hring_row(const Strip& s, int st, int r) {
    return hrings_[st].data() + s.geom[st].row_floats * (r % ring_slots_[st]);
  }

  void run_segment(const InputSource& in, const Segment& sg, std::vector<float>& out, int OW, int OH) {
    const Strip& s = *sg.strip;
    const int groups = groups_;
    for (int st = 0; st < stages_; ++st) {
      next_[st] = 0;
      done_[st].rows.store(0, std::memory_order_relaxed);
    }
    // Each group's steps, as schedule indices.
    for (auto& g : group_steps_) g.clear();
    group_steps_.resize(size_t(groups));
    for (size_t i = 0; i < schedule_.size(); ++i) group_steps_[size_t(group_of_[schedule_[i]])].push_back(int(i));
    for (int g = 0; g < groups; ++g) {
      group_[g].cursor = 0;
      group_[g].busy.store(false, std::memory_order_relaxed);
      group_[g].finished.store(group_steps_[size_t(g)].empty(), std::memory_order_relaxed);
    }
    // One share per thread, but any thread runs any group whose next step is ready (its home group first).
    pool_.run(pool_.size(), [&](int a, int) { run_groups(in, sg, s, a * groups / pool_.size(), out, OW, OH); });
  }

  // Runs ready steps of free groups until every group is done.
  void run_groups(const InputSource& in, const Segment& sg, const Strip& s, int home, std::vector<float>& out, int OW,
                  int OH) {
    const int groups = int(group_steps_.size());
    for (int idle = 0;; ++idle) {
      bool all_done = true, ran = false;
      for (int k = 0; k < groups && !ran; ++k) {
        Group& g = group_[(home + k) % groups];
        const std::vector<int>& steps = group_steps_[size_t((home + k) % groups)];
        if (g.finished.load(std::memory_order_acquire)) continue;
        all_done = false;
        if (g.busy.exchange(true, std::memory_order_acquire)) continue;
        // Holding the group for one step only: a thread descheduled between steps then holds nothing. The cursor
        // is checked again: another thread may have run the last step since `finished` was read.
        const int i = g.cursor < int(steps.size()) ? steps[size_t(g.cursor)] : -1;
        if (i >= 0 && ready(s, schedule_[size_t(i)], next_[schedule_[size_t(i)]])) {
          const int st = schedule_[size_t(i)], r = next_[st];
          if (g.cursor + 1 < int(steps.size())) {
            const int ns = schedule_[size_t(steps[size_t(g.cursor + 1)])];
            prefetch_sources(s, ns, next_[ns] + (ns == st));
          }
          const uint64_t t0 = __rdtsc();
          run_step(in, sg, s, st, r, out, OW, OH);
          ticks_[st] += __rdtsc() - t0;
          next_[st] = r + 1;
          done_[st].rows.store(r + 1, std::memory_order_release);
          ran = true;
          if (++g.cursor == int(steps.size())) g.finished.store(true, std::memory_order_release);
        }
        g.busy.store(false, std::memory_order_release);
      }
      if (all_done) return;
      // Waiting: spin (a step takes microseconds), then give the core away in case what we wait for is held by a
      // thread descheduled on it.
      if (ran)
        idle = 0;
      else if (idle < ThreadPool::kSpinsBeforeYield)
        _mm_pause();
      else
        std::this_thread::yield();
    }
  }

  // Whether step (st, r) may run now: its source rows are done, and every consumer of st is past the row whose slot
  // it overwrites.
  bool ready(const Strip& s, int st, int r) const {
    int first, count;
    if (st > 0)
      for (size_t si = 0; si < producer_[st].size(); ++si) {
        source_rows(s.convs[st - 1], int(si), r, first, count);
        if (done_[producer_[st][si]].rows.load(std::memory_order_acquire) < first + count) return false;
      }
    const int old = r - ring_slots_[st];
    if (old >= 0)
      for (auto [cs, si] : consumers_[st]) {
        const int d = done_[cs].rows.load(std::memory_order_acquire);
        if (d == s.geom[cs].tiles_y) continue;
        source_rows(s.convs[cs - 1], si, d, first, count);
        if (first <= old) return false;
      }
    return true;
  }

  float* ring_row(const Strip& s, int st, int r) { return static_cast<float*>(row_ptr(s, st, r)); }
  // Half rings' slot of row r, or the float ring's.
  void* row_ptr(const Strip& s, int st, int r) {
    const size_t o = s.geom[st].row_floats * size_t(r % ring_slots_[st]);
    return half_ ? static_cast<void*>(hrings_[st].data() + o) : static_cast<void*>(rings_[st].data() + o);
  }

  void run_step(const InputSource& in, const Segment& sg, const Strip& s, int st, int r, std::vector<float>& out,
                int OW, int OH) {
    const int scale = full_.width[0] / full_.width[full_.output_tensor];
    const int keep0 = sg.out0 - sg.in0 / scale, keep1 = sg.out1 - sg.in0 / scale;
    if (half_) {
      run_half_step(s, sg, in, st, r, out, OW, OH, keep0, keep1);
      return;
    }
    const TileGeom& g = s.geom[st];
    if (st == 0) {
      if (!input_fused_) write_input_tile_row(k_, in, g, r, 0, kTile, sg.in0, 0, g.tiles_x, ring_row(s, 0, r));
      return;
    }
    float* dst = ring_row(s, st, r);
    const TileConv& c = s.convs[st - 1];
    if (c.input_fused) {
      k_.conv_input(c, r, 0, kTile, 0, g.tiles_x, InputWindow{&in, sg.in0}, dst);
    } else {
      RowWindow win[8];
      for (size_t si = 0; si < c.src.size(); ++si) {
        int first, count;
        source_rows(c, int(si), r, first, count);
        win[si].first = first;
        for (int q = 0; q < count; ++q)
          win[si].rows[q] = static_cast<const float*>(row_ptr(s, producer_[st][si], first + q));
      }
      k_.conv_row(c, r, 0, kTile, 0, g.tiles_x, win, dst);
    }
    if (st == stages_ - 1) read_output_tile_row(k_, g, dst, r, keep0, keep1, sg.out0 - keep0, out, OW, OH);
  }

  // groups_ contiguous stage groups of about equal cost (a stage joins the next group once its middle is past the
  // group's share).
  void partition() {
    const int groups = groups_;
    double total = 0, acc = 0;
    for (double c : cost_) total += c;
    group_of_.assign(size_t(stages_), 0);
    for (int st = 0, g = 0; st < stages_; ++st) {
      while (g + 1 < groups && acc + cost_[st] / 2 > total * (g + 1) / groups) ++g;
      group_of_[st] = g;
      acc += cost_[st];
    }
    ticks_.assign(size_t(stages_), 0);
    // Rings read across groups get the slack; the others keep the one-thread peak.
    std::vector<int> slots = slots_;
    for (int st = 0; st < stages_; ++st)
      for (auto [cs, si] : consumers_[st])
        if (group_of_[cs] != group_of_[st]) slots[st] = slots_[st] + kGroupSlack;
    if (slots == ring_slots_) return;
    ring_slots_ = slots;
    const Strip& ws = strips_.at(widest_);
    // The output stage has no consumer: with half rings its rows are read back from the scratch, unrounded.
    if (half_) {
      hrings_.resize(size_t(stages_));
      for (int st = input_fused_ ? 1 : 0; st + 1 < stages_; ++st)
        hrings_[st].assign(ws.geom[st].row_floats * ring_slots_[st], 0);
    } else {
      rings_.resize(size_t(stages_));
      for (int st = input_fused_ ? 1 : 0; st < stages_; ++st)
        rings_[st].assign(ws.geom[st].row_floats * ring_slots_[st], 0.0f);
    }
    bytes_ = ring_bytes(widest_, half_, ring_slots_);
  }

  // Starts the hardware prefetcher on the rows the next step reads (the first 4 KiB of each: the stream takes over).
  void prefetch_sources(const Strip& s, int st, int r) {
    if (st == 0 || s.convs[st - 1].input_fused) return;
    const TileConv& c = s.convs[st - 1];
    for (size_t si = 0; si < c.src.size(); ++si) {
      int first, count;
      source_rows(c, int(si), r, first, count);
      for (int q = 0; q < count; ++q) {
        const char* p = static_cast<const char*>(row_ptr(s, producer_[st][si], first + q));
        size_t bytes = std::min<size_t>(4096, c.src[si].geom.row_floats * (half_ ? sizeof(uint16_t) : sizeof(float)));
        for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(p + o, 0, 2);
      }
    }
  }

  // How far (tile-rows) a group may run ahead of the groups that read its rings.
  static constexpr int kGroupSlack = 2;
  // Stage groups per thread: more groups than threads let a thread whose group waits run another one. 4 rather than
  // 2 (eighteenth session, docs/engine.md "2-thread scaling"): 2 threads 7-17 % faster, ring slack +5-10 %.
  static constexpr int kGroupsPerThread = 4;
  struct alignas(64) StageDone {
    std::atomic<int> rows{0};  // tile-rows of the stage finished in this segment
  };
  struct alignas(64) Group {
    int cursor = 0;  // the next of its steps; only the thread holding `busy` touches it
    std::atomic<bool> busy{false}, finished{false};
  };

  Plan full_;
  Kernels k_;
  ThreadPool& pool_;
  bool winograd_ = false;
  int down_ = 1, stages_ = 0, halo_ = 0;
  std::vector<int> tensor_of_, slots_, schedule_;  // slots_: each ring's peak live rows with one thread
  std::vector<int> ring_slots_;                    // the rings' slots now: slots_, plus the slack across groups
  int widest_ = 0, groups_ = 1;                    // the widest strip: the rings hold its rows
  std::vector<std::vector<int>> producer_;         // [stage][source] -> producing stage
  std::vector<std::vector<std::pair<int, int>>> consumers_;  // [stage] -> (consumer stage, source index)
  // Threads (see the top of the file): stage -> group, the groups' steps of the running segment, per stage the rows
  // run (next_: by the thread holding its group; done_: published to the others), ticks spent this frame and the
  // cost the partition balances.
  std::vector<int> group_of_, next_;
  std::vector<std::vector<int>> group_steps_;
  std::unique_ptr<Group[]> group_;
  std::unique_ptr<StageDone[]> done_;
  std::vector<uint64_t> ticks_;
  std::vector<double> cost_;
  bool timed_ = false;
  std::map<int, Strip> strips_;
  std::vector<Segment> segments_;
  std::vector<AlignedFloats> rings_;
  bool half_ = false, input_fused_ = false;
  size_t chunk_scratch_floats_ = kChunkTargetFloats;
  std::vector<std::vector<uint16_t, AlignedAllocator<uint16_t>>> hrings_;
  size_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<ExecutorImpl> make_pipeline_executor(const Plan& plan, const Kernels& k, ThreadPool& pool,
                                                     size_t segment_bytes, bool winograd, RingStorage rings) {
  return std::make_unique<PipelineExecutor>(plan, k, pool, segment_bytes, winograd, rings);
}

}  // namespace bty
