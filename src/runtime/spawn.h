// runtime/spawn.h — creating a process inside namespaces.
//
// spawn() forks a stage-1 child, waits until the parent has put it in the
// cgroup, lets it join namespaces by path (user first), unshare the new
// ones (the parent writes uid/gid maps for a new user namespace), then
// clone(CLONE_PARENT) the final process — pid 1 of a new pid namespace, and
// the caller's own child — and exit. Only the final process runs
// `child_main`; it never returns. Without a user namespace or a new time
// namespace, and joining at most network, ipc and uts namespaces, the
// process is cloned directly (no stage 1) and joins those itself first.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "cgroups/manager.h"
#include "oci/spec.h"
#include "runtime/sync.h"

namespace berth::runtime {

struct NamespacePlan {
  int new_flags = 0;                              // CLONE_NEW* to create
  std::vector<std::pair<int, std::string>> join;  // (CLONE_NEW*, path), user first
  // Lines for /proc/self/timens_offsets ("monotonic 86400 0"), written after
  // the new time namespace is unshared and before any process enters it.
  std::string time_offsets;
  bool new_user() const;
  bool has(int flag) const;  // created or joined
};

int namespace_flag(const std::string& type);  // 0 when unknown
// Order: user, then the rest in spec order, mount last.
Result<NamespacePlan> plan_namespaces(const std::vector<oci::Namespace>& ns);
// Namespaces of a running process that differ from the caller's (for exec).
Result<NamespacePlan> plan_join_process(pid_t pid);

struct Spawned {
  pid_t pid = 0;
  SyncChannel chan;  // parent's end; the child's messages follow "pid"
};

using ChildMain = std::function<void(SyncChannel&)>;
using IdMapWriter = std::function<Result<void>(pid_t)>;

Result<Spawned> spawn(const NamespacePlan& plan, cgroups::Manager* cgroup,
                      const IdMapWriter& write_id_maps, const ChildMain& child_main);

// Writes /proc/PID/{uid_map,gid_map} from the spec's mappings.
Result<void> write_id_maps(pid_t pid, const oci::Linux& linux);

}  // namespace berth::runtime
