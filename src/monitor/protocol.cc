// Codecs for monitor/protocol.h. Decoders check every field's JSON type and
// name the field ("monitor.json: health.retries: expected an integer"); a
// missing optional field keeps its default.
#include "monitor/protocol.h"

#include <limits>

namespace berth::monitor {
namespace {

// One decoder context: the document name plus the path to the object.
class Fields {
 public:
  Fields(const Json& j, std::string where) : j_(j), where_(std::move(where)) {}

  Result<void> object() const {
    if (!j_.is_object()) return fail("", "expected an object");
    return ok();
  }
  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  Error fail(std::string_view key, std::string_view why) const {
    if (key.empty()) return make_error(Errc::InvalidArgument, "{}: {}", where_, why);
    return make_error(Errc::InvalidArgument, "{}.{}: {}", where_, key, why);
  }
  Result<void> required(const char* key) const {
    if (!has(key)) return fail(key, "is required");
    return ok();
  }
  Result<void> str(const char* key, std::string& out) const {
    if (!has(key)) return ok();
    const Json& v = j_.at(key);
    if (!v.is_string()) return fail(key, "expected a string");
    out = v.get<std::string>();
    return ok();
  }
  template <typename I>
  Result<void> integer(const char* key, I& out) const {
    if (!has(key)) return ok();
    const Json& v = j_.at(key);
    if (!v.is_number_integer()) return fail(key, "expected an integer");
    if (v.is_number_unsigned()) {
      auto u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<I>::max()))
        return fail(key, "out of range");
      out = static_cast<I>(u);
      return ok();
    }
    auto s = v.get<int64_t>();
    if (s < static_cast<int64_t>(std::numeric_limits<I>::min()) ||
        s > static_cast<int64_t>(std::numeric_limits<I>::max()))
      return fail(key, "out of range");
    out = static_cast<I>(s);
    return ok();
  }
  Result<void> boolean(const char* key, bool& out) const {
    if (!has(key)) return ok();
    const Json& v = j_.at(key);
    if (!v.is_boolean()) return fail(key, "expected a boolean");
    out = v.get<bool>();
    return ok();
  }
  Result<void> strings(const char* key, std::vector<std::string>& out) const {
    if (!has(key)) return ok();
    const Json& v = j_.at(key);
    if (!v.is_array()) return fail(key, "expected an array of strings");
    out.clear();
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) return fail(fmt::format("{}[{}]", key, i), "expected a string");
      out.push_back(v[i].get<std::string>());
    }
    return ok();
  }
  Result<void> string_map(const char* key, std::map<std::string, std::string>& out) const {
    if (!has(key)) return ok();
    const Json& v = j_.at(key);
    if (!v.is_object()) return fail(key, "expected an object of strings");
    out.clear();
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!it.value().is_string())
        return fail(fmt::format("{}.{}", key, it.key()), "expected a string");
      out[it.key()] = it.value().get<std::string>();
    }
    return ok();
  }
  // A nested object/array element for a sub-decoder.
  Result<const Json*> sub(const char* key) const {
    if (!has(key)) return static_cast<const Json*>(nullptr);
    return &j_.at(key);
  }
  std::string path(std::string_view key) const { return fmt::format("{}.{}", where_, key); }

 private:
  const Json& j_;
  std::string where_;
};

Result<RootfsMount> decode_mount(const Json& j, std::string where) {
  Fields f(j, std::move(where));
  BERTH_TRY(f.object());
  RootfsMount m;
  BERTH_TRY(f.required("type"));
  BERTH_TRY(f.str("type", m.type));
  if (m.type != "overlay" && m.type != "bind")
    return f.fail("type", fmt::format("unsupported mount type {:?}", m.type));
  BERTH_TRY(f.required("source"));
  BERTH_TRY(f.str("source", m.source));
  BERTH_TRY(f.strings("options", m.options));
  return m;
}

