// engine/local_containers.h — LocalContainerService: the ContainerService
// that runs each container under its own berth-monitor (internal to engine;
// others use containers.h and open_container_service).
//
// Concurrency: mu_ guards the index (containers_, execs_) and every Ctr's
// fields; cv_ is notified on every state change (waiters, stop, logs
// follow). Lifecycle verbs on one container are serialised by Ctr::op
// (taken before mu_, never while holding it). Two threads:
//  - the watcher (epoll over every live monitor's Subscription) applies
//    monitor events under mu_ only and never takes Ctr::op;
//  - the worker runs delayed work (restart-policy restarts, --rm removal),
//    which does take Ctr::op.
// Monitor calls are made without mu_ held.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "base/reaper.h"
#include "cgroups/manager.h"
#include "engine/cgroup_warmer.h"
#include "engine/container_codec.h"
#include "engine/containers.h"
#include "engine/events.h"
#include "engine/images.h"
#include "engine/mount_plan.h"
#include "engine/network_manager.h"
#include "engine/spec_builder.h"
#include "monitor/client.h"
#include "store/metadata/metadata.h"

namespace berth::engine {

Result<std::unique_ptr<ContainerService>> open_container_service(
    ContainerServiceOptions opts, ImageService& images,
    std::unique_ptr<metadata::MetadataStore> store, EventBus& events);

// Whether a --network, --pid or --ipc mode is "container:x".
bool joins_namespaces(const HostConfig& hc);

class LocalContainerService final : public ContainerService {
 public:
  LocalContainerService(ContainerServiceOptions opts, ImageService& images,
                        std::unique_ptr<metadata::MetadataStore> store, EventBus& events);
  ~LocalContainerService() override;

  // Loads the rows and reconnects (live restore); starts the threads.
  Result<void> init();

  Result<CreateResult> create(const CreateRequest& req) override;
  void expect_requests() override;
  Result<std::vector<ContainerSummary>> list(const ListOptions& o) override;
  Result<ContainerDetail> inspect(const std::string& name, bool size) override;
  Result<void> start(const std::string& name, bool* already) override;
  Result<void> stop(const std::string& name, const std::string& signal, std::optional<int> timeout,
                    bool* already) override;
  Result<void> restart(const std::string& name, const std::string& signal,
                       std::optional<int> timeout) override;
  Result<void> kill(const std::string& name, const std::string& signal) override;
  Result<WaitResult> wait(const std::string& name, const std::string& condition,
                          const GoneFn& gone) override;
  Result<void> pause(const std::string& name) override;
  Result<void> unpause(const std::string& name) override;
  Result<void> rename(const std::string& name, const std::string& new_name) override;
  Result<std::vector<std::string>> update(const std::string& name,
                                          const UpdateRequest& req) override;
  Result<void> remove(const std::string& name, bool force, bool volumes) override;
  Result<ContainerPruneReport> prune(
      const std::map<std::string, std::vector<std::string>>& filters) override;
  Result<void> logs(const std::string& name, const LogsOptions& o, const LogSink& sink,
                    const GoneFn& gone) override;
  Result<void> attach(const std::string& name, const AttachOptions& o, Fd conn,
                      std::string buffered) override;
  Result<void> resize(const std::string& name, int height, int width) override;
  Result<std::string> exec_create(const std::string& name, const ExecConfig& c) override;
  Result<void> exec_start(const std::string& exec_id, bool detach, bool tty, Fd conn,
                          std::string buffered) override;
  Result<ExecDetail> exec_inspect(const std::string& exec_id) override;
  Result<void> exec_resize(const std::string& exec_id, int height, int width) override;
  Result<TopResult> top(const std::string& name, const std::string& ps_args) override;
  Result<void> stats(const std::string& name, bool stream, bool one_shot, const StatsSink& sink,
                     const GoneFn& gone) override;
  Result<std::vector<Change>> changes(const std::string& name) override;
  Result<void> export_rootfs(const std::string& name, const ByteSinkFn& sink) override;
  Result<PathStat> archive_stat(const std::string& name, const std::string& path) override;
  Result<PathStat> archive_get(const std::string& name, const std::string& path,
                               const ByteSinkFn& sink) override;
  Result<void> archive_put(const std::string& name, const std::string& path,
                           const ByteSourceFn& tar, bool no_overwrite_dir_non_dir,
                           bool copy_uid_gid) override;
  Result<std::string> commit(const CommitOptions& o) override;
  Result<void> network_connect(const std::string& network, const std::string& container,
                               const Json& settings) override;
  Result<void> network_disconnect(const std::string& network, const std::string& container,
                                  bool force) override;
  Counts counts() override;
  Runtimes runtimes() const override;
  void set_default_log_config(std::string driver, std::map<std::string, std::string> opts) override;
  std::string default_log_driver() const override;

