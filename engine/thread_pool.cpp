#include "thread_pool.h"

#include <immintrin.h>

namespace bty {

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> l(mutex_);
    stop_ = true;
    generation_++;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run(int n, const std::function<void(int, int)>& fn) {
  const int t = size();
  if (t == 1 || n < 2) {
    fn(0, n);
    return;
  }
  fn_ = &fn;
  n_ = n;
  pending_.store(t - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> l(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  fn(0, n / t);
  // Spin, then yield: on a loaded machine the worker may be waiting for this core.
  for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < 4000) _mm_pause();
    else std::this_thread::yield();
  }
}

void ThreadPool::worker(int id) {
  uint64_t seen = 0;
  for (;;) {
    // Spin ~50 us for the next step, then sleep.
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen && spins < 20000) {
      _mm_pause();
      ++spins;
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> l(mutex_);
      wake_.wait(l, [&] { return generation_.load(std::memory_order_acquire) != seen; });
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_) return;
    const int t = size();
    (*fn_)(int(int64_t(n_) * id / t), int(int64_t(n_) * (id + 1) / t));
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace bty
