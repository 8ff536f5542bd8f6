// engine/network_attach.cc — a container's side of networking: its
// namespace, endpoints (address rows, veths), published ports (reserving
// sockets + DNAT rules), connect/disconnect, and live restore (the names the
// embedded DNS answers: network_dns.cc).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "base/ascii.h"
#include "base/digest.h"
#include "base/json.h"
#include "base/log.h"
#include "base/scope_exit.h"
#include "base/strings.h"
#include "engine/links.h"
#include "engine/network_internal.h"
#include "network/dns.h"
#include "network/link.h"
#include "network/netns.h"
#include "network/nft.h"

namespace berth::engine {

namespace {

struct PortKey {
  uint16_t port = 0;
  std::string proto = "tcp";
};

Result<uint16_t> port_number(const std::string& s, const char* what) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), ::isdigit)) {
    return make_error(Errc::InvalidArgument, "invalid {} port: \"{}\"", what, s);
  }
  int v = std::stoi(s);
  if (v < 1 || v > 65535) {
    return make_error(Errc::InvalidArgument, "invalid {} port: {} is not in 1-65535", what, s);
  }
  return static_cast<uint16_t>(v);
}

Result<PortKey> parse_port_key(const std::string& key) {
  PortKey k;
  auto slash = key.find('/');
  if (slash != std::string::npos) k.proto = ascii_lower(key.substr(slash + 1));
  if (k.proto != "tcp" && k.proto != "udp" && k.proto != "sctp") {
    return make_error(Errc::InvalidArgument, "invalid proto: \"{}\" in port \"{}\"", k.proto, key);
  }
  k.port = BERTH_TRY(port_number(key.substr(0, slash), "container"));
  return k;
}

// A host port spec: "" (any), "N", or "A-B" (the first free one).
Result<std::pair<uint16_t, uint16_t>> host_port_range(const std::string& s) {
  if (s.empty()) return std::pair<uint16_t, uint16_t>{0, 0};
  auto dash = s.find('-');
  if (dash == std::string::npos) {
    uint16_t p = BERTH_TRY(port_number(s, "host"));
    return std::pair{p, p};
  }
  uint16_t a = BERTH_TRY(port_number(s.substr(0, dash), "host"));
  uint16_t b = BERTH_TRY(port_number(s.substr(dash + 1), "host"));
  if (b < a) return make_error(Errc::InvalidArgument, "invalid host port range: \"{}\"", s);
  return std::pair{a, b};
}

// Binds the host port; port 0 = an ephemeral one. Returns the socket and the
// port bound. A reserving socket (`proxy` false) is bound without
// SO_REUSEADDR and never listens: the traffic is DNAT-ed past it, it only
// keeps everyone else off the port. A proxy's socket (`proxy` true) is
// non-blocking, for the monitor's loop; for TCP it listens and takes
// SO_REUSEADDR: the connections it accepted leave TIME_WAIT entries on the
// port, which would refuse the next start's bind otherwise (a listener still
// conflicts). (UDP has no TIME_WAIT, and SO_REUSEADDR would let two UDP
// sockets share the port.) Unavailable when the host has no such address
// family or address.
Result<std::pair<Fd, uint16_t>> reserve_port(const std::string& proto, const std::string& ip,
                                             uint16_t port, bool proxy = false) {
  bool listen = proxy && proto == "tcp";
  bool v6 = ip.find(':') != std::string::npos;
  int type = proto == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  int protocol = proto == "sctp" ? IPPROTO_SCTP : 0;
  Fd fd(::socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC | (proxy ? SOCK_NONBLOCK : 0),
                 protocol));
  if (!fd) {
    int e = errno;
    return make_error(e == EAFNOSUPPORT ? Errc::Unavailable : Errc::Io, "socket for {}/{}: {}",
                      port, proto, std::strerror(e));
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) != 1)
      return make_error(Errc::InvalidArgument, "invalid host IP \"{}\"", ip);
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (::inet_pton(AF_INET, ip.c_str(), &a->sin_addr) != 1)
      return make_error(Errc::InvalidArgument, "invalid host IP \"{}\"", ip);
    len = sizeof(sockaddr_in);
  }
  if (listen) {
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  std::string shown = v6 ? "[" + ip + "]" : ip;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int e = errno;
    if (e == EADDRINUSE) {
      return make_error(Errc::Conflict, "failed to bind host port {}:{}/{}: address already in use",
                        shown, port, proto);
    }
    return make_error(e == EADDRNOTAVAIL ? Errc::Unavailable : Errc::Io,
                      "failed to bind host port {}:{}/{}: {}", shown, port, proto,
                      std::strerror(e));
  }
  if (listen && ::listen(fd.get(), SOMAXCONN) != 0)
    return make_error(Errc::Io, "listen on host port {}:{}/{}: {}", shown, port, proto,
                      std::strerror(errno));
  if (port == 0) {
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0)
      return make_error(Errc::Io, "getsockname: {}", std::strerror(errno));
    port = v6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
              : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  return std::pair{std::move(fd), port};
}

