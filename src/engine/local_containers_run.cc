// engine/local_containers_run.cc — start, stop, kill, restart, wait,
// pause/unpause: the verbs that talk to a container's monitor.
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>
#include <thread>

#include "base/log.h"
#include "base/strings.h"
#include "engine/container_messages.h"
#include "engine/local_containers.h"
#include "engine/rootfs_mount.h"
#include "logs/json_file.h"
#include "sys/signals.h"

namespace berth::engine {

namespace {

bool is_live(const std::string& status) {
  return status == "running" || status == "paused" || status == "restarting";
}

monitor::HealthConfig health_config(const ContainerConfig& c) {
  monitor::HealthConfig h;
  if (!c.healthcheck) return h;
  const auto& hc = *c.healthcheck;
  if (hc.test.empty() || hc.test[0] == "NONE") return h;
  if (hc.test[0] == "CMD") {
    h.test.assign(hc.test.begin() + 1, hc.test.end());
  } else if (hc.test[0] == "CMD-SHELL") {
    std::vector<std::string> sh =
        c.shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : c.shell;
    h.test = sh;
    std::vector<std::string> rest(hc.test.begin() + 1, hc.test.end());
    h.test.push_back(join(rest, " "));
  } else {
    h.test = hc.test;  // docker treats a bare list as CMD
  }
  if (hc.interval_ns > 0) h.interval_ns = hc.interval_ns;
  if (hc.timeout_ns > 0) h.timeout_ns = hc.timeout_ns;
  h.start_period_ns = hc.start_period_ns;
  if (hc.start_interval_ns > 0) h.start_interval_ns = hc.start_interval_ns;
  if (hc.retries > 0) h.retries = hc.retries;
  h.on_failure = hc.on_failure.empty() ? "none" : hc.on_failure;
  return h;
}

// docker's mapping of runtime start failures: exit code and status class.
Error start_error(const std::string& detail, int* exit_code) {
  bool config = false;
  if (detail.find("executable file not found") != std::string::npos ||
      detail.find("no such file or directory") != std::string::npos) {
    *exit_code = 127;
    config = true;
  } else if (detail.find("permission denied") != std::string::npos) {
    *exit_code = 126;
    config = true;
  } else if (*exit_code <= 0) {
    *exit_code = 128;
  }
  std::string m = msg::start_failed("unable to start container process: " + detail);
  return Error{config ? Errc::InvalidArgument : Errc::Internal, 0, m};
}

Result<int> signal_or(const std::string& s, int def) {
  if (s.empty()) return def;
  auto r = sys::parse_signal(s);
  if (!r) return make_error(Errc::InvalidArgument, "Invalid signal: {}", s);
  return *r;
}

// The IPv6 published ports go to the container's monitor, which serves them
// from now on (berthd's copies close with the attachment).
Result<void> hand_proxies(monitor::MonitorClient& mc, const std::vector<ProxiedPort>& proxies) {
  if (proxies.empty()) return {};
  std::vector<monitor::ProxyTarget> targets;
  std::vector<int> fds;
  for (const auto& p : proxies) {
    targets.push_back(monitor::ProxyTarget{p.target_ip, p.target_port});
    fds.push_back(p.listener.get());
  }
  auto r = mc.proxy(targets, fds);
  if (!r) return std::move(r).error().context("publishing ports on IPv6 addresses");
  return {};
}

}  // namespace

Result<monitor::MonitorConfig> LocalContainerService::monitor_config(const Ctr& c) const {
  monitor::MonitorConfig m;
  m.id = c.id;
  m.bundle = ctr_dir(c.id) + "/bundle";
  m.rootfs_mounts = decode_rootfs_mounts(c.cfg.rootfs_mounts);
  m.volatile_rootfs = c.cfg.host_config.auto_remove;
  m.state_root = opts_.exec_root + "/runtime";
  std::string rt =
      c.cfg.host_config.runtime.empty() ? opts_.default_runtime : c.cfg.host_config.runtime;
  if (!rt.empty() && rt != "berth") {
    auto it = opts_.runtimes.find(rt);
    if (it == opts_.runtimes.end()) {
      return make_error(Errc::InvalidArgument, "unknown or invalid runtime name: {}", rt);
    }
    m.runtime = it->second;
    if (auto a = opts_.runtime_args.find(rt); a != opts_.runtime_args.end()) {
      m.runtime_args = a->second;
    }
  }
  m.socket_path = socket_path(c.id);
  m.pid_file = exec_dir(c.id) + "/monitor.pid";
  m.exit_file = exit_file(c.id);
  m.health_file = ctr_dir(c.id) + "/health.json";
  const auto& lc = c.cfg.host_config.log_config;
  m.log_driver = lc.type.empty() ? "json-file" : lc.type;
  m.log_path = log_path(c.id, lc.type);
  if (lc.type == "local") {
    std::string dir = ctr_dir(c.id) + "/local-logs";
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + dir);
  }
  m.log_opts = lc.config;
  if (lc.type != "none") {
    m.log_attrs = BERTH_TRY(logs::log_attributes(lc.config, c.cfg.config.labels, c.cfg.config.env));
  }
  m.tty = c.cfg.config.tty;
  m.open_stdin = c.cfg.config.open_stdin;
  m.stdin_once = c.cfg.config.stdin_once;
  m.health = health_config(c.cfg.config);
  return m;
}

