// engine/network_dns.cc — the names berth's embedded DNS answers for the
// running containers: their names and aliases on each user network, their
// --link aliases, and a rename's effect on them. DNS names compare
// case-insensitively: both sides are folded with ascii_lower.
#include <algorithm>

#include "base/ascii.h"
#include "base/log.h"
#include "engine/network_internal.h"

namespace berth::engine {

void NetworkManager::rename(const std::string& container_id, const std::string& name) {
  std::lock_guard lk(mu_);
  auto it = live_.find(container_id);
  if (it == live_.end()) return;
  Live& l = *it->second;
  l.request.name = name;
  for (auto& [nid, e] : l.endpoints) {
    e.container_name = name;
    if (auto r = put_row_locked(l, nid); !r)
      log_warn("container {}: endpoint row after rename: {}", container_id.substr(0, 12),
               r.error().message);
  }
  refresh_dns_locked();
}

void NetworkManager::refresh_dns_locked() {
  std::map<std::string, std::vector<std::string>> nets;
  std::map<std::string, std::multimap<std::string, std::string>> names;
  for (const auto& [cid, l] : live_) {
    for (const auto& [nid, e] : l->endpoints) {
      auto n = nets_.find(nid);
      if (n == nets_.end() || n->second->builtin || e.ip4.empty()) continue;
      nets[cid].push_back(nid);
      auto& m = names[nid];
      m.emplace(ascii_lower(e.container_name), e.ip4);
      for (const auto& a : e.aliases) m.emplace(ascii_lower(a), e.ip4);
    }
  }
  // --link aliases: the target's address on each user network both are on
  // (HostConfig.Links), or on the one network of the endpoint that names
  // them (EndpointSettings.Links).
  std::map<std::string, std::multimap<std::string, std::string>> links;
  auto add_link = [&](const std::string& cid, const std::string& target, const std::string& alias,
                      const std::string* only_net) {
    for (const auto& [tid, t] : live_) {
      if (tid == cid || !(t->request.name == target || tid.starts_with(target))) continue;
      for (const auto& [nid, e] : t->endpoints) {
        if (only_net && nid != *only_net) continue;
        auto n = nets_.find(nid);
        if (n == nets_.end() || n->second->builtin || e.ip4.empty()) continue;
        if (!live_.at(cid)->endpoints.count(nid)) continue;
        links[cid].emplace(ascii_lower(alias), e.ip4);
      }
    }
  };
  for (const auto& [cid, l] : live_) {
    for (const auto& [target, alias] : l->request.links) add_link(cid, target, alias, nullptr);
    for (const auto& [nid, e] : l->endpoints)
      for (const auto& [target, alias] : e.links) add_link(cid, target, alias, &nid);
  }
  std::lock_guard lk(dns_mu_);
  dns_nets_ = std::move(nets);
  dns_names_ = std::move(names);
  dns_links_ = std::move(links);
}

std::optional<std::vector<std::string>> NetworkManager::dns_lookup(const std::string& tag,
                                                                   const std::string& name) {
  std::lock_guard lk(dns_mu_);
  auto it = dns_nets_.find(tag);
  if (it == dns_nets_.end()) return std::nullopt;
  std::vector<std::string> ips;
  if (auto l = dns_links_.find(tag); l != dns_links_.end()) {
    auto [a, b] = l->second.equal_range(name);
    for (auto i = a; i != b; ++i)
      if (std::find(ips.begin(), ips.end(), i->second) == ips.end()) ips.push_back(i->second);
  }
  for (const auto& nid : it->second) {
    auto m = dns_names_.find(nid);
    if (m == dns_names_.end()) continue;
    auto [a, b] = m->second.equal_range(name);
    for (auto i = a; i != b; ++i)
      if (std::find(ips.begin(), ips.end(), i->second) == ips.end()) ips.push_back(i->second);
  }
  if (ips.empty()) return std::nullopt;
  return ips;
}

}  // namespace berth::engine
