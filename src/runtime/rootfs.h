// runtime/rootfs.h — builds the container's filesystem view inside the new
// mount namespace. Runs in the container init, before the user process.
//
// Every mount destination is resolved inside the rootfs with openat2
// RESOLVE_IN_ROOT and mounted through /proc/self/fd/N, so a symlink in the
// image cannot redirect a mount to the host (CVE-2021-30465 class).
#pragma once

#include <map>
#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

struct RootfsContext {
  const oci::Spec* spec = nullptr;
  std::string rootfs;  // absolute host path of root.path
  bool new_userns = false;
  bool new_cgroupns = false;
  bool cgroup_v2 = false;
  bool no_pivot = false;
  // controller ("" for v2) -> host directory of the container's cgroup.
  std::map<std::string, std::string> cgroup_paths;
  // mounts[] index -> user namespace fd holding that mount's uid/gid
  // mappings (made by the runtime on the host side, see runtime/idmap.h).
  std::map<size_t, int> idmap_userns;
};

// Propagation of "/", bind of the rootfs onto itself, spec mounts, devices.
// Returns an O_PATH fd of the rootfs mount.
Result<Fd> prepare_rootfs(const RootfsContext& ctx);
// pivot_root (or MS_MOVE + chroot with no_pivot) into the prepared rootfs.
Result<void> enter_rootfs(const RootfsContext& ctx);
// maskedPaths, readonlyPaths, read-only root, rootfsPropagation. Runs after
// enter_rootfs, inside the container's root.
Result<void> finish_rootfs(const RootfsContext& ctx);
// Writes linux.sysctl through /proc/sys (per-namespace keys only).
Result<void> apply_sysctls(const oci::Spec& spec);
// Refuses sysctls that would change the host (not namespaced, or whose
// namespace is shared with the host). Called at create, before anything exists.
Result<void> check_sysctls(const oci::Spec& spec);

}  // namespace berth::runtime
