// cgroups/layout.h — mountinfo parsing and the v1/v2 decision, as pure
// functions over text so tests feed sample mountinfo from other hosts.
// detect_layout() in manager.h is these plus file reads.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cgroups/manager.h"

namespace berth::cgroups {

// One line of /proc/<pid>/mountinfo (proc(5)), with octal escapes (\040
// space, \011 tab, \012 newline, \134 backslash) decoded in paths.
struct MountInfo {
  int mount_id = 0;
  int parent_id = 0;
  std::string root;         // path inside the filesystem
  std::string mount_point;  // where it is mounted
  std::string fs_type;      // after the " - " separator
  std::string source;
  std::vector<std::string> super_options;    // comma-split
  std::vector<std::string> optional_fields;  // "shared:N", "master:N", ... (propagation)
};

// Decodes the \ooo escapes the kernel puts in mountinfo paths.
std::string unescape_mountinfo(std::string_view s);
// Parses every line; a malformed line is an Io error naming its number.
Result<std::vector<MountInfo>> parse_mountinfo(std::string_view text);

// v1 hierarchy names in a cgroup mount's super options: known controllers
// plus named hierarchies as "name=<n>" (e.g. "name=systemd").
std::vector<std::string> v1_controllers(const MountInfo& m);

// Builds the Layout from parsed mounts. `read_controllers(mount_point)`
// returns the content of the cgroup2 mount's cgroup.controllers ("" when
// unreadable). v2 wins when cgroup2 is mounted at /sys/fs/cgroup, when the
// unified mount offers the memory controller, or when no v1 controller
// (named hierarchies do not count) is mounted; a host with no cgroup mount
// at all is FailedPrecondition.
Result<Layout> layout_from_mounts(
    const std::vector<MountInfo>& mounts,
    const std::function<std::string(const std::string& mount_point)>& read_controllers);

}  // namespace berth::cgroups