// One binding's host sockets: the IPv4 reservation and/or the IPv6 proxy's
// listener, on one port number.
struct Reserved {
  Fd v4, v6;
  uint16_t port = 0;
};

// `ip4` / `ip6`: "" = not on that family. `v6_optional`: a host without
// IPv6 just gets no IPv6 socket (docker's default binding). With port 0 both
// families get the same ephemeral number (a few tries when the first one's
// number is taken on the other family).
Result<Reserved> reserve_binding(const std::string& proto, const std::string& ip4,
                                 const std::string& ip6, bool v6_optional, uint16_t port) {
  Error last = make_error(Errc::Internal, "no address to bind");
  for (int attempt = 0; attempt < (port == 0 ? 8 : 1); ++attempt) {
    Reserved r;
    uint16_t p = port;
    if (!ip4.empty()) {
      auto g = BERTH_TRY(reserve_port(proto, ip4, p));
      r.v4 = std::move(g.first);
      p = g.second;
    }
    if (!ip6.empty()) {
      auto g = reserve_port(proto, ip6, p, true);
      if (!g && v6_optional && g.error().code == Errc::Unavailable) {
        r.port = p;
        return r;
      }
      if (!g) {
        last = std::move(g).error();
        if (port == 0 && !ip4.empty() && last.code == Errc::Conflict) continue;
        return last;
      }
      r.v6 = std::move(g->first);
      p = g->second;
    }
    r.port = p;
    return r;
  }
  return last;
}

// EndpointSettings.Links, already checked by validate().
std::vector<std::pair<std::string, std::string>> endpoint_links(const Json& settings) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!settings.is_object() || !settings.contains("Links") || !settings["Links"].is_array())
    return out;
  for (const auto& l : settings["Links"])
    if (l.is_string())
      if (auto p = parse_link(l.get<std::string>())) out.push_back(*p);
  return out;
}

Json endpoint_data(const EndpointInfo& e, const std::string& ifname, const std::string& host_veth) {
  Json links = Json::array();
  for (const auto& [target, alias] : e.links) links.push_back(target + ":" + alias);
  return {{"endpoint_id", e.endpoint_id}, {"links", links},         {"mac", e.mac},
          {"prefix4", e.prefix4},         {"gateway4", e.gateway4}, {"aliases", e.aliases},
          {"name", e.container_name},     {"ifname", ifname},       {"host_veth", host_veth}};
}

std::string random_veth_name() { return "veth" + random_hex_id().substr(0, 7); }

}  // namespace

Result<void> NetworkManager::LinkOp::run() const {
  auto r = spare ? network::configure_veth_peer(veth, inside ? inside->get() : nullptr)
                 : network::attach_veth(veth);
  if (!r) return std::move(r).error().context(fmt::format("network {}", network_name));
  return {};
}

std::string NetworkManager::netns_path(const std::string& container_id) const {
  return opts_.exec_root + "/netns/" + container_id;
}

