// A fork-join pool for the executors' short, frequent parallel steps: workers spin briefly between steps (a
// pipeline step is tens of microseconds, too short for a sleep/wake round trip) and sleep when idle.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bty {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  int size() const { return int(workers_.size()) + 1; }
  // Calls fn(begin, end) once per thread on contiguous shares of [0, n); returns when all are done.
  void run(int n, const std::function<void(int, int)>& fn);

 private:
  void worker(int id);
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  const std::function<void(int, int)>* fn_ = nullptr;
  int n_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace bty
