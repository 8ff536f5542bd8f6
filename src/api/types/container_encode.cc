// Encoders of Config, HostConfig, /containers/json rows and inspect.
#include <algorithm>

#include "api/types/container_config.h"
#include "api/types/containers.h"
#include "api/types/time.h"

namespace berth::api {
namespace {

OrderedJson strings(const std::vector<std::string>& v) {
  OrderedJson a = OrderedJson::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}
OrderedJson strings_or_null(const std::vector<std::string>& v) {
  return v.empty() ? OrderedJson(nullptr) : strings(v);
}
OrderedJson opt_strings(const std::optional<std::vector<std::string>>& v) {
  return v ? strings(*v) : OrderedJson(nullptr);
}
OrderedJson string_map(const std::map<std::string, std::string>& m) {
  OrderedJson o = OrderedJson::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}
// The tree of what `write` writes (one definition per encoder: the writer).
template <typename F>
OrderedJson written(F&& write) {
  std::string text;
  JsonWriter w(text);
  write(w);
  return OrderedJson::parse(text, nullptr, /*allow_exceptions=*/false);
}

OrderedJson key_set(const std::vector<std::string>& keys) {
  OrderedJson o = OrderedJson::object();
  for (const auto& k : keys) o[k] = OrderedJson::object();
  sort_members(o);  // a map in docker's types
  return o;
}

OrderedJson port_map(const std::map<std::string, std::vector<PortBinding>>& m) {
  OrderedJson o = OrderedJson::object();
  for (const auto& [port, list] : m) {
    if (list.empty()) {
      o[port] = nullptr;
      continue;
    }
    OrderedJson a = OrderedJson::array();
    for (const auto& b : list) a.push_back({{"HostIp", b.host_ip}, {"HostPort", b.host_port}});
    o[port] = a;
  }
  return o;
}

OrderedJson encode_state(const ContainerState& s) {
  bool running = s.status == "running" || s.status == "paused" || s.status == "restarting";
  OrderedJson j = OrderedJson::object();
  j["Status"] = s.status;
  j["Running"] = running;
  j["Paused"] = s.status == "paused";
  j["Restarting"] = s.status == "restarting";
  j["OOMKilled"] = s.oom_killed;
  j["Dead"] = s.status == "dead";
  j["Pid"] = s.pid;
  j["ExitCode"] = s.exit_code;
  j["Error"] = s.error;
  j["StartedAt"] = format_rfc3339_nano(s.started_ns);
  j["FinishedAt"] = format_rfc3339_nano(s.finished_ns);
  if (!s.health_status.empty()) {
    OrderedJson log = OrderedJson::array();
    for (const auto& l : s.health_log)
      log.push_back({{"Start", format_rfc3339_nano(l.start_ns)},
                     {"End", format_rfc3339_nano(l.end_ns)},
                     {"ExitCode", l.exit_code},
                     {"Output", l.output}});
    j["Health"] = {
        {"Status", s.health_status}, {"FailingStreak", s.health_failing_streak}, {"Log", log}};
  }
  return j;
}

}  // namespace

OrderedJson encode_container_config(const ContainerConfig& c, ApiVersion v) {
  (void)v;
  OrderedJson j = OrderedJson::object();
  j["Hostname"] = c.hostname;
  j["Domainname"] = c.domainname;
  j["User"] = c.user;
  j["AttachStdin"] = c.attach_stdin;
  j["AttachStdout"] = c.attach_stdout;
  j["AttachStderr"] = c.attach_stderr;
  if (!c.exposed_ports.empty()) j["ExposedPorts"] = key_set(c.exposed_ports);
  j["Tty"] = c.tty;
  j["OpenStdin"] = c.open_stdin;
  j["StdinOnce"] = c.stdin_once;
  j["Env"] = strings_or_null(c.env);
  j["Cmd"] = opt_strings(c.cmd);
  if (c.healthcheck) {
    const auto& h = *c.healthcheck;
    OrderedJson hj = OrderedJson::object();
    if (!h.test.empty()) hj["Test"] = strings(h.test);
    if (h.interval_ns) hj["Interval"] = h.interval_ns;
    if (h.timeout_ns) hj["Timeout"] = h.timeout_ns;
    if (h.start_period_ns) hj["StartPeriod"] = h.start_period_ns;
    if (h.start_interval_ns && v >= ApiVersion{1, 44}) hj["StartInterval"] = h.start_interval_ns;
    if (h.retries) hj["Retries"] = h.retries;
    if (!h.on_failure.empty()) hj["OnFailure"] = h.on_failure;
    j["Healthcheck"] = hj;
  }
  if (c.args_escaped) j["ArgsEscaped"] = true;
  j["Image"] = c.image;
  j["Volumes"] = c.volumes.empty() ? OrderedJson(nullptr) : key_set(c.volumes);
  j["WorkingDir"] = c.working_dir;
  j["Entrypoint"] = opt_strings(c.entrypoint);
  if (c.network_disabled) j["NetworkDisabled"] = true;
  j["OnBuild"] = strings_or_null(c.on_build);
  j["Labels"] = string_map(c.labels);
  if (!c.stop_signal.empty()) j["StopSignal"] = c.stop_signal;
  if (c.stop_timeout) j["StopTimeout"] = *c.stop_timeout;
  if (!c.shell.empty()) j["Shell"] = strings(c.shell);
  return j;
}

OrderedJson encode_host_config(const HostConfig& h, ApiVersion v) {
  const Resources& r = h.resources;
  OrderedJson j = OrderedJson::object();
  j["Binds"] = strings_or_null(h.binds);
  j["ContainerIDFile"] = h.container_id_file;
  j["LogConfig"] = {{"Type", h.log_config.type.empty() ? "json-file" : h.log_config.type},
                    {"Config", string_map(h.log_config.config)}};
  j["NetworkMode"] = h.network_mode.empty() ? "default" : h.network_mode;
  j["PortBindings"] = port_map(h.port_bindings);
  j["RestartPolicy"] = {{"Name", h.restart_policy.name.empty() ? "no" : h.restart_policy.name},
                        {"MaximumRetryCount", h.restart_policy.maximum_retry_count}};
  j["AutoRemove"] = h.auto_remove;
  j["VolumeDriver"] = h.volume_driver;
  j["VolumesFrom"] = strings_or_null(h.volumes_from);
  OrderedJson cs = OrderedJson::array({0, 0});
  if (h.console_size.size() == 2) cs = OrderedJson::array({h.console_size[0], h.console_size[1]});
  j["ConsoleSize"] = cs;
  if (v >= ApiVersion{1, 43} && !h.annotations.empty())
    j["Annotations"] = string_map(h.annotations);
  j["CapAdd"] = strings_or_null(h.cap_add);
  j["CapDrop"] = strings_or_null(h.cap_drop);
  if (v >= ApiVersion{1, 41}) j["CgroupnsMode"] = h.cgroupns_mode;
  j["Dns"] = strings(h.dns);
  j["DnsOptions"] = strings(h.dns_options);
  j["DnsSearch"] = strings(h.dns_search);
  j["ExtraHosts"] = strings_or_null(h.extra_hosts);
  j["GroupAdd"] = strings_or_null(h.group_add);
  j["IpcMode"] = h.ipc_mode;
  j["Cgroup"] = h.cgroup;
  j["Links"] = strings_or_null(h.links);
  j["OomScoreAdj"] = h.oom_score_adj;
  j["PidMode"] = h.pid_mode;
  j["Privileged"] = h.privileged;
  j["PublishAllPorts"] = h.publish_all_ports;
  j["ReadonlyRootfs"] = h.readonly_rootfs;
  j["SecurityOpt"] = strings_or_null(h.security_opt);
  if (!h.tmpfs.empty()) j["Tmpfs"] = string_map(h.tmpfs);
  j["UTSMode"] = h.uts_mode;
  j["UsernsMode"] = h.userns_mode;
  j["ShmSize"] = h.shm_size;
  if (!h.sysctls.empty()) j["Sysctls"] = string_map(h.sysctls);
  j["Runtime"] = h.runtime;
  j["Isolation"] = h.isolation;
  // Resources (inline in docker's HostConfig).
  j["CpuShares"] = r.cpu_shares;
  j["Memory"] = r.memory;
  j["NanoCpus"] = r.nano_cpus;
  j["CgroupParent"] = r.cgroup_parent;
  j["BlkioWeight"] = r.blkio_weight;
  OrderedJson weights = OrderedJson::array();
  for (const auto& d : r.blkio_weight_device)
    weights.push_back({{"Path", d.path}, {"Weight", d.weight}});
  j["BlkioWeightDevice"] = weights;
  auto throttles = [](const std::vector<ThrottleDevice>& list) {
    OrderedJson a = OrderedJson::array();
    for (const auto& d : list) a.push_back({{"Path", d.path}, {"Rate", d.rate}});
    return a;
  };
  j["BlkioDeviceReadBps"] = throttles(r.blkio_device_read_bps);
  j["BlkioDeviceWriteBps"] = throttles(r.blkio_device_write_bps);
  j["BlkioDeviceReadIOps"] = throttles(r.blkio_device_read_iops);
  j["BlkioDeviceWriteIOps"] = throttles(r.blkio_device_write_iops);
  j["CpuPeriod"] = r.cpu_period;
  j["CpuQuota"] = r.cpu_quota;
  j["CpuRealtimePeriod"] = r.cpu_realtime_period;
  j["CpuRealtimeRuntime"] = r.cpu_realtime_runtime;
  j["CpusetCpus"] = r.cpuset_cpus;
  j["CpusetMems"] = r.cpuset_mems;
  OrderedJson devices = OrderedJson::array();
  for (const auto& d : r.devices)
    devices.push_back({{"PathOnHost", d.path_on_host},
                       {"PathInContainer", d.path_in_container},
                       {"CgroupPermissions", d.cgroup_permissions}});
  j["Devices"] = devices;
  j["DeviceCgroupRules"] = strings_or_null(r.device_cgroup_rules);
  j["DeviceRequests"] = nullptr;
  if (v < ApiVersion{1, 42}) j["KernelMemory"] = 0;
  j["MemoryReservation"] = r.memory_reservation;
  j["MemorySwap"] = r.memory_swap;
  j["MemorySwappiness"] =
      r.memory_swappiness ? OrderedJson(*r.memory_swappiness) : OrderedJson(nullptr);
  j["OomKillDisable"] =
      r.oom_kill_disable ? OrderedJson(*r.oom_kill_disable) : OrderedJson(nullptr);
  j["PidsLimit"] = r.pids_limit ? OrderedJson(*r.pids_limit) : OrderedJson(nullptr);
  OrderedJson ulimits = OrderedJson::array();
  for (const auto& u : r.ulimits)
    ulimits.push_back({{"Name", u.name}, {"Hard", u.hard}, {"Soft", u.soft}});
  j["Ulimits"] = r.ulimits.empty() ? OrderedJson(nullptr) : ulimits;
  j["CpuCount"] = 0;
  j["CpuPercent"] = 0;
  j["IOMaximumIOps"] = 0;
  j["IOMaximumBandwidth"] = 0;
  if (!h.mounts.empty()) {
    OrderedJson mounts = OrderedJson::array();
    for (const auto& m : h.mounts) {
      OrderedJson mj = {{"Type", m.type}, {"Source", m.source}, {"Target", m.target}};
      if (m.read_only) mj["ReadOnly"] = true;
      if (m.options.is_object())
        for (auto it = m.options.begin(); it != m.options.end(); ++it) mj[it.key()] = *it;
      mounts.push_back(std::move(mj));
    }
    j["Mounts"] = mounts;
  }
  j["MaskedPaths"] = opt_strings(h.masked_paths);
  j["ReadonlyPaths"] = opt_strings(h.readonly_paths);
  if (h.init) j["Init"] = *h.init;
  return j;
}

void write_endpoint_settings(JsonWriter& w, const EndpointSettings& e, ApiVersion v) {
  w.begin_object();
  w.key("IPAMConfig");
  if (!e.ipam_ipv4.empty()) {
    w.begin_object().field("IPv4Address", e.ipam_ipv4).end_object();
  } else {
    w.null();
  }
  w.key("Links").strings(e.links, /*null_if_empty=*/true);
  if (v < ApiVersion{1, 45}) {
    // Before API 1.45 docker listed a user network endpoint's other DNS names
    // (its short container id) among the aliases; DNSNames carries them since.
    std::vector<std::string> aliases = e.aliases;
    for (size_t i = 1; i < e.dns_names.size(); ++i)
      if (std::find(aliases.begin(), aliases.end(), e.dns_names[i]) == aliases.end())
        aliases.push_back(e.dns_names[i]);
    w.key("Aliases").strings(aliases, /*null_if_empty=*/true);
  } else {
    w.key("Aliases").strings(e.aliases, /*null_if_empty=*/true);
  }
  w.field("MacAddress", e.mac);
  if (v >= ApiVersion{1, 44}) w.key("DriverOpts").null();
  w.field("NetworkID", e.network_id);
  w.field("EndpointID", e.endpoint_id);
  w.field("Gateway", e.gateway4);
  w.field("IPAddress", e.ip4);
  w.field("IPPrefixLen", e.prefix4);
  w.field("IPv6Gateway", e.gateway6);
  w.field("GlobalIPv6Address", e.ip6);
  w.field("GlobalIPv6PrefixLen", e.prefix6);
  if (v >= ApiVersion{1, 45}) w.key("DNSNames").strings(e.dns_names, /*null_if_empty=*/true);
  w.end_object();
}

void write_mount_point(JsonWriter& w, const MountPointWire& m) {
  w.begin_object();
  w.field("Type", m.type);
  if (!m.name.empty()) w.field("Name", m.name);
  w.field("Source", m.source);
  w.field("Destination", m.destination);
  if (!m.driver.empty()) w.field("Driver", m.driver);
  w.field("Mode", m.mode);
  w.field("RW", m.rw);
  w.field("Propagation", m.propagation);
  w.end_object();
}

void write_container_summary(JsonWriter& w, const ContainerSummary& s, ApiVersion v, int64_t now_ns,
                             const std::set<std::string>* only) {
  auto want = [only](const char* k) { return !only || only->count(k) > 0; };
  w.begin_object();
  if (want("Id")) w.field("Id", s.id);
  if (want("Names")) w.key("Names").strings(s.names);
  if (want("Image")) w.field("Image", s.image);
  if (want("ImageID")) w.field("ImageID", s.image_id);
  if (want("Command")) w.field("Command", s.command);
  if (want("Created")) w.field("Created", s.created);
  if (want("Ports")) {
    w.key("Ports").begin_array();
    for (const auto& [port, list] : s.port_bindings) {
      auto slash = port.find('/');
      std::string num = port.substr(0, slash);
      std::string proto = slash == std::string::npos ? "tcp" : port.substr(slash + 1);
      auto private_port = std::atoi(num.c_str());
      for (const auto& b : list) {
        w.begin_object();
        if (!b.host_ip.empty()) w.field("IP", b.host_ip);
        w.field("PrivatePort", private_port);
        if (!b.host_port.empty()) w.field("PublicPort", std::atoi(b.host_port.c_str()));
        w.field("Type", proto);
        w.end_object();
      }
    }
    w.end_array();
  }
  if (s.size_rw >= 0 && want("SizeRw")) w.field("SizeRw", s.size_rw);
  if (s.size_root_fs >= 0 && want("SizeRootFs")) w.field("SizeRootFs", s.size_root_fs);
  if (want("Labels")) w.key("Labels").string_map(s.labels);
  if (want("State")) w.field("State", s.state.status);
  if (want("Status")) w.field("Status", state_status_text(s.state, now_ns));
  if (want("HostConfig")) {
    w.key("HostConfig").begin_object();
    w.field("NetworkMode", s.network_mode.empty() ? "default" : s.network_mode);
    w.end_object();
  }
  if (want("NetworkSettings")) {
    w.key("NetworkSettings").begin_object().key("Networks").begin_object();
    // A map in docker's types: by name.
    std::vector<const EndpointSettings*> by_name;
    for (const auto& e : s.networks) by_name.push_back(&e);
    std::sort(by_name.begin(), by_name.end(),
              [](auto* a, auto* b) { return a->network_name < b->network_name; });
    for (const auto* e : by_name) {
      w.key(e->network_name);
      write_endpoint_settings(w, *e, v);
    }
    w.end_object().end_object();
  }
  if (want("Mounts")) {
    w.key("Mounts").begin_array();
    for (const auto& m : s.mounts) write_mount_point(w, m);
    w.end_array();
  }
  w.end_object();
}

OrderedJson encode_endpoint_settings(const EndpointSettings& e, ApiVersion v) {
  return written([&](JsonWriter& w) { write_endpoint_settings(w, e, v); });
}

OrderedJson encode_mount_point(const MountPointWire& m) {
  return written([&](JsonWriter& w) { write_mount_point(w, m); });
}

OrderedJson encode_container_summary(const ContainerSummary& s, ApiVersion v, int64_t now_ns) {
  return written([&](JsonWriter& w) { write_container_summary(w, s, v, now_ns); });
}

OrderedJson encode_container_inspect(const ContainerInspect& c, ApiVersion v) {
  OrderedJson j = OrderedJson::object();
  j["Id"] = c.id;
  j["Created"] = format_rfc3339_nano(c.created_ns);
  j["Path"] = c.path;
  j["Args"] = strings(c.args);
  j["State"] = encode_state(c.state);
  j["Image"] = c.image_id;
  j["ResolvConfPath"] = c.resolv_conf_path;
  j["HostnamePath"] = c.hostname_path;
  j["HostsPath"] = c.hosts_path;
  j["LogPath"] = c.log_path;
  j["Name"] = c.name;
  j["RestartCount"] = c.state.restart_count;
  j["Driver"] = c.driver;
  j["Platform"] = c.platform;
  j["MountLabel"] = "";
  j["ProcessLabel"] = "";
  j["AppArmorProfile"] = "";
  j["ExecIDs"] = strings_or_null(c.exec_ids);
  j["HostConfig"] = encode_host_config(c.host_config, v);
  j["GraphDriver"] = {{"Data", c.graph_driver_data.empty() ? OrderedJson(nullptr)
                                                           : string_map(c.graph_driver_data)},
                      {"Name", c.driver}};
  if (c.size_rw >= 0) j["SizeRw"] = c.size_rw;
  if (c.size_root_fs >= 0) j["SizeRootFs"] = c.size_root_fs;
  OrderedJson mounts = OrderedJson::array();
  for (const auto& m : c.mounts) mounts.push_back(encode_mount_point(m));
  j["Mounts"] = mounts;
  j["Config"] = encode_container_config(c.config, v);
  OrderedJson ns = OrderedJson::object();
  ns["Bridge"] = "";
  ns["SandboxID"] = c.sandbox_key.empty() ? "" : c.id;
  // docker 25+ moved SandboxKey before Ports (NetworkSettingsBase's order).
  if (v < ApiVersion{1, 44}) {
    ns["HairpinMode"] = false;
    ns["LinkLocalIPv6Address"] = "";
    ns["LinkLocalIPv6PrefixLen"] = 0;
    ns["Ports"] = port_map(c.ports);
    ns["SandboxKey"] = c.sandbox_key;
  } else {
    ns["SandboxKey"] = c.sandbox_key;
    ns["Ports"] = port_map(c.ports);
  }
  ns["SecondaryIPAddresses"] = nullptr;
  ns["SecondaryIPv6Addresses"] = nullptr;
  // The top-level (deprecated) fields describe the default bridge, as docker's.
  EndpointSettings def;
  for (const auto& e : c.networks)
    if (e.network_name == "bridge") def = e;
  ns["EndpointID"] = def.endpoint_id;
  ns["Gateway"] = def.gateway4;
  ns["GlobalIPv6Address"] = def.ip6;
  ns["GlobalIPv6PrefixLen"] = def.prefix6;
  ns["IPAddress"] = def.ip4;
  ns["IPPrefixLen"] = def.prefix4;
  ns["IPv6Gateway"] = def.gateway6;
  ns["MacAddress"] = def.mac;
  OrderedJson nets = OrderedJson::object();
  for (const auto& e : c.networks) nets[e.network_name] = encode_endpoint_settings(e, v);
  sort_members(nets);
  ns["Networks"] = nets;
  j["NetworkSettings"] = ns;
  return j;
}

}  // namespace berth::api
