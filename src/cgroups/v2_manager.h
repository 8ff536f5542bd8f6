// cgroups/v2_manager.h — Manager over the cgroup v2 unified hierarchy.
//
// One directory; controllers are enabled top-down in each ancestor's
// cgroup.subtree_control; the device allowlist is an eBPF program attached
// to the directory (devices_bpf.h). Depends on: base, oci.
#pragma once

#include <map>
#include <string>

#include "cgroups/fs.h"
#include "cgroups/manager.h"

namespace berth::cgroups {

class V2Manager final : public Manager {
 public:
  // unified_root: Layout::unified_root; cgroup_path: cleaned ("/berth/id").
  V2Manager(std::string unified_root, std::string cgroup_path, ManagerOptions opts = {});

  Version version() const override { return Version::V2; }
  // mkdir -p, then in the root and every ancestor enables whichever of
  // cpu, memory, pids, io, cpuset, hugetlb its cgroup.controllers offers.
  // A controller the kernel refuses to enable (e.g. a parent holding
  // processes) is logged and skipped; set() then fails on its missing file.
  Result<void> create() override;
  Result<void> add_process(pid_t pid) override;
  // Knob files that do not exist (controller not enabled, swap accounting
  // off) are FailedPrecondition naming the file. v1-only fields (realtime
  // cpu) are NotImplemented; swappiness, disableOOMKiller, kernel memory and
  // network are ignored with a warning, as v2 has no such knobs. unified is
  // written last, verbatim, so it overrides the translated values.
  Result<void> set(const oci::Resources& r) override;
  // cgroup.freeze = 1, then waits for "frozen 1" in cgroup.events.
  Result<void> freeze() override;
  Result<void> thaw() override;
  // Thawed when the kernel has no cgroup.freeze (< 5.2).
  Result<FreezerState> freezer_state() override;
  Result<std::vector<pid_t>> pids() override;
  Result<Stats> stats() override;
  Result<void> destroy() override;
  std::map<std::string, std::string> paths() const override { return {{"", dir_}}; }

 private:
  Result<void> enable_controllers(const std::string& dir);
  Result<void> write_knob(std::string_view file, std::string_view value, std::string_view field);
  Result<void> set_memory(const oci::MemoryResources& m);
  Result<void> set_cpu(const oci::CpuResources& c);
  Result<void> set_io(const oci::BlockIoResources& b);
  Result<void> set_devices(const std::vector<oci::DeviceCgroupRule>& rules);
  Result<void> wait_frozen(bool want, const std::chrono::steady_clock::time_point& deadline);

  std::string root_;
  std::string path_;
  std::string dir_;
  CgroupFs fs_;
};

}  // namespace berth::cgroups
