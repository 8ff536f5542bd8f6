// berth-monitor: its children ending. SIGCHLD reaps the container's init
// (exit code, OOM, the exit file, then draining the output before the exit
// event) and the execs (their exit codes, kept for exec inspect).
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "monitor/server.h"
#include "runtime/container.h"

namespace berth::monitor {

void Monitor::on_sigchld() {
  char buf[64];
  while (sig_r_ && ::read(sig_r_.get(), buf, sizeof buf) > 0) {
  }
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    Proc* init = find_proc("");
    if (init && pid == init->pid && phase_ != Phase::Draining && phase_ != Phase::Exited) {
      on_init_exit(status);
      continue;
    }
    for (auto& [k, p] : procs_) {
      if (!k.empty() && p.pid == pid && p.running) {
        on_exec_exit(p, status);
        break;
      }
    }
    // Anything else is an orphan reparented to us: reaped, nothing to do.
  }
}

void Monitor::on_init_exit(int status) {
  Proc& init = procs_[""];
  init.running = false;
  exit_.exit_code = forced_exit_code_ ? *forced_exit_code_ : runtime::exit_code_from_status(status);
  exit_.finished_ns = unix_ns();
  if (phase_ == Phase::Created) {
    // Died before start (killed, or shutdown): nothing to report.
    exit_.started_ns = 0;
  }
  phase_ = Phase::Draining;
  // The host ports go with the container, before anyone hears of its end
  // (a restart binds them again).
  stop_proxy();
  // The init of a pid namespace takes every process with it, so the output
  // pipes end promptly; the deadline covers a container sharing a pid
  // namespace whose other processes keep them open.
  drain_deadline_ms_ = mono_ms() + 1000;
  if (proc_io_done(init)) finish_exit();
}

void Monitor::finish_exit() {
  if (phase_ != Phase::Draining) return;
  // Exited from here on: the final reads below must not re-enter.
  phase_ = Phase::Exited;
  Proc& init = procs_[""];
  // Read whatever is still buffered, then stop.
  on_proc_out("", Kind::ProcOut, EPOLLIN);
  on_proc_out("", Kind::ProcErr, EPOLLIN);
  on_proc_out("", Kind::ProcPty, EPOLLIN);
  close_proc_io(init);
  if (log_) {
    [[maybe_unused]] auto r = log_->flush();
  }
  exit_.oom_killed = cgroup_oom_killed(ctl_->memory_cgroup_dirs());
  exit_.health_restart = health_restart_;
  // For a daemon that is down or restarting: it must survive the daemon's
  // crash, not a power loss (which ends the container too, and the daemon
  // then reports the monitor's death). No fsync on the exit path.
  if (auto r = write_file_atomic(c_.exit_file, dump_json(encode_exit(exit_)), 0644,
                                 Durability::ProcessCrashSafe);
      !r) {
    // Nowhere to report; the engine falls back to "died while the daemon was down".
  }
  // The exit record carries oom_killed; the engine emits docker's one "oom"
  // event from it (a separate event made two).
  Event e;
  e.event = "exit";
  e.exit = exit_;
  send_event(e);
  if (created_) {
    [[maybe_unused]] auto r = ctl_->remove();
    created_ = false;
  }
  unmount_rootfs();
  // The engine may remove the container's rootfs and files from here on.
  Event released;
  released.event = "released";
  send_event(released);
  for (auto& [t, c] : clients_) {
    c.closing = true;
    client_update(t, c);
  }
  std::vector<uint64_t> done;
  for (auto& [t, c] : clients_)
    if (c.pending.empty()) done.push_back(t);
  for (auto t : done) drop_client(t);
  quit_deadline_ms_ = mono_ms() + 2000;
}

void Monitor::on_exec_exit(Proc& p, int status) {
  p.running = false;
  p.exited_ms = mono_ms();
  if (p.probe) {
    p.exit_code = p.timed_out ? -1 : runtime::exit_code_from_status(status);
    health_result(p);
    return;
  }
  p.exit_code = runtime::exit_code_from_status(status);
  if (proc_io_done(p)) {
    close_proc_io(p);
    close_clients_of(p.key);
    p.exited_ms = 0;
  }
  Event e;
  e.event = "exec_exit";
  e.exec_id = p.key;
  e.exit_code = *p.exit_code;
  send_event(e);
}

Monitor::Proc* Monitor::find_proc(const std::string& key) {
  auto it = procs_.find(key);
  return it == procs_.end() ? nullptr : &it->second;
}

}  // namespace berth::monitor
