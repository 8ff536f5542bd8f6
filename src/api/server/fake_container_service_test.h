// A ContainerService over an in-memory map, for the route tests: records
// the calls it gets and answers with docker's messages for the common
// errors (unknown container, not running, name in use).
#pragma once

#include <sys/socket.h>

#include <mutex>

#include "engine/containers.h"

namespace berth::api::server::testing {

class FakeContainerService : public engine::ContainerService {
 public:
  struct Entry {
    engine::ContainerDetail detail;
    std::vector<std::pair<int, std::string>> log;  // stream, line
  };
  std::vector<Entry> containers;
  std::vector<engine::ExecDetail> execs;
  // Recorded requests.
  std::optional<engine::CreateRequest> last_create;
  std::optional<engine::ListOptions> last_list;
  std::optional<engine::LogsOptions> last_logs;
  bool logs_idle_after_each = false;  // follow: poll `gone` after every entry
  std::optional<engine::AttachOptions> last_attach;
  std::optional<engine::UpdateRequest> last_update;
  std::optional<engine::CommitOptions> last_commit;
  std::string last_signal, last_condition, last_put_body, last_path;
  std::optional<int> last_timeout;
  bool last_force = false, last_volumes = false;
  int attached_fds = 0;
  std::string attach_buffered;
  // Bytes the fake writes to an attached connection (then closes it).
  std::string attach_output;
  // exec_start keeps the exec's connection here instead of closing it.
  bool keep_exec_conn = false;
  Fd exec_conn;
  std::optional<Error> attach_error;

  Entry* find(const std::string& name) {
    for (auto& e : containers) {
      const auto& d = e.detail;
      if (d.id == name || d.name == name || d.name == "/" + name ||
          (name.size() >= 3 && d.id.rfind(name, 0) == 0))
        return &e;
    }
    return nullptr;
  }
  static Error no_such(const std::string& name) {
    return make_error(Errc::NotFound, "No such container: {}", name);
  }
  Entry& add(const std::string& id, const std::string& name, const std::string& status) {
    Entry e;
    e.detail.id = id;
    e.detail.name = "/" + name;
    e.detail.state.status = status;
    e.detail.config.image = "busybox";
    e.detail.path = "sh";
    containers.push_back(std::move(e));
    return containers.back();
  }

