// engine/leftovers.h — what a container leaves when its monitor dies badly.
//
// A berth-monitor normally deletes its container's runtime state and cgroup
// when the container ends. A monitor that is killed (with the daemon, by an
// OOM kill, or while it was still setting the container up) cannot: its
// container's processes may still run in the cgroup, and the runtime state
// directory stays. The engine calls reap_container_leftovers for every
// container that has no live monitor at startup, and when a monitor vanishes
// without an exit record, so nothing of it outlives the container.
// Depends on: base, cgroups, monitor (client.h).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "cgroups/manager.h"

namespace berth::engine {

// The monitors of one container, from /proc: processes whose command line
// monitor::cmdline_is_monitor_of(config_path) accepts.
std::vector<pid_t> monitors_of(const std::string& config_path);

// SIGKILLs every process in the container's cgroup (cgroups_path as in the
// OCI spec, e.g. "/berth/<id>"), waits for them to go (bounded, ~2 s) and
// removes the cgroup directories; then removes `runtime_state_dir` (the
// built-in runtime's <exec-root>/runtime/<id>, "" to skip). Succeeds when
// there was nothing to do. Must not be called while a live monitor owns the
// container.
Result<void> reap_container_leftovers(const cgroups::Layout& layout,
                                      const std::string& cgroups_path, const std::string& id,
                                      const std::string& runtime_state_dir);

}  // namespace berth::engine
