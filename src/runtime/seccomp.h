// runtime/seccomp.h — linux.seccomp through libseccomp.
//
// Every action of runtime-spec 1.1 (SCMP_ACT_KILL, KILL_PROCESS, KILL_THREAD,
// TRAP, ERRNO with errnoRet, TRACE, ALLOW, LOG, NOTIFY), the architectures,
// argument conditions (all seven operators) and filter flags. Unknown
// syscall names are skipped with a debug log (as runc does: profiles list
// syscalls newer than the host's libseccomp). Unknown actions, operators or
// architectures are InvalidArgument naming the field
// ("linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"").
//
// Semantics, as runc implements them:
//  - SCMP_ACT_KILL is KILL_THREAD; ERRNO and TRACE use errnoRet (default
//    EPERM); errnoRet with any other action is an error (runtime-spec MUST).
//  - Conditions on distinct argument indexes must all hold (one rule); when
//    an index repeats, each condition becomes its own rule (any may match).
//  - SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo.
//  - Rules whose action equals the default action are skipped.
//  - SCMP_ACT_NOTIFY is refused as the default action.
// Depends on: base, oci, libseccomp.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

// Checks a profile without loading it (used at create time so a bad profile
// fails before any namespace or cgroup exists). It builds the complete
// libseccomp filter, so it also reports what libseccomp or the running
// kernel refuse (an unsupported flag or action, architectures of mixed
// byte order).
Result<void> check_seccomp(const oci::Seccomp& s);

// Loads the filter into the calling process (call it last before execve).
// For SCMP_ACT_NOTIFY rules the listener fd is returned (else an invalid Fd);
// the caller owns it (it is O_CLOEXEC, as the kernel creates it). libseccomp
// keeps one listener per process, so at most one filter with NOTIFY rules
// can be loaded per process. Requires no_new_privs or CAP_SYS_ADMIN, as the
// kernel does; libseccomp is told not to set no_new_privs itself, because
// process.noNewPrivileges decides that.
Result<Fd> load_seccomp(const oci::Seccomp& s);

// A filter built once by compile_seccomp() (in the runtime, before the
// container's init is cloned; the init inherits it in memory) and installed
// by install_seccomp() with one seccomp(2) call. libseccomp's build of a
// large profile (docker's default: several ms of CPU) so runs once per
// container instead of twice (check at create, build again in the init).
// Filters with SCMP_ACT_NOTIFY rules are not compiled this way: their
// listener fd comes from libseccomp's load (use load_seccomp for them).
struct CompiledSeccomp {
  std::vector<sock_filter> program;
  unsigned int flags = 0;  // SECCOMP_FILTER_FLAG_* from linux.seccomp.flags
  bool uses_notify = false;
};
// Checks like check_seccomp and returns the kernel program.
Result<CompiledSeccomp> compile_seccomp(const oci::Seccomp& s);
// compile_seccomp through a cache of programs in cache_dir (created 0700;
// "" = no cache), keyed by everything the program depends on (the profile,
// libseccomp's version, the kernel release and machine). A hit skips
// libseccomp entirely; NOTIFY profiles are never cached. The directory must
// be writable by root only: its programs are installed as they are.
Result<CompiledSeccomp> compile_seccomp_cached(const oci::Seccomp& s, const std::string& cache_dir);
// Installs a compiled filter into the calling process (uses_notify must be
// false). Same privilege rule as load_seccomp.
Result<void> install_seccomp(const CompiledSeccomp& c);

// Names for `berth-runtime features`.
std::vector<std::string> seccomp_known_actions();
std::vector<std::string> seccomp_known_operators();
std::vector<std::string> seccomp_known_archs();
std::vector<std::string> seccomp_known_flags();
// The known flags that both this libseccomp and the running kernel support.
std::vector<std::string> seccomp_supported_flags();

}  // namespace berth::runtime
