// container_filters: docker ps --filter.
#include "engine/container_filters.h"

#include <algorithm>

#include "base/strings.h"

namespace berth::engine {
namespace {

const char* const kKeys[] = {"id",      "name",   "label",   "status", "ancestor",
                             "exited",  "health", "before",  "since",  "network",
                             "is-task", "volume", "publish", "expose", "isolation"};
const char* const kStatuses[] = {"created", "restarting", "running", "removing",
                                 "paused",  "exited",     "dead"};
const char* const kHealth[] = {"starting", "healthy", "unhealthy", "none"};

template <size_t N>
bool in(const char* const (&list)[N], const std::string& v) {
  return std::find(std::begin(list), std::end(list), v) != std::end(list);
}

bool regex_match_any(const std::vector<std::regex>& res, const std::string& s) {
  for (const auto& re : res)
    if (std::regex_search(s, re)) return true;
  return false;
}

bool label_matches(const std::map<std::string, std::string>& labels, const std::string& f) {
  auto eq = f.find('=');
  if (eq == std::string::npos) return labels.count(f) > 0;
  auto it = labels.find(f.substr(0, eq));
  return it != labels.end() && it->second == f.substr(eq + 1);
}

int64_t default_order(const ContainerSummary& c) { return c.created * 1'000'000'000LL; }

// "80", "80/udp", "8000-8010/tcp" -> {"80/tcp"} ... (docker's portOp).
Result<std::vector<std::string>> expand_ports(const std::string& key, const std::string& v) {
  if (v.find(':') != std::string::npos) {
    return make_error(Errc::InvalidArgument, "filter for '{}' should not contain ':': {}", key, v);
  }
  auto slash = v.find('/');
  std::string range = v.substr(0, slash);
  std::string proto = slash == std::string::npos ? "tcp" : v.substr(slash + 1);
  if (proto.empty()) proto = "tcp";
  auto dash = range.find('-');
  auto lo = parse_int(range.substr(0, dash));
  auto hi = dash == std::string::npos ? lo : parse_int(range.substr(dash + 1));
  if (!lo || !hi || *lo < 0 || *hi > 65535 || *lo > *hi) {
    return make_error(Errc::InvalidArgument, "error while looking up for {} {}: invalid port", key,
                      range);
  }
  std::vector<std::string> out;
  for (int64_t p = *lo; p <= *hi; ++p) out.push_back(std::to_string(p) + "/" + proto);
  return out;
}

bool any_of_ports(const std::vector<std::string>& want, const std::vector<std::string>& have) {
  for (const std::string& h : have)
    if (std::find(want.begin(), want.end(), h) != want.end()) return true;
  return false;
}

}  // namespace

Result<void> validate_container_filters(const FilterArgs& args) {
  for (const auto& [key, values] : args) {
    if (!in(kKeys, key)) return make_error(Errc::InvalidArgument, "invalid filter '{}'", key);
    for (const std::string& v : values) {
      if (key == "status" && !in(kStatuses, v)) {
        return make_error(Errc::InvalidArgument, "Invalid filter 'status={}'", v);
      }
      if (key == "health" && !in(kHealth, v)) {
        return make_error(Errc::InvalidArgument, "Unrecognised filter value for health: {}", v);
      }
      if (key == "exited" && !parse_int(v)) {
        return make_error(Errc::InvalidArgument, "invalid filter 'exited={}'", v);
      }
      if (key == "is-task" && v != "true" && v != "false") {
        return make_error(Errc::InvalidArgument, "Invalid filter 'is-task={}'", v);
      }
      if (key == "publish" || key == "expose") BERTH_TRY(expand_ports(key, v));
    }
  }
  return ok();
}

Result<ContainerFilter> ContainerFilter::parse(const FilterArgs& args, const FilterResolvers& r) {
  BERTH_TRY(validate_container_filters(args));
  ContainerFilter f;
  f.order_key_ = r.order_key ? r.order_key : default_order;
  for (const auto& [key, values] : args) {
    if (values.empty()) continue;  // docker treats an empty list as no filter
    f.args_[key] = values;
  }
  auto compile = [](const std::vector<std::string>& vals) {
    std::vector<std::regex> out;
    for (const std::string& v : vals) {
      try {
        out.emplace_back(v, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        // docker ignores a value that is not a valid regexp (it then only
        // matches exactly); keep it as a literal.
        std::string lit;
        for (char c : v) {
          if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) lit += '\\';
          lit += c;
        }
        out.emplace_back(lit, std::regex::ECMAScript);
      }
    }
    return out;
  };
  if (auto it = f.args_.find("name"); it != f.args_.end()) f.name_res_ = compile(it->second);
  if (auto it = f.args_.find("id"); it != f.args_.end()) f.id_res_ = compile(it->second);
  if (auto it = f.args_.find("ancestor"); it != f.args_.end()) {
    for (const std::string& a : it->second) {
      std::optional<std::string> id;
      if (r.image_id) id = r.image_id(a);
      f.ancestor_ids_.push_back(id.value_or(""));
    }
  }
  auto resolve_edge = [&](const char* key, std::optional<int64_t>* out) -> Result<void> {
    auto it = f.args_.find(key);
    if (it == f.args_.end()) return ok();
    if (!r.container) {
      return make_error(Errc::Internal, "filter '{}' needs a container resolver", key);
    }
    // docker takes the last value when several are given.
    ContainerSummary c = BERTH_TRY(r.container(it->second.back()));
    *out = f.order_key_(c);
    return ok();
  };
  for (auto [key, out] : {std::pair{"publish", &f.publish_}, std::pair{"expose", &f.expose_}}) {
    auto it = f.args_.find(key);
    if (it == f.args_.end()) continue;
    for (const std::string& v : it->second) {
      auto keys = BERTH_TRY(expand_ports(key, v));
      out->insert(out->end(), keys.begin(), keys.end());
    }
  }
  BERTH_TRY(resolve_edge("before", &f.before_key_));
  BERTH_TRY(resolve_edge("since", &f.since_key_));
  return f;
}

bool ContainerFilter::implies_all() const { return args_.count("status") > 0; }

bool ContainerFilter::matches(const ContainerSummary& c) const {
  if (args_.empty()) return true;
  if (auto it = args_.find("id"); it != args_.end()) {
    if (!regex_match_any(id_res_, c.id)) return false;
  }
  if (auto it = args_.find("name"); it != args_.end()) {
    bool any = false;
    for (const std::string& n : c.names) {
      std::string bare = starts_with(n, "/") ? n.substr(1) : n;
      if (regex_match_any(name_res_, bare) || regex_match_any(name_res_, n)) any = true;
    }
    if (!any) return false;
  }
  if (auto it = args_.find("label"); it != args_.end()) {
    for (const std::string& l : it->second)
      if (!label_matches(c.labels, l)) return false;
  }
  if (auto it = args_.find("status"); it != args_.end()) {
    if (std::find(it->second.begin(), it->second.end(), c.state.status) == it->second.end()) {
      return false;
    }
  }
  if (auto it = args_.find("exited"); it != args_.end()) {
    // Only containers that ran and stopped have an exit code to match.
    if (c.state.status != "exited" || c.state.started_ns == 0) return false;
    bool any = false;
    for (const std::string& v : it->second)
      if (parse_int(v) && *parse_int(v) == c.state.exit_code) any = true;
    if (!any) return false;
  }
  if (auto it = args_.find("health"); it != args_.end()) {
    std::string h = c.state.health_status.empty() ? "none" : c.state.health_status;
    if (std::find(it->second.begin(), it->second.end(), h) == it->second.end()) return false;
  }
  if (auto it = args_.find("ancestor"); it != args_.end()) {
    bool any = false;
    for (size_t i = 0; i < it->second.size(); ++i) {
      const std::string& want = it->second[i];
      const std::string& id = ancestor_ids_[i];
      if (!id.empty() && id == c.image_id) any = true;
      if (want == c.image) any = true;
      // An id or id prefix ("sha256:abc", "abc").
      std::string bare = starts_with(c.image_id, "sha256:") ? c.image_id.substr(7) : c.image_id;
      std::string w = starts_with(want, "sha256:") ? want.substr(7) : want;
      if (w.size() >= 4 && starts_with(bare, w)) any = true;
    }
    if (!any) return false;
  }
  if (before_key_ && !(order_key_(c) < *before_key_)) return false;
  if (since_key_ && !(order_key_(c) > *since_key_)) return false;
  if (auto it = args_.find("network"); it != args_.end()) {
    std::string mode = c.network_mode.empty() ? "default" : c.network_mode;
    bool any = false;
    for (const std::string& v : it->second) {
      if (v == mode || (v == "bridge" && mode == "default")) any = true;
      for (const NetworkEndpoint& e : c.networks) {
        if (v == e.network_name || (!e.network_id.empty() && starts_with(e.network_id, v))) {
          any = true;
        }
      }
    }
    if (!any) return false;
  }
  if (auto it = args_.find("is-task"); it != args_.end()) {
    // berth has no swarm tasks.
    if (std::find(it->second.begin(), it->second.end(), "false") == it->second.end()) return false;
  }
  if (auto it = args_.find("volume"); it != args_.end()) {
    // docker: a volume name or a mount's source or destination.
    bool any = false;
    for (const std::string& v : it->second) {
      for (const auto& m : c.mounts) {
        if (m.name == v || m.source == v || m.destination == v) any = true;
      }
    }
    if (!any) return false;
  }
  if (auto it = args_.find("isolation"); it != args_.end()) {
    // docker's exact match on HostConfig.Isolation: "" unless the create set it.
    if (std::find(it->second.begin(), it->second.end(), c.isolation) == it->second.end())
      return false;
  }
  if (args_.count("publish") && !any_of_ports(publish_, c.published_ports)) return false;
  if (args_.count("expose") && !any_of_ports(expose_, c.exposed_ports)) return false;
  return true;
}

}  // namespace berth::engine
