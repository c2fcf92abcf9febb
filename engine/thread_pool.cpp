#include "thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>

namespace bty {

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> l(mutex_);
    stop_ = true;
    state_.store((++generation_) << 16, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::work(uint64_t generation) {
  for (;;) {
    uint64_t s = state_.load(std::memory_order_acquire);
    if ((s >> 16) != generation) return;
    // The share count travels in the state word: a worker still looking at a finished job must never compare
    // against the next job's count (it could then claim a share of a job it has not seen).
    const int share = int(s & 0xFF), shares = int((s >> 8) & 0xFF);
    if (share >= shares) return;
    if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
    (*fn_)(int(int64_t(n_) * share / shares), int(int64_t(n_) * (share + 1) / shares));
    done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(int n, const std::function<void(int, int)>& fn) {
  if (workers_.empty() || n < 2) {
    fn(0, n);
    return;
  }
  fn_ = &fn;
  n_ = n;
  shares_ = std::min(size(), n);
  done_.store(0, std::memory_order_relaxed);
  const uint64_t g = ++generation_;
  {
    std::lock_guard<std::mutex> l(mutex_);
    state_.store(g << 16 | uint64_t(shares_) << 8, std::memory_order_release);
  }
  wake_.notify_all();
  work(g);
  // Every share is claimed now; wait only for shares a worker is actually running.
  for (int spins = 0; done_.load(std::memory_order_acquire) != shares_; ++spins) {
    if (spins < kSpinsBeforeYield)
      _mm_pause();
    else
      std::this_thread::yield();
  }
}

void ThreadPool::worker() {
  uint64_t seen = 0;
  for (;;) {
    auto fresh = [&] { return (state_.load(std::memory_order_acquire) >> 16) != seen; };
    // Spin at most ~20 us for the next step (the gap between steps of one run() is a few us); then sleep, so an
    // idle pool between frames costs no CPU.
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
    for (int spins = 0; !fresh(); ++spins) {
      _mm_pause();
      if ((spins & 63) == 63 && std::chrono::steady_clock::now() > until) break;
    }
    if (!fresh()) {
      std::unique_lock<std::mutex> l(mutex_);
      wake_.wait(l, fresh);
    }
    seen = state_.load(std::memory_order_acquire) >> 16;
    {
      std::lock_guard<std::mutex> l(mutex_);
      if (stop_) return;
    }
    work(seen);
  }
}

}  // namespace bty
