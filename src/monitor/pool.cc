// monitor/pool.cc — MonitorPool (client.h): monitors started ahead of need.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/strings.h"
#include "monitor/client.h"
#include "monitor/spawn_internal.h"

namespace berth::monitor {

// A started monitor waiting for its config path on `cmd` (its stdin) and
// reporting on `report` (its stderr). The reaper thread owns its waiting;
// `pidfd` lets us signal it without racing a reuse of its pid.
struct MonitorPool::Idle {
  pid_t pid = 0;
  Fd pidfd, cmd, report;
};

struct MonitorPool::State {
  std::string binary;
  size_t path_len = 0;
  bool enabled = false;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::optional<Idle> idle;
  bool want = false;  // keep one idle monitor
  bool stop = false;
  std::thread thread;

  void loop();
  Result<Idle> start_idle() const;
  // Waits for the started monitor's "idle" line (protocol.h, "Pooled").
  Result<void> await_idle_line(const Idle& m);
};

namespace {

std::string placeholder(size_t len) {
  std::string s(kPooledArgPrefix);
  s.resize(len, '.');
  return s;
}

}  // namespace

Result<MonitorPool::Idle> MonitorPool::State::start_idle() const {
  int sv[2];
  // A socket rather than a pipe: send() with MSG_NOSIGNAL to a monitor that
  // died while idle fails with EPIPE instead of raising SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return sys_error("socketpair");
  Fd cmd(sv[0]), cmd_theirs(sv[1]);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe");
  Fd report(p[0]), report_theirs(p[1]);
  std::vector<std::string> args = {binary, "--foreground", placeholder(path_len)};
  pid_t pid = BERTH_TRY(internal::spawn_monitor_process(binary, std::move(args), cmd_theirs.get(),
                                                        report_theirs.get()));
  Idle idle;
  idle.pid = pid;
  idle.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!idle.pidfd || !internal::reap_later(pid)) {
    int err = errno;
    ::kill(pid, SIGKILL);
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return sys_error(fmt::format("watching berth-monitor {}", pid), err);
  }
  idle.cmd = std::move(cmd);
  idle.report = std::move(report);
  return idle;
}

Result<void> MonitorPool::State::await_idle_line(const Idle& m) {
  // A SCHED_IDLE start-up may take long on a busy machine: until the line
  // comes, spawn() finds no idle monitor and spawns its own, so nothing
  // waits for this one. Checked for stop every 100 ms.
  std::string got;
  while (got.find('\n') == std::string::npos) {
    {
      std::lock_guard lk(mu);
      if (stop) return make_error(Errc::Cancelled, "stopping");
    }
    struct pollfd pfd = {m.report.get(), POLLIN, 0};
    int r = ::poll(&pfd, 1, 100);
    if (r < 0 && errno != EINTR) return sys_error("poll");
    if (r <= 0) continue;
    char buf[64];
    ssize_t n = ::read(m.report.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string msg = internal::report_message(got);
      return make_error(Errc::Internal, "idle monitor {} exited: {}", m.pid,
                        msg.empty() ? "no message" : msg);
    }
    if (got.size() < 4096) got.append(buf, static_cast<size_t>(n));
  }
  if (trim(got) != "idle")
    return make_error(Errc::Internal, "idle monitor {}: {}", m.pid, internal::report_message(got));
  return {};
}

namespace {

// Puts the calling thread in SCHED_IDLE, so that the monitors it spawns
// inherit it: their exec and start-up then run only on CPU time nothing else
// wants. A refill right after a bind would otherwise slow the very create
// and start it follows (+4 ms on a `run -d` measured on 2 vCPUs). Only when
// a thread of these credentials can get back to SCHED_OTHER, as a bound
// monitor must (protocol.h, "Pooled"): tried first on this thread.
// False only when the thread is stuck in SCHED_IDLE (then it must start no
// monitor: none could leave it).
bool run_as_idle_class() {
  if (::sched_getscheduler(0) != SCHED_OTHER) return true;
  struct sched_param sp = {};
  if (::sched_setscheduler(0, SCHED_IDLE, &sp) != 0) return true;
  if (::sched_setscheduler(0, SCHED_OTHER, &sp) != 0) {
    log_warn("berth-monitor pool: off, cannot leave SCHED_IDLE: {}", std::strerror(errno));
    return false;
  }
  (void)::sched_setscheduler(0, SCHED_IDLE, &sp);
  return true;
}

}  // namespace

