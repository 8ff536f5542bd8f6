// engine/local_containers_standby.cc — standby monitors: a created
// container's monitor spawned before its start (local_containers.h).
//
// Why: `docker run` sends create, then attach and wait, then start; the
// client spends milliseconds between the create's answer and the start. The
// monitor's spawn, log, socket and rootfs mount fit in that gap, so the start
// only has to create the container in the runtime. Nothing of a standby is
// visible through the API: the container stays "created" (no pid, no
// network, no cgroup); removal shuts the monitor down as it shuts down any
// monitor of a never-started container, and so does restore after a daemon
// restart.
#include <fcntl.h>

#include <filesystem>
#include <system_error>

#include "base/log.h"
#include "engine/archive.h"
#include "engine/local_containers.h"
#include "engine/rootfs_mount.h"

namespace berth::engine {

void LocalContainerService::spawn_standby(const CtrPtr& c) {
  monitor::MonitorConfig mc;
  {
    std::lock_guard lk(mu_);
    if (c->removed || c->removing || c->monitor_live || c->starting ||
        c->state.status != "created" || c->start_gen != 0)
      return;
    auto m = monitor_config(*c);
    if (!m) return;  // the start reports it
    mc = std::move(*m);
  }
  mc.standby = true;
  std::error_code ec;
  std::filesystem::create_directories(exec_dir(c->id), ec);
  if (ec) return;
  auto pid = spawn_monitor(c->id, mc);
  if (!pid) {
    // The start spawns its own monitor and reports what is wrong.
    log_debug("container {}: standby monitor: {}", c->id.substr(0, 12), pid.error().message);
    return;
  }
  auto sub = monitor::Subscription::open(mc.socket_path);
  if (!sub) {
    if (auto cl = monitor::MonitorClient::connect(mc.socket_path)) (void)(*cl)->shutdown();
    wait_socket_gone(mc.socket_path);
    return;
  }
  {
    std::lock_guard lk(mu_);
    c->monitor_live = true;
    c->standby = true;
    c->state.monitor_pid = *pid;
  }
  watch(c, std::move(*sub));
  schedule(c->id, Work::StandbyExpire, kStandbyTtlMs);
}

void LocalContainerService::expire_standby(const CtrPtr& c) {
  {
    std::lock_guard lk(mu_);
    if (!c->standby) return;
  }
  if (auto cl = monitor::MonitorClient::connect(socket_path(c->id))) (void)(*cl)->shutdown();
  if (auto r = wait_monitor_gone(c, std::chrono::seconds(5)); !r)
    log_warn("container {}: standby monitor: {}", c->id.substr(0, 12), r.error().message);
}

std::optional<Result<pid_t>> LocalContainerService::create_in_standby(
    const CtrPtr& c, const monitor::MonitorConfig& mc) {
  pid_t pid = 0;
  {
    std::lock_guard lk(mu_);
    if (!c->standby || !c->monitor_live) return std::nullopt;
    pid = c->state.monitor_pid;
  }
  auto cl = monitor::MonitorClient::connect(mc.socket_path);
  if (!cl) {
    // Gone meanwhile (killed): the start spawns a monitor once the watcher
    // has seen this one go.
    (void)wait_monitor_gone(c, std::chrono::seconds(5));
    return std::nullopt;
  }
  {
    // The monitor exits after a failed create: that end waits (deferred_gone)
    // until do_start has recorded the failure, as a start's end would.
    std::lock_guard lk(mu_);
    c->starting = true;
    c->deferred_exit.reset();
    c->deferred_gone = false;
  }
  // Attaches keep waiting for the start (Ctr::pending) until the container
  // exists; then the monitor is the start's, not a standby.
  auto r = (*cl)->create();
  {
    std::lock_guard lk(mu_);
    c->standby = false;
  }
  if (!r) return Result<pid_t>(unexpected(r.error()));
  return Result<pid_t>(pid);
}

Result<Fd> LocalContainerService::idle_root(const Ctr& c,
                                            const std::vector<monitor::RootfsMount>& layers) {
  bool standby = false;
  {
    std::lock_guard lk(mu_);
    standby = c.standby;
  }
  if (standby) return open_root(ctr_dir(c.id) + "/bundle/rootfs");
  return open_detached_rootfs(layers);
}

}  // namespace berth::engine
