// cli/cmd_network.cc — `berth network ls|create|inspect|rm|connect|
// disconnect|prune` and `berth port`, as docker's.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "api/client/engine_client.h"
#include "api/types/time.h"
#include "base/strings.h"
#include "cli/cmd_container.h"
#include "cli/context.h"
#include "cli/format.h"
#include "cli/inspect_print.h"
#include "cli/run_flags.h"
#include "cli/units.h"

namespace berth::cli {
namespace {

using api::client::EngineClient;
using api::client::Query;

std::string net_path(const std::string& name) { return "/networks/" + http::url_encode(name); }

Json network_headers() {
  return Json{{"ID", "NETWORK ID"},     {"Name", "NAME"},     {"Driver", "DRIVER"},
              {"Scope", "SCOPE"},       {"IPv4", "IPV4"},     {"IPv6", "IPV6"},
              {"Internal", "INTERNAL"}, {"Labels", "LABELS"}, {"CreatedAt", "CREATED AT"}};
}

// docker prints the decoded time with Go's Time.String(); an unreadable
// value is shown as sent.
std::string created_at(const std::string& created) {
  auto ns = api::parse_timestamp(created, 0, "Created");
  return ns ? go_time_string_utc_ns(*ns) : created;
}

Result<int> run_network_ls(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  EngineClient* c = BERTH_TRY(ctx.client());
  Query q;
  std::string filters = BERTH_TRY(filters_json(f.get_list("filter")));
  if (!filters.empty()) q.emplace_back("filters", filters);
  auto r = BERTH_TRY(c->call("GET", "/networks", q));
  Json list = BERTH_TRY(parse_json(r.body, "network list"));
  if (!list.is_array()) return make_error(Errc::Internal, "network list: not an array");
  std::string format = f.get_string("format");
  std::string def = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
  if (f.get_bool("quiet")) {
    def = "{{.ID}}";
    if (format == "table") format = "table {{.ID}}";
  }
  auto fmtr =
      BERTH_TRY(ListFormatter::create(format, def, network_headers(), "*network.networkContext"));
  bool trunc = !f.get_bool("no-trunc");
  std::vector<Json> rows;
  for (const auto& n : list) {
    std::string id = n.value("Id", "");
    std::vector<std::string> labels;
    if (n.contains("Labels") && n["Labels"].is_object())
      for (auto it = n["Labels"].begin(); it != n["Labels"].end(); ++it)
        labels.push_back(it.key() + "=" + (it->is_string() ? it->get<std::string>() : ""));
    rows.push_back({{kRowLabels, n.contains("Labels") && n["Labels"].is_object() ? n["Labels"]
                                                                                 : Json::object()},
                    {"ID", trunc ? id.substr(0, 12) : id},
                    {"Name", n.value("Name", "")},
                    {"Driver", n.value("Driver", "")},
                    {"Scope", n.value("Scope", "")},
                    // EnableIPv4 is API 1.48's: absent here, false as in docker's CLI.
                    {"IPv4", n.value("EnableIPv4", false) ? "true" : "false"},
                    {"IPv6", n.value("EnableIPv6", false) ? "true" : "false"},
                    {"Internal", n.value("Internal", false) ? "true" : "false"},
                    {"Labels", join(labels, ",")},
                    {"CreatedAt", created_at(n.value("Created", ""))}});
  }
  // docker sorts by name.
  std::sort(rows.begin(), rows.end(), [](const Json& a, const Json& b) {
    return a["Name"].get<std::string>() < b["Name"].get<std::string>();
  });
  ctx.out(BERTH_TRY(fmtr.render(rows)));
  return 0;
}

// key=value flags into a JSON object (--label, --opt).
Result<Json> kv_object(const std::vector<std::string>& items, const char* flag) {
  Json o = Json::object();
  for (const auto& kv : items) {
    auto eq = kv.find('=');
    if (eq == 0) return make_error(Errc::InvalidArgument, "invalid {}: \"{}\"", flag, kv);
    if (eq == std::string::npos)
      o[kv] = "";
    else
      o[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return o;
}

// An address as bytes (4 or 16; empty when it is none), by inet_pton.
std::vector<uint8_t> ip_bytes(const std::string& ip) {
  unsigned char buf[16];
  if (::inet_pton(AF_INET, ip.c_str(), buf) == 1) return {buf, buf + 4};
  if (::inet_pton(AF_INET6, ip.c_str(), buf) == 1) return {buf, buf + 16};
  return {};
}

// "ADDR/PREFIX" as (bytes, prefix); nullopt when it is not one.
std::optional<std::pair<std::vector<uint8_t>, int>> parse_cidr(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto b = ip_bytes(s.substr(0, slash));
  auto p = parse_int(s.substr(slash + 1));
  if (b.empty() || !p || *p < 0 || *p > static_cast<long long>(b.size()) * 8) return std::nullopt;
  return std::make_pair(std::move(b), static_cast<int>(*p));
}

// docker's subnetMatches: whether `data` (an address, or a CIDR's address)
// lies in `subnet`.
Result<bool> subnet_matches(const std::string& subnet, const std::string& data) {
  auto s = parse_cidr(subnet);
  if (!s)
    return make_error(Errc::InvalidArgument, "invalid subnet: invalid CIDR address: {}", subnet);
  std::vector<uint8_t> ip;
  if (data.find('/') != std::string::npos) {
    auto c = parse_cidr(data);
    if (!c) return make_error(Errc::InvalidArgument, "invalid CIDR address: {}", data);
    ip = std::move(c->first);
  } else {
    ip = ip_bytes(data);
  }
  if (ip.size() != s->first.size()) return false;
  for (int bit = 0; bit < s->second; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((ip[bit / 8] & mask) != (s->first[bit / 8] & mask)) return false;
  }
  return true;
}

// docker's CLI groups --ip-range, --gateway and --aux-address under the
// --subnet that holds each (not by position), with its messages.
Result<Json> ipam_configs(const std::vector<std::string>& subnets,
                          const std::vector<std::string>& ranges,
                          const std::vector<std::string>& gateways,
                          const std::vector<std::string>& aux) {
  if (subnets.size() < ranges.size() || subnets.size() < gateways.size())
    return make_error(Errc::InvalidArgument,
                      "every ip-range or gateway must have a corresponding subnet");
  std::vector<Json> cfg;
  for (size_t i = 0; i < subnets.size(); ++i) {
    for (size_t k = 0; k < i; ++k) {
      if (BERTH_TRY(subnet_matches(subnets[i], subnets[k])) ||
          BERTH_TRY(subnet_matches(subnets[k], subnets[i])))
        return make_error(Errc::InvalidArgument,
                          "multiple overlapping subnet configuration is not supported");
    }
    cfg.push_back(Json{{"Subnet", subnets[i]}});
  }
  auto place = [&](const std::string& value, const char* key, const char* what,
                   const char* plural) -> Result<void> {
    if (std::string_view(key) == "IPRange" && !parse_cidr(value))
      return make_error(Errc::InvalidArgument, "invalid CIDR address: {}", value);
    bool match = false;
    for (size_t i = 0; i < subnets.size(); ++i) {
      if (!BERTH_TRY(subnet_matches(subnets[i], value))) continue;
      if (cfg[i].contains(key))
        return make_error(Errc::InvalidArgument,
                          "cannot configure multiple {} ({}, {}) on the same subnet ({})", plural,
                          value, cfg[i][key].get<std::string>(), subnets[i]);
      cfg[i][key] = value;
      match = true;
    }
    if (!match)
      return make_error(Errc::InvalidArgument, "no matching subnet for {} {}", what, value);
    return ok();
  };
  for (const auto& r : ranges) BERTH_TRY(place(r, "IPRange", "range", "ranges"));
  for (const auto& g : gateways) BERTH_TRY(place(g, "Gateway", "gateway", "gateways"));
  for (const auto& a : aux) {
    auto eq = a.find('=');
    std::string name = a.substr(0, eq), ip = eq == std::string::npos ? "" : a.substr(eq + 1);
    bool match = false;
    for (size_t i = 0; i < subnets.size(); ++i) {
      if (ip.empty() || !BERTH_TRY(subnet_matches(subnets[i], ip))) continue;
      cfg[i]["AuxiliaryAddresses"][name] = ip;
      match = true;
    }
    if (!match)
      return make_error(Errc::InvalidArgument, "no matching subnet for aux-address {}", ip);
  }
  Json out = Json::array();
  for (auto& c : cfg) out.push_back(std::move(c));
  return out;
}

Result<int> run_network_create(Context& ctx, const FlagSet& f,
                               const std::vector<std::string>& args) {
  Json body = {{"Name", args[0]},
               {"Driver", f.get_string("driver")},
               {"Internal", f.get_bool("internal")},
               {"Attachable", f.get_bool("attachable")},
               {"EnableIPv6", f.get_bool("ipv6")},
               {"Options", BERTH_TRY(kv_object(f.get_list("opt"), "--opt"))},
               {"Labels", BERTH_TRY(kv_object(f.get_list("label"), "--label"))}};
  if (f.changed("ipv4")) body["EnableIPv4"] = f.get_bool("ipv4");
  if (f.get_bool("ingress")) body["Ingress"] = true;
  if (f.get_bool("config-only")) body["ConfigOnly"] = true;
  if (!f.get_string("config-from").empty())
    body["ConfigFrom"] = {{"Network", f.get_string("config-from")}};
  if (!f.get_string("scope").empty()) body["Scope"] = f.get_string("scope");
  Json cfg = BERTH_TRY(ipam_configs(f.get_list("subnet"), f.get_list("ip-range"),
                                    f.get_list("gateway"), f.get_list("aux-address")));
  body["IPAM"] = {{"Driver", f.get_string("ipam-driver")},
                  {"Config", cfg},
                  {"Options", BERTH_TRY(kv_object(f.get_list("ipam-opt"), "--ipam-opt"))}};
  EngineClient* c = BERTH_TRY(ctx.client());
  auto r = BERTH_TRY(c->call("POST", "/networks/create", {}, dump_json(body),
                             {{"Content-Type", "application/json"}}));
  Json j = BERTH_TRY(parse_json(r.body, "network create response"));
  ctx.out(j.value("Id", "") + "\n");
  return 0;
}

Result<int> run_network_rm(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  EngineClient* c = BERTH_TRY(ctx.client());
  int status = 0;
  for (const auto& name : args) {
    auto r = c->call("DELETE", net_path(name));
    if (!r) {
      if (f.get_bool("force") && r.error().code == Errc::NotFound) continue;
      ctx.err(r.error().message + "\n");  // the client's message has docker's prefix
      status = 1;
      continue;
    }
    ctx.out(name + "\n");
  }
  return status;
}

Result<int> run_network_inspect(Context& ctx, const FlagSet& f,
                                const std::vector<std::string>& args) {
  EngineClient* c = BERTH_TRY(ctx.client());
  return print_inspect(ctx, args, f.get_string("format"),
                       [&](const std::string& name) -> Result<std::string> {
                         auto r = c->call("GET", net_path(name));
                         if (!r) return r.error();
                         return r->body;
                       });
}

Result<int> run_network_connect(Context& ctx, const FlagSet& f,
                                const std::vector<std::string>& args) {
  Json ep = Json::object();
  if (Json ipam = endpoint_ipam(f); !ipam.empty()) ep["IPAMConfig"] = std::move(ipam);
  if (!f.get_list("alias").empty()) ep["Aliases"] = f.get_list("alias");
  if (!f.get_list("link").empty()) ep["Links"] = f.get_list("link");
  Json body = {{"Container", args[1]}, {"EndpointConfig", ep}};
  EngineClient* c = BERTH_TRY(ctx.client());
  BERTH_TRY(c->call("POST", net_path(args[0]) + "/connect", {}, dump_json(body),
                    {{"Content-Type", "application/json"}}));
  return 0;
}

Result<int> run_network_disconnect(Context& ctx, const FlagSet& f,
                                   const std::vector<std::string>& args) {
  Json body = {{"Container", args[1]}, {"Force", f.get_bool("force")}};
  EngineClient* c = BERTH_TRY(ctx.client());
  BERTH_TRY(c->call("POST", net_path(args[0]) + "/disconnect", {}, dump_json(body),
                    {{"Content-Type", "application/json"}}));
  return 0;
}

Result<int> run_network_prune(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  std::string filters = BERTH_TRY(filters_json(f.get_list("filter")));
  if (!f.get_bool("force") &&
      !confirm(ctx,
               "WARNING! This will remove all custom networks not used by at least one "
               "container.\nAre you sure you want to continue?"))
    return 0;
  EngineClient* c = BERTH_TRY(ctx.client());
  Query q;
  if (!filters.empty()) q.emplace_back("filters", filters);
  auto r = BERTH_TRY(c->call("POST", "/networks/prune", q));
  Json j = BERTH_TRY(parse_json(r.body, "network prune response"));
  if (j.contains("NetworksDeleted") && j["NetworksDeleted"].is_array() &&
      !j["NetworksDeleted"].empty()) {
    std::string out = "Deleted Networks:\n";
    for (const auto& n : j["NetworksDeleted"])
      if (n.is_string()) out += n.get<std::string>() + "\n";
    ctx.out(out);
  }
  return 0;
}

// `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`: docker's lines
// "5230/tcp -> 0.0.0.0:5555" (or just "0.0.0.0:5555" for one port).
Result<int> run_port(Context& ctx, const FlagSet&, const std::vector<std::string>& args) {
  EngineClient* c = BERTH_TRY(ctx.client());
  Json j = BERTH_TRY(inspect_container(*c, args[0]));
  Json ports = Json::object();
  if (j.contains("NetworkSettings") && j["NetworkSettings"].is_object() &&
      j["NetworkSettings"].contains("Ports") && j["NetworkSettings"]["Ports"].is_object())
    ports = j["NetworkSettings"]["Ports"];
  auto addr = [](const Json& b) {
    std::string ip = b.value("HostIp", "");
    if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
    return ip + ":" + b.value("HostPort", "");
  };
  std::string out;
  if (args.size() == 2) {
    // docker's messages name the port as typed.
    auto slash = args[1].find('/');
    std::string num = args[1].substr(0, slash);
    std::string proto = slash == std::string::npos ? "tcp" : args[1].substr(slash + 1);
    if (proto.empty()) proto = "tcp";
    auto n = parse_uint(num);
    if (!n || *n > 65535) {
      return make_error(Errc::InvalidArgument,
                        "Error: invalid port ({}): strconv.ParseUint: parsing \"{}\": {}", num, num,
                        n ? "value out of range" : "invalid syntax");
    }
    auto it = ports.find(num + "/" + proto);
    if (it == ports.end() || !it->is_array() || it->empty()) {
      return make_error(Errc::NotFound, "Error: No public port '{}' published for {}", args[1],
                        args[0]);
    }
    for (const auto& b : *it) out += addr(b) + "\n";
  } else {
    for (auto it = ports.begin(); it != ports.end(); ++it) {
      if (!it->is_array()) continue;
      for (const auto& b : *it) out += it.key() + " -> " + addr(b) + "\n";
    }
  }
  ctx.out(out);
  return 0;
}

}  // namespace

void add_network_commands(std::vector<Command>& cmds) {
  cmds.push_back({"network ls",
                  {"network list"},
                  "[OPTIONS]",
                  "List networks",
                  0,
                  0,
                  [](FlagSet& f) {
                    f.add_list("filter", 'f', "Provide filter values (e.g. \"driver=bridge\")",
                               "filter");
                    f.add_string("format", 0, "", "Format output using a custom template");
                    f.add_bool("no-trunc", 0, "Do not truncate the output");
                    f.add_bool("quiet", 'q', "Only display network IDs");
                  },
                  run_network_ls});
  cmds.push_back(
      {"network create",
       {},
       "[OPTIONS] NETWORK",
       "Create a network",
       1,
       1,
       [](FlagSet& f) {
         f.add_bool("attachable", 0, "Enable manual container attachment");
         f.add_list("aux-address", 0, "Auxiliary IPv4 or IPv6 addresses used by Network driver",
                    "map");
         f.add_string("config-from", 0, "", "The network from which to copy the configuration");
         f.add_bool("config-only", 0, "Create a configuration only network");
         f.add_string("driver", 'd', "bridge", "Driver to manage the Network");
         f.add_list("gateway", 0, "IPv4 or IPv6 Gateway for the master subnet");
         f.add_bool("ingress", 0, "Create swarm routing-mesh network");
         f.add_bool("internal", 0, "Restrict external access to the network");
         f.add_list("ip-range", 0, "Allocate container ip from a sub-range");
         f.add_string("ipam-driver", 0, "default", "IP Address Management Driver");
         f.add_list("ipam-opt", 0, "Set IPAM driver specific options", "map");
         f.add_bool("ipv4", 0, "Enable or disable IPv4 address assignment", true);
         f.add_bool("ipv6", 0, "Enable or disable IPv6 networking");
         f.add_list("label", 0, "Set metadata on a network");
         f.add_list("opt", 'o', "Set driver specific options");
         f.add_string("scope", 0, "", "Control the network's scope");
         f.add_list("subnet", 0, "Subnet in CIDR format that represents a network segment");
       },
       run_network_create});
  cmds.push_back(
      {"network rm",
       {"network remove"},
       "NETWORK [NETWORK...]",
       "Remove one or more networks",
       1,
       -1,
       [](FlagSet& f) { f.add_bool("force", 'f', "Do not error if the network does not exist"); },
       run_network_rm});
  cmds.push_back(
      {"network inspect",
       {},
       "[OPTIONS] NETWORK [NETWORK...]",
       "Display detailed information on one or more networks",
       1,
       -1,
       [](FlagSet& f) { f.add_string("format", 'f', "", "Format output using a custom template"); },
       run_network_inspect});
  cmds.push_back({"network connect",
                  {},
                  "[OPTIONS] NETWORK CONTAINER",
                  "Connect a container to a network",
                  2,
                  2,
                  [](FlagSet& f) {
                    f.add_list("alias", 0, "Add network-scoped alias for the container");
                    f.add_string("ip", 0, "", "IPv4 address (e.g., \"172.30.100.104\")");
                    f.add_string("ip6", 0, "", "IPv6 address (e.g., \"2001:db8::33\")");
                    f.add_list("link-local-ip", 0, "Add a link-local address for the container");
                    f.add_list("link", 0, "Add link to another container");
                  },
                  run_network_connect});
  cmds.push_back({"network disconnect",
                  {},
                  "[OPTIONS] NETWORK CONTAINER",
                  "Disconnect a container from a network",
                  2,
                  2,
                  [](FlagSet& f) {
                    f.add_bool("force", 'f', "Force the container to disconnect from a network");
                  },
                  run_network_disconnect});
  cmds.push_back({"network prune",
                  {},
                  "[OPTIONS]",
                  "Remove all unused networks",
                  0,
                  0,
                  [](FlagSet& f) {
                    f.add_list("filter", 0, "Provide filter values (e.g. \"until=<timestamp>\")",
                               "filter");
                    f.add_bool("force", 'f', "Do not prompt for confirmation");
                  },
                  run_network_prune});
  cmds.push_back({"container port",
                  {"port"},
                  "CONTAINER [PRIVATE_PORT[/PROTO]]",
                  "List port mappings or a specific mapping for the container",
                  1,
                  2,
                  [](FlagSet&) {},
                  run_port});
}

}  // namespace berth::cli
