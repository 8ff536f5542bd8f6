// engine/network_manager.cc — networks: the rows, the built-in ones, create,
// list, inspect, remove, prune, and the nftables ruleset derived from them.
// The per-container side (attach, release, ports, DNS, restore) is in
// network_attach.cc.
#include "engine/network_manager.h"

#include <filesystem>
#include <regex>

#include "base/digest.h"
#include "base/json.h"
#include "base/log.h"
#include "base/strings.h"
#include "engine/hosts_files.h"
#include "engine/network_internal.h"
#include "network/dns.h"
#include "network/link.h"
#include "network/nft.h"

namespace berth::engine {

namespace {

bool valid_network_name(const std::string& n) {
  static const std::regex re("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$");
  return std::regex_match(n, re);
}

Json net_config_json(const NetworkManager::Net& n) {
  Json ipam = Json::array();
  for (const auto& c : n.ipam) {
    Json e = {{"Subnet", c.subnet}, {"Gateway", c.gateway}, {"IPRange", c.ip_range}};
    if (!c.aux_addresses.empty()) e["AuxiliaryAddresses"] = c.aux_addresses;
    ipam.push_back(std::move(e));
  }
  Json j = {{"driver", n.driver},           {"internal", n.internal}, {"attachable", n.attachable},
            {"enable_ipv6", n.enable_ipv6}, {"builtin", n.builtin},   {"ipam", ipam},
            {"options", n.options},         {"labels", n.labels},     {"bridge", n.bridge}};
  if (!n.ipam_options.empty()) j["ipam_options"] = n.ipam_options;
  return j;
}

Result<void> fill_net(NetworkManager::Net& n, const Json& j) {
  try {
    n.driver = j.value("driver", "bridge");
    n.internal = j.value("internal", false);
    n.attachable = j.value("attachable", false);
    n.enable_ipv6 = j.value("enable_ipv6", false);
    n.builtin = j.value("builtin", false);
    n.bridge = j.value("bridge", "");
    if (j.contains("options")) n.options = j["options"].get<std::map<std::string, std::string>>();
    if (j.contains("labels")) n.labels = j["labels"].get<std::map<std::string, std::string>>();
    if (j.contains("ipam_options"))
      n.ipam_options = j["ipam_options"].get<std::map<std::string, std::string>>();
    n.ipam.clear();
    if (j.contains("ipam")) {
      for (const auto& c : j["ipam"]) {
        IpamConfig ic{c.value("Subnet", ""), c.value("Gateway", ""), c.value("IPRange", ""), {}};
        if (c.contains("AuxiliaryAddresses"))
          ic.aux_addresses = c["AuxiliaryAddresses"].get<std::map<std::string, std::string>>();
        n.ipam.push_back(std::move(ic));
      }
    }
  } catch (const std::exception& e) {
    return make_error(Errc::Internal, "network {}: unreadable config: {}", n.name, e.what());
  }
  n.subnet4.reset();
  n.range4.reset();
  n.aux4.clear();
  for (const auto& c : n.ipam) {
    auto cidr = network::parse_cidr(c.subnet);
    if (cidr && !cidr->v6 && !n.subnet4) {
      n.subnet4 = *cidr;
      n.gateway4 = c.gateway.empty() ? network::first_host(*cidr) : c.gateway;
      if (auto r = network::parse_cidr(c.ip_range); r && !r->v6) n.range4 = *r;
      for (const auto& [name, ip] : c.aux_addresses) n.aux4.insert(ip);
    }
  }
  return {};
}

// docker's checks of a subnet's --ip-range: a CIDR inside the subnet.
Result<std::string> check_ip_range(const network::Cidr& subnet, const std::string& range) {
  if (range.empty()) return std::string();
  auto r = network::parse_cidr(range);
  if (!r) return make_error(Errc::InvalidArgument, "invalid CIDR address: {}", range);
  if (r->v6 || r->prefix < subnet.prefix || !subnet.contains(network::format_ip(r->addr)))
    return make_error(Errc::InvalidArgument, "no matching subnet for range {}", range);
  return r->str();
}

// --aux-address: addresses of the subnet held back from containers; one
// that is the gateway's, or another name's, is docker's "in use" error.
Result<std::map<std::string, std::string>> check_aux_addresses(
    const network::Cidr& subnet, const std::string& gateway,
    const std::map<std::string, std::string>& aux) {
  std::set<std::string> seen{gateway};
  for (const auto& [name, ip] : aux) {
    if (!network::parse_ip(ip) || !subnet.contains(ip))
      return make_error(Errc::InvalidArgument, "no matching subnet for aux-address {}", ip);
    if (!seen.insert(ip).second)
      return make_error(Errc::Conflict,
                        "failed to allocate secondary ip address ({}:{}): Address already in use",
                        name, ip);
  }
  return aux;
}

bool match_any(const std::vector<std::string>& want,
               const std::function<bool(const std::string&)>& f) {
  if (want.empty()) return true;
  for (const auto& w : want)
    if (f(w)) return true;
  return false;
}

bool labels_match(const std::vector<std::string>& want,
                  const std::map<std::string, std::string>& l) {
  for (const auto& w : want) {
    auto eq = w.find('=');
    auto it = l.find(w.substr(0, eq));
    if (it == l.end()) return false;
    if (eq != std::string::npos && it->second != w.substr(eq + 1)) return false;
  }
  return true;
}

}  // namespace

NetworkManager::NetworkManager(NetworkManagerOptions o,
                               std::unique_ptr<metadata::MetadataStore> store, EventBus& events)
    : opts_(std::move(o)), store_(std::move(store)), events_(events) {
  if (opts_.pools.empty()) opts_.pools = network::default_pools();
}

NetworkManager::~NetworkManager() {
  // The DNS thread calls back into dns_lookup; stop it before the tables go.
  dns_.reset();
  pool_.reset();
}

Result<std::unique_ptr<NetworkManager>> NetworkManager::open(
    NetworkManagerOptions o, std::unique_ptr<metadata::MetadataStore> store, EventBus& events) {
  std::unique_ptr<NetworkManager> m(new NetworkManager(std::move(o), std::move(store), events));
  BERTH_TRY(m->load());
  BERTH_TRY(m->ensure_builtin());
  if (m->opts_.kernel) {
    std::error_code ec;
    std::filesystem::create_directories(m->opts_.exec_root + "/netns", ec);
    if (ec) return make_error(Errc::Io, "creating {}/netns: {}", m->opts_.exec_root, ec.message());
    BERTH_TRY_CTX(network::set_sysctl("net.ipv4.ip_forward", "1"), "enabling IPv4 forwarding");
    std::lock_guard lk(m->mu_);
    for (auto& [id, n] : m->nets_) {
      if (n->driver != "bridge" || !n->subnet4) continue;
      network::BridgeConfig bc{n->bridge, fmt::format("{}/{}", n->gateway4, n->subnet4->prefix), "",
                               m->opts_.mtu};
      BERTH_TRY_CTX(network::ensure_bridge(bc), fmt::format("network {}", n->name));
    }
    std::vector<std::string> up = m->opts_.dns_upstreams;
    if (up.empty()) up = network::resolv_conf_nameservers(read_host_resolv_conf());
    NetworkManager* self = m.get();
    m->dns_ = BERTH_TRY(network::DnsServer::start(
        [self](const std::string& tag, const std::string& name) {
          return self->dns_lookup(tag, name);
        },
        up));
    m->pool_ = std::make_unique<NetnsPool>(m->opts_.exec_root + "/netns-pool", m->opts_.netns_pool);
  }
  return m;
}

Result<void> NetworkManager::load() {
  auto rows = BERTH_TRY(store_->list_networks());
  std::lock_guard lk(mu_);
  for (auto& r : rows) {
    auto n = std::make_unique<Net>();
    n->id = r.id;
    n->name = r.name;
    n->created_ns = r.created_ns;
    auto j = parse_json(r.config, "network config");
    if (!j) {
      log_warn("network {}: unreadable row, skipped: {}", r.name, j.error().message);
      continue;
    }
    if (auto f = fill_net(*n, *j); !f) {
      log_warn("{}", f.error().message);
      continue;
    }
    nets_[n->id] = std::move(n);
  }
  return {};
}

// The host's routes minus berth's own bridges (those are ours to reuse).
static std::vector<network::Cidr> taken_subnets(
    const std::map<std::string, std::unique_ptr<NetworkManager::Net>>& nets, bool kernel) {
  std::vector<network::Cidr> taken;
  for (const auto& [id, n] : nets)
    if (n->subnet4) taken.push_back(*n->subnet4);
  if (!kernel) return taken;
  auto routes = network::host_routes_v4();
  if (!routes) {
    log_warn("reading the host's routes: {}", routes.error().message);
    return taken;
  }
  for (const auto& r : *routes) {
    auto c = network::parse_cidr(r);
    if (!c) continue;
    bool ours = false;
    for (const auto& t : taken)
      if (network::overlaps(t, *c)) ours = true;
    if (!ours) taken.push_back(*c);
  }
  return taken;
}

Result<void> NetworkManager::ensure_builtin() {
  struct Builtin {
    const char* name;
    const char* driver;
  };
  for (Builtin b :
       {Builtin{"bridge", "bridge"}, Builtin{"host", "host"}, Builtin{"none", "null"}}) {
    {
      std::lock_guard lk(mu_);
      bool have = false;
      for (auto& [id, n] : nets_)
        if (n->name == b.name) have = true;
      if (have) continue;
    }
    auto n = std::make_unique<Net>();
    n->id = random_hex_id();
    n->name = b.name;
    n->driver = b.driver;
    n->builtin = true;
    n->created_ns = unix_now_ns();
    if (n->driver == "bridge") {
      n->bridge = opts_.bridge_name;
      n->options["com.docker.network.bridge.default_bridge"] = "true";
      n->options["com.docker.network.bridge.name"] = opts_.bridge_name;
      n->options["com.docker.network.driver.mtu"] = std::to_string(opts_.mtu);
      n->options["com.docker.network.bridge.enable_ip_masquerade"] = "true";
      IpamConfig c;
      if (!opts_.bip.empty()) {
        auto cidr = BERTH_TRY_CTX(network::parse_cidr(opts_.bip), "--bip");
        auto slash = opts_.bip.find('/');
        c.subnet = cidr.str();
        c.gateway = opts_.bip.substr(0, slash);
      } else {
        std::lock_guard lk(mu_);
        auto cidr =
            BERTH_TRY(network::pick_subnet(opts_.pools, taken_subnets(nets_, opts_.kernel)));
        c.subnet = cidr.str();
        c.gateway = network::first_host(cidr);
      }
      n->ipam.push_back(c);
    }
    BERTH_TRY(fill_net(*n, net_config_json(*n)));
    BERTH_TRY(store_->put_network(
        metadata::NetworkRow{n->id, n->name, n->created_ns, dump_json(net_config_json(*n))}));
    std::lock_guard lk(mu_);
    nets_[n->id] = std::move(n);
  }
  return {};
}

Result<const NetworkManager::Net*> NetworkManager::find_locked(const std::string& name) const {
  if (name.empty()) return make_error(Errc::NotFound, "network  not found");
  for (const auto& [id, n] : nets_)
    if (n->name == name || id == name) return n.get();
  const Net* hit = nullptr;
  for (const auto& [id, n] : nets_) {
    if (starts_with(id, name)) {
      if (hit) {
        return make_error(Errc::InvalidArgument,
                          "network {} is ambiguous ({} matches found based on ID prefix)", name, 2);
      }
      hit = n.get();
    }
  }
  if (!hit) return make_error(Errc::NotFound, "network {} not found", name);
  return hit;
}

Result<std::string> NetworkManager::resolve(const std::string& name) {
  std::lock_guard lk(mu_);
  const Net* n = BERTH_TRY(find_locked(name));
  return n->id;
}

Result<std::string> NetworkManager::name_of(const std::string& id) {
  std::lock_guard lk(mu_);
  const Net* n = BERTH_TRY(find_locked(id));
  return n->name;
}

bool NetworkManager::is_user_network(const std::string& name) {
  std::lock_guard lk(mu_);
  auto n = find_locked(name);
  return n && !(*n)->builtin;
}

std::string NetworkManager::host_gateway_ip() {
  std::lock_guard lk(mu_);
  for (const auto& [id, n] : nets_)
    if (n->builtin && n->driver == "bridge") return n->gateway4;
  return "";
}

Result<std::string> NetworkManager::create(const NetworkCreateRequest& r) {
  if (r.name.empty()) return make_error(Errc::InvalidArgument, "network name is required");
  if (!valid_network_name(r.name)) {
    return make_error(Errc::InvalidArgument,
                      "invalid network name \"{}\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                      r.name);
  }
  // docker refuses the built-in networks' names (and "default") outright.
  if (r.name == "bridge" || r.name == "host" || r.name == "none" || r.name == "default") {
    return make_error(Errc::PermissionDenied, "operation is not permitted on predefined {} network",
                      r.name);
  }
  if (r.driver != "bridge" && !r.driver.empty()) {
    if (r.driver == "host" || r.driver == "null") {
      return make_error(Errc::PermissionDenied, "only one instance of \"{}\" network is allowed",
                        r.driver);
    }
    return make_error(Errc::NotFound, "plugin \"{}\" not found", r.driver);
  }
  if (r.enable_ipv6) {
    return make_error(Errc::NotImplemented, "IPv6 networks are not supported by berth yet");
  }
  auto n = std::make_unique<Net>();
  n->id = random_hex_id();
  n->name = r.name;
  n->driver = "bridge";
  n->internal = r.internal;
  n->attachable = r.attachable;
  n->options = r.options;
  n->labels = r.labels;
  n->ipam_options = r.ipam_options;
  n->created_ns = unix_now_ns();
  auto it = r.options.find("com.docker.network.bridge.name");
  n->bridge = it != r.options.end() ? it->second : "br-" + n->id.substr(0, 12);
  if (n->bridge.size() > 15) {
    return make_error(Errc::InvalidArgument, "bridge name \"{}\" is longer than 15 characters",
                      n->bridge);
  }
  std::lock_guard lk(mu_);
  for (const auto& [id, o] : nets_) {
    if (o->name == r.name) {
      return make_error(Errc::Conflict, "network with name {} already exists", r.name);
    }
    if (o->bridge == n->bridge && !o->bridge.empty()) {
      return make_error(Errc::Conflict, "bridge {} is already used by network {}", n->bridge,
                        o->name);
    }
  }
  if (r.ipam.size() > 1) {
    return make_error(Errc::NotImplemented, "only one IPv4 subnet per network is supported");
  }
  IpamConfig c;
  if (!r.ipam.empty() && !r.ipam[0].subnet.empty()) {
    auto cidr = BERTH_TRY(network::parse_cidr(r.ipam[0].subnet));
    if (cidr.v6) return make_error(Errc::NotImplemented, "IPv6 subnets are not supported yet");
    if (cidr.prefix > 30) {
      return make_error(Errc::InvalidArgument, "subnet {} is too small for a network", cidr.str());
    }
    for (const auto& [id, o] : nets_) {
      if (o->subnet4 && network::overlaps(*o->subnet4, cidr)) {
        return make_error(Errc::PermissionDenied,
                          "invalid pool request: Pool overlaps with other one on this address "
                          "space ({} of network {})",
                          o->subnet4->str(), o->name);
      }
    }
    c.subnet = cidr.str();
    c.gateway = r.ipam[0].gateway.empty() ? network::first_host(cidr) : r.ipam[0].gateway;
    if (!r.ipam[0].gateway.empty()) {
      BERTH_TRY_CTX(network::parse_ip(c.gateway), "--gateway");
      if (!cidr.contains(c.gateway)) {
        return make_error(Errc::InvalidArgument,
                          "no matching subnet for gateway {}: it is not in {}", c.gateway,
                          cidr.str());
      }
    }
    c.ip_range = BERTH_TRY(check_ip_range(cidr, r.ipam[0].ip_range));
    c.aux_addresses = BERTH_TRY(check_aux_addresses(cidr, c.gateway, r.ipam[0].aux_addresses));
  } else {
    if (!r.ipam.empty() && !r.ipam[0].gateway.empty()) {
      return make_error(Errc::InvalidArgument, "a --gateway needs a --subnet");
    }
    if (!r.ipam.empty() && !r.ipam[0].ip_range.empty()) {
      return make_error(Errc::InvalidArgument, "an --ip-range needs a --subnet");
    }
    if (!r.ipam.empty() && !r.ipam[0].aux_addresses.empty()) {
      return make_error(Errc::InvalidArgument, "no matching subnet for aux-address {}",
                        r.ipam[0].aux_addresses.begin()->second);
    }
    auto cidr = BERTH_TRY(network::pick_subnet(opts_.pools, taken_subnets(nets_, opts_.kernel)));
    c.subnet = cidr.str();
    c.gateway = network::first_host(cidr);
  }
  n->ipam.push_back(c);
  BERTH_TRY(fill_net(*n, net_config_json(*n)));
  BERTH_TRY(store_->put_network(
      metadata::NetworkRow{n->id, n->name, n->created_ns, dump_json(net_config_json(*n))}));
  if (opts_.kernel) {
    network::BridgeConfig bc{n->bridge, fmt::format("{}/{}", n->gateway4, n->subnet4->prefix), "",
                             opts_.mtu};
    if (auto b = network::ensure_bridge(bc); !b) {
      (void)network::delete_link(n->bridge);
      (void)store_->delete_network(n->id);
      return std::move(b).error().context(fmt::format("network {}", n->name));
    }
  }
  std::string id = n->id;
  std::string name = n->name;
  nets_[id] = std::move(n);
  if (auto a = apply_rules_locked(); !a) log_warn("nftables: {}", a.error().message);
  events_.publish(Event{"network", "create", id, {{"name", name}, {"type", "bridge"}}});
  return id;
}

NetworkInfo NetworkManager::info_locked(const Net& n) const {
  NetworkInfo i;
  i.id = n.id;
  i.name = n.name;
  i.driver = n.driver;
  i.created_ns = n.created_ns;
  i.internal = n.internal;
  i.attachable = n.attachable;
  i.enable_ipv6 = n.enable_ipv6;
  i.builtin = n.builtin;
  i.ipam = n.ipam;
  i.options = n.options;
  i.labels = n.labels;
  i.ipam_options = n.ipam_options;
  i.bridge = n.bridge;
  for (const auto& [cid, l] : live_) {
    auto it = l->endpoints.find(n.id);
    if (it != l->endpoints.end()) i.endpoints[cid] = it->second;
  }
  return i;
}

Result<std::vector<NetworkInfo>> NetworkManager::list(
    const std::map<std::string, std::vector<std::string>>& filters) {
  for (const auto& [k, v] : filters) {
    if (k != "driver" && k != "id" && k != "label" && k != "name" && k != "scope" && k != "type" &&
        k != "dangling") {
      return make_error(Errc::InvalidArgument, "invalid filter '{}'", k);
    }
  }
  auto get = [&](const char* k) {
    auto it = filters.find(k);
    return it == filters.end() ? std::vector<std::string>{} : it->second;
  };
  std::lock_guard lk(mu_);
  std::vector<NetworkInfo> out;
  for (const auto& [id, n] : nets_) {
    NetworkInfo i = info_locked(*n);
    if (!match_any(get("driver"), [&](const std::string& w) { return w == n->driver; })) continue;
    if (!match_any(get("id"), [&](const std::string& w) { return starts_with(id, w); })) continue;
    if (!match_any(get("name"),
                   [&](const std::string& w) { return n->name.find(w) != std::string::npos; }))
      continue;
    if (!match_any(get("scope"), [&](const std::string& w) { return w == "local"; })) continue;
    if (!match_any(get("type"), [&](const std::string& w) {
          return (w == "builtin") == n->builtin && (w == "builtin" || w == "custom");
        }))
      continue;
    if (!labels_match(get("label"), n->labels)) continue;
    if (!match_any(get("dangling"), [&](const std::string& w) {
          bool d = w == "true" || w == "1";
          return d == (!n->builtin && i.endpoints.empty());
        }))
      continue;
    out.push_back(std::move(i));
  }
  return out;
}

Result<NetworkInfo> NetworkManager::inspect(const std::string& name) {
  std::lock_guard lk(mu_);
  const Net* n = BERTH_TRY(find_locked(name));
  return info_locked(*n);
}

Result<void> NetworkManager::remove(const std::string& name) {
  std::lock_guard lk(mu_);
  const Net* n = BERTH_TRY(find_locked(name));
  if (n->builtin) {
    return make_error(Errc::PermissionDenied, "{} is a pre-defined network and cannot be removed",
                      n->name);
  }
  for (const auto& [cid, l] : live_) {
    if (l->endpoints.count(n->id)) {
      return make_error(Errc::Conflict,
                        "error while removing network: network {} id {} has active endpoints",
                        n->name, n->id);
    }
  }
  std::string id = n->id, nname = n->name, bridge = n->bridge;
  BERTH_TRY(store_->delete_network(id));
  nets_.erase(id);
  last_ip_.erase(id);
  if (opts_.kernel) {
    if (pool_) pool_->drop_network(id);
    if (auto a = apply_rules_locked(); !a) log_warn("nftables: {}", a.error().message);
    if (auto d = network::delete_link(bridge); !d) log_warn("{}", d.error().message);
  }
  events_.publish(Event{"network", "destroy", id, {{"name", nname}, {"type", "bridge"}}});
  return {};
}

Result<NetworkPruneReport> NetworkManager::prune(
    const std::map<std::string, std::vector<std::string>>& filters) {
  for (const auto& [k, v] : filters) {
    if (k != "label" && k != "label!" && k != "until")
      return make_error(Errc::InvalidArgument, "invalid filter '{}'", k);
  }
  std::optional<int64_t> until_ns;
  if (auto u = filters.find("until"); u != filters.end()) {
    for (const auto& v : u->second) {
      auto n = parse_int(v);
      if (!n) return make_error(Errc::InvalidArgument, "invalid filter 'until={}'", v);
      until_ns = *n;
    }
  }
  std::vector<std::string> names;
  {
    std::lock_guard lk(mu_);
    auto lf = filters.find("label");
    for (const auto& [id, n] : nets_) {
      if (n->builtin) continue;
      if (lf != filters.end() && !labels_match(lf->second, n->labels)) continue;
      if (auto nl = filters.find("label!"); nl != filters.end()) {
        bool any = false;
        for (const auto& l : nl->second)
          if (labels_match({l}, n->labels)) any = true;
        if (any) continue;
      }
      if (until_ns && n->created_ns > *until_ns) continue;
      bool used = false;
      for (const auto& [cid, l] : live_)
        if (l->endpoints.count(id)) used = true;
      if (!used) names.push_back(n->name);
    }
  }
  NetworkPruneReport rep;
  for (const auto& nm : names) {
    if (remove(nm)) rep.deleted.push_back(nm);
  }
  return rep;
}

Result<void> NetworkManager::apply_rules_locked() {
  if (!opts_.kernel) return {};
  network::NftRuleset rs;
  for (const auto& [id, n] : nets_) {
    if (n->driver != "bridge" || !n->subnet4) continue;
    rs.networks.push_back(network::NftNetwork{n->bridge, n->subnet4->str(), "", n->internal});
  }
  for (const auto& [cid, l] : live_)
    for (const auto& p : l->ports)
      if (!p.proxy) rs.ports.push_back(p.rule);
  return network::apply_ruleset(rs, opts_.nft_table);
}

}  // namespace berth::engine
