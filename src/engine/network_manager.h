// engine/network_manager.h — NetworkManager: the NetworkService, plus what
// the container service needs to give a container its network (internal to
// engine; api/server sees networks.h only).
//
// What a running container on a bridge network has:
//  - a network namespace pinned at <exec-root>/netns/<container id>
//    (network/netns.h), made before the monitor starts, joined by path in
//    the OCI spec, removed when the container ends;
//  - per network, a veth pair (eth0, eth1, ... inside; the host end on the
//    network's bridge), an address from the network's subnet (an endpoint
//    row in SQLite: one holder per address, even across crashes), docker's
//    MAC (02:42 + the IPv4 bytes) unless one is asked for;
//  - its published ports: one reserving socket per host port held by berthd
//    (so a second container or a host program cannot take it and the error
//    names the port), and a DNAT rule in berth's nftables table (no proxy
//    process; the kernel forwards); on IPv6 host addresses a listening
//    socket that the container's monitor serves instead (ProxiedPort);
//  - on user networks, the embedded DNS server on 127.0.0.11:53 inside its
//    namespace (sockets made in the namespace, served by berthd's thread).
// The nftables table is rewritten whole from the endpoints after every
// change (network/nft.h), so it always matches the rows.
// Live restore: restore() re-reads the rows, keeps the endpoints of the
// containers that still run (their namespaces survived berthd), re-takes
// their ports and DNS sockets and re-applies the rules; the rows of the
// others are released.
// Thread-safety: every method may be called from any thread (one mutex;
// netlink and nftables calls are made with it held: they are short).
// Depends on: base, network, store/metadata, engine/networks.h.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/fd.h"
#include "engine/container_types.h"
#include "engine/events.h"
#include "engine/netns_pool.h"
#include "engine/networks.h"
#include "network/ipam.h"
#include "store/metadata/metadata.h"

namespace berth::network {
class DnsServer;
}

namespace berth::engine {

struct NetworkManagerOptions {
  std::string exec_root;                    // netns files under <exec_root>/netns
  std::string bridge_name = "berth0";       // the default `bridge` network's device
  std::string bip;                          // "172.17.0.1/16" = gateway/prefix; "" = from the pools
  std::vector<network::Pool> pools;         // empty = network::default_pools()
  std::string default_bind_ip = "0.0.0.0";  // published ports without an IP
  int mtu = 1500;
  // Ready-made namespaces kept per recently used bridge network (netns_pool.h);
  // 0 = every start makes its own.
  size_t netns_pool = 2;
  std::vector<std::string> dns_upstreams;  // empty = the host's resolv.conf nameservers
  std::string nft_table = "berth";
  // false: no kernel objects at all (bridges, veths, nftables, netns) —
  // unit tests without root. Containers then get a private loopback only.
  bool kernel = true;
};

// The networks a container asks for, resolved at start.
struct ContainerNetRequest {
  std::string id, name;  // name without "/"
  std::string hostname;
  // Network name or id -> docker's EndpointSettings JSON (Aliases,
  // IPAMConfig.IPv4Address, MacAddress), from HostConfig.NetworkMode and
  // NetworkingConfig.EndpointsConfig.
  std::vector<std::pair<std::string, Json>> networks;
  // The container has a namespace of its own (bridge / user network modes):
  // one is made even when it is on no network (all disconnected).
  bool own_netns = false;
  std::string mac_address;  // Config.MacAddress (the first network)
  // Container port ("80/tcp") -> bindings; PublishAllPorts already expanded.
  std::map<std::string, std::vector<PortBinding>> ports;
  // --link on user networks: (container name or id, alias); the alias
  // resolves, through the embedded DNS and for this container only, to that
  // container's address on a network they share.
  std::vector<std::pair<std::string, std::string>> links;
  // --dns: on a user network the embedded DNS forwards this container's
  // other queries to these servers instead of the daemon's (docker's rule;
  // its resolv.conf still names 127.0.0.11).
  std::vector<std::string> dns;
};

// A published port on an IPv6 host address. NAT cannot carry IPv6 traffic
// to the container's IPv4 address, so the container's monitor serves it: it
// relays between `listener` and target_ip:target_port (TCP and UDP).
struct ProxiedPort {
  // Bound (TCP: listening), non-blocking; the only copy (the manager keeps none).
  Fd listener;
  std::string host_ip;  // "::", "::1", ...
  uint16_t host_port = 0;
  std::string target_ip;  // the container's IPv4 address
  uint16_t target_port = 0;
};

struct NetAttachment {
  std::string netns_path;  // "" = none made (host / none / container: modes)
  std::vector<EndpointInfo> endpoints;
  // Actual host ports (a "" or range request resolved), container port -> bindings.
  std::map<std::string, std::vector<PortBinding>> ports;
  bool embedded_dns = false;    // on a user network: resolv.conf -> 127.0.0.11
  std::string host_gateway_ip;  // the default bridge's gateway (--add-host host-gateway)
  // attach(r, true) only: the endpoints' links (the veth inside the
  // namespace: name, MAC, address, routes) still to be configured. The caller
  // runs it once, on any thread, without any lock of the manager, before the
  // container's process runs, and calls release() when it fails. Empty when
  // nothing is left to do.
  std::function<Result<void>()> links;
  // The IPv6 published ports, to hand to the container's monitor before its
  // start (MonitorClient::proxy).
  std::vector<ProxiedPort> proxies;
};

class NetworkManager final : public NetworkService {
 public:
  static Result<std::unique_ptr<NetworkManager>> open(
      NetworkManagerOptions o, std::unique_ptr<metadata::MetadataStore> store, EventBus& events);
  ~NetworkManager() override;

