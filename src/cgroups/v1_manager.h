// cgroups/v1_manager.h — Manager over the cgroup v1 hierarchies.
//
// One directory per mounted hierarchy (co-mounted controllers share one),
// including named ones such as name=systemd. Knob files are written, never
// created, so the same code runs over a fixture tree. Depends on: base, oci.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "cgroups/fs.h"
#include "cgroups/manager.h"

namespace berth::cgroups {

class V1Manager final : public Manager {
 public:
  // roots: Layout::v1_roots; cgroup_path: already cleaned ("/berth/id").
  V1Manager(std::map<std::string, std::string> roots, std::string cgroup_path,
            ManagerOptions opts = {});

  Version version() const override { return Version::V1; }
  // mkdir in every hierarchy; cpuset directories get cpuset.cpus/mems copied
  // from their parent at each level (the kernel starts them empty, and an
  // empty cpuset refuses tasks with ENOSPC).
  Result<void> create() override;
  Result<void> add_process(pid_t pid) override;
  // A field whose controller is not mounted is FailedPrecondition; unified
  // keys are InvalidArgument (they only exist on v2).
  Result<void> set(const oci::Resources& r) override;
  // Writes FROZEN and polls freezer.state until FROZEN (re-asking while the
  // kernel reports FREEZING); on timeout thaws again, DeadlineExceeded.
  Result<void> freeze() override;
  Result<void> thaw() override;
  // Thawed when no freezer hierarchy is mounted.
  Result<FreezerState> freezer_state() override;
  Result<std::vector<pid_t>> pids() override;
  Result<Stats> stats() override;
  Result<void> destroy() override;
  std::map<std::string, std::string> paths() const override { return dirs_; }

 private:
  Result<std::string> need(const std::string& controller, std::string_view what) const;
  std::vector<std::string> unique_dirs() const;
  Result<void> init_cpuset();
  Result<void> set_devices(const std::vector<oci::DeviceCgroupRule>& rules);
  Result<void> set_memory(const oci::MemoryResources& m);
  Result<void> set_cpu(const oci::CpuResources& c);
  Result<void> set_blkio(const oci::BlockIoResources& b);

  std::map<std::string, std::string> roots_;
  std::string path_;
  std::map<std::string, std::string> dirs_;  // controller -> cgroup dir
  CgroupFs fs_;
};

}  // namespace berth::cgroups