  Result<engine::CreateResult> create(const engine::CreateRequest& req) override {
    last_create = req;
    for (auto& e : containers)
      if (!req.name.empty() && e.detail.name == "/" + req.name)
        return make_error(Errc::Conflict,
                          "Conflict. The container name \"/{}\" is already in use by container "
                          "\"{}\". You have to remove (or rename) that container to be able to "
                          "reuse that name.",
                          req.name, e.detail.id);
    std::string id(64, 'c');
    id[0] = static_cast<char>('a' + containers.size() % 6);
    auto& e = add(id, req.name.empty() ? "gen_name" : req.name, "created");
    e.detail.config = req.config;
    e.detail.host_config = req.host_config;
    return engine::CreateResult{id, {}};
  }
  Result<std::vector<engine::ContainerSummary>> list(const engine::ListOptions& o) override {
    last_list = o;
    std::vector<engine::ContainerSummary> out;
    for (auto& e : containers) {
      if (!o.all && e.detail.state.status != "running" && e.detail.state.status != "paused")
        continue;
      engine::ContainerSummary s;
      s.id = e.detail.id;
      s.names = {e.detail.name};
      s.image = e.detail.config.image;
      s.command = e.detail.path;
      s.state = e.detail.state;
      s.labels = e.detail.config.labels;
      if (o.size) s.size_rw = 12, s.size_root_fs = 4096;
      out.push_back(s);
    }
    return out;
  }
  Result<engine::ContainerDetail> inspect(const std::string& name, bool size) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    auto d = e->detail;
    if (size) d.size_rw = 1, d.size_root_fs = 2;
    return d;
  }
  Result<void> start(const std::string& name, bool* already) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    *already = e->detail.state.status == "running";
    e->detail.state.status = "running";
    return ok();
  }
  Result<void> stop(const std::string& name, const std::string& signal, std::optional<int> timeout,
                    bool* already) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    last_signal = signal;
    last_timeout = timeout;
    *already = e->detail.state.status != "running";
    e->detail.state.status = "exited";
    return ok();
  }
  Result<void> restart(const std::string& name, const std::string& signal,
                       std::optional<int> timeout) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    last_signal = signal;
    last_timeout = timeout;
    e->detail.state.status = "running";
    return ok();
  }
  Result<void> kill(const std::string& name, const std::string& signal) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    last_signal = signal;
    if (e->detail.state.status != "running")
      return make_error(Errc::Conflict, "Container {} is not running", e->detail.id);
    e->detail.state.status = "exited";
    e->detail.state.exit_code = 137;
    return ok();
  }
  Result<engine::WaitResult> wait(const std::string& name, const std::string& condition,
                                  const engine::GoneFn&) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    last_condition = condition;
    return engine::WaitResult{e->detail.state.exit_code, ""};
  }
  Result<void> pause(const std::string& name) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    e->detail.state.status = "paused";
    return ok();
  }
  Result<void> unpause(const std::string& name) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    e->detail.state.status = "running";
    return ok();
  }
  Result<void> rename(const std::string& name, const std::string& new_name) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    e->detail.name = "/" + new_name;
    return ok();
  }
  Result<std::vector<std::string>> update(const std::string& name,
                                          const engine::UpdateRequest& req) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    last_update = req;
    return std::vector<std::string>{};
  }
  Result<void> remove(const std::string& name, bool force, bool volumes) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    last_force = force;
    last_volumes = volumes;
    if (e->detail.state.status == "running" && !force)
      return make_error(Errc::Conflict,
                        "cannot remove container \"{}\": container is running: stop the "
                        "container before removing or force remove",
                        e->detail.name);
    std::erase_if(containers, [&](const Entry& x) { return &x == e; });
    return ok();
  }
  Result<engine::ContainerPruneReport> prune(
      const std::map<std::string, std::vector<std::string>>&) override {
    engine::ContainerPruneReport r;
    std::erase_if(containers, [&](const Entry& x) {
      if (x.detail.state.status != "exited") return false;
      r.deleted.push_back(x.detail.id);
      return true;
    });
    r.space_reclaimed = 10;
    return r;
  }
  Result<void> logs(const std::string& name, const engine::LogsOptions& o,
                    const engine::LogSink& sink, const engine::GoneFn& gone) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    last_logs = o;
    for (const auto& [stream, line] : e->log) {
      if ((stream == 1 && !o.stdout) || (stream == 2 && !o.stderr)) continue;
      BERTH_TRY(sink(stream, line));
      // As the engine's follow does when the reader has caught up.
      if (o.follow && logs_idle_after_each && gone && gone())
        return make_error(Errc::Cancelled, "client gone");
    }
    return ok();
  }
  Result<void> attach(const std::string& name, const engine::AttachOptions& o, Fd conn,
                      std::string buffered) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    last_attach = o;
    attach_buffered = buffered;
    ++attached_fds;
    if (attach_error) return *attach_error;
    if (!attach_output.empty()) [[maybe_unused]]
      auto n = ::send(conn.get(), attach_output.data(), attach_output.size(), MSG_NOSIGNAL);
    return ok();
  }
  Result<void> resize(const std::string& name, int, int) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    if (e->detail.state.status != "running")
      return make_error(Errc::Conflict, "Container {} is not running", e->detail.id);
    return ok();
  }
  Result<std::string> exec_create(const std::string& name, const engine::ExecConfig& c) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    if (e->detail.state.status != "running")
      return make_error(Errc::Conflict, "Container {} is not running", e->detail.id);
    engine::ExecDetail d;
    d.id = std::string(64, 'e');
    d.id[0] = static_cast<char>('0' + execs.size());
    d.container_id = e->detail.id;
    d.config = c;
    execs.push_back(d);
    return d.id;
  }
  Result<void> exec_start(const std::string& id, bool detach, bool, Fd conn,
                          std::string buffered) override {
    for (auto& x : execs)
      if (x.id == id) {
        x.running = true;
        attach_buffered = buffered;
        if (!detach) {
          ++attached_fds;
          if (attach_error) return *attach_error;
          if (!attach_output.empty()) [[maybe_unused]]
            auto n = ::send(conn.get(), attach_output.data(), attach_output.size(), MSG_NOSIGNAL);
          if (keep_exec_conn) exec_conn = std::move(conn);
        }
        return ok();
      }
    return make_error(Errc::NotFound, "No such exec instance: {}", id);
  }
  Result<engine::ExecDetail> exec_inspect(const std::string& id) override {
    for (auto& x : execs)
      if (x.id == id) return x;
    return make_error(Errc::NotFound, "No such exec instance: {}", id);
  }
  Result<void> exec_resize(const std::string& id, int, int) override {
    for (auto& x : execs)
      if (x.id == id) return ok();
    return make_error(Errc::NotFound, "No such exec instance: {}", id);
  }
  Result<engine::TopResult> top(const std::string& name, const std::string& ps_args) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    last_path = ps_args;
    return engine::TopResult{{"PID", "CMD"}, {{"1", "sh"}}};
  }
  Result<void> stats(const std::string& name, bool stream, bool, const engine::StatsSink& sink,
                     const engine::GoneFn&) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    engine::StatsSample s;
    s.id = e->detail.id;
    s.name = e->detail.name;
    s.memory_usage = 1024;
    s.cpu_total = 100;
    s.networks.push_back({"eth0", 10, 1, 0, 0, 20, 2, 0, 0});
    for (int i = 0; i < (stream ? 3 : 1); ++i) BERTH_TRY(sink(s));
    return ok();
  }
  Result<std::vector<engine::Change>> changes(const std::string& name) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    return std::vector<engine::Change>{{1, "/tmp"}, {0, "/etc"}};
  }
  Result<void> export_rootfs(const std::string& name, const engine::ByteSinkFn& sink) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    return sink("TARDATA");
  }
  Result<engine::PathStat> archive_stat(const std::string& name, const std::string& path) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    if (path == "/missing")
      return make_error(Errc::NotFound, "Could not find the file {} in container {}", path, name);
    return engine::PathStat{"etc", 4096, (1u << 31) | 0755, 1700000000LL * 1000000000, ""};
  }
  Result<engine::PathStat> archive_get(const std::string& name, const std::string& path,
                                       const engine::ByteSinkFn& sink) override {
    auto st = BERTH_TRY(archive_stat(name, path));
    BERTH_TRY(sink("TAR:" + path));
    return st;
  }
  Result<void> archive_put(const std::string& name, const std::string& path,
                           const engine::ByteSourceFn& tar, bool, bool) override {
    auto* e = find(name);
    if (!e) return no_such(name);
    last_path = path;
    last_put_body.clear();
    for (int i = 0; i < 100000; ++i) {
      auto chunk = BERTH_TRY(tar());
      if (chunk.empty()) break;
      last_put_body += chunk;
    }
    return ok();
  }
  Result<std::string> commit(const engine::CommitOptions& o) override {
    auto* e = find(o.container);
    if (!e) return no_such(o.container);
    last_commit = o;
    return std::string("sha256:") + std::string(64, 'f');
  }
  Result<void> network_connect(const std::string& network, const std::string& container,
                               const Json& settings) override {
    if (!find(container)) return no_such(container);
    last_connect = {network, container, settings};
    return {};
  }
  Result<void> network_disconnect(const std::string& network, const std::string& container,
                                  bool force) override {
    if (!find(container)) return no_such(container);
    last_disconnect = {network, container, force};
    return {};
  }
  struct ConnectCall {
    std::string network, container;
    Json settings;
  };
  struct DisconnectCall {
    std::string network, container;
    bool force = false;
  };
  std::optional<ConnectCall> last_connect;
  std::optional<DisconnectCall> last_disconnect;
  std::string default_log_driver() const override { return "json-file"; }
  void set_default_log_config(std::string, std::map<std::string, std::string> opts) override {
    default_log_opts = std::move(opts);
  }
  std::map<std::string, std::string> default_log_opts;
  Runtimes runtimes() const override { return {"berth", {{"berth", "berth-runtime"}}}; }
  Counts counts() override {
    Counts c;
    for (auto& e : containers) {
      ++c.total;
      if (e.detail.state.status == "running")
        ++c.running;
      else if (e.detail.state.status == "paused")
        ++c.paused;
      else
        ++c.stopped;
    }
    return c;
  }
};

}  // namespace berth::api::server::testing