Result<void> NetworkManager::validate(const ContainerNetRequest& r,
                                      const std::string& network_mode) {
  std::lock_guard lk(mu_);
  for (const auto& [key, list] : r.ports) {
    PortKey k = BERTH_TRY(parse_port_key(key));
    for (const auto& b : list) {
      BERTH_TRY(host_port_range(b.host_port));
      if (b.host_ip.empty()) continue;
      auto ip = BERTH_TRY_CTX(network::parse_ip(b.host_ip), "host IP of a port");
      // IPv6 reaches the container's IPv4 address through its monitor's
      // relay (NAT cannot translate between the families), which carries
      // TCP and UDP.
      if (ip.size() == 16 && k.proto == "sctp") {
        return make_error(Errc::InvalidArgument,
                          "cannot publish port {} on the IPv6 address {}: berth forwards IPv6 "
                          "for TCP and UDP ports only; publish it on an IPv4 address",
                          key, b.host_ip);
      }
    }
  }
  if (network_mode == "none" && !r.ports.empty()) {
    return make_error(Errc::InvalidArgument,
                      "conflicting options: port publishing and the container type network mode");
  }
  for (const auto& [name, settings] : r.networks) {
    const Net* n = BERTH_TRY(find_locked(name));
    if (r.networks.size() > 1 && n->driver != "bridge") {
      return make_error(Errc::InvalidArgument,
                        "container cannot be connected to network {} and other networks", n->name);
    }
    if (n->builtin && settings.is_object() && settings.contains("Aliases") &&
        settings["Aliases"].is_array() && !settings["Aliases"].empty()) {
      return make_error(Errc::InvalidArgument,
                        "network-scoped alias is supported only for containers in user defined "
                        "networks");
    }
    if (settings.is_object() && settings.contains("Links") && !settings["Links"].is_null()) {
      const Json& links = settings["Links"];
      if (!links.is_array())
        return make_error(Errc::InvalidArgument, "Links of network {} must be an array", n->name);
      if (n->builtin && !links.empty())
        return make_error(Errc::InvalidArgument,
                          "links are only supported for user-defined networks");
      for (const auto& l : links) {
        if (!l.is_string())
          return make_error(Errc::InvalidArgument, "Links of network {} must be strings", n->name);
        BERTH_TRY(parse_link(l.get<std::string>()));
      }
    }
    std::string ip;
    if (settings.is_object() && settings.contains("IPAMConfig") &&
        settings["IPAMConfig"].is_object()) {
      const Json& ipam = settings["IPAMConfig"];
      ip = ipam.value("IPv4Address", "");
      // berth's networks have no IPv6 subnet and its endpoints no extra
      // addresses: asked for, they are refused rather than left out.
      if (auto v6 = ipam.find("IPv6Address");
          v6 != ipam.end() && v6->is_string() && !v6->get<std::string>().empty()) {
        return make_error(Errc::InvalidArgument,
                          "user specified IPv6 address {} cannot be given on network {}: "
                          "berth's networks are IPv4 only",
                          v6->get<std::string>(), n->name);
      }
      if (auto ll = ipam.find("LinkLocalIPs"); ll != ipam.end() && ll->is_array() && !ll->empty()) {
        return make_error(Errc::InvalidArgument,
                          "link-local IPs (--link-local-ip) are not supported by berth");
      }
    }
    if (!ip.empty()) {
      if (n->builtin) {
        return make_error(Errc::InvalidArgument,
                          "user specified IP address is supported on user defined networks only");
      }
      BERTH_TRY_CTX(network::parse_ip(ip), "--ip");
      if (!n->subnet4 || !n->subnet4->contains(ip) || ip == n->gateway4) {
        return make_error(Errc::InvalidArgument,
                          "no configured subnet or ip-range contain the IP address {}", ip);
      }
      // Anywhere in the subnet, as docker's (the ip-range is for dynamic
      // addresses), but never one held back by --aux-address.
      if (n->aux4.count(ip)) {
        return make_error(Errc::Conflict, "Address already in use: {} on network {}", ip, n->name);
      }
    }
  }
  return {};
}