 private:
  struct PendingAttach {
    AttachOptions opts;
    Fd conn;
  };
  struct Ctr {
    std::string id, name;  // name without "/"
    Digest image_id;
    int64_t created_ns = 0;
    StoredConfig cfg;
    ContainerState state;
    std::vector<std::string> exec_ids;
    std::mutex op;              // serialises lifecycle verbs
    bool monitor_live = false;  // a monitor runs (its subscription is watched)
    // That monitor is a standby one (monitor/protocol.h): spawned at create,
    // the rootfs mounted, the container not created yet.
    bool standby = false;
    // This run's network release is queued already (at its exit event, so it
    // runs while the monitor tears the container down).
    bool net_release_queued = false;
    // This run's network went back already (a stop released it before its
    // "stop" event): the queued release has nothing left to do.
    bool net_released = false;
    // A "network connect" to the built-in host or none network was published
    // for this run: its "disconnect" is owed at the release.
    bool builtin_net_joined = false;
    // This run's monitor has deleted the container and unmounted its rootfs
    // (its "released" event): it only drains clients before it exits, so a
    // removal need not wait for its end before removing the rootfs.
    bool released = false;
    uint64_t exit_gen = 0;   // bumped at every exit (wait next-exit)
    uint64_t start_gen = 0;  // bumped at every start
    bool removing = false, removed = false;
    bool start_failed = false;  // the last start failed (no restart policy)
    int64_t restart_delay_ms = 0;
    bool health_restart = false;  // the last exit asked for a restart (health)
    // While do_start waits for the monitor's "start" reply, the watcher
    // parks the exit (and the monitor's end) here so events stay in order.
    bool starting = false;
    std::optional<monitor::ExitRecord> deferred_exit;
    bool deferred_gone = false;
    std::vector<PendingAttach> pending;
  };
  struct ExecRec {
    std::string id, container_id;
    ExecConfig config;
    bool running = false, started = false;
    std::optional<int> exit_code;
    int pid = 0;
  };
  using CtrPtr = std::shared_ptr<Ctr>;

  // ---- paths --------------------------------------------------------------
  std::string ctr_dir(const std::string& id) const;
  // monitor::spawn of container `id`'s monitor, through the pool when there is one.
  Result<pid_t> spawn_monitor(const std::string& id, const monitor::MonitorConfig& mc);
  // The failing streak and last probes from the monitor's health.json of
  // container `id` into `s` (left as they are when the file is unreadable).
  void read_health(const std::string& id, ContainerState& s) const;
  std::string exec_dir(const std::string& id) const;
  std::string socket_path(const std::string& id) const;
  // The log file of a container with log driver `driver` ("" = json-file):
  // docker's paths, <id>-json.log or local-logs/container.log.
  std::string log_path(const std::string& id, const std::string& driver) const;
  std::string exit_file(const std::string& id) const;

  // ---- index (mu_ held) ---------------------------------------------------
  Result<CtrPtr> find_locked(const std::string& name) const;
  Result<CtrPtr> find(const std::string& name) const;
  Result<void> persist_state_locked(const Ctr& c);
  ContainerSummary summary_locked(const Ctr& c) const;
  // The root of c's files for archive/export/cp (takes mu_ itself).
  // The root for archive/export/cp. For a container without a process the
  // rootfs is mounted detached, under `idle` = the container's op lock (held
  // until the caller is done with the root): a standby monitor's spawn or
  // expiry (also under op) must not mount or unmount the same overlay
  // meanwhile, since two mounts of one upper/work directory race.
  Result<Fd> root_of(Ctr& c, std::unique_lock<std::mutex>& idle);
  // inspect() without the sizes; takes mu_ itself.
  Result<ContainerDetail> detail_of(const std::string& name);
  void publish(const Ctr& c, const std::string& action,
               std::map<std::string, std::string> extra = {});
  void publish_locked(const Ctr& c, const std::string& action,
                      std::map<std::string, std::string> extra = {});

  // ---- lifecycle (Ctr::op held) -------------------------------------------
  Result<void> do_start(const CtrPtr& c, bool restart);
  // hostname/hosts/resolv.conf and bundle/config.json of a container (see
  // the .cc); ensure_bundle rewrites them when missing or unreadable.
  // at_start: the namespaces of "container:" modes are looked up (mu_ held);
  // at create they are only checked. fresh_dir: create's first write, into
  // a directory nothing refers to yet (no temp files and renames).
  Result<void> write_bundle(const Ctr& c, bool at_start = false, bool fresh_dir = false);
  Result<void> ensure_bundle(const Ctr& c);
  Result<void> do_stop(const CtrPtr& c, int sig, int timeout_s, bool user);
  // remove_volumes: also its anonymous volumes (rm -v, --rm).
  Result<void> do_remove(const CtrPtr& c, bool force, bool remove_volumes = false);
  Result<void> wait_monitor_gone(const CtrPtr& c, std::chrono::milliseconds limit);
  Result<monitor::MonitorConfig> monitor_config(const Ctr& c) const;

