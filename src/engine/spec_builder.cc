// spec_builder: assembles the OCI spec from the parts in spec_*.cc.
#include "engine/spec_builder.h"

#include "base/strings.h"
#include "engine/seccomp_default.h"
#include "engine/spec_builder_internal.h"

namespace berth::engine {
namespace si = spec_internal;
namespace {

struct NsPlan {
  bool pid = true, ipc = true, uts = true, net = true, cgroup = true;
};

// One namespace: "" / private modes -> new, "host" -> none, "container:x"
// -> join the path the engine resolved.
Result<void> add_namespace(oci::Linux& l, const SpecInput& in, const char* type, const char* flag,
                           const std::string& mode, bool* is_private) {
  *is_private = true;
  if (mode == "host") {
    *is_private = false;
    return ok();
  }
  if (starts_with(mode, "container:")) {
    auto it = in.join_namespaces.find(type);
    if (it == in.join_namespaces.end() || it->second.empty()) {
      return make_error(Errc::InvalidArgument,
                        "{}: \"{}\" needs the namespace path of the other container", flag, mode);
    }
    l.namespaces.push_back(oci::Namespace{type, it->second});
    return ok();
  }
  l.namespaces.push_back(oci::Namespace{type, ""});
  return ok();
}

Result<void> check_mode(const char* flag, const std::string& mode,
                        std::initializer_list<const char*> allowed, bool container_ok) {
  if (container_ok && starts_with(mode, "container:") && mode.size() > 10) return ok();
  for (const char* a : allowed)
    if (mode == a) return ok();
  return make_error(Errc::InvalidArgument, "{}: invalid mode \"{}\"", flag, mode);
}

}  // namespace

Result<void> check_namespace_conflicts(const ContainerConfig& cfg, const HostConfig& hc) {
  auto bad = [](const char* what) { return make_error(Errc::InvalidArgument, "{}", what); };
  for (auto [flag, mode] : {std::pair{"--network", &hc.network_mode},
                            {"--pid", &hc.pid_mode},
                            {"--ipc", &hc.ipc_mode}}) {
    if (*mode == "container:") {
      return make_error(Errc::InvalidArgument,
                        "{}: invalid mode \"container:\": the container's name or id is missing",
                        flag);
    }
  }
  if (hc.uts_mode == "host" && !cfg.hostname.empty()) {
    return bad("conflicting options: hostname and the UTS mode");
  }
  if (hc.network_mode == "host" && !hc.links.empty()) {
    return bad(
        "conflicting options: host type networking can't be used with links. This would result "
        "in undefined behavior");
  }
  if (!starts_with(hc.network_mode, "container:")) return ok();
  if (!cfg.hostname.empty()) return bad("conflicting options: hostname and the network mode");
  if (!hc.links.empty()) {
    return bad(
        "conflicting options: container type network can't be used with links. This would "
        "result in undefined behavior");
  }
  if (!hc.dns.empty()) return bad("conflicting options: dns and the network mode");
  if (!hc.extra_hosts.empty()) {
    return bad("conflicting options: custom host-to-IP mapping and the network mode");
  }
  if (!hc.port_bindings.empty() || hc.publish_all_ports) {
    return bad("conflicting options: port publishing and the container type network mode");
  }
  if (!cfg.exposed_ports.empty()) {
    return bad("conflicting options: port exposing and the container type network mode");
  }
  return ok();
}

Result<oci::Spec> build_spec(const SpecInput& in) {
  const ContainerConfig& cfg = in.config;
  const HostConfig& hc = in.host_config;
  if (in.id.size() < 12) {
    return make_error(Errc::InvalidArgument, "container id \"{}\" is too short", in.id);
  }
  si::SecurityOpts sec = BERTH_TRY(si::parse_security_opts(hc.security_opt));

  // Namespace modes.
  BERTH_TRY(check_mode("--pid", hc.pid_mode, {"", "host", "private"}, true));
  BERTH_TRY(check_mode("--ipc", hc.ipc_mode, {"", "private", "shareable", "none", "host"}, true));
  BERTH_TRY(check_mode("--uts", hc.uts_mode, {"", "host", "private"}, false));
  BERTH_TRY(check_mode("--cgroupns", hc.cgroupns_mode, {"", "private", "host"}, false));
  if (!hc.userns_mode.empty() && hc.userns_mode != "host") {
    return make_error(Errc::NotImplemented, "--userns: mode \"{}\" is not supported (only host)",
                      hc.userns_mode);
  }
  std::string net_mode = hc.network_mode;
  // Bridge and user networks: berthd's namespace (netns_path) or a new one;
  // "none": a new one with loopback only.
  if (net_mode != "host" && !starts_with(net_mode, "container:")) net_mode = "";

  oci::Spec s;
  s.oci_version = oci::kSpecVersion;
  s.root = oci::Root{in.rootfs_path, hc.readonly_rootfs};
  s.annotations = hc.annotations;  // --annotation: for the runtime (runc, crun) to read
  std::string hostname = cfg.hostname.empty() ? in.id.substr(0, 12) : cfg.hostname;
  if (hc.uts_mode != "host") {
    s.hostname = hostname;
    s.domainname = cfg.domainname;
  }

  oci::Linux l;
  NsPlan ns;
  BERTH_TRY(
      add_namespace(l, in, "pid", "--pid", hc.pid_mode == "private" ? "" : hc.pid_mode, &ns.pid));
  BERTH_TRY(add_namespace(l, in, "ipc", "--ipc", hc.ipc_mode, &ns.ipc));
  BERTH_TRY(
      add_namespace(l, in, "uts", "--uts", hc.uts_mode == "private" ? "" : hc.uts_mode, &ns.uts));
  l.namespaces.push_back(oci::Namespace{"mount", ""});
  if (net_mode.empty() && !in.netns_path.empty() && hc.network_mode != "none") {
    l.namespaces.push_back(oci::Namespace{"network", in.netns_path});
    ns.net = true;
  } else {
    BERTH_TRY(add_namespace(l, in, "network", "--network", net_mode, &ns.net));
  }
  std::string cgns = hc.cgroupns_mode;
  if (cgns.empty()) cgns = in.cgroup_version == cgroups::Version::V2 ? "private" : "host";
  if (cgns == "private") l.namespaces.push_back(oci::Namespace{"cgroup", ""});

  BERTH_TRY(si::validate_sysctls(hc.sysctls, ns.net, ns.ipc, ns.uts));
  l.sysctl = hc.sysctls;
  l.resources = BERTH_TRY(si::build_resources(hc, in.host_dev_dir));
  l.devices = BERTH_TRY(si::build_devices(hc, in.host_dev_dir)).devices;
  std::string parent =
      hc.resources.cgroup_parent.empty() ? in.cgroup_parent : hc.resources.cgroup_parent;
  l.cgroups_path = container_cgroups_path(parent, in.id);

  std::vector<std::string> caps =
      BERTH_TRY(container_capabilities(hc.cap_add, hc.cap_drop, hc.privileged, in.cap_last_cap));
  if (!hc.privileged && !sec.seccomp_unconfined) {
    std::string profile =
        !sec.seccomp_profile.empty() ? sec.seccomp_profile : in.default_seccomp_profile;
    if (profile.empty()) {
      l.seccomp = default_seccomp_profile(caps, in.arch);
    } else {
      auto loaded = load_seccomp_profile(profile, caps, in.arch);
      if (!loaded) return std::move(loaded).error().context("--security-opt seccomp");
      l.seccomp = std::move(*loaded);
    }
  }
  if (!hc.privileged && !sec.systempaths_unconfined) {
    l.masked_paths = hc.masked_paths ? *hc.masked_paths : si::default_masked_paths();
    l.readonly_paths = hc.readonly_paths ? *hc.readonly_paths : si::default_readonly_paths();
  }
  s.linux = std::move(l);

  si::MountContext mc;
  mc.privileged = hc.privileged;
  mc.writable_cgroups = sec.writable_cgroups;
  mc.readonly_rootfs = hc.readonly_rootfs;
  mc.ipc_mode = hc.ipc_mode;
  mc.shm_size = hc.shm_size;
  mc.shm_path = in.shm_path;
  mc.hostname_path = in.hostname_path;
  mc.hosts_path = in.hosts_path;
  mc.resolv_conf_path = in.resolv_conf_path;
  bool init = hc.init.value_or(false);
  if (init) {
    if (in.init_path.empty()) {
      return make_error(Errc::FailedPrecondition, "--init: no init binary (berth-init) configured");
    }
    mc.init_path = in.init_path;
  }
  mc.tmpfs = hc.tmpfs;
  mc.volumes = in.volume_mounts;
  s.mounts = BERTH_TRY(si::build_mounts(mc));

  oci::Process p;
  p.terminal = cfg.tty;
  if (hc.console_size.size() == 2 && hc.console_size[0] > 0 && hc.console_size[1] > 0) {
    p.console_size = oci::ConsoleSize{hc.console_size[0], hc.console_size[1]};
  }
  ResolvedUser user = BERTH_TRY(resolve_user(cfg.user, hc.group_add, in.rootfs_reader));
  p.user.uid = user.uid;
  p.user.gid = user.gid;
  p.user.additional_gids = user.additional_gids;
  if (cfg.entrypoint) {
    for (auto& a : *cfg.entrypoint) p.args.push_back(a);
    if (p.args.size() == 1 && p.args[0].empty()) p.args.clear();
  }
  if (cfg.cmd)
    for (auto& a : *cfg.cmd) p.args.push_back(a);
  if (p.args.empty()) return make_error(Errc::InvalidArgument, "No command specified");
  if (init) p.args.insert(p.args.begin(), {kInitPathInContainer, "--"});
  p.env = process_env(cfg.env, hostname, cfg.tty, user.home);
  for (const std::string& e : cfg.env) {
    if (e.empty() || e.front() == '=') {
      return make_error(Errc::InvalidArgument, "--env: invalid environment variable: \"{}\"", e);
    }
  }
  p.cwd = cfg.working_dir.empty() ? "/" : cfg.working_dir;
  if (p.cwd.front() != '/') {
    return make_error(Errc::InvalidArgument,
                      "the working directory '{}' is invalid, it needs to be an absolute path",
                      cfg.working_dir);
  }
  oci::Capabilities c;
  c.bounding = caps;
  c.effective = caps;
  c.permitted = caps;
  p.capabilities = std::move(c);
  p.rlimits = BERTH_TRY(si::build_rlimits(hc.resources.ulimits, in.host_nofile_hard));
  p.no_new_privileges = sec.no_new_privileges;
  if (hc.oom_score_adj < -1000 || hc.oom_score_adj > 1000) {
    return make_error(Errc::InvalidArgument,
                      "Invalid value {}, range for oom score adj is [-1000, 1000]",
                      hc.oom_score_adj);
  }
  p.oom_score_adj = hc.oom_score_adj;
  s.process = std::move(p);
  return s;
}

}  // namespace berth::engine
