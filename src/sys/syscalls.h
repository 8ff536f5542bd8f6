// sys/syscalls.h — typed wrappers for the syscalls glibc 2.36 does not wrap
// or wraps awkwardly. Every function returns Result and names the call and
// path in its error. fd arguments are borrowed; returned Fds are owned.
// Depends on: base.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace berth::sys {

// openat2(2) with RESOLVE_IN_ROOT: resolves `path` as if `root_fd` were "/"
// so ".." and absolute symlinks cannot leave it (Linux 5.6+). This is how
// mount destinations are kept inside the rootfs (CVE-2021-30465 class).
Result<Fd> open_in_root(int root_fd, const std::string& path, int flags, mode_t mode = 0);

// Creates every missing directory of `path` under root_fd (resolved in root)
// and returns an O_PATH fd of the final component. When `leaf_is_dir` is
// false the final component is created as an empty regular file.
Result<Fd> mkdir_all_in_root(int root_fd, const std::string& path, bool leaf_is_dir,
                             mode_t mode = 0755);

// "/proc/self/fd/N": lets mount(2) act on an fd resolved safely beforehand.
std::string fd_path(int fd);

// pidfd_open(2); NotFound when the process is gone.
Result<Fd> pidfd_open(pid_t pid);
Result<void> pidfd_send_signal(int pidfd, int sig);

// Marks every fd >= `from` close-on-exec (close_range CLOSE_RANGE_CLOEXEC),
// so nothing the runtime opened reaches the container (CVE-2024-21626 class).
Result<void> cloexec_from(int from);

// From /proc/PID/stat: the state letter (field 3; 'Z' for a zombie) and the
// start time in clock ticks since boot (field 22), which tells a live
// container process from a recycled pid.
struct ProcessStat {
  char state = '?';
  unsigned long long start_time = 0;
};
Result<ProcessStat> process_stat(pid_t pid);
Result<unsigned long long> process_start_time(pid_t pid);

// SCM_RIGHTS helpers over a connected unix socket.
Result<void> send_fd(int sock, int fd, std::string_view payload);
Result<Fd> recv_fd(int sock);

// Connects a SOCK_STREAM unix socket to `path`.
Result<Fd> unix_connect(const std::string& path);

}  // namespace berth::sys
