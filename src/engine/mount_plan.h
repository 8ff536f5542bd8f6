// engine/mount_plan.h — a container's volumes and bind mounts, from docker's
// four sources, with docker's rules and messages:
//  1. --volumes-from CTR[:ro|rw]: the other container's mounts (rw only if
//     both say so; no copy-up);
//  2. HostConfig.Binds ("-v"): "/host:/ctr[:mode]" bind, "name:/ctr[:mode]"
//     named volume, "/ctr" anonymous volume; modes ro|rw, z|Z, nocopy,
//     [r]shared|[r]slave|[r]private, consistent|cached|delegated;
//  3. HostConfig.Mounts ("--mount"): type bind|volume|tmpfs with Bind-,
//     Volume- and TmpfsOptions; a bind source must exist;
//  4. Config.Volumes (the request's and the image's VOLUMEs): anonymous
//     volumes with copy-up, unless something else is mounted there.
// Binds and Mounts replace a volumes-from mount at the same destination; any
// other repeat (or a --tmpfs there) is "Duplicate mount point: /x".
// plan_mounts is pure (the filesystem is reached only through
// MountPlanInput::path_exists), so bad input is refused before anything is
// created; the engine then creates the volumes (volumes.h) and stores the
// resulting ContainerMounts with the container.
// Depends on: base, engine/container_types.h.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/container_types.h"
#include "oci/spec.h"

namespace berth::engine {

struct MountPlanInput {
  std::vector<std::string> binds;
  std::vector<MountPoint> mounts;
  struct From {
    std::string mode;                    // "rw" | "ro" (parse_volumes_from's)
    std::vector<ContainerMount> mounts;  // the other container's
  };
  std::vector<From> volumes_from;
  std::vector<std::string> config_volumes;  // Config.Volumes keys after the image merge
  std::vector<std::string> tmpfs;           // HostConfig.Tmpfs destinations
  // HostConfig.VolumeDriver: the driver of -v and Config.Volumes volumes
  // ("" = local); --mount names its own.
  std::string volume_driver;
  // For --mount type=bind: whether the source exists (default: stat(2)).
  std::function<bool(const std::string&)> path_exists;
};

struct PlannedMount {
  // For volumes `source` is empty until the engine resolves the volume;
  // name "" = an anonymous volume still to be named.
  ContainerMount mount;
  std::string volume_driver;  // "" = local
  std::map<std::string, std::string> volume_options, volume_labels;
  bool existing_volume = false;   // from --volumes-from: referenced, not created
  bool create_host_path = false;  // a -v bind whose source may be made (mkdir -p)
};

// InvalidArgument with docker's text for every malformed entry.
Result<std::vector<PlannedMount>> plan_mounts(const MountPlanInput& in);

// "ctr[:mode]" of --volumes-from -> {ctr, "rw"|"ro"...}; docker's errors
// ("volumes-from specification cannot be an empty string", "invalid mode: x").
Result<std::pair<std::string, std::string>> parse_volumes_from(const std::string& spec);

// The OCI mounts for a container's resolved mounts (binds and volumes as
// [r]bind + propagation + ro; tmpfs with docker's default flags).
Result<std::vector<oci::Mount>> oci_mounts(const std::vector<ContainerMount>& mounts);

// docker's start-time check of shared and slave bind propagation: the host
// mount holding the source (longest mount point that is a path prefix of
// `resolved_source`, the source with symlinks resolved) must itself be shared
// ([r]shared) or shared or a slave ([r]slave), or the propagation could never
// happen. InvalidArgument "path P is mounted on M but it is not a shared
// mount" / "... not a shared or slave mount". `mounts`: /proc/self/mountinfo.
struct HostMount {
  std::string mount_point;
  std::vector<std::string> optional_fields;
};
Result<void> check_bind_propagation(const std::string& source, const std::string& resolved_source,
                                    const std::string& propagation,
                                    const std::vector<HostMount>& mounts);

// path.Clean of an absolute or relative path ("/a//b/../c" -> "/a/c").
std::string clean_mount_path(const std::string& p);

}  // namespace berth::engine
