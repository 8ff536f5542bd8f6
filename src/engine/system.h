// engine/system.h — what `docker info` and `docker version` report about the
// host and the daemon, and the daemon's persistent identity.
// Host probes read files whose paths are parameters, so tests use fixtures.
// Depends on: base, cgroups.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::engine {

struct HostInfo {
  std::string hostname;
  std::string operating_system;  // os-release PRETTY_NAME ("Debian GNU/Linux 12 (bookworm)")
  std::string os_version;        // os-release VERSION_ID ("12")
  std::string kernel_version;    // uname -r
  std::string machine;           // uname -m ("x86_64")
  int ncpu = 0;
  int64_t mem_total = 0;       // bytes
  std::string cgroup_version;  // "1" | "2" | "" when undetectable
};

// PRETTY_NAME (else NAME) and VERSION_ID from an os-release file; "Linux"
// when missing.
void read_os_release(const std::string& path, HostInfo& out);
// MemTotal from a meminfo file in bytes; 0 when unreadable.
int64_t read_mem_total(const std::string& meminfo_path);
HostInfo probe_host(const std::string& os_release_path = "/etc/os-release",
                    const std::string& mountinfo_path = "/proc/self/mountinfo");

// GOARCH spelling of uname -m ("x86_64" -> "amd64", "aarch64" -> "arm64").
std::string go_arch(const std::string& machine);

// The daemon's ID: read from <data_root>/engine-id, created (UUID form,
// written atomically) on first start, so it survives restarts.
Result<std::string> load_or_create_engine_id(const std::string& data_root);

}  // namespace berth::engine
