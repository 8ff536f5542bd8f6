// base/scope_exit.h — runs a callable when the scope ends unless dismissed.
// Used for rollback on error paths (undo a mkdir, a mount, a cgroup).
#pragma once

#include <utility>

namespace berth {

template <typename F>
class ScopeExit {
 public:
  explicit ScopeExit(F f) : f_(std::move(f)) {}
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  ~ScopeExit() {
    if (armed_) f_();
  }
  void dismiss() { armed_ = false; }

 private:
  F f_;
  bool armed_ = true;
};

}  // namespace berth