Result<void> LocalContainerService::do_start(const CtrPtr& c, bool restart) {
  if (warmer_) warmer_->poke();  // engine/cgroup_warmer.h
  monitor::MonitorConfig mc;
  {
    std::lock_guard lk(mu_);
    if (c->removed || c->removing) return msg::no_such_container(c->id);
    const auto& st = c->state.status;
    if (st == "paused") {
      return make_error(Errc::Conflict, "cannot start a paused container, try unpause instead");
    }
    if (st == "running") return {};
    if (st == "restarting" && !restart) return {};
    if (c->monitor_live) {
      // The previous run's monitor is still draining; it goes within ~2 s.
    }
  }
  // A setup step that fails before the runtime is reached: an --rm
  // container still goes, as after any failed start (record_failure below).
  auto setup_failed = [&](Error e) -> Error {
    std::lock_guard lk(mu_);
    schedule_auto_remove_locked(*c);
    return e;
  };
  bool standby = false;
  {
    std::lock_guard lk(mu_);
    standby = c->standby && c->monitor_live;
  }
  // A standby monitor stays (it is this start's); any other is a previous
  // run's, still draining.
  Result<void> prepared = standby ? Result<void>{} : wait_monitor_gone(c, std::chrono::seconds(5));
  if (prepared) {
    std::lock_guard lk(mu_);
    auto m = monitor_config(*c);
    if (m) {
      mc = std::move(*m);
      prepared = ensure_bundle(*c);
    } else {
      prepared = m.error();
    }
  }
  if (prepared) prepared = check_propagation(*c);
  if (!prepared) return setup_failed(prepared.error());
  std::error_code ec;
  // A previous monitor that died without cleaning up (killed while the
  // daemon ran) left the built-in runtime's state and the cgroup: the new
  // create would find them. Its monitor is gone (waited for above).
  if (!standby && std::filesystem::exists(opts_.exec_root + "/runtime/" + c->id, ec))
    reap_leftovers(*c);
  std::filesystem::remove(mc.exit_file, ec);
  std::filesystem::remove(mc.health_file, ec);
  std::filesystem::create_directories(exec_dir(c->id), ec);
  if (ec)
    return setup_failed(
        make_error(Errc::Internal, "creating {}: {}", exec_dir(c->id), ec.message()));

  // `runtime`: the error came from the runtime (docker's wording and exit
  // code classes apply); otherwise (networking) it is passed on as it is.
  auto record_failure = [&](const Error& e, int code, bool runtime = true) -> Error {
    int exit_code = code;
    Error out = e;
    if (runtime) {
      out = start_error(e.message, &exit_code);
    } else {
      out.message = "failed to set up container networking: " + e.message;
      if (exit_code <= 0) exit_code = 128;
    }
    std::lock_guard lk(mu_);
    unmount_volumes_locked(*c);  // idempotent; its monitor holds nothing now
    if (c->cfg.host_config.ipc_mode == "shareable") unmount_shm(c->id);
    c->start_failed = true;
    c->state.exit_code = exit_code;
    c->state.error = out.message;
    if (c->state.status == "restarting") c->state.status = "exited";
    (void)persist_state_locked(*c);
    // Its clients wait for that (wait?condition=removed) before they exit.
    schedule_auto_remove_locked(*c);
    cv_.notify_all();
    return out;
  };

  if (auto r = prepare_mounts(*c); !r) return record_failure(r.error(), 0);
  if (auto r = mount_shm(*c); !r) return record_failure(r.error(), 0);
  auto net = start_network(c);
  if (!net) return record_failure(net.error(), 0, false);
  auto& links = net->links;
  // The veth inside the namespace is configured while the monitor spawns
  // and creates the container (~15 ms): it only has to be ready before the
  // start below lets the container's process run.
  Result<void> linked;
  std::thread link_thread;
  if (links) {
    try {
      link_thread = std::thread([&] { linked = links(); });
    } catch (const std::system_error&) {
      linked = links();
    }
  }
  std::optional<Result<pid_t>> from_standby;
  if (standby) from_standby = create_in_standby(c, mc);
  Result<pid_t> pid = from_standby ? std::move(*from_standby) : spawn_monitor(c->id, mc);
  if (link_thread.joinable()) link_thread.join();
  // After a failed create the standby monitor is gone or going: take its
  // end (parked while starting) as the end of a failed start, once the
  // failure is recorded (no restart policy applies to it), and answer only
  // when it is gone, as a failed spawn leaves no monitor either.
  auto settle_standby = [&] {
    if (!from_standby) return;
    {
      std::lock_guard lk(mu_);
      c->starting = false;
      if (c->deferred_gone) {
        c->deferred_gone = false;
        monitor_gone_locked(c);
      }
    }
    (void)wait_monitor_gone(c, std::chrono::seconds(5));
  };
  if (!pid) {
    release_network(c->id);
    Error e = record_failure(pid.error(), 0);
    settle_standby();
    return e;
  }
  if (!linked) {
    if (auto cl = monitor::MonitorClient::connect(mc.socket_path)) (void)(*cl)->shutdown();
    release_network(c->id);
    Error e = record_failure(linked.error(), 0, false);
    settle_standby();
    return e;
  }
  std::unique_ptr<monitor::Subscription> sub;
  if (!from_standby) {
    auto s = monitor::Subscription::open(mc.socket_path);
    if (!s) {
      if (auto cl = monitor::MonitorClient::connect(mc.socket_path)) (void)(*cl)->shutdown();
      release_network(c->id);
      return record_failure(s.error(), 0);
    }
    sub = std::move(*s);
  }
  std::vector<PendingAttach> pending;
  uint64_t gen_before = 0;
  {
    std::lock_guard lk(mu_);
    c->monitor_live = true;
    c->state.monitor_pid = *pid;
    if (!from_standby) {
      // (With a standby monitor these were set before its create.)
      c->starting = true;
      c->deferred_exit.reset();
      c->deferred_gone = false;
    }
    c->start_failed = false;
    c->net_release_queued = false;
    c->net_released = false;
    c->released = false;
    pending.swap(c->pending);
    gen_before = c->exit_gen;
  }
  if (sub) watch(c, std::move(sub));
  auto client = monitor::MonitorClient::connect(mc.socket_path);
  Result<monitor::MonitorClient::Started> started =
      client ? Result<monitor::MonitorClient::Started>(monitor::MonitorClient::Started{})
             : Result<monitor::MonitorClient::Started>(unexpected(client.error()));
  if (client) {
    for (auto& p : pending) {
      auto r = (*client)->attach(std::move(p.conn), p.opts.stdin, p.opts.stdout, p.opts.stderr,
                                 p.opts.detach_keys);
      if (!r) log_warn("container {}: attach: {}", c->id.substr(0, 12), r.error().message);
    }
    if (auto h = hand_proxies(**client, net->proxies); !h) {
      // The container was created but never runs: its monitor goes, as
      // after a failed start.
      (void)(*client)->shutdown();
      started = Result<monitor::MonitorClient::Started>(unexpected(h.error()));
    } else {
      started = (*client)->start();
    }
  }
  (void)gen_before;
  std::unique_lock lk(mu_);
  c->starting = false;
  if (!started) {
    int code = c->deferred_exit ? c->deferred_exit->exit_code : 0;
    std::string detail = started.error().message;
    if (c->deferred_exit && !c->deferred_exit->error.empty()) detail = c->deferred_exit->error;
    lk.unlock();
    release_network(c->id);
    Error e = record_failure(Error{started.error().code, 0, detail}, code);
    lk.lock();
    c->deferred_exit.reset();
    if (c->deferred_gone) {
      c->deferred_gone = false;
      monitor_gone_locked(c);
    }
    return e;
  }
  c->state.status = "running";
  c->state.pid = started->pid;
  c->state.started_ns = started->started_ns ? started->started_ns : unix_now_ns();
  c->state.finished_ns = 0;
  c->state.exit_code = 0;
  c->state.error.clear();
  c->state.oom_killed = false;
  c->state.stopped_by_user = false;
  c->health_restart = false;
  if (c->cfg.config.healthcheck && !health_config(c->cfg.config).test.empty()) {
    c->state.health_status = "starting";
    c->state.health_failing_streak = 0;
  }
  ++c->start_gen;
  (void)persist_state_locked(*c);
  publish_locked(*c, "start");
  if (c->deferred_exit) {
    auto e = *c->deferred_exit;
    c->deferred_exit.reset();
    apply_exit_locked(*c, e);
  }
  if (c->deferred_gone) {
    c->deferred_gone = false;
    monitor_gone_locked(c);
  }
  cv_.notify_all();
  return {};
}

