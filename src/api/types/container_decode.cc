// Decoding of the container Config / HostConfig bodies, the way Go's
// encoding/json fills dockerd's structs (see container_config.h).
#include <cctype>
#include <limits>

#include "api/types/container_config.h"
#include "api/types/containers.h"
#include "base/ascii.h"
#include "base/strings.h"

namespace berth::api {
namespace {

// Deeper documents are refused before nlohmann builds them: copies and
// comparisons of a json value recurse, and a create body never nests deeply.
constexpr int kMaxDepth = 64;

Result<void> check_depth(std::string_view text, std::string_view what) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (ch == '\\')
        escaped = true;
      else if (ch == '"')
        in_string = false;
      continue;
    }
    if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      if (++depth > kMaxDepth)
        return make_error(Errc::InvalidArgument, "invalid JSON: {} nests deeper than {} levels",
                          what, kMaxDepth);
    } else if (ch == ']' || ch == '}') {
      --depth;
    }
  }
  return ok();
}

// Go matches an exact key first, then a case-insensitive one; null = absent.
const Json* field(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  if (it != obj.end()) return it->is_null() ? nullptr : &*it;
  for (auto i = obj.begin(); i != obj.end(); ++i)
    if (iequals(i.key(), key)) return i->is_null() ? nullptr : &*i;
  return nullptr;
}

std::string json_kind(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "bool";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number " + v.dump();
    default:
      return "value";
  }
}

std::string join_path(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return std::string(path) + "." + std::string(key);
}

Error type_error(std::string_view path, const Json& v, std::string_view go_type) {
  return make_error(Errc::InvalidArgument,
                    "invalid JSON: json: cannot unmarshal {} into Go struct field {} of type {}",
                    json_kind(v), path, go_type);
}

// Field readers: absent/null keep `out`; a wrong type is an error naming path.key.
Result<void> get_string(const Json& o, std::string_view key, std::string_view path,
                        std::string& out) {
  const Json* v = field(o, key);
  if (!v) return ok();
  if (!v->is_string()) return type_error(join_path(path, key), *v, "string");
  out = v->get_ref<const std::string&>();
  return ok();
}

Result<void> get_bool(const Json& o, std::string_view key, std::string_view path, bool& out) {
  const Json* v = field(o, key);
  if (!v) return ok();
  if (!v->is_boolean()) return type_error(join_path(path, key), *v, "bool");
  out = v->get<bool>();
  return ok();
}

Result<void> get_opt_bool(const Json& o, std::string_view key, std::string_view path,
                          std::optional<bool>& out) {
  const Json* v = field(o, key);
  if (!v) return ok();
  if (!v->is_boolean()) return type_error(join_path(path, key), *v, "bool");
  out = v->get<bool>();
  return ok();
}

// Integers: JSON numbers without fraction, within T's range (Go refuses 1.5,
// 1e3 and overflow alike).
template <typename T>
Result<T> as_int(const Json& v, std::string_view path, std::string_view go_type) {
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    int64_t n = v.get<int64_t>();
    if (n < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
        (n > 0 && static_cast<uint64_t>(n) > static_cast<uint64_t>(std::numeric_limits<T>::max())))
      return type_error(path, v, go_type);
    return static_cast<T>(n);
  }
  if (v.is_number_unsigned()) {
    uint64_t n = v.get<uint64_t>();
    if (n > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      return type_error(path, v, go_type);
    return static_cast<T>(n);
  }
  return type_error(path, v, go_type);
}

template <typename T>
Result<void> get_int(const Json& o, std::string_view key, std::string_view path, T& out,
                     std::string_view go_type) {
  const Json* v = field(o, key);
  if (!v) return ok();
  out = BERTH_TRY(as_int<T>(*v, join_path(path, key), go_type));
  return ok();
}

template <typename T>
Result<void> get_opt_int(const Json& o, std::string_view key, std::string_view path,
                         std::optional<T>& out, std::string_view go_type) {
  const Json* v = field(o, key);
  if (!v) return ok();
  out = BERTH_TRY(as_int<T>(*v, join_path(path, key), go_type));
  return ok();
}

