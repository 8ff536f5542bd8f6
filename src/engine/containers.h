// engine/containers.h — docker's container verbs, as api/server calls them.
//
// ContainerService is the interface; LocalContainerService (created by
// open_container_service) runs each container under its own berth-monitor
// (monitor/client.h), persists containers in the metadata store, keeps an
// in-memory index (ps never touches the disk), applies restart policies and
// reconnects to live monitors at startup (live restore, always on).
//
// Names: every `name` argument accepts a full id, an unambiguous id prefix,
// or a name with or without the leading "/". Unknown: Errc::NotFound
// "No such container: <name>" (docker's message, clients match it).
// Conflicts use docker's exact messages (see container_messages.h).
// Connections (attach, exec start): api/server hijacks the HTTP connection,
// writes the 101/200 header itself and passes the fd here; ownership moves
// to the engine (and then to the monitor). `buffered` = bytes the client
// sent after its request (stdin), forwarded first.
// Long calls (wait, logs follow, stats stream) poll `gone` (the client left)
// at least every 250 ms and return Errc::Cancelled when it says so.
// Thread-safety: every method may be called from any thread.
// Depends on: base, engine/container_types.h.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "engine/container_types.h"

namespace berth::engine {

class NetworkManager;

using GoneFn = std::function<bool()>;

struct CreateRequest {
  std::string name;      // "" = a generated docker-style name ("adjective_surname")
  std::string platform;  // "" | "linux/amd64"
  ContainerConfig config;
  HostConfig host_config;
  Json networking_config;  // as given (issue 5)
};
struct CreateResult {
  std::string id;
  std::vector<std::string> warnings;
};

// docker's filters for /containers/json: id, name, label, status, ancestor,
// exited, health, before, since (others: InvalidArgument "invalid filter 'x'").
struct ListOptions {
  bool all = false;
  int limit = -1;  // -1 = all; >0 = the n most recently created (implies all)
  bool size = false;
  std::map<std::string, std::vector<std::string>> filters;
};

struct ContainerSummary {
  std::string id;
  std::vector<std::string> names;  // {"/name"}
  std::string image;               // as given at create
  std::string image_id;
  std::string command;  // path + args joined by spaces
  int64_t created = 0;  // unix seconds
  std::map<std::string, std::string> labels;
  ContainerState state;  // api/server derives docker's State/Status strings from it
  int64_t size_rw = -1, size_root_fs = -1;  // -1 = not computed
  std::string network_mode;
  std::string isolation;  // HostConfig.Isolation as given ("" unless set), for its filter
  // The host ports it holds while it runs (empty otherwise).
  std::map<std::string, std::vector<PortBinding>> port_bindings;
  // As configured, whether it runs or not ("80/tcp"): HostConfig.PortBindings'
  // keys and Config.ExposedPorts, for the publish and expose filters.
  std::vector<std::string> published_ports, exposed_ports;
  std::vector<NetworkEndpoint> networks;  // NetworkSettings.Networks
  std::vector<ContainerMount> mounts;
};

struct ContainerDetail {
  std::string id;
  int64_t created_ns = 0;
  std::string path;
  std::vector<std::string> args;
  ContainerState state;
  std::string image_id;
  std::string resolv_conf_path, hostname_path, hosts_path, log_path;
  std::string name;  // "/name"
  std::string driver;
  std::string platform = "linux";
  std::vector<std::string> exec_ids;
  ContainerConfig config;  // after merging the image's defaults
  HostConfig host_config;
  std::map<std::string, std::string> graph_driver_data;  // LowerDir/UpperDir/WorkDir/MergedDir
  int64_t size_rw = -1, size_root_fs = -1;
  // NetworkSettings: the ports it holds while running (keys = exposed and
  // published ports, empty lists when not bound), its networks, its netns.
  std::map<std::string, std::vector<PortBinding>> ports;
  std::vector<NetworkEndpoint> networks;
  std::string sandbox_key;
  std::vector<ContainerMount> mounts;  // inspect's Mounts
};

struct AttachOptions {
  bool stream = true;
  bool logs = false;  // replay the log first
  bool stdin = false, stdout = false, stderr = false;
  std::string detach_keys;  // "" = the container's or docker's default
};

struct LogsOptions {
  bool follow = false;
  bool stdout = false, stderr = false;  // both false: docker refuses (api/server checks)
  std::optional<int64_t> since_ns, until_ns;
  int64_t tail = -1;  // -1 = all
  bool timestamps = false;
  bool details = false;  // each line after its entry's attrs and a space (docker's order:
                         // timestamp, attrs, line)
};
// stream 1 stdout / 2 stderr; `data` already carries the timestamp prefix
// when asked. api/server frames it (docker's multiplexed stream) unless the
// container has a TTY.
using LogSink = std::function<Result<void>(int stream, std::string_view data)>;

struct WaitResult {
  int status_code = 0;
  std::string error;  // Error.Message when the container failed to start
};

struct UpdateRequest {
  Resources resources;  // zero/unset fields are left as they are
  std::optional<RestartPolicy> restart_policy;
};

struct ExecConfig {
  bool attach_stdin = false, attach_stdout = false, attach_stderr = false;
  std::string detach_keys;
  bool tty = false;
  std::vector<std::string> env;
  std::vector<std::string> cmd;  // required, non-empty
  bool privileged = false;
  std::string user;
  std::string working_dir;
  std::vector<uint32_t> console_size;
};
struct ExecDetail {
  std::string id;
  std::string container_id;
  bool running = false;
  std::optional<int> exit_code;  // null on the wire until it exited
  int pid = 0;
  bool can_remove = false;
  std::string detach_keys;
  ExecConfig config;
  bool open_stdin = false, open_stdout = false, open_stderr = false;
};

struct TopResult {
  std::vector<std::string> titles;
  std::vector<std::vector<std::string>> processes;
};

// One stats sample (docker's /containers/{id}/stats body, in engine terms).
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
  std::map<std::string, uint64_t> memory_stats;  // memory.stat keys
  uint64_t pids_current = 0, pids_limit = 0;
  struct BlkioEntry {
    uint64_t major = 0, minor = 0;
    std::string op;  // "read" | "write" | "sync" | "async" | "discard" | "total"
    uint64_t value = 0;
  };
  std::vector<BlkioEntry> io_service_bytes;
  // Interfaces of the container's network namespace other than lo, by name
  // (docker's "networks"); empty without a namespace of its own.
  struct NetEntry {
    std::string name;
    uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
    uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
  };
  std::vector<NetEntry> networks;
  std::string id, name;
};
using StatsSink = std::function<Result<void>(const StatsSample&)>;

