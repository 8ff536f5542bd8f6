// engine/networks.h — docker's networks: the built-in `bridge`, `host` and
// `none`, user bridge networks, and what a container gets on them (address,
// MAC, aliases, published ports).
//
// NetworkService is what api/server calls for /networks/*. The container
// service (containers.h) attaches a container's endpoints when it starts and
// releases them when it ends; connect/disconnect of a container go through
// the container service (it knows the container's state) which calls the
// network manager (network_manager.h).
// Names: every `name` argument accepts a full id, an unambiguous id prefix or
// a name. Unknown: NotFound "network NAME not found" (docker's message).
// Thread-safety: every method may be called from any thread.
// Depends on: base.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/container_types.h"

namespace berth::engine {

struct IpamConfig {
  std::string subnet;    // "172.18.0.0/16"
  std::string gateway;   // "172.18.0.1"
  std::string ip_range;  // dynamic addresses come from here ("" = the subnet)
  // name -> address: reserved, never given to a container (docker's
  // --aux-address).
  std::map<std::string, std::string> aux_addresses;
};

struct NetworkCreateRequest {
  std::string name;
  std::string driver = "bridge";  // only "bridge" can be created
  bool internal = false, attachable = false, enable_ipv6 = false;
  std::vector<IpamConfig> ipam;  // empty = a subnet from the pools
  std::map<std::string, std::string> options, labels;
  std::map<std::string, std::string> ipam_options;  // kept and shown; the default IPAM reads none
};

// An address a running container holds on a network.
struct EndpointInfo {
  std::string network_id;
  std::string container_id;
  std::string container_name;  // without "/"
  std::string endpoint_id;     // 64 hex
  std::string mac;
  std::string ip4;  // bare address ("" on host/none)
  int prefix4 = 0;
  std::string gateway4;
  std::string ip6;
  int prefix6 = 0;
  std::string gateway6;
  std::vector<std::string> aliases;
  // EndpointSettings.Links ("name[:alias]", docker's `network connect
  // --link`): (container name or id, alias); the alias resolves, for this
  // container only, to that container's address on this network.
  std::vector<std::pair<std::string, std::string>> links;
};

struct NetworkInfo {
  std::string id, name;
  std::string driver;  // "bridge" | "host" | "null"
  int64_t created_ns = 0;
  bool internal = false, attachable = false, enable_ipv6 = false;
  bool builtin = false;  // bridge, host, none: cannot be removed
  std::vector<IpamConfig> ipam;
  std::map<std::string, std::string> options, labels, ipam_options;
  std::string bridge;                             // interface ("" for host/none)
  std::map<std::string, EndpointInfo> endpoints;  // by container id (running ones)
};

struct NetworkPruneReport {
  std::vector<std::string> deleted;  // names
};

class NetworkService {
 public:
  virtual ~NetworkService() = default;
  // The new network's id. Conflict "network with name X already exists";
  // InvalidArgument for a bad name, driver, subnet or gateway, or a subnet
  // overlapping another network ("Pool overlaps with other one on this
  // address space").
  virtual Result<std::string> create(const NetworkCreateRequest& r) = 0;
  // filters: driver, id, label, name, scope, type (custom|builtin), dangling.
  virtual Result<std::vector<NetworkInfo>> list(
      const std::map<std::string, std::vector<std::string>>& filters) = 0;
  virtual Result<NetworkInfo> inspect(const std::string& name) = 0;
  // Forbidden for the built-in ones; Conflict "error while removing network:
  // network NAME id ID has active endpoints" while containers run on it.
  virtual Result<void> remove(const std::string& name) = 0;
  // User networks without endpoints (filters: label, label!, until = created
  // at or before, unix nanoseconds in decimal; the API layer resolves
  // docker's forms).
  virtual Result<NetworkPruneReport> prune(
      const std::map<std::string, std::vector<std::string>>& filters) = 0;
};

}  // namespace berth::engine
