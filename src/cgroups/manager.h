// cgroups/manager.h — one interface over cgroup v1 and cgroup v2.
//
// A Manager owns one container's cgroup: its directory under every mounted
// v1 controller, or one directory in the v2 unified tree. Roots come from a
// Layout, so tests point a Manager at a fixture tree in a temp dir.
// Not thread-safe. Depends on: base, sys, oci.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::cgroups {

enum class Version { V1, V2 };

// Where the hierarchies are mounted.
struct Layout {
  Version version = Version::V2;
  // v2: the unified mount (e.g. /sys/fs/cgroup). On a v1 hybrid host this is
  // /sys/fs/cgroup/unified when present (informational; v1 manager ignores it).
  std::string unified_root;
  // v1: controller name -> mount point (cpu, cpuacct, memory, pids, ...).
  // Co-mounted controllers ("cpu,cpuacct") appear once per name; named
  // hierarchies appear as "name=<n>" (e.g. "name=systemd").
  std::map<std::string, std::string> v1_roots;
};

// Reads mountinfo (default /proc/self/mountinfo) and decides v1 or v2:
// v2 when cgroup2 is mounted at /sys/fs/cgroup, or the unified mount offers
// the memory controller, or no v1 controller is mounted. (A hybrid host can
// give a stray controller such as hugetlb to the unified tree; it is still
// v1.) Details and the pure parser: cgroups/layout.h.
Result<Layout> detect_layout(const std::string& mountinfo_path = "/proc/self/mountinfo");

enum class FreezerState { Thawed, Frozen, Freezing };

// Fields whose controller is absent read 0.
struct Stats {
  uint64_t memory_usage = 0;
  uint64_t memory_limit = 0;  // 0 = unlimited (v1's huge sentinel and v2's "max")
  uint64_t cpu_usage_ns = 0;
  uint64_t pids_current = 0;
};

class Manager {
 public:
  virtual ~Manager() = default;
  virtual Version version() const = 0;
  // Creates the directories (idempotent). Errors name the path.
  virtual Result<void> create() = 0;
  // Moves pid into the cgroup (every v1 controller, or the v2 dir).
  virtual Result<void> add_process(pid_t pid) = 0;
  // Writes every set field of `r`; unset fields are left alone, so `update`
  // can pass a partial Resources. Errors name the file and the value.
  virtual Result<void> set(const oci::Resources& r) = 0;
  virtual Result<void> freeze() = 0;
  virtual Result<void> thaw() = 0;
  virtual Result<FreezerState> freezer_state() = 0;
  // Every pid in the cgroup (recursive), host pid namespace numbers.
  virtual Result<std::vector<pid_t>> pids() = 0;
  virtual Result<Stats> stats() = 0;
  // Removes the directories (children first); succeeds when already gone.
  // Fails with Conflict when processes remain; the directories holding them
  // stay as they were (on v1, empty ones in other hierarchies are gone).
  virtual Result<void> destroy() = 0;
  // Directory per controller ("" key for v2) — used to bind-mount the
  // container's own cgroup at /sys/fs/cgroup without a cgroup namespace.
  virtual std::map<std::string, std::string> paths() const = 0;
};

// `cgroups_path` is linux.cgroupsPath: absolute paths are taken from each
// hierarchy's root; relative ones are put under "/"; empty means "/berth/<id>".
// ".." components and the bare root are InvalidArgument (a container must
// not escape to, or take over, a hierarchy root).
Result<std::unique_ptr<Manager>> make_manager(const Layout& layout, const std::string& cgroups_path,
                                              const std::string& id);

}  // namespace berth::cgroups