Result<std::vector<std::string>> as_strings(const Json& v, std::string_view path) {
  if (!v.is_array()) return type_error(path, v, "[]string");
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const auto& e : v) {
    if (!e.is_string()) return type_error(path, e, "string");
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<void> get_strings(const Json& o, std::string_view key, std::string_view path,
                         std::vector<std::string>& out) {
  const Json* v = field(o, key);
  if (!v) return ok();
  out = BERTH_TRY(as_strings(*v, join_path(path, key)));
  return ok();
}

// docker's StrSlice: a string is a one-element list.
Result<void> get_strslice(const Json& o, std::string_view key, std::string_view path,
                          std::optional<std::vector<std::string>>& out) {
  const Json* v = field(o, key);
  if (!v) return ok();
  if (v->is_string()) {
    out = std::vector<std::string>{v->get<std::string>()};
    return ok();
  }
  if (!v->is_array()) return type_error(join_path(path, key), *v, "strslice.StrSlice");
  out = BERTH_TRY(as_strings(*v, join_path(path, key)));
  return ok();
}

Result<void> get_string_map(const Json& o, std::string_view key, std::string_view path,
                            std::map<std::string, std::string>& out) {
  const Json* v = field(o, key);
  if (!v) return ok();
  std::string p = join_path(path, key);
  if (!v->is_object()) return type_error(p, *v, "map[string]string");
  out.clear();
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (it->is_null()) {
      out[it.key()] = "";
      continue;
    }
    if (!it->is_string()) return type_error(p, *it, "string");
    out[it.key()] = it->get<std::string>();
  }
  return ok();
}

// map[string]struct{} (Volumes, ExposedPorts): the keys.
Result<void> get_key_set(const Json& o, std::string_view key, std::string_view path,
                         std::vector<std::string>& out) {
  const Json* v = field(o, key);
  if (!v) return ok();
  std::string p = join_path(path, key);
  if (!v->is_object()) return type_error(p, *v, "map[string]struct {}");
  out.clear();
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it->is_object() && !it->is_null()) return type_error(p, *it, "struct {}");
    out.push_back(it.key());
  }
  return ok();
}

Result<const Json*> get_object(const Json& o, std::string_view key, std::string_view path,
                               std::string_view go_type) {
  const Json* v = field(o, key);
  if (!v) return static_cast<const Json*>(nullptr);
  if (!v->is_object()) return type_error(join_path(path, key), *v, go_type);
  return v;
}

Result<HealthcheckConfig> decode_healthcheck(const Json& j, const std::string& p) {
  HealthcheckConfig h;
  BERTH_TRY(get_strings(j, "Test", p, h.test));
  BERTH_TRY(get_int(j, "Interval", p, h.interval_ns, "time.Duration"));
  BERTH_TRY(get_int(j, "Timeout", p, h.timeout_ns, "time.Duration"));
  BERTH_TRY(get_int(j, "StartPeriod", p, h.start_period_ns, "time.Duration"));
  BERTH_TRY(get_int(j, "StartInterval", p, h.start_interval_ns, "time.Duration"));
  BERTH_TRY(get_int(j, "Retries", p, h.retries, "int"));
  BERTH_TRY(get_string(j, "OnFailure", p, h.on_failure));
  return h;
}

// A JSON array of objects at o[key] (Go's []T, or []*T when `pointers`:
// then null entries are skipped, as the daemon's loops skip nil pointers),
// each decoded by `one(entry, path)` and appended to `out`.
template <typename T, typename F>
Result<void> get_object_list(const Json& o, std::string_view key, std::string_view path,
                             std::string_view go_type, bool pointers, std::vector<T>& out,
                             F&& one) {
  const Json* v = field(o, key);
  if (!v) return ok();
  std::string p = join_path(path, key);
  if (!v->is_array()) return type_error(p, *v, fmt::format("[]{}{}", pointers ? "*" : "", go_type));
  for (const auto& e : *v) {
    if (pointers && e.is_null()) continue;
    if (!e.is_object()) return type_error(p, e, go_type);
    out.push_back(BERTH_TRY(one(e, p)));
  }
  return ok();
}

Result<WeightDevice> decode_weight_device(const Json& e, const std::string& p) {
  WeightDevice d;
  BERTH_TRY(get_string(e, "Path", p, d.path));
  BERTH_TRY(get_int(e, "Weight", p, d.weight, "uint16"));
  return d;
}

Result<ThrottleDevice> decode_throttle_device(const Json& e, const std::string& p) {
  ThrottleDevice d;
  BERTH_TRY(get_string(e, "Path", p, d.path));
  BERTH_TRY(get_int(e, "Rate", p, d.rate, "uint64"));
  return d;
}

