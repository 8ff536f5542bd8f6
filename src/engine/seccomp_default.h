// engine/seccomp_default.h — docker's default seccomp profile (same effect,
// written from its documented behaviour) and loading of profiles in docker's
// JSON format (security-opt seccomp=<json>, daemon seccomp-profile).
//
// The default profile: default action SCMP_ACT_ERRNO (EPERM), an allow-list
// of the syscalls ordinary programs need, extra syscalls per capability
// (CAP_SYS_ADMIN: mount, unshare, setns, clone with namespace flags, ...;
// CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_SYS_BOOT, CAP_SYS_CHROOT,
// CAP_SYS_NICE, CAP_SYS_PACCT, CAP_SYS_RAWIO, CAP_SYS_TIME,
// CAP_SYS_TTY_CONFIG, CAP_SYSLOG, CAP_BPF, CAP_PERFMON, CAP_DAC_READ_SEARCH),
// per-architecture additions, clone/clone3 handling
// (without CAP_SYS_ADMIN: clone only without CLONE_NEW* flags; clone3
// answers ENOSYS so libc falls back to clone), personality only for the
// documented personas. Not allowed: keyctl, add_key, request_key, unshare
// and mount without CAP_SYS_ADMIN, kexec, bpf without CAP_BPF, etc.
//
// Profile JSON (docker's format): defaultAction, defaultErrnoRet,
// architectures or archMap[{architecture, subArchitectures}], flags,
// listenerPath, syscalls[{name|names, action, errnoRet, args[{index, value,
// valueTwo, op}], includes/excludes{caps, arches, minKernel}}]. Rules are
// kept when includes match and excludes do not (caps against the
// container's capabilities, arches against `arch`). Errors are
// InvalidArgument naming the field ("seccomp profile: syscalls[3].action:
// ...").
// Depends on: base, oci.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::engine {

// `caps` in "CAP_SYS_ADMIN" form (the container's bounding set); `arch` a Go
// arch name ("amd64", "arm64", ...); "" = the host's.
oci::Seccomp default_seccomp_profile(const std::vector<std::string>& caps,
                                     std::string_view arch = "");

Result<oci::Seccomp> load_seccomp_profile(std::string_view json,
                                          const std::vector<std::string>& caps,
                                          std::string_view arch = "");

// The host's Go arch name from uname ("x86_64" -> "amd64", "aarch64" -> "arm64").
std::string host_go_arch();

}  // namespace berth::engine
