// engine/local_containers_watch.cc — monitor events (the watcher thread),
// restart policies and --rm (the worker thread), live restore at startup.
#include <dirent.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/log.h"
#include "engine/container_messages.h"
#include "engine/leftovers.h"
#include "engine/local_containers.h"
#include "engine/spec_builder.h"

namespace berth::engine {

namespace {
constexpr int64_t kRestartBaseMs = 100;
constexpr int64_t kRestartMaxMs = 60'000;
constexpr int64_t kRestartResetNs = 10'000'000'000;
}  // namespace

// ---- monitor events -----------------------------------------------------------

void LocalContainerService::apply_exit_locked(Ctr& c, const monitor::ExitRecord& e) {
  if (c.starting) {
    c.deferred_exit = e;
    return;
  }
  c.state.status = "exited";
  c.state.exit_code = e.exit_code < 0 ? 128 : e.exit_code;
  c.state.finished_ns = e.finished_ns ? e.finished_ns : unix_now_ns();
  if (e.started_ns) c.state.started_ns = e.started_ns;
  c.state.oom_killed = e.oom_killed;
  c.state.pid = 0;
  if (!e.error.empty()) c.state.error = e.error;
  if (!c.state.health_status.empty()) c.state.health_status = "unhealthy";
  c.health_restart = e.health_restart;
  ++c.exit_gen;
  (void)persist_state_locked(c);
  if (e.oom_killed) publish_locked(c, "oom");
  // execDuration: whole seconds the run lasted, as dockerd (25+) reports it.
  int64_t ran_ns = c.state.started_ns > 0 && c.state.finished_ns > c.state.started_ns
                       ? c.state.finished_ns - c.state.started_ns
                       : 0;
  publish_locked(c, "die",
                 {{"exitCode", std::to_string(c.state.exit_code)},
                  {"execDuration", std::to_string(ran_ns / 1'000'000'000)}});
  cv_.notify_all();
}

bool LocalContainerService::should_restart_locked(const Ctr& c) const {
  if (c.removing || c.removed || c.start_failed) return false;
  if (c.health_restart) return true;
  if (c.state.stopped_by_user) return false;
  const auto& p = c.cfg.host_config.restart_policy;
  if (p.name == "always" || p.name == "unless-stopped") return true;
  if (p.name == "on-failure") {
    return c.state.exit_code != 0 &&
           (p.maximum_retry_count <= 0 || c.state.restart_count < p.maximum_retry_count);
  }
  return false;
}

void LocalContainerService::monitor_gone_locked(const CtrPtr& c) {
  if (c->starting) {
    c->deferred_gone = true;
    return;
  }
  c->monitor_live = false;
  c->state.monitor_pid = 0;
  if (c->standby) {
    // A standby monitor that went (expired, shut down, killed): the
    // container is as created as before; a start spawns a monitor.
    c->standby = false;
    cv_.notify_all();
    return;
  }
  unmount_volumes_locked(*c);
  if (c->cfg.host_config.ipc_mode == "shareable") unmount_shm(c->id);
  if (c->state.status == "running" || c->state.status == "paused") {
    // The monitor ended without telling us about the exit (killed, or we
    // missed it): its exit file has the truth, if it got to write one.
    auto rec = monitor::read_exit_file(exit_file(c->id));
    if (rec) {
      apply_exit_locked(*c, *rec);
    } else {
      monitor::ExitRecord e;
      e.exit_code = 255;
      e.finished_ns = unix_now_ns();
      e.error = "container monitor exited unexpectedly";
      apply_exit_locked(*c, e);
    }
  }
  for (auto& id : c->exec_ids) {
    auto it = execs_.find(id);
    if (it != execs_.end() && it->second.running) {
      it->second.running = false;
      if (!it->second.exit_code) it->second.exit_code = 137;
    }
  }
  // Its addresses, ports and namespace go back now; a restart takes new ones.
  if (opts_.networks && !c->net_release_queued) schedule(c->id, Work::NetRelease, 0);
  if (should_restart_locked(*c)) {
    int64_t ran = c->state.finished_ns - c->state.started_ns;
    int64_t delay = (ran >= kRestartResetNs || c->restart_delay_ms == 0)
                        ? kRestartBaseMs
                        : std::min(c->restart_delay_ms * 2, kRestartMaxMs);
    c->restart_delay_ms = delay;
    c->state.status = "restarting";
    (void)persist_state_locked(*c);
    schedule(c->id, Work::Restart, delay);
  } else {
    schedule_auto_remove_locked(*c);
  }
  cv_.notify_all();
}

void LocalContainerService::on_event_locked(const CtrPtr& c, const monitor::Event& e) {
  if (e.event == "exit" && e.exit) {
    if (c->state.status == "running" || c->state.status == "paused" || c->starting) {
      apply_exit_locked(*c, *e.exit);
    }
    // The network goes back now, as docker's does at the exit, not after the
    // monitor has torn the container down: a --rm removal waits for neither.
    if (opts_.networks && c->state.status == "exited" && !c->starting && !c->net_release_queued) {
      c->net_release_queued = true;
      schedule(c->id, Work::NetRelease, 0);
    }
  } else if (e.event == "released") {
    c->released = true;
    // An --rm removal goes ahead now; it waits for the monitor's end only
    // before it answers (the monitor drains its clients first).
    if (!c->starting && c->state.status == "exited") schedule_auto_remove_locked(*c);
  } else if (e.event == "exec_exit") {
    auto it = execs_.find(e.exec_id);
    if (it != execs_.end()) {
      it->second.running = false;
      it->second.exit_code = e.exit_code;
      publish_locked(*c, "exec_die",
                     {{"execID", e.exec_id}, {"exitCode", std::to_string(e.exit_code)}});
    }
    cv_.notify_all();
  } else if (e.event == "health_status") {
    c->state.health_status = e.health_status;
    read_health(c->id, c->state);
    (void)persist_state_locked(*c);
    publish_locked(*c, "health_status: " + e.health_status);
  }
}

void LocalContainerService::watch(const CtrPtr& c, std::unique_ptr<monitor::Subscription> sub) {
  std::lock_guard lk(watch_mu_);
  int fd = sub->fd();
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = fd;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    log_warn("container {}: epoll_ctl: {}", c->id.substr(0, 12), strerror(errno));
  }
  watched_[fd] = {c, std::move(sub)};
}

void LocalContainerService::watcher_loop() {
  epoll_event evs[32];
  while (!quit_) {
    int n = ::epoll_wait(epfd_, evs, 32, 1000);
    if (quit_) break;
    for (int i = 0; i < n; ++i) {
      int fd = evs[i].data.fd;
      if (fd == wake_fd_) continue;
      CtrPtr c;
      monitor::Subscription* sub = nullptr;
      {
        std::lock_guard lk(watch_mu_);
        auto it = watched_.find(fd);
        if (it == watched_.end()) continue;
        c = it->second.first;
        sub = it->second.second.get();
      }
      bool gone = false;
      for (int k = 0; k < 64; ++k) {
        auto ev = sub->next(std::chrono::milliseconds(0));
        if (!ev) {
          gone = true;
          break;
        }
        if (!*ev) break;
        std::lock_guard lk(mu_);
        on_event_locked(c, **ev);
      }
      if (gone) {
        {
          std::lock_guard lk(watch_mu_);
          ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
          watched_.erase(fd);  // closes the subscription
        }
        std::lock_guard lk(mu_);
        monitor_gone_locked(c);
      }
    }
  }
}

// ---- delayed work ----------------------------------------------------------------

void LocalContainerService::schedule(const std::string& id, Work w, int64_t delay_ms) {
  {
    std::lock_guard lk(work_mu_);
    work_.emplace(std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms),
                  std::make_pair(id, w));
  }
  work_cv_.notify_all();
}

void LocalContainerService::schedule_auto_remove_locked(const Ctr& c) {
  if (c.cfg.host_config.auto_remove && !c.removing && !c.removed) schedule(c.id, Work::Remove, 0);
}

void LocalContainerService::worker_loop() {
  std::unique_lock lk(work_mu_);
  while (!quit_) {
    if (work_.empty()) {
      work_cv_.wait_for(lk, std::chrono::seconds(1));
      continue;
    }
    auto due = work_.begin()->first;
    if (std::chrono::steady_clock::now() < due) {
      work_cv_.wait_until(lk, due);
      continue;
    }
    auto [id, w] = work_.begin()->second;
    work_.erase(work_.begin());
    lk.unlock();
    CtrPtr c;
    {
      std::lock_guard g(mu_);
      auto it = containers_.find(id);
      if (it != containers_.end()) c = it->second;
    }
    if (c) {
      std::lock_guard op(c->op);
      if (w == Work::Standby) {
        spawn_standby(c);
      } else if (w == Work::StandbyExpire) {
        expire_standby(c);
      } else if (w == Work::NetRelease) {
        bool go = false;
        {
          std::lock_guard g(mu_);
          // Queued at the exit event the monitor may still be tearing down;
          // a start since then (holding Ctr::op as this does) made a new run.
          go = !c->starting && c->state.status != "running" && c->state.status != "paused" &&
               !c->net_released;
        }
        if (go) release_network(id);
      } else if (w == Work::Restart) {
        bool go = false;
        {
          std::lock_guard g(mu_);
          go = c->state.status == "restarting" && !c->removing && !c->removed;
          if (go) ++c->state.restart_count;
        }
        if (go) {
          if (auto r = do_start(c, true); !r) {
            log_warn("container {}: restart: {}", id.substr(0, 12), r.error().message);
          }
        }
      } else {
        bool go = false;
        {
          std::lock_guard g(mu_);
          go = !c->removed && !c->removing && c->state.status != "running" &&
               c->state.status != "restarting" && c->state.status != "paused";
        }
        if (go) {
          if (auto r = do_remove(c, false, true); !r) {
            log_warn("container {}: auto-remove: {}", id.substr(0, 12), r.error().message);
          }
        }
      }
    }
    lk.lock();
  }
}

// ---- live restore -----------------------------------------------------------------

Result<void> LocalContainerService::restore() {
  auto rows = BERTH_TRY(store_->list_containers());
  std::vector<CtrPtr> all;
  std::vector<std::string> interrupted;
  {
    std::lock_guard lk(mu_);
    for (auto& row : rows) {
      auto cfg = decode_stored_config(row.config);
      auto st = decode_state(row.state);
      if (!cfg || !st) {
        log_warn("container {}: unreadable row, skipped: {}", row.id.substr(0, 12),
                 (!cfg ? cfg.error() : st.error()).message);
        continue;
      }
      // A removal moves the container's directory to the trash before it
      // deletes the row (without fsync): a row without its directory is a
      // removal that a power loss interrupted. Finish it.
      if (struct stat sb; ::stat(ctr_dir(row.id).c_str(), &sb) != 0 && errno == ENOENT) {
        interrupted.push_back(row.id);
        continue;
      }
      auto c = std::make_shared<Ctr>();
      c->id = row.id;
      c->name = row.name;
      c->image_id = row.image;
      c->created_ns = row.created_ns;
      c->cfg = std::move(*cfg);
      c->state = std::move(*st);
      containers_[c->id] = c;
      names_[c->name] = c->id;
      all.push_back(c);
    }
  }
  for (const auto& id : interrupted) {
    log_info("container {}: its removal was interrupted; finishing it", id.substr(0, 12));
    (void)images_.remove_container_rootfs(id);
    (void)store_->delete_container(id);
  }
  // The writable layer is written without fsync at create (the row is the
  // durable record): a power loss soon after may have taken it. One listing
  // of the layers there, not a lookup per container.
  std::set<std::string> layers;
  if (auto ids = images_.list_container_rootfs()) layers.insert(ids->begin(), ids->end());
  for (const auto& c : all) {
    // --rm containers are removed below anyway.
    if (c->cfg.host_config.auto_remove || layers.contains(c->id)) continue;
    auto fixed = images_.repair_container_rootfs(c->id, c->image_id);
    if (!fixed) {
      log_warn("container {}: its writable layer is missing and cannot be made again: {}",
               c->id.substr(0, 12), fixed.error().message);
    } else if (*fixed) {
      log_warn(
          "container {}: its writable layer was lost (power loss before writeback?); made "
          "it again, empty",
          c->id.substr(0, 12));
    }
  }
  for (auto& c : all) {
    std::string status;
    {
      std::lock_guard lk(mu_);
      status = c->state.status;
    }
    std::string sock = socket_path(c->id);
    if (status == "running" || status == "paused" || status == "restarting") {
      auto sub = monitor::Subscription::open(sock);
      if (sub) {
        std::optional<monitor::StateReply> st;
        if (auto mc = monitor::MonitorClient::connect(sock)) {
          if (auto s = (*mc)->state()) st = *s;
        }
        {
          std::lock_guard lk(mu_);
          c->monitor_live = true;
          if (st && (st->status == "running" || st->status == "paused")) {
            c->state.status = st->status;
            c->state.pid = st->pid;
          }
        }
        watch(c, std::move(*sub));  // a monitor that exited meanwhile sends "exit" at once
        continue;
      }
      reap_leftovers(*c);
      std::lock_guard lk(mu_);
      if (c->state.status == "restarting") {
        // Its restart was pending when the daemon stopped: do it now.
        schedule(c->id, Work::Restart, 0);
        continue;
      }
      auto rec = monitor::read_exit_file(exit_file(c->id));
      if (rec) {
        apply_exit_locked(*c, *rec);
      } else {
        monitor::ExitRecord e;
        e.exit_code = 255;
        e.finished_ns = unix_now_ns();
        e.error = "container died while the daemon was down";
        apply_exit_locked(*c, e);
      }
      c->monitor_live = true;  // so monitor_gone_locked applies the policy once
      monitor_gone_locked(c);
      continue;
    }
    // Not running by the row, but a monitor may still be there: spawned and
    // never started (the daemon died between spawn and start: shut it down),
    // or started just before the daemon could record it (adopt it).
    if (auto mc = monitor::MonitorClient::connect(sock)) {
      auto st = (*mc)->state();
      if (st && st->status == "created") {
        (void)(*mc)->shutdown();
        wait_socket_gone(sock);
      } else if (st && (st->status == "running" || st->status == "paused")) {
        if (auto sub = monitor::Subscription::open(sock)) {
          {
            std::lock_guard lk(mu_);
            c->monitor_live = true;
            c->state.status = st->status;
            c->state.pid = st->pid;
            c->state.started_ns = c->state.started_ns ? c->state.started_ns : unix_now_ns();
            (void)persist_state_locked(*c);
          }
          watch(c, std::move(*sub));
          continue;
        }
      }
    }
    reap_leftovers(*c);
    std::lock_guard lk(mu_);
    const auto& p = c->cfg.host_config.restart_policy;
    if (status == "exited" && !c->state.stopped_by_user &&
        (p.name == "always" || p.name == "unless-stopped")) {
      c->state.status = "restarting";
      schedule(c->id, Work::Restart, 0);
    } else if (status == "exited" && c->cfg.host_config.auto_remove) {
      schedule(c->id, Work::Remove, 0);
    }
  }
  remove_orphans();
  if (opts_.networks) {
    std::map<std::string, ContainerNetRequest> live;
    {
      std::lock_guard lk(mu_);
      for (auto& c : all)
        if (c->monitor_live && (c->state.status == "running" || c->state.status == "paused")) {
          live[c->id] = net_request_locked(*c);
          c->builtin_net_joined = on_builtin_network(c->cfg.host_config);  // joined before
        }
    }
    if (auto r = opts_.networks->restore(live); !r)
      log_warn("restoring the networks: {}", r.error().message);
  }
  restore_volume_refs();
  {
    // A shareable /dev/shm whose container stopped while berthd was down.
    std::lock_guard lk(mu_);
    for (auto& c : all) {
      if (c->cfg.host_config.ipc_mode == "shareable" && !c->monitor_live) unmount_shm(c->id);
    }
  }
  return {};
}

void LocalContainerService::wait_socket_gone(const std::string& sock) {
  for (int i = 0; i < 100; ++i) {
    if (!monitor::MonitorClient::connect(sock)) return;
    ::usleep(50'000);
  }
}

void LocalContainerService::reap_leftovers(const Ctr& c) {
  // A monitor still setting the container up for the previous daemon
  // (not yet listening) would race the cleanup: end it first.
  for (pid_t p : monitors_of(ctr_dir(c.id) + "/monitor.json")) ::kill(p, SIGKILL);
  // A monitor killed with its rootfs mounted (a standby one, or one killed
  // during setup) could not unmount it; a stacked overlay on the same upper
  // directory at the next start would not be safe.
  std::string rootfs = ctr_dir(c.id) + "/bundle/rootfs";
  for (int i = 0; i < 8 && ::umount2(rootfs.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0; ++i) {
  }
  std::string parent = c.cfg.host_config.resources.cgroup_parent.empty()
                           ? opts_.cgroup_parent
                           : c.cfg.host_config.resources.cgroup_parent;
  auto r = reap_container_leftovers(cgroup_layout_, container_cgroups_path(parent, c.id), c.id,
                                    opts_.exec_root + "/runtime/" + c.id);
  if (!r) log_warn("container {}: {}", c.id.substr(0, 12), r.error().message);
}

void LocalContainerService::remove_orphans() {
  // Deletions a previous daemon queued and did not finish (trash()).
  for (const auto& root : {opts_.data_root, opts_.exec_root}) {
    std::error_code ec;
    std::filesystem::remove_all(root + "/trash", ec);
    if (ec) log_warn("removing {}/trash: {}", root, ec.message());
  }
  std::set<std::string> known;
  {
    std::lock_guard lk(mu_);
    for (auto& [id, c] : containers_) known.insert(id);
  }
  auto list_dir = [](const std::string& d) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(d, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      out.push_back(it->path().filename().string());
    }
    return out;
  };
  // Monitors of containers without rows first (they hold mounts).
  for (const auto& id : list_dir(opts_.exec_root + "/containers")) {
    if (known.contains(id)) continue;
    std::string sock = socket_path(id);
    if (auto mc = monitor::MonitorClient::connect(sock)) {
      auto st = (*mc)->state();
      if (st && st->status == "created") {
        (void)(*mc)->shutdown();
      } else {
        (void)(*mc)->kill(SIGKILL, true);
      }
      wait_socket_gone(sock);
    }
    log_info("removing orphaned container state {}", id.substr(0, 12));
    remove_files(id);
  }
  // Runtime state of containers without rows: their monitors died with (or
  // before) the rows. (Not every cgroup under the parent: another daemon
  // with its own data root may share the parent.)
  std::set<std::string> stray;
  for (const auto& id : list_dir(opts_.exec_root + "/runtime")) {
    if (!known.contains(id)) stray.insert(id);
  }
  for (const auto& id : stray) {
    Ctr ghost;
    ghost.id = id;
    log_info("removing leftovers of container {}", id.substr(0, 12));
    reap_leftovers(ghost);
  }
  for (const auto& id : list_dir(opts_.data_root + "/containers")) {
    if (known.contains(id)) continue;
    log_info("removing orphaned container directory {}", id.substr(0, 12));
    remove_files(id);
  }
  if (auto ids = images_.list_container_rootfs()) {
    for (const auto& id : *ids) {
      if (known.contains(id)) continue;
      log_info("removing orphaned container rootfs {}", id.substr(0, 12));
      (void)images_.remove_container_rootfs(id);
    }
  }
}

}  // namespace berth::engine
