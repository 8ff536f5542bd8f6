#include "cli/container_rows.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "base/strings.h"
#include "cli/format.h"
#include "cli/image_rows.h"
#include "cli/units.h"
#include "oci/reference.h"

namespace berth::cli {
namespace {

std::string str(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
  return j[key].get<std::string>();
}

int64_t num(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return 0;
  return j[key].get<int64_t>();
}

double dnum(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return 0;
  return j[key].get<double>();
}

std::string image_column(const Json& c, bool trunc) {
  std::string image = str(c, "Image");
  if (image.empty()) return "<no image>";
  if (!trunc) return image;
  std::string image_id = str(c, "ImageID");
  if (!image_id.empty() && truncate_id(image_id) == truncate_id(image)) return truncate_id(image);
  auto ref = oci::Reference::parse(image, false);
  if (!ref) return image;
  if (ref->tag()) return ref->familiar_name() + ":" + *ref->tag();
  return ref->familiar_name();
}

}  // namespace

Json ps_headers() {
  return Json{{"ID", "CONTAINER ID"},
              {"Image", "IMAGE"},
              {"Command", "COMMAND"},
              {"CreatedAt", "CREATED AT"},
              {"RunningFor", "CREATED"},
              {"Ports", "PORTS"},
              {"State", "STATE"},
              {"Status", "STATUS"},
              {"Size", "SIZE"},
              {"Names", "NAMES"},
              {"Labels", "LABELS"},
              {"Mounts", "MOUNTS"},
              {"LocalVolumes", "LOCAL VOLUMES"},
              {"Networks", "NETWORKS"},
              {"Platform", "PLATFORM"}};
}

std::string ps_ports(const Json& ports) {
  if (!ports.is_array()) return "";
  // docker's DisplayablePorts: ports sorted (private, public, type, ip);
  // same-number mappings and unpublished ports merged into ranges per
  // "ip/type" key (in first-seen order); other host mappings listed last.
  struct P {
    std::string ip;
    int64_t priv = 0, pub = 0;
    std::string type;
  };
  std::vector<P> list;
  for (const Json& p : ports)
    list.push_back({str(p, "IP"), num(p, "PrivatePort"), num(p, "PublicPort"), str(p, "Type")});
  std::stable_sort(list.begin(), list.end(), [](const P& a, const P& b) {
    if (a.priv != b.priv) return a.priv < b.priv;
    if (a.pub != b.pub) return a.pub < b.pub;
    if (a.type != b.type) return a.type < b.type;
    return a.ip < b.ip;
  });
  auto host_port = [](const std::string& ip, int64_t port) {
    return ip.find(':') != std::string::npos ? fmt::format("[{}]:{}", ip, port)
                                             : fmt::format("{}:{}", ip, port);
  };
  auto form = [&](const std::string& key, int64_t first, int64_t last) {
    std::string group = first == last ? std::to_string(first) : fmt::format("{}-{}", first, last);
    auto slash = key.find('/');
    if (slash == std::string::npos) return group + "/" + key;
    std::string ip = key.substr(0, slash), type = key.substr(slash + 1);
    std::string h = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
    return fmt::format("{}:{}->{}/{}", h, group, group, type);
  };
  std::map<std::string, std::pair<int64_t, int64_t>> groups;
  std::vector<std::string> order, result, host_mappings;
  for (const P& p : list) {
    std::string key = p.type;
    if (!p.ip.empty()) {
      if (p.pub != p.priv) {
        host_mappings.push_back(fmt::format("{}->{}/{}", host_port(p.ip, p.pub), p.priv, p.type));
        continue;
      }
      key = p.ip + "/" + p.type;
    }
    auto it = groups.find(key);
    if (it == groups.end()) {
      groups[key] = {p.priv, p.priv};
      order.push_back(key);
      continue;
    }
    if (p.priv == it->second.second + 1) {
      it->second.second = p.priv;
      continue;
    }
    result.push_back(form(key, it->second.first, it->second.second));
    it->second = {p.priv, p.priv};
  }
  for (const auto& k : order) result.push_back(form(k, groups[k].first, groups[k].second));
  result.insert(result.end(), host_mappings.begin(), host_mappings.end());
  return join(result, ", ");
}

std::optional<std::set<std::string>> ps_source_keys(const FieldSet& fields) {
  if (!fields) return std::nullopt;
  static const std::map<std::string, std::vector<std::string>> kSources = {
      {"ID", {"Id"}},
      {"Image", {"Image", "ImageID"}},
      {"Command", {"Command"}},
      {"CreatedAt", {"Created"}},
      {"RunningFor", {"Created"}},
      {"Ports", {"Ports"}},
      {"State", {"State"}},
      {"Status", {"Status"}},
      {"Size", {"SizeRw", "SizeRootFs"}},
      {"Names", {"Names"}},
      {"Labels", {"Labels"}},
      {"Label", {"Labels"}},
      {"Mounts", {"Mounts"}},
      {"LocalVolumes", {"Mounts"}},
      {"Networks", {"NetworkSettings"}},
      {"Platform", {}}};
  std::set<std::string> keys;
  for (const auto& f : *fields) {
    auto it = kSources.find(f);
    if (it == kSources.end()) return std::nullopt;  // not a column: keep it all
    keys.insert(it->second.begin(), it->second.end());
  }
  return keys;
}

Json ps_row(const Json& c, bool trunc, int64_t now, const FieldSet& fields) {
  Json r = Json::object();
  auto put = [&](const char* k, auto&& make) { put_field(r, fields, k, make); };
  put("ID", [&] {
    std::string id = str(c, "Id");
    return trunc ? truncate_id(id) : id;
  });
  put("Image", [&] { return image_column(c, trunc); });
  put("Command", [&] {
    std::string command = str(c, "Command");
    return go_quote(trunc ? ellipsis(command, 20) : command);
  });
  int64_t created = num(c, "Created");
  put("CreatedAt", [&] { return go_time_string(created); });
  put("RunningFor", [&] { return time_ago(created, now); });
  put("Ports", [&] { return ps_ports(c.value("Ports", Json::array())); });
  put("State", [&] { return str(c, "State"); });
  put("Status", [&] { return str(c, "Status"); });
  put("Size", [&] {
    std::string size = human_size(static_cast<double>(num(c, "SizeRw")), 3);
    if (num(c, "SizeRootFs") > 0)
      size = fmt::format("{} (virtual {})", size,
                         human_size(static_cast<double>(num(c, "SizeRootFs")), 3));
    return size;
  });
  put("Names", [&] {
    std::vector<std::string> names;
    if (c.contains("Names") && c["Names"].is_array())
      for (const Json& n : c["Names"])
        if (n.is_string()) {
          std::string s = n.get<std::string>();
          if (!s.empty() && s[0] == '/') s = s.substr(1);
          names.push_back(s);
        }
    if (!trunc) return join(names, ",");
    for (auto& n : names)
      if (n.find('/') == std::string::npos) return n;
    return std::string();
  });
  if (wants(fields, "Label"))
    r[kRowLabels] = c.contains("Labels") && c["Labels"].is_object() ? c["Labels"] : Json::object();
  put("Labels", [&] {
    std::vector<std::string> labels;
    if (c.contains("Labels") && c["Labels"].is_object())
      for (auto it = c["Labels"].begin(); it != c["Labels"].end(); ++it)
        labels.push_back(it.key() + "=" + (it->is_string() ? it->get<std::string>() : ""));
    return join(labels, ",");
  });
  std::vector<std::string> mounts;
  int local_volumes = 0;
  if ((wants(fields, "Mounts") || wants(fields, "LocalVolumes")) && c.contains("Mounts") &&
      c["Mounts"].is_array())
    for (const Json& m : c["Mounts"]) {
      std::string name = str(m, "Name");
      if (name.empty()) name = str(m, "Source");
      if (trunc && name.size() > 15) name = ellipsis(name, 15);
      mounts.push_back(name);
      if (str(m, "Driver") == "local") ++local_volumes;
    }
  put("Mounts", [&] { return join(mounts, ","); });
  put("LocalVolumes", [&] { return std::to_string(local_volumes); });
  put("Networks", [&] {
    std::vector<std::string> networks;
    if (c.contains("NetworkSettings") && c["NetworkSettings"].is_object() &&
        c["NetworkSettings"].contains("Networks") && c["NetworkSettings"]["Networks"].is_object())
      for (auto it = c["NetworkSettings"]["Networks"].begin();
           it != c["NetworkSettings"]["Networks"].end(); ++it)
        networks.push_back(it.key());
    std::sort(networks.begin(), networks.end());
    return join(networks, ",");
  });
  put("Platform", [] { return nullptr; });
  return r;
}

// --- stats -------------------------------------------------------------------

void stats_from_json(const Json& s, StatsEntry& e) {
  const Json empty = Json::object();
  auto obj = [&](const Json& j, const char* k) -> const Json& {
    return j.is_object() && j.contains(k) && j[k].is_object() ? j[k] : empty;
  };
  if (e.name.empty()) {
    e.name = str(s, "name");
    if (!e.name.empty() && e.name[0] == '/') e.name = e.name.substr(1);
  }
  if (e.id.empty()) e.id = str(s, "id");
  const Json& cpu = obj(s, "cpu_stats");
  const Json& pre = obj(s, "precpu_stats");
  double cpu_delta =
      dnum(obj(cpu, "cpu_usage"), "total_usage") - dnum(obj(pre, "cpu_usage"), "total_usage");
  double sys_delta = dnum(cpu, "system_cpu_usage") - dnum(pre, "system_cpu_usage");
  double online = dnum(cpu, "online_cpus");
  if (online == 0) {
    const Json& cu = obj(cpu, "cpu_usage");
    if (cu.contains("percpu_usage") && cu["percpu_usage"].is_array())
      online = static_cast<double>(cu["percpu_usage"].size());
  }
  e.cpu_percent = (sys_delta > 0 && cpu_delta > 0) ? cpu_delta / sys_delta * online * 100.0 : 0.0;

  const Json& mem = obj(s, "memory_stats");
  const Json& ms = obj(mem, "stats");
  double usage = dnum(mem, "usage");
  // cgroup v1: total_inactive_file; v2: inactive_file (docker 28's order).
  if (ms.contains("total_inactive_file") && dnum(ms, "total_inactive_file") < usage)
    usage -= dnum(ms, "total_inactive_file");
  else if (ms.contains("inactive_file") && dnum(ms, "inactive_file") < usage)
    usage -= dnum(ms, "inactive_file");
  e.memory = usage;
  e.memory_limit = dnum(mem, "limit");
  e.memory_percent = e.memory_limit != 0 ? usage / e.memory_limit * 100.0 : 0.0;

  e.block_read = e.block_write = 0;
  const Json& blk = obj(s, "blkio_stats");
  if (blk.contains("io_service_bytes_recursive") && blk["io_service_bytes_recursive"].is_array())
    for (const Json& b : blk["io_service_bytes_recursive"]) {
      std::string op = str(b, "op");
      if (op.empty()) continue;
      op[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(op[0])));
      if (op == "read") e.block_read += dnum(b, "value");
      if (op == "write") e.block_write += dnum(b, "value");
    }
  e.net_rx = e.net_tx = 0;
  const Json& nets = obj(s, "networks");
  for (auto it = nets.begin(); it != nets.end(); ++it) {
    e.net_rx += dnum(*it, "rx_bytes");
    e.net_tx += dnum(*it, "tx_bytes");
  }
  e.pids = static_cast<uint64_t>(num(obj(s, "pids_stats"), "current"));
  e.error = false;
}

