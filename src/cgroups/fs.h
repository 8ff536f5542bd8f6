// cgroups/fs.h — file access shared by the v1 and v2 managers.
//
// cgroupfs is a pseudo filesystem: every knob is a file that already exists
// (so writes never create files), directories are removed with rmdir even
// though they "contain" interface files, and cgroup.procs lists members.
// CgroupFs wraps those rules and has two test seams (ManagerOptions) so the
// managers run unchanged over a fixture tree of plain files in a temp dir.
// Internal to the cgroups module. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::cgroups {

struct ManagerOptions {
  // Fixture trees only: a plain directory cannot be rmdir'ed while it holds
  // files, whereas cgroupfs removes its interface files itself. When true,
  // destroy() unlinks regular files in a cgroup directory before rmdir.
  // Also: v2 set() builds the device program but does not attach it (a
  // plain directory cannot take one). Never set this for a real hierarchy.
  bool fixture_tree = false;
  // Called before every write with the full path and the value; an error
  // aborts the write and is returned. Tests use it to record the order of
  // writes and to emulate kernel checks (e.g. memsw >= limit on v1).
  std::function<Result<void>(const std::string& path, std::string_view value)> before_write;
  // How long freeze() waits for the kernel to report the cgroup frozen.
  std::chrono::milliseconds freeze_timeout{1000};
};

class CgroupFs {
 public:
  explicit CgroupFs(ManagerOptions opts) : opts_(std::move(opts)) {}

  const ManagerOptions& options() const { return opts_; }
  // Writes value to dir/file without creating it. The error names the file
  // and the value ("write \"100\" to /sys/.../pids.max: Invalid argument").
  Result<void> write(const std::string& dir, std::string_view file, std::string_view value) const;
  // Writes each (file, value) under dir in order, one write(2) per value,
  // opening each file once (v1's devices.allow/deny take one rule per
  // write: ~24 rules per container). Stops at the first error, named as
  // write() names it.
  Result<void> write_each(const std::string& dir,
                          const std::vector<std::pair<std::string, std::string>>& writes) const;
  // Reads dir/file with surrounding whitespace trimmed.
  Result<std::string> read(const std::string& dir, std::string_view file) const;
  bool exists(const std::string& dir, std::string_view file) const;
  // mkdir -p; existing directories are fine.
  Result<void> mkdir_all(const std::string& dir) const;
  // Every pid listed in cgroup.procs of dir and of all its descendants.
  // A missing dir yields an empty list.
  Result<std::vector<pid_t>> procs_recursive(const std::string& dir) const;
  // Removes dir and its descendant cgroups, deepest first. Missing dirs are
  // fine. EBUSY (processes remain) becomes Conflict naming the directory.
  Result<void> remove_tree(const std::string& dir) const;
  // One rmdir: true when dir is gone (or was missing). The kernel refuses
  // while a process or a child cgroup is in it (a fixture directory, which
  // holds plain files, is always refused); false then, with nothing changed.
  bool try_rmdir(const std::string& dir) const;

 private:
  ManagerOptions opts_;
};

// Joins a hierarchy root and a cleaned cgroup path ("/a/b").
std::string join_path(const std::string& root, const std::string& cgroup_path);

// Normalises linux.cgroupsPath: "" -> "/berth/<id>", "a/b" -> "/a/b",
// duplicate and trailing slashes dropped. ".." components, a resulting root
// ("/"), or an unsafe id are InvalidArgument.
Result<std::string> clean_cgroup_path(const std::string& cgroups_path, const std::string& id);

}  // namespace berth::cgroups
