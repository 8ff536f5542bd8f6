// engine/local_containers_links.cc — docker's legacy links (--link
// NAME[:ALIAS]).
//
// On the default bridge a link is what docker made of it: an /etc/hosts line
// "IP<TAB>ALIAS HOSTNAME [NAME]" and the ALIAS_PORT_*, ALIAS_NAME and
// ALIAS_ENV_* variables, taken from the linked container's run at each start
// (so the bundle of a container with links is written at every start, and
// the linked container must be running then, on the default bridge). On a
// user network the alias resolves through the embedded DNS, for the linking
// container only (NetworkManager, ContainerNetRequest::links).
#include <algorithm>
#include <cctype>

#include "base/strings.h"
#include "engine/links.h"
#include "engine/local_containers.h"

namespace berth::engine {
namespace {

struct PortKey {
  int number = 0;
  std::string proto;
};

std::vector<PortKey> sorted_ports(const std::vector<std::string>& exposed) {
  std::vector<PortKey> out;
  for (const std::string& p : exposed) {
    auto slash = p.find('/');
    auto n = parse_int(p.substr(0, slash));
    if (!n) continue;
    out.push_back({static_cast<int>(*n), slash == std::string::npos ? "tcp" : p.substr(slash + 1)});
  }
  // docker's order: by number, tcp first among equal numbers.
  std::stable_sort(out.begin(), out.end(), [](const PortKey& a, const PortKey& b) {
    if (a.number != b.number) return a.number < b.number;
    return a.proto == "tcp" && b.proto != "tcp";
  });
  return out;
}

std::string upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

Result<std::pair<std::string, std::string>> parse_link(const std::string& v) {
  if (v.empty()) return make_error(Errc::InvalidArgument, "empty string specified for links");
  auto parts = split(v, ':');
  if (parts.size() > 2 || parts[0].empty() || (parts.size() == 2 && parts[1].empty())) {
    return make_error(Errc::InvalidArgument, "bad format for links: {}", v);
  }
  if (parts.size() == 1) return std::pair{v, v};
  // An inspected HostConfig sent back: "/name:/self/alias".
  if (parts[0].starts_with("/")) {
    std::string alias = parts[1].substr(parts[1].rfind('/') + 1);
    if (alias.empty()) return make_error(Errc::InvalidArgument, "bad format for links: {}", v);
    return std::pair{parts[0].substr(1), alias};
  }
  return std::pair{parts[0], parts[1]};
}

std::vector<std::string> link_env(const std::string& alias_in, const std::string& link_name,
                                  const std::string& ip, const std::vector<std::string>& exposed,
                                  const std::vector<std::string>& child_env) {
  std::string alias = upper(alias_in);
  std::replace(alias.begin(), alias.end(), '-', '_');
  std::vector<PortKey> ports = sorted_ports(exposed);
  std::vector<std::string> env;
  auto url = [&](const PortKey& p) { return fmt::format("{}://{}:{}", p.proto, ip, p.number); };
  if (!ports.empty()) env.push_back(fmt::format("{}_PORT={}", alias, url(ports[0])));
  auto key = [&](const PortKey& p) {
    return fmt::format("{}_PORT_{}_{}", alias, p.number, upper(p.proto));
  };
  // Runs of three or more ports first, as START/END ranges. docker counts a
  // run its own way: each later port extends it while its number is at most
  // one more than the count so far, so a tcp/udp pair of one number counts
  // as two (53/tcp, 53/udp, 54/tcp is one run).
  for (size_t i = 0; i < ports.size();) {
    const PortKey& p = ports[i];
    size_t j = i;
    int value = p.number;
    for (size_t k = i + 1; k < ports.size() && ports[k].number <= value + 1; ++k, ++value) j = k;
    if (j <= i + 1) {
      ++i;
      continue;
    }
    const PortKey& q = ports[j];
    env.push_back(fmt::format("{}_START={}", key(p), url(p)));
    env.push_back(fmt::format("{}_ADDR={}", key(p), ip));
    env.push_back(fmt::format("{}_PROTO={}", key(p), p.proto));
    env.push_back(fmt::format("{}_PORT_START={}", key(p), p.number));
    env.push_back(fmt::format("{}_PORT_{}_{}_END={}", alias, p.number, upper(q.proto), url(q)));
    env.push_back(
        fmt::format("{}_PORT_{}_{}_PORT_END={}", alias, p.number, upper(q.proto), q.number));
    i = j + 1;
  }
  // Then every port on its own, those in ranges too.
  for (const PortKey& p : ports) {
    env.push_back(fmt::format("{}={}", key(p), url(p)));
    env.push_back(fmt::format("{}_ADDR={}", key(p), ip));
    env.push_back(fmt::format("{}_PORT={}", key(p), p.number));
    env.push_back(fmt::format("{}_PROTO={}", key(p), p.proto));
  }
  env.push_back(fmt::format("{}_NAME={}", alias, link_name));
  for (const std::string& e : child_env) {
    auto eq = e.find('=');
    if (eq == std::string::npos) continue;
    std::string k = e.substr(0, eq);
    if (k == "HOME" || k == "PATH") continue;
    env.push_back(fmt::format("{}_ENV_{}={}", alias, k, e.substr(eq + 1)));
  }
  return env;
}

Result<void> LocalContainerService::validate_links(const Ctr& c) {
  for (const std::string& l : c.cfg.host_config.links) {
    auto [target, alias] = BERTH_TRY(parse_link(l));
    auto t = find(target);
    if (!t) {
      if (t.error().code != Errc::NotFound) return t.error();
      return make_error(Errc::InvalidArgument, "could not get container for {}", target);
    }
    if ((*t)->cfg.host_config.network_mode.starts_with("container:")) {
      return make_error(Errc::InvalidArgument,
                        "conflicting options: container type network can't be used with links. "
                        "This would result in undefined behavior");
    }
  }
  return {};
}

std::vector<std::string> LocalContainerService::link_display_locked(const Ctr& c) const {
  std::vector<std::string> out;
  for (const std::string& l : c.cfg.host_config.links) {
    auto p = parse_link(l);
    if (!p) continue;
    std::string target = p->first;
    if (auto t = find_locked(target)) target = (*t)->name;
    out.push_back(fmt::format("/{}:/{}/{}", target, c.name, p->second));
  }
  return out;
}

Result<std::vector<LocalContainerService::LinkInfo>> LocalContainerService::resolve_links_locked(
    const Ctr& c) const {
  std::vector<LinkInfo> out;
  const HostConfig& hc = c.cfg.host_config;
  bool default_bridge =
      hc.network_mode.empty() || hc.network_mode == "default" || hc.network_mode == "bridge";
  if (hc.links.empty() || !default_bridge || !opts_.networks) return out;
  std::string bridge_id = opts_.networks->resolve("bridge").value_or("");
  for (const std::string& l : hc.links) {
    auto [target, alias] = BERTH_TRY(parse_link(l));
    auto t = find_locked(target);
    std::string link_name = fmt::format("/{}/{}", c.name, alias);
    if (!t) {
      return make_error(Errc::InvalidArgument, "could not get container for {}", target);
    }
    const Ctr& other = **t;
    bool running = other.state.status == "running" || other.state.status == "paused";
    if (!running) {
      return make_error(Errc::Conflict, "Cannot link to a non running container: /{} AS {}",
                        other.name, link_name);
    }
    std::string ip;
    for (const auto& e : opts_.networks->endpoints_of(other.id))
      if (e.network_id == bridge_id && !e.ip4.empty()) ip = e.ip4;
    if (ip.empty()) {
      return make_error(Errc::InvalidArgument,
                        "Cannot link to /{}, as it does not belong to the default network",
                        other.name);
    }
    LinkInfo li;
    li.ip = ip;
    // docker's line: the alias, the container's hostname, and its name when
    // that is not the alias.
    li.names = alias + " " + other.cfg.config.hostname;
    if (alias != other.name) li.names += " " + other.name;
    li.env = link_env(alias, link_name, ip, other.cfg.config.exposed_ports, other.cfg.config.env);
    out.push_back(std::move(li));
  }
  return out;
}

}  // namespace berth::engine