  // ---- networks (local_containers_net.cc) -----------------------------------
  // What the container asks of the network manager (mu_ held).
  ContainerNetRequest net_request_locked(const Ctr& c) const;
  // Create-time check of the network flags (no mu_ needed: c is not shared yet).
  Result<void> validate_network(const Ctr& c);
  // Attaches the container's networks and rewrites its hosts/resolv.conf
  // with its address (Ctr::op held, before the monitor starts). Returns the
  // links still to configure (may be empty), which do_start runs while the
  // monitor sets the container up, and the IPv6 ports it hands the monitor.
  // What start_network leaves to the start: the links to configure before
  // the container's process runs (NetAttachment::links) and the IPv6
  // published ports for its monitor (NetAttachment::proxies).
  struct NetStart {
    std::function<Result<void>()> links;
    std::vector<ProxiedPort> proxies;
  };
  Result<NetStart> start_network(const CtrPtr& c);
  // Releases the container's endpoints (idempotent), with docker's
  // "network disconnect" events for those it had.
  void release_network(const std::string& id);
  // Shared/slave bind propagation needs a shared/slave host mount (docker's
  // start-time check, engine/mount_plan.h check_bind_propagation).
  Result<void> check_propagation(const Ctr& c);
  void publish_endpoints(const std::string& id, const std::vector<EndpointInfo>& endpoints,
                         const char* action);
  void publish_builtin(const std::string& id, const std::string& mode, const char* action);
  // NetworkMode host or none: the built-in networks without endpoints.
  static bool on_builtin_network(const HostConfig& hc);
  // Replaces c's stored config (memory and row); takes mu_ itself.
  Result<void> save_config(Ctr& c, StoredConfig cfg);
  // NetworkSettings views (mu_ held).
  std::vector<NetworkEndpoint> endpoint_views_locked(const Ctr& c) const;
  // The OCI spec's network namespace path for c ("" = none made by berthd).
  std::string spec_netns_path(const Ctr& c) const;

  // ---- "container:" namespace modes (local_containers_joins.cc) -----------
  // Create: the containers named by --pid/--ipc container:x exist.
  Result<void> validate_joins(const Ctr& c);
  // Fills si.join_namespaces (and for the network the other container's
  // hostname and hosts files, for IPC its /dev/shm). at_start: the other
  // container must run (docker's errors); else /proc/self/ns placeholders
  // (create's spec; ensure_bundle writes it again at every start).
  Result<void> resolve_joins_locked(const Ctr& c, SpecInput& si, bool at_start);
  // The host tmpfs of a "shareable" IPC container's /dev/shm, mounted at
  // start and unmounted when its run ends or it is removed.
  std::string shm_dir(const std::string& id) const;
  Result<void> mount_shm(const Ctr& c);
  void unmount_shm(const std::string& id);

  // ---- --link (local_containers_links.cc) ---------------------------------
  // Create: every link parses and names an existing container.
  Result<void> validate_links(const Ctr& c);
  // HostConfig.Links as docker shows them: "/target:/self/alias".
  std::vector<std::string> link_display_locked(const Ctr& c) const;
  struct LinkInfo {
    std::string ip, names;         // the /etc/hosts line
    std::vector<std::string> env;  // engine/links.h link_env
  };
  // On the default bridge, at start: each linked container must run there
  // (docker's "Cannot link to a non running container: ..."). Empty for
  // other network modes (user networks resolve links through the DNS).
  Result<std::vector<LinkInfo>> resolve_links_locked(const Ctr& c) const;

  // ---- monitor events (watcher thread, mu_ held) ---------------------------
  void apply_exit_locked(Ctr& c, const monitor::ExitRecord& e);
  void monitor_gone_locked(const CtrPtr& c);
  bool should_restart_locked(const Ctr& c) const;
  void on_event_locked(const CtrPtr& c, const monitor::Event& e);
  void watch(const CtrPtr& c, std::unique_ptr<monitor::Subscription> sub);
  void watcher_loop();

  // ---- delayed work (worker thread) ----------------------------------------
  enum class Work { Restart, Remove, NetRelease, Standby, StandbyExpire };
  void schedule(const std::string& id, Work w, int64_t delay_ms);
  // Queues the removal of an --rm container not already going (after its
  // run ended, or its start failed: docker removes it then too). mu_ held.
  void schedule_auto_remove_locked(const Ctr& c);
  void worker_loop();

