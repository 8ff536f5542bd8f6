// spec_mounts: docker's default mounts, the hosts-file binds, --tmpfs,
// volumes/binds and --init; docker's masked and read-only paths.
#include <algorithm>

#include "base/strings.h"
#include "engine/spec_builder_internal.h"

namespace berth::engine::spec_internal {
namespace {

oci::Mount mount(std::string dest, std::string type, std::string source,
                 std::vector<std::string> options) {
  oci::Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

std::string clean_path(const std::string& p) {
  std::vector<std::string> out;
  for (auto& c : split(p, '/', true)) {
    if (c == ".") continue;
    if (c == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(c);
  }
  return "/" + join(out, "/");
}

bool under(const std::string& path, const std::string& dir) {
  return path == dir || (dir == "/" ? true : starts_with(path, dir + "/"));
}

size_t depth(const std::string& p) { return split(p, '/', true).size(); }

}  // namespace

const std::vector<std::string>& default_masked_paths() {
  static const std::vector<std::string> p = {
      "/proc/asound",     "/proc/acpi",        "/proc/interrupts",
      "/proc/kcore",      "/proc/keys",        "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
      "/proc/scsi",       "/sys/firmware",     "/sys/devices/virtual/powercap"};
  return p;
}

const std::vector<std::string>& default_readonly_paths() {
  static const std::vector<std::string> p = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                             "/proc/sysrq-trigger"};
  return p;
}

Result<std::vector<std::string>> tmpfs_options(const std::string& path, const std::string& opts) {
  std::vector<std::string> out = {"noexec", "nosuid", "nodev"};
  // Options that cancel a default.
  static const std::pair<const char*, const char*> kOpposite[] = {
      {"exec", "noexec"}, {"suid", "nosuid"}, {"dev", "nodev"},
      {"noexec", "exec"}, {"nosuid", "suid"}, {"nodev", "dev"}};
  for (const std::string& raw : split(opts, ',', true)) {
    std::string o(trim(raw));
    if (o.empty()) continue;
    std::string key = o.substr(0, o.find('='));
    static const char* const kKnown[] = {
        "rw",          "ro",         "exec",        "noexec",        "suid",     "nosuid",
        "dev",         "nodev",      "atime",       "noatime",       "diratime", "nodiratime",
        "relatime",    "norelatime", "strictatime", "nostrictatime", "sync",     "async",
        "dirsync",     "mand",       "nomand",      "size",          "mode",     "uid",
        "gid",         "nr_inodes",  "nr_blocks",   "mpol",          "huge",     "tmpcopyup",
        "notmpcopyup", "private",    "rprivate",    "shared",        "rshared",  "slave",
        "rslave",      "unbindable", "runbindable"};
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return make_error(Errc::InvalidArgument, "--tmpfs {}: unknown mount option \"{}\"", path, o);
    }
    for (auto& [a, b] : kOpposite) {
      if (o == a) out.erase(std::remove(out.begin(), out.end(), b), out.end());
    }
    // A repeated key=value replaces the earlier one.
    if (o.find('=') != std::string::npos) {
      out.erase(
          std::remove_if(out.begin(), out.end(),
                         [&](const std::string& x) { return x.substr(0, x.find('=')) == key; }),
          out.end());
    }
    if (std::find(out.begin(), out.end(), o) == out.end()) out.push_back(o);
  }
  return out;
}

Result<std::vector<oci::Mount>> build_mounts(const MountContext& c) {
  std::vector<oci::Mount> defaults;
  defaults.push_back(mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
  defaults.push_back(
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  defaults.push_back(
      mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  defaults.push_back(mount("/sys", "sysfs", "sysfs",
                           c.privileged
                               ? std::vector<std::string>{"nosuid", "noexec", "nodev", "rw"}
                               : std::vector<std::string>{"nosuid", "noexec", "nodev", "ro"}));
  bool cg_rw = c.privileged || c.writable_cgroups;
  defaults.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup",
                           {"nosuid", "noexec", "nodev", "relatime", cg_rw ? "rw" : "ro"}));
  defaults.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));

