// validate_spec: checks of a decoded config.json that need neither the
// filesystem nor the kernel. Names the kernel knows through libcap/libseccomp
// (capabilities, seccomp actions, architectures, operators) are checked by the
// runtime module, which links those libraries; here only their shape.
#include <algorithm>
#include <set>

#include "base/strings.h"
#include "oci/spec_codec.h"

namespace berth::oci {
namespace {

constexpr std::string_view kDoc = "config.json";

Error invalid(std::string_view path, std::string_view msg) {
  return make_error(Errc::InvalidArgument, "{}: {}: {}", kDoc, path, msg);
}

// `path` names the field, `value` is quoted into the message.
Error invalid_value(std::string_view path, std::string_view value, std::string_view msg) {
  return make_error(Errc::InvalidArgument, "{}: {} \"{}\": {}", kDoc, path, value, msg);
}

bool contains(std::initializer_list<std::string_view> set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

Result<void> check_absolute(std::string_view path, const std::string& value) {
  if (value.empty()) return invalid(path, "must not be empty");
  if (value[0] != '/') return invalid_value(path, value, "must be an absolute path");
  return ok();
}

Result<void> check_names(std::string_view path, const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return invalid(fmt::format("{}[{}]", path, i), "must not be empty");
  }
  return ok();
}

// "1.MINOR.PATCH" with optional "-prerelease" and "+build" (SemVer 2.0.0);
// runc writes "1.0.2-dev", so pre-release tags must be accepted.
Result<void> check_version(const std::string& v) {
  if (v.empty()) return invalid("ociVersion", "missing");
  std::string_view core = v;
  core = core.substr(0, core.find_first_of("-+"));
  auto parts = split(core, '.');
  bool numeric = parts.size() == 3;
  for (const auto& p : parts) {
    numeric = numeric && !p.empty() && parse_uint(p).has_value();
  }
  if (!numeric) return invalid_value("ociVersion", v, "not a semantic version (MAJOR.MINOR.PATCH)");
  if (parts[0] != "1") {
    return invalid_value("ociVersion", v, fmt::format("unsupported major version {}", parts[0]));
  }
  return ok();
}

Result<void> check_id_mappings(std::string_view path, const std::vector<IdMapping>& maps) {
  for (size_t i = 0; i < maps.size(); ++i) {
    if (maps[i].size == 0) return invalid(fmt::format("{}[{}].size", path, i), "must be > 0");
  }
  return ok();
}

Result<void> check_process(const Process& p) {
  if (p.args.empty()) return invalid("process.args", "must not be empty");
  if (p.args[0].empty()) return invalid("process.args[0]", "must not be empty");
  if (p.cwd.empty()) return invalid("process.cwd", "must not be empty");
  if (p.cwd[0] != '/') return invalid_value("process.cwd", p.cwd, "must be an absolute path");
  if (p.capabilities) {
    const Capabilities& c = *p.capabilities;
    BERTH_TRY(check_names("process.capabilities.bounding", c.bounding));
    BERTH_TRY(check_names("process.capabilities.effective", c.effective));
    BERTH_TRY(check_names("process.capabilities.inheritable", c.inheritable));
    BERTH_TRY(check_names("process.capabilities.permitted", c.permitted));
    BERTH_TRY(check_names("process.capabilities.ambient", c.ambient));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    const Rlimit& l = p.rlimits[i];
    std::string path = fmt::format("process.rlimits[{}]", i);
    if (rlimit_from_name(l.type) < 0)
      return invalid_value(path + ".type", l.type, "unknown rlimit");
    if (!seen.insert(l.type).second) {
      return invalid_value(path + ".type", l.type, "repeated (each rlimit may be set once)");
    }
    if (l.soft > l.hard) {
      return invalid(path,
                     fmt::format("{} soft limit {} exceeds hard limit {}", l.type, l.soft, l.hard));
    }
  }
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000)) {
    return invalid("process.oomScoreAdj",
                   fmt::format("{} is outside [-1000, 1000]", *p.oom_score_adj));
  }
  if (p.io_priority) {
    if (!contains({"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"},
                  p.io_priority->klass)) {
      return invalid_value("process.ioPriority.class", p.io_priority->klass,
                           "must be IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE");
    }
    // ioprio_set(2): levels 0 (highest) to 7 for the RT and BE classes.
    if (p.io_priority->priority < 0 || p.io_priority->priority > 7) {
      return invalid("process.ioPriority.priority",
                     fmt::format("{} is outside [0, 7]", p.io_priority->priority));
    }
  }
  if (p.scheduler) {
    const Scheduler& s = *p.scheduler;
    if (!contains({"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO",
                   "SCHED_IDLE", "SCHED_DEADLINE"},
                  s.policy)) {
      return invalid_value("process.scheduler.policy", s.policy, "unknown scheduling policy");
    }
    if (s.nice < -20 || s.nice > 19) {
      return invalid("process.scheduler.nice", fmt::format("{} is outside [-20, 19]", s.nice));
    }
    BERTH_TRY(check_names("process.scheduler.flags", s.flags));
  }
  return ok();
}

