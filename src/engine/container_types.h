// engine/container_types.h — a container as the engine models it: docker's
// Config + HostConfig in C++ naming (api/server maps the wire form onto
// these; the engine persists them with its own codec, container_codec.h).
// Field comments give docker's wire name where it differs and the meaning of
// "unset" (std::optional / -1 / empty: take the image's or docker's default).
// Seams for issue 5 (networks, ports, volumes) are stored and returned as
// given but not acted on yet.
// Depends on: base.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"

namespace berth::engine {

struct HealthcheckConfig {
  // docker's Test: {} = inherit from the image, {"NONE"} = disabled,
  // {"CMD", args...}, {"CMD-SHELL", "command"}.
  std::vector<std::string> test;
  int64_t interval_ns = 0;  // 0 = inherit / default 30 s
  int64_t timeout_ns = 0;   // 0 = inherit / default 30 s
  int64_t start_period_ns = 0;
  int64_t start_interval_ns = 0;  // 0 = default 5 s
  int retries = 0;                // 0 = inherit / default 3
  // berth extension (wire: Healthcheck.OnFailure): "" / "none" | "kill" | "restart"
  std::string on_failure;
};

// Fields of `mine` left unset (empty test, zero durations and retries) take
// `base`'s; an absent `mine` becomes `base`. Used where docker fills a
// container's health check from its image's, and a commit body's from the
// container's.
inline void fill_healthcheck(std::optional<HealthcheckConfig>& mine,
                             const HealthcheckConfig& base) {
  if (!mine) {
    mine = base;
    return;
  }
  HealthcheckConfig& h = *mine;
  if (h.test.empty()) h.test = base.test;
  if (h.interval_ns == 0) h.interval_ns = base.interval_ns;
  if (h.timeout_ns == 0) h.timeout_ns = base.timeout_ns;
  if (h.start_period_ns == 0) h.start_period_ns = base.start_period_ns;
  if (h.start_interval_ns == 0) h.start_interval_ns = base.start_interval_ns;
  if (h.retries == 0) h.retries = base.retries;
}

struct ContainerConfig {
  std::string hostname;  // "" = the short id
  std::string domainname;
  std::string user;  // "" = image's
  bool attach_stdin = false, attach_stdout = false, attach_stderr = false;
  bool tty = false;
  bool open_stdin = false;
  bool stdin_once = false;
  std::vector<std::string> env;                        // "K=V" (merged over the image's at create)
  std::optional<std::vector<std::string>> cmd;         // nullopt = image's
  std::optional<std::vector<std::string>> entrypoint;  // nullopt = image's; {} or {""} resets
  std::optional<HealthcheckConfig> healthcheck;
  bool args_escaped = false;
  std::string image;                 // as the user named it ("busybox", "sha256:...")
  std::vector<std::string> volumes;  // Config.Volumes keys (issue 5)
  std::string working_dir;           // "" = image's, else absolute
  bool network_disabled = false;
  std::vector<std::string> on_build;
  std::map<std::string, std::string> labels;  // merged over the image's labels
  std::string stop_signal;                    // "" = image's / SIGTERM
  std::optional<int> stop_timeout;            // seconds; nullopt = 10
  std::vector<std::string> shell;
  std::vector<std::string> exposed_ports;  // "80/tcp" (issue 5)
};

struct DeviceMapping {
  std::string path_on_host;
  std::string path_in_container;  // "" = same as host
  std::string cgroup_permissions = "rwm";
};

// A block device by host path with a proportional weight (10..1000, 0 =
// the group's default) or a throttle rate (bytes or operations per second).
// The path is resolved to major:minor each time the OCI spec is written.
struct WeightDevice {
  std::string path;
  uint16_t weight = 0;
};

struct ThrottleDevice {
  std::string path;
  uint64_t rate = 0;
};

struct Ulimit {
  std::string name;  // "nofile" (without RLIMIT_)
  int64_t soft = 0;
  int64_t hard = 0;
};

struct RestartPolicy {
  std::string name;  // "" / "no" | "always" | "unless-stopped" | "on-failure"
  int maximum_retry_count = 0;
};

struct LogConfig {
  std::string type;  // "" = json-file | "local" | "none"
  std::map<std::string, std::string> config;
};

struct Resources {
  int64_t cpu_shares = 0;
  int64_t memory = 0;  // bytes; 0 = unlimited
  int64_t nano_cpus = 0;
  std::string cgroup_parent;
  uint16_t blkio_weight = 0;
  std::vector<WeightDevice> blkio_weight_device;
  std::vector<ThrottleDevice> blkio_device_read_bps, blkio_device_write_bps, blkio_device_read_iops,
      blkio_device_write_iops;
  int64_t cpu_period = 0;
  int64_t cpu_quota = 0;
  int64_t cpu_realtime_period = 0;
  int64_t cpu_realtime_runtime = 0;
  std::string cpuset_cpus;
  std::string cpuset_mems;
  std::vector<DeviceMapping> devices;
  std::vector<std::string> device_cgroup_rules;  // "c 1:3 rwm"
  int64_t memory_reservation = 0;
  int64_t memory_swap = 0;                   // 0 = unset (twice memory), -1 = unlimited
  std::optional<int64_t> memory_swappiness;  // nullopt = unset (-1 on the wire)
  std::optional<bool> oom_kill_disable;
  std::optional<int64_t> pids_limit;  // nullopt or <= 0 = unlimited
  std::vector<Ulimit> ulimits;
};

struct PortBinding {
  std::string host_ip;
  std::string host_port;
  bool operator==(const PortBinding&) const = default;
};

// A container's place on one network, as NetworkSettings.Networks shows it.
struct NetworkEndpoint {
  std::string network_name, network_id;
  std::vector<std::string> aliases;  // as asked (EndpointSettings.Aliases)
  std::vector<std::string> links;    // as asked (EndpointSettings.Links)
  std::string ipam_ipv4;             // IPAMConfig.IPv4Address as asked
  // Live values (empty while the container does not run).
  std::string endpoint_id, mac, ip4, gateway4, ip6, gateway6;
  int prefix4 = 0, prefix6 = 0;
  std::vector<std::string> dns_names;
};

struct MountPoint {  // HostConfig.Mounts entry (issue 5)
  std::string type;  // "bind" | "volume" | "tmpfs"
  std::string source;
  std::string target;
  bool read_only = false;
  Json options;  // BindOptions/VolumeOptions/TmpfsOptions as given
};

struct HostConfig {
  std::vector<std::string> binds;  // "src:dst[:opts]" (issue 5)
  std::string container_id_file;
  LogConfig log_config;
  std::string network_mode;  // "" = "default" (a private netns with loopback until issue 5)
  std::map<std::string, std::vector<PortBinding>> port_bindings;  // issue 5
  RestartPolicy restart_policy;
  bool auto_remove = false;
  std::vector<std::string> volumes_from;
  std::vector<MountPoint> mounts;
  std::vector<std::string> cap_add;  // "NET_ADMIN" or "CAP_NET_ADMIN"; "ALL"
  std::vector<std::string> cap_drop;
  std::string cgroupns_mode;  // "" = "private" on v2, "host" on v1 (docker's default)
  std::vector<std::string> dns, dns_options, dns_search;
  std::vector<std::string> extra_hosts;  // "name:ip" (also "host-gateway")
  std::vector<std::string> links;        // --link "name[:alias]" as given (legacy links)
  std::vector<std::string> group_add;
  std::string ipc_mode;  // "" = "private" ("host", "none", "shareable", "container:x")
  std::string cgroup;
  int oom_score_adj = 0;
  std::string pid_mode;  // "" | "host" | "container:x"
  bool privileged = false;
  bool publish_all_ports = false;
  bool readonly_rootfs = false;
  std::vector<std::string> security_opt;  // "seccomp=<json>|unconfined", "no-new-privileges[:true]"
  std::map<std::string, std::string> tmpfs;  // path -> options
  std::string uts_mode;                      // "" | "host"
  std::string userns_mode;
  int64_t shm_size = 0;  // bytes; 0 = 64 MiB
  std::map<std::string, std::string> sysctls;
  std::string runtime;        // "" = the daemon default; a name from the daemon's runtimes
  std::string isolation;      // "" | "default" (as given, for inspect)
  std::string volume_driver;  // -v and image volumes' driver; "" = local
  std::map<std::string, std::string> annotations;          // the OCI spec's annotations
  std::optional<bool> init;                                // nullopt = daemon default (false)
  std::optional<std::vector<std::string>> masked_paths;    // nullopt = docker's defaults
  std::optional<std::vector<std::string>> readonly_paths;  // nullopt = docker's defaults
  std::vector<uint32_t> console_size;                      // {height, width} or empty
  Resources resources;
};

// One mount of a container as resolved at create (engine/mount_plan.h):
// stored with the container, turned into OCI mounts at start, and shown as
// inspect's Mounts (docker's MountPoint).
struct ContainerMount {
  std::string type;    // "bind" | "volume" | "tmpfs"
  std::string name;    // volume name ("" for bind/tmpfs)
  std::string source;  // host path: the bind source or the volume's _data
  std::string destination;
  std::string driver;  // "local" for volumes
  std::string mode;    // docker's Mode text ("ro", "z", "")
  bool rw = true;
  std::string propagation;     // binds: "rprivate" unless given
  bool copy_data = false;      // volume: copy the image's files in while empty
  bool anonymous = false;      // volume created for this container only
  bool non_recursive = false;  // bind-nonrecursive: "bind" instead of "rbind"
  std::string tmpfs_options;   // tmpfs: "size=...,mode=..." (mount data)
};

// Docker's State, with berth's monitor bookkeeping.
struct ContainerState {
  // "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead"
  std::string status = "created";
  bool oom_killed = false;
  int pid = 0;
  int exit_code = 0;
  std::string error;
  int64_t started_ns = 0;   // 0 = never (Go's zero time on the wire)
  int64_t finished_ns = 0;  // 0 = never
  int restart_count = 0;
  bool stopped_by_user = false;  // for unless-stopped and "always" after a daemon restart
  std::string health_status;     // "" = no health check | "starting" | "healthy" | "unhealthy"
  int health_failing_streak = 0;
  struct HealthLog {
    int64_t start_ns = 0, end_ns = 0;
    int exit_code = 0;
    std::string output;
  };
  std::vector<HealthLog> health_log;
  int monitor_pid = 0;
};

}  // namespace berth::engine