  if (c.shm_size < 0) return make_error(Errc::InvalidArgument, "SHM size can not be less than 0");
  if (c.ipc_mode == "host") {
    defaults.push_back(
        mount("/dev/shm", "bind", "/dev/shm", {"rbind", "nosuid", "noexec", "nodev"}));
  } else if (!c.shm_path.empty()) {
    defaults.push_back(
        mount("/dev/shm", "bind", c.shm_path, {"bind", "nosuid", "noexec", "nodev"}));
  } else if (c.ipc_mode != "none") {
    int64_t shm = c.shm_size > 0 ? c.shm_size : kDefaultShmSize;
    defaults.push_back(
        mount("/dev/shm", "tmpfs", "shm",
              {"nosuid", "noexec", "nodev", "mode=1777", fmt::format("size={}", shm)}));
  }

  std::vector<oci::Mount> user;
  std::vector<std::string> user_dests;
  for (const auto& [raw_path, opts] : c.tmpfs) {
    if (raw_path.empty() || raw_path.front() != '/') {
      return make_error(Errc::InvalidArgument,
                        "--tmpfs: invalid mount path \"{}\": must be absolute", raw_path);
    }
    std::string path = clean_path(raw_path);
    if (path == "/") {
      return make_error(Errc::InvalidArgument, "--tmpfs: invalid mount path \"/\"");
    }
    if (std::find(user_dests.begin(), user_dests.end(), path) != user_dests.end()) {
      return make_error(Errc::InvalidArgument, "Duplicate mount point: {}", path);
    }
    user.push_back(mount(path, "tmpfs", "tmpfs", BERTH_TRY(tmpfs_options(path, opts))));
    user_dests.push_back(path);
  }
  for (const auto& v : c.volumes) {
    std::string path = clean_path(v.destination);
    if (std::find(user_dests.begin(), user_dests.end(), path) != user_dests.end()) {
      return make_error(Errc::InvalidArgument, "Duplicate mount point: {}", path);
    }
    user.push_back(v);
    user.back().destination = path;
    user_dests.push_back(path);
  }
  std::string ro_suffix = c.readonly_rootfs ? "ro" : "rw";
  auto add_bind = [&](const std::string& src, const char* dest) {
    if (src.empty()) return;
    if (std::find(user_dests.begin(), user_dests.end(), dest) != user_dests.end()) return;
    user.push_back(mount(dest, "bind", src, {"rbind", "rprivate", ro_suffix}));
    user_dests.push_back(dest);
  };
  add_bind(c.resolv_conf_path, "/etc/resolv.conf");
  add_bind(c.hostname_path, "/etc/hostname");
  add_bind(c.hosts_path, "/etc/hosts");
  if (!c.init_path.empty()) {
    user.push_back(mount(kInitPathInContainer, "bind", c.init_path, {"bind", "ro"}));
    user_dests.push_back(kInitPathInContainer);
  }

  // A user mount at or above a default's destination replaces it (docker
  // drops /dev/shm for --tmpfs /dev/shm, all of /dev's for --tmpfs /dev).
  std::vector<oci::Mount> out;
  for (auto& m : defaults) {
    bool shadowed = std::any_of(user_dests.begin(), user_dests.end(),
                                [&](const std::string& d) { return under(m.destination, d); });
    if (!shadowed) out.push_back(std::move(m));
  }
  // Parents before children, as docker sorts its mounts.
  std::stable_sort(user.begin(), user.end(), [](const oci::Mount& a, const oci::Mount& b) {
    return depth(a.destination) < depth(b.destination);
  });
  for (auto& m : user) out.push_back(std::move(m));
  return out;
}

}  // namespace berth::engine::spec_internal