Result<void> LocalContainerService::start(const std::string& name, bool* already) {
  auto c = BERTH_TRY(find(name));
  std::lock_guard op(c->op);
  {
    std::lock_guard lk(mu_);
    if (c->state.status == "running") {
      if (already) *already = true;
      return {};
    }
  }
  return do_start(c, false);
}

Result<void> LocalContainerService::wait_monitor_gone(const CtrPtr& c,
                                                      std::chrono::milliseconds limit) {
  std::unique_lock lk(mu_);
  if (!cv_.wait_for(lk, limit, [&] { return !c->monitor_live || stopping_; })) {
    return make_error(Errc::DeadlineExceeded, "the monitor of container {} did not exit",
                      c->id.substr(0, 12));
  }
  return {};
}

Result<void> LocalContainerService::do_stop(const CtrPtr& c, int sig, int timeout_s, bool user) {
  uint64_t gen = 0;
  bool paused = false;
  {
    std::lock_guard lk(mu_);
    if (user) c->state.stopped_by_user = true;
    if (c->state.status == "restarting") {
      c->state.status = "exited";
      (void)persist_state_locked(*c);
      cv_.notify_all();
      return {};
    }
    (void)persist_state_locked(*c);
    gen = c->exit_gen;
    paused = c->state.status == "paused";
  }
  auto mc = monitor::MonitorClient::connect(socket_path(c->id));
  if (mc) {
    if (paused) (void)(*mc)->resume();
    (void)(*mc)->kill(sig, false);
    publish(*c, "kill", {{"signal", std::to_string(sig)}});
  }
  auto exited = [&] { return c->exit_gen != gen || !c->monitor_live || stopping_; };
  {
    std::unique_lock lk(mu_);
    if (timeout_s < 0) {
      cv_.wait(lk, exited);
    } else {
      cv_.wait_for(lk, std::chrono::seconds(timeout_s), exited);
    }
    if (!exited() && mc) {
      lk.unlock();
      (void)(*mc)->kill(SIGKILL, true);
      publish(*c, "kill", {{"signal", "9"}});
      lk.lock();
      cv_.wait_for(lk, std::chrono::seconds(10), exited);
    }
    if (!exited()) {
      return make_error(Errc::DeadlineExceeded, "container {} did not stop", c->id);
    }
  }
  (void)wait_monitor_gone(c, std::chrono::seconds(5));
  // docker's stop returns after the network went back: its "network
  // disconnect" events come between "die" and "stop". The release queued at
  // the exit waits for Ctr::op, which this holds, so it is done here.
  bool release = false;
  {
    std::lock_guard lk(mu_);
    release = opts_.networks && !c->starting && c->state.status != "running" &&
              c->state.status != "paused" && c->state.status != "restarting" && !c->net_released;
    if (release) c->net_released = true;
  }
  if (release) release_network(c->id);
  publish(*c, "stop");
  return {};
}

