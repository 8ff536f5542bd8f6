#include "base/reaper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace berth {
namespace {

TEST(Reaper, RunsJobsInOrderOffTheCallersThread) {
  std::vector<int> order;
  std::mutex mu;
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> other_thread{true};
  Reaper r;
  for (int i = 0; i < 50; ++i) {
    r.add([&, i] {
      if (std::this_thread::get_id() == caller) other_thread = false;
      std::lock_guard lk(mu);
      order.push_back(i);
    });
  }
  r.drain();
  EXPECT_TRUE(other_thread);
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
}

TEST(Reaper, DrainWaitsForTheRunningJob) {
  std::atomic<bool> done{false};
  Reaper r;
  r.add([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    done = true;
  });
  r.drain();
  EXPECT_TRUE(done);
  r.drain();  // idle: returns at once
}

TEST(Reaper, DestructorRunsWhatIsQueued) {
  std::atomic<int> ran{0};
  {
    Reaper r;
    r.add([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ++ran;
    });
    for (int i = 0; i < 10; ++i) r.add([&] { ++ran; });
  }
  EXPECT_EQ(ran, 11);
}

}  // namespace
}  // namespace berth