Result<void> NetworkManager::put_row_locked(const Live& l, const std::string& network_id) {
  const EndpointInfo& e = l.endpoints.at(network_id);
  auto ifn = l.ifnames.find(network_id);
  Json data = endpoint_data(e, ifn == l.ifnames.end() ? "" : ifn->second, "");
  if (!l.ports.empty() && network_id == l.endpoints.begin()->first) {
    Json ports = Json::array();
    for (const auto& p : l.ports)
      ports.push_back({{"port", p.container_port},
                       {"host_ip", p.binding.host_ip},
                       {"host_port", p.binding.host_port},
                       {"rule_ip", p.rule.host_ip},
                       {"proxy", p.proxy}});
    data["ports"] = ports;
  }
  return store_->put_endpoint(
      metadata::EndpointRow{network_id, l.container_id, e.ip4, e.ip6, dump_json(data)});
}

Result<EndpointInfo> NetworkManager::add_endpoint_locked(const ContainerNetRequest& r, const Net& n,
                                                         const Json& settings, int index,
                                                         bool default_route,
                                                         const std::optional<TakenSpare>& spare,
                                                         std::vector<LinkOp>* deferred) {
  Live& l = *live_.at(r.id);
  EndpointInfo e;
  e.network_id = n.id;
  e.container_id = r.id;
  e.container_name = r.name;
  e.endpoint_id = random_hex_id();
  if (settings.is_object() && settings.contains("Aliases") && settings["Aliases"].is_array())
    for (const auto& a : settings["Aliases"])
      if (a.is_string()) e.aliases.push_back(a.get<std::string>());
  if (!n.builtin &&
      std::find(e.aliases.begin(), e.aliases.end(), r.id.substr(0, 12)) == e.aliases.end())
    e.aliases.push_back(r.id.substr(0, 12));
  e.links = endpoint_links(settings);
  if (!n.subnet4) return make_error(Errc::Internal, "network {} has no IPv4 subnet", n.name);
  e.prefix4 = n.subnet4->prefix;
  e.gateway4 = n.gateway4;
  std::string want_ip;
  if (settings.is_object() && settings.contains("IPAMConfig") && settings["IPAMConfig"].is_object())
    want_ip = settings["IPAMConfig"].value("IPv4Address", "");
  std::string mac;
  if (settings.is_object()) mac = settings.value("MacAddress", "");
  if (mac.empty() && index == 0) mac = r.mac_address;

  std::string ifname = "eth" + std::to_string(index);
  l.ifnames[n.id] = ifname;
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (want_ip.empty()) {
      // The live containers' addresses are the rows' (rows of others are
      // cleared at restore and release); the UNIQUE index stays the referee.
      std::set<std::string> used{n.gateway4};
      used.insert(n.aux4.begin(), n.aux4.end());
      for (const auto& [cid, other] : live_) {
        auto ep = other->endpoints.find(n.id);
        if (ep != other->endpoints.end() && !ep->second.ip4.empty()) used.insert(ep->second.ip4);
      }
      // From the --ip-range when there is one: its own first and last
      // addresses are skipped as a subnet's are (docker does the same), and
      // so are the subnet's, which a /31 or /32 range could hold.
      if (n.range4) {
        for (auto& a : network::network_and_broadcast(*n.subnet4)) used.insert(std::move(a));
      }
      auto ip = network::next_free_ip(n.range4 ? *n.range4 : *n.subnet4, used, last_ip_[n.id]);
      if (!ip) return std::move(ip).error().context(fmt::format("network {}", n.name));
      e.ip4 = *ip;
    } else {
      e.ip4 = want_ip;
    }
    e.mac = mac.empty() ? network::mac_from_ip(e.ip4) : mac;
    l.endpoints[n.id] = e;
    auto put = put_row_locked(l, n.id);
    if (put) break;
    l.endpoints.erase(n.id);
    if (put.error().code != Errc::Conflict || !want_ip.empty()) {
      if (!want_ip.empty() && put.error().code == Errc::Conflict)
        return make_error(Errc::Conflict, "Address already in use: {} on network {}", want_ip,
                          n.name);
      return std::move(put).error();
    }
    last_ip_[n.id] = e.ip4;  // raced by another holder: try the next one
  }
  if (!l.endpoints.count(n.id))
    return make_error(Errc::Conflict, "could not allocate an address on network {}", n.name);
  last_ip_[n.id] = e.ip4;
  if (opts_.kernel) {
    network::VethConfig vc;
    vc.host_name = random_veth_name();
    vc.bridge = n.bridge;
    vc.netns_path = l.netns;
    vc.container_name = ifname;
    vc.mac = e.mac;
    vc.ipv4_cidr = fmt::format("{}/{}", e.ip4, e.prefix4);
    if (default_route && !n.internal) vc.gateway4 = n.gateway4;
    vc.mtu = opts_.mtu;
    if (spare) vc.host_name = spare->host_veth;
    LinkOp op{std::move(vc), spare.has_value(), spare ? spare->inside : nullptr, n.name};
    if (deferred) {
      deferred->push_back(std::move(op));
    } else if (auto a = op.run(); !a) {
      (void)store_->delete_endpoint(n.id, r.id);
      l.endpoints.erase(n.id);
      return std::move(a).error();
    }
  }
  return e;
}

