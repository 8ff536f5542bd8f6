// engine/network_internal.h — NetworkManager's private records (shared by
// network_manager.cc and network_attach.cc only).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/fd.h"
#include "engine/network_manager.h"
#include "network/ipam.h"
#include "network/link.h"
#include "network/nft.h"

namespace berth::engine {

struct NetworkManager::Net {
  std::string id, name;
  int64_t created_ns = 0;
  std::string driver = "bridge";  // bridge | host | null
  bool internal = false, attachable = false, enable_ipv6 = false, builtin = false;
  std::string bridge;
  std::map<std::string, std::string> options, labels;
  std::vector<IpamConfig> ipam;
  std::map<std::string, std::string> ipam_options;
  // Derived from ipam by fill_net.
  std::optional<network::Cidr> subnet4;
  std::string gateway4;
  std::optional<network::Cidr> range4;  // where dynamic addresses come from (else subnet4)
  std::set<std::string> aux4;           // reserved addresses
};

// A published port a running container holds: its DNAT rule and the socket
// that keeps the host port taken. For an IPv6 host address (`proxy`) there
// is no rule and no socket here: the listening socket goes to the
// container's monitor with the attachment (NetAttachment::proxies), which
// accepts on it, connects to rule.container_ip:container_port, and closes it
// when the container ends.
struct PortHold {
  std::string container_port;  // "80/tcp"
  PortBinding binding;         // as resolved (actual host IP and port)
  network::NftPort rule;
  Fd sock;
  bool proxy = false;
};

// One endpoint's kernel link: a veth made and moved in (attach_veth), or
// the pool's veth already inside configured (configure_veth_peer).
struct NetworkManager::LinkOp {
  network::VethConfig veth;
  bool spare = false;
  std::shared_ptr<network::RouteSocket> inside;  // the spare's, when it has one
  std::string network_name;                      // for the error's context
  Result<void> run() const;
};

struct NetworkManager::Live {
  std::string container_id;
  ContainerNetRequest request;
  std::string netns;
  std::map<std::string, EndpointInfo> endpoints;  // by network id
  std::map<std::string, std::string> ifnames;     // network id -> "eth0"
  std::vector<PortHold> ports;
  bool dns = false;
  int next_if = 0;
};

}  // namespace berth::engine
