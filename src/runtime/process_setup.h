// runtime/process_setup.h — turns the calling process into the container's
// process: limits, identity, capabilities, seccomp, then execve. Used by the
// container init and by `exec`, inside the container's namespaces and root.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "oci/spec.h"
#include "runtime/seccomp.h"

namespace berth::runtime {

// setrlimit for each process.rlimits entry. EPERM (hard limit above the
// caller's own hard limit without CAP_SYS_RESOURCE) is reported with the
// limit's name and values.
Result<void> apply_rlimits(const oci::Process& p);
// Writes /proc/self/oom_score_adj when set.
Result<void> apply_oom_score_adj(const oci::Process& p);
// linux.personality (LINUX / LINUX32 domains).
Result<void> apply_personality(const std::optional<oci::Personality>& p);
// process.ioPriority (ioprio_set) and process.scheduler (sched_setattr).
Result<void> apply_io_priority(const oci::Process& p);
Result<void> apply_scheduler(const oci::Process& p);
// args[0] resolved against PATH in process.env (default PATH when absent),
// in the current root. NotFound: "exec: \"foo\": executable file not found in $PATH".
Result<std::string> resolve_executable(const oci::Process& p);

// cwd, groups, no_new_privs, capabilities, user, umask, seccomp, execve.
// Returns only on failure.
// `preserve_fds` descriptors from 3 on (the caller's --preserve-fds) stay
// open in the container; every other fd >= 3 is closed on exec.
// `compiled`, when given, is `seccomp` compiled already (compile_seccomp):
// installed as is instead of being built again.
Result<void> exec_process(const oci::Process& p, const std::optional<oci::Seccomp>& seccomp,
                          const std::string& exe, int preserve_fds = 0,
                          const CompiledSeccomp* compiled = nullptr);

}  // namespace berth::runtime
