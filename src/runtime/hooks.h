// runtime/hooks.h — runs OCI hooks: each hook is fork+exec'd with the
// container state JSON on stdin, its env exactly as given, and killed
// (SIGKILL) when its timeout passes. The first failing hook stops the list.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

// `kind` names the list in errors ("createRuntime"). Errors: FailedPrecondition
// "<kind> hook #N (<path>): exited with status 3" or "...: timed out after 2s".
Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const std::string& state_json,
                       const char* kind);
// For poststart and poststop: the runtime-spec says a failing hook is a
// warning and the remaining hooks still run. Logs each failure.
void run_hooks_warn(const std::vector<oci::Hook>& hooks, const std::string& state_json,
                    const char* kind);

}  // namespace berth::runtime
