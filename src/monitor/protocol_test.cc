#include "monitor/protocol.h"

#include <gtest/gtest.h>

#include "monitor/detach_keys.h"

namespace berth::monitor {
namespace {

MonitorConfig sample_config() {
  MonitorConfig c;
  c.id = std::string(64, 'a');
  c.bundle = "/data/containers/x/bundle";
  c.rootfs_mounts.push_back(
      {"overlay", "overlay", {"lowerdir=/a:/b", "upperdir=/u", "workdir=/w"}});
  c.rootfs_mounts.push_back({"bind", "/src", {"ro"}});
  c.volatile_rootfs = true;
  c.state_root = "/run/berth/runtime";
  c.runtime = "/usr/bin/runc";
  c.runtime_args = {"--systemd-cgroup"};
  c.socket_path = "/run/berth/containers/x/monitor.sock";
  c.pid_file = "/run/berth/containers/x/monitor.pid";
  c.exit_file = "/data/containers/x/exit.json";
  c.health_file = "/data/containers/x/health.json";
  c.log_path = "/data/containers/x/x-json.log";
  c.log_opts = {{"max-size", "1k"}, {"max-file", "2"}};
  c.tty = true;
  c.open_stdin = true;
  c.stdin_once = true;
  c.health.test = {"/bin/sh", "-c", "true"};
  c.health.interval_ns = 1'000'000'000;
  c.health.timeout_ns = 2'000'000'000;
  c.health.start_period_ns = 3;
  c.health.start_interval_ns = 4;
  c.health.retries = 7;
  c.health.on_failure = "restart";
  c.standby = true;
  return c;
}

TEST(Protocol, ConfigRoundTrip) {
  MonitorConfig c = sample_config();
  auto d = decode_config(encode_config(c));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(encode_config(*d), encode_config(c));
  EXPECT_EQ(d->rootfs_mounts.size(), 2u);
  EXPECT_EQ(d->rootfs_mounts[0].options[0], "lowerdir=/a:/b");
  EXPECT_EQ(d->health.retries, 7);
  EXPECT_EQ(d->health.on_failure, "restart");
  EXPECT_EQ(d->log_opts.at("max-file"), "2");
  EXPECT_TRUE(d->tty && d->open_stdin && d->stdin_once);
  EXPECT_TRUE(d->volatile_rootfs);
  EXPECT_TRUE(d->standby);
}

TEST(Protocol, ConfigDefaultsWhenOmitted) {
  Json j = {
      {"id", "abc"},      {"bundle", "/b"},    {"state_root", "/s"}, {"socket_path", "/s.sock"},
      {"pid_file", "/p"}, {"exit_file", "/e"}, {"log_path", "/l"}};
  auto d = decode_config(j);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->log_driver, "json-file");
  EXPECT_EQ(d->health.interval_ns, 30'000'000'000);
  EXPECT_EQ(d->health.retries, 3);
  EXPECT_FALSE(d->tty);
  EXPECT_FALSE(d->standby);
}

void expect_error(const Json& j, const std::string& field) {
  auto d = decode_config(j);
  ASSERT_FALSE(d) << "accepted: " << j.dump();
  EXPECT_EQ(d.error().code, Errc::InvalidArgument);
  EXPECT_NE(d.error().message.find(field), std::string::npos) << d.error().message;
}

TEST(Protocol, ConfigErrorsNameTheField) {
  Json good = encode_config(sample_config());
  Json j = good;
  j.erase("id");
  expect_error(j, "id: is required");
  j = good;
  j["tty"] = "yes";
  expect_error(j, "tty: expected a boolean");
  j = good;
  j["health"]["retries"] = "3";
  expect_error(j, "health.retries: expected an integer");
  j = good;
  j["health"]["on_failure"] = "reboot";
  expect_error(j, "health.on_failure");
  j = good;
  j["rootfs_mounts"][1]["type"] = "nfs";
  expect_error(j, "rootfs_mounts[1].type");
  j = good;
  j["rootfs_mounts"][0]["options"][2] = 5;
  expect_error(j, "rootfs_mounts[0].options[2]: expected a string");
  j = good;
  j["log_opts"]["max-size"] = 10;
  expect_error(j, "log_opts.max-size: expected a string");
  j = good;
  j["log_driver"] = "syslog";
  expect_error(j, "log_driver");
  j = good;
  j["health"]["interval_ns"] = 0;
  expect_error(j, "health.interval_ns: must be positive");
  j = good;
  j["health"]["retries"] = 1ULL << 40;
  expect_error(j, "health.retries: out of range");
  expect_error(Json::array(), "expected an object");
}

TEST(Protocol, ExitRoundTripAndErrors) {
  ExitRecord e;
  e.exit_code = 137;
  e.started_ns = 1;
  e.finished_ns = 2;
  e.oom_killed = true;
  e.error = "boom";
  e.health_restart = true;
  auto d = decode_exit(encode_exit(e));
  ASSERT_TRUE(d);
  EXPECT_EQ(encode_exit(*d), encode_exit(e));
  auto bad = decode_exit(Json{{"exit_code", "x"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("exit_code"), std::string::npos);
  EXPECT_FALSE(decode_exit(Json::object()));
}

TEST(Protocol, HealthRoundTripAndErrors) {
  HealthRecord h;
  h.status = "unhealthy";
  h.failing_streak = 3;
  h.log.push_back({10, 20, 1, "out"});
  auto d = decode_health(encode_health(h));
  ASSERT_TRUE(d);
  EXPECT_EQ(encode_health(*d), encode_health(h));
  Json j = encode_health(h);
  j["log"][0]["exit_code"] = true;
  auto bad = decode_health(j);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("log[0].exit_code"), std::string::npos) << bad.error().message;
  j = encode_health(h);
  j["status"] = "meh";
  EXPECT_FALSE(decode_health(j));
}

TEST(Protocol, StateExecEventRoundTrip) {
  StateReply s;
  s.status = "exited";
  s.pid = 0;
  s.started_ns = 5;
  s.exit = ExitRecord{};
  s.exit->exit_code = 3;
  s.health = HealthRecord{};
  auto ds = decode_state(encode_state(s));
  ASSERT_TRUE(ds) << ds.error().message;
  EXPECT_EQ(encode_state(*ds), encode_state(s));
  EXPECT_FALSE(decode_state(Json{{"status", "zombie"}}));

  ExecState x;
  x.running = false;
  x.pid = 42;
  x.exit_code = 127;
  auto dx = decode_exec_state(encode_exec_state(x));
  ASSERT_TRUE(dx);
  EXPECT_EQ(dx->exit_code, 127);
  EXPECT_EQ(dx->pid, 42);
  ExecState running;
  running.running = true;
  auto dr = decode_exec_state(encode_exec_state(running));
  ASSERT_TRUE(dr);
  EXPECT_FALSE(dr->exit_code.has_value());

  for (const char* kind : {"start", "exit", "exec_exit", "health_status"}) {
    Event e;
    e.event = kind;
    if (e.event == "exit") e.exit = ExitRecord{};
    if (e.event == "exec_exit") {
      e.exec_id = "x1";
      e.exit_code = 2;
    }
    if (e.event == "health_status") e.health_status = "healthy";
    auto de = decode_event(encode_event(e));
    ASSERT_TRUE(de) << kind;
    EXPECT_EQ(encode_event(*de), encode_event(e));
  }
  auto bad = decode_event(Json{{"event", "exit"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("exit"), std::string::npos);
}

TEST(Protocol, ErrorRoundTrip) {
  Error e = make_error(Errc::FailedPrecondition, "container x is not running");
  Json j = encode_error(e);
  EXPECT_EQ(j["ok"], false);
  Error d = decode_error(j);
  EXPECT_EQ(d.code, Errc::FailedPrecondition);
  EXPECT_EQ(d.message, e.message);
  EXPECT_EQ(decode_error(Json{{"ok", false}, {"code", "Nope"}, {"message", "m"}}).code,
            Errc::Internal);
}

TEST(DetachKeys, Parse) {
  EXPECT_EQ(*parse_detach_keys("ctrl-p,ctrl-q"), std::string("\x10\x11"));
  EXPECT_EQ(*parse_detach_keys("a,CTRL-A,ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_"),
            std::string("a\x01\0\x1b\x1c\x1d\x1e\x1f", 8));
  EXPECT_EQ(*parse_detach_keys(""), "");
  auto bad = parse_detach_keys("ctrl-1");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("Unknown character: 'ctrl-1'"), std::string::npos);
  EXPECT_FALSE(parse_detach_keys("ab"));
  EXPECT_FALSE(parse_detach_keys("ctrl-p,"));
}

TEST(Protocol, ProxyRequestRoundTripsAndNamesBadFields) {
  std::vector<ProxyTarget> ports{{"172.17.0.2", 80}, {"10.1.0.9", 65535}};
  auto back = decode_proxy_request(encode_proxy_request(ports));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, ports);
  auto msg = [](const Json& j) {
    auto r = decode_proxy_request(j);
    return r ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(msg(Json{{"op", "proxy"}}), "proxy.ports: is required");
  EXPECT_EQ(msg(Json{{"ports", "x"}}), "proxy.ports: expected an array");
  EXPECT_EQ(msg(Json{{"ports", {{{"target_ip", "1.2.3.4"}}}}}),
            "proxy.ports[0].target_port: is required");
  EXPECT_EQ(msg(Json{{"ports", {{{"target_ip", "1.2.3.4"}, {"target_port", 0}}}}}),
            "proxy.ports[0].target_port: must be 1-65535");
  EXPECT_EQ(msg(Json{{"ports", {{{"target_ip", "1.2.3.4"}, {"target_port", 70000}}}}}),
            "proxy.ports[0].target_port: out of range");
  EXPECT_EQ(msg(Json{{"ports", {{{"target_ip", 5}, {"target_port", 80}}}}}),
            "proxy.ports[0].target_ip: expected a string");
}

TEST(DetachKeys, Match) {
  DetachMatcher m(std::string("\x10\x11"));
  std::string out;
  EXPECT_FALSE(m.feed("hello", out));
  EXPECT_EQ(out, "hello");
  out.clear();
  // Held back across reads, released when the sequence breaks.
  EXPECT_FALSE(m.feed("a\x10", out));
  EXPECT_EQ(out, "a");
  EXPECT_FALSE(m.feed("b", out));
  EXPECT_EQ(out,
            "a\x10"
            "b");
  out.clear();
  EXPECT_FALSE(m.feed("\x10\x10", out));
  EXPECT_EQ(out, "\x10");
  EXPECT_TRUE(m.feed("\x11tail", out));
  EXPECT_EQ(out, "\x10");
  DetachMatcher none;
  out.clear();
  EXPECT_FALSE(none.feed("\x10\x11", out));
  EXPECT_EQ(out, "\x10\x11");
}

}  // namespace
}  // namespace berth::monitor
