// The pool covers [0, n) exactly once per run, for any n and thread count, across many back-to-back runs.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "thread_pool.h"

namespace bty {
namespace {

TEST(ThreadPool, EveryIndexExactlyOncePerRun) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int n : {0, 1, 2, 3, 7, 64, 1000}) {
      for (int rep = 0; rep < 200; ++rep) {
        std::vector<std::atomic<int>> hits(n);
        pool.run(n, [&](int a, int b) {
          for (int i = a; i < b; ++i) hits[i]++;
        });
        for (int i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "threads " << threads << " n " << n;
      }
    }
  }
}

}  // namespace
}  // namespace bty
