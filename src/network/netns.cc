// network/netns.cc — network namespaces pinned by bind mounts.
//
// berthd is multi-threaded, so it never changes its own namespaces: every
// unshare/setns happens on a short-lived std::thread. CLONE_NEWNET is a
// per-thread attribute (unshare(2), setns(2)), so this is allowed in a
// multi-threaded process and affects only that thread, and a thread that
// ends takes its namespace membership with it.
#include "network/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstring>
#include <system_error>
#include <thread>

#include "base/scope_exit.h"
#include "network/ipam.h"
#include "network/netlink_internal.h"

namespace berth::network {
namespace {

// Runs fn on a new thread and waits for it. std::thread reports a failure
// to create the thread by throwing; berth functions do not throw.
Result<void> run_on_thread(const std::function<void()>& fn) {
  try {
    std::thread t(fn);
    t.join();
  } catch (const std::system_error& e) {
    return make_error(Errc::Unavailable, "cannot start a thread: {}", e.what());
  }
  return ok();
}

}  // namespace

bool netns_exists(const std::string& path) {
  struct statfs st {};
  if (::statfs(path.c_str(), &st) != 0 || st.f_type != NSFS_MAGIC) return false;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  // NS_GET_NSTYPE (Linux 4.11): an nsfs file may also be another kind of
  // namespace (a pid or mount namespace bound by someone else).
  return ::ioctl(fd.get(), NS_GET_NSTYPE) == CLONE_NEWNET;
}

Result<void> create_netns(const std::string& path, RouteSocket* inside) {
  const std::string what = "create netns " + path;
  if (netns_exists(path)) {
    return make_error(Errc::AlreadyExists, "{}: already a network namespace", what);
  }
  // The mount point. A plain file left by a crash between open and mount is
  // reused (and then not removed on failure: it was not ours).
  bool created = true;
  Fd f(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!f) {
    if (errno != EEXIST) return sys_error(what);
    created = false;
  }
  f.reset();
  ScopeExit unlink_file([&] {
    if (created) ::unlink(path.c_str());
  });

  Result<void> res;
  bool mounted = false;
  BERTH_TRY_CTX(run_on_thread([&] {
                  if (::unshare(CLONE_NEWNET) != 0) {
                    res = sys_error("unshare(CLONE_NEWNET)");
                    return;
                  }
                  // This thread's namespace, not the thread group leader's
                  // (/proc/self/ns/net is the leader's).
                  std::string self = fmt::format("/proc/self/task/{}/ns/net", ::gettid());
                  if (::mount(self.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
                    res = sys_error("bind mount " + self);
                    return;
                  }
                  mounted = true;
                  // A new namespace has only a loopback, and it is down.
                  auto sock = nl::route_socket();
                  if (!sock) {
                    res = std::move(sock).error();
                    return;
                  }
                  res = nl::set_up(sock->get(), "lo");
                  if (res && inside) *inside = std::move(*sock);
                }),
                what);
  if (!res) {
    if (mounted) ::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
    return std::move(res).error().context(what);
  }
  unlink_file.dismiss();
  return ok();
}

Result<void> remove_netns(const std::string& path) {
  // Lazy: a process (a container init that has not exited yet, a socket
  // made inside) may still hold the namespace; the namespace itself lives
  // until its last user is gone. Repeated for stacked mounts, bounded.
  for (int i = 0; i < 8; ++i) {
    if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) break;  // not (or no longer) a mount point
    return sys_error("remove netns " + path + ": umount");
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return sys_error("remove netns " + path + ": unlink");
  }
  return ok();
}

Result<void> bind_netns(const std::string& from, const std::string& to) {
  const std::string what = fmt::format("pin netns {} at {}", from, to);
  if (!netns_exists(from)) return make_error(Errc::NotFound, "{}: not a network namespace", what);
  Fd f(::open(to.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!f) return sys_error(what);
  f.reset();
  // A bind mount, not MS_MOVE: MS_MOVE refuses a mount whose parent is
  // shared, which /run often is.
  if (::mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    Error e = sys_error(what);
    ::unlink(to.c_str());
    return e;
  }
  return ok();
}

Result<void> in_netns(const std::string& path, const std::function<Result<void>()>& fn) {
  Fd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) return sys_error("open netns " + path);
  Result<void> res;
  BERTH_TRY(run_on_thread([&] {
    if (::setns(ns.get(), CLONE_NEWNET) != 0) {
      res = sys_error("setns " + path);
      return;
    }
    res = fn();
  }));
  return res;
}

Result<Fd> bound_socket_in_netns(const std::string& path, int type, const std::string& ip,
                                 uint16_t port) {
  if (type != SOCK_DGRAM && type != SOCK_STREAM) {
    return make_error(Errc::InvalidArgument, "bound socket: unsupported socket type {}", type);
  }
  std::vector<uint8_t> addr = BERTH_TRY(parse_ip(ip));
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (addr.size() == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, addr.data(), 4);
    len = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, addr.data(), 16);
    len = sizeof *sin6;
  }
  const std::string what = fmt::format("bind {}:{} in {}", ip, port, path);
  Fd out;
  BERTH_TRY(in_netns(path, [&]() -> Result<void> {
    // A socket belongs to the netns of the thread that creates it, for good.
    Fd s(::socket(ss.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s) return sys_error(what + ": socket");
    int one = 1;
    if (::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
      return sys_error(what + ": SO_REUSEADDR");
    }
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return sys_error(what);
    if (type == SOCK_STREAM && ::listen(s.get(), 64) != 0) return sys_error(what + ": listen");
    out = std::move(s);
    return ok();
  }));
  return out;
}

}  // namespace berth::network