Result<HealthConfig> decode_health_config(const Json& j, std::string where) {
  Fields f(j, std::move(where));
  BERTH_TRY(f.object());
  HealthConfig h;
  BERTH_TRY(f.strings("test", h.test));
  BERTH_TRY(f.integer("interval_ns", h.interval_ns));
  BERTH_TRY(f.integer("timeout_ns", h.timeout_ns));
  BERTH_TRY(f.integer("start_period_ns", h.start_period_ns));
  BERTH_TRY(f.integer("start_interval_ns", h.start_interval_ns));
  BERTH_TRY(f.integer("retries", h.retries));
  BERTH_TRY(f.str("on_failure", h.on_failure));
  if (h.interval_ns <= 0) return f.fail("interval_ns", "must be positive");
  if (h.timeout_ns <= 0) return f.fail("timeout_ns", "must be positive");
  if (h.start_period_ns < 0) return f.fail("start_period_ns", "must not be negative");
  if (h.start_interval_ns <= 0) return f.fail("start_interval_ns", "must be positive");
  if (h.retries < 0) return f.fail("retries", "must not be negative");
  if (h.on_failure != "none" && h.on_failure != "kill" && h.on_failure != "restart")
    return f.fail("on_failure",
                  fmt::format("must be none, kill or restart, not {:?}", h.on_failure));
  return h;
}

Result<ExitRecord> decode_exit_at(const Json& j, std::string where) {
  Fields f(j, std::move(where));
  BERTH_TRY(f.object());
  ExitRecord e;
  BERTH_TRY(f.required("exit_code"));
  BERTH_TRY(f.integer("exit_code", e.exit_code));
  BERTH_TRY(f.integer("started_ns", e.started_ns));
  BERTH_TRY(f.integer("finished_ns", e.finished_ns));
  BERTH_TRY(f.boolean("oom_killed", e.oom_killed));
  BERTH_TRY(f.str("error", e.error));
  BERTH_TRY(f.boolean("health_restart", e.health_restart));
  return e;
}

Result<HealthRecord> decode_health_at(const Json& j, std::string where) {
  Fields f(j, where);
  BERTH_TRY(f.object());
  HealthRecord h;
  BERTH_TRY(f.str("status", h.status));
  if (h.status != "starting" && h.status != "healthy" && h.status != "unhealthy")
    return f.fail("status", fmt::format("unknown health status {:?}", h.status));
  BERTH_TRY(f.integer("failing_streak", h.failing_streak));
  if (const Json* log = BERTH_TRY(f.sub("log"))) {
    if (!log->is_array()) return f.fail("log", "expected an array");
    for (size_t i = 0; i < log->size(); ++i) {
      Fields e((*log)[i], fmt::format("{}.log[{}]", where, i));
      BERTH_TRY(e.object());
      HealthLog l;
      BERTH_TRY(e.integer("start_ns", l.start_ns));
      BERTH_TRY(e.integer("end_ns", l.end_ns));
      BERTH_TRY(e.integer("exit_code", l.exit_code));
      BERTH_TRY(e.str("output", l.output));
      h.log.push_back(std::move(l));
    }
  }
  return h;
}

}  // namespace

Json encode_config(const MonitorConfig& c) {
  Json mounts = Json::array();
  for (const auto& m : c.rootfs_mounts)
    mounts.push_back({{"type", m.type}, {"source", m.source}, {"options", m.options}});
  Json health = {{"test", c.health.test},
                 {"interval_ns", c.health.interval_ns},
                 {"timeout_ns", c.health.timeout_ns},
                 {"start_period_ns", c.health.start_period_ns},
                 {"start_interval_ns", c.health.start_interval_ns},
                 {"retries", c.health.retries},
                 {"on_failure", c.health.on_failure}};
  return Json{{"id", c.id},
              {"bundle", c.bundle},
              {"rootfs_mounts", mounts},
              {"volatile_rootfs", c.volatile_rootfs},
              {"state_root", c.state_root},
              {"runtime", c.runtime},
              {"runtime_args", c.runtime_args},
              {"socket_path", c.socket_path},
              {"pid_file", c.pid_file},
              {"exit_file", c.exit_file},
              {"health_file", c.health_file},
              {"log_driver", c.log_driver},
              {"log_path", c.log_path},
              {"log_opts", c.log_opts},
              {"log_attrs", c.log_attrs},
              {"tty", c.tty},
              {"open_stdin", c.open_stdin},
              {"stdin_once", c.stdin_once},
              {"health", health},
              {"standby", c.standby}};
}

