// cgroups/devices.h — linux.resources.devices rules, checked and normalised
// once, then rendered for v1 (devices.allow/deny lines) or v2 (eBPF, see
// devices_bpf.h). Pure functions. Depends on: base, oci.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::cgroups {

// Access bits, the same values the kernel uses (BPF_DEVCG_ACC_*).
inline constexpr uint32_t kAccMknod = 1;
inline constexpr uint32_t kAccRead = 2;
inline constexpr uint32_t kAccWrite = 4;
inline constexpr uint32_t kAccAll = kAccMknod | kAccRead | kAccWrite;

struct DeviceRule {
  bool allow = false;
  char type = 'a';     // 'a' (any), 'c', 'b'
  int64_t major = -1;  // -1 = any
  int64_t minor = -1;  // -1 = any
  uint32_t access = kAccAll;
};

// Validates type (a, c, b; empty = a), access (subset of "rwm"; empty =
// "rwm") and numbers. Errors name the rule index and the bad field.
Result<std::vector<DeviceRule>> normalize_device_rules(
    const std::vector<oci::DeviceCgroupRule>& rules);

// "rwm" spelling of access bits (always in r, w, m order).
std::string access_string(uint32_t access);

// The v1 writes, in order, as (file, line) pairs. A rule of type 'a' with
// wildcard numbers and full access becomes the bare "a" line, which resets
// the cgroup to allow-all or deny-all and drops every exception. Type 'a'
// with a narrower scope is split into "c ..." and "b ..." lines, because the
// kernel reads any "a ..." line as "everything" and would ignore the rest.
std::vector<std::pair<std::string, std::string>> v1_device_writes(
    const std::vector<DeviceRule>& rules);

// Reference semantics (runc's): the last rule that matches wins; nothing
// matching means deny. An allow rule matches when the requested access is a
// subset of its access; a deny rule matches when they share any bit (so
// "deny w" blocks an open for read+write). Used by the tests as the oracle
// for the eBPF program.
bool device_access_allowed(const std::vector<DeviceRule>& rules, char type, int64_t major,
                           int64_t minor, uint32_t access);

}  // namespace berth::cgroups