Result<DeviceMapping> decode_device_mapping(const Json& e, const std::string& p) {
  DeviceMapping m;
  BERTH_TRY(get_string(e, "PathOnHost", p, m.path_on_host));
  BERTH_TRY(get_string(e, "PathInContainer", p, m.path_in_container));
  BERTH_TRY(get_string(e, "CgroupPermissions", p, m.cgroup_permissions));
  return m;
}

Result<Ulimit> decode_ulimit(const Json& e, const std::string& p) {
  Ulimit l;
  BERTH_TRY(get_string(e, "Name", p, l.name));
  BERTH_TRY(get_int(e, "Soft", p, l.soft, "int64"));
  BERTH_TRY(get_int(e, "Hard", p, l.hard, "int64"));
  return l;
}

Result<Resources> decode_resources(const Json& j, std::string_view p) {
  Resources r;
  BERTH_TRY(get_int(j, "CpuShares", p, r.cpu_shares, "int64"));
  BERTH_TRY(get_int(j, "Memory", p, r.memory, "int64"));
  BERTH_TRY(get_int(j, "NanoCpus", p, r.nano_cpus, "int64"));
  BERTH_TRY(get_string(j, "CgroupParent", p, r.cgroup_parent));
  BERTH_TRY(get_int(j, "BlkioWeight", p, r.blkio_weight, "uint16"));
  BERTH_TRY(get_object_list(j, "BlkioWeightDevice", p, "blkiodev.WeightDevice", true,
                            r.blkio_weight_device, decode_weight_device));
  for (auto [key, list] : {std::pair{"BlkioDeviceReadBps", &r.blkio_device_read_bps},
                           {"BlkioDeviceWriteBps", &r.blkio_device_write_bps},
                           {"BlkioDeviceReadIOps", &r.blkio_device_read_iops},
                           {"BlkioDeviceWriteIOps", &r.blkio_device_write_iops}}) {
    BERTH_TRY(
        get_object_list(j, key, p, "blkiodev.ThrottleDevice", true, *list, decode_throttle_device));
  }
  BERTH_TRY(get_int(j, "CpuPeriod", p, r.cpu_period, "int64"));
  BERTH_TRY(get_int(j, "CpuQuota", p, r.cpu_quota, "int64"));
  BERTH_TRY(get_int(j, "CpuRealtimePeriod", p, r.cpu_realtime_period, "int64"));
  BERTH_TRY(get_int(j, "CpuRealtimeRuntime", p, r.cpu_realtime_runtime, "int64"));
  BERTH_TRY(get_string(j, "CpusetCpus", p, r.cpuset_cpus));
  BERTH_TRY(get_string(j, "CpusetMems", p, r.cpuset_mems));
  BERTH_TRY(get_object_list(j, "Devices", p, "container.DeviceMapping", false, r.devices,
                            decode_device_mapping));
  BERTH_TRY(get_strings(j, "DeviceCgroupRules", p, r.device_cgroup_rules));
  BERTH_TRY(get_int(j, "MemoryReservation", p, r.memory_reservation, "int64"));
  BERTH_TRY(get_int(j, "MemorySwap", p, r.memory_swap, "int64"));
  BERTH_TRY(get_opt_int(j, "MemorySwappiness", p, r.memory_swappiness, "int64"));
  BERTH_TRY(get_opt_bool(j, "OomKillDisable", p, r.oom_kill_disable));
  BERTH_TRY(get_opt_int(j, "PidsLimit", p, r.pids_limit, "int64"));
  BERTH_TRY(get_object_list(j, "Ulimits", p, "units.Ulimit", true, r.ulimits, decode_ulimit));
  return r;
}

Result<RestartPolicy> decode_restart_policy(const Json& j, std::string_view p) {
  RestartPolicy r;
  BERTH_TRY(get_string(j, "Name", p, r.name));
  BERTH_TRY(get_int(j, "MaximumRetryCount", p, r.maximum_retry_count, "int"));
  return r;
}

