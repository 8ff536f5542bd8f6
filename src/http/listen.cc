// http/listen.cc — see listen.h.
#include "http/listen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/strings.h"

namespace berth::http {

Result<std::pair<std::string, std::string>> split_host_port(std::string_view hp) {
  if (!hp.empty() && hp.front() == '[') {
    size_t close = hp.find(']');
    if (close == std::string_view::npos || close + 1 >= hp.size() || hp[close + 1] != ':')
      return make_error(Errc::InvalidArgument, "invalid address {:?}: want [host]:port", hp);
    return std::pair{std::string(hp.substr(1, close - 1)), std::string(hp.substr(close + 2))};
  }
  size_t colon = hp.rfind(':');
  if (colon == std::string_view::npos)
    return make_error(Errc::InvalidArgument, "invalid address {:?}: want host:port", hp);
  return std::pair{std::string(hp.substr(0, colon)), std::string(hp.substr(colon + 1))};
}

namespace {

// mkdir -p for the parent of a socket path; new directories get 0700.
Result<void> make_parent_dirs(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return ok();
  std::string dir = path.substr(0, slash);
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return make_error(Errc::InvalidArgument, "{} is not a directory", dir);
    return ok();
  }
  BERTH_TRY(make_parent_dirs(dir));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return sys_error(fmt::format("mkdir {}", dir));
  return ok();
}

Result<BoundListener> bind_unix(const Listener& l, const std::string& path) {
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return make_error(Errc::InvalidArgument, "invalid unix socket path {:?}", path);
  std::memcpy(addr.sun_path, path.data(), path.size());
  BERTH_TRY(make_parent_dirs(path));
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    // Only a socket left by a previous daemon is removed; a regular file or
    // directory at the path is somebody else's and is an error.
    if (!S_ISSOCK(st.st_mode))
      return make_error(Errc::AlreadyExists, "{} exists and is not a socket", path);
    if (::unlink(path.c_str()) != 0) return sys_error(fmt::format("remove stale socket {}", path));
  }
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  if (::bind(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0)
    return sys_error(fmt::format("bind {}", path));
  if (::chmod(path.c_str(), l.mode) != 0) return sys_error(fmt::format("chmod {}", path));
  if (l.gid >= 0 && ::chown(path.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(l.gid)) != 0)
    return sys_error(fmt::format("chown {} to group {}", path, l.gid));
  if (::listen(fd.get(), SOMAXCONN) != 0) return sys_error(fmt::format("listen {}", path));
  BoundListener out;
  out.fd = std::move(fd);
  out.family = AF_UNIX;
  out.address = "unix://" + path;
  out.unix_path = path;
  return out;
}

std::string format_inet(const struct sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const struct sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    return fmt::format("tcp://[{}]:{}", host, ntohs(a->sin6_port));
  }
  auto* a = reinterpret_cast<const struct sockaddr_in*>(&ss);
  ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
  return fmt::format("tcp://{}:{}", host, ntohs(a->sin_port));
}

Result<BoundListener> bind_tcp(const Listener& l, std::string_view hostport) {
  auto [host, port] = BERTH_TRY(split_host_port(hostport));
  if (port.empty()) port = l.tls ? "2376" : "2375";
  struct addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  struct addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0)
    return make_error(Errc::InvalidArgument, "cannot resolve {:?}: {}", hostport,
                      ::gai_strerror(rc));
  std::unique_ptr<struct addrinfo, void (*)(struct addrinfo*)> guard(res, ::freeaddrinfo);
  Error last = make_error(Errc::InvalidArgument, "no address for {:?}", hostport);
  for (auto* ai = res; ai; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
      last = sys_error("socket");
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), SOMAXCONN) != 0) {
      last = sys_error(fmt::format("listen on {}", hostport));
      continue;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (::getsockname(fd.get(), reinterpret_cast<struct sockaddr*>(&ss), &len) != 0)
      return sys_error("getsockname");
    BoundListener out;
    out.fd = std::move(fd);
    out.family = ai->ai_family;
    out.address = format_inet(ss);
    out.tls = l.tls;
    return out;
  }
  return last;
}

Result<BoundListener> adopt_fd(const Listener& l, std::string_view num) {
  auto n = parse_int(num);
  if (!n || *n < 0 || *n > 1 << 20)
    return make_error(Errc::InvalidArgument, "invalid fd listener {:?}", l.address);
  int fd = static_cast<int>(*n);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &len) != 0)
    return sys_error(fmt::format("{} is not a socket", l.address));
  int listening = 0;
  socklen_t ol = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) != 0 || !listening)
    return make_error(Errc::InvalidArgument, "{} is not a listening socket", l.address);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  BoundListener out;
  out.fd = Fd(fd);
  out.family = ss.ss_family;
  out.address = ss.ss_family == AF_UNIX ? l.address : format_inet(ss);
  if (ss.ss_family != AF_UNIX) out.tls = l.tls;
  return out;
}

}  // namespace

Result<BoundListener> bind_listener(const Listener& l) {
  std::string_view a = l.address;
  if (starts_with(a, "unix://")) {
    if (l.tls) return make_error(Errc::InvalidArgument, "TLS is for tcp:// listeners only");
    return bind_unix(l, std::string(a.substr(7)));
  }
  if (starts_with(a, "tcp://")) return bind_tcp(l, a.substr(6));
  if (starts_with(a, "fd://")) return adopt_fd(l, a.substr(5));
  return make_error(Errc::InvalidArgument,
                    "invalid listen address {:?}: want unix://PATH, tcp://HOST:PORT or fd://N",
                    l.address);
}

}  // namespace berth::http
