// Names the runtime-spec gives to Linux kernel objects: namespace types and
// RLIMIT_* resources (getrlimit(2); the list is the same on every Linux
// architecture, only the numbers differ, hence the lookup through <sys/resource.h>).
#include <sys/resource.h>

#include <utility>

#include "oci/spec_codec.h"

namespace berth::oci {
namespace {

const std::vector<std::pair<std::string, int>>& rlimit_table() {
  static const auto* table = new std::vector<std::pair<std::string, int>>{
      {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},
      {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},
      {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_STACK", RLIMIT_STACK},
  };
  return *table;
}

}  // namespace

const std::vector<std::string>& known_namespaces() {
  // config-linux.md "Namespaces"; "time" since runtime-spec 1.1.
  static const auto* names = new std::vector<std::string>{"pid", "network", "mount",  "ipc",
                                                          "uts", "user",    "cgroup", "time"};
  return *names;
}

const std::vector<std::string>& known_rlimits() {
  static const auto* names = [] {
    auto* v = new std::vector<std::string>;
    for (const auto& [name, num] : rlimit_table()) v->push_back(name);
    return v;
  }();
  return *names;
}

int rlimit_from_name(std::string_view name) {
  for (const auto& [n, num] : rlimit_table()) {
    if (n == name) return num;
  }
  return -1;
}

}  // namespace berth::oci
