// monitor/ctl.h — how berth-monitor drives a container: the built-in
// runtime library in-process, or an external runc-compatible binary
// (`<runtime> <args> --root <state_root> <command> ...`). Internal to the
// monitor (the engine uses monitor/client.h only).
//
// stdio: the fds the container's (or exec'd process's) stdin/stdout/stderr
// are connected to; ignored for a terminal process, whose pty master is
// returned instead. Every call is synchronous and short (runtime create /
// exec -d return once the process exists); the processes created are the
// monitor's children (built-in: CLONE_PARENT; external: via the subreaper).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/json.h"
#include "base/result.h"
#include "monitor/protocol.h"

namespace berth::monitor {

struct Stdio {
  int in = -1, out = -1, err = -1;
};

class Ctl {
 public:
  static std::unique_ptr<Ctl> make(const MonitorConfig& c);
  virtual ~Ctl() = default;
  // Creates the container; returns its init pid, and the pty master in
  // *master when tty.
  virtual Result<pid_t> create(const Stdio& io, bool tty, Fd* master) = 0;
  // Reads and checks the bundle ahead of create(), which then skips that
  // work if config.json has not changed since (runtime/container.h,
  // PreparedBundle). Best effort: a failure here is create()'s to report.
  // Only the built-in runtime does anything.
  virtual void prepare() {}
  virtual Result<void> start() = 0;
  virtual Result<void> kill(int sig, bool all) = 0;
  virtual Result<void> pause() = 0;
  virtual Result<void> resume() = 0;
  virtual Result<void> update(const Json& oci_resources) = 0;
  // Runs `oci_process` in the container, detached; the pid of the process.
  virtual Result<pid_t> exec(const Json& oci_process, const Stdio& io, Fd* master) = 0;
  // Deletes the runtime state (and the cgroup); forced.
  virtual Result<void> remove() = 0;
  // The container's memory cgroup directories (v1 memory hierarchy, or v2),
  // for OOM checks.
  virtual std::vector<std::string> memory_cgroup_dirs() = 0;
};

// docker's exit code for a process that could not be started: 127 when the
// executable is missing, 126 when it is not executable, else `fallback`.
int exec_failure_code(const std::string& message, int fallback);

// Whether the container's cgroup recorded an OOM kill.
bool cgroup_oom_killed(const std::vector<std::string>& dirs);

}  // namespace berth::monitor