Result<void> NetworkManager::take_ports_locked(Live& l, const ContainerNetRequest& r) {
  if (r.ports.empty()) return {};
  const EndpointInfo* target = nullptr;
  std::string bridge;
  for (const auto& [nid, e] : l.endpoints) {
    auto it = nets_.find(nid);
    if (it != nets_.end() && !e.ip4.empty()) {
      target = &e;
      bridge = it->second->bridge;
      break;
    }
  }
  if (!target) return {};
  for (const auto& [key, list] : r.ports) {
    PortKey k = BERTH_TRY(parse_port_key(key));
    for (const auto& b : list) {
      auto [lo, hi] = BERTH_TRY(host_port_range(b.host_port));
      std::string ip = b.host_ip.empty() ? opts_.default_bind_ip : b.host_ip;
      bool v6 = ip.find(':') != std::string::npos;
      // docker's default binding is every IPv4 and every IPv6 address (the
      // latter only where the host has IPv6); an explicit address is its
      // family alone ("0.0.0.0" IPv4, "::" IPv6).
      bool dual = !v6 && b.host_ip.empty() && ip == "0.0.0.0" && k.proto != "sctp";
      std::string ip4 = v6 ? "" : ip;
      std::string ip6 = v6 ? ip : dual ? "::" : "";
      Result<Reserved> got = make_error(Errc::Internal, "no port tried");
      for (uint32_t p = lo; p <= hi; ++p) {
        got = reserve_binding(k.proto, ip4, ip6, dual, static_cast<uint16_t>(p));
        if (got || got.error().code != Errc::Conflict) break;
      }
      if (!got) {
        return make_error(got.error().code,
                          "driver failed programming external connectivity on endpoint {}: {}",
                          r.name, got.error().message);
      }
      auto hold = [&](const std::string& host_ip, Fd sock, bool proxy) {
        PortHold h;
        h.container_port = fmt::format("{}/{}", k.port, k.proto);
        h.binding = PortBinding{host_ip, std::to_string(got->port)};
        h.rule.proto = k.proto;
        h.rule.host_ip = host_ip;
        h.rule.host_port = got->port;
        h.rule.container_ip = target->ip4;
        h.rule.container_port = k.port;
        h.rule.bridge = bridge;
        h.sock = std::move(sock);
        h.proxy = proxy;
        l.ports.push_back(std::move(h));
      };
      if (!ip4.empty()) hold(ip4, std::move(got->v4), false);
      if (got->v6) hold(ip6, std::move(got->v6), true);
    }
  }
  return {};
}