Result<MonitorConfig> decode_config(const Json& j) {
  Fields f(j, "monitor config");
  BERTH_TRY(f.object());
  MonitorConfig c;
  for (const char* k : {"id", "bundle", "state_root", "socket_path", "pid_file", "exit_file"}) {
    BERTH_TRY(f.required(k));
  }
  BERTH_TRY(f.str("id", c.id));
  if (c.id.empty()) return f.fail("id", "must not be empty");
  BERTH_TRY(f.str("bundle", c.bundle));
  if (const Json* mounts = BERTH_TRY(f.sub("rootfs_mounts"))) {
    if (!mounts->is_array()) return f.fail("rootfs_mounts", "expected an array");
    for (size_t i = 0; i < mounts->size(); ++i)
      c.rootfs_mounts.push_back(
          BERTH_TRY(decode_mount((*mounts)[i], f.path(fmt::format("rootfs_mounts[{}]", i)))));
  }
  BERTH_TRY(f.boolean("volatile_rootfs", c.volatile_rootfs));
  BERTH_TRY(f.str("state_root", c.state_root));
  BERTH_TRY(f.str("runtime", c.runtime));
  BERTH_TRY(f.strings("runtime_args", c.runtime_args));
  BERTH_TRY(f.str("socket_path", c.socket_path));
  BERTH_TRY(f.str("pid_file", c.pid_file));
  BERTH_TRY(f.str("exit_file", c.exit_file));
  BERTH_TRY(f.str("health_file", c.health_file));
  BERTH_TRY(f.str("log_driver", c.log_driver));
  if (c.log_driver != "json-file" && c.log_driver != "local" && c.log_driver != "none")
    return f.fail("log_driver", fmt::format("unsupported log driver {:?}", c.log_driver));
  BERTH_TRY(f.str("log_path", c.log_path));
  if (c.log_driver != "none" && c.log_path.empty())
    return f.fail("log_path", fmt::format("is required with the {} log driver", c.log_driver));
  BERTH_TRY(f.string_map("log_opts", c.log_opts));
  BERTH_TRY(f.string_map("log_attrs", c.log_attrs));
  BERTH_TRY(f.boolean("tty", c.tty));
  BERTH_TRY(f.boolean("open_stdin", c.open_stdin));
  BERTH_TRY(f.boolean("stdin_once", c.stdin_once));
  BERTH_TRY(f.boolean("standby", c.standby));
  if (const Json* h = BERTH_TRY(f.sub("health")))
    c.health = BERTH_TRY(decode_health_config(*h, f.path("health")));
  if (!c.health.test.empty() && c.health_file.empty())
    return f.fail("health_file", "is required with a health check");
  return c;
}

Json encode_exit(const ExitRecord& e) {
  return Json{{"exit_code", e.exit_code},
              {"started_ns", e.started_ns},
              {"finished_ns", e.finished_ns},
              {"oom_killed", e.oom_killed},
              {"error", e.error},
              {"health_restart", e.health_restart}};
}

Result<ExitRecord> decode_exit(const Json& j) { return decode_exit_at(j, "exit record"); }

Json encode_health(const HealthRecord& h) {
  Json log = Json::array();
  for (const auto& l : h.log)
    log.push_back({{"start_ns", l.start_ns},
                   {"end_ns", l.end_ns},
                   {"exit_code", l.exit_code},
                   {"output", l.output}});
  return Json{{"status", h.status}, {"failing_streak", h.failing_streak}, {"log", log}};
}

Result<HealthRecord> decode_health(const Json& j) { return decode_health_at(j, "health record"); }

Json encode_state(const StateReply& s) {
  Json j = {{"ok", true}, {"status", s.status}, {"pid", s.pid}, {"started_ns", s.started_ns}};
  if (s.exit) j["exit"] = encode_exit(*s.exit);
  if (s.health) j["health"] = encode_health(*s.health);
  return j;
}

