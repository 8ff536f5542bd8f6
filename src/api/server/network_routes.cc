// api/server/network_routes.cc — /networks/*: docker's network objects on
// the wire (list, inspect, create, remove, connect, disconnect, prune).
#include "api/server/context.h"
#include "api/types/time.h"
#include "base/strings.h"
#include "engine/containers.h"
#include "engine/networks.h"

namespace berth::api::server {

namespace {

engine::NetworkService* networks_or_501(Ctx& c) {
  return service_or_501(c, c.engine.networks(), "networks");
}

OrderedJson string_map_json(const std::map<std::string, std::string>& m) {
  OrderedJson o = OrderedJson::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

OrderedJson encode_network(const engine::NetworkInfo& n, bool with_containers) {
  OrderedJson cfg = OrderedJson::array();
  for (const auto& i : n.ipam) {
    OrderedJson e = {{"Subnet", i.subnet}};  // docker's IPAMConfig order
    if (!i.ip_range.empty()) e["IPRange"] = i.ip_range;
    e["Gateway"] = i.gateway;
    if (!i.aux_addresses.empty()) e["AuxiliaryAddresses"] = string_map_json(i.aux_addresses);
    cfg.push_back(std::move(e));
  }
  OrderedJson j = {{"Name", n.name},
                   {"Id", n.id},
                   {"Created", format_rfc3339_nano(n.created_ns)},
                   {"Scope", "local"},
                   {"Driver", n.driver},
                   {"EnableIPv6", n.enable_ipv6},
                   {"IPAM",
                    {{"Driver", "default"},
                     {"Options", n.ipam_options.empty() ? OrderedJson(nullptr)
                                                        : string_map_json(n.ipam_options)},
                     {"Config", cfg}}},
                   {"Internal", n.internal},
                   {"Attachable", n.attachable},
                   {"Ingress", false},
                   {"ConfigFrom", {{"Network", ""}}},
                   {"ConfigOnly", false},
                   {"Containers", OrderedJson::object()},
                   {"Options", string_map_json(n.options)},
                   {"Labels", string_map_json(n.labels)}};
  OrderedJson& ctrs = j["Containers"];
  if (with_containers) {
    for (const auto& [id, e] : n.endpoints) {
      ctrs[id] = {{"Name", e.container_name},
                  {"EndpointID", e.endpoint_id},
                  {"MacAddress", e.mac},
                  {"IPv4Address", e.ip4.empty() ? "" : e.ip4 + "/" + std::to_string(e.prefix4)},
                  {"IPv6Address", e.ip6.empty() ? "" : e.ip6 + "/" + std::to_string(e.prefix6)}};
    }
  }
  return j;
}

// docker's body checks: every field typed as in its Go struct.
Result<engine::NetworkCreateRequest> decode_create(const std::string& body) {
  Json j = BERTH_TRY(parse_json(body, "network create body"));
  if (!j.is_object()) return make_error(Errc::InvalidArgument, "invalid JSON: not an object");
  engine::NetworkCreateRequest r;
  auto str = [&](const Json& o, const char* k, std::string& out) -> Result<void> {
    if (!o.contains(k) || o[k].is_null()) return {};
    if (!o[k].is_string())
      return make_error(Errc::InvalidArgument, "invalid JSON: {} must be a string", k);
    out = o[k].get<std::string>();
    return {};
  };
  auto boolean = [&](const Json& o, const char* k, bool& out) -> Result<void> {
    if (!o.contains(k) || o[k].is_null()) return {};
    if (!o[k].is_boolean())
      return make_error(Errc::InvalidArgument, "invalid JSON: {} must be a boolean", k);
    out = o[k].get<bool>();
    return {};
  };
  auto smap = [&](const Json& o, const char* k,
                  std::map<std::string, std::string>& out) -> Result<void> {
    if (!o.contains(k) || o[k].is_null()) return {};
    if (!o[k].is_object())
      return make_error(Errc::InvalidArgument, "invalid JSON: {} must be an object", k);
    for (auto it = o[k].begin(); it != o[k].end(); ++it) {
      if (!it->is_string())
        return make_error(Errc::InvalidArgument, "invalid JSON: {}.{} must be a string", k,
                          it.key());
      out[it.key()] = it->get<std::string>();
    }
    return {};
  };
  BERTH_TRY(str(j, "Name", r.name));
  BERTH_TRY(str(j, "Driver", r.driver));
  if (r.driver.empty()) r.driver = "bridge";
  BERTH_TRY(boolean(j, "Internal", r.internal));
  BERTH_TRY(boolean(j, "Attachable", r.attachable));
  BERTH_TRY(boolean(j, "EnableIPv6", r.enable_ipv6));
  BERTH_TRY(smap(j, "Options", r.options));
  BERTH_TRY(smap(j, "Labels", r.labels));
  // Swarm and configuration-only networks are not berth's: refused by name,
  // never created as a plain bridge network in their stead.
  std::string scope, config_from;
  bool ingress = false, config_only = false, ipv4 = true;
  BERTH_TRY(str(j, "Scope", scope));
  BERTH_TRY(boolean(j, "Ingress", ingress));
  BERTH_TRY(boolean(j, "ConfigOnly", config_only));
  BERTH_TRY(boolean(j, "EnableIPv4", ipv4));
  if (j.contains("ConfigFrom") && j["ConfigFrom"].is_object())
    BERTH_TRY(str(j["ConfigFrom"], "Network", config_from));
  if (ingress)
    return make_error(Errc::PermissionDenied, "Ingress network can only be global scope network");
  if (scope == "swarm" || scope == "global")
    return make_error(Errc::PermissionDenied,
                      "cannot create a swarm scoped network when swarm is not active");
  if (!scope.empty() && scope != "local")
    return make_error(Errc::InvalidArgument, "invalid network scope \"{}\"", scope);
  if (config_only || !config_from.empty())
    return make_error(Errc::NotImplemented,
                      "configuration-only networks (--config-only, --config-from) are not "
                      "supported by berth");
  if (!ipv4)
    return make_error(Errc::InvalidArgument,
                      "IPv4 cannot be disabled on network {}: berth's networks are IPv4 only",
                      r.name);
  if (j.contains("IPAM") && !j["IPAM"].is_null()) {
    const Json& ipam = j["IPAM"];
    if (!ipam.is_object())
      return make_error(Errc::InvalidArgument, "invalid JSON: IPAM must be an object");
    std::string driver;
    BERTH_TRY(str(ipam, "Driver", driver));
    if (!driver.empty() && driver != "default")
      return make_error(Errc::NotFound, "plugin \"{}\" not found", driver);
    BERTH_TRY(smap(ipam, "Options", r.ipam_options));
    if (ipam.contains("Config") && !ipam["Config"].is_null()) {
      if (!ipam["Config"].is_array())
        return make_error(Errc::InvalidArgument, "invalid JSON: IPAM.Config must be an array");
      for (const auto& c : ipam["Config"]) {
        if (!c.is_object())
          return make_error(Errc::InvalidArgument,
                            "invalid JSON: IPAM.Config entries must be objects");
        engine::IpamConfig ic;
        BERTH_TRY(str(c, "Subnet", ic.subnet));
        BERTH_TRY(str(c, "Gateway", ic.gateway));
        BERTH_TRY(str(c, "IPRange", ic.ip_range));
        BERTH_TRY(smap(c, "AuxiliaryAddresses", ic.aux_addresses));
        r.ipam.push_back(ic);
      }
    }
  }
  return r;
}

Result<std::map<std::string, std::vector<std::string>>> filters_map(
    Ctx& c, const std::set<std::string>& keys) {
  auto f = BERTH_TRY(filters_param(c));
  BERTH_TRY(f.validate(keys));
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& k : keys)
    if (f.has(k)) out[k] = f.get(k);
  return out;
}

}  // namespace

void networks_list(Ctx& c) {
  auto* svc = networks_or_501(c);
  if (!svc) return;
  auto f = filters_map(c, {"driver", "id", "label", "name", "scope", "type", "dangling"});
  if (!f) return send_error(c, f.error());
  auto r = svc->list(*f);
  if (!r) return send_error(c, r.error());
  OrderedJson a = OrderedJson::array();
  for (const auto& n : *r) a.push_back(encode_network(n, false));
  send_json(c, 200, a);
}

void networks_inspect(Ctx& c) {
  auto* svc = networks_or_501(c);
  if (!svc) return;
  auto r = svc->inspect(c.name);
  if (!r) return send_error(c, r.error());
  // Containers on the built-in host and none networks have no endpoint of
  // their own; docker lists the running ones there all the same.
  if ((r->driver == "host" || r->driver == "null") && r->endpoints.empty()) {
    if (auto* cs = c.engine.containers()) {
      auto running = cs->list(engine::ListOptions{});
      if (!running) return send_error(c, running.error());
      for (const auto& s : *running) {
        if (s.network_mode != r->name) continue;
        engine::EndpointInfo e;
        e.network_id = r->id;
        e.container_id = s.id;
        e.container_name = s.names.empty() ? "" : s.names.front().substr(1);
        r->endpoints[s.id] = std::move(e);
      }
    }
  }
  send_json(c, 200, encode_network(*r, true));
}

void networks_create(Ctx& c) {
  auto* svc = networks_or_501(c);
  if (!svc) return;
  auto body = c.req.read_all_body(1 << 20);
  if (!body) return send_error(c, body.error());
  auto req = decode_create(*body);
  if (!req) return send_error(c, req.error());
  auto id = svc->create(*req);
  if (!id) return send_error(c, id.error());
  send_json(c, 201, Json{{"Id", *id}, {"Warning", ""}});
}

void networks_delete(Ctx& c) {
  auto* svc = networks_or_501(c);
  if (!svc) return;
  if (auto r = svc->remove(c.name); !r) return send_error(c, r.error());
  send_status(c, 204);
}

void networks_prune(Ctx& c) {
  auto* svc = networks_or_501(c);
  if (!svc) return;
  auto f = filters_map(c, {"label", "label!", "until"});
  if (!f) return send_error(c, f.error());
  if (auto u = f->find("until"); u != f->end() && !u->second.empty()) {
    auto t = parse_timestamp(u->second[0], now_unix_ns(), "filters.until");
    if (!t) return send_error(c, t.error());
    u->second = {std::to_string(*t)};
  }
  auto r = svc->prune(*f);
  if (!r) return send_error(c, r.error());
  // null when nothing went (docker's nil slice)
  send_json(c, 200, Json{{"NetworksDeleted", r->deleted.empty() ? Json() : Json(r->deleted)}});
}

static void connect_or_disconnect(Ctx& c, bool connect) {
  auto* ctrs = containers_or_501(c);
  if (!ctrs) return;
  auto body = c.req.read_all_body(1 << 20);
  if (!body) return send_error(c, body.error());
  auto j = parse_json(body->empty() ? "{}" : *body, "network connect body");
  if (!j) return send_error(c, j.error());
  if (!j->is_object() || !j->contains("Container") || !(*j)["Container"].is_string() ||
      (*j)["Container"].get<std::string>().empty())
    return send_error(c, make_error(Errc::InvalidArgument, "invalid JSON: Container is required"));
  std::string ctr = (*j)["Container"].get<std::string>();
  Result<void> r;
  if (connect) {
    Json settings = j->value("EndpointConfig", Json::object());
    if (settings.is_null()) settings = Json::object();
    if (!settings.is_object())
      return send_error(
          c, make_error(Errc::InvalidArgument, "invalid JSON: EndpointConfig must be an object"));
    r = ctrs->network_connect(c.name, ctr, settings);
  } else {
    bool force = j->contains("Force") && (*j)["Force"].is_boolean() && (*j)["Force"].get<bool>();
    r = ctrs->network_disconnect(c.name, ctr, force);
  }
  if (!r) return send_error(c, r.error());
  send_status(c, 200);
}

void networks_connect(Ctx& c) { connect_or_disconnect(c, true); }
void networks_disconnect(Ctx& c) { connect_or_disconnect(c, false); }

}  // namespace berth::api::server
