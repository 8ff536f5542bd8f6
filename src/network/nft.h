// network/nft.h — berth's nftables rules (NAT, published ports, forwarding
// between berth's bridges), through libnftables.
//
// berth owns the tables `ip berth` and `ip6 berth` and nothing else: it
// never adds rules to, or changes the policy of, another table. Each change
// replaces berth's tables whole in one nftables transaction (the ruleset is
// derived from the engine's state, so a crash never leaves a half-applied
// change, and a restart re-applies the same text). What the rules do:
//  - nat prerouting + output: traffic to a local address (fib daddr type
//    local; 127.0.0.1 included) and a published port is DNAT-ed to the
//    container (host_ip, when given, restricts the destination address);
//  - nat postrouting: masquerade of each non-internal subnet leaving
//    through another interface; masquerade of 127.0.0.0/8 sources leaving
//    through a berth bridge (localhost -> published port); hairpin (a
//    container reaching a published port of its own bridge);
//  - filter forward (policy accept, so it only ever drops): internal
//    networks cannot leave their bridge, berth bridges cannot reach each
//    other, published ports are accepted (ct status dnat). A host firewall's
//    own forward/input chains still apply: a packet must pass every base
//    chain, so published ports never bypass them.
// Thread-safety: apply_ruleset/remove_ruleset serialise on an internal mutex.
// Depends on: base, libnftables.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::network {

struct NftNetwork {
  std::string bridge;   // "berth0"
  std::string subnet4;  // "172.17.0.0/16" ("" = none)
  std::string subnet6;  // "" = none
  bool internal = false;
};

struct NftPort {
  std::string proto = "tcp";  // tcp | udp | sctp
  std::string host_ip;        // "" or "0.0.0.0" / "::" = every local address
  uint16_t host_port = 0;
  std::string container_ip;  // IPv4 or IPv6 (decides the table)
  uint16_t container_port = 0;
  std::string bridge;  // the container's bridge
};

struct NftRuleset {
  std::vector<NftNetwork> networks;
  std::vector<NftPort> ports;
};

// The nft script that replaces berth's tables with the ruleset (pure; the
// unit tests read it). `table` is "berth" except in tests.
std::string render_ruleset(const NftRuleset& r, const std::string& table = "berth");

// Applies render_ruleset() atomically. Errors carry nft's message.
Result<void> apply_ruleset(const NftRuleset& r, const std::string& table = "berth");

// Deletes berth's tables (ip and ip6). Ok when they do not exist.
Result<void> remove_ruleset(const std::string& table = "berth");

}  // namespace berth::network