void NetworkManager::open_dns_locked(const std::string& container_id) {
  if (!dns_ || !opts_.kernel) return;
  Live& l = *live_.at(container_id);
  bool user = false;
  for (const auto& [nid, e] : l.endpoints) {
    auto it = nets_.find(nid);
    if (it != nets_.end() && !it->second->builtin) user = true;
  }
  if (!user || l.dns) return;
  auto udp = network::bound_socket_in_netns(l.netns, SOCK_DGRAM, "127.0.0.11", 53);
  auto tcp = network::bound_socket_in_netns(l.netns, SOCK_STREAM, "127.0.0.11", 53);
  if (!udp)
    log_warn("container {}: DNS socket: {}", container_id.substr(0, 12), udp.error().message);
  if (!tcp)
    log_warn("container {}: DNS socket: {}", container_id.substr(0, 12), tcp.error().message);
  dns_->add(container_id, udp ? std::move(*udp) : Fd(), tcp ? std::move(*tcp) : Fd(),
            l.request.dns);
  l.dns = true;
}

Result<NetAttachment> NetworkManager::attach(const ContainerNetRequest& r, bool defer_links) {
  std::lock_guard lk(mu_);
  release_locked(r.id);
  NetAttachment out;
  out.host_gateway_ip = [&] {
    for (const auto& [id, n] : nets_)
      if (n->builtin && n->driver == "bridge") return n->gateway4;
    return std::string();
  }();
  if (r.networks.empty() && !r.own_netns) return out;
  auto l = std::make_unique<Live>();
  l->container_id = r.id;
  l->request = r;
  l->netns = netns_path(r.id);
  Live& live = *l;
  live_[r.id] = std::move(l);
  bool done = false;
  ScopeExit undo([&] {
    if (!done) release_locked(r.id);
  });
  std::optional<TakenSpare> spare;  // the first network's veth, when from the pool
  if (opts_.kernel) {
    if (network::netns_exists(live.netns)) (void)network::remove_netns(live.netns);
    if (pool_ && !r.networks.empty()) {
      auto first = find_locked(r.networks.front().first);
      if (first && (*first)->driver == "bridge")
        spare = pool_->take(SpareSpec{(*first)->id, (*first)->bridge, opts_.mtu}, live.netns);
    }
    if (!spare) BERTH_TRY(network::create_netns(live.netns));
  }
  int index = 0;
  std::vector<LinkOp> links;
  for (const auto& [name, settings] : r.networks) {
    const Net* n = BERTH_TRY(find_locked(name));
    if (n->driver != "bridge") {
      return make_error(Errc::InvalidArgument, "network {} cannot be joined this way", n->name);
    }
    BERTH_TRY(add_endpoint_locked(r, *n, settings, index, index == 0,
                                  index == 0 ? spare : std::nullopt,
                                  defer_links ? &links : nullptr));
    if (!n->builtin) out.embedded_dns = true;
    ++index;
  }
  live.next_if = index;
  BERTH_TRY(take_ports_locked(live, r));
  if (!live.ports.empty()) BERTH_TRY(put_row_locked(live, live.endpoints.begin()->first));
  if (!live.ports.empty()) BERTH_TRY(apply_rules_locked());
  for (auto& p : live.ports) {
    out.ports[p.container_port].push_back(p.binding);
    // The listener goes with the attachment to the container's monitor, its
    // only holder from then on: it closes it the moment the container ends.
    if (p.proxy)
      out.proxies.push_back(ProxiedPort{std::move(p.sock), p.binding.host_ip, p.rule.host_port,
                                        p.rule.container_ip, p.rule.container_port});
  }
  open_dns_locked(r.id);
  refresh_dns_locked();
  done = true;
  out.netns_path = opts_.kernel ? live.netns : "";
  for (const auto& [nid, e] : live.endpoints) out.endpoints.push_back(e);
  if (!links.empty()) {
    out.links = [links = std::move(links)]() -> Result<void> {
      for (const auto& op : links) BERTH_TRY(op.run());
      return {};
    };
  }
  return out;
}

