// engine/spec_builder_internal.h — the parts of build_spec, one file each
// (spec_caps.cc, spec_resources.cc, spec_mounts.cc, spec_builder.cc).
// Internal to the engine; unit tests use them directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/container_types.h"
#include "engine/spec_builder.h"
#include "oci/spec.h"

namespace berth::engine::spec_internal {

// Every capability name berth knows, index = capability number.
const std::vector<std::string>& all_capability_names();
const std::vector<std::string>& docker_default_capabilities();
int host_cap_last_cap();
// CapBnd of this process (all ones when unreadable).
uint64_t own_bounding_set();

// Parsed --security-opt list.
struct SecurityOpts {
  bool seccomp_unconfined = false;
  std::string seccomp_profile;  // JSON; "" = the default
  bool no_new_privileges = false;
  bool systempaths_unconfined = false;
  bool writable_cgroups = false;
};
Result<SecurityOpts> parse_security_opts(const std::vector<std::string>& opts);

// resources, devices (linux.devices and the cgroup rules).
struct DeviceSetup {
  std::vector<oci::Device> devices;
  std::vector<oci::DeviceCgroupRule> rules;
};
Result<DeviceSetup> build_devices(const HostConfig& hc, const std::string& host_dev_dir);
Result<oci::DeviceCgroupRule> parse_device_cgroup_rule(const std::string& rule);
// --cpuset-cpus / --cpuset-mems ("0-2,5") against the ids the host has
// online, as a kernel list ("0-1"; "" when unknown: only the syntax is
// checked). `what` is "cpus" or "mems"; docker's messages.
Result<void> check_cpuset(const std::string& value, std::string_view what,
                          const std::string& available);
Result<oci::Resources> build_resources(const HostConfig& hc, const std::string& host_dev_dir);
// blockIO (spec_blkio.cc): the weight and the per-device weights and
// throttles, each device path stat'ed to its major:minor; a path that is
// missing, not a block device, or a partition (per `sysfs_dev_block`) is an
// InvalidArgument naming it. nullopt when nothing is set.
Result<std::optional<oci::BlockIoResources>> build_block_io(
    const Resources& in, const std::string& sysfs_dev_block = "/sys/dev/block");
Result<std::vector<oci::Rlimit>> build_rlimits(const std::vector<Ulimit>& ulimits,
                                               uint64_t host_nofile_hard);
// Namespaced sysctls only; `private_net` / `private_ipc` / `private_uts` say
// which namespaces the container has.
Result<void> validate_sysctls(const std::map<std::string, std::string>& sysctls, bool private_net,
                              bool private_ipc, bool private_uts);

// Mounts: docker's defaults, the hosts-file binds, --tmpfs, init.
struct MountContext {
  bool privileged = false;
  bool writable_cgroups = false;
  bool readonly_rootfs = false;
  std::string ipc_mode;  // "", "private", "shareable", "none", "host", "container:x"
  int64_t shm_size = 0;
  std::string shm_path;  // bound at /dev/shm when set (SpecInput::shm_path)
  std::string hostname_path, hosts_path, resolv_conf_path;
  std::string init_path;  // "" = no --init
  std::map<std::string, std::string> tmpfs;
  // Volumes, binds and --mount tmpfs (mount_plan.h's oci_mounts).
  std::vector<oci::Mount> volumes;
};
Result<std::vector<oci::Mount>> build_mounts(const MountContext& c);
// docker's tmpfs option merge: defaults noexec,nosuid,nodev; user options
// replace their opposites ("exec" drops "noexec").
Result<std::vector<std::string>> tmpfs_options(const std::string& path, const std::string& opts);

const std::vector<std::string>& default_masked_paths();
const std::vector<std::string>& default_readonly_paths();

}  // namespace berth::engine::spec_internal
