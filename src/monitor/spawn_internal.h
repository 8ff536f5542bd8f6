// monitor/spawn_internal.h — what spawn() (client.cc), MonitorPool (pool.cc)
// and the runtime tool runner (ctl.cc) share. Internal to the monitor module.
// Thread-safety: every function may be called from any thread.
#pragma once

#include <spawn.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "monitor/protocol.h"

namespace berth::monitor::internal {

using Clock = std::chrono::steady_clock;

// Whether reap_later() works here (pidfds came with Linux 5.3).
bool can_reap_later();
// Hands `pid`, a child of this process, to the reaper thread, which waits
// for it whenever it exits; no other code may wait for it after. False
// (nothing taken) without pidfds or when out of fds.
bool reap_later(pid_t pid);

// posix_spawn's file actions and attributes for a child whose stdin, stdout
// and stderr are `in`, `out` and `err` (-1: /dev/null) and which starts with
// no signal blocked or handled, whatever its spawner blocks or handles.
// Destroyed with the object.
struct SpawnSetup {
  SpawnSetup(int in, int out, int err);
  ~SpawnSetup();
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
};

// posix_spawn of `binary` with argv `args` (args[0] included), the
// monitor's environment (its malloc tunables added to this process's, so it
// need not re-execute itself), no signal blocked or handled, stdin from
// `stdin_fd` (-1: /dev/null), stdout to /dev/null and stderr to `stderr_fd`.
Result<pid_t> spawn_monitor_process(const std::string& binary, std::vector<std::string> args,
                                    int stdin_fd, int stderr_fd);

// Writes `config` to config_path (temp -> fsync -> rename), as spawn() does
// first.
Result<void> write_config(const std::string& config_path, const MonitorConfig& config);
// spawn() after write_config(): for a caller that has written it already.
Result<pid_t> spawn_written(const std::string& monitor_binary, const std::string& config_path,
                            const MonitorConfig& config, std::chrono::milliseconds timeout);

// What a monitor writes on its report pipe `fd`, read until EOF, the
// deadline (*timed_out = true) or, with stop_at_newline, the end of the
// first line. At most 4 KiB is kept.
std::string read_report(int fd, Clock::time_point deadline, bool stop_at_newline, bool* timed_out);

// The monitor's message in a report: its first line without the
// "berth-monitor: " prefix.
std::string report_message(const std::string& out);

}  // namespace berth::monitor::internal
