// base/reaper.h — deletes things in the background: one worker thread that
// runs queued jobs in order, started on the first job.
//
// For work whose result nobody waits for (removing a deleted container's
// files after it is already gone from every list). Jobs must not throw and
// must not need the caller's locks. The destructor runs every queued job
// before it returns, so a job may use whatever outlives its Reaper; a
// process that dies first leaves the rest to its startup cleanup, which is
// why jobs may only finish what that cleanup would also finish.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace berth {

class Reaper {
 public:
  Reaper() = default;
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;
  ~Reaper();

  // Queues job. Runs it at once, on the caller's thread, when no worker
  // thread can be started.
  void add(std::function<void()> job);
  // Returns once every job queued before the call has run.
  void drain();

 private:
  void loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> jobs_;
  bool running_job_ = false;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace berth
