// engine/cgroup_warmer.h — starts the kernel's cgroup write-lock grace
// period before a container start needs it.
//
// Moving a process into a cgroup (writing cgroup.procs) takes the kernel's
// global cgroup_threadgroup_rwsem for writing. When nothing wrote for a
// while, that first waits for an RCU grace period, unless a hierarchy is
// mounted with favordynmods: ~13 ms on the 2-vCPU test VM, about a third of
// a `run --rm` (one period after the last writer, writers are fast again).
// A start moves the container's process at the very end of its setup, so it
// pays the whole period. poke() at the first sign of a start (a client's
// /_ping, a create) re-writes the daemon's own pid into the cgroup it is
// already in, on a helper thread: the same lock, no move. The period then
// runs while the container is being set up, and the real move, a second
// writer of the same period, waits only for what is left of it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/reaper.h"
#include "cgroups/manager.h"

namespace berth::engine {

// The cgroup.procs file of the cgroup a process is in, from its
// /proc/<pid>/cgroup text: in the first v1 hierarchy of the layout the
// process is listed in (v1 hosts), or in the unified tree (v2 hosts). ""
// when none is found.
std::string own_procs_file(const cgroups::Layout& layout, std::string_view proc_cgroup);

class CgroupWarmer {
 public:
  // procs_file: own_procs_file() for this process; "" makes poke() a no-op.
  explicit CgroupWarmer(std::string procs_file) : file_(std::move(procs_file)) {}

  // Asks for one write on the helper thread (base/reaper.h); returns at
  // once. Pokes while a write is queued fold into it.
  void poke();
  // Writes done so far, and whether the last one failed (tests).
  uint64_t writes() const { return writes_; }
  bool last_failed() const { return last_failed_; }
  // Returns once no write is queued or running (tests).
  void wait_idle() { helper_.drain(); }

 private:
  void write_once();

  const std::string file_;
  std::atomic<bool> queued_{false};
  std::atomic<bool> last_failed_{false};
  std::atomic<uint64_t> writes_{0};
  // Last: destroyed first, finishing a queued write while file_ exists.
  Reaper helper_;
};

}  // namespace berth::engine
