// runtime/container_internal.h — helpers shared by the files implementing
// runtime/container.h. Not part of the module's API.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "base/result.h"
#include "cgroups/manager.h"
#include "oci/spec.h"

namespace berth::runtime {

std::string cgroups_path_for(const oci::Spec& spec, const std::string& id);
// Manager for the container's cgroup on this host's layout.
Result<std::unique_ptr<cgroups::Manager>> make_cgroup(const oci::Spec& spec, const std::string& id);
Result<std::unique_ptr<cgroups::Manager>> make_cgroup_at(const std::string& cgroups_path,
                                                         const std::string& id);
// waitpid(pid) while forwarding INT/TERM/HUP/QUIT/USR1/USR2/WINCH to it.
int wait_forwarding_signals(pid_t pid);

}  // namespace berth::runtime
