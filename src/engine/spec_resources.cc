// spec_resources: linux.resources, devices, rlimits and sysctls with
// docker's validation and messages.
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>
#include <set>

#include "base/errno_text.h"
#include "base/file.h"
#include "base/strings.h"
#include "engine/spec_builder_internal.h"

namespace berth::engine::spec_internal {
namespace {

constexpr int64_t kMinMemory = 6 * 1024 * 1024;

// A kernel id list ("0-3,8") as ids; nullopt when malformed.
std::optional<std::set<long long>> parse_id_list(const std::string& list) {
  std::set<long long> ids;
  for (const std::string& part : split(list, ',')) {
    auto range = split(part, '-');
    if (range.empty() || range.size() > 2) return std::nullopt;
    std::vector<long long> ends;
    for (auto& r : range) {
      auto v = parse_int(r);
      if (!v || *v < 0) return std::nullopt;
      ends.push_back(*v);
    }
    if (ends.back() < ends.front() || ends.back() - ends.front() > 65536) return std::nullopt;
    for (long long i = ends.front(); i <= ends.back(); ++i) ids.insert(i);
  }
  return ids;
}

// The ids the kernel has online, from sysfs (docker reads its cgroup's
// cpuset, which is the same on a host that does not restrict berthd).
std::string online_ids(const char* path) {
  auto text = read_file(path);
  return text ? std::string(trim(*text)) : "";
}

Result<oci::Device> device_node(const std::string& host_path, const std::string& ctr_path) {
  struct stat st;
  if (::stat(host_path.c_str(), &st) != 0) {
    int e = errno;
    return Error{errc_from_errno(e), e,
                 fmt::format("error gathering device information while adding custom device "
                             "\"{}\": {}",
                             host_path, go_errno_text(e))};
  }
  oci::Device d;
  if (S_ISCHR(st.st_mode)) {
    d.type = "c";
  } else if (S_ISBLK(st.st_mode)) {
    d.type = "b";
  } else {
    return make_error(Errc::InvalidArgument,
                      "error gathering device information while adding custom device \"{}\": "
                      "not a device node",
                      host_path);
  }
  d.path = ctr_path;
  d.major = major(st.st_rdev);
  d.minor = minor(st.st_rdev);
  d.file_mode = st.st_mode & 07777;
  d.uid = st.st_uid;
  d.gid = st.st_gid;
  return d;
}

// Device nodes under `dir` (recursively), skipping what runc skips.
void walk_devices(const std::string& dir, const std::string& host_root,
                  std::vector<oci::Device>& out, int depth) {
  if (depth > 8) return;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth == 0 && (name == "pts" || name == "shm" || name == "fd" || name == "mqueue" ||
                         name == ".lxc" || name == ".lxd-mounts" || name == ".udev")) {
        continue;
      }
      walk_devices(path, host_root, out, depth + 1);
      continue;
    }
    if (depth == 0 && name == "console") continue;
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) continue;
    auto dev = device_node(path, "/dev" + path.substr(host_root.size()));
    if (dev) out.push_back(*dev);
  }
  ::closedir(d);
}

oci::DeviceCgroupRule rule_for(const oci::Device& d, const std::string& perms) {
  return oci::device_rule(true, d.type, d.major, d.minor, perms);
}

}  // namespace

Result<void> check_cpuset(const std::string& value, std::string_view what,
                          const std::string& available) {
  if (value.empty()) return ok();
  auto want = parse_id_list(value);
  if (!want)
    return make_error(Errc::InvalidArgument, "Invalid value {} for cpuset {}", value, what);
  if (available.empty()) return ok();
  auto have = parse_id_list(available);
  if (!have) return ok();  // an unreadable host list checks nothing
  for (long long id : *want) {
    if (!have->count(id)) {
      return make_error(Errc::InvalidArgument,
                        "Requested {} are not available - requested {}, available: {}",
                        what == "cpus" ? "CPUs" : "memory nodes", value, available);
    }
  }
  return ok();
}

Result<oci::DeviceCgroupRule> parse_device_cgroup_rule(const std::string& rule) {
  auto bad = [&] {
    return make_error(Errc::InvalidArgument, "invalid device cgroup rule format: '{}'", rule);
  };
  auto f = split(rule, ' ', true);
  if (f.size() != 3 || f[0].size() != 1 || std::string("acb").find(f[0]) == std::string::npos) {
    return bad();
  }
  auto mm = split(f[1], ':');
  if (mm.size() != 2) return bad();
  std::optional<int64_t> major, minor;
  if (mm[0] != "*") {
    auto v = parse_int(mm[0]);
    if (!v || *v < 0) return bad();
    major = *v;
  }
  if (mm[1] != "*") {
    auto v = parse_int(mm[1]);
    if (!v || *v < 0) return bad();
    minor = *v;
  }
  const std::string& acc = f[2];
  if (acc.empty() || acc.size() > 3 || !std::all_of(acc.begin(), acc.end(), [](char c) {
        return c == 'r' || c == 'w' || c == 'm';
      })) {
    return bad();
  }
  return oci::device_rule(true, f[0] == "a" ? "a" : f[0], major, minor, acc);
}

