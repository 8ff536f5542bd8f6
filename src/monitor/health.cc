// berth-monitor: health checks, with docker's semantics (probe every
// interval — start_interval during the start period — with a timeout;
// failures during the start period do not count until the first success;
// `retries` consecutive failures make the container unhealthy).
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>

#include "base/file.h"
#include "monitor/server.h"

namespace berth::monitor {
namespace {

std::string go_duration(int64_t ns) {
  // Enough of Go's time.Duration String() for whole and fractional seconds.
  if (ns % 1'000'000'000 == 0) return fmt::format("{}s", ns / 1'000'000'000);
  if (ns >= 1'000'000'000) return fmt::format("{}s", static_cast<double>(ns) / 1e9);
  if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  return fmt::format("{}µs", ns / 1000);
}

constexpr const char* kProbePrefix = "\x01health-";

}  // namespace

void Monitor::health_schedule(bool first) {
  (void)first;
  if (phase_ != Phase::Running || c_.health.test.empty()) {
    next_probe_ms_ = 0;
    return;
  }
  bool in_start =
      health_.status == "starting" && unix_ns() < started_ns_ + c_.health.start_period_ns;
  int64_t interval = in_start ? c_.health.start_interval_ns : c_.health.interval_ns;
  next_probe_ms_ = mono_ms() + std::max<int64_t>(interval / 1'000'000, 1);
}

void Monitor::write_health() {
  if (c_.health_file.empty()) return;
  [[maybe_unused]] auto r = write_file_atomic(c_.health_file, dump_json(encode_health(health_)),
                                              0644, Durability::ProcessCrashSafe);
}

void Monitor::health_probe() {
  next_probe_ms_ = 0;
  for (auto& [k, p] : procs_)
    if (p.probe && p.running) return;  // the previous probe still runs
  if (paused_) {
    // As docker: no probes while paused (they could not run anyway).
    health_schedule(false);
    return;
  }
  std::string key = fmt::format("{}{}", kProbePrefix, ++probe_seq_);
  Proc& p = procs_[key];
  p.key = key;
  p.probe = true;
  p.start_ns = unix_ns();
  int pp[2];
  Fd theirs_out, null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (::pipe2(pp, O_CLOEXEC) == 0) {
    p.out.reset(pp[0]);
    theirs_out.reset(pp[1]);
    ::fcntl(p.out.get(), F_SETFL, O_NONBLOCK);
  }
  Stdio io{null_in.get(), theirs_out.get(), theirs_out.get()};
  auto process = parse_json(oci_process_, "health process");
  schedule_trim();
  Result<pid_t> pid =
      process ? ctl_->exec(*process, io, nullptr) : Result<pid_t>(std::move(process).error());
  theirs_out.reset();
  if (!pid) {
    p.running = false;
    p.exit_code = exec_failure_code(pid.error().message, 126);
    p.output = pid.error().message;
    health_result(p);
    return;
  }
  p.pid = *pid;
  p.running = true;
  p.deadline_ms = mono_ms() + std::max<int64_t>(c_.health.timeout_ns / 1'000'000, 1);
  if (p.out) p.out_tok = watch(p.out.get(), EPOLLIN, Reg{Kind::ProcOut, key});
  on_sigchld();  // only now: the pid is known
}

void Monitor::health_result(Proc& p) {
  // The probe has exited: whatever it wrote is in the pipe already.
  if (p.out) on_proc_out(p.key, Kind::ProcOut, EPOLLIN);
  close_proc_io(p);
  HealthLog l;
  l.start_ns = p.start_ns;
  l.end_ns = unix_ns();
  l.exit_code = p.exit_code.value_or(-1);
  l.output = p.output;
  if (p.timed_out) {
    l.exit_code = -1;
    l.output = fmt::format("Health check exceeded timeout ({})", go_duration(c_.health.timeout_ns));
  }
  std::string key = p.key;
  procs_.erase(key);  // `p` is gone from here on

  std::string before = health_.status;
  if (l.exit_code == 0) {
    health_.failing_streak = 0;
    health_.status = "healthy";
  } else {
    bool count = true;
    if (health_.status == "starting" && l.start_ns - started_ns_ < c_.health.start_period_ns)
      count = false;
    if (count) {
      ++health_.failing_streak;
      int retries = c_.health.retries > 0 ? c_.health.retries : 3;
      if (health_.failing_streak >= retries) health_.status = "unhealthy";
    }
  }
  health_.log.push_back(std::move(l));
  if (health_.log.size() > 5) health_.log.erase(health_.log.begin());
  write_health();
  if (health_.status != before) {
    Event e;
    e.event = "health_status";
    e.health_status = health_.status;
    send_event(e);
    if (health_.status == "unhealthy" && c_.health.on_failure != "none" &&
        phase_ == Phase::Running) {
      health_restart_ = c_.health.on_failure == "restart";
      if (paused_) {
        [[maybe_unused]] auto r = ctl_->resume();
      }
      [[maybe_unused]] auto r = ctl_->kill(SIGKILL, false);
    }
  }
  health_schedule(false);
}

}  // namespace berth::monitor