struct Change {
  int kind = 0;  // 0 modified, 1 added, 2 deleted (docker's numbering)
  std::string path;
};

struct PathStat {  // X-Docker-Container-Path-Stat
  std::string name;
  int64_t size = 0;
  uint32_t mode = 0;  // Go's os.FileMode bits (dir = 1<<31, symlink = 1<<27 ...)
  int64_t mtime_ns = 0;
  std::string link_target;
};
using ByteSinkFn = std::function<Result<void>(std::string_view)>;
using ByteSourceFn = std::function<Result<std::string>()>;  // "" = end

struct CommitOptions {
  std::string container;
  std::string repository, tag;
  std::string comment, author;
  std::vector<std::string> changes;  // Dockerfile instructions
  bool pause = true;
  std::optional<ContainerConfig> config;  // overrides, as docker's body
};

struct ContainerPruneReport {
  std::vector<std::string> deleted;
  int64_t space_reclaimed = 0;
};

class ContainerService {
 public:
  virtual ~ContainerService() = default;

  virtual Result<CreateResult> create(const CreateRequest& req) = 0;
  // A client has just connected (its /_ping, which the docker CLI sends
  // before every command): a create and start may follow, so the engine may
  // begin what they will wait for (engine/cgroup_warmer.h). Cheap, never
  // fails, may do nothing.
  virtual void expect_requests() {}
  virtual Result<std::vector<ContainerSummary>> list(const ListOptions& o) = 0;
  virtual Result<ContainerDetail> inspect(const std::string& name, bool size) = 0;
  // Already running: Ok (api/server answers 304 when `already` is set).
  virtual Result<void> start(const std::string& name, bool* already) = 0;
  // signal "" = the container's stop signal; timeout nullopt = its stop timeout.
  // Not running: Ok with *already set (304).
  virtual Result<void> stop(const std::string& name, const std::string& signal,
                            std::optional<int> timeout, bool* already) = 0;
  virtual Result<void> restart(const std::string& name, const std::string& signal,
                               std::optional<int> timeout) = 0;
  virtual Result<void> kill(const std::string& name, const std::string& signal) = 0;
  // condition: "not-running" (default) | "next-exit" | "removed".
  virtual Result<WaitResult> wait(const std::string& name, const std::string& condition,
                                  const GoneFn& gone) = 0;
  virtual Result<void> pause(const std::string& name) = 0;
  virtual Result<void> unpause(const std::string& name) = 0;
  virtual Result<void> rename(const std::string& name, const std::string& new_name) = 0;
  virtual Result<std::vector<std::string>> update(const std::string& name,
                                                  const UpdateRequest& req) = 0;
  virtual Result<void> remove(const std::string& name, bool force, bool volumes) = 0;
  // Stopped containers matching every filter: label (all of them), label!
  // (none of them), until (created at or before; unix nanoseconds in decimal,
  // the API layer resolves docker's forms). Others: InvalidArgument.
  virtual Result<ContainerPruneReport> prune(
      const std::map<std::string, std::vector<std::string>>& filters) = 0;