// DeviceRequests (--gpus, compose's device reservations) need a device
// driver such as NVIDIA's, which berth has none of. docker fails only at the
// start, with this text; berth refuses the create, so nothing is left behind.
Result<void> check_device_requests(const Json& j, std::string_view p) {
  const Json* reqs = field(j, "DeviceRequests");
  if (!reqs) return ok();
  std::string rp = join_path(p, "DeviceRequests");
  if (!reqs->is_array()) return type_error(rp, *reqs, "[]container.DeviceRequest");
  for (const auto& r : *reqs) {
    if (!r.is_object()) return type_error(rp, r, "container.DeviceRequest");
    std::string driver;
    BERTH_TRY(get_string(r, "Driver", rp, driver));
    // Go's %v of [][]string: "[[gpu utility] [compute]]".
    std::string caps = "[";
    if (const Json* c = field(r, "Capabilities")) {
      if (!c->is_array()) return type_error(rp + ".Capabilities", *c, "[][]string");
      for (const auto& set : *c) {
        std::vector<std::string> names;
        if (!set.is_null()) names = BERTH_TRY(as_strings(set, rp + ".Capabilities"));
        if (caps.size() > 1) caps += ' ';
        caps += "[" + join(names, " ") + "]";
      }
    }
    caps += "]";
    return make_error(Errc::InvalidArgument,
                      "could not select device driver \"{}\" with capabilities: {}", driver, caps);
  }
  return ok();
}

