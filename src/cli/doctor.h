// cli/doctor.h — `berth doctor`'s host checks: what berth needs from the
// kernel and the system, read from /proc and /sys (under a root prefix, so
// tests run them over fixture trees). The daemon-side checks (is berthd
// reachable, does the dashboard answer) are in cmd_doctor.cc.
// Depends on: base.
#pragma once

#include <string>
#include <vector>

namespace berth::cli {

// Unknown: the host gives no way to tell (printed, never a failure).
enum class CheckStatus { Ok, Warn, Missing, Unknown };

struct Check {
  std::string name;  // "kernel", "overlayfs", ...
  CheckStatus status = CheckStatus::Ok;
  std::string detail;      // what was found, in plain words
  std::string fix;         // what to do ("" when OK)
  bool essential = false;  // a Missing essential check makes doctor fail
};

// Every host check, in a fixed order, reading files under `root` ("" = the
// real system): kernel version (5.6+ for openat2), overlay filesystem,
// cgroups (v1/v2 and the controllers berth uses), nftables, seccomp, user
// namespaces.
std::vector<Check> host_checks(const std::string& root = "");

// "5.10.0-23-amd64" -> {5, 10}; {0, 0} when unreadable.
std::pair<int, int> kernel_version(const std::string& release);

// One line per check ("  OK       kernel: ...") plus an indented fix line.
std::string format_check(const Check& c);

// True when no essential check is Missing.
bool all_essential_ok(const std::vector<Check>& checks);

}  // namespace berth::cli
