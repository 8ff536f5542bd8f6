// engine/container_codec.cc — nlohmann's struct macros over the engine
// types. Decoding is lenient about absent keys (defaults) and strict about
// types (a wrong type is a corrupt row: Internal, naming the column).
#include "engine/container_codec.h"

#include <fmt/format.h>

namespace nlohmann {
// std::optional <-> null / value (only this translation unit uses it).
template <typename T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& o) {
    if (o) {
      j = *o;
    } else {
      j = nullptr;
    }
  }
  static void from_json(const json& j, std::optional<T>& o) {
    if (j.is_null()) {
      o.reset();
    } else {
      o = j.get<T>();
    }
  }
};
}  // namespace nlohmann

namespace berth::engine {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(HealthcheckConfig, test, interval_ns, timeout_ns,
                                                start_period_ns, start_interval_ns, retries,
                                                on_failure)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerConfig, hostname, domainname, user,
                                                attach_stdin, attach_stdout, attach_stderr, tty,
                                                open_stdin, stdin_once, env, cmd, entrypoint,
                                                healthcheck, args_escaped, image, volumes,
                                                working_dir, network_disabled, on_build, labels,
                                                stop_signal, stop_timeout, shell, exposed_ports)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DeviceMapping, path_on_host, path_in_container,
                                                cgroup_permissions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Ulimit, name, soft, hard)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(WeightDevice, path, weight)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ThrottleDevice, path, rate)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RestartPolicy, name, maximum_retry_count)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LogConfig, type, config)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    Resources, cpu_shares, memory, nano_cpus, cgroup_parent, blkio_weight, blkio_weight_device,
    blkio_device_read_bps, blkio_device_write_bps, blkio_device_read_iops, blkio_device_write_iops,
    cpu_period, cpu_quota, cpu_realtime_period, cpu_realtime_runtime, cpuset_cpus, cpuset_mems,
    devices, device_cgroup_rules, memory_reservation, memory_swap, memory_swappiness,
    oom_kill_disable, pids_limit, ulimits)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PortBinding, host_ip, host_port)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MountPoint, type, source, target, read_only,
                                                options)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    HostConfig, binds, container_id_file, log_config, network_mode, port_bindings, restart_policy,
    auto_remove, volumes_from, mounts, cap_add, cap_drop, cgroupns_mode, dns, dns_options,
    dns_search, extra_hosts, links, group_add, ipc_mode, cgroup, oom_score_adj, pid_mode,
    privileged, publish_all_ports, readonly_rootfs, security_opt, tmpfs, uts_mode, userns_mode,
    shm_size, sysctls, runtime, isolation, volume_driver, annotations, init, masked_paths,
    readonly_paths, console_size, resources)
using HealthLogEntry = ContainerState::HealthLog;
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(HealthLogEntry, start_ns, end_ns, exit_code, output)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerState, status, oom_killed, pid, exit_code,
                                                error, started_ns, finished_ns, restart_count,
                                                stopped_by_user, health_status,
                                                health_failing_streak, health_log, monitor_pid)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerMount, type, name, source, destination,
                                                driver, mode, rw, propagation, copy_data, anonymous,
                                                non_recursive, tmpfs_options)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StoredConfig, path, args, image_ref, platform,
                                                driver, config, host_config, networking_config,
                                                rootfs_mounts, mounts)

namespace {

template <typename T>
Result<T> decode(const Json& j, std::string_view what) {
  try {
    return j.get<T>();
  } catch (const std::exception& e) {
    return make_error(Errc::Internal, "corrupt container {}: {}", what, e.what());
  }
}

template <typename T>
Result<T> decode_text(std::string_view text, std::string_view what) {
  Json j = BERTH_TRY(parse_json(text, what));
  return decode<T>(j, what);
}

}  // namespace

std::string encode_stored_config(const StoredConfig& c) { return dump_json(Json(c)); }
Result<StoredConfig> decode_stored_config(std::string_view text) {
  return decode_text<StoredConfig>(text, "config");
}
std::string encode_state(const ContainerState& s) { return dump_json(Json(s)); }
Result<ContainerState> decode_state(std::string_view text) {
  return decode_text<ContainerState>(text, "state");
}
Json container_config_to_json(const ContainerConfig& c) { return Json(c); }
Result<ContainerConfig> container_config_from_json(const Json& j) {
  return decode<ContainerConfig>(j, "Config");
}
Json host_config_to_json(const HostConfig& h) { return Json(h); }
Result<HostConfig> host_config_from_json(const Json& j) {
  return decode<HostConfig>(j, "HostConfig");
}

}  // namespace berth::engine
