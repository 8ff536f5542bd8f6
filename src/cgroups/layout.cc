#include "cgroups/layout.h"

#include <algorithm>
#include <array>

#include "base/file.h"
#include "base/strings.h"

namespace berth::cgroups {
namespace {

// cgroup v1 subsystems a mount can carry (kernel/cgroup/cgroup.c lists them
// from include/linux/cgroup_subsys.h).
constexpr std::array<std::string_view, 14> kV1Subsystems = {
    "cpuset",  "cpu",        "cpuacct",  "blkio",   "memory", "devices", "freezer",
    "net_cls", "perf_event", "net_prio", "hugetlb", "pids",   "rdma",    "misc"};

bool is_octal(char c) { return c >= '0' && c <= '7'; }

}  // namespace

std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && is_octal(s[i + 1]) && is_octal(s[i + 2]) &&
        is_octal(s[i + 3])) {
      out.push_back(
          static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Result<std::vector<MountInfo>> parse_mountinfo(std::string_view text) {
  std::vector<MountInfo> out;
  int lineno = 0;
  for (auto& line : split(text, '\n')) {
    ++lineno;
    if (trim(line).empty()) continue;
    // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    // Optional fields (zero or more) end at the lone "-".
    auto f = split(line, ' ', /*skip_empty=*/true);
    auto sep = std::find(f.begin() + std::min<size_t>(f.size(), 6), f.end(), "-");
    if (f.size() < 10 || sep == f.end() || f.end() - sep < 4)
      return make_error(Errc::Io, "mountinfo line {}: malformed {:?}", lineno, line);
    MountInfo m;
    auto id = parse_int(f[0]);
    auto parent = parse_int(f[1]);
    if (!id || !parent)
      return make_error(Errc::Io, "mountinfo line {}: bad mount ids in {:?}", lineno, line);
    m.mount_id = static_cast<int>(*id);
    m.parent_id = static_cast<int>(*parent);
    m.root = unescape_mountinfo(f[3]);
    m.mount_point = unescape_mountinfo(f[4]);
    m.fs_type = sep[1];
    m.source = unescape_mountinfo(sep[2]);
    m.super_options = split(sep[3], ',', /*skip_empty=*/true);
    m.optional_fields.assign(f.begin() + 6, sep);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> v1_controllers(const MountInfo& m) {
  std::vector<std::string> out;
  if (m.fs_type != "cgroup") return out;
  for (auto& o : m.super_options) {
    if (starts_with(o, "name=") ||
        std::find(kV1Subsystems.begin(), kV1Subsystems.end(), o) != kV1Subsystems.end())
      out.push_back(o);
  }
  return out;
}

Result<Layout> layout_from_mounts(
    const std::vector<MountInfo>& mounts,
    const std::function<std::string(const std::string& mount_point)>& read_controllers) {
  Layout l;
  bool have_v1_controller = false;
  for (auto& m : mounts) {
    if (m.fs_type == "cgroup2") {
      // Prefer the canonical mount point; otherwise the first one seen.
      if (l.unified_root.empty() || m.mount_point == "/sys/fs/cgroup")
        l.unified_root = m.mount_point;
      continue;
    }
    for (auto& c : v1_controllers(m)) {
      // Bind mounts of a hierarchy show up again; the first one wins.
      if (l.v1_roots.emplace(c, m.mount_point).second && !starts_with(c, "name="))
        have_v1_controller = true;
    }
  }
  if (!l.unified_root.empty()) {
    // A hybrid host may hand a few controllers to the unified tree (this is
    // common for hugetlb when it has no v1 mount) while memory, cpu and pids
    // stay on v1: that host is v1. Unified mode means cgroup2 owns the
    // canonical mount point or at least the memory controller.
    auto offered = split(read_controllers(l.unified_root), ' ', /*skip_empty=*/true);
    for (auto& c : offered) c = std::string(trim(c));
    bool owns_memory = std::find(offered.begin(), offered.end(), "memory") != offered.end();
    if (l.unified_root == "/sys/fs/cgroup" || owns_memory || !have_v1_controller) {
      l.version = Version::V2;
      l.v1_roots.clear();
      return l;
    }
  }
  if (!have_v1_controller)
    return make_error(Errc::FailedPrecondition,
                      "no cgroup filesystem is mounted (neither cgroup2 nor a v1 controller)");
  l.version = Version::V1;
  return l;
}

Result<Layout> detect_layout(const std::string& mountinfo_path) {
  auto text = BERTH_TRY_CTX(read_file(mountinfo_path), "detect cgroup layout");
  auto mounts = BERTH_TRY_CTX(parse_mountinfo(text), mountinfo_path);
  return layout_from_mounts(mounts, [](const std::string& mp) {
    return read_file(mp + "/cgroup.controllers").value_or(std::string());
  });
}

}  // namespace berth::cgroups