Result<void> LocalContainerService::stop(const std::string& name, const std::string& signal,
                                         std::optional<int> timeout, bool* already) {
  auto c = BERTH_TRY(find(name));
  std::lock_guard op(c->op);
  int sig = 0, t = 10;
  {
    std::lock_guard lk(mu_);
    if (!is_live(c->state.status)) {
      if (already) *already = true;
      return {};
    }
    sig = BERTH_TRY(signal_or(signal.empty() ? c->cfg.config.stop_signal : signal, SIGTERM));
    t = timeout ? *timeout : c->cfg.config.stop_timeout.value_or(10);
  }
  return do_stop(c, sig, t, true);
}

Result<void> LocalContainerService::restart(const std::string& name, const std::string& signal,
                                            std::optional<int> timeout) {
  auto c = BERTH_TRY(find(name));
  std::lock_guard op(c->op);
  bool live = false;
  int sig = 0, t = 10;
  {
    std::lock_guard lk(mu_);
    live = is_live(c->state.status);
    sig = BERTH_TRY(signal_or(signal.empty() ? c->cfg.config.stop_signal : signal, SIGTERM));
    t = timeout ? *timeout : c->cfg.config.stop_timeout.value_or(10);
  }
  if (live) BERTH_TRY(do_stop(c, sig, t, true));
  BERTH_TRY(do_start(c, true));
  publish(*c, "restart");
  return {};
}

