// network/link.cc — bridges, veth pairs, addresses and routes through
// libnl-route; sysctls through /proc/sys.
#include "network/link.h"

#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sys/random.h>

#include <set>

#include "base/file.h"
#include "base/scope_exit.h"
#include "base/strings.h"
#include "network/ipam.h"
#include "network/netlink_internal.h"
#include "network/netns.h"

namespace berth::network {
namespace {

// Writes a /proc/sys file unless it already holds `value` (a write, even of
// the same value, can have side effects: ip_forward resets other sysctls).
Result<void> write_proc_sys(const std::string& path, const std::string& value) {
  auto cur = read_file(path);
  if (cur && trim(*cur) == value) return ok();
  return write_file(path, value);
}

bool is_bridge(rtnl_link* l) {
  const char* t = rtnl_link_get_type(l);
  return t && std::string_view(t) == "bridge";
}

// A random locally administered unicast MAC for a new bridge.
Result<nl::Addr> random_bridge_mac() {
  unsigned char m[6];
  if (::getrandom(m, sizeof m, 0) != static_cast<ssize_t>(sizeof m))
    return sys_error("random bridge MAC");
  m[0] = static_cast<unsigned char>((m[0] & 0xfe) | 0x02);
  nl_addr* a = nl_addr_build(AF_LLC, m, sizeof m);
  if (!a) return make_error(Errc::Internal, "netlink: out of memory");
  return nl::Addr(a);
}

// True when the kernel was told the bridge's MAC (NET_ADDR_SET, 3). Until
// then a bridge takes the lowest MAC among its ports and changes it when
// that port goes: every container on it then holds a gateway ARP entry for
// a MAC nothing answers to, and its replies to the host are lost until the
// entry expires (tens of seconds). Ports come and go with every container
// and every spare of the netns pool.
bool mac_is_pinned(const std::string& bridge) {
  auto t = read_file("/sys/class/net/" + bridge + "/addr_assign_type");
  return t && trim(*t) == "3";
}

}  // namespace

Result<void> set_sysctl(const std::string& key, const std::string& value) {
  bool ok_key = !key.empty() && key.front() != '.' && key.back() != '.' &&
                key.find('/') == std::string::npos && key.find("..") == std::string::npos;
  if (!ok_key) return make_error(Errc::InvalidArgument, "invalid sysctl \"{}\"", key);
  std::string path = "/proc/sys/" + key;
  for (size_t i = sizeof("/proc/sys/") - 1; i < path.size(); ++i) {
    if (path[i] == '.') path[i] = '/';
  }
  BERTH_TRY_CTX(write_proc_sys(path, value), "set sysctl " + key);
  return ok();
}

Result<void> ensure_bridge(const BridgeConfig& c) {
  BERTH_TRY(nl::check_ifname(c.name));
  const std::string what = "bridge " + c.name;
  nl::Sock s = BERTH_TRY(nl::route_socket());
  auto got = nl::get_link(s.get(), c.name);
  if (!got && got.error().code == Errc::NotFound) {
    nl::Link b(rtnl_link_alloc());
    if (!b) return make_error(Errc::Internal, "netlink: out of memory");
    int e = rtnl_link_set_type(b.get(), "bridge");
    if (e < 0) return nl::error("create " + what, e);
    rtnl_link_set_name(b.get(), c.name.c_str());
    if (c.mtu > 0) rtnl_link_set_mtu(b.get(), static_cast<unsigned>(c.mtu));
    // Given at creation, the MAC is the bridge's own for good (see
    // mac_is_pinned), as docker does for its bridges.
    nl::Addr mac = BERTH_TRY(random_bridge_mac());
    rtnl_link_set_addr(b.get(), mac.get());  // takes its own reference
    e = rtnl_link_add(s.get(), b.get(), NLM_F_CREATE | NLM_F_EXCL);
    // EEXIST: another caller made it meanwhile; what it is is checked below.
    if (e < 0 && e != -NLE_EXIST) return nl::error("create " + what, e);
    got = nl::get_link(s.get(), c.name);
  }
  if (!got) return std::move(got).error().context(what);
  nl::Link l = std::move(got).value();
  if (!is_bridge(l.get())) {
    const char* t = rtnl_link_get_type(l.get());
    return make_error(Errc::Conflict, "{}: a link of type {} has that name", what,
                      t ? t : "unknown");
  }
  int ifindex = rtnl_link_get_ifindex(l.get());
  if (!c.gateway4_cidr.empty()) {
    BERTH_TRY(nl::add_address(s.get(), ifindex, c.name, c.gateway4_cidr));
  }
  if (!c.gateway6_cidr.empty()) {
    BERTH_TRY(nl::add_address(s.get(), ifindex, c.name, c.gateway6_cidr));
  }
  nl::Link change(rtnl_link_alloc());
  if (!change) return make_error(Errc::Internal, "netlink: out of memory");
  bool need = false;
  if (c.mtu > 0 && rtnl_link_get_mtu(l.get()) != static_cast<unsigned>(c.mtu)) {
    rtnl_link_set_mtu(change.get(), static_cast<unsigned>(c.mtu));
    need = true;
  }
  if (!(rtnl_link_get_flags(l.get()) & IFF_UP)) {
    rtnl_link_set_flags(change.get(), IFF_UP);
    need = true;
  }
  // A bridge made by an older berthd (or by hand) still follows its ports:
  // setting the MAC it has now pins it without changing it.
  if (nl_addr* cur = rtnl_link_get_addr(l.get()); cur && !mac_is_pinned(c.name)) {
    rtnl_link_set_addr(change.get(), cur);
    need = true;
  }
  if (need) {
    int e = rtnl_link_change(s.get(), l.get(), change.get(), 0);
    if (e < 0) return nl::error("configure " + what, e);
  }
  // Without route_localnet the kernel drops packets with a 127.0.0.0/8
  // source or destination on the wire ("martians"), so 127.0.0.1:PORT
  // DNAT-ed to a container could never leave through the bridge.
  BERTH_TRY_CTX(write_proc_sys("/proc/sys/net/ipv4/conf/" + c.name + "/route_localnet", "1"),
                what + ": route_localnet");
  return ok();
}

Result<void> delete_link(const std::string& name) {
  BERTH_TRY(nl::check_ifname(name));
  nl::Sock s = BERTH_TRY(nl::route_socket());
  auto l = nl::get_link(s.get(), name);
  if (!l) return l.error().code == Errc::NotFound ? ok() : std::move(l).error();
  int e = rtnl_link_delete(s.get(), l->get());
  if (e == -NLE_OBJ_NOTFOUND || e == -NLE_NODEV) return ok();
  if (e < 0) return nl::error("delete link " + name, e);
  return ok();
}

bool link_exists(const std::string& name) {
  return nl::check_ifname(name).has_value() && ::if_nametoindex(name.c_str()) != 0;
}

namespace {

// The container side of a veth, through a socket in its namespace.
// `lo_up`: also bring the loopback up (a namespace not made by create_netns).
Result<void> configure_peer(nl_sock* s, const VethConfig& c, bool lo_up) {
  nl::Link l = BERTH_TRY(nl::get_link(s, c.container_name));
  int ifindex = rtnl_link_get_ifindex(l.get());
  // MAC and up in one message: the kernel sets the address before it
  // applies the flags, and a veth takes a new MAC without a carrier flap
  // only while down (a spare's peer has the kernel's random one). Up before
  // the addresses: the kernel adds the connected route of an IPv4 address
  // only for an interface that is up, and the default route needs it.
  nl::Link change(rtnl_link_alloc());
  if (!change) return make_error(Errc::Internal, "netlink: out of memory");
  bool need = false;
  if (!c.mac.empty()) {
    nl_addr* mac = nullptr;
    int e = nl_addr_parse(c.mac.c_str(), AF_LLC, &mac);
    if (e < 0) return nl::error(fmt::format("MAC \"{}\"", c.mac), e);
    nl::Addr owned(mac);
    nl_addr* cur = rtnl_link_get_addr(l.get());
    if (!cur || nl_addr_cmp(cur, mac) != 0) {
      rtnl_link_set_addr(change.get(), mac);  // takes its own reference
      need = true;
    }
  }
  if (!(rtnl_link_get_flags(l.get()) & IFF_UP)) {
    rtnl_link_set_flags(change.get(), IFF_UP);
    need = true;
  }
  if (need) {
    int e = rtnl_link_change(s, l.get(), change.get(), 0);
    if (e < 0)
      return nl::error(fmt::format("configure {} (MAC {}, up)", c.container_name, c.mac), e);
  }
  if (lo_up) BERTH_TRY(nl::set_up(s, "lo"));
  if (!c.ipv4_cidr.empty()) {
    BERTH_TRY(nl::add_address(s, ifindex, c.container_name, c.ipv4_cidr));
  }
  if (!c.ipv6_cidr.empty()) {
    BERTH_TRY(nl::add_address(s, ifindex, c.container_name, c.ipv6_cidr));
  }
  if (!c.gateway4.empty()) {
    BERTH_TRY(nl::add_default_route(s, ifindex, c.container_name, c.gateway4));
  }
  if (!c.gateway6.empty()) {
    BERTH_TRY(nl::add_default_route(s, ifindex, c.container_name, c.gateway6));
  }
  return ok();
}

}  // namespace

Result<void> attach_veth(const VethConfig& c) {
  BERTH_TRY(nl::check_ifname(c.host_name));
  BERTH_TRY(nl::check_ifname(c.bridge));
  BERTH_TRY(nl::check_ifname(c.container_name));
  const std::string what = fmt::format("attach veth {} to {}", c.host_name, c.bridge);
  nl::Sock s = BERTH_TRY(nl::route_socket());
  nl::Link br = BERTH_TRY_CTX(nl::get_link(s.get(), c.bridge), what);
  int br_index = rtnl_link_get_ifindex(br.get());
  Fd ns(::open(c.netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) return sys_error(what + ": open netns " + c.netns_path);

  nl::Link veth(rtnl_link_veth_alloc());
  if (!veth) return make_error(Errc::Internal, "netlink: out of memory");
  rtnl_link_set_name(veth.get(), c.host_name.c_str());
  rtnl_link_set_master(veth.get(), br_index);
  rtnl_link_set_flags(veth.get(), IFF_UP);
  {
    // The peer is created directly in the container's namespace under its
    // final name (IFLA_NET_NS_FD inside VETH_INFO_PEER): it never appears
    // in the host namespace, so its name cannot clash with a host link.
    nl::Link peer(rtnl_link_veth_get_peer(veth.get()));  // a reference of our own
    rtnl_link_set_name(peer.get(), c.container_name.c_str());
    rtnl_link_set_ns_fd(peer.get(), ns.get());
    if (c.mtu > 0) {
      rtnl_link_set_mtu(veth.get(), static_cast<unsigned>(c.mtu));
      rtnl_link_set_mtu(peer.get(), static_cast<unsigned>(c.mtu));
    }
    if (!c.mac.empty()) {
      nl_addr* mac = nullptr;
      int e = nl_addr_parse(c.mac.c_str(), AF_LLC, &mac);
      if (e < 0) return nl::error(fmt::format("{}: MAC \"{}\"", what, c.mac), e);
      nl::Addr owned(mac);
      rtnl_link_set_addr(peer.get(), mac);  // takes its own reference
    }
  }
  int e = rtnl_link_add(s.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (e < 0) return nl::error(what + ": create", e);
  // Deleting the host end deletes the pair, wherever the peer is.
  ScopeExit undo([&] { (void)delete_link(c.host_name); });

  // The kernel applies IFLA_MASTER and the up flag of a new link (Linux
  // 3.x+ rtnl_newlink); checked anyway, since a missing master would leave
  // the container silently unreachable.
  nl::Link host = BERTH_TRY_CTX(nl::get_link(s.get(), c.host_name), what);
  if (rtnl_link_get_master(host.get()) != br_index || !(rtnl_link_get_flags(host.get()) & IFF_UP)) {
    nl::Link change(rtnl_link_alloc());
    if (!change) return make_error(Errc::Internal, "netlink: out of memory");
    rtnl_link_set_master(change.get(), br_index);
    rtnl_link_set_flags(change.get(), IFF_UP);
    e = rtnl_link_change(s.get(), host.get(), change.get(), 0);
    if (e < 0) return nl::error(what + ": enslave", e);
  }
  if (!c.peer_down) {
    BERTH_TRY_CTX(in_netns(c.netns_path,
                           [&]() -> Result<void> {
                             nl::Sock in = BERTH_TRY(nl::route_socket());
                             return configure_peer(in.get(), c, true);
                           }),
                  what + ": in " + c.netns_path);
  }
  undo.dismiss();
  return ok();
}

Result<void> configure_veth_peer(const VethConfig& c, nl_sock* inside) {
  BERTH_TRY(nl::check_ifname(c.container_name));
  const std::string what = fmt::format("configure {} in {}", c.container_name, c.netns_path);
  if (inside) {
    BERTH_TRY_CTX(configure_peer(inside, c, false), what);
    return ok();
  }
  BERTH_TRY_CTX(in_netns(c.netns_path,
                         [&]() -> Result<void> {
                           nl::Sock in = BERTH_TRY(nl::route_socket());
                           return configure_peer(in.get(), c, false);
                         }),
                what);
  return ok();
}

Result<void> detach_veth(const std::string& netns_path, const std::string& container_name) {
  BERTH_TRY(nl::check_ifname(container_name));
  if (!netns_exists(netns_path)) return ok();
  return in_netns(netns_path, [&]() -> Result<void> {
    nl::Sock s = BERTH_TRY(nl::route_socket());
    auto l = nl::get_link(s.get(), container_name);
    if (!l) return l.error().code == Errc::NotFound ? ok() : std::move(l).error();
    int e = rtnl_link_delete(s.get(), l->get());
    if (e == -NLE_OBJ_NOTFOUND || e == -NLE_NODEV) return ok();
    if (e < 0) return nl::error("delete link " + container_name + " in " + netns_path, e);
    return ok();
  });
}

Result<std::vector<std::string>> host_routes_v4() {
  nl::Sock s = BERTH_TRY(nl::route_socket());
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const Cidr& c) {
    // Loopback lives in the local table and never collides with a pool.
    if (c.addr[0] == 127) return;
    if (seen.insert(c.str()).second) out.push_back(c.str());
  };

  nl_cache* rc = nullptr;
  int e = rtnl_route_alloc_cache(s.get(), AF_INET, 0, &rc);
  if (e < 0) return nl::error("list IPv4 routes", e);
  nl::Cache routes(rc);
  for (nl_object* o = nl_cache_get_first(rc); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_table(r) != RT_TABLE_MAIN) continue;
    nl_addr* dst = rtnl_route_get_dst(r);
    if (!dst || nl_addr_get_len(dst) != 4) continue;
    int prefix = static_cast<int>(nl_addr_get_prefixlen(dst));
    if (prefix == 0) continue;  // the default route covers everything
    const auto* p = static_cast<const uint8_t*>(nl_addr_get_binary_addr(dst));
    auto c = parse_cidr(fmt::format("{}/{}", format_ip({p, p + 4}), prefix));
    if (c) add(*c);
  }

  nl_cache* ac = nullptr;
  e = rtnl_addr_alloc_cache(s.get(), &ac);
  if (e < 0) return nl::error("list addresses", e);
  nl::Cache addrs(ac);
  for (nl_object* o = nl_cache_get_first(ac); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_family(a) != AF_INET) continue;
    nl_addr* local = rtnl_addr_get_local(a);
    if (!local || nl_addr_get_len(local) != 4) continue;
    const auto* p = static_cast<const uint8_t*>(nl_addr_get_binary_addr(local));
    auto c = parse_cidr(format_ip({p, p + 4}) + "/32");
    if (c) add(*c);
  }
  return out;
}

}  // namespace berth::network