Result<HostConfig> decode_host_config(const Json& j, ApiVersion v) {
  const std::string p = "HostConfig";
  HostConfig h;
  BERTH_TRY(get_strings(j, "Binds", p, h.binds));
  BERTH_TRY(get_string(j, "ContainerIDFile", p, h.container_id_file));
  if (const Json* lc = BERTH_TRY(get_object(j, "LogConfig", p, "container.LogConfig"))) {
    BERTH_TRY(get_string(*lc, "Type", p + ".LogConfig", h.log_config.type));
    BERTH_TRY(get_string_map(*lc, "Config", p + ".LogConfig", h.log_config.config));
  }
  BERTH_TRY(get_string(j, "NetworkMode", p, h.network_mode));
  if (const Json* pb = BERTH_TRY(get_object(j, "PortBindings", p, "nat.PortMap"))) {
    std::string pp = p + ".PortBindings";
    for (auto it = pb->begin(); it != pb->end(); ++it) {
      auto& list = h.port_bindings[it.key()];
      if (it->is_null()) continue;
      if (!it->is_array()) return type_error(pp, *it, "[]nat.PortBinding");
      for (const auto& e : *it) {
        if (!e.is_object()) return type_error(pp, e, "nat.PortBinding");
        PortBinding b;
        BERTH_TRY(get_string(e, "HostIp", pp, b.host_ip));
        BERTH_TRY(get_string(e, "HostPort", pp, b.host_port));
        list.push_back(std::move(b));
      }
    }
  }
  if (const Json* rp = BERTH_TRY(get_object(j, "RestartPolicy", p, "container.RestartPolicy")))
    h.restart_policy = BERTH_TRY(decode_restart_policy(*rp, p + ".RestartPolicy"));
  BERTH_TRY(get_bool(j, "AutoRemove", p, h.auto_remove));
  BERTH_TRY(get_strings(j, "VolumesFrom", p, h.volumes_from));
  if (const Json* m = field(j, "Mounts")) {
    std::string mp = p + ".Mounts";
    if (!m->is_array()) return type_error(mp, *m, "[]mount.Mount");
    for (const auto& e : *m) {
      if (!e.is_object()) return type_error(mp, e, "mount.Mount");
      MountPoint pt;
      BERTH_TRY(get_string(e, "Type", mp, pt.type));
      BERTH_TRY(get_string(e, "Source", mp, pt.source));
      BERTH_TRY(get_string(e, "Target", mp, pt.target));
      BERTH_TRY(get_bool(e, "ReadOnly", mp, pt.read_only));
      pt.options = Json::object();
      for (const char* k : {"BindOptions", "VolumeOptions", "TmpfsOptions", "Consistency"})
        if (const Json* o = field(e, k)) pt.options[k] = *o;
      h.mounts.push_back(std::move(pt));
    }
  }
  BERTH_TRY(get_strings(j, "CapAdd", p, h.cap_add));
  BERTH_TRY(get_strings(j, "CapDrop", p, h.cap_drop));
  if (v >= ApiVersion{1, 41}) {
    BERTH_TRY(get_string(j, "CgroupnsMode", p, h.cgroupns_mode));
  } else {
    h.cgroupns_mode = "host";  // docker: API < 1.41 keeps the host's cgroup namespace
  }
  BERTH_TRY(get_strings(j, "Dns", p, h.dns));
  BERTH_TRY(get_strings(j, "DnsOptions", p, h.dns_options));
  BERTH_TRY(get_strings(j, "DnsSearch", p, h.dns_search));
  BERTH_TRY(get_strings(j, "ExtraHosts", p, h.extra_hosts));
  // A per-container size limit needs quota support berth's storage lacks:
  // refused, never silently ignored.
  if (auto so = j.find("StorageOpt"); so != j.end() && so->is_object() && !so->empty()) {
    return make_error(
        Errc::InvalidArgument,
        "--storage-opt is not supported: berth's overlay storage has no per-container "
        "quota");
  }
  BERTH_TRY(check_device_requests(j, p));
  BERTH_TRY(get_string(j, "Isolation", p, h.isolation));
  BERTH_TRY(get_string(j, "VolumeDriver", p, h.volume_driver));
  if (v >= ApiVersion{1, 43}) BERTH_TRY(get_string_map(j, "Annotations", p, h.annotations));
  BERTH_TRY(get_strings(j, "Links", p, h.links));
  BERTH_TRY(get_strings(j, "GroupAdd", p, h.group_add));
  BERTH_TRY(get_string(j, "IpcMode", p, h.ipc_mode));
  BERTH_TRY(get_string(j, "Cgroup", p, h.cgroup));
  BERTH_TRY(get_int(j, "OomScoreAdj", p, h.oom_score_adj, "int"));
  BERTH_TRY(get_string(j, "PidMode", p, h.pid_mode));
  BERTH_TRY(get_bool(j, "Privileged", p, h.privileged));
  BERTH_TRY(get_bool(j, "PublishAllPorts", p, h.publish_all_ports));
  BERTH_TRY(get_bool(j, "ReadonlyRootfs", p, h.readonly_rootfs));
  BERTH_TRY(get_strings(j, "SecurityOpt", p, h.security_opt));
  BERTH_TRY(get_string_map(j, "Tmpfs", p, h.tmpfs));
  BERTH_TRY(get_string(j, "UTSMode", p, h.uts_mode));
  BERTH_TRY(get_string(j, "UsernsMode", p, h.userns_mode));
  BERTH_TRY(get_int(j, "ShmSize", p, h.shm_size, "int64"));
  BERTH_TRY(get_string_map(j, "Sysctls", p, h.sysctls));
  BERTH_TRY(get_string(j, "Runtime", p, h.runtime));
  BERTH_TRY(get_opt_bool(j, "Init", p, h.init));
  if (const Json* m = field(j, "MaskedPaths"))
    h.masked_paths = BERTH_TRY(as_strings(*m, p + ".MaskedPaths"));
  if (const Json* r = field(j, "ReadonlyPaths"))
    h.readonly_paths = BERTH_TRY(as_strings(*r, p + ".ReadonlyPaths"));
  if (const Json* cs = field(j, "ConsoleSize")) {
    std::string cp = p + ".ConsoleSize";
    if (!cs->is_array() || cs->size() != 2) return type_error(cp, *cs, "[2]uint");
    std::vector<uint32_t> size;
    for (const auto& e : *cs) size.push_back(BERTH_TRY(as_int<uint32_t>(e, cp, "uint")));
    // docker: ConsoleSize arrived in API 1.42; older clients' values are dropped.
    if (v >= ApiVersion{1, 42} && (size[0] || size[1])) h.console_size = size;
  }
  h.resources = BERTH_TRY(decode_resources(j, p));
  return h;
}

Result<Json> parse_body(std::string_view body, std::string_view what) {
  if (trim(body).empty())
    return make_error(Errc::InvalidArgument, "invalid JSON: got EOF while reading request body");
  BERTH_TRY(check_depth(body, what));
  auto j = parse_json(body, what);
  if (!j) return make_error(Errc::InvalidArgument, "invalid JSON: {}", j.error().message);
  return j;
}

}  // namespace

