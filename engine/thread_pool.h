// A fork-join pool for the executors' parallel steps (the layered executor's per-layer row ranges; the pipeline
// enters it once per Segment and schedules its stage groups itself). Shares of a step are claimed, not assigned:
// whoever is running takes the next unclaimed share, so a worker that the OS has descheduled never makes the caller
// wait for work it has not started (on a loaded 2-core machine that wait would be a whole time slice per step).
// Workers spin up to ~20 us between steps and sleep when idle.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bty {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // 1..64
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  int size() const { return int(workers_.size()) + 1; }
  // Pauses a waiting thread spins before it yields the core (a few hundred us): under load a yield can cost a whole
  // time slice, so not sooner.
  static constexpr int kSpinsBeforeYield = 4000;
  // Calls fn(begin, end) on contiguous shares of [0, n) (one per thread); returns when all are done.
  void run(int n, const std::function<void(int, int)>& fn);

 private:
  void worker();
  void work(uint64_t generation);
  std::vector<std::thread> workers_;
  // (generation << 16) | (shares << 8) | next unclaimed share: one word, so a claim can never hit a newer job.
  std::atomic<uint64_t> state_{0};
  std::atomic<int> done_{0};
  uint64_t generation_ = 0;
  const std::function<void(int, int)>* fn_ = nullptr;
  int n_ = 0, shares_ = 0;
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace bty
