#include "sys/systemd.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/fd.h"
#include "base/strings.h"

namespace berth::sys {

Result<int> listen_fd_count(const char* listen_pid, const char* listen_fds, pid_t self) {
  if (!listen_pid || !*listen_pid) return 0;
  auto pid = parse_int(listen_pid);
  if (!pid || *pid <= 0)
    return make_error(Errc::InvalidArgument, "LISTEN_PID={:?} is not a process id", listen_pid);
  if (*pid != self) return 0;
  auto n = parse_int(listen_fds ? listen_fds : "");
  if (!n || *n < 0 || *n > 4096)
    return make_error(Errc::InvalidArgument, "LISTEN_FDS={:?} is not a socket count",
                      listen_fds ? listen_fds : "");
  return static_cast<int>(*n);
}

Result<std::vector<int>> take_listen_fds() {
  auto n = listen_fd_count(::getenv("LISTEN_PID"), ::getenv("LISTEN_FDS"), ::getpid());
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (!n) return n.error();
  std::vector<int> fds;
  for (int fd = kListenFdsStart; fd < kListenFdsStart + *n; ++fd) {
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
      return sys_error(fmt::format("socket activation: fd {}", fd));
    fds.push_back(fd);
  }
  return fds;
}

Result<void> notify_socket(const std::string& socket_path, std::string_view state) {
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (socket_path.size() < 2 || socket_path.size() >= sizeof addr.sun_path ||
      (socket_path[0] != '/' && socket_path[0] != '@'))
    return make_error(Errc::InvalidArgument, "NOTIFY_SOCKET={:?}: not a socket path", socket_path);
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  // "@name" is the abstract namespace: a leading NUL byte, no terminator.
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  auto len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + socket_path.size());
  Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("notify: socket");
  if (::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
               reinterpret_cast<struct sockaddr*>(&addr), len) < 0)
    return sys_error(fmt::format("notify {}", socket_path));
  return ok();
}

Result<void> notify(std::string_view state) {
  const char* s = ::getenv("NOTIFY_SOCKET");
  if (!s || !*s) return ok();
  return notify_socket(s, state);
}

}  // namespace berth::sys