Json stats_headers() {
  return Json{{"Container", "CONTAINER"},
              {"ID", "CONTAINER ID"},
              {"Name", "NAME"},
              {"CPUPerc", "CPU %"},
              {"MemUsage", "MEM USAGE / LIMIT"},
              {"MemPerc", "MEM %"},
              {"NetIO", "NET I/O"},
              {"BlockIO", "BLOCK I/O"},
              {"PIDs", "PIDS"}};
}

Json stats_row(const StatsEntry& e, bool trunc) {
  std::string id = trunc ? truncate_id(e.id) : e.id;
  if (e.error)
    return Json{{"Container", e.container},
                {"ID", id},
                {"Name", "--"},
                {"CPUPerc", "--"},
                {"MemUsage", "-- / --"},
                {"MemPerc", "--"},
                {"NetIO", "--"},
                {"BlockIO", "--"},
                {"PIDs", "--"}};
  return Json{{"Container", e.container},
              {"ID", id},
              {"Name", e.name.empty() ? "--" : e.name},
              {"CPUPerc", fmt::format("{:.2f}%", e.cpu_percent)},
              {"MemUsage", bytes_size(e.memory) + " / " + bytes_size(e.memory_limit)},
              {"MemPerc", fmt::format("{:.2f}%", e.memory_percent)},
              {"NetIO", human_size(e.net_rx, 3) + " / " + human_size(e.net_tx, 3)},
              {"BlockIO", human_size(e.block_read, 3) + " / " + human_size(e.block_write, 3)},
              {"PIDs", std::to_string(e.pids)}};
}

}  // namespace berth::cli
