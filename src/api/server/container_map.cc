#include "api/server/container_map.h"

namespace berth::api::server {
namespace {

// Each copy_* works for wire -> engine and engine -> wire alike.
template <typename D, typename S>
void copy_health(D& d, const S& s) {
  d.test = s.test;
  d.interval_ns = s.interval_ns;
  d.timeout_ns = s.timeout_ns;
  d.start_period_ns = s.start_period_ns;
  d.start_interval_ns = s.start_interval_ns;
  d.retries = s.retries;
  d.on_failure = s.on_failure;
}

template <typename D, typename S>
void copy_config(D& d, const S& s) {
  d.hostname = s.hostname;
  d.domainname = s.domainname;
  d.user = s.user;
  d.attach_stdin = s.attach_stdin;
  d.attach_stdout = s.attach_stdout;
  d.attach_stderr = s.attach_stderr;
  d.tty = s.tty;
  d.open_stdin = s.open_stdin;
  d.stdin_once = s.stdin_once;
  d.env = s.env;
  d.cmd = s.cmd;
  d.entrypoint = s.entrypoint;
  if (s.healthcheck) {
    d.healthcheck.emplace();
    copy_health(*d.healthcheck, *s.healthcheck);
  } else {
    d.healthcheck.reset();
  }
  d.args_escaped = s.args_escaped;
  d.image = s.image;
  d.volumes = s.volumes;
  d.working_dir = s.working_dir;
  d.network_disabled = s.network_disabled;
  d.on_build = s.on_build;
  d.labels = s.labels;
  d.stop_signal = s.stop_signal;
  d.stop_timeout = s.stop_timeout;
  d.shell = s.shell;
  d.exposed_ports = s.exposed_ports;
}

template <typename D, typename S>
void copy_resources(D& d, const S& s) {
  d.cpu_shares = s.cpu_shares;
  d.memory = s.memory;
  d.nano_cpus = s.nano_cpus;
  d.cgroup_parent = s.cgroup_parent;
  d.blkio_weight = s.blkio_weight;
  d.blkio_weight_device.clear();
  for (const auto& x : s.blkio_weight_device) d.blkio_weight_device.push_back({x.path, x.weight});
  auto throttles = [](auto& out, const auto& in) {
    out.clear();
    for (const auto& x : in) out.push_back({x.path, x.rate});
  };
  throttles(d.blkio_device_read_bps, s.blkio_device_read_bps);
  throttles(d.blkio_device_write_bps, s.blkio_device_write_bps);
  throttles(d.blkio_device_read_iops, s.blkio_device_read_iops);
  throttles(d.blkio_device_write_iops, s.blkio_device_write_iops);
  d.cpu_period = s.cpu_period;
  d.cpu_quota = s.cpu_quota;
  d.cpu_realtime_period = s.cpu_realtime_period;
  d.cpu_realtime_runtime = s.cpu_realtime_runtime;
  d.cpuset_cpus = s.cpuset_cpus;
  d.cpuset_mems = s.cpuset_mems;
  d.devices.clear();
  for (const auto& x : s.devices) {
    auto& m = d.devices.emplace_back();
    m.path_on_host = x.path_on_host;
    m.path_in_container = x.path_in_container;
    m.cgroup_permissions = x.cgroup_permissions;
  }
  d.device_cgroup_rules = s.device_cgroup_rules;
  d.memory_reservation = s.memory_reservation;
  d.memory_swap = s.memory_swap;
  d.memory_swappiness = s.memory_swappiness;
  d.oom_kill_disable = s.oom_kill_disable;
  d.pids_limit = s.pids_limit;
  d.ulimits.clear();
  for (const auto& x : s.ulimits) {
    auto& u = d.ulimits.emplace_back();
    u.name = x.name;
    u.soft = x.soft;
    u.hard = x.hard;
  }
}

template <typename D, typename S>
void copy_ports(D& d, const S& s) {
  d.clear();
  for (const auto& [port, list] : s) {
    auto& out = d[port];
    for (const auto& b : list) {
      auto& o = out.emplace_back();
      o.host_ip = b.host_ip;
      o.host_port = b.host_port;
    }
  }
}

template <typename D, typename S>
void copy_host_config(D& d, const S& s) {
  d.binds = s.binds;
  d.container_id_file = s.container_id_file;
  d.log_config.type = s.log_config.type;
  d.log_config.config = s.log_config.config;
  d.network_mode = s.network_mode;
  copy_ports(d.port_bindings, s.port_bindings);
  d.restart_policy.name = s.restart_policy.name;
  d.restart_policy.maximum_retry_count = s.restart_policy.maximum_retry_count;
  d.auto_remove = s.auto_remove;
  d.volumes_from = s.volumes_from;
  d.mounts.clear();
  for (const auto& x : s.mounts) {
    auto& m = d.mounts.emplace_back();
    m.type = x.type;
    m.source = x.source;
    m.target = x.target;
    m.read_only = x.read_only;
    m.options = x.options;
  }
  d.cap_add = s.cap_add;
  d.cap_drop = s.cap_drop;
  d.cgroupns_mode = s.cgroupns_mode;
  d.dns = s.dns;
  d.dns_options = s.dns_options;
  d.dns_search = s.dns_search;
  d.extra_hosts = s.extra_hosts;
  d.links = s.links;
  d.group_add = s.group_add;
  d.ipc_mode = s.ipc_mode;
  d.cgroup = s.cgroup;
  d.oom_score_adj = s.oom_score_adj;
  d.pid_mode = s.pid_mode;
  d.privileged = s.privileged;
  d.publish_all_ports = s.publish_all_ports;
  d.readonly_rootfs = s.readonly_rootfs;
  d.security_opt = s.security_opt;
  d.tmpfs = s.tmpfs;
  d.uts_mode = s.uts_mode;
  d.userns_mode = s.userns_mode;
  d.shm_size = s.shm_size;
  d.sysctls = s.sysctls;
  d.runtime = s.runtime;
  d.isolation = s.isolation;
  d.volume_driver = s.volume_driver;
  d.annotations = s.annotations;
  d.init = s.init;
  d.masked_paths = s.masked_paths;
  d.readonly_paths = s.readonly_paths;
  d.console_size = s.console_size;
  copy_resources(d.resources, s.resources);
}

// ps and inspect show a container's mounts alike.
api::MountPointWire mount_wire(const engine::ContainerMount& m) {
  return {m.type, m.name, m.source, m.destination, m.driver, m.mode, m.rw, m.propagation};
}

}  // namespace

engine::ContainerConfig to_engine(const api::ContainerConfig& c) {
  engine::ContainerConfig d;
  copy_config(d, c);
  return d;
}
engine::HostConfig to_engine(const api::HostConfig& h) {
  engine::HostConfig d;
  copy_host_config(d, h);
  return d;
}
engine::Resources to_engine(const api::Resources& r) {
  engine::Resources d;
  copy_resources(d, r);
  return d;
}
engine::RestartPolicy to_engine(const api::RestartPolicy& r) {
  return engine::RestartPolicy{r.name, r.maximum_retry_count};
}

api::ContainerConfig to_wire(const engine::ContainerConfig& c) {
  api::ContainerConfig d;
  copy_config(d, c);
  return d;
}
api::HostConfig to_wire(const engine::HostConfig& h) {
  api::HostConfig d;
  copy_host_config(d, h);
  return d;
}

api::ContainerState to_wire(const engine::ContainerState& s) {
  api::ContainerState d;
  d.status = s.status;
  d.oom_killed = s.oom_killed;
  d.pid = s.pid;
  d.exit_code = s.exit_code;
  d.error = s.error;
  d.started_ns = s.started_ns;
  d.finished_ns = s.finished_ns;
  d.restart_count = s.restart_count;
  d.health_status = s.health_status;
  d.health_failing_streak = s.health_failing_streak;
  for (const auto& l : s.health_log)
    d.health_log.push_back({l.start_ns, l.end_ns, l.exit_code, l.output});
  return d;
}

api::EndpointSettings to_wire(const engine::NetworkEndpoint& s) {
  api::EndpointSettings d;
  d.network_name = s.network_name;
  d.network_id = s.network_id;
  d.aliases = s.aliases;
  d.links = s.links;
  d.ipam_ipv4 = s.ipam_ipv4;
  d.endpoint_id = s.endpoint_id;
  d.mac = s.mac;
  d.ip4 = s.ip4;
  d.gateway4 = s.gateway4;
  d.ip6 = s.ip6;
  d.gateway6 = s.gateway6;
  d.prefix4 = s.prefix4;
  d.prefix6 = s.prefix6;
  d.dns_names = s.dns_names;
  return d;
}

api::ContainerSummary to_wire(const engine::ContainerSummary& s) {
  api::ContainerSummary d;
  d.id = s.id;
  d.names = s.names;
  d.image = s.image;
  d.image_id = s.image_id;
  d.command = s.command;
  d.created = s.created;
  d.labels = s.labels;
  d.state = to_wire(s.state);
  d.size_rw = s.size_rw;
  d.size_root_fs = s.size_root_fs;
  d.network_mode = s.network_mode;
  copy_ports(d.port_bindings, s.port_bindings);
  for (const auto& n : s.networks) d.networks.push_back(to_wire(n));
  for (const auto& m : s.mounts) d.mounts.push_back(mount_wire(m));
  return d;
}

api::ContainerInspect to_wire(const engine::ContainerDetail& s) {
  api::ContainerInspect d;
  d.id = s.id;
  d.created_ns = s.created_ns;
  d.path = s.path;
  d.args = s.args;
  d.state = to_wire(s.state);
  d.image_id = s.image_id;
  d.resolv_conf_path = s.resolv_conf_path;
  d.hostname_path = s.hostname_path;
  d.hosts_path = s.hosts_path;
  d.log_path = s.log_path;
  d.name = s.name;
  d.driver = s.driver;
  d.platform = s.platform;
  d.exec_ids = s.exec_ids;
  d.config = to_wire(s.config);
  d.host_config = to_wire(s.host_config);
  d.graph_driver_data = s.graph_driver_data;
  d.size_rw = s.size_rw;
  d.size_root_fs = s.size_root_fs;
  copy_ports(d.ports, s.ports);
  for (const auto& n : s.networks) d.networks.push_back(to_wire(n));
  d.sandbox_key = s.sandbox_key;
  for (const auto& m : s.mounts) d.mounts.push_back(mount_wire(m));
  return d;
}

api::ExecInspect to_wire(const engine::ExecDetail& e) {
  api::ExecInspect d;
  d.id = e.id;
  d.container_id = e.container_id;
  d.running = e.running;
  d.exit_code = e.exit_code;
  d.pid = e.pid;
  d.can_remove = e.can_remove;
  d.detach_keys = e.detach_keys;
  d.tty = e.config.tty;
  d.privileged = e.config.privileged;
  d.user = e.config.user;
  d.cmd = e.config.cmd;
  d.open_stdin = e.open_stdin;
  d.open_stdout = e.open_stdout;
  d.open_stderr = e.open_stderr;
  return d;
}

api::StatsSample to_wire(const engine::StatsSample& s) {
  api::StatsSample d;
  d.read_ns = s.read_ns;
  d.preread_ns = s.preread_ns;
  d.cpu_total = s.cpu_total;
  d.cpu_kernel = s.cpu_kernel;
  d.cpu_user = s.cpu_user;
  d.system_cpu = s.system_cpu;
  d.percpu = s.percpu;
  d.online_cpus = s.online_cpus;
  d.throttling_periods = s.throttling_periods;
  d.throttled_periods = s.throttled_periods;
  d.throttled_time = s.throttled_time;
  d.pre_cpu_total = s.pre_cpu_total;
  d.pre_cpu_kernel = s.pre_cpu_kernel;
  d.pre_cpu_user = s.pre_cpu_user;
  d.pre_system_cpu = s.pre_system_cpu;
  d.pre_percpu = s.pre_percpu;
  d.pre_online_cpus = s.pre_online_cpus;
  d.memory_usage = s.memory_usage;
  d.memory_max_usage = s.memory_max_usage;
  d.memory_limit = s.memory_limit;
  d.memory_stats = s.memory_stats;
  d.pids_current = s.pids_current;
  d.pids_limit = s.pids_limit;
  for (const auto& e : s.io_service_bytes)
    d.io_service_bytes.push_back({e.major, e.minor, e.op, e.value});
  for (const auto& n : s.networks)
    d.networks.push_back({n.name, n.rx_bytes, n.rx_packets, n.rx_errors, n.rx_dropped, n.tx_bytes,
                          n.tx_packets, n.tx_errors, n.tx_dropped});
  d.id = s.id;
  d.name = s.name;
  return d;
}

api::PathStat to_wire(const engine::PathStat& p) {
  return api::PathStat{p.name, p.size, p.mode, p.mtime_ns, p.link_target};
}

}  // namespace berth::api::server
