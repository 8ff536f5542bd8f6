// engine/local_containers_io.cc — logs, attach, resize and exec.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <random>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "engine/container_messages.h"
#include "engine/local_containers.h"
#include "engine/spec_builder.h"
#include "engine/user_lookup.h"
#include "logs/json_file.h"

namespace berth::engine {

namespace {

std::string random_hex64() {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string out;
  while (out.size() < 64) {
    uint32_t v = rd();
    for (int i = 0; i < 8 && out.size() < 64; ++i, v >>= 4) out.push_back(hex[v & 15]);
  }
  return out;
}

// Replays the log into an attach connection (raw with a TTY, else framed).
void replay_logs(const std::string& path, int fd, bool tty, bool out, bool err) {
  logs::ReadOptions ro;
  ro.stdout = out;
  ro.stderr = err;
  (void)logs::read(path, ro, [&](const logs::Entry& e) -> Result<void> {
    std::string data = tty ? e.line : logs::frame(static_cast<int>(e.stream), e.line);
    return write_all(fd, data);
  });
}

}  // namespace

Result<void> LocalContainerService::logs(const std::string& name, const LogsOptions& o,
                                         const LogSink& sink, const GoneFn& gone) {
  auto c = BERTH_TRY(find(name));
  std::string path;
  {
    std::lock_guard lk(mu_);
    const std::string& t = c->cfg.host_config.log_config.type;
    if (t == "none") return msg::no_logs_driver(t);
    path = log_path(c->id, t);
  }
  logs::ReadOptions ro;
  ro.stdout = o.stdout;
  ro.stderr = o.stderr;
  ro.since_ns = o.since_ns;
  ro.until_ns = o.until_ns;
  ro.tail = o.tail;
  ro.follow = o.follow;
  // Follow ends when the container has stopped and its monitor (the
  // writer) is gone, or the client left.
  auto stop = [&]() -> bool {
    if (gone && gone()) return true;
    std::lock_guard lk(mu_);
    if (c->removed) return true;
    bool live = c->state.status == "running" || c->state.status == "paused" ||
                c->state.status == "restarting" || c->starting;
    return !live && !c->monitor_live;
  };
  auto r = logs::read(
      path, ro,
      [&](const logs::Entry& e) -> Result<void> {
        if (o.details || o.timestamps) {
          std::string out;
          if (o.timestamps) out = logs::format_time_fixed(e.time_ns) + " ";
          if (o.details) out += e.attrs + " ";
          return sink(static_cast<int>(e.stream), out + e.line);
        }
        return sink(static_cast<int>(e.stream), e.line);
      },
      stop);
  if (!r && r.error().code == Errc::NotFound) return {};  // never started: no log yet
  if (!r && gone && gone()) return make_error(Errc::Cancelled, "client gone");
  return r;
}

Result<void> LocalContainerService::attach(const std::string& name, const AttachOptions& o, Fd conn,
                                           std::string buffered) {
  (void)buffered;  // TODO: the monitor protocol has no way to pass early stdin bytes
  auto c = BERTH_TRY(find(name));
  std::string status;
  bool tty = false;
  std::string keys = o.detach_keys;
  {
    std::lock_guard lk(mu_);
    status = c->state.status;
    tty = c->cfg.config.tty;
  }
  if (status == "paused") return msg::attach_paused();
  if (o.logs && c->cfg.host_config.log_config.type != "none") {
    replay_logs(log_path(c->id, c->cfg.host_config.log_config.type), conn.get(), tty, o.stdout,
                o.stderr);
  }
  if (!o.stream) return {};
  {
    std::lock_guard lk(mu_);
    if (c->removed) return msg::no_such_container(name);
    // A standby monitor has no container to attach to yet: wait for the
    // start as without a monitor.
    if ((c->state.status == "created" || c->state.status == "exited") &&
        ((!c->monitor_live && !c->starting) || c->standby)) {
      if (c->state.status == "exited" && !o.logs) {
        // docker start -a attaches to a stopped container before starting it:
        // keep the connection for the next start, as for a created one.
      }
      c->pending.push_back({o, std::move(conn)});
      publish_locked(*c, "attach");
      return {};
    }
  }
  auto mc = BERTH_TRY(monitor::MonitorClient::connect(socket_path(c->id)));
  BERTH_TRY(mc->attach(std::move(conn), o.stdin, o.stdout, o.stderr, keys));
  publish(*c, "attach");
  return {};
}

Result<void> LocalContainerService::resize(const std::string& name, int height, int width) {
  auto c = BERTH_TRY(find(name));
  {
    std::lock_guard lk(mu_);
    if (c->state.status != "running" && c->state.status != "paused") {
      if (!c->monitor_live) return msg::not_running(c->id);
    }
    // No terminal to size: nothing to do, and no error (dockerd's answer).
    if (!c->cfg.config.tty) return {};
  }
  auto mc = BERTH_TRY(monitor::MonitorClient::connect(socket_path(c->id)));
  return mc->resize("", height, width);
}

Result<std::string> LocalContainerService::exec_create(const std::string& name,
                                                       const ExecConfig& cfg) {
  auto c = BERTH_TRY(find(name));
  if (cfg.cmd.empty()) return make_error(Errc::InvalidArgument, "No exec command specified");
  std::lock_guard lk(mu_);
  if (c->state.status == "paused") return msg::exec_paused(name);
  if (c->state.status != "running") return msg::not_running(c->id);
  if (warmer_) warmer_->poke();  // the exec's start moves a process: cgroup_warmer.h
  ExecRec e;
  e.id = random_hex64();
  e.container_id = c->id;
  e.config = cfg;
  c->exec_ids.push_back(e.id);
  std::string id = e.id;
  execs_[id] = std::move(e);
  publish_locked(*c, "exec_create: " + join(cfg.cmd, " "), {{"execID", id}});
  return id;
}

Result<void> LocalContainerService::exec_start(const std::string& exec_id, bool detach, bool tty,
                                               Fd conn, std::string buffered) {
  (void)buffered;
  ExecConfig cfg;
  CtrPtr c;
  int init_pid = 0;
  {
    std::lock_guard lk(mu_);
    auto it = execs_.find(exec_id);
    if (it == execs_.end()) return msg::no_such_exec(exec_id);
    if (it->second.running) {
      return make_error(Errc::Conflict, "Error: Exec command {} is already running", exec_id);
    }
    if (it->second.started) {
      return make_error(Errc::Conflict, "Error: Exec command {} has already run", exec_id);
    }
    auto ci = containers_.find(it->second.container_id);
    if (ci == containers_.end()) return msg::no_such_container(it->second.container_id);
    c = ci->second;
    if (c->state.status != "running") return msg::not_running(c->id);
    cfg = it->second.config;
    init_pid = c->state.pid;
    it->second.started = true;
  }
  // dockerd gives an exec that could not be started exit code 126 (its
  // client exits with it; a user that does not exist is the usual cause).
  auto fail = [&](Error e) -> Error {
    std::lock_guard lk(mu_);
    auto it = execs_.find(exec_id);
    if (it != execs_.end() && !it->second.exit_code) it->second.exit_code = 126;
    return e;
  };
  // The container's own process settings are the base (capabilities,
  // rlimits, no-new-privileges); the exec overrides args, env, cwd, user.
  auto text = read_file(ctr_dir(c->id) + "/bundle/config.json");
  if (!text) return fail(text.error());
  auto spec = parse_json(*text, "config.json");
  if (!spec) return fail(spec.error());
  Json proc = spec->value("process", Json::object());
  proc["args"] = cfg.cmd;
  proc["terminal"] = tty || cfg.tty;
  if (!(tty || cfg.tty)) proc.erase("consoleSize");
  std::vector<std::string> env;
  if (auto e = proc.find("env"); e != proc.end() && e->is_array()) {
    for (const auto& v : *e) {
      if (v.is_string()) env.push_back(v.get<std::string>());
    }
  }
  for (const auto& kv : cfg.env) {
    std::string key = kv.substr(0, kv.find('='));
    std::erase_if(env, [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
    env.push_back(kv);
  }
  proc["env"] = env;
  if (!cfg.working_dir.empty()) proc["cwd"] = cfg.working_dir;
  if (!cfg.user.empty()) {
    std::string root = fmt::format("/proc/{}/root", init_pid);
    int rfd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rfd < 0) return fail(make_error(Errc::Internal, "opening {}: {}", root, strerror(errno)));
    Fd rootfd(rfd);
    auto u = resolve_user(cfg.user, {}, root_fd_reader(rootfd.get()));
    if (!u) return fail(u.error());
    proc["user"] = {{"uid", u->uid}, {"gid", u->gid}, {"additionalGids", u->additional_gids}};
  }
  if (cfg.privileged) {
    auto caps = container_capabilities({}, {}, true);
    if (!caps) return fail(caps.error());
    proc["capabilities"] = {{"bounding", *caps}, {"effective", *caps}, {"permitted", *caps}};
  }
  if (cfg.console_size.size() == 2 && (tty || cfg.tty)) {
    proc["consoleSize"] = {{"height", cfg.console_size[0]}, {"width", cfg.console_size[1]}};
  }
  auto mc = monitor::MonitorClient::connect(socket_path(c->id));
  if (!mc) return fail(mc.error());
  std::string keys = cfg.detach_keys;
  auto pid =
      (*mc)->exec(exec_id, proc, cfg.attach_stdin, detach, keys, detach ? Fd() : std::move(conn));
  if (!pid) return fail(pid.error());
  std::lock_guard lk(mu_);
  auto it = execs_.find(exec_id);
  if (it != execs_.end() && !it->second.exit_code) {
    it->second.running = true;
    it->second.pid = *pid;
  }
  publish_locked(*c, "exec_start: " + join(cfg.cmd, " "), {{"execID", exec_id}});
  return {};
}

Result<ExecDetail> LocalContainerService::exec_inspect(const std::string& exec_id) {
  // The record learns of an exit from the watcher thread, which can lag the
  // end of the exec's stream; clients (docker exec) inspect right after the
  // stream ends, so while the record says running ask the monitor itself.
  std::string cid;
  {
    std::lock_guard lk(mu_);
    auto it = execs_.find(exec_id);
    if (it == execs_.end()) return msg::no_such_exec(exec_id);
    if (it->second.started && !it->second.exit_code) cid = it->second.container_id;
  }
  if (!cid.empty()) {
    if (auto mc = monitor::MonitorClient::connect(socket_path(cid))) {
      if (auto st = (*mc)->exec_state(exec_id); st && !st->running && st->exit_code) {
        std::lock_guard lk(mu_);
        auto it = execs_.find(exec_id);
        if (it != execs_.end() && !it->second.exit_code) {
          it->second.running = false;
          it->second.exit_code = st->exit_code;
        }
      }
    }
  }
  std::lock_guard lk(mu_);
  auto it = execs_.find(exec_id);
  if (it == execs_.end()) return msg::no_such_exec(exec_id);
  const ExecRec& e = it->second;
  ExecDetail d;
  d.id = e.id;
  d.container_id = e.container_id;
  d.running = e.running;
  d.exit_code = e.exit_code;
  d.pid = e.pid;
  d.can_remove = !e.running;
  d.detach_keys = e.config.detach_keys;
  d.config = e.config;
  d.open_stdin = e.config.attach_stdin;
  d.open_stdout = e.config.attach_stdout;
  d.open_stderr = e.config.attach_stderr;
  return d;
}

Result<void> LocalContainerService::exec_resize(const std::string& exec_id, int height, int width) {
  std::string cid;
  {
    std::lock_guard lk(mu_);
    auto it = execs_.find(exec_id);
    if (it == execs_.end()) return msg::no_such_exec(exec_id);
    cid = it->second.container_id;
  }
  auto mc = BERTH_TRY(monitor::MonitorClient::connect(socket_path(cid)));
  return mc->resize(exec_id, height, width);
}

}  // namespace berth::engine
