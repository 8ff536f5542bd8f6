// runtime/self_protect.h — keeps the runtime binary out of a container's
// reach (CVE-2019-5736 class).
//
// A container process can reach the runtime's executable through
// /proc/<pid>/exe (or `#!/proc/self/exe`) while the runtime is inside its
// namespaces, and reopen it for writing. Before create/run/exec the runtime
// re-executes itself from a read-only, detached bind mount of its own binary
// (open_tree + mount_setattr, Linux 5.12+), or from a sealed memfd copy on
// older kernels, so /proc/self/exe can never be opened for writing.
#pragma once

#include "base/result.h"

namespace berth::runtime {

// Returns only if the running image is already protected (then it also
// clears the marker from the environment) or on failure. On success of the
// re-exec it does not return.
Result<void> ensure_protected_self(char** argv);
// Whether /proc/self/exe is on a read-only mount or a write-sealed memfd.
bool self_is_protected();

}  // namespace berth::runtime
