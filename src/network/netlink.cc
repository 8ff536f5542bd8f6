// network/netlink.cc — libnl-route helpers (see netlink_internal.h).
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <sys/socket.h>

#include "network/netlink_internal.h"

namespace berth::network::nl {
namespace {

struct RtAddrPut {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct RoutePut {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};

Result<Addr> parse_addr(const std::string& text, int family) {
  nl_addr* a = nullptr;
  int e = nl_addr_parse(text.c_str(), family, &a);
  if (e < 0) return error(fmt::format("parse address \"{}\"", text), e);
  return Addr(a);
}

}  // namespace

Error error(std::string_view what, int nl_err) {
  int e = nl_err < 0 ? -nl_err : nl_err;
  Errc c = Errc::Io;
  switch (e) {
    case NLE_EXIST:
      c = Errc::AlreadyExists;
      break;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      c = Errc::NotFound;
      break;
    case NLE_PERM:
      c = Errc::PermissionDenied;
      break;
    case NLE_BUSY:
      c = Errc::Conflict;
      break;
    case NLE_INVAL:
    case NLE_RANGE:
      c = Errc::InvalidArgument;
      break;
    default:
      break;
  }
  return Error{c, 0, fmt::format("{}: {}", what, nl_geterror(e))};
}

}  // namespace berth::network::nl

void berth::network::RouteSocketFree::operator()(nl_sock* s) const { nl_socket_free(s); }

namespace berth::network::nl {

Result<Sock> route_socket() {
  Sock s(nl_socket_alloc());
  if (!s) return make_error(Errc::Internal, "netlink: out of memory");
  // libnl opens the socket with SOCK_CLOEXEC: nothing leaks into the
  // monitors berthd spawns.
  int e = nl_connect(s.get(), NETLINK_ROUTE);
  if (e < 0) return error("netlink: connect", e);
  return s;
}

Result<void> check_ifname(const std::string& name) {
  bool ok = !name.empty() && name.size() < IFNAMSIZ && name != "." && name != "..";
  for (char c : name) {
    if (c == '/' || c == ':' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f) ok = false;
  }
  if (!ok) return make_error(Errc::InvalidArgument, "invalid interface name \"{}\"", name);
  return berth::ok();
}

Result<Link> get_link(nl_sock* s, const std::string& name) {
  rtnl_link* l = nullptr;
  int e = rtnl_link_get_kernel(s, 0, name.c_str(), &l);
  if (e < 0) return error(fmt::format("get link {}", name), e);
  return Link(l);
}

Result<void> set_up(nl_sock* s, const std::string& name) {
  Link l = BERTH_TRY(get_link(s, name));
  if (rtnl_link_get_flags(l.get()) & IFF_UP) return berth::ok();
  Link change(rtnl_link_alloc());
  if (!change) return make_error(Errc::Internal, "netlink: out of memory");
  rtnl_link_set_flags(change.get(), IFF_UP);
  int e = rtnl_link_change(s, l.get(), change.get(), 0);
  if (e < 0) return error(fmt::format("set link {} up", name), e);
  return berth::ok();
}

Result<void> add_address(nl_sock* s, int ifindex, const std::string& ifname,
                         const std::string& cidr) {
  if (cidr.find('/') == std::string::npos) {
    return make_error(Errc::InvalidArgument, "add address {} to {}: no prefix length", cidr,
                      ifname);
  }
  Addr local = BERTH_TRY(parse_addr(cidr, AF_UNSPEC));
  std::unique_ptr<rtnl_addr, RtAddrPut> a(rtnl_addr_alloc());
  if (!a) return make_error(Errc::Internal, "netlink: out of memory");
  rtnl_addr_set_ifindex(a.get(), ifindex);
  int e = rtnl_addr_set_local(a.get(), local.get());
  if (e < 0) return error(fmt::format("add address {} to {}", cidr, ifname), e);
  if (nl_addr_get_family(local.get()) == AF_INET6) rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
  e = rtnl_addr_add(s, a.get(), NLM_F_EXCL);
  if (e == -NLE_EXIST) return berth::ok();
  if (e < 0) return error(fmt::format("add address {} to {}", cidr, ifname), e);
  return berth::ok();
}

Result<void> add_default_route(nl_sock* s, int ifindex, const std::string& ifname,
                               const std::string& gateway) {
  std::string what = fmt::format("add default route via {} on {}", gateway, ifname);
  Addr gw = BERTH_TRY_CTX(parse_addr(gateway, AF_UNSPEC), what);
  int family = nl_addr_get_family(gw.get());
  Addr dst = BERTH_TRY_CTX(parse_addr(family == AF_INET6 ? "::/0" : "0.0.0.0/0", family), what);
  std::unique_ptr<rtnl_route, RoutePut> r(rtnl_route_alloc());
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!r || !nh) {
    if (nh) rtnl_route_nh_free(nh);
    return make_error(Errc::Internal, "netlink: out of memory");
  }
  rtnl_route_set_family(r.get(), static_cast<uint8_t>(family));
  rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(r.get(), RTPROT_BOOT);
  rtnl_route_set_scope(r.get(), RT_SCOPE_UNIVERSE);
  rtnl_route_set_type(r.get(), RTN_UNICAST);
  int e = rtnl_route_set_dst(r.get(), dst.get());
  if (e < 0) {
    rtnl_route_nh_free(nh);
    return error(what, e);
  }
  rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_nh_set_gateway(nh, gw.get());
  rtnl_route_add_nexthop(r.get(), nh);  // the route owns nh from here
  e = rtnl_route_add(s, r.get(), NLM_F_EXCL);
  if (e == -NLE_EXIST) return berth::ok();
  if (e < 0) return error(what, e);
  return berth::ok();
}

}  // namespace berth::network::nl
