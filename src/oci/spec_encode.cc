// Encoding of oci::Spec to config.json. Unset optionals, empty strings, empty
// lists/maps and false booleans are omitted, as the runtime-spec's own Go
// bindings do (omitempty); the few members the schema requires are always
// written (ociVersion, process.user/cwd, root.path, mount destination, ...).
#include "oci/spec_codec.h"

namespace berth::oci {
namespace {

void put_str(Json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}

void put_strs(Json& j, const char* key, const std::vector<std::string>& v) {
  if (!v.empty()) j[key] = v;
}

void put_map(Json& j, const char* key, const std::map<std::string, std::string>& v) {
  if (!v.empty()) j[key] = v;
}

void put_true(Json& j, const char* key, bool v) {
  if (v) j[key] = true;
}

template <typename T>
void put_opt(Json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

template <typename T>
void put_nonzero(Json& j, const char* key, T v) {
  if (v != 0) j[key] = v;
}

template <typename T, typename F>
void put_list(Json& j, const char* key, const std::vector<T>& v, F encode) {
  if (v.empty()) return;
  Json a = Json::array();
  for (const T& e : v) a.push_back(encode(e));
  j[key] = std::move(a);
}

Json encode_id_mapping(const IdMapping& m) {
  return Json{{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}};
}

Json encode_process(const Process& p) {
  Json j = Json::object();
  put_true(j, "terminal", p.terminal);
  if (p.console_size) {
    j["consoleSize"] = Json{{"height", p.console_size->height}, {"width", p.console_size->width}};
  }
  Json user{{"uid", p.user.uid}, {"gid", p.user.gid}};
  put_opt(user, "umask", p.user.umask);
  if (!p.user.additional_gids.empty()) user["additionalGids"] = p.user.additional_gids;
  put_str(user, "username", p.user.username);
  j["user"] = std::move(user);
  put_strs(j, "args", p.args);
  put_str(j, "commandLine", p.command_line);
  put_strs(j, "env", p.env);
  j["cwd"] = p.cwd;
  if (p.capabilities) {
    Json c = Json::object();
    put_strs(c, "bounding", p.capabilities->bounding);
    put_strs(c, "effective", p.capabilities->effective);
    put_strs(c, "inheritable", p.capabilities->inheritable);
    put_strs(c, "permitted", p.capabilities->permitted);
    put_strs(c, "ambient", p.capabilities->ambient);
    j["capabilities"] = std::move(c);
  }
  put_list(j, "rlimits", p.rlimits, [](const Rlimit& l) {
    return Json{{"type", l.type}, {"hard", l.hard}, {"soft", l.soft}};
  });
  put_true(j, "noNewPrivileges", p.no_new_privileges);
  put_str(j, "apparmorProfile", p.apparmor_profile);
  put_opt(j, "oomScoreAdj", p.oom_score_adj);
  put_str(j, "selinuxLabel", p.selinux_label);
  if (p.io_priority) {
    j["ioPriority"] = Json{{"class", p.io_priority->klass}, {"priority", p.io_priority->priority}};
  }
  if (p.scheduler) {
    const Scheduler& s = *p.scheduler;
    Json sj{{"policy", s.policy}};
    put_nonzero(sj, "nice", s.nice);
    put_nonzero(sj, "priority", s.priority);
    put_strs(sj, "flags", s.flags);
    put_nonzero(sj, "runtime", s.runtime);
    put_nonzero(sj, "deadline", s.deadline);
    put_nonzero(sj, "period", s.period);
    j["scheduler"] = std::move(sj);
  }
  return j;
}

Json encode_mount(const Mount& m) {
  Json j{{"destination", m.destination}};
  put_str(j, "type", m.type);
  put_str(j, "source", m.source);
  put_strs(j, "options", m.options);
  put_list(j, "uidMappings", m.uid_mappings, encode_id_mapping);
  put_list(j, "gidMappings", m.gid_mappings, encode_id_mapping);
  return j;
}

Json encode_hook(const Hook& h) {
  Json j{{"path", h.path}};
  put_strs(j, "args", h.args);
  put_strs(j, "env", h.env);
  put_opt(j, "timeout", h.timeout);
  return j;
}

Json encode_hooks(const Hooks& h) {
  Json j = Json::object();
  put_list(j, "prestart", h.prestart, encode_hook);
  put_list(j, "createRuntime", h.create_runtime, encode_hook);
  put_list(j, "createContainer", h.create_container, encode_hook);
  put_list(j, "startContainer", h.start_container, encode_hook);
  put_list(j, "poststart", h.poststart, encode_hook);
  put_list(j, "poststop", h.poststop, encode_hook);
  return j;
}

Json encode_throttle(const ThrottleDevice& t) {
  return Json{{"major", t.major}, {"minor", t.minor}, {"rate", t.rate}};
}

Json encode_resources(const Resources& r) {
  Json j = Json::object();
  put_list(j, "devices", r.devices, [](const DeviceCgroupRule& d) {
    Json dj{{"allow", d.allow}};
    put_str(dj, "type", d.type);
    put_opt(dj, "major", d.major);
    put_opt(dj, "minor", d.minor);
    put_str(dj, "access", d.access);
    return dj;
  });
  if (r.memory) {
    const MemoryResources& m = *r.memory;
    Json mj = Json::object();
    put_opt(mj, "limit", m.limit);
    put_opt(mj, "reservation", m.reservation);
    put_opt(mj, "swap", m.swap);
    put_opt(mj, "kernel", m.kernel);
    put_opt(mj, "kernelTCP", m.kernel_tcp);
    put_opt(mj, "swappiness", m.swappiness);
    put_opt(mj, "disableOOMKiller", m.disable_oom_killer);
    put_opt(mj, "useHierarchy", m.use_hierarchy);
    put_opt(mj, "checkBeforeUpdate", m.check_before_update);
    j["memory"] = std::move(mj);
  }
  if (r.cpu) {
    const CpuResources& c = *r.cpu;
    Json cj = Json::object();
    put_opt(cj, "shares", c.shares);
    put_opt(cj, "quota", c.quota);
    put_opt(cj, "burst", c.burst);
    put_opt(cj, "period", c.period);
    put_opt(cj, "realtimeRuntime", c.realtime_runtime);
    put_opt(cj, "realtimePeriod", c.realtime_period);
    put_str(cj, "cpus", c.cpus);
    put_str(cj, "mems", c.mems);
    put_opt(cj, "idle", c.idle);
    j["cpu"] = std::move(cj);
  }
  if (r.pids) j["pids"] = Json{{"limit", r.pids->limit}};
  if (r.block_io) {
    const BlockIoResources& b = *r.block_io;
    Json bj = Json::object();
    put_opt(bj, "weight", b.weight);
    put_opt(bj, "leafWeight", b.leaf_weight);
    put_list(bj, "weightDevice", b.weight_device, [](const WeightDevice& w) {
      Json wj{{"major", w.major}, {"minor", w.minor}};
      put_opt(wj, "weight", w.weight);
      put_opt(wj, "leafWeight", w.leaf_weight);
      return wj;
    });
    put_list(bj, "throttleReadBpsDevice", b.throttle_read_bps_device, encode_throttle);
    put_list(bj, "throttleWriteBpsDevice", b.throttle_write_bps_device, encode_throttle);
    put_list(bj, "throttleReadIOPSDevice", b.throttle_read_iops_device, encode_throttle);
    put_list(bj, "throttleWriteIOPSDevice", b.throttle_write_iops_device, encode_throttle);
    j["blockIO"] = std::move(bj);
  }
  put_list(j, "hugepageLimits", r.hugepage_limits, [](const HugepageLimit& h) {
    return Json{{"pageSize", h.page_size}, {"limit", h.limit}};
  });
  if (r.network) {
    Json nj = Json::object();
    put_opt(nj, "classID", r.network->class_id);
    put_list(nj, "priorities", r.network->priorities,
             [](const std::pair<std::string, uint32_t>& p) {
               return Json{{"name", p.first}, {"priority", p.second}};
             });
    j["network"] = std::move(nj);
  }
  put_map(j, "unified", r.unified);
  return j;
}

Json encode_seccomp(const Seccomp& s) {
  Json j{{"defaultAction", s.default_action}};
  put_opt(j, "defaultErrnoRet", s.default_errno_ret);
  put_strs(j, "architectures", s.architectures);
  put_strs(j, "flags", s.flags);
  put_str(j, "listenerPath", s.listener_path);
  put_str(j, "listenerMetadata", s.listener_metadata);
  put_list(j, "syscalls", s.syscalls, [](const SeccompSyscall& sc) {
    Json sj{{"names", sc.names}, {"action", sc.action}};
    put_opt(sj, "errnoRet", sc.errno_ret);
    put_list(sj, "args", sc.args, [](const SeccompArg& a) {
      Json aj{{"index", a.index}, {"value", a.value}, {"op", a.op}};
      put_nonzero(aj, "valueTwo", a.value_two);
      return aj;
    });
    return sj;
  });
  return j;
}

Json encode_linux(const Linux& l) {
  Json j = Json::object();
  put_list(j, "uidMappings", l.uid_mappings, encode_id_mapping);
  put_list(j, "gidMappings", l.gid_mappings, encode_id_mapping);
  put_map(j, "sysctl", l.sysctl);
  if (l.resources) j["resources"] = encode_resources(*l.resources);
  put_str(j, "cgroupsPath", l.cgroups_path);
  put_list(j, "namespaces", l.namespaces, [](const Namespace& ns) {
    Json nj{{"type", ns.type}};
    put_str(nj, "path", ns.path);
    return nj;
  });
  put_list(j, "devices", l.devices, [](const Device& d) {
    Json dj{{"type", d.type}, {"path", d.path}, {"major", d.major}, {"minor", d.minor}};
    put_opt(dj, "fileMode", d.file_mode);
    put_opt(dj, "uid", d.uid);
    put_opt(dj, "gid", d.gid);
    return dj;
  });
  if (l.seccomp) j["seccomp"] = encode_seccomp(*l.seccomp);
  put_str(j, "rootfsPropagation", l.rootfs_propagation);
  put_strs(j, "maskedPaths", l.masked_paths);
  put_strs(j, "readonlyPaths", l.readonly_paths);
  put_str(j, "mountLabel", l.mount_label);
  if (!l.time_offsets.empty()) {
    Json t = Json::object();
    for (const auto& [clock, off] : l.time_offsets)
      t[clock] = {{"secs", off.secs}, {"nanosecs", off.nanosecs}};
    j["timeOffsets"] = std::move(t);
  }
  if (l.personality) {
    Json pj{{"domain", l.personality->domain}};
    put_strs(pj, "flags", l.personality->flags);
    j["personality"] = std::move(pj);
  }
  return j;
}

}  // namespace

Json spec_to_json(const Spec& s) {
  Json j{{"ociVersion", s.oci_version}};
  if (s.process) j["process"] = encode_process(*s.process);
  if (s.root) {
    Json r{{"path", s.root->path}};
    put_true(r, "readonly", s.root->readonly);
    j["root"] = std::move(r);
  }
  put_str(j, "hostname", s.hostname);
  put_str(j, "domainname", s.domainname);
  put_list(j, "mounts", s.mounts, encode_mount);
  if (s.hooks) j["hooks"] = encode_hooks(*s.hooks);
  put_map(j, "annotations", s.annotations);
  if (s.linux) j["linux"] = encode_linux(*s.linux);
  return j;
}

}  // namespace berth::oci
