// runtime/capabilities.h — the five capability sets of process.capabilities
// through libcap.
//
// Order inside the container init (see runtime/init.cc):
//   drop_bounding()          while still privileged (needs CAP_SETPCAP);
//   prctl(PR_SET_KEEPCAPS,1) then setresuid/setresgid to the process user;
//   apply_capabilities()     sets effective/permitted/inheritable, then ambient.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

// "CAP_SYS_ADMIN" -> 21; error naming the capability when unknown.
Result<int> capability_from_name(const std::string& name);
// Every capability name the host's libcap knows (for `features`).
std::vector<std::string> known_capabilities();

// Validates every name in the five sets.
Result<void> check_capabilities(const oci::Capabilities& caps);
// Drops from the bounding set every capability not in caps.bounding.
Result<void> drop_bounding(const oci::Capabilities& caps);
// Sets effective, permitted, inheritable, then raises ambient ones.
Result<void> apply_capabilities(const oci::Capabilities& caps);

}  // namespace berth::runtime