  // ---- standby monitors (local_containers_standby.cc) ----------------------
  // A created container's monitor, spawned by the worker just after the
  // create (Ctr::op held): it opens the log, listens and mounts the rootfs
  // while the client is still between its create and its start, so the start
  // only asks it to create the container. Unused for kStandbyTtlMs, it is shut
  // down (expire_standby). Both do nothing unless the container is still
  // created and has no monitor.
  static constexpr int64_t kStandbyTtlMs = 30000;
  void spawn_standby(const CtrPtr& c);
  void expire_standby(const CtrPtr& c);
  // do_start's use of it: the container created by the standby monitor (its
  // pid; Ctr::starting set as for a spawned one), or nullopt when it is gone
  // (the caller spawns one as usual).
  std::optional<Result<pid_t>> create_in_standby(const CtrPtr& c, const monitor::MonitorConfig& mc);
  // The root of a container that has no process (created or stopped), its
  // rootfs being `layers`: the standby monitor's mounted rootfs when it has
  // one (a second overlay mount of the same upper directory is not safe),
  // else a detached mount (gone with the fd).
  Result<Fd> idle_root(const Ctr& c, const std::vector<monitor::RootfsMount>& layers);

  // ---- live restore ---------------------------------------------------------
  Result<void> restore();
  void remove_orphans();
  // Kills what a dead monitor left of c (processes in its cgroup, the
  // cgroup, the runtime state); logs failures. Only without a live monitor.
  void reap_leftovers(const Ctr& c);
  // Waits (at most 5 s) until nothing listens on a monitor socket.
  void wait_socket_gone(const std::string& sock);

  // ---- volumes and binds (local_containers_volumes.cc) ----------------------
  // What a failed create must take back: volumes it made, host dirs it made
  // (each -v source's new directories, deepest first).
  struct MountUndo {
    std::vector<std::string> volumes, dirs;
  };
  // The plan for a create (validation only; takes mu_ for --volumes-from).
  Result<std::vector<PlannedMount>> plan_container_mounts(const StoredConfig& sc);
  // Creates/references the volumes and -v host dirs of the plan for `id`.
  Result<std::vector<ContainerMount>> resolve_mounts(const std::vector<PlannedMount>& plan,
                                                     const std::string& id, MountUndo& undo);
  void undo_mounts(const std::string& id, const MountUndo& undo);
  // Before a start (Ctr::op held, not mu_): device mounts and copy-up.
  Result<void> prepare_mounts(const Ctr& c);
  // The monitor ended (mu_ held): let go of device volume mounts.
  void unmount_volumes_locked(const Ctr& c);
  // Startup, after restore(): references of every container, mounts of
  // the live ones, then unmounts nobody holds.
  void restore_volume_refs();

  // Removes a container's files (rootfs unmounted first; the tree is only
  // removed recursively once bundle/rootfs is gone, so a stuck mount never
  // lets us delete image content).
  // Unmounts a leftover rootfs, then deletes the container's directories
  // (kept, with a warning, when the rootfs cannot be unmounted). defer: the
  // directories are renamed into <root>/trash at once and deleted by
  // reaper_ (remove_orphans() empties the trash at the next start).
  void remove_files(const std::string& id, bool defer = false);
  void trash(const std::string& path, const std::string& root);

  ContainerServiceOptions opts_;
  cgroups::Layout cgroup_layout_;
  ImageService& images_;
  std::unique_ptr<metadata::MetadataStore> store_;
  EventBus& events_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, CtrPtr> containers_;             // by id
  std::map<std::string, std::string> names_;             // name -> id
  std::map<std::string, ExecRec> execs_;                 // by exec id
  std::string default_log_driver_ = "json-file";         // guarded by mu_
  std::map<std::string, std::string> default_log_opts_;  // guarded by mu_
  bool stopping_ = false;
  std::atomic<bool> quit_{false};

  // watcher
  int epfd_ = -1, wake_fd_ = -1;
  std::mutex watch_mu_;
  std::map<int, std::pair<CtrPtr, std::unique_ptr<monitor::Subscription>>> watched_;
  std::thread watcher_;

  // worker
  std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::pair<std::string, Work>> work_;
  std::thread worker_;

  // Poked by create, start and exec (engine/cgroup_warmer.h); set by init().
  std::unique_ptr<CgroupWarmer> warmer_;
  // Set by init() when opts_.pooled_monitors; spawn_monitor() uses it.
  std::unique_ptr<monitor::MonitorPool> monitor_pool_;
  // Last: destroyed first, finishing the deletions it has queued.
  Reaper reaper_;
};

}  // namespace berth::engine