void NetworkManager::release_locked(const std::string& container_id) {
  auto it = live_.find(container_id);
  std::string ns = netns_path(container_id);
  // The table only changes when published ports go (or when rows of an
  // unknown state are cleared): a start or exit without ports skips nft.
  bool rules_changed = false;
  if (it != live_.end()) {
    rules_changed = !it->second->ports.empty();
    if (it->second->dns && dns_) dns_->remove(container_id);
    for (const auto& [nid, e] : it->second->endpoints) {
      if (auto d = store_->delete_endpoint(nid, container_id); !d)
        log_warn("container {}: releasing its address: {}", container_id.substr(0, 12),
                 d.error().message);
    }
    live_.erase(it);  // closes the port sockets
  } else if (auto gone = store_->delete_endpoints_of(container_id); gone && *gone > 0) {
    rules_changed = true;  // rows without a live entry: their rules may linger
  }
  if (opts_.kernel) {
    // Removing the pinned namespace ends it once its processes are gone, and
    // the veths inside go with it (and so do their host ends).
    if (auto r = network::remove_netns(ns); !r)
      log_warn("container {}: {}", container_id.substr(0, 12), r.error().message);
    if (rules_changed)
      if (auto a = apply_rules_locked(); !a) log_warn("nftables: {}", a.error().message);
  }
  refresh_dns_locked();
}

void NetworkManager::release(const std::string& container_id) {
  std::lock_guard lk(mu_);
  release_locked(container_id);
}

Result<EndpointInfo> NetworkManager::connect(const ContainerNetRequest& r,
                                             const std::string& network, const Json& settings) {
  std::lock_guard lk(mu_);
  const Net* n = BERTH_TRY(find_locked(network));
  auto it = live_.find(r.id);
  if (it == live_.end() || it->second->netns.empty()) {
    return make_error(Errc::PermissionDenied,
                      "container sharing network namespace with another container or host cannot "
                      "be connected to any other network");
  }
  if (n->driver != "bridge") {
    return make_error(Errc::PermissionDenied,
                      "container cannot be disconnected from host network or connected to host "
                      "network");
  }
  if (it->second->endpoints.count(n->id)) {
    return make_error(Errc::PermissionDenied, "endpoint with name {} already exists in network {}",
                      r.name, n->name);
  }
  int index = it->second->next_if++;
  EndpointInfo e = BERTH_TRY(add_endpoint_locked(r, *n, settings, index, false));
  it->second->request.networks.emplace_back(n->name, settings);
  if (auto a = apply_rules_locked(); !a) log_warn("nftables: {}", a.error().message);
  open_dns_locked(r.id);
  refresh_dns_locked();
  return e;
}

Result<void> NetworkManager::disconnect(const std::string& container_id,
                                        const std::string& network) {
  std::lock_guard lk(mu_);
  const Net* n = BERTH_TRY(find_locked(network));
  auto it = live_.find(container_id);
  if (it == live_.end() || !it->second->endpoints.count(n->id)) return {};
  Live& l = *it->second;
  if (opts_.kernel) {
    if (auto d = network::detach_veth(l.netns, l.ifnames[n->id]); !d)
      log_warn("container {}: {}", container_id.substr(0, 12), d.error().message);
  }
  BERTH_TRY(store_->delete_endpoint(n->id, container_id));
  l.endpoints.erase(n->id);
  l.ifnames.erase(n->id);
  std::erase_if(l.ports, [&](const PortHold& p) { return p.rule.bridge == n->bridge; });
  if (auto a = apply_rules_locked(); !a) log_warn("nftables: {}", a.error().message);
  refresh_dns_locked();
  return {};
}