  virtual Result<void> logs(const std::string& name, const LogsOptions& o, const LogSink& sink,
                            const GoneFn& gone) = 0;
  virtual Result<void> attach(const std::string& name, const AttachOptions& o, Fd conn,
                              std::string buffered) = 0;
  virtual Result<void> resize(const std::string& name, int height, int width) = 0;

  virtual Result<std::string> exec_create(const std::string& name, const ExecConfig& c) = 0;
  // detach: runs without a connection (conn invalid), returns at once.
  virtual Result<void> exec_start(const std::string& exec_id, bool detach, bool tty, Fd conn,
                                  std::string buffered) = 0;
  virtual Result<ExecDetail> exec_inspect(const std::string& exec_id) = 0;
  virtual Result<void> exec_resize(const std::string& exec_id, int height, int width) = 0;

  virtual Result<TopResult> top(const std::string& name, const std::string& ps_args) = 0;
  // stream=false: one sample (one_shot=false still primes precpu with a
  // second read ~1 s apart, as docker does; one_shot=true skips that).
  virtual Result<void> stats(const std::string& name, bool stream, bool one_shot,
                             const StatsSink& sink, const GoneFn& gone) = 0;
  virtual Result<std::vector<Change>> changes(const std::string& name) = 0;
  virtual Result<void> export_rootfs(const std::string& name, const ByteSinkFn& sink) = 0;
  // GET/HEAD archive: the stat (NotFound "Could not find the file <p> in
  // container <name>"); archive_get streams a tar of the path.
  virtual Result<PathStat> archive_stat(const std::string& name, const std::string& path) = 0;
  virtual Result<PathStat> archive_get(const std::string& name, const std::string& path,
                                       const ByteSinkFn& sink) = 0;
  // PUT archive: extracts a tar into path (a directory); never follows a
  // symlink out of the container's root.
  virtual Result<void> archive_put(const std::string& name, const std::string& path,
                                   const ByteSourceFn& tar, bool no_overwrite_dir_non_dir,
                                   bool copy_uid_gid) = 0;
  virtual Result<std::string> commit(const CommitOptions& o) = 0;  // image id

  // POST /networks/{id}/connect and /disconnect. `settings` = docker's
  // EndpointSettings JSON (Aliases, IPAMConfig). A stopped container only
  // records the network (it joins at its next start); a running one joins
  // at once. NotFound for an unknown network or container.
  virtual Result<void> network_connect(const std::string& network, const std::string& container,
                                       const Json& settings) = 0;
  virtual Result<void> network_disconnect(const std::string& network, const std::string& container,
                                          bool force) = 0;

  // For /info and /system/df.
  struct Counts {
    int total = 0, running = 0, paused = 0, stopped = 0;
  };
  virtual Counts counts() = 0;
  // The runtimes a create may name (name -> path; "berth" is the built-in
  // one, berth-runtime's library) and the one used when it names none.
  struct Runtimes {
    std::string default_name;
    std::map<std::string, std::string> paths;
  };
  virtual Runtimes runtimes() const = 0;

  // The daemon's "log-driver" ("json-file" or "local") and "log-opts"
  // (daemon.json): a new container that names no log driver gets the
  // driver, and one of that driver without options of its own gets the
  // options, as dockerd fills HostConfig.LogConfig at create. Already
  // validated by the caller; takes effect for the next create.
  virtual void set_default_log_config(std::string driver,
                                      std::map<std::string, std::string> opts) = 0;
  // The driver set above (docker info's LoggingDriver).
  virtual std::string default_log_driver() const = 0;
};

class VolumeService;  // engine/volumes.h

struct ContainerServiceOptions {
  std::string data_root;       // containers/<id>/ lives here
  std::string exec_root;       // monitors' sockets, runtime state
  std::string monitor_binary;  // berth-monitor (default: beside berthd)
  std::string init_binary;     // berth-init for --init (default: beside berthd)
  // Named runtimes ("runc" -> "/usr/sbin/runc"); "" / "berth" = built-in.
  std::map<std::string, std::string> runtimes;
  // Extra arguments per named runtime (daemon.json "runtimeArgs").
  std::map<std::string, std::vector<std::string>> runtime_args;
  std::string default_runtime;
  std::string cgroup_parent = "/berth";
  std::string default_seccomp_profile;  // "" = built-in docker-equivalent profile
  // Networks (bridges, addresses, ports, DNS); null = every container gets a
  // private loopback only (tests without root). Not owned.
  NetworkManager* networks = nullptr;
  // Volumes for -v/--mount/--volumes-from/VOLUME (not owned; outlives the
  // service). Null: a container that asks for a volume is refused.
  VolumeService* volumes = nullptr;
  // Created containers get their monitor before the start (standby, see
  // engine/local_containers.h spawn_standby).
  bool standby_monitors = true;
  // One monitor is kept started and idle, ready to be bound to the next
  // container (monitor::MonitorPool): its exec and start-up are off the
  // create/start path.
  bool pooled_monitors = false;
};

}  // namespace berth::engine