Result<ContainerConfig> decode_container_config(const Json& j, std::string_view p) {
  ContainerConfig c;
  BERTH_TRY(get_string(j, "Hostname", p, c.hostname));
  BERTH_TRY(get_string(j, "Domainname", p, c.domainname));
  BERTH_TRY(get_string(j, "User", p, c.user));
  BERTH_TRY(get_bool(j, "AttachStdin", p, c.attach_stdin));
  BERTH_TRY(get_bool(j, "AttachStdout", p, c.attach_stdout));
  BERTH_TRY(get_bool(j, "AttachStderr", p, c.attach_stderr));
  BERTH_TRY(get_bool(j, "Tty", p, c.tty));
  BERTH_TRY(get_bool(j, "OpenStdin", p, c.open_stdin));
  BERTH_TRY(get_bool(j, "StdinOnce", p, c.stdin_once));
  BERTH_TRY(get_strings(j, "Env", p, c.env));
  BERTH_TRY(get_strslice(j, "Cmd", p, c.cmd));
  BERTH_TRY(get_strslice(j, "Entrypoint", p, c.entrypoint));
  if (const Json* h = BERTH_TRY(get_object(j, "Healthcheck", p, "container.HealthConfig")))
    c.healthcheck = BERTH_TRY(decode_healthcheck(*h, join_path(p, "Healthcheck")));
  BERTH_TRY(get_bool(j, "ArgsEscaped", p, c.args_escaped));
  BERTH_TRY(get_string(j, "Image", p, c.image));
  BERTH_TRY(get_key_set(j, "Volumes", p, c.volumes));
  BERTH_TRY(get_string(j, "WorkingDir", p, c.working_dir));
  BERTH_TRY(get_bool(j, "NetworkDisabled", p, c.network_disabled));
  BERTH_TRY(get_strings(j, "OnBuild", p, c.on_build));
  BERTH_TRY(get_string_map(j, "Labels", p, c.labels));
  BERTH_TRY(get_string(j, "StopSignal", p, c.stop_signal));
  BERTH_TRY(get_opt_int(j, "StopTimeout", p, c.stop_timeout, "int"));
  std::optional<std::vector<std::string>> shell;
  BERTH_TRY(get_strslice(j, "Shell", p, shell));
  if (shell) c.shell = *shell;
  BERTH_TRY(get_key_set(j, "ExposedPorts", p, c.exposed_ports));
  return c;
}

Result<CreateBody> decode_create_body(std::string_view body, ApiVersion v, int ncpu) {
  try {
    Json j = BERTH_TRY(parse_body(body, "container create body"));
    if (!j.is_object())
      return make_error(Errc::InvalidArgument,
                        "invalid JSON: json: cannot unmarshal {} into Go value of type "
                        "container.CreateRequest",
                        json_kind(j));
    CreateBody b;
    b.config = BERTH_TRY(decode_container_config(j, ""));
    if (b.config.healthcheck && v < ApiVersion{1, 44}) b.config.healthcheck->start_interval_ns = 0;
    if (const Json* h = BERTH_TRY(get_object(j, "HostConfig", "", "container.HostConfig")))
      b.host_config = BERTH_TRY(decode_host_config(*h, v));
    else if (v < ApiVersion{1, 41})
      b.host_config.cgroupns_mode = "host";
    if (const Json* n =
            BERTH_TRY(get_object(j, "NetworkingConfig", "", "network.NetworkingConfig")))
      b.networking_config = *n;
    BERTH_TRY(validate_config(b.config));
    BERTH_TRY(validate_host_config(b.host_config, ncpu));
    return b;
  } catch (const std::exception& e) {
    // Belt and braces: every access above is type-checked first.
    return make_error(Errc::InvalidArgument, "invalid JSON: {}", e.what());
  }
}

Result<UpdateBody> decode_update_body(std::string_view body, int ncpu) {
  try {
    Json j = BERTH_TRY(parse_body(body, "container update body"));
    if (!j.is_object())
      return make_error(Errc::InvalidArgument,
                        "invalid JSON: json: cannot unmarshal {} into Go value of type "
                        "container.UpdateConfig",
                        json_kind(j));
    UpdateBody u;
    u.resources = BERTH_TRY(decode_resources(j, ""));
    if (const Json* rp = BERTH_TRY(get_object(j, "RestartPolicy", "", "container.RestartPolicy"))) {
      u.restart_policy = BERTH_TRY(decode_restart_policy(*rp, "RestartPolicy"));
      BERTH_TRY(validate_restart_policy(*u.restart_policy));
    }
    BERTH_TRY(validate_resources(u.resources, ncpu));
    return u;
  } catch (const std::exception& e) {
    return make_error(Errc::InvalidArgument, "invalid JSON: {}", e.what());
  }
}

