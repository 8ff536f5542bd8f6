// api/types/containers.h — container answers of the Docker Engine API in
// docker's JSON spelling: /containers/json rows (with docker's Status text),
// inspect, wait, exec inspect, top, changes, stats, prune, the
// X-Docker-Container-Path-Stat header, and the multiplexed stream framing.
// Wire structs mirror engine/containers.h (api/server copies field by field).
// Depends on: base.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/types/container_config.h"
#include "api/types/version.h"
#include "base/json.h"
#include "base/json_writer.h"

namespace berth::api {

struct ContainerState {
  std::string status = "created";
  bool oom_killed = false;
  int pid = 0;
  int exit_code = 0;
  std::string error;
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
  int restart_count = 0;
  std::string health_status;
  int health_failing_streak = 0;
  struct HealthLog {
    int64_t start_ns = 0, end_ns = 0;
    int exit_code = 0;
    std::string output;
  };
  std::vector<HealthLog> health_log;
};

// go-units HumanDuration ("Less than a second", "About a minute", "3 hours").
std::string human_duration(int64_t ns);
// docker's State.String() for `ps` ("Up 5 seconds", "Up 2 minutes (healthy)",
// "Up 1 second (health: starting)", "Up 3 minutes (Paused)", "Restarting (1)
// 2 seconds ago", "Exited (0) 3 seconds ago", "Created", "Dead",
// "Removal In Progress").
std::string state_status_text(const ContainerState& s, int64_t now_ns);

// One entry of NetworkSettings.Networks (docker's EndpointSettings).
struct EndpointSettings {
  std::string network_name, network_id;
  std::vector<std::string> aliases;
  std::vector<std::string> links;  // as asked ("name:alias")
  std::string ipam_ipv4;
  std::string endpoint_id, mac, ip4, gateway4, ip6, gateway6;
  int prefix4 = 0, prefix6 = 0;
  std::vector<std::string> dns_names;
};
OrderedJson encode_endpoint_settings(const EndpointSettings& e, ApiVersion v);
void write_endpoint_settings(JsonWriter& w, const EndpointSettings& e, ApiVersion v);
// docker's MountPoint (inspect's and ps's Mounts); Name and Driver are
// omitted when empty.
struct MountPointWire {
  std::string type, name, source, destination, driver, mode;
  bool rw = true;
  std::string propagation;
};
OrderedJson encode_mount_point(const MountPointWire& m);
void write_mount_point(JsonWriter& w, const MountPointWire& m);

struct ContainerSummary {
  std::string id;
  std::vector<std::string> names;
  std::string image;
  std::string image_id;
  std::string command;
  int64_t created = 0;
  std::map<std::string, std::string> labels;
  ContainerState state;
  int64_t size_rw = -1, size_root_fs = -1;  // -1: omitted
  std::string network_mode;
  std::map<std::string, std::vector<PortBinding>> port_bindings;
  std::vector<EndpointSettings> networks;
  std::vector<MountPointWire> mounts;
};
// One /containers/json row. The list endpoint writes its rows straight into
// the answer (write_*); encode_* returns the same document as a tree.
OrderedJson encode_container_summary(const ContainerSummary& s, ApiVersion v, int64_t now_ns);
// `only`: when set, just these members ("Id", "Names", ...; berth's own
// CLI names the ones its columns read, see containers_list).
void write_container_summary(JsonWriter& w, const ContainerSummary& s, ApiVersion v, int64_t now_ns,
                             const std::set<std::string>* only = nullptr);

struct ContainerInspect {
  std::string id;
  int64_t created_ns = 0;
  std::string path;
  std::vector<std::string> args;
  ContainerState state;
  std::string image_id;
  std::string resolv_conf_path, hostname_path, hosts_path, log_path;
  std::string name;
  std::string driver;
  std::string platform = "linux";
  std::vector<std::string> exec_ids;
  ContainerConfig config;
  HostConfig host_config;
  std::map<std::string, std::string> graph_driver_data;
  int64_t size_rw = -1, size_root_fs = -1;                // -1: omitted (size=0)
  std::map<std::string, std::vector<PortBinding>> ports;  // NetworkSettings.Ports
  std::vector<EndpointSettings> networks;
  std::string sandbox_key;
  std::vector<MountPointWire> mounts;
};
OrderedJson encode_container_inspect(const ContainerInspect& c, ApiVersion v);

// POST /containers/{id}/wait: {"StatusCode": n, "Error": null | {"Message": "..."}}
OrderedJson encode_wait_response(int status_code, const std::string& error);

struct ExecInspect {
  std::string id;
  std::string container_id;
  bool running = false;
  std::optional<int> exit_code;
  int pid = 0;
  bool can_remove = false;
  std::string detach_keys;
  bool tty = false, privileged = false;
  std::string user;
  std::vector<std::string> cmd;
  bool open_stdin = false, open_stdout = false, open_stderr = false;
};
OrderedJson encode_exec_inspect(const ExecInspect& e);

// POST /containers/{id}/exec body.
struct ExecCreateBody {
  bool attach_stdin = false, attach_stdout = false, attach_stderr = false;
  std::string detach_keys;
  bool tty = false;
  std::vector<std::string> env;
  std::vector<std::string> cmd;
  bool privileged = false;
  std::string user;
  std::string working_dir;
  std::vector<uint32_t> console_size;
};
// InvalidArgument naming the field; "No exec command specified" when Cmd is empty.
Result<ExecCreateBody> decode_exec_create(std::string_view body, ApiVersion v);
// POST /exec/{id}/start body {"Detach": bool, "Tty": bool, "ConsoleSize": [h,w]}.
struct ExecStartBody {
  bool detach = false;
  bool tty = false;
  std::vector<uint32_t> console_size;
};
Result<ExecStartBody> decode_exec_start(std::string_view body);

OrderedJson encode_top(const std::vector<std::string>& titles,
                       const std::vector<std::vector<std::string>>& processes);

struct ChangeItem {
  int kind = 0;
  std::string path;
};
OrderedJson encode_changes(const std::vector<ChangeItem>& changes);  // null when empty, as docker

struct StatsBlkio {
  uint64_t major = 0, minor = 0;
  std::string op;
  uint64_t value = 0;
};
struct StatsNet {  // one interface of "networks"
  std::string name;
  uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
  uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
};
struct StatsSample {
  int64_t read_ns = 0, preread_ns = 0;
  uint64_t cpu_total = 0, cpu_kernel = 0, cpu_user = 0, system_cpu = 0;
  std::vector<uint64_t> percpu;
  uint32_t online_cpus = 0;
  uint64_t throttling_periods = 0, throttled_periods = 0, throttled_time = 0;
  uint64_t pre_cpu_total = 0, pre_cpu_kernel = 0, pre_cpu_user = 0, pre_system_cpu = 0;
  std::vector<uint64_t> pre_percpu;
  uint32_t pre_online_cpus = 0;
  uint64_t memory_usage = 0, memory_max_usage = 0, memory_limit = 0;
  std::map<std::string, uint64_t> memory_stats;
  uint64_t pids_current = 0, pids_limit = 0;
  std::vector<StatsBlkio> io_service_bytes;
  std::vector<StatsNet> networks;  // "networks" is left out when empty, as docker's omitempty
  std::string id, name;
};
OrderedJson encode_stats(const StatsSample& s, ApiVersion v);

// POST /containers/prune: {"ContainersDeleted": [...]|null, "SpaceReclaimed": n}
OrderedJson encode_container_prune(const std::vector<std::string>& deleted,
                                   int64_t space_reclaimed);

struct PathStat {
  std::string name;
  int64_t size = 0;
  uint32_t mode = 0;
  int64_t mtime_ns = 0;
  std::string link_target;
};
// X-Docker-Container-Path-Stat: base64(JSON {"name","size","mode","mtime","linkTarget"}).
std::string encode_path_stat_header(const PathStat& s);
Result<PathStat> decode_path_stat_header(std::string_view header);

// docker's stdcopy frame: [stream, 0, 0, 0, size (big endian u32)] + data.
// Payloads larger than 4 GiB are split into several frames.
std::string frame_stream(int stream, std::string_view data);

// Content types of attach/exec/logs streams.
inline constexpr const char* kRawStream = "application/vnd.docker.raw-stream";
inline constexpr const char* kMultiplexedStream = "application/vnd.docker.multiplexed-stream";
// Logs and attach without a TTY are multiplexed; API >= 1.42 says so in the
// Content-Type, older versions always say raw-stream.
const char* stream_content_type(bool tty, ApiVersion v);

}  // namespace berth::api
