// engine/local_containers_net.cc — the container service's side of
// networking: which networks a container asks for (HostConfig.NetworkMode,
// NetworkingConfig.EndpointsConfig, published ports), attaching them at
// start, releasing them at exit, connect/disconnect, and NetworkSettings.
#include <filesystem>
#include <fstream>

#include "base/log.h"
#include "base/strings.h"
#include "engine/container_messages.h"
#include "engine/hosts_files.h"
#include "engine/links.h"
#include "engine/local_containers.h"

namespace berth::engine {

namespace {

// "" and "default" mean the default bridge, as in docker.
std::string effective_mode(const HostConfig& hc) {
  if (hc.network_mode.empty() || hc.network_mode == "default") return "bridge";
  return hc.network_mode;
}

bool own_namespace_mode(const std::string& mode) {
  return mode != "host" && mode != "none" && !starts_with(mode, "container:");
}

// Networks the container left with `network disconnect` while NetworkMode
// still names one of them (docker keeps NetworkMode; compose disconnects and
// reconnects the primary network to set its aliases). Internal bookkeeping
// in the stored NetworkingConfig, never sent to clients.
constexpr const char* kDetached = "BerthDetached";

bool is_detached(const Json& networking, const std::string& name) {
  if (!networking.is_object() || !networking.contains(kDetached)) return false;
  for (const auto& n : networking[kDetached])
    if (n.is_string() && n.get<std::string>() == name) return true;
  return false;
}

const Json* endpoints_config(const Json& networking) {
  if (!networking.is_object()) return nullptr;
  auto it = networking.find("EndpointsConfig");
  if (it == networking.end() || !it->is_object()) return nullptr;
  return &*it;
}

}  // namespace

ContainerNetRequest LocalContainerService::net_request_locked(const Ctr& c) const {
  ContainerNetRequest r;
  r.id = c.id;
  r.name = c.name;
  r.hostname = c.cfg.config.hostname;
  const HostConfig& hc = c.cfg.host_config;
  std::string mode = effective_mode(hc);
  if (!own_namespace_mode(mode)) return r;
  r.own_netns = true;
  const Json* eps = endpoints_config(c.cfg.networking_config);
  // The primary network's settings are keyed by the NetworkMode as sent
  // ("default" when the client left it unset, as docker's CLI does).
  auto primary_key = [&](const std::string& k) {
    return k == mode || k == hc.network_mode || (mode == "bridge" && k == "default");
  };
  Json first = Json::object();
  if (eps)
    for (auto it = eps->begin(); it != eps->end(); ++it)
      if (primary_key(it.key())) first = it.value();
  if (!is_detached(c.cfg.networking_config, mode)) r.networks.emplace_back(mode, first);
  if (eps) {
    for (auto it = eps->begin(); it != eps->end(); ++it) {
      if (primary_key(it.key())) continue;
      r.networks.emplace_back(it.key(), it.value());
    }
  }
  r.ports = hc.port_bindings;
  r.dns = hc.dns;
  for (const std::string& l : hc.links)
    if (auto p = parse_link(l)) r.links.push_back(*p);
  if (hc.publish_all_ports) {
    for (const auto& p : c.cfg.config.exposed_ports) {
      std::string key = p.find('/') == std::string::npos ? p + "/tcp" : p;
      auto& list = r.ports[key];
      if (list.empty()) list.push_back(PortBinding{});
    }
  }
  // A published port without a binding list entry publishes on any port.
  for (auto& [k, list] : r.ports)
    if (list.empty()) list.push_back(PortBinding{});
  return r;
}

Result<void> LocalContainerService::validate_network(const Ctr& c) {
  std::string mode = effective_mode(c.cfg.host_config);
  if (starts_with(mode, "container:")) {
    std::string other = mode.substr(10);
    if (other.empty())
      return make_error(Errc::InvalidArgument, "--network: container: needs a name");
    BERTH_TRY(find(other));
    return {};
  }
  if (!opts_.networks) {
    if (mode == "bridge" || mode == "host" || mode == "none") return {};
    return make_error(Errc::NotFound, "network {} not found", mode);
  }
  ContainerNetRequest r;
  {
    std::lock_guard lk(mu_);
    r = net_request_locked(c);
  }
  if (mode == "host" || mode == "none") {
    BERTH_TRY(opts_.networks->resolve(mode));
  }
  return opts_.networks->validate(r, mode);
}

std::string LocalContainerService::spec_netns_path(const Ctr& c) const {
  if (!opts_.networks) return "";
  if (!own_namespace_mode(effective_mode(c.cfg.host_config))) return "";
  std::string p = opts_.networks->netns_path(c.id);
  return p.starts_with("/") ? p : "";
}

Result<LocalContainerService::NetStart> LocalContainerService::start_network(const CtrPtr& c) {
  NetStart none;
  if (!opts_.networks) return none;
  ContainerNetRequest r;
  HostsFilesInput hf;
  {
    std::lock_guard lk(mu_);
    r = net_request_locked(*c);
    const auto& sc = c->cfg;
    hf.dir = ctr_dir(c->id);
    hf.hostname = sc.config.hostname;
    hf.domainname = sc.config.domainname;
    hf.extra_hosts = sc.host_config.extra_hosts;
    hf.dns = {sc.host_config.dns, sc.host_config.dns_search, sc.host_config.dns_options};
    // write_bundle checked them a moment ago under the same Ctr::op.
    if (auto links = resolve_links_locked(*c)) {
      for (const auto& l : *links) hf.links.emplace_back(l.ip, l.names);
    }
  }
  const std::string mode = effective_mode(c->cfg.host_config);
  auto join_builtin = [&] {
    {
      std::lock_guard lk(mu_);
      c->builtin_net_joined = true;
    }
    publish_builtin(c->id, mode, "connect");
  };
  if (mode == "none") {
    join_builtin();
    return none;
  }
  if (!r.own_netns && mode != "host") return none;
  NetAttachment att;
  if (r.own_netns) att = BERTH_TRY(opts_.networks->attach(r, true));
  hf.host_resolv = read_host_resolv_conf();
  hf.host_gateway_ip =
      att.host_gateway_ip.empty() ? opts_.networks->host_gateway_ip() : att.host_gateway_ip;
  if (!att.endpoints.empty()) hf.container_ip = att.endpoints.front().ip4;
  hf.dns.embedded = att.embedded_dns;
  if (auto w = write_hosts_files(hf); !w) {
    opts_.networks->release(c->id);
    return w.error();
  }
  publish_endpoints(c->id, att.endpoints, "connect");
  if (mode == "host") join_builtin();
  return NetStart{std::move(att.links), std::move(att.proxies)};
}

void LocalContainerService::release_network(const std::string& id) {
  if (!opts_.networks) return;
  auto endpoints = opts_.networks->endpoints_of(id);
  opts_.networks->release(id);
  publish_endpoints(id, endpoints, "disconnect");
  std::string builtin;
  {
    std::lock_guard lk(mu_);
    if (auto it = containers_.find(id); it != containers_.end() && it->second->builtin_net_joined) {
      it->second->builtin_net_joined = false;
      builtin = effective_mode(it->second->cfg.host_config);
    }
  }
  if (!builtin.empty()) publish_builtin(id, builtin, "disconnect");
}

bool LocalContainerService::on_builtin_network(const HostConfig& hc) {
  std::string mode = effective_mode(hc);
  return mode == "host" || mode == "none";
}

// docker's connect/disconnect events for the built-in host and none
// networks, which hold no endpoint (type "host" / "null", their drivers).
void LocalContainerService::publish_builtin(const std::string& id, const std::string& mode,
                                            const char* action) {
  auto net = opts_.networks->resolve(mode);
  if (!net) return;
  events_.publish(
      Event{"network",
            action,
            *net,
            {{"container", id}, {"name", mode}, {"type", mode == "none" ? "null" : "host"}}});
}

// docker's "network connect/disconnect" events of a container's start and
// end, one per network (Actor: the network; container, name, type).
void LocalContainerService::publish_endpoints(const std::string& id,
                                              const std::vector<EndpointInfo>& endpoints,
                                              const char* action) {
  for (const auto& e : endpoints) {
    std::string name = opts_.networks->name_of(e.network_id).value_or(e.network_id);
    events_.publish(Event{
        "network", action, e.network_id, {{"container", id}, {"name", name}, {"type", "bridge"}}});
  }
}

std::vector<NetworkEndpoint> LocalContainerService::endpoint_views_locked(const Ctr& c) const {
  std::vector<NetworkEndpoint> out;
  ContainerNetRequest r = net_request_locked(c);
  std::vector<EndpointInfo> live;
  bool running = c.state.status == "running" || c.state.status == "paused";
  if (opts_.networks && running) live = opts_.networks->endpoints_of(c.id);
  std::string mode = effective_mode(c.cfg.host_config);
  if (r.networks.empty() && (mode == "host" || mode == "none"))
    r.networks.emplace_back(mode, Json::object());
  for (const auto& [name, settings] : r.networks) {
    NetworkEndpoint v;
    v.network_name = name;
    if (opts_.networks) {
      if (auto id = opts_.networks->resolve(name)) v.network_id = *id;
      if (auto nm = opts_.networks->name_of(name)) v.network_name = *nm;
    }
    if (settings.is_object()) {
      if (settings.contains("Aliases") && settings["Aliases"].is_array())
        for (const auto& a : settings["Aliases"])
          if (a.is_string()) v.aliases.push_back(a.get<std::string>());
      if (settings.contains("Links") && settings["Links"].is_array())
        for (const auto& l : settings["Links"])
          if (l.is_string()) v.links.push_back(l.get<std::string>());
      if (settings.contains("IPAMConfig") && settings["IPAMConfig"].is_object())
        v.ipam_ipv4 = settings["IPAMConfig"].value("IPv4Address", "");
    }
    for (const auto& e : live) {
      if (e.network_id != v.network_id) continue;
      v.endpoint_id = e.endpoint_id;
      v.mac = e.mac;
      v.ip4 = e.ip4;
      v.prefix4 = e.prefix4;
      v.gateway4 = e.gateway4;
      v.ip6 = e.ip6;
      v.prefix6 = e.prefix6;
      v.gateway6 = e.gateway6;
      v.dns_names = {c.name};
      for (const auto& a : e.aliases) v.dns_names.push_back(a);
    }
    out.push_back(std::move(v));
  }
  return out;
}

Result<void> LocalContainerService::save_config(Ctr& c, StoredConfig cfg) {
  metadata::ContainerRow row;
  {
    std::lock_guard lk(mu_);
    c.cfg = std::move(cfg);
    row = metadata::ContainerRow{
        c.id, c.name, c.image_id, c.created_ns, encode_stored_config(c.cfg), encode_state(c.state)};
  }
  return store_->put_container(row);
}

Result<void> LocalContainerService::network_connect(const std::string& network,
                                                    const std::string& container,
                                                    const Json& settings) {
  if (!opts_.networks) return make_error(Errc::NotImplemented, "networking is disabled");
  auto c = BERTH_TRY(find(container));
  std::lock_guard op(c->op);
  std::string net_name = BERTH_TRY(opts_.networks->name_of(network));
  ContainerNetRequest r;
  bool running = false;
  StoredConfig updated;
  {
    std::lock_guard lk(mu_);
    std::string mode = effective_mode(c->cfg.host_config);
    if (!own_namespace_mode(mode)) {
      return make_error(Errc::PermissionDenied,
                        "container sharing network namespace with another container or host "
                        "cannot be connected to any other network");
    }
    r = net_request_locked(*c);
    for (const auto& [name, s] : r.networks) {
      auto id = opts_.networks->resolve(name);
      auto want = opts_.networks->resolve(net_name);
      if (id && want && *id == *want) {
        return make_error(Errc::PermissionDenied,
                          "endpoint with name {} already exists in network {}", c->name, net_name);
      }
    }
    running = c->state.status == "running" || c->state.status == "paused";
    updated = c->cfg;
  }
  ContainerNetRequest one = r;
  one.networks = {{net_name, settings.is_object() ? settings : Json::object()}};
  BERTH_TRY(opts_.networks->validate(one, net_name));
  if (running) BERTH_TRY(opts_.networks->connect(r, net_name, one.networks[0].second));
  if (!updated.networking_config.is_object()) updated.networking_config = Json::object();
  if (!updated.networking_config.contains("EndpointsConfig") ||
      !updated.networking_config["EndpointsConfig"].is_object())
    updated.networking_config["EndpointsConfig"] = Json::object();
  updated.networking_config["EndpointsConfig"][net_name] = one.networks[0].second;
  if (updated.networking_config.contains(kDetached)) {
    auto& d = updated.networking_config[kDetached];
    for (auto it = d.begin(); it != d.end();) {
      auto id = it->is_string() ? opts_.networks->resolve(it->get<std::string>())
                                : Result<std::string>(make_error(Errc::NotFound, "?"));
      auto want = opts_.networks->resolve(net_name);
      if (id && want && *id == *want) {
        it = d.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (running && opts_.networks->is_user_network(net_name)) {
    // Now on a user network: names resolve through 127.0.0.11 (docker
    // rewrites the file on connect too). Written in place: the container's
    // /etc/resolv.conf is a bind mount of this very inode.
    DnsOverrides o{updated.host_config.dns, updated.host_config.dns_search,
                   updated.host_config.dns_options, true};
    std::string text = BERTH_TRY(resolv_conf_content(read_host_resolv_conf(), o));
    std::ofstream f(ctr_dir(c->id) + "/resolv.conf", std::ios::trunc);
    f << text;
    if (!f.flush()) log_warn("container {}: rewriting resolv.conf failed", c->id.substr(0, 12));
  }
  BERTH_TRY(save_config(*c, std::move(updated)));
  // A stopped container's connect only changes its config: its event comes
  // with the start (start_network), as docker's.
  if (!running) return {};
  events_.publish(Event{"network",
                        "connect",
                        BERTH_TRY(opts_.networks->resolve(net_name)),
                        {{"container", c->id}, {"name", net_name}, {"type", "bridge"}}});
  return {};
}

Result<void> LocalContainerService::network_disconnect(const std::string& network,
                                                       const std::string& container, bool force) {
  (void)force;
  if (!opts_.networks) return make_error(Errc::NotImplemented, "networking is disabled");
  auto c = BERTH_TRY(find(container));
  std::lock_guard op(c->op);
  std::string net_id = BERTH_TRY(opts_.networks->resolve(network));
  std::string net_name = BERTH_TRY(opts_.networks->name_of(net_id));
  StoredConfig updated;
  bool found = false, running = false;
  {
    std::lock_guard lk(mu_);
    std::string mode = effective_mode(c->cfg.host_config);
    if (mode == "host" || net_name == "host") {
      return make_error(Errc::PermissionDenied,
                        "container cannot be disconnected from host network or connected to host "
                        "network");
    }
    updated = c->cfg;
    running = c->state.status == "running" || c->state.status == "paused";
    ContainerNetRequest r = net_request_locked(*c);
    for (const auto& [name, s] : r.networks) {
      auto id = opts_.networks->resolve(name);
      if (id && *id == net_id) found = true;
    }
    if (!found) {
      return make_error(Errc::PermissionDenied, "container {} is not connected to network {}",
                        c->id, net_name);
    }
    std::string primary;
    if (updated.networking_config.is_object() &&
        updated.networking_config.contains("EndpointsConfig")) {
      auto& eps = updated.networking_config["EndpointsConfig"];
      for (auto it = eps.begin(); it != eps.end();) {
        auto id = opts_.networks->resolve(it.key());
        if (id && *id == net_id) {
          it = eps.erase(it);
        } else {
          if (primary.empty()) primary = it.key();
          ++it;
        }
      }
    }
    // Leaving the network NetworkMode names: NetworkMode stays (as docker's),
    // the network is marked left until a connect brings it back.
    (void)primary;
    std::string mode_name = effective_mode(updated.host_config);
    auto nm = opts_.networks->resolve(mode_name);
    if (nm && *nm == net_id) {
      if (!updated.networking_config.is_object()) updated.networking_config = Json::object();
      if (!updated.networking_config.contains(kDetached))
        updated.networking_config[kDetached] = Json::array();
      updated.networking_config[kDetached].push_back(mode_name);
    }
  }
  if (running) BERTH_TRY(opts_.networks->disconnect(c->id, net_id));
  BERTH_TRY(save_config(*c, std::move(updated)));
  if (!running) return {};
  events_.publish(Event{"network",
                        "disconnect",
                        net_id,
                        {{"container", c->id}, {"name", net_name}, {"type", "bridge"}}});
  return {};
}

}  // namespace berth::engine
