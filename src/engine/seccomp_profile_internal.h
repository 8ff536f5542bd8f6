// engine/seccomp_profile_internal.h — docker's seccomp profile format as a
// value type, shared by the built-in profile (seccomp_default.cc) and the
// JSON loader (seccomp_profile.cc). Internal to the engine.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.h"

namespace berth::engine::seccomp_internal {

struct Filter {  // docker's includes / excludes
  std::vector<std::string> caps;
  std::vector<std::string> arches;
  std::string min_kernel;  // "4.8"
};

struct Rule {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errno_ret;
  std::vector<oci::SeccompArg> args;
  Filter includes, excludes;
};

struct ArchMapEntry {
  std::string arch;  // SCMP_ARCH_X86_64
  std::vector<std::string> sub_arches;
};

struct Profile {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;
  std::vector<ArchMapEntry> arch_map;
  std::vector<std::string> flags;
  std::string listener_path, listener_metadata;
  std::vector<Rule> syscalls;
};

// The profile made concrete for one container: rules whose includes match
// (every listed cap held, the arch listed, the kernel new enough) and whose
// excludes do not; archMap entries of the native arch. `kernel` is the
// running kernel's release ("6.1.0-18-amd64"); "" = uname.
oci::Seccomp apply(const Profile& p, const std::vector<std::string>& caps, std::string_view arch,
                   std::string_view kernel = "");

// SCMP_ARCH_* names of a Go arch: the native one first, then the compat ones.
std::vector<std::string> scmp_arches(std::string_view go_arch);

}  // namespace berth::engine::seccomp_internal