Result<std::optional<ContainerConfig>> decode_commit_config(std::string_view body) {
  if (trim(body).empty()) return std::optional<ContainerConfig>{};
  try {
    Json j = BERTH_TRY(parse_body(body, "commit body"));
    if (j.is_null()) return std::optional<ContainerConfig>{};
    if (!j.is_object())
      return make_error(Errc::InvalidArgument,
                        "invalid JSON: json: cannot unmarshal {} into Go value of type "
                        "container.Config",
                        json_kind(j));
    if (j.empty()) return std::optional<ContainerConfig>{};
    auto c = BERTH_TRY(decode_container_config(j, ""));
    return std::optional<ContainerConfig>(std::move(c));
  } catch (const std::exception& e) {
    return make_error(Errc::InvalidArgument, "invalid JSON: {}", e.what());
  }
}

Result<ExecCreateBody> decode_exec_create(std::string_view body, ApiVersion v) {
  try {
    Json j = BERTH_TRY(parse_body(body, "exec create body"));
    if (!j.is_object())
      return make_error(Errc::InvalidArgument,
                        "invalid JSON: json: cannot unmarshal {} into Go value of type "
                        "container.ExecOptions",
                        json_kind(j));
    ExecCreateBody e;
    const std::string p = "ExecOptions";
    BERTH_TRY(get_bool(j, "AttachStdin", p, e.attach_stdin));
    BERTH_TRY(get_bool(j, "AttachStdout", p, e.attach_stdout));
    BERTH_TRY(get_bool(j, "AttachStderr", p, e.attach_stderr));
    BERTH_TRY(get_string(j, "DetachKeys", p, e.detach_keys));
    BERTH_TRY(get_bool(j, "Tty", p, e.tty));
    BERTH_TRY(get_strings(j, "Env", p, e.env));
    std::optional<std::vector<std::string>> cmd;
    BERTH_TRY(get_strslice(j, "Cmd", p, cmd));
    if (cmd) e.cmd = *cmd;
    BERTH_TRY(get_bool(j, "Privileged", p, e.privileged));
    BERTH_TRY(get_string(j, "User", p, e.user));
    BERTH_TRY(get_string(j, "WorkingDir", p, e.working_dir));
    if (const Json* cs = field(j, "ConsoleSize")) {
      if (!cs->is_array() || cs->size() != 2) return type_error(p + ".ConsoleSize", *cs, "[2]uint");
      std::vector<uint32_t> size;
      for (const auto& x : *cs)
        size.push_back(BERTH_TRY(as_int<uint32_t>(x, p + ".ConsoleSize", "uint")));
      if (v >= ApiVersion{1, 42} && (size[0] || size[1])) e.console_size = size;
    }
    if (e.cmd.empty()) return make_error(Errc::InvalidArgument, "No exec command specified");
    for (const auto& env : e.env)
      if (env.empty() || env[0] == '=')
        return make_error(Errc::InvalidArgument, "invalid environment variable: {}", env);
    if (!e.working_dir.empty() && e.working_dir[0] != '/')
      return make_error(Errc::InvalidArgument,
                        "invalid WorkingDir: the working directory '{}' is invalid, it needs to "
                        "be an absolute path",
                        e.working_dir);
    return e;
  } catch (const std::exception& ex) {
    return make_error(Errc::InvalidArgument, "invalid JSON: {}", ex.what());
  }
}

Result<ExecStartBody> decode_exec_start(std::string_view body) {
  ExecStartBody s;
  if (trim(body).empty()) return s;
  try {
    Json j = BERTH_TRY(parse_body(body, "exec start body"));
    if (j.is_null()) return s;
    if (!j.is_object())
      return make_error(Errc::InvalidArgument,
                        "invalid JSON: json: cannot unmarshal {} into Go value of type "
                        "container.ExecStartOptions",
                        json_kind(j));
    const std::string p = "ExecStartOptions";
    BERTH_TRY(get_bool(j, "Detach", p, s.detach));
    BERTH_TRY(get_bool(j, "Tty", p, s.tty));
    if (const Json* cs = field(j, "ConsoleSize")) {
      if (!cs->is_array() || cs->size() != 2) return type_error(p + ".ConsoleSize", *cs, "[2]uint");
      for (const auto& x : *cs)
        s.console_size.push_back(BERTH_TRY(as_int<uint32_t>(x, p + ".ConsoleSize", "uint")));
    }
    return s;
  } catch (const std::exception& ex) {
    return make_error(Errc::InvalidArgument, "invalid JSON: {}", ex.what());
  }
}

}  // namespace berth::api
