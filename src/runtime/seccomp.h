// runtime/seccomp.h — linux.seccomp through libseccomp.
//
// Every action of runtime-spec 1.1 (SCMP_ACT_KILL, KILL_PROCESS, KILL_THREAD,
// TRAP, ERRNO with errnoRet, TRACE, ALLOW, LOG, NOTIFY), the architectures,
// argument conditions (all seven operators) and filter flags. Unknown
// syscall names are skipped with a debug log (as runc does: profiles list
// syscalls newer than the host's libseccomp). Unknown actions, operators or
// architectures are InvalidArgument naming the field.
#pragma once

#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

// Checks a profile without loading it (used at create time so a bad profile
// fails before any namespace or cgroup exists).
Result<void> check_seccomp(const oci::Seccomp& s);

// Loads the filter into the calling process (call it last before execve).
// For SCMP_ACT_NOTIFY rules the listener fd is returned (else an invalid Fd).
// Requires no_new_privs or CAP_SYS_ADMIN, as the kernel does.
Result<Fd> load_seccomp(const oci::Seccomp& s);

// Names for `berth-runtime features`.
std::vector<std::string> seccomp_known_actions();
std::vector<std::string> seccomp_known_operators();
std::vector<std::string> seccomp_known_archs();
std::vector<std::string> seccomp_known_flags();

}  // namespace berth::runtime