Result<void> check_mounts(const std::vector<Mount>& mounts) {
  for (size_t i = 0; i < mounts.size(); ++i) {
    const Mount& m = mounts[i];
    std::string path = fmt::format("mounts[{}]", i);
    BERTH_TRY(check_absolute(path + ".destination", m.destination));
    // An idmapped mount (mount_setattr(2) MOUNT_ATTR_IDMAP) takes one user
    // namespace, which carries both maps.
    if (m.uid_mappings.empty() != m.gid_mappings.empty()) {
      return invalid(path, "uidMappings and gidMappings must be given together");
    }
    BERTH_TRY(check_id_mappings(path + ".uidMappings", m.uid_mappings));
    BERTH_TRY(check_id_mappings(path + ".gidMappings", m.gid_mappings));
  }
  return ok();
}

Result<void> check_hook_list(std::string_view kind, const std::vector<Hook>& hooks) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    std::string path = fmt::format("hooks.{}[{}]", kind, i);
    BERTH_TRY(check_absolute(path + ".path", hooks[i].path));
    if (hooks[i].timeout && *hooks[i].timeout <= 0) {
      return invalid(path + ".timeout", fmt::format("must be > 0, got {}", *hooks[i].timeout));
    }
  }
  return ok();
}

Result<void> check_hooks(const Hooks& h) {
  BERTH_TRY(check_hook_list("prestart", h.prestart));
  BERTH_TRY(check_hook_list("createRuntime", h.create_runtime));
  BERTH_TRY(check_hook_list("createContainer", h.create_container));
  BERTH_TRY(check_hook_list("startContainer", h.start_container));
  BERTH_TRY(check_hook_list("poststart", h.poststart));
  BERTH_TRY(check_hook_list("poststop", h.poststop));
  return ok();
}

Result<void> check_namespaces(const Spec& s) {
  static const std::vector<Namespace> kNone;
  const auto& nss = s.linux ? s.linux->namespaces : kNone;
  std::set<std::string> seen;
  bool new_user = false, has_user = false, has_uts = false;
  for (size_t i = 0; i < nss.size(); ++i) {
    const Namespace& ns = nss[i];
    std::string path = fmt::format("linux.namespaces[{}]", i);
    const auto& known = known_namespaces();
    if (std::find(known.begin(), known.end(), ns.type) == known.end()) {
      return invalid_value(path + ".type", ns.type, "unknown namespace type");
    }
    if (!seen.insert(ns.type).second) {
      return invalid_value(path + ".type", ns.type, "repeated (each namespace may appear once)");
    }
    if (!ns.path.empty() && ns.path[0] != '/') {
      return invalid_value(path + ".path", ns.path, "must be an absolute path");
    }
    if (ns.type == "user") {
      has_user = true;
      new_user = ns.path.empty();
    }
    if (ns.type == "uts") has_uts = true;
  }
  static const std::vector<IdMapping> kNoMaps;
  const auto& uids = s.linux ? s.linux->uid_mappings : kNoMaps;
  const auto& gids = s.linux ? s.linux->gid_mappings : kNoMaps;
  if (new_user) {
    if (uids.empty()) return invalid("linux.uidMappings", "required for a new user namespace");
    if (gids.empty()) return invalid("linux.gidMappings", "required for a new user namespace");
  } else {
    // Joining an existing user namespace inherits its maps; they cannot be rewritten.
    std::string_view why = has_user ? "not allowed when joining an existing user namespace"
                                    : "given without a user namespace in linux.namespaces";
    if (!uids.empty()) return invalid("linux.uidMappings", why);
    if (!gids.empty()) return invalid("linux.gidMappings", why);
  }
  BERTH_TRY(check_id_mappings("linux.uidMappings", uids));
  BERTH_TRY(check_id_mappings("linux.gidMappings", gids));
  // sethostname(2) on the host's UTS namespace would rename the host.
  if (!has_uts && !s.hostname.empty()) {
    return invalid_value("hostname", s.hostname, "needs a uts namespace in linux.namespaces");
  }
  if (!has_uts && !s.domainname.empty()) {
    return invalid_value("domainname", s.domainname, "needs a uts namespace in linux.namespaces");
  }
  return ok();
}

