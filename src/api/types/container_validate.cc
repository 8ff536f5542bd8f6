// dockerd's checks of a container's Config and HostConfig at create/update
// time (daemon/container.go verifyContainerSettings and the Linux resource
// checks), with docker's messages.
#include <algorithm>
#include <cctype>
#include <set>

#include "api/types/container_config.h"
#include "base/ascii.h"
#include "base/strings.h"

namespace berth::api {
namespace {

constexpr int64_t kMinMemory = 6 * 1024 * 1024;  // docker's linuxMinMemory
constexpr int64_t kMinDurationNs = 1000000;      // docker's MinimumDuration (1ms)

Error bad(std::string msg) { return Error{Errc::InvalidArgument, 0, std::move(msg)}; }

bool digits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit((unsigned char)c); });
}

bool port_number(std::string_view s) {
  if (!digits(s) || s.size() > 5) return false;
  return std::stoi(std::string(s)) <= 65535;
}

// nat.ParsePortRange: "80" or "8000-8010" (start <= end); "" = any.
bool port_range(std::string_view s) {
  if (s.empty()) return true;
  auto dash = s.find('-');
  if (dash == std::string_view::npos) return port_number(s);
  auto a = s.substr(0, dash), b = s.substr(dash + 1);
  if (!port_number(a) || !port_number(b)) return false;
  return std::stoi(std::string(a)) <= std::stoi(std::string(b));
}

std::string_view port_part(std::string_view spec) {  // nat.SplitProtoPort
  auto slash = spec.find('/');
  return slash == std::string_view::npos ? spec : spec.substr(0, slash);
}

const std::set<std::string>& known_caps() {
  static const std::set<std::string> caps = {"CHOWN",
                                             "DAC_OVERRIDE",
                                             "DAC_READ_SEARCH",
                                             "FOWNER",
                                             "FSETID",
                                             "KILL",
                                             "SETGID",
                                             "SETUID",
                                             "SETPCAP",
                                             "LINUX_IMMUTABLE",
                                             "NET_BIND_SERVICE",
                                             "NET_BROADCAST",
                                             "NET_ADMIN",
                                             "NET_RAW",
                                             "IPC_LOCK",
                                             "IPC_OWNER",
                                             "SYS_MODULE",
                                             "SYS_RAWIO",
                                             "SYS_CHROOT",
                                             "SYS_PTRACE",
                                             "SYS_PACCT",
                                             "SYS_ADMIN",
                                             "SYS_BOOT",
                                             "SYS_NICE",
                                             "SYS_RESOURCE",
                                             "SYS_TIME",
                                             "SYS_TTY_CONFIG",
                                             "MKNOD",
                                             "LEASE",
                                             "AUDIT_WRITE",
                                             "AUDIT_CONTROL",
                                             "SETFCAP",
                                             "MAC_OVERRIDE",
                                             "MAC_ADMIN",
                                             "SYSLOG",
                                             "WAKE_ALARM",
                                             "BLOCK_SUSPEND",
                                             "AUDIT_READ",
                                             "PERFMON",
                                             "BPF",
                                             "CHECKPOINT_RESTORE"};
  return caps;
}

