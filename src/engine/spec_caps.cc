// spec_caps: capability names, docker's default set and its
// --cap-add/--cap-drop arithmetic; --security-opt parsing.
#include <algorithm>
#include <cctype>

#include "base/file.h"
#include "base/strings.h"
#include "engine/spec_builder_internal.h"

namespace berth::engine {
namespace spec_internal {

const std::vector<std::string>& all_capability_names() {
  static const std::vector<std::string> names = {"CAP_CHOWN",
                                                 "CAP_DAC_OVERRIDE",
                                                 "CAP_DAC_READ_SEARCH",
                                                 "CAP_FOWNER",
                                                 "CAP_FSETID",
                                                 "CAP_KILL",
                                                 "CAP_SETGID",
                                                 "CAP_SETUID",
                                                 "CAP_SETPCAP",
                                                 "CAP_LINUX_IMMUTABLE",
                                                 "CAP_NET_BIND_SERVICE",
                                                 "CAP_NET_BROADCAST",
                                                 "CAP_NET_ADMIN",
                                                 "CAP_NET_RAW",
                                                 "CAP_IPC_LOCK",
                                                 "CAP_IPC_OWNER",
                                                 "CAP_SYS_MODULE",
                                                 "CAP_SYS_RAWIO",
                                                 "CAP_SYS_CHROOT",
                                                 "CAP_SYS_PTRACE",
                                                 "CAP_SYS_PACCT",
                                                 "CAP_SYS_ADMIN",
                                                 "CAP_SYS_BOOT",
                                                 "CAP_SYS_NICE",
                                                 "CAP_SYS_RESOURCE",
                                                 "CAP_SYS_TIME",
                                                 "CAP_SYS_TTY_CONFIG",
                                                 "CAP_MKNOD",
                                                 "CAP_LEASE",
                                                 "CAP_AUDIT_WRITE",
                                                 "CAP_AUDIT_CONTROL",
                                                 "CAP_SETFCAP",
                                                 "CAP_MAC_OVERRIDE",
                                                 "CAP_MAC_ADMIN",
                                                 "CAP_SYSLOG",
                                                 "CAP_WAKE_ALARM",
                                                 "CAP_BLOCK_SUSPEND",
                                                 "CAP_AUDIT_READ",
                                                 "CAP_PERFMON",
                                                 "CAP_BPF",
                                                 "CAP_CHECKPOINT_RESTORE"};
  return names;
}

const std::vector<std::string>& docker_default_capabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  return caps;
}

int host_cap_last_cap() {
  auto text = read_file("/proc/sys/kernel/cap_last_cap");
  if (text) {
    if (auto v = parse_int(trim(*text)); v && *v >= 0) return static_cast<int>(*v);
  }
  return static_cast<int>(all_capability_names().size()) - 1;
}

uint64_t own_bounding_set() {
  auto text = read_file("/proc/self/status");
  if (!text) return ~0ull;
  for (auto& line : split(*text, '\n', true)) {
    if (!starts_with(line, "CapBnd:")) continue;
    std::string hex(trim(std::string_view(line).substr(7)));
    uint64_t v = 0;
    for (char c : hex) {
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0) return ~0ull;
      v = (v << 4) | static_cast<uint64_t>(d);
    }
    return v;
  }
  return ~0ull;
}

