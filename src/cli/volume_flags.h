// cli/volume_flags.h — `run`/`create`'s -v/--volume, --mount and
// --volumes-from as docker's CLI turns them into the create body:
//  - -v: docker's compose-style ParseVolume ("invalid empty volume spec",
//    "invalid spec: X: empty section between colons", "... too many
//    colons"); an entry with a source goes to HostConfig.Binds (a relative
//    "./x" or "." source made absolute against the working directory), one
//    without (an anonymous "/ctr") to Config.Volumes;
//  - --mount: docker's CSV form (type, source|src, target|dst|destination,
//    readonly|ro, consistency, bind-propagation, bind-nonrecursive,
//    volume-nocopy, volume-label, volume-driver, volume-opt, tmpfs-size,
//    tmpfs-mode) into HostConfig.Mounts objects, with docker's messages
//    ("target is required", "unexpected key 'x' in 'x=1'", ...).
// The daemon checks the rest (modes, paths, names).
// Depends on: base.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace berth::cli {

struct VolumeFlags {
  Json binds = nullptr;    // HostConfig.Binds (null when none)
  Json volumes = nullptr;  // Config.Volumes {"/ctr": {}} (null when none)
  Json mounts = nullptr;   // HostConfig.Mounts (null when none)
};

// `cwd` makes "./x" sources absolute ("" = the process's working directory).
Result<VolumeFlags> parse_volume_flags(const std::vector<std::string>& volumes,
                                       const std::vector<std::string>& mounts,
                                       const std::string& cwd = "");

// One --mount value -> a mount.Mount JSON object; the error text without
// pflag's "invalid argument" prefix.
Result<Json> parse_mount_flag(const std::string& value, const std::string& cwd = "");

// Go's encoding/csv reading of one record, as docker's CLI reads --mount and
// --gpus: fields split on ',', "..." quoting ("" inside quotes is one quote).
// InvalidArgument with encoding/csv's text for an unclosed quote.
Result<std::vector<std::string>> csv_fields(const std::string& line);

}  // namespace berth::cli
