#include "cli/doctor.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "base/file.h"
#include "base/strings.h"

namespace berth::cli {

namespace {

namespace fs = std::filesystem;

std::string read_or_empty(const std::string& path) {
  auto t = read_file(path);
  return t ? *t : std::string();
}

bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

// A kernel module file for `name` under /lib/modules/<release> (any
// compression), i.e. loadable on first use.
bool module_file(const std::string& root, const std::string& release, const std::string& rel) {
  for (const char* ext : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"})
    if (exists(root + "/lib/modules/" + release + "/kernel/" + rel + ext)) return true;
  return false;
}

bool in_path(const std::string& root, const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"})
    if (::access((root + dir + "/" + name).c_str(), X_OK) == 0) return true;
  return false;
}

Check kernel_check(const std::string& release) {
  Check c{"kernel", CheckStatus::Ok, "", "", true};
  auto [major, minor] = kernel_version(release);
  if (major == 0) {
    c.status = CheckStatus::Missing;
    c.detail = "cannot read the kernel version (/proc/sys/kernel/osrelease)";
    c.fix = "run berth doctor on the host where berthd runs, with /proc mounted";
  } else if (major < 5 || (major == 5 && minor < 6)) {
    c.status = CheckStatus::Missing;
    c.detail = fmt::format("Linux {} is too old", release);
    c.fix = "berth needs Linux 5.6 or newer (openat2, clone3, pidfd); upgrade the kernel";
  } else {
    c.detail = fmt::format("Linux {} (5.6 or newer needed)", release);
  }
  return c;
}

Check overlay_check(const std::string& root, const std::string& release) {
  Check c{"overlayfs", CheckStatus::Ok, "", "", false};
  std::string fss = read_or_empty(root + "/proc/filesystems");
  bool loaded = false;
  // Lines are "nodev\toverlay" or "\text4": the name is the last field.
  for (const auto& line : split(fss, '\n', true)) {
    auto t = trim(line);
    auto tab = t.find_last_of("\t ");
    loaded = loaded || (tab == std::string_view::npos ? t : t.substr(tab + 1)) == "overlay";
  }
  if (loaded) {
    c.detail = "overlay filesystem available";
  } else if (module_file(root, release, "fs/overlayfs/overlay")) {
    c.detail = "overlay module present (loaded on first use)";
  } else {
    c.status = CheckStatus::Warn;
    c.detail = "no overlay filesystem";
    c.fix =
        "modprobe overlay (or install the kernel's modules); without it berthd uses the "
        "slower copy storage driver";
  }
  return c;
}

Check cgroup_check(const std::string& root) {
  Check c{"cgroups", CheckStatus::Ok, "", "", true};
  std::string mi = read_or_empty(root + "/proc/self/mountinfo");
  bool v2_at_root = false;
  std::set<std::string> v1;
  for (const auto& line : split(mi, '\n', true)) {
    // "... mountpoint opts ... - fstype source superopts"
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto left = split(line.substr(0, dash), ' ', true);
    auto right = split(line.substr(dash + 3), ' ', true);
    if (left.size() < 5 || right.size() < 3) continue;
    if (right[0] == "cgroup2" && left[4] == "/sys/fs/cgroup") v2_at_root = true;
    if (right[0] == "cgroup")
      for (const auto& o : split(right[2], ',', true))
        if (o != "rw" && o != "ro" && !starts_with(o, "name=") && !starts_with(o, "release_agent"))
          v1.insert(o);
  }
  std::set<std::string> have;
  std::string version;
  if (v2_at_root || v1.empty()) {
    version = "v2";
    for (const auto& w :
         split(read_or_empty(root + "/sys/fs/cgroup/cgroup.controllers"), ' ', true))
      have.insert(std::string(trim(w)));
    if (!v2_at_root) {
      c.status = CheckStatus::Missing;
      c.detail = "no cgroup filesystem is mounted";
      c.fix = "mount cgroup2 at /sys/fs/cgroup (mount -t cgroup2 none /sys/fs/cgroup)";
      return c;
    }
  } else {
    version = "v1";
    have = v1;
  }
  std::vector<std::string> missing;
  for (const char* want : {"cpu", "memory", "pids"})
    if (!have.count(want)) missing.push_back(want);
  std::vector<std::string> list(have.begin(), have.end());
  c.detail = fmt::format("cgroup {} with controllers: {}", version,
                         list.empty() ? std::string("none") : join(list, " "));
  if (!missing.empty()) {
    c.status = CheckStatus::Warn;
    c.fix = fmt::format(
        "controllers {} are not available: --memory, --cpus or --pids-limit "
        "will not work; enable them in the kernel command line or cgroup tree",
        join(missing, ", "));
  }
  return c;
}

Check nftables_check(const std::string& root, const std::string& release) {
  Check c{"nftables", CheckStatus::Ok, "", "", false};
  bool kernel = exists(root + "/sys/module/nf_tables") ||
                module_file(root, release, "net/netfilter/nf_tables");
  bool tool = in_path(root, "nft");
  if (kernel) {
    c.detail = tool ? "nf_tables available (nft installed)" : "nf_tables available";
  } else if (!exists(root + "/proc/modules") && !exists(root + "/lib/modules/" + release)) {
    // A kernel without loadable modules lists its built-in parts nowhere
    // readable: nf_tables may well be there (berthd fails at startup if not).
    c.status = CheckStatus::Unknown;
    c.detail = "kernel without loadable modules: nf_tables cannot be checked from here";
  } else {
    c.status = CheckStatus::Warn;
    c.detail = "the kernel's nf_tables is neither loaded nor installed as a module";
    c.fix =
        "modprobe nf_tables; without it bridge networks and published ports (-p) fail "
        "(--network host and none still work)";
  }
  return c;
}

Check seccomp_check(const std::string& root) {
  Check c{"seccomp", CheckStatus::Ok, "", "", true};
  std::string status = read_or_empty(root + "/proc/self/status");
  if (status.find("\nSeccomp:") != std::string::npos || starts_with(status, "Seccomp:")) {
    c.detail = "seccomp filters supported";
  } else {
    c.status = CheckStatus::Missing;
    c.detail = "the kernel has no seccomp support (CONFIG_SECCOMP_FILTER)";
    c.fix =
        "use a kernel built with CONFIG_SECCOMP_FILTER: containers get docker's default "
        "seccomp profile";
  }
  return c;
}

Check userns_check(const std::string& root) {
  Check c{"user namespaces", CheckStatus::Ok, "", "", false};
  std::string max = std::string(trim(read_or_empty(root + "/proc/sys/user/max_user_namespaces")));
  auto n = parse_int(max);
  if (n && *n > 0) {
    c.detail = fmt::format("enabled (max {})", *n);
  } else {
    c.status = CheckStatus::Warn;
    c.detail = max.empty() ? "not supported by this kernel" : "disabled (max_user_namespaces=0)";
    c.fix =
        "sysctl user.max_user_namespaces=15000 for containers with user namespaces "
        "(berth-runtime's userns configs); ordinary containers do not need them";
  }
  return c;
}

}  // namespace

std::pair<int, int> kernel_version(const std::string& release) {
  auto parts = split(trim(release), '.');
  if (parts.size() < 2) return {0, 0};
  auto major = parse_int(parts[0]);
  // "10-23-amd64" -> 10
  std::string minor_s = parts[1].substr(0, parts[1].find_first_not_of("0123456789"));
  auto minor = parse_int(minor_s);
  if (!major || !minor || *major <= 0) return {0, 0};
  return {static_cast<int>(*major), static_cast<int>(*minor)};
}

std::vector<Check> host_checks(const std::string& root) {
  std::string release(trim(read_or_empty(root + "/proc/sys/kernel/osrelease")));
  return {kernel_check(release), overlay_check(root, release),  cgroup_check(root),
          seccomp_check(root),   nftables_check(root, release), userns_check(root)};
}

std::string format_check(const Check& c) {
  const char* word = c.status == CheckStatus::Ok        ? "OK"
                     : c.status == CheckStatus::Warn    ? "WARNING"
                     : c.status == CheckStatus::Unknown ? "UNKNOWN"
                                                        : "MISSING";
  std::string out = fmt::format("  {:<8} {}: {}\n", word, c.name, c.detail);
  if (!c.fix.empty()) out += fmt::format("           -> {}\n", c.fix);
  return out;
}

bool all_essential_ok(const std::vector<Check>& checks) {
  for (const auto& c : checks)
    if (c.essential && c.status == CheckStatus::Missing) return false;
  return true;
}

}  // namespace berth::cli
