#include "sys/syscalls.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/file.h"
#include "base/strings.h"

namespace berth::sys {

Result<Fd> open_in_root(int root_fd, const std::string& path, int flags, mode_t mode) {
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string rel = path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (rel.empty()) rel = ".";
  for (int attempt = 0; attempt < 16; ++attempt) {
    long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
    if (fd >= 0) return Fd(static_cast<int>(fd));
    // EAGAIN: a concurrent rename raced the lookup; the kernel asks us to retry.
    if (errno != EAGAIN && errno != EINTR) return sys_error(fmt::format("openat2 {}", path));
  }
  return sys_error(fmt::format("openat2 {}", path), EAGAIN);
}

Result<Fd> mkdir_all_in_root(int root_fd, const std::string& path, bool leaf_is_dir, mode_t mode) {
  std::string want = path;
  // Dangling symlinks are followed by hand (inside the root) so the directory
  // is created where the link points within the rootfs, never outside it.
  for (int hops = 0; hops < 40; ++hops) {
    std::vector<std::string> parts;
    for (auto& p : split(want, '/', true)) {
      if (p == "..") return make_error(Errc::InvalidArgument, "path {} contains ..", path);
      if (p != ".") parts.push_back(std::move(p));
    }
    if (parts.empty()) return open_in_root(root_fd, "/", O_PATH | O_DIRECTORY);
    auto prefix = [&](size_t n) {
      std::string out;
      for (size_t i = 0; i < n; ++i) out += "/" + parts[i];
      return out.empty() ? std::string("/") : out;
    };
    // Where the walk starts: the usual cases cost a syscall each instead of
    // one per component (a container's start makes ~40 mount points): the
    // path is there, or only its last component is missing.
    auto whole = open_in_root(root_fd, want, O_PATH);
    if (whole) return whole;
    if (whole.error().sys_errno != ENOENT) return std::move(whole).error();
    size_t i = 0;
    Fd pfd;
    if (auto up = open_in_root(root_fd, prefix(parts.size() - 1), O_PATH | O_DIRECTORY)) {
      i = parts.size() - 1;
      pfd = std::move(*up);
    }
    bool restarted = false;
    for (; i < parts.size() && !restarted; ++i) {
      bool last = i + 1 == parts.size();
      if (!pfd) {
        // Walking from the top: the components that are there are passed.
        auto existing = open_in_root(root_fd, prefix(i + 1), O_PATH);
        if (existing) {
          if (last) return existing;
          continue;
        }
        if (existing.error().sys_errno != ENOENT) return std::move(existing).error();
        pfd = BERTH_TRY(open_in_root(root_fd, prefix(i), O_PATH | O_DIRECTORY));
      }
      // parts[i] is missing in pfd: a dangling symlink, or to be created.
      char target[4096];
      ssize_t n = ::readlinkat(pfd.get(), parts[i].c_str(), target, sizeof target - 1);
      if (n > 0) {
        target[n] = 0;
        std::string rest;
        for (size_t j = i + 1; j < parts.size(); ++j) rest += "/" + parts[j];
        want = (target[0] == '/' ? std::string(target) : prefix(i) + "/" + target) + rest;
        restarted = true;
        continue;
      }
      std::string cur = prefix(i + 1);
      if (last && !leaf_is_dir) {
        int fd = ::openat(pfd.get(), parts[i].c_str(),
                          O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 && errno != EEXIST) return sys_error(fmt::format("create {}", cur));
        if (fd >= 0) ::close(fd);
      } else if (::mkdirat(pfd.get(), parts[i].c_str(), mode) != 0 && errno != EEXIST) {
        return sys_error(fmt::format("mkdir {}", cur));
      }
      if (last) return open_in_root(root_fd, cur, O_PATH);
      // The next component is certainly missing in the one just made.
      pfd = BERTH_TRY(open_in_root(root_fd, cur, O_PATH | O_DIRECTORY));
    }
    if (!restarted) return open_in_root(root_fd, "/", O_PATH | O_DIRECTORY);
  }
  return make_error(Errc::InvalidArgument, "too many levels of symbolic links in {}", path);
}

std::string fd_path(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

Result<Fd> pidfd_open(pid_t pid) {
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return sys_error(fmt::format("pidfd_open {}", pid));
  return Fd(static_cast<int>(fd));
}

Result<void> pidfd_send_signal(int pidfd, int sig) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) != 0)
    return sys_error("pidfd_send_signal");
  return ok();
}

Result<void> cloexec_from(int from) {
  if (::syscall(SYS_close_range, static_cast<unsigned>(from), ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return ok();
  // Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC: walk /proc/self/fd instead.
  for (int fd = from; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return ok();
}

Result<ProcessStat> process_stat(pid_t pid) {
  std::string stat = BERTH_TRY(read_file(fmt::format("/proc/{}/stat", pid)));
  // comm (field 2) may contain spaces and parentheses: parse after the last ')'.
  auto rp = stat.rfind(')');
  if (rp == std::string::npos) return make_error(Errc::Internal, "malformed /proc/{}/stat", pid);
  auto fields = split(std::string_view(stat).substr(rp + 2), ' ', true);
  // fields[0] is field 3 (state); start time is field 22.
  if (fields.size() < 20) return make_error(Errc::Internal, "short /proc/{}/stat", pid);
  auto v = parse_uint(fields[19]);
  if (!v || fields[0].empty()) return make_error(Errc::Internal, "bad /proc/{}/stat", pid);
  return ProcessStat{fields[0][0], *v};
}

Result<unsigned long long> process_start_time(pid_t pid) {
  return process_stat(pid).transform([](ProcessStat s) { return s.start_time; });
}

Result<void> send_fd(int sock, int fd, std::string_view payload) {
  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  std::string data(payload.empty() ? std::string_view("x") : payload);
  struct iovec iov = {data.data(), data.size()};
  alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))];
  std::memset(ctrl, 0, sizeof ctrl);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  while (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return sys_error("sendmsg with fd");
  }
  return ok();
}

Result<Fd> recv_fd(int sock) {
  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  char buf[4096];
  struct iovec iov = {buf, sizeof buf};
  alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))];
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  ssize_t n;
  while ((n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return sys_error("recvmsg with fd");
  }
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (n == 0 || !c || c->cmsg_type != SCM_RIGHTS)
    return make_error(Errc::Io, "recvmsg: no file descriptor received");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return Fd(fd);
}

Result<Fd> unix_connect(const std::string& path) {
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return make_error(Errc::InvalidArgument, "socket path too long: {}", path);
  std::memcpy(addr.sun_path, path.data(), path.size());
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  if (::connect(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0)
    return sys_error(fmt::format("connect {}", path));
  return fd;
}

}  // namespace berth::sys