  // NetworkService
  Result<std::string> create(const NetworkCreateRequest& r) override;
  Result<std::vector<NetworkInfo>> list(
      const std::map<std::string, std::vector<std::string>>& filters) override;
  Result<NetworkInfo> inspect(const std::string& name) override;
  Result<void> remove(const std::string& name) override;
  Result<NetworkPruneReport> prune(
      const std::map<std::string, std::vector<std::string>>& filters) override;

  // ---- for the container service ------------------------------------------
  // Create-time checks: the networks exist, static addresses are in their
  // subnets, port specs are valid, the mode is compatible with the flags
  // (docker's messages). NotFound "network X not found".
  Result<void> validate(const ContainerNetRequest& r, const std::string& network_mode);
  // Gives the container its namespace, endpoints, ports and DNS. Releases
  // whatever the container still held first (a restart). On failure nothing
  // of it is left (no netns, veth, row, rule or port). `defer_links`: the
  // namespace, addresses, rows, ports and rules are in place on return, but
  // the kernel links are left to NetAttachment::links, so the caller can
  // configure them while it starts the container's monitor (the netns path
  // exists from the start, and nothing in the container runs before start).
  Result<NetAttachment> attach(const ContainerNetRequest& r, bool defer_links = false);
  // Releases all of it. Idempotent; logs failures.
  void release(const std::string& container_id);
  // A running container's new name (rename): its DNS name on user networks
  // and the name its endpoints show. Nothing for a container not attached.
  void rename(const std::string& container_id, const std::string& name);
  // Adds one network to a running container (connect) / removes one.
  Result<EndpointInfo> connect(const ContainerNetRequest& r, const std::string& network,
                               const Json& settings);
  Result<void> disconnect(const std::string& container_id, const std::string& network);
  // The network's id for a name / id / prefix (NotFound as above).
  Result<std::string> resolve(const std::string& name);
  Result<std::string> name_of(const std::string& id);
  bool is_user_network(const std::string& name);
  // After berthd starts: `live` = ids of containers whose monitor runs,
  // with their requests (for the DNS names and ports).
  Result<void> restore(const std::map<std::string, ContainerNetRequest>& live);

  // What inspect / ps show for a container (empty when it does not run).
  std::vector<EndpointInfo> endpoints_of(const std::string& container_id);
  std::map<std::string, std::vector<PortBinding>> ports_of(const std::string& container_id);
  std::string netns_path(const std::string& container_id) const;
  // The default bridge's gateway address ("" without kernel networking).
  std::string host_gateway_ip();
  // What the embedded DNS answers container `container_id` for `name`
  // (lower case): its --link aliases, then the names and aliases on the
  // user networks it is on; nullopt when the name is not berth's to answer
  // (or the container is on no user network).
  std::optional<std::vector<std::string>> dns_lookup(const std::string& container_id,
                                                     const std::string& name);

  struct Net;
  struct Live;
  struct LinkOp;

 private:
  NetworkManager(NetworkManagerOptions o, std::unique_ptr<metadata::MetadataStore> store,
                 EventBus& events);
  Result<void> load();
  Result<void> ensure_builtin();
  Result<const Net*> find_locked(const std::string& name) const;
  Result<void> apply_rules_locked();
  // `spare`: the namespace came from the pool with this veth in it.
  // `deferred`: the link is not configured here but appended to it.
  Result<EndpointInfo> add_endpoint_locked(const ContainerNetRequest& r, const Net& n,
                                           const Json& settings, int index, bool default_route,
                                           const std::optional<TakenSpare>& spare = {},
                                           std::vector<LinkOp>* deferred = nullptr);
  void drop_endpoint_locked(const std::string& network_id, const std::string& container_id);
  Result<void> take_ports_locked(Live& l, const ContainerNetRequest& r);
  void open_dns_locked(const std::string& container_id);
  NetworkInfo info_locked(const Net& n) const;
  void release_locked(const std::string& container_id);
  void refresh_dns_locked();
  Result<void> put_row_locked(const Live& l, const std::string& network_id);

  NetworkManagerOptions opts_;
  std::unique_ptr<metadata::MetadataStore> store_;
  EventBus& events_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Net>> nets_;   // by id
  std::map<std::string, std::unique_ptr<Live>> live_;  // by container id
  std::map<std::string, std::string> last_ip_;         // network id -> last handed out
  std::unique_ptr<network::DnsServer> dns_;
  std::unique_ptr<NetnsPool> pool_;  // kernel mode only
  // The names the DNS thread answers, rebuilt by refresh_dns_locked (under
  // mu_, then dns_mu_). The DNS thread takes dns_mu_ only, never mu_, so a
  // call into dns_ with mu_ held cannot deadlock against a lookup.
  std::mutex dns_mu_;
  std::map<std::string, std::vector<std::string>> dns_nets_;  // container -> user network ids
  std::map<std::string, std::multimap<std::string, std::string>> dns_names_;  // net -> name -> ip
  // container -> its --link aliases -> ip (user networks)
  std::map<std::string, std::multimap<std::string, std::string>> dns_links_;
};

}  // namespace berth::engine
