// sys/systemd.h — the two systemd protocols berthd speaks without libsystemd:
// socket activation (sd_listen_fds(3): LISTEN_PID / LISTEN_FDS, the sockets
// numbered from 3) and readiness notification (sd_notify(3): one datagram
// to $NOTIFY_SOCKET). Both are plain environment + socket conventions, so a
// dependency on libsystemd (and its NSS-adjacent baggage) is not needed.
// Depends on: base.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::sys {

// First fd systemd passes (SD_LISTEN_FDS_START).
inline constexpr int kListenFdsStart = 3;

// How many sockets the environment says were passed to process `self`:
// 0 when LISTEN_PID is unset or names another process (a child that
// inherited the variables must not take its parent's sockets).
// InvalidArgument when the variables are malformed.
Result<int> listen_fd_count(const char* listen_pid, const char* listen_fds, pid_t self);

// The sockets systemd passed to this process, [3, 3+n), marked close-on-exec.
// Unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES so that processes berthd
// starts do not see them. Not thread-safe (setenv/unsetenv): call it before
// any thread starts.
Result<std::vector<int>> take_listen_fds();

// Sends `state` ("READY=1", "STOPPING=1", "RELOADING=1"...) as one datagram
// to `socket_path` (a path, or "@name" for the abstract namespace).
Result<void> notify_socket(const std::string& socket_path, std::string_view state);

// notify_socket to $NOTIFY_SOCKET; does nothing (ok) when it is unset, i.e.
// when berthd was not started by systemd with Type=notify.
Result<void> notify(std::string_view state);

}  // namespace berth::sys
