#include "base/reaper.h"

#include <system_error>

namespace berth {

Reaper::~Reaper() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  // Jobs queued after a failed thread start ran inline; nothing is left.
}

void Reaper::add(std::function<void()> job) {
  {
    std::lock_guard lk(mu_);
    if (!worker_.joinable()) {
      try {
        worker_ = std::thread([this] { loop(); });
      } catch (const std::system_error&) {
      }
    }
    if (worker_.joinable()) {
      jobs_.push_back(std::move(job));
      cv_.notify_all();
      return;
    }
  }
  job();
}

void Reaper::drain() {
  std::unique_lock lk(mu_);
  idle_cv_.wait(lk, [&] { return jobs_.empty() && !running_job_; });
}

void Reaper::loop() {
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [&] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) break;  // stop_, and nothing left to run
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    running_job_ = true;
    lk.unlock();
    job();
    lk.lock();
    running_job_ = false;
    if (jobs_.empty()) idle_cv_.notify_all();
  }
  idle_cv_.notify_all();
}

}  // namespace berth
