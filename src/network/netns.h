// network/netns.h — network namespaces that berthd makes and keeps as files.
//
// A container's network namespace is created by berthd before the container
// starts (so the veth, addresses and routes exist before the app runs) and
// pinned with a bind mount at a path under the exec root; the OCI spec joins
// it by that path. The file outlives berthd (live restore) and is removed
// when the container stops.
// Thread-safety: every function may be called from any thread; the calls
// that enter a namespace do it on a short-lived thread of their own, so the
// caller's thread never changes namespace.
// Depends on: base, sys.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/fd.h"
#include "base/result.h"

struct nl_sock;  // libnl's

namespace berth::network {

// A route-netlink socket. It talks to the namespace it was opened in for
// its whole life, whichever thread uses it, and keeps that namespace alive.
struct RouteSocketFree {
  void operator()(nl_sock* s) const;
};
using RouteSocket = std::unique_ptr<nl_sock, RouteSocketFree>;

// Creates a new network namespace (loopback up) and bind-mounts it at
// `path` (the file is created; its directory must exist). AlreadyExists when
// `path` is already a namespace mount; nothing is left behind on failure.
// `inside`: receives the route socket opened in the new namespace (to
// configure links there later without entering it).
Result<void> create_netns(const std::string& path, RouteSocket* inside = nullptr);

// Unmounts (lazily) and unlinks `path`. Ok when it does not exist.
Result<void> remove_netns(const std::string& path);

// Pins the namespace pinned at `from` at `to` as well (a new file; its
// directory must exist), by a bind mount; `from` stays pinned until
// remove_netns(from). The namespace and everything inside it (links,
// addresses) stay as they are. NotFound when `from` is no namespace.
Result<void> bind_netns(const std::string& from, const std::string& to);

// True when `path` is a mounted network namespace (survives berthd restarts).
bool netns_exists(const std::string& path);

// Runs `fn` on a thread that has joined the namespace at `path`; returns
// fn's result. Sockets (netlink too) made inside fn stay in that namespace
// after the thread ends.
Result<void> in_netns(const std::string& path, const std::function<Result<void>()>& fn);

// A socket of `type` (SOCK_DGRAM / SOCK_STREAM, close-on-exec, non-blocking)
// bound to ip:port inside the namespace at `path`; SOCK_STREAM ones listen.
Result<Fd> bound_socket_in_netns(const std::string& path, int type, const std::string& ip,
                                 uint16_t port);

}  // namespace berth::network
