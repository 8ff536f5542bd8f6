#include "runtime/features.h"

#include <seccomp.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.h"
#include "oci/spec_codec.h"
#include "runtime/capabilities.h"
#include "runtime/seccomp.h"

namespace berth::runtime {
namespace {

// Hook names of config.json that the runtime runs.
const std::vector<std::string> kHooks = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

// Generic (not filesystem-specific) mount options that the runtime's mount
// code understands. Keep in step with runtime/mount_options.cc: an option
// listed here must not be passed through to mount(2) as data.
// Space-separated, in alphabetical order.
constexpr std::string_view kMountOptions =
    "async atime bind defaults dev diratime dirsync exec iversion lazytime loud mand "
    "noatime nodev nodiratime noexec noiversion nolazytime nomand norelatime nostrictatime "
    "nosuid private ratime rbind rdev rdiratime relatime remount rexec rnoatime rnodev "
    "rnodiratime rnoexec rnorelatime rnostrictatime rnosuid ro rprivate rrelatime rro rrw "
    "rshared rslave rstrictatime rsuid runbindable rw shared silent slave strictatime suid "
    "sync unbindable";

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

Json features_json() {
  std::vector<std::string> namespaces = oci::known_namespaces();
  std::sort(namespaces.begin(), namespaces.end());
  const scmp_version* v = seccomp_version();
  Json seccomp = {
      {"enabled", true},
      {"actions", seccomp_known_actions()},
      {"operators", seccomp_known_operators()},
      {"archs", seccomp_known_archs()},
      {"knownFlags", seccomp_known_flags()},
      {"supportedFlags", seccomp_supported_flags()},
  };
  Json linux = {
      {"namespaces", std::move(namespaces)},
      {"capabilities", known_capabilities()},
      {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
      {"seccomp", std::move(seccomp)},
      {"apparmor", {{"enabled", false}}},
      {"selinux", {{"enabled", false}}},
      {"intelRdt", {{"enabled", false}}},
  };
  Json annotations = Json::object();
  if (v != nullptr) {
    annotations["io.github.seccomp.libseccomp.version"] =
        fmt::format("{}.{}.{}", v->major, v->minor, v->micro);
  }
  return Json{
      {"ociVersionMin", "1.0.0"},  {"ociVersionMax", oci::kSpecVersion},
      {"hooks", kHooks},           {"mountOptions", split_words(kMountOptions)},
      {"linux", std::move(linux)}, {"annotations", std::move(annotations)},
  };
}

}  // namespace berth::runtime
