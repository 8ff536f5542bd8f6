// network/link.h — bridges, veth pairs, addresses and routes, through netlink
// (libnl-route), plus the few sysctls the data path needs.
//
// Names are Linux interface names (at most 15 bytes); addresses are
// "a.b.c.d/len" (or IPv6) CIDR strings. Errors name the interface and the
// operation ("create bridge berth0: File exists").
// Thread-safety: every function may be called from any thread.
// Depends on: base, sys, libnl-route-3.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "network/netns.h"

namespace berth::network {

struct BridgeConfig {
  std::string name;           // "berth0", "br-<12 hex of the network id>"
  std::string gateway4_cidr;  // "172.18.0.1/16"; "" = no IPv4 address
  std::string gateway6_cidr;  // "fd00:1::1/64";  "" = none
  int mtu = 1500;
};

// Creates the bridge when missing, adds the gateway address(es) when
// missing, sets the MTU, brings it up, and sets route_localnet=1 on it (so
// 127.0.0.1 traffic DNAT-ed to a container may leave through it). Idempotent.
Result<void> ensure_bridge(const BridgeConfig& c);

// Deletes a link (a bridge, or one end of a veth: the peer goes with it).
// Ok when it does not exist.
Result<void> delete_link(const std::string& name);

bool link_exists(const std::string& name);

struct VethConfig {
  std::string host_name;   // "veth" + 7 hex chars, unique per endpoint
  std::string bridge;      // the host end is enslaved here
  std::string netns_path;  // the container's namespace (netns.h)
  std::string container_name = "eth0";
  std::string mac;        // "02:42:ac:11:00:02"; "" = kernel's random one
  std::string ipv4_cidr;  // "172.17.0.2/16"
  std::string gateway4;   // "172.17.0.1"; "" = no default route
  std::string ipv6_cidr;  // "" = none
  std::string gateway6;   // "" = no IPv6 default route
  int mtu = 1500;
  // A spare (see engine's netns pool): the peer is left down, without MAC,
  // addresses or routes, until configure_veth_peer gives it the container's.
  bool peer_down = false;
};

// Creates the veth pair, enslaves the host end to the bridge and brings it
// up; inside the namespace renames the peer to container_name, sets MAC,
// MTU and addresses, brings it and lo up, and adds the default route(s)
// when gateways are given. On failure deletes what it made.
Result<void> attach_veth(const VethConfig& c);

// The container side of a veth made with peer_down: inside the namespace
// sets the peer's MAC (when given and different) and brings it up (one
// message), adds the addresses and default route(s). Loopback is left as
// create_netns made it (up). Through `inside` (a socket opened in that
// namespace, see create_netns) when given, else from a thread that enters it.
Result<void> configure_veth_peer(const VethConfig& c, nl_sock* inside = nullptr);

// Removes the interface `container_name` from the namespace (its host peer
// goes with it). Ok when the namespace or the interface is gone.
Result<void> detach_veth(const std::string& netns_path, const std::string& container_name);

// The destinations (CIDR) of the host's IPv4 routes in the main table, and
// the host's own IPv4 addresses as /32; used to pick subnets that do not
// collide with the host's networks.
Result<std::vector<std::string>> host_routes_v4();

// Writes `value` to /proc/sys/<key with dots as slashes>, e.g.
// set_sysctl("net.ipv4.ip_forward", "1"). Skips the write when equal.
Result<void> set_sysctl(const std::string& key, const std::string& value);

}  // namespace berth::network