Result<void> validate_caps(const std::vector<std::string>& caps, std::string_view field) {
  for (const auto& c : caps) {
    std::string u = c;
    std::transform(u.begin(), u.end(), u.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    if (u == "ALL") continue;
    std::string name = starts_with(u, "CAP_") ? u.substr(4) : u;
    if (!known_caps().count(name))
      return bad(fmt::format("invalid {}: unknown capability: \"CAP_{}\"", field, name));
  }
  return ok();
}

const std::set<std::string>& known_ulimits() {
  static const std::set<std::string> names = {
      "as",   "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
      "nice", "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  return names;
}

Result<void> validate_log_config(const LogConfig& lc) {
  const bool local = lc.type == "local";
  if (lc.type.empty() || lc.type == "json-file" || local) {
    static const std::set<std::string> json_opts = {
        "max-size", "max-file",  "compress", "labels", "labels-regex",
        "env",      "env-regex", "tag",      "mode",   "max-buffer-size"};
    static const std::set<std::string> local_opts = {"max-size", "max-file", "compress", "mode",
                                                     "max-buffer-size"};
    for (const auto& [k, v] : lc.config) {
      if (!(local ? local_opts : json_opts).count(k))
        return bad(fmt::format("unknown log opt '{}' for {} log driver", k,
                               local ? "local" : "json-file"));
      if (k == "max-file") {
        auto n = parse_int(v);
        if (!n) return bad(fmt::format("invalid value for max-file: {}", v));
        if (*n < 1) return bad("max-file cannot be less than 1");
      }
      // Go's strconv.ParseBool, as docker reads it.
      static const std::set<std::string> bools = {"1", "t", "T", "TRUE",  "true",  "True",
                                                  "0", "f", "F", "FALSE", "false", "False"};
      if (k == "compress" && !bools.count(v))
        return bad(fmt::format("strconv.ParseBool: parsing \"{}\": invalid syntax", v));
    }
    return ok();
  }
  if (lc.type == "none") {
    if (!lc.config.empty())
      return bad(fmt::format("unknown log opt '{}' for none log driver", lc.config.begin()->first));
    return ok();
  }
  return bad(fmt::format("logger: no log driver named '{}' is registered", lc.type));
}

}  // namespace

Result<void> validate_container_name(std::string_view name) {
  std::string_view n = name;
  if (!n.empty() && n[0] == '/') n.remove_prefix(1);
  auto valid = [](char c, bool first) {
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
    return !first && (c == '_' || c == '.' || c == '-');
  };
  bool okay = n.size() >= 2 && valid(n[0], true);
  for (size_t i = 1; okay && i < n.size(); ++i) okay = valid(n[i], false);
  if (!okay)
    return bad(fmt::format(
        "Invalid container name ({}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name));
  return ok();
}

Result<void> validate_restart_policy(const RestartPolicy& p) {
  if (p.name.empty() || p.name == "no" || p.name == "always" || p.name == "unless-stopped") {
    if (p.maximum_retry_count != 0)
      return bad("invalid restart policy: maximum retry count can only be used with 'on-failure'");
    return ok();
  }
  if (p.name == "on-failure") {
    if (p.maximum_retry_count < 0)
      return bad("invalid restart policy: maximum retry count cannot be negative");
    return ok();
  }
  return bad(fmt::format(
      "invalid restart policy: unknown policy '{}'; use one of 'no', 'always', 'on-failure', or "
      "'unless-stopped'",
      p.name));
}

Result<void> validate_config(const ContainerConfig& c) {
  if (!c.working_dir.empty() && c.working_dir[0] != '/')
    return bad(fmt::format("the working directory '{}' is invalid, it needs to be an absolute path",
                           c.working_dir));
  for (const auto& e : c.env)
    if (e.empty() || e[0] == '=') return bad(fmt::format("invalid environment variable: {}", e));
  if (c.healthcheck) {
    const auto& h = *c.healthcheck;
    if (h.interval_ns != 0 && h.interval_ns < kMinDurationNs)
      return bad("Interval in Healthcheck cannot be less than 1ms");
    if (h.timeout_ns != 0 && h.timeout_ns < kMinDurationNs)
      return bad("Timeout in Healthcheck cannot be less than 1ms");
    if (h.retries < 0) return bad("Retries in Healthcheck cannot be negative");
    if (h.start_period_ns != 0 && h.start_period_ns < kMinDurationNs)
      return bad("StartPeriod in Healthcheck cannot be less than 1ms");
    if (h.start_interval_ns != 0 && h.start_interval_ns < kMinDurationNs)
      return bad("StartInterval in Healthcheck cannot be less than 1ms");
    if (!h.test.empty()) {
      const auto& t = h.test[0];
      if (t != "NONE" && t != "CMD" && t != "CMD-SHELL")
        return bad(fmt::format(
            "invalid Healthcheck.Test: the first element must be NONE, CMD or CMD-SHELL, got "
            "\"{}\"",
            t));
    }
    if (!h.on_failure.empty() && h.on_failure != "none" && h.on_failure != "kill" &&
        h.on_failure != "restart")
      return bad(fmt::format("invalid Healthcheck.OnFailure \"{}\": use one of none, kill, restart",
                             h.on_failure));
  }
  if (c.stop_timeout && *c.stop_timeout < -1)
    return bad(
        fmt::format("invalid StopTimeout {}: must be -1 (wait forever) or more", *c.stop_timeout));
  for (const auto& p : c.exposed_ports)
    if (!port_range(port_part(p)) || port_part(p).empty())
      return bad(fmt::format("invalid port specification: \"{}\"", port_part(p)));
  return ok();
}

Result<void> validate_resources(const Resources& r, int ncpu) {
  if (r.memory != 0 && r.memory < kMinMemory) return bad("Minimum memory limit allowed is 6MB");
  if (r.memory_swap > 0 && r.memory == 0)
    return bad("You should always set the Memory limit when using Memoryswap limit, see usage");
  if (r.memory_swap > 0 && r.memory_swap < r.memory)
    return bad("Minimum memoryswap limit should be larger than memory limit, see usage");
  if (r.memory_swap < -1)
    return bad(fmt::format("invalid MemorySwap {}: use -1 for unlimited swap", r.memory_swap));
  if (r.memory_swappiness && *r.memory_swappiness != -1 &&
      (*r.memory_swappiness < 0 || *r.memory_swappiness > 100))
    return bad(fmt::format("Invalid value: {}, valid memory swappiness range is 0-100",
                           *r.memory_swappiness));
  if (r.memory_reservation != 0 && r.memory_reservation < kMinMemory)
    return bad("Minimum memory reservation allowed is 6MB");
  if (r.memory > 0 && r.memory_reservation > 0 && r.memory < r.memory_reservation)
    return bad("Minimum memory limit can not be less than memory reservation limit, see usage");
  if (r.cpu_shares < 0)
    return bad(fmt::format("invalid CpuShares {}: the value must not be negative", r.cpu_shares));
  if (r.nano_cpus > 0 && r.cpu_period > 0)
    return bad("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (r.nano_cpus > 0 && r.cpu_quota > 0)
    return bad("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (r.nano_cpus < 0 || (ncpu > 0 && r.nano_cpus > int64_t{ncpu} * 1000000000))
    return bad(
        fmt::format("Range of CPUs is from 0.01 to {}.00, as there are only {} CPUs "
                    "available",
                    ncpu, ncpu));
  if (r.cpu_period != 0 && (r.cpu_period < 1000 || r.cpu_period > 1000000))
    return bad(
        "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  if (r.cpu_quota > 0 && r.cpu_quota < 1000)
    return bad("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if (r.cpu_realtime_period < 0 || r.cpu_realtime_runtime < 0)
    return bad("CPU real-time period and runtime can not be negative");
  if (r.cpu_realtime_period > 0 && r.cpu_realtime_runtime > r.cpu_realtime_period)
    return bad("cpu-rt-runtime cannot be higher than cpu-rt-period");
  if (r.blkio_weight > 0 && (r.blkio_weight < 10 || r.blkio_weight > 1000))
    return bad("Range of blkio weight is from 10 to 1000");
  for (const auto& d : r.blkio_weight_device) {
    if (!d.path.starts_with('/'))
      return bad(fmt::format("invalid BlkioWeightDevice path \"{}\": must be absolute", d.path));
    if (d.weight != 0 && (d.weight < 10 || d.weight > 1000))
      return bad(fmt::format("invalid weight for device: {}:{}", d.path, d.weight));
  }
  for (auto [field, list] : {std::pair{"BlkioDeviceReadBps", &r.blkio_device_read_bps},
                             {"BlkioDeviceWriteBps", &r.blkio_device_write_bps},
                             {"BlkioDeviceReadIOps", &r.blkio_device_read_iops},
                             {"BlkioDeviceWriteIOps", &r.blkio_device_write_iops}}) {
    for (const auto& d : *list)
      if (!d.path.starts_with('/'))
        return bad(fmt::format("invalid {} path \"{}\": must be absolute", field, d.path));
  }
  for (const auto& u : r.ulimits) {
    if (!known_ulimits().count(u.name)) return bad(fmt::format("invalid ulimit type: {}", u.name));
    if (u.soft > u.hard)
      return bad(fmt::format("ulimit soft limit must be less than or equal to hard limit: {} > {}",
                             u.soft, u.hard));
  }
  for (const auto& d : r.devices)
    if (d.path_on_host.empty()) return bad("invalid device mapping: PathOnHost is empty");
  for (const auto& rule : r.device_cgroup_rules) {
    // "c 1:3 rwm": type, major:minor (numbers or *), access.
    auto parts = split(rule, ' ', true);
    bool good = parts.size() == 3 && (parts[0] == "a" || parts[0] == "b" || parts[0] == "c");
    if (good) {
      auto mm = split(parts[1], ':');
      good = mm.size() == 2 && (mm[0] == "*" || digits(mm[0])) && (mm[1] == "*" || digits(mm[1]));
      good = good && !parts[2].empty() && parts[2].find_first_not_of("rwm") == std::string::npos;
    }
    if (!good) return bad(fmt::format("invalid device cgroup rule format: '{}'", rule));
  }
  return ok();
}

Result<void> validate_host_config(const HostConfig& h, int ncpu) {
  BERTH_TRY(validate_restart_policy(h.restart_policy));
  if (h.auto_remove && !h.restart_policy.name.empty() && h.restart_policy.name != "no")
    return bad("can't create 'AutoRemove' container with restart policy");
  for (const auto& [port, bindings] : h.port_bindings) {
    auto p = port_part(port);
    if (!port_range(p) || p.empty())
      return bad(fmt::format("invalid port specification: \"{}\"", p));
    for (const auto& b : bindings)
      if (!port_range(port_part(b.host_port)))
        return bad(fmt::format("invalid port specification: \"{}\"", b.host_port));
  }
  BERTH_TRY(validate_caps(h.cap_add, "CapAdd"));
  BERTH_TRY(validate_caps(h.cap_drop, "CapDrop"));
  if (h.oom_score_adj < -1000 || h.oom_score_adj > 1000)
    return bad(
        fmt::format("Invalid value {}, range for oom score adj is [-1000, 1000]", h.oom_score_adj));
  if (h.shm_size < 0) return bad("SHM size can not be less than 0");
  if (!h.isolation.empty() && !iequals(h.isolation, "default"))
    return bad(
        fmt::format("invalid isolation: \"{}\" - linux only supports 'default'", h.isolation));
  if (h.annotations.contains(""))
    return bad("invalid Annotations: the empty string is not permitted as an annotation key");
  if (!h.cgroupns_mode.empty() && h.cgroupns_mode != "host" && h.cgroupns_mode != "private")
    return bad(fmt::format("invalid cgroup namespace mode: {}", h.cgroupns_mode));
  for (const auto& [path, _] : h.tmpfs)
    if (path.empty() || path[0] != '/')
      return bad(
          fmt::format("invalid mount config: tmpfs target '{}' is not an absolute path", path));
  for (const auto& m : h.mounts) {
    if (m.type != "bind" && m.type != "volume" && m.type != "tmpfs" && m.type != "npipe" &&
        m.type != "cluster")
      return bad(fmt::format("invalid mount config for type \"{}\": mount type unknown", m.type));
    if (m.target.empty())
      return bad(fmt::format("invalid mount config for type \"{}\": field Target must not be empty",
                             m.type));
  }
  for (const auto& s : h.security_opt) {
    if (s == "no-new-privileges" || starts_with(s, "no-new-privileges:") ||
        starts_with(s, "no-new-privileges=") || starts_with(s, "seccomp=") ||
        starts_with(s, "seccomp:") || starts_with(s, "apparmor=") || starts_with(s, "apparmor:") ||
        starts_with(s, "label=") || starts_with(s, "label:") || starts_with(s, "systempaths=") ||
        starts_with(s, "writable-cgroups="))
      continue;
    return bad(fmt::format("invalid --security-opt 2: \"{}\"", s));
  }
  BERTH_TRY(validate_log_config(h.log_config));
  BERTH_TRY(validate_resources(h.resources, ncpu));
  return ok();
}

}  // namespace berth::api