Result<DeviceSetup> build_devices(const HostConfig& hc, const std::string& host_dev_dir) {
  DeviceSetup s;
  if (hc.privileged) {
    walk_devices(host_dev_dir, host_dev_dir, s.devices, 0);
    s.rules.push_back(oci::device_rule(true, "a", std::nullopt, std::nullopt, "rwm"));
    return s;
  }
  // docker's default allow list: deny everything, allow mknod of any node
  // and the usual pseudo devices (the runtime creates null, zero, full,
  // random, urandom, tty, ptmx itself).
  s.rules.push_back(oci::device_rule(false, "a", std::nullopt, std::nullopt, "rwm"));
  s.rules.push_back(oci::device_rule(true, "c", std::nullopt, std::nullopt, "m"));
  s.rules.push_back(oci::device_rule(true, "b", std::nullopt, std::nullopt, "m"));
  s.rules.push_back(oci::device_rule(true, "c", 1, 3, "rwm"));               // null
  s.rules.push_back(oci::device_rule(true, "c", 1, 8, "rwm"));               // random
  s.rules.push_back(oci::device_rule(true, "c", 1, 7, "rwm"));               // full
  s.rules.push_back(oci::device_rule(true, "c", 5, 0, "rwm"));               // tty
  s.rules.push_back(oci::device_rule(true, "c", 1, 5, "rwm"));               // zero
  s.rules.push_back(oci::device_rule(true, "c", 1, 9, "rwm"));               // urandom
  s.rules.push_back(oci::device_rule(true, "c", 136, std::nullopt, "rwm"));  // pts
  s.rules.push_back(oci::device_rule(true, "c", 5, 2, "rwm"));               // ptmx
  s.rules.push_back(oci::device_rule(true, "c", 10, 200, "rwm"));            // tun
  for (const DeviceMapping& m : hc.resources.devices) {
    std::string perms = m.cgroup_permissions.empty() ? "rwm" : m.cgroup_permissions;
    if (perms.size() > 3 || !std::all_of(perms.begin(), perms.end(),
                                         [](char c) { return c == 'r' || c == 'w' || c == 'm'; })) {
      return make_error(Errc::InvalidArgument, "--device: invalid device mode: {}", perms);
    }
    if (m.path_on_host.empty() || m.path_on_host.front() != '/') {
      return make_error(Errc::InvalidArgument, "--device: \"{}\" is not an absolute path",
                        m.path_on_host);
    }
    std::string ctr = m.path_in_container.empty() ? m.path_on_host : m.path_in_container;
    if (ctr.front() != '/') {
      return make_error(Errc::InvalidArgument, "--device: \"{}\" is not an absolute path", ctr);
    }
    struct stat st;
    if (::stat(m.path_on_host.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      std::vector<oci::Device> found;
      walk_devices(m.path_on_host, m.path_on_host, found, 1);
      for (auto& d : found) {
        d.path = ctr + d.path.substr(4);  // walk_devices prefixed "/dev"
        s.rules.push_back(rule_for(d, perms));
        s.devices.push_back(std::move(d));
      }
      continue;
    }
    oci::Device d = BERTH_TRY(device_node(m.path_on_host, ctr));
    s.rules.push_back(rule_for(d, perms));
    s.devices.push_back(std::move(d));
  }
  for (const std::string& r : hc.resources.device_cgroup_rules) {
    s.rules.push_back(BERTH_TRY(parse_device_cgroup_rule(r)));
  }
  return s;
}

Result<oci::Resources> build_resources(const HostConfig& hc, const std::string& host_dev_dir) {
  const Resources& in = hc.resources;
  oci::Resources r;
  DeviceSetup dev = BERTH_TRY(build_devices(hc, host_dev_dir));
  r.devices = std::move(dev.rules);

  // Memory (docker's checks, in docker's order and words).
  if (in.memory < 0) return make_error(Errc::InvalidArgument, "--memory: must not be negative");
  if (in.memory > 0 && in.memory < kMinMemory) {
    return make_error(Errc::InvalidArgument, "Minimum memory limit allowed is 6MB");
  }
  if (in.memory == 0 && in.memory_swap > 0) {
    return make_error(Errc::InvalidArgument,
                      "You should always set the Memory limit when using Memoryswap limit, see "
                      "usage");
  }
  if (in.memory_swap < -1) {
    return make_error(Errc::InvalidArgument, "--memory-swap: invalid value {}", in.memory_swap);
  }
  if (in.memory > 0 && in.memory_swap > 0 && in.memory_swap < in.memory) {
    return make_error(Errc::InvalidArgument,
                      "Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  if (in.memory_reservation < 0) {
    return make_error(Errc::InvalidArgument, "--memory-reservation: must not be negative");
  }
  if (in.memory_reservation > 0 && in.memory_reservation < kMinMemory) {
    return make_error(Errc::InvalidArgument, "Minimum memory reservation allowed is 6MB");
  }
  if (in.memory > 0 && in.memory_reservation > 0 && in.memory < in.memory_reservation) {
    return make_error(Errc::InvalidArgument,
                      "Minimum memory limit can not be less than memory reservation limit, see "
                      "usage");
  }
  if (in.memory_swappiness && (*in.memory_swappiness < 0 || *in.memory_swappiness > 100)) {
    if (*in.memory_swappiness != -1) {
      return make_error(Errc::InvalidArgument,
                        "Invalid value: {}, valid memory swappiness range is 0-100",
                        *in.memory_swappiness);
    }
  }
  oci::MemoryResources mem;
  bool any_mem = false;
  if (in.memory > 0) {
    mem.limit = in.memory;
    // OCI's swap is memory+swap; docker's default allows as much swap as memory.
    mem.swap = in.memory_swap == 0 ? in.memory * 2 : in.memory_swap;
    any_mem = true;
  } else if (in.memory_swap == -1) {
    mem.swap = -1;
    any_mem = true;
  }
  if (in.memory_reservation > 0) {
    mem.reservation = in.memory_reservation;
    any_mem = true;
  }
  if (in.memory_swappiness && *in.memory_swappiness >= 0) {
    mem.swappiness = static_cast<uint64_t>(*in.memory_swappiness);
    any_mem = true;
  }
  if (in.oom_kill_disable) {
    mem.disable_oom_killer = *in.oom_kill_disable;
    any_mem = true;
  }
  if (any_mem) r.memory = mem;

  // CPU.
  long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu < 1) ncpu = 1;
  if (in.nano_cpus != 0 && in.cpu_period != 0) {
    return make_error(Errc::InvalidArgument,
                      "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  }
  if (in.nano_cpus != 0 && in.cpu_quota != 0) {
    return make_error(Errc::InvalidArgument,
                      "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  }
  if (in.nano_cpus < 0 || (in.nano_cpus > 0 && in.nano_cpus < 10'000'000) ||
      in.nano_cpus > ncpu * 1'000'000'000LL) {
    return make_error(Errc::InvalidArgument,
                      "Range of CPUs is from 0.01 to {}.00, as there are only {} CPUs available",
                      ncpu, ncpu);
  }
  if (in.cpu_period != 0 && (in.cpu_period < 1000 || in.cpu_period > 1000000)) {
    return make_error(Errc::InvalidArgument,
                      "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
                      "(i.e. 1000000)");
  }
  if (in.cpu_quota > 0 && in.cpu_quota < 1000) {
    return make_error(Errc::InvalidArgument, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  }
  if (in.cpu_shares < 0) {
    return make_error(Errc::InvalidArgument, "--cpu-shares: must not be negative");
  }
  if (in.cpu_realtime_period < 0 || in.cpu_realtime_runtime < 0) {
    return make_error(Errc::InvalidArgument,
                      "--cpu-rt-period/--cpu-rt-runtime: must not be negative");
  }
  if (in.cpu_realtime_period > 0 && in.cpu_realtime_runtime > in.cpu_realtime_period) {
    return make_error(Errc::InvalidArgument, "cpu-rt-runtime cannot be higher than cpu-rt-period");
  }
  if (!in.cpuset_cpus.empty())
    BERTH_TRY(check_cpuset(in.cpuset_cpus, "cpus", online_ids("/sys/devices/system/cpu/online")));
  if (!in.cpuset_mems.empty())
    BERTH_TRY(check_cpuset(in.cpuset_mems, "mems", online_ids("/sys/devices/system/node/online")));
  oci::CpuResources cpu;
  bool any_cpu = false;
  if (in.nano_cpus > 0) {
    cpu.period = 100000;
    cpu.quota = in.nano_cpus * 100000 / 1'000'000'000LL;
    any_cpu = true;
  }
  if (in.cpu_period > 0) {
    cpu.period = static_cast<uint64_t>(in.cpu_period);
    any_cpu = true;
  }
  if (in.cpu_quota != 0) {
    cpu.quota = in.cpu_quota;
    any_cpu = true;
  }
  if (in.cpu_shares > 0) {
    // The kernel's v1 range; docker clamps the same way (with a warning).
    cpu.shares = static_cast<uint64_t>(std::clamp<int64_t>(in.cpu_shares, 2, 262144));
    any_cpu = true;
  }
  if (in.cpu_realtime_period > 0) {
    cpu.realtime_period = static_cast<uint64_t>(in.cpu_realtime_period);
    any_cpu = true;
  }
  if (in.cpu_realtime_runtime > 0) {
    cpu.realtime_runtime = in.cpu_realtime_runtime;
    any_cpu = true;
  }
  if (!in.cpuset_cpus.empty() || !in.cpuset_mems.empty()) {
    cpu.cpus = in.cpuset_cpus;
    cpu.mems = in.cpuset_mems;
    any_cpu = true;
  }
  if (any_cpu) r.cpu = cpu;

  if (in.pids_limit && *in.pids_limit != 0) {
    r.pids = oci::PidsResources{*in.pids_limit > 0 ? *in.pids_limit : -1};
  }
  r.block_io = BERTH_TRY(build_block_io(in));
  return r;
}

Result<std::vector<oci::Rlimit>> build_rlimits(const std::vector<Ulimit>& ulimits,
                                               uint64_t host_nofile_hard) {
  static const char* const kNames[] = {
      "as",   "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
      "nice", "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  std::vector<oci::Rlimit> out;
  bool nofile = false;
  auto value = [](int64_t v) -> uint64_t {
    return v < 0 ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(v);
  };
  for (const Ulimit& u : ulimits) {
    std::string name = u.name;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (starts_with(name, "rlimit_")) name = name.substr(7);
    if (std::find(std::begin(kNames), std::end(kNames), name) == std::end(kNames)) {
      return make_error(Errc::InvalidArgument, "--ulimit: invalid ulimit type: {}", u.name);
    }
    if (value(u.soft) > value(u.hard)) {
      return make_error(Errc::InvalidArgument,
                        "--ulimit: ulimit soft limit must be less than or equal to hard limit: "
                        "{} > {}",
                        u.soft, u.hard);
    }
    std::string type = "RLIMIT_" + name;
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    auto it =
        std::find_if(out.begin(), out.end(), [&](const oci::Rlimit& r) { return r.type == type; });
    oci::Rlimit rl{type, value(u.hard), value(u.soft)};
    if (it != out.end()) {
      *it = rl;  // a later --ulimit of the same name wins
    } else {
      out.push_back(rl);
    }
    if (name == "nofile") nofile = true;
  }
  if (!nofile) {
    uint64_t host = host_nofile_hard;
    if (host == 0) {
      struct rlimit rl;
      host = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_max : kDefaultNofileHard;
    }
    uint64_t hard = std::min<uint64_t>(kDefaultNofileHard, host);
    uint64_t soft = std::min<uint64_t>(kDefaultNofileSoft, hard);
    out.push_back(oci::Rlimit{"RLIMIT_NOFILE", hard, soft});
  }
  return out;
}

Result<void> validate_sysctls(const std::map<std::string, std::string>& sysctls, bool private_net,
                              bool private_ipc, bool private_uts) {
  static const char* const kIpc[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                     "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                     "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (const auto& [key, value] : sysctls) {
    (void)value;
    bool ipc = std::find(std::begin(kIpc), std::end(kIpc), key) != std::end(kIpc) ||
               starts_with(key, "fs.mqueue.");
    if (ipc) {
      if (!private_ipc) {
        return make_error(Errc::InvalidArgument,
                          "--sysctl: sysctl \"{}\" is not allowed in the host's IPC namespace",
                          key);
      }
      continue;
    }
    if (starts_with(key, "net.")) {
      if (!private_net) {
        return make_error(Errc::InvalidArgument,
                          "--sysctl: sysctl \"{}\" is not allowed in the host's network namespace",
                          key);
      }
      continue;
    }
    if (key == "kernel.domainname") {
      if (!private_uts) {
        return make_error(Errc::InvalidArgument,
                          "--sysctl: sysctl \"{}\" is not allowed in the host's UTS namespace",
                          key);
      }
      continue;
    }
    return make_error(Errc::InvalidArgument,
                      "--sysctl: sysctl \"{}\" is not in a separate kernel namespace", key);
  }
  return ok();
}

}  // namespace berth::engine::spec_internal