Result<StateReply> decode_state(const Json& j) {
  Fields f(j, "state reply");
  BERTH_TRY(f.object());
  StateReply s;
  BERTH_TRY(f.required("status"));
  BERTH_TRY(f.str("status", s.status));
  if (s.status != "created" && s.status != "running" && s.status != "paused" &&
      s.status != "exited")
    return f.fail("status", fmt::format("unknown status {:?}", s.status));
  BERTH_TRY(f.integer("pid", s.pid));
  BERTH_TRY(f.integer("started_ns", s.started_ns));
  if (const Json* e = BERTH_TRY(f.sub("exit")))
    s.exit = BERTH_TRY(decode_exit_at(*e, f.path("exit")));
  if (const Json* h = BERTH_TRY(f.sub("health")))
    s.health = BERTH_TRY(decode_health_at(*h, f.path("health")));
  return s;
}

Json encode_exec_state(const ExecState& s) {
  Json j = {{"ok", true}, {"running", s.running}, {"pid", s.pid}};
  if (s.exit_code) j["exit_code"] = *s.exit_code;
  return j;
}

Result<ExecState> decode_exec_state(const Json& j) {
  Fields f(j, "exec state");
  BERTH_TRY(f.object());
  ExecState s;
  BERTH_TRY(f.boolean("running", s.running));
  BERTH_TRY(f.integer("pid", s.pid));
  if (f.has("exit_code")) {
    int c = 0;
    BERTH_TRY(f.integer("exit_code", c));
    s.exit_code = c;
  }
  return s;
}

Json encode_proxy_request(const std::vector<ProxyTarget>& ports) {
  Json list = Json::array();
  for (const auto& p : ports) list.push_back({{"target_ip", p.ip}, {"target_port", p.port}});
  return {{"op", "proxy"}, {"ports", list}};
}

Result<std::vector<ProxyTarget>> decode_proxy_request(const Json& j) {
  Fields f(j, "proxy");
  BERTH_TRY(f.object());
  BERTH_TRY(f.required("ports"));
  const Json& list = j.at("ports");
  if (!list.is_array()) return f.fail("ports", "expected an array");
  std::vector<ProxyTarget> out;
  for (size_t i = 0; i < list.size(); ++i) {
    Fields e(list[i], fmt::format("proxy.ports[{}]", i));
    BERTH_TRY(e.object());
    BERTH_TRY(e.required("target_ip"));
    BERTH_TRY(e.required("target_port"));
    ProxyTarget t;
    BERTH_TRY(e.str("target_ip", t.ip));
    BERTH_TRY(e.integer("target_port", t.port));
    if (t.port == 0) return e.fail("target_port", "must be 1-65535");
    out.push_back(std::move(t));
  }
  return out;
}

Json encode_event(const Event& e) {
  Json j = {{"event", e.event}};
  if (e.exit) j["exit"] = encode_exit(*e.exit);
  if (e.event == "exec_exit") {
    j["exec_id"] = e.exec_id;
    j["exit_code"] = e.exit_code;
  }
  if (!e.health_status.empty()) j["health_status"] = e.health_status;
  return j;
}

Result<Event> decode_event(const Json& j) {
  Fields f(j, "event");
  BERTH_TRY(f.object());
  Event e;
  BERTH_TRY(f.required("event"));
  BERTH_TRY(f.str("event", e.event));
  if (const Json* x = BERTH_TRY(f.sub("exit")))
    e.exit = BERTH_TRY(decode_exit_at(*x, f.path("exit")));
  if (e.event == "exit" && !e.exit) return f.fail("exit", "is required for an exit event");
  BERTH_TRY(f.str("exec_id", e.exec_id));
  BERTH_TRY(f.integer("exit_code", e.exit_code));
  BERTH_TRY(f.str("health_status", e.health_status));
  return e;
}

Json encode_error(const Error& e) {
  return Json{{"ok", false}, {"code", errc_name(e.code)}, {"message", e.message}};
}

Error decode_error(const Json& j) {
  Error e{Errc::Internal, 0, "monitor: malformed error reply"};
  if (!j.is_object()) return e;
  if (j.contains("message") && j.at("message").is_string())
    e.message = j.at("message").get<std::string>();
  if (j.contains("code") && j.at("code").is_string()) {
    std::string name = j.at("code").get<std::string>();
    for (int c = 0; c <= static_cast<int>(Errc::Internal); ++c) {
      if (name == errc_name(static_cast<Errc>(c))) e.code = static_cast<Errc>(c);
    }
  }
  return e;
}

}  // namespace berth::monitor