Result<void> LocalContainerService::kill(const std::string& name, const std::string& signal) {
  auto c = BERTH_TRY(find(name));
  std::lock_guard op(c->op);
  int sig = BERTH_TRY(signal_or(signal, SIGKILL));
  {
    std::lock_guard lk(mu_);
    if (c->state.status != "running" && c->state.status != "paused") {
      return msg::not_running(c->id);
    }
    std::string stop_sig = c->cfg.config.stop_signal;
    auto ss = signal_or(stop_sig, SIGTERM);
    if (sig == SIGKILL || (ss && *ss == sig)) {
      c->state.stopped_by_user = true;
      (void)persist_state_locked(*c);
    }
  }
  auto mc = BERTH_TRY(monitor::MonitorClient::connect(socket_path(c->id)));
  BERTH_TRY(mc->kill(sig, false));
  publish(*c, "kill", {{"signal", std::to_string(sig)}});
  return {};
}

Result<WaitResult> LocalContainerService::wait(const std::string& name,
                                               const std::string& condition, const GoneFn& gone) {
  std::string cond = condition.empty() ? "not-running" : condition;
  if (cond != "not-running" && cond != "next-exit" && cond != "removed") {
    return make_error(Errc::InvalidArgument, "invalid condition: \"{}\"", condition);
  }
  auto c = BERTH_TRY(find(name));
  std::unique_lock lk(mu_);
  uint64_t gen = c->exit_gen;
  auto done = [&] {
    if (cond == "removed") return c->removed;
    if (cond == "next-exit") return c->exit_gen != gen || c->removed;
    return (c->state.status != "running" && c->state.status != "paused" &&
            c->state.status != "restarting" && !c->starting) ||
           c->removed;
  };
  while (!done()) {
    if (stopping_) return make_error(Errc::Cancelled, "daemon shutting down");
    cv_.wait_for(lk, std::chrono::milliseconds(250));
    if (gone && !done()) {
      lk.unlock();
      bool g = gone();
      lk.lock();
      if (g) return make_error(Errc::Cancelled, "client gone");
    }
  }
  WaitResult r;
  r.status_code = c->state.exit_code;
  // dockerd's answer to a wait for the removal of an --rm container whose
  // start failed has no error: its clients print the start's error already
  // (with one here, docker's CLI adds "Error waiting for container: ...").
  if (c->start_failed && cond != "removed") r.error = c->state.error;
  return r;
}

Result<void> LocalContainerService::pause(const std::string& name) {
  auto c = BERTH_TRY(find(name));
  std::lock_guard op(c->op);
  {
    std::lock_guard lk(mu_);
    if (c->state.status == "paused") return msg::already_paused(c->id);
    if (c->state.status != "running") return msg::not_running(c->id);
  }
  auto mc = BERTH_TRY(monitor::MonitorClient::connect(socket_path(c->id)));
  BERTH_TRY(mc->pause());
  std::lock_guard lk(mu_);
  if (c->state.status == "running") c->state.status = "paused";
  (void)persist_state_locked(*c);
  publish_locked(*c, "pause");
  return {};
}

Result<void> LocalContainerService::unpause(const std::string& name) {
  auto c = BERTH_TRY(find(name));
  std::lock_guard op(c->op);
  {
    std::lock_guard lk(mu_);
    if (c->state.status != "paused") return msg::not_paused(c->id);
  }
  auto mc = BERTH_TRY(monitor::MonitorClient::connect(socket_path(c->id)));
  BERTH_TRY(mc->resume());
  std::lock_guard lk(mu_);
  if (c->state.status == "paused") c->state.status = "running";
  (void)persist_state_locked(*c);
  publish_locked(*c, "unpause");
  return {};
}

}  // namespace berth::engine
