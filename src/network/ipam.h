// network/ipam.h — pure address arithmetic for IP address management: CIDR
// parsing, overlap, choosing a free subnet from pools, the next free address
// of a subnet, and docker's MAC-from-IP rule. Persistence (which addresses
// are taken) belongs to the caller (the engine keeps it in SQLite).
// Thread-safety: pure functions.
// Depends on: base.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::network {

// An IPv4 or IPv6 prefix. `addr` holds 4 or 16 bytes in network order.
struct Cidr {
  bool v6 = false;
  std::vector<uint8_t> addr;  // the network address (host bits cleared by parse_cidr)
  int prefix = 0;
  std::string str() const;  // "172.17.0.0/16"
  bool contains(const std::string& ip) const;
};

// "172.17.0.0/16", "fd00::/64". InvalidArgument "invalid subnet \"x\"" for
// anything else; host bits set ("172.17.0.5/16") are cleared (docker
// accepts them the same way).
Result<Cidr> parse_cidr(const std::string& s);
// A bare address ("172.17.0.2", "fd00::2"); InvalidArgument otherwise.
Result<std::vector<uint8_t>> parse_ip(const std::string& s);
std::string format_ip(const std::vector<uint8_t>& bytes);
bool overlaps(const Cidr& a, const Cidr& b);

// An address pool as docker's default-address-pools: base + the size of the
// subnets carved from it.
struct Pool {
  std::string base;  // "172.17.0.0/16"
  int size = 16;     // prefix length of each subnet
};
// docker's default pools: 172.17.0.0/16 ... 172.31.0.0/16 (size 16) and
// 192.168.0.0/16 (size 20).
std::vector<Pool> default_pools();

// The first subnet of the pools (in order) that overlaps none of `taken`
// (other networks' subnets, the host's routes). NotFound "could not find an
// available, non-overlapping IPv4 address pool among the defaults to assign
// to the network" (docker's message) when none is left.
Result<Cidr> pick_subnet(const std::vector<Pool>& pools, const std::vector<Cidr>& taken);

// The subnet's network and broadcast addresses (none for IPv4 /31 and /32;
// IPv6 has no broadcast, only the network address is listed).
std::vector<std::string> network_and_broadcast(const Cidr& subnet);

// The gateway docker picks: the first host address of the subnet (.1).
std::string first_host(const Cidr& subnet);

// The next free host address of `subnet` after `last` (round robin, docker
// style: addresses are not reused at once), skipping the network and
// broadcast addresses and everything in `used` (which holds the gateway).
// "" for `last` starts at the beginning. IPv4 /31 and /32 (and IPv6 /127,
// /128) have no network/broadcast to skip. NotFound "no available IPv4
// addresses on this network's address pools: (SUBNET)" when full (IPv6 for a
// v6 subnet); the caller, which knows the network's name, rewrites it as
// docker's "...: NAME (SUBNET)".
Result<std::string> next_free_ip(const Cidr& subnet, const std::set<std::string>& used,
                                 const std::string& last);

// docker's MAC for an IPv4 address: 02:42 followed by the 4 address bytes
// ("" when `ipv4` is not an IPv4 address).
std::string mac_from_ip(const std::string& ipv4);

}  // namespace berth::network