void MonitorPool::State::loop() {
  if (!run_as_idle_class()) return;  // spawn() finds no idle monitor, ever
  std::unique_lock lk(mu);
  while (true) {
    cv.wait(lk, [&] { return stop || (want && !idle); });
    if (stop) return;
    lk.unlock();
    auto r = start_idle();
    if (r) {
      if (auto w = await_idle_line(*r); !w) {
        // Dropping it closes its stdin: it exits (the reaper has it).
        r = unexpected(std::move(w).error());
      }
    }
    lk.lock();
    if (r) {
      idle = std::move(*r);
    } else if (stop) {
      return;
    } else {
      // Not retried in a loop: the next spawn() asks again (and reports a
      // broken monitor binary through its own spawn).
      want = false;
      log_warn("berth-monitor pool: {}", r.error().message);
    }
  }
}

MonitorPool::MonitorPool(std::string monitor_binary, size_t config_path_len)
    : st_(std::make_unique<State>()) {
  st_->binary = std::move(monitor_binary);
  st_->path_len = config_path_len;
  st_->enabled = internal::can_reap_later() && config_path_len > kPooledArgPrefix.size();
  if (!st_->enabled) return;
  try {
    st_->thread = std::thread([s = st_.get()] { s->loop(); });
  } catch (const std::system_error&) {
    st_->enabled = false;
  }
}

MonitorPool::~MonitorPool() {
  {
    std::lock_guard lk(st_->mu);
    st_->stop = true;
  }
  st_->cv.notify_all();
  if (st_->thread.joinable()) st_->thread.join();
  // Closing its stdin ends the idle monitor (EOF before a config path).
  st_->idle.reset();
}

void MonitorPool::fill() {
  if (!st_->enabled) return;
  {
    std::lock_guard lk(st_->mu);
    st_->want = true;
  }
  st_->cv.notify_one();
}

pid_t MonitorPool::idle_pid() const {
  std::lock_guard lk(st_->mu);
  return st_->idle ? st_->idle->pid : 0;
}

Result<pid_t> MonitorPool::spawn(const std::string& config_path, const MonitorConfig& config,
                                 std::chrono::milliseconds timeout) {
  std::optional<Idle> idle;
  if (st_->enabled && config_path.size() == st_->path_len &&
      config_path.find('\n') == std::string::npos) {
    {
      std::lock_guard lk(st_->mu);
      idle = std::move(st_->idle);
      st_->idle.reset();
      st_->want = true;
    }
    st_->cv.notify_one();
  }
  if (!idle) return monitor::spawn(st_->binary, config_path, config, timeout);
  BERTH_TRY(internal::write_config(config_path, config));
  std::string line = config_path + "\n";
  ssize_t n;
  while ((n = ::send(idle->cmd.get(), line.data(), line.size(), MSG_NOSIGNAL)) < 0 &&
         errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(line.size())) {
    // It died while idle (the reaper has it): a fresh monitor does the job.
    log_debug("berth-monitor pool: idle monitor {} is gone", idle->pid);
    return internal::spawn_written(st_->binary, config_path, config, timeout);
  }
  idle->cmd.reset();
  bool timed_out = false;
  std::string out =
      internal::read_report(idle->report.get(), internal::Clock::now() + timeout, true, &timed_out);
  if (!timed_out && trim(out) == "ok") return idle->pid;
  // As monitor::spawn, a failed spawn returns once the monitor is gone (it
  // has cleaned up before reporting; only its exit is left).
  auto wait_gone = [&] {
    struct pollfd pfd = {idle->pidfd.get(), POLLIN, 0};
    while (::poll(&pfd, 1, 5000) < 0 && errno == EINTR) {
    }
  };
  if (timed_out) {
    ::syscall(SYS_pidfd_send_signal, idle->pidfd.get(), SIGKILL, nullptr, 0);
    wait_gone();
    return make_error(Errc::DeadlineExceeded, "berth-monitor did not report within {} ms",
                      timeout.count());
  }
  wait_gone();
  std::string msg = internal::report_message(out);
  if (msg.empty()) msg = "berth-monitor exited during setup";
  return make_error(Errc::Internal, "{}", msg);
}

}  // namespace berth::monitor
