// runtime/idmap.h — user namespaces that carry the id mappings of idmapped
// mounts (runtime-spec 1.1 mounts[].uidMappings / gidMappings).
//
// Made by the runtime in the host's pid namespace, before the container's
// init exists (the init's /proc would name the wrong pids); the fds are
// close-on-exec and reach the init only by fork.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

// "containerID hostID size\n" lines, the format of /proc/PID/{uid,gid}_map.
std::string format_id_map(const std::vector<oci::IdMapping>& m);

// A user namespace whose uid_map/gid_map are m's mappings: a helper child
// unshares it and waits while the maps are written and its ns file opened.
Result<Fd> make_idmap_userns(const oci::Mount& m);

// One namespace per mount that has mappings, keyed by its index in spec.mounts.
Result<std::map<size_t, Fd>> make_idmap_namespaces(const oci::Spec& spec);

}  // namespace berth::runtime