Result<SecurityOpts> parse_security_opts(const std::vector<std::string>& opts) {
  SecurityOpts s;
  for (const std::string& opt : opts) {
    if (opt == "no-new-privileges") {
      s.no_new_privileges = true;
      continue;
    }
    // docker accepts "key=value" and the older "key:value".
    size_t sep = opt.find_first_of("=:");
    if (sep == std::string::npos) {
      return make_error(Errc::InvalidArgument, "Invalid --security-opt: \"{}\"", opt);
    }
    std::string key = opt.substr(0, sep), value = opt.substr(sep + 1);
    auto parse_bool = [&](bool* out) -> Result<void> {
      if (value == "true" || value == "1") {
        *out = true;
      } else if (value == "false" || value == "0") {
        *out = false;
      } else {
        return make_error(Errc::InvalidArgument,
                          "Invalid --security-opt {}: \"{}\" (want true or false)", key, value);
      }
      return ok();
    };
    if (key == "seccomp") {
      if (value == "unconfined") {
        s.seccomp_unconfined = true;
      } else if (value == "builtin" || value.empty()) {
        s.seccomp_profile.clear();
      } else {
        s.seccomp_profile = value;  // the CLI sends the file's content
      }
    } else if (key == "no-new-privileges") {
      BERTH_TRY(parse_bool(&s.no_new_privileges));
    } else if (key == "systempaths") {
      if (value != "unconfined") {
        return make_error(Errc::InvalidArgument,
                          "Invalid --security-opt systempaths: \"{}\" (only \"unconfined\")",
                          value);
      }
      s.systempaths_unconfined = true;
    } else if (key == "writable-cgroups") {
      BERTH_TRY(parse_bool(&s.writable_cgroups));
    } else if (key == "apparmor" || key == "label") {
      // Neither AppArmor nor SELinux is applied by berth; docker accepts
      // these on hosts without the LSM too.
    } else {
      return make_error(Errc::InvalidArgument, "Invalid --security-opt: \"{}\"", opt);
    }
  }
  return s;
}

}  // namespace spec_internal

namespace {

// "net_admin" / "CAP_NET_ADMIN" / "all" -> "CAP_NET_ADMIN" / "ALL".
Result<std::vector<std::string>> normalize_caps(const std::vector<std::string>& in) {
  const auto& known = spec_internal::all_capability_names();
  std::vector<std::string> out;
  for (const std::string& raw : in) {
    std::string c(trim(raw));
    std::transform(c.begin(), c.end(), c.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
    if (c != "ALL") {
      if (!starts_with(c, "CAP_")) c = "CAP_" + c;
      if (std::find(known.begin(), known.end(), c) == known.end()) {
        return make_error(Errc::InvalidArgument, "unknown capability: \"{}\"", c);
      }
    }
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

Result<std::vector<std::string>> container_capabilities(const std::vector<std::string>& cap_add,
                                                        const std::vector<std::string>& cap_drop,
                                                        bool privileged, int cap_last_cap,
                                                        uint64_t grantable) {
  // Auto mode: the kernel's capabilities that this daemon may grant (its
  // own bounding set; a daemon inside a restricted sandbox lacks some, and
  // asking for them would fail the container's start).
  if (cap_last_cap < 0) {
    // Read once: neither changes while berthd runs (it never drops from its
    // own bounding set), and every create and privileged exec asks.
    static const int kernel_last = spec_internal::host_cap_last_cap();
    static const uint64_t own = spec_internal::own_bounding_set();
    cap_last_cap = kernel_last;
    grantable = own;
  }
  const auto& known = spec_internal::all_capability_names();
  std::vector<std::string> all;
  for (int i = 0; i <= cap_last_cap && i < static_cast<int>(known.size()); ++i) {
    if (grantable & (1ull << i)) all.push_back(known[i]);
  }
  // Validate even when privileged, so a typo is reported either way.
  auto add = BERTH_TRY(normalize_caps(cap_add));
  auto drop = BERTH_TRY(normalize_caps(cap_drop));
  if (privileged) return all;
  // A capability asked for by name that this daemon cannot grant would fail
  // the start with a bare EPERM from capset (docker: "unable to apply
  // caps"); say at create which one and why. Defaults it cannot grant are
  // left out instead: nobody asked for them, and every container would
  // fail otherwise.
  for (const auto& c : add) {
    if (c == "ALL" || has(all, c)) continue;
    return make_error(Errc::InvalidArgument,
                      "cannot add capability {}: it is not in berthd's own capability bounding "
                      "set (this host or sandbox withholds it), so no container here can have it",
                      c);
  }
  std::vector<std::string> caps;
  if (has(add, "ALL")) {
    for (auto& c : all)
      if (!has(drop, c)) caps.push_back(c);
    return caps;
  }
  if (has(drop, "ALL")) {
    for (auto& c : add)
      if (!has(caps, c)) caps.push_back(c);
    return caps;
  }
  for (auto& c : spec_internal::docker_default_capabilities()) {
    if (!has(drop, c) && has(all, c)) caps.push_back(c);
  }
  for (auto& c : add) {
    if (!has(caps, c)) caps.push_back(c);
  }
  return caps;
}

}  // namespace berth::engine