Result<void> check_resources(const Resources& r) {
  for (size_t i = 0; i < r.devices.size(); ++i) {
    const DeviceCgroupRule& d = r.devices[i];
    std::string path = fmt::format("linux.resources.devices[{}]", i);
    if (!contains({"", "a", "c", "b"}, d.type)) {
      return invalid_value(path + ".type", d.type, "must be one of a, c, b");
    }
    if (d.access.find_first_not_of("rwm") != std::string::npos) {
      return invalid_value(path + ".access", d.access, "must be a combination of r, w, m");
    }
  }
  for (size_t i = 0; i < r.hugepage_limits.size(); ++i) {
    if (r.hugepage_limits[i].page_size.empty()) {
      return invalid(fmt::format("linux.resources.hugepageLimits[{}].pageSize", i),
                     "must not be empty");
    }
  }
  for (const auto& [key, value] : r.unified) {
    if (key.empty() || key.find('/') != std::string::npos) {
      return invalid_value("linux.resources.unified", key, "not a cgroup file name");
    }
  }
  return ok();
}

Result<void> check_seccomp(const Seccomp& s) {
  if (s.default_action.empty()) return invalid("linux.seccomp.defaultAction", "must not be empty");
  BERTH_TRY(check_names("linux.seccomp.architectures", s.architectures));
  BERTH_TRY(check_names("linux.seccomp.flags", s.flags));
  bool notify = s.default_action == "SCMP_ACT_NOTIFY";
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const SeccompSyscall& sc = s.syscalls[i];
    std::string path = fmt::format("linux.seccomp.syscalls[{}]", i);
    if (sc.names.empty()) return invalid(path + ".names", "must not be empty");
    BERTH_TRY(check_names(path + ".names", sc.names));
    if (sc.action.empty()) return invalid(path + ".action", "must not be empty");
    if (sc.action == "SCMP_ACT_NOTIFY") notify = true;
    for (size_t k = 0; k < sc.args.size(); ++k) {
      if (sc.args[k].op.empty()) {
        return invalid(fmt::format("{}.args[{}].op", path, k), "must not be empty");
      }
    }
  }
  if (notify && s.listener_path.empty()) {
    return invalid("linux.seccomp.listenerPath", "required when SCMP_ACT_NOTIFY is used");
  }
  if (!s.listener_path.empty() && s.listener_path[0] != '/') {
    return invalid_value("linux.seccomp.listenerPath", s.listener_path, "must be an absolute path");
  }
  return ok();
}

Result<void> check_linux(const Linux& l) {
  for (size_t i = 0; i < l.devices.size(); ++i) {
    const Device& d = l.devices[i];
    std::string path = fmt::format("linux.devices[{}]", i);
    BERTH_TRY(check_absolute(path + ".path", d.path));
    if (!contains({"c", "b", "u", "p"}, d.type)) {
      return invalid_value(path + ".type", d.type, "must be one of c, b, u, p");
    }
  }
  for (const auto& [key, value] : l.sysctl) {
    if (key.empty()) return invalid("linux.sysctl", "empty key");
  }
  if (l.resources) BERTH_TRY(check_resources(*l.resources));
  if (l.seccomp) BERTH_TRY(check_seccomp(*l.seccomp));
  if (!contains({"", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable",
                 "runbindable"},
                l.rootfs_propagation)) {
    return invalid_value("linux.rootfsPropagation", l.rootfs_propagation,
                         "not a mount propagation mode");
  }
  for (size_t i = 0; i < l.masked_paths.size(); ++i) {
    BERTH_TRY(check_absolute(fmt::format("linux.maskedPaths[{}]", i), l.masked_paths[i]));
  }
  for (size_t i = 0; i < l.readonly_paths.size(); ++i) {
    BERTH_TRY(check_absolute(fmt::format("linux.readonlyPaths[{}]", i), l.readonly_paths[i]));
  }
  if (l.personality && !contains({"LINUX", "LINUX32"}, l.personality->domain)) {
    return invalid_value("linux.personality.domain", l.personality->domain,
                         "must be LINUX or LINUX32");
  }
  if (!l.time_offsets.empty()) {
    bool new_time_ns = false;
    for (const auto& n : l.namespaces) new_time_ns |= n.type == "time" && n.path.empty();
    if (!new_time_ns) return invalid("linux.timeOffsets", "needs a new time namespace");
    for (const auto& [clock, off] : l.time_offsets) {
      if (clock != "monotonic" && clock != "boottime")
        return invalid_value("linux.timeOffsets", clock, "clock must be monotonic or boottime");
      if (off.nanosecs >= 1000000000u)
        return invalid(fmt::format("linux.timeOffsets.{}.nanosecs", clock),
                       "must be below 1000000000");
    }
  }
  return ok();
}

}  // namespace

Result<void> validate_spec(const Spec& s) {
  BERTH_TRY(check_version(s.oci_version));
  if (!s.root) return invalid("root", "missing (required on Linux)");
  if (s.root->path.empty()) return invalid("root.path", "must not be empty");
  if (!s.process) return invalid("process", "missing");
  BERTH_TRY(check_process(*s.process));
  BERTH_TRY(check_mounts(s.mounts));
  if (s.hooks) BERTH_TRY(check_hooks(*s.hooks));
  BERTH_TRY(check_namespaces(s));
  if (s.linux) BERTH_TRY(check_linux(*s.linux));
  return ok();
}

}  // namespace berth::oci
