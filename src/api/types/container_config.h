// api/types/container_config.h — docker's container Config and HostConfig
// on the wire: the POST /containers/create body (Config fields at the top
// level plus "HostConfig" and "NetworkingConfig"), the POST /containers/{id}/update
// body, and the Config/HostConfig objects of inspect.
//
// The structs mirror engine/container_types.h field for field (same names,
// same meaning of "unset"), so api/server copies between the two with one
// template per struct; api/types itself may not include engine/.
//
// Decoding follows Go's encoding/json as dockerd uses it: keys match
// case-insensitively, unknown keys are ignored, null leaves a field unset,
// Cmd/Entrypoint/Shell accept a string or an array. A wrong JSON type is
// InvalidArgument "invalid JSON: json: cannot unmarshal string into Go struct
// field HostConfig.Memory of type int64" (docker's wording, naming the field).
// Semantic checks (validate_*) use docker's messages ("invalid restart
// policy: ...", "Minimum memory limit allowed is 6MB", "invalid port
// specification: \"x\"").
// Never throws, whatever the body (the create body is fuzzed).
// Depends on: base.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/types/version.h"
#include "base/json.h"
#include "base/result.h"

namespace berth::api {

struct HealthcheckConfig {
  std::vector<std::string> test;
  int64_t interval_ns = 0;
  int64_t timeout_ns = 0;
  int64_t start_period_ns = 0;
  int64_t start_interval_ns = 0;
  int retries = 0;
  std::string on_failure;  // berth extension: Healthcheck.OnFailure
};

struct ContainerConfig {
  std::string hostname;
  std::string domainname;
  std::string user;
  bool attach_stdin = false, attach_stdout = false, attach_stderr = false;
  bool tty = false;
  bool open_stdin = false;
  bool stdin_once = false;
  std::vector<std::string> env;
  std::optional<std::vector<std::string>> cmd;
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<HealthcheckConfig> healthcheck;
  bool args_escaped = false;
  std::string image;
  std::vector<std::string> volumes;
  std::string working_dir;
  bool network_disabled = false;
  std::vector<std::string> on_build;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::optional<int> stop_timeout;
  std::vector<std::string> shell;
  std::vector<std::string> exposed_ports;
};

struct DeviceMapping {
  std::string path_on_host;
  std::string path_in_container;
  std::string cgroup_permissions = "rwm";
};

// blkiodev.WeightDevice / blkiodev.ThrottleDevice: a block device by path.
struct WeightDevice {
  std::string path;
  uint16_t weight = 0;
};

struct ThrottleDevice {
  std::string path;
  uint64_t rate = 0;
};

struct Ulimit {
  std::string name;
  int64_t soft = 0;
  int64_t hard = 0;
};

struct RestartPolicy {
  std::string name;
  int maximum_retry_count = 0;
};

struct LogConfig {
  std::string type;
  std::map<std::string, std::string> config;
};

struct Resources {
  int64_t cpu_shares = 0;
  int64_t memory = 0;
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
  std::vector<std::string> device_cgroup_rules;
  int64_t memory_reservation = 0;
  int64_t memory_swap = 0;
  std::optional<int64_t> memory_swappiness;
  std::optional<bool> oom_kill_disable;
  std::optional<int64_t> pids_limit;
  std::vector<Ulimit> ulimits;
};

struct PortBinding {
  std::string host_ip;
  std::string host_port;
};

struct MountPoint {
  std::string type;
  std::string source;
  std::string target;
  bool read_only = false;
  Json options;
};

struct HostConfig {
  std::vector<std::string> binds;
  std::string container_id_file;
  LogConfig log_config;
  std::string network_mode;
  std::map<std::string, std::vector<PortBinding>> port_bindings;
  RestartPolicy restart_policy;
  bool auto_remove = false;
  std::vector<std::string> volumes_from;
  std::vector<MountPoint> mounts;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  std::string cgroupns_mode;
  std::vector<std::string> dns, dns_options, dns_search;
  std::vector<std::string> extra_hosts;
  std::vector<std::string> links;  // --link "name[:alias]"; inspect: "/name:/self/alias"
  std::vector<std::string> group_add;
  std::string ipc_mode;
  std::string cgroup;
  int oom_score_adj = 0;
  std::string pid_mode;
  bool privileged = false;
  bool publish_all_ports = false;
  bool readonly_rootfs = false;
  std::vector<std::string> security_opt;
  std::map<std::string, std::string> tmpfs;
  std::string uts_mode;
  std::string userns_mode;
  int64_t shm_size = 0;
  std::map<std::string, std::string> sysctls;
  std::string runtime;
  std::string isolation;      // "" or "default": Linux has no other
  std::string volume_driver;  // for -v volumes and the image's; "" = local
  // Passed to the OCI runtime as the spec's annotations (API >= 1.43).
  std::map<std::string, std::string> annotations;
  std::optional<bool> init;
  std::optional<std::vector<std::string>> masked_paths;
  std::optional<std::vector<std::string>> readonly_paths;
  std::vector<uint32_t> console_size;
  Resources resources;
};

// POST /containers/create body.
struct CreateBody {
  ContainerConfig config;
  HostConfig host_config;
  Json networking_config;  // null when absent (issue 5)
};

// Decodes and validates (validate_config + validate_host_config) the create
// body for API version v (fields newer than v are ignored, as dockerd does).
// ncpu bounds NanoCpus ("Range of CPUs is from 0.01 to N.00 ...").
Result<CreateBody> decode_create_body(std::string_view body, ApiVersion v, int ncpu);

// POST /containers/{id}/update body: Resources fields + RestartPolicy.
struct UpdateBody {
  Resources resources;
  std::optional<RestartPolicy> restart_policy;
};
Result<UpdateBody> decode_update_body(std::string_view body, int ncpu);

// POST /commit body: a Config object ("" / "null" / "{}" = no overrides).
Result<std::optional<ContainerConfig>> decode_commit_config(std::string_view body);

// The Config object alone (also the commit body); `path` prefixes field names.
Result<ContainerConfig> decode_container_config(const Json& j, std::string_view path);

// docker's semantic checks (messages as dockerd's).
Result<void> validate_config(const ContainerConfig& c);
Result<void> validate_host_config(const HostConfig& h, int ncpu);
Result<void> validate_resources(const Resources& r, int ncpu);
Result<void> validate_restart_policy(const RestartPolicy& p);
// "/name" or "name": docker's [a-zA-Z0-9][a-zA-Z0-9_.-]+ rule.
Result<void> validate_container_name(std::string_view name);

OrderedJson encode_container_config(const ContainerConfig& c, ApiVersion v);
OrderedJson encode_host_config(const HostConfig& h, ApiVersion v);

}  // namespace berth::api