Result<void> NetworkManager::restore(const std::map<std::string, ContainerNetRequest>& live) {
  std::lock_guard lk(mu_);
  auto rows = BERTH_TRY(store_->list_endpoints());
  std::map<std::string, std::vector<metadata::EndpointRow>> by_ctr;
  for (auto& row : rows) by_ctr[row.container_id].push_back(std::move(row));
  for (auto& [cid, list] : by_ctr) {
    auto want = live.find(cid);
    std::string ns = netns_path(cid);
    if (want == live.end() || (opts_.kernel && !network::netns_exists(ns))) {
      for (const auto& row : list) (void)store_->delete_endpoint(row.network_id, cid);
      if (opts_.kernel) (void)network::remove_netns(ns);
      continue;
    }
    auto l = std::make_unique<Live>();
    l->container_id = cid;
    l->request = want->second;
    l->netns = ns;
    Json ports = Json::array();
    for (const auto& row : list) {
      auto data = parse_json(row.data, "endpoint data");
      if (!data || !nets_.count(row.network_id)) continue;
      EndpointInfo e;
      e.network_id = row.network_id;
      e.container_id = cid;
      e.container_name = want->second.name;
      e.ip4 = row.ip4;
      e.ip6 = row.ip6;
      e.endpoint_id = data->value("endpoint_id", "");
      e.mac = data->value("mac", "");
      e.prefix4 = data->value("prefix4", 0);
      e.gateway4 = data->value("gateway4", "");
      if (data->contains("aliases")) e.aliases = (*data)["aliases"].get<std::vector<std::string>>();
      if (data->contains("links")) e.links = endpoint_links(Json{{"Links", (*data)["links"]}});
      l->endpoints[row.network_id] = e;
      l->ifnames[row.network_id] = data->value("ifname", "eth0");
      if (data->contains("ports")) ports = (*data)["ports"];
      l->next_if = std::max<int>(l->next_if, static_cast<int>(l->ifnames.size()));
    }
    // The same host ports as before the restart (their DNAT rules come back
    // with apply_rules_locked below; the sockets keep others off them).
    const EndpointInfo* target = l->endpoints.empty() ? nullptr : &l->endpoints.begin()->second;
    for (const auto& p : ports) {
      if (!target) break;
      PortHold h;
      h.container_port = p.value("port", "");
      h.binding = PortBinding{p.value("host_ip", ""), p.value("host_port", "")};
      auto k = parse_port_key(h.container_port);
      auto hp = host_port_range(h.binding.host_port);
      if (!k || !hp) continue;
      h.rule.proto = k->proto;
      h.rule.host_ip = p.value("rule_ip", h.binding.host_ip);
      h.rule.host_port = hp->first;
      h.rule.container_ip = target->ip4;
      h.rule.container_port = k->port;
      h.rule.bridge = nets_.at(target->network_id)->bridge;
      h.proxy = p.value("proxy", false);
      if (h.proxy) {
        // The container's monitor holds (and serves) the listening socket.
        l->ports.push_back(std::move(h));
        continue;
      }
      auto got = reserve_port(k->proto, h.binding.host_ip, hp->first);
      if (got) {
        h.sock = std::move(got->first);
      } else {
        log_warn("container {}: port {} could not be taken again: {}", cid.substr(0, 12),
                 h.binding.host_port, got.error().message);
      }
      l->ports.push_back(std::move(h));
    }
    live_[cid] = std::move(l);
    open_dns_locked(cid);
  }
  if (opts_.kernel) {
    // Namespaces of containers that are gone and never got a row.
    std::error_code ec;
    for (const auto& ent : std::filesystem::directory_iterator(opts_.exec_root + "/netns", ec)) {
      std::string id = ent.path().filename();
      if (!live_.count(id)) (void)network::remove_netns(ent.path());
    }
    BERTH_TRY(apply_rules_locked());
  }
  refresh_dns_locked();
  return {};
}

std::vector<EndpointInfo> NetworkManager::endpoints_of(const std::string& container_id) {
  std::lock_guard lk(mu_);
  std::vector<EndpointInfo> out;
  auto it = live_.find(container_id);
  if (it != live_.end())
    for (const auto& [nid, e] : it->second->endpoints) out.push_back(e);
  return out;
}

std::map<std::string, std::vector<PortBinding>> NetworkManager::ports_of(
    const std::string& container_id) {
  std::lock_guard lk(mu_);
  std::map<std::string, std::vector<PortBinding>> out;
  auto it = live_.find(container_id);
  if (it != live_.end())
    for (const auto& p : it->second->ports) out[p.container_port].push_back(p.binding);
  return out;
}

}  // namespace berth::engine
