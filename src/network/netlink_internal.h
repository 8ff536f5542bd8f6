// network/netlink_internal.h — small RAII and error helpers over libnl-route
// shared by netns.cc and link.cc. A socket talks to the network namespace of
// the thread that created it (netlink sockets are bound to the creator's
// netns), which is how work inside a container's namespace is done: open the
// socket inside in_netns().
#pragma once

#include <netlink/addr.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "network/netns.h"

namespace berth::network::nl {

struct LinkPut {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct CacheFree {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};
using Sock = RouteSocket;
using Link = std::unique_ptr<rtnl_link, LinkPut>;
using Addr = std::unique_ptr<nl_addr, AddrPut>;
using Cache = std::unique_ptr<nl_cache, CacheFree>;

// "what: libnl's message", Errc from the libnl code (a negative NLE_*).
Error error(std::string_view what, int nl_err);

// A connected NETLINK_ROUTE socket in the calling thread's netns.
Result<Sock> route_socket();

// Interface names: 1-15 bytes, no '/', no whitespace, not "." or "..".
Result<void> check_ifname(const std::string& name);

// The link `name` as the kernel has it; NotFound when missing.
Result<Link> get_link(nl_sock* s, const std::string& name);

// Sets IFF_UP on `name` (no-op when already up).
Result<void> set_up(nl_sock* s, const std::string& name);

// Adds `cidr` ("a.b.c.d/len" or IPv6) to the interface; Ok when the
// address is already there. IPv6 addresses skip duplicate address detection
// (IFA_F_NODAD): the subnet is berth's own, and DAD would leave the address
// "tentative" (unusable) for a second or more after the container starts.
Result<void> add_address(nl_sock* s, int ifindex, const std::string& ifname,
                         const std::string& cidr);

// Adds a default route via `gateway` on interface `ifindex`.
Result<void> add_default_route(nl_sock* s, int ifindex, const std::string& ifname,
                               const std::string& gateway);

}  // namespace berth::network::nl
