// Container, exec and archive routes over a fake ContainerService.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "api/server/fake_container_service_test.h"
#include "api/server/fake_http_test.h"
#include "api/server/router.h"
#include "api/types/containers.h"
#include "engine/fake_image_service.h"

namespace berth::api::server {
namespace {

using testing::FakeContainerService;
using testing::TestRequest;
using testing::TestResponse;

const std::string kId = std::string("0123456789ab") + std::string(52, '0');

class ContainerRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override { make(true); }
  void make(bool with_containers) {
    char tmpl[] = "/tmp/berth-container-routes-XXXXXX";
    dir_ = mkdtemp(tmpl);
    engine::EngineOptions o;
    o.data_root = dir_;
    engine_ = std::move(
        engine::Engine::create(o, std::make_unique<engine::testing::FakeImageService>()).value());
    if (with_containers) {
      auto fake = std::make_unique<FakeContainerService>();
      fake_ = fake.get();
      engine_->set_containers(std::move(fake));
      auto& e = fake_->add(kId, "web", "running");
      e.detail.state.started_ns = 1;
      e.log = {{1, "out line\n"}, {2, "err line\n"}};
    }
    router_ = std::make_unique<Router>(*engine_, RouterOptions{});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  TestResponse call(const std::string& method, const std::string& target, std::string body = "",
                    http::Headers h = {}) {
    TestRequest req(method, target, std::move(body));
    req.hdrs = std::move(h);
    if (!req.hdrs.count("Content-Type")) req.hdrs.emplace("Content-Type", "application/json");
    TestResponse res;
    router_->handle(req, res);
    EXPECT_TRUE(res.done) << target;
    return res;
  }
  std::string message(const TestResponse& r) { return r.json().value("message", ""); }

  std::string dir_;
  std::unique_ptr<engine::Engine> engine_;
  FakeContainerService* fake_ = nullptr;
  std::unique_ptr<Router> router_;
};

TEST_F(ContainerRoutesTest, CreateMapsTheBodyOntoTheEngineRequest) {
  auto r = call("POST", "/v1.47/containers/create?name=db&platform=linux/amd64", R"({
    "Image": "busybox", "Cmd": "top", "Env": ["A=1"], "Tty": true, "Labels": {"k": "v"},
    "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 2000000000, "Retries": 2},
    "StopTimeout": 3,
    "HostConfig": {"Memory": 67108864, "MemorySwap": -1, "RestartPolicy": {"Name": "on-failure",
      "MaximumRetryCount": 4}, "CapAdd": ["NET_ADMIN"], "Init": true, "PidsLimit": 50,
      "Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 20}], "Tmpfs": {"/run": "size=1m"},
      "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}}},
    "NetworkingConfig": {"EndpointsConfig": {}}})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["Id"].get<std::string>().size(), 64u);
  EXPECT_TRUE(r.json()["Warnings"].is_array());
  ASSERT_TRUE(fake_->last_create);
  const auto& q = *fake_->last_create;
  EXPECT_EQ(q.name, "db");
  EXPECT_EQ(q.platform, "linux/amd64");
  EXPECT_EQ(q.config.image, "busybox");
  EXPECT_EQ(q.config.cmd, std::vector<std::string>{"top"});
  EXPECT_FALSE(q.config.entrypoint);
  EXPECT_TRUE(q.config.tty);
  ASSERT_TRUE(q.config.healthcheck);
  EXPECT_EQ(q.config.healthcheck->interval_ns, 2000000000);
  EXPECT_EQ(q.config.healthcheck->retries, 2);
  EXPECT_EQ(q.config.stop_timeout, 3);
  EXPECT_EQ(q.host_config.resources.memory, 67108864);
  EXPECT_EQ(q.host_config.resources.memory_swap, -1);
  EXPECT_EQ(q.host_config.resources.pids_limit, 50);
  ASSERT_EQ(q.host_config.resources.ulimits.size(), 1u);
  EXPECT_EQ(q.host_config.resources.ulimits[0].hard, 20);
  EXPECT_EQ(q.host_config.restart_policy.name, "on-failure");
  EXPECT_EQ(q.host_config.restart_policy.maximum_retry_count, 4);
  EXPECT_EQ(q.host_config.init, true);
  EXPECT_EQ(q.host_config.tmpfs.at("/run"), "size=1m");
  EXPECT_EQ(q.host_config.log_config.config.at("max-size"), "1m");
  EXPECT_TRUE(q.networking_config.contains("EndpointsConfig"));
}

TEST_F(ContainerRoutesTest, CreateRefusesBadBodiesWithDockerMessages) {
  struct Case {
    std::string body;
    std::string want;
  } cases[] = {
      {R"({"Image":"b","HostConfig":{"Memory":"1g"}})",
       "cannot unmarshal string into Go struct field HostConfig.Memory of type int64"},
      {R"({"Image":"b","HostConfig":{"Memory":1.5}})", "HostConfig.Memory"},
      {R"({"Image":"b","HostConfig":{"BlkioWeight":70000}})", "HostConfig.BlkioWeight"},
      {R"({"Image":"b","HostConfig":{"Memory":99999999999999999999999}})", "HostConfig.Memory"},
      {R"({"Image":"b","Cmd":{"a":1}})", "Cmd"},
      {R"({"Image":"b","Env":[1]})", "Env"},
      {R"({"Image":"b","HostConfig":{"RestartPolicy":{"Name":"sometimes"}}})",
       "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', "
       "'on-failure', or 'unless-stopped'"},
      {R"({"Image":"b","HostConfig":{"RestartPolicy":{"Name":"always","MaximumRetryCount":2}}})",
       "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
      {R"({"Image":"b","HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":-1}}})",
       "invalid restart policy: maximum retry count cannot be negative"},
      {R"({"Image":"b","HostConfig":{"Memory":1000}})", "Minimum memory limit allowed is 6MB"},
      {R"({"Image":"b","HostConfig":{"Memory":-5}})", "Minimum memory limit allowed is 6MB"},
      {R"({"Image":"b","HostConfig":{"CpuShares":-2}})", "CpuShares"},
      {R"({"Image":"b","HostConfig":{"NanoCpus":99000000000000}})", "Range of CPUs is from 0.01"},
      {R"({"Image":"b","HostConfig":{"CpuPeriod":10}})", "CPU cfs period"},
      {R"({"Image":"b","HostConfig":{"OomScoreAdj":5000}})", "range for oom score adj"},
      {R"({"Image":"b","HostConfig":{"ShmSize":-1}})", "SHM size can not be less than 0"},
      {R"({"Image":"b","HostConfig":{"PortBindings":{"80x/tcp":[]}}})",
       "invalid port specification: \"80x\""},
      {R"({"Image":"b","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"99999"}]}}})",
       "invalid port specification: \"99999\""},
      {R"({"Image":"b","HostConfig":{"CapAdd":["FOO"]}})", "unknown capability: \"CAP_FOO\""},
      {R"({"Image":"b","HostConfig":{"LogConfig":{"Type":"syslog"}}})",
       "logger: no log driver named 'syslog' is registered"},
      {R"({"Image":"b","HostConfig":{"Ulimits":[{"Name":"nofile","Soft":5,"Hard":1}]}})",
       "ulimit soft limit must be less than or equal to hard limit: 5 > 1"},
      {R"({"Image":"b","HostConfig":{"AutoRemove":true,"RestartPolicy":{"Name":"always"}}})",
       "can't create 'AutoRemove' container with restart policy"},
      {R"({"Image":"b","WorkingDir":"rel"})", "it needs to be an absolute path"},
      {R"({"Image":"b","Healthcheck":{"Interval":5}})",
       "Interval in Healthcheck cannot be less than 1ms"},
      {R"([1,2])", "invalid JSON"},
      {R"({"Image":)", "invalid JSON"},
      {"", "invalid JSON: got EOF while reading request body"},
      {std::string(100, '[') + std::string(100, ']'), "nests deeper"},
  };
  for (const auto& c : cases) {
    auto r = call("POST", "/containers/create", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_NE(message(r).find(c.want), std::string::npos) << c.body << " -> " << r.body;
  }
  EXPECT_EQ(fake_->containers.size(), 1u);  // nothing created
}

TEST_F(ContainerRoutesTest, CreateChecksNameContentTypeAndConflicts) {
  auto bad = call("POST", "/containers/create?name=-x", R"({"Image":"b"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(message(bad),
            "Invalid container name (-x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  auto ct =
      call("POST", "/containers/create", R"({"Image":"b"})", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(ct.status, 400);
  EXPECT_EQ(message(ct),
            "unsupported Content-Type header (text/plain): must be 'application/json'");
  auto dup = call("POST", "/containers/create?name=web", R"({"Image":"b"})");
  EXPECT_EQ(dup.status, 409);
  EXPECT_NE(message(dup).find("is already in use by container"), std::string::npos);
  // Go's decoder matches keys case-insensitively and ignores unknown ones.
  auto ci = call("POST", "/containers/create", R"({"image":"b","cmd":["a","b"],"Bogus":1})");
  ASSERT_EQ(ci.status, 201) << ci.body;
  EXPECT_EQ(fake_->last_create->config.image, "b");
  EXPECT_EQ(fake_->last_create->config.cmd->size(), 2u);
}

TEST_F(ContainerRoutesTest, Answers501WithoutAContainerService) {
  TearDown();
  make(false);
  auto r = call("GET", "/containers/json");
  EXPECT_EQ(r.status, 501);
  EXPECT_EQ(call("POST", "/containers/x/start").status, 501);
  EXPECT_EQ(call("GET", "/exec/x/json").status, 501);
}

TEST_F(ContainerRoutesTest, ListWritesOnlyTheMembersBerthsCliAsksFor) {
  auto r = call("GET", "/containers/json?all=1&berth-fields=Id,Names,Status,Nope");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json().size(), 1u);
  auto row = r.json()[0];
  EXPECT_EQ(row.size(), 3u) << row.dump();
  EXPECT_EQ(row["Id"], kId);
  EXPECT_EQ(row["Names"][0], "/web");
  EXPECT_EQ(row["Status"].get<std::string>().rfind("Up ", 0), 0u);
  // Empty: every member, as for any other client.
  auto all = call("GET", "/containers/json?berth-fields=");
  ASSERT_EQ(all.status, 200);
  EXPECT_TRUE(all.json()[0].contains("NetworkSettings"));
  EXPECT_TRUE(all.json()[0].contains("Mounts"));
}

TEST_F(ContainerRoutesTest, ListRowsCarryDockerStatusAndState) {
  fake_->add(std::string(64, 'b'), "old", "exited").detail.state.started_ns = 1;
  auto r = call("GET", "/containers/json");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json().size(), 1u);
  auto row = r.json()[0];
  EXPECT_EQ(row["Id"], kId);
  EXPECT_EQ(row["Names"][0], "/web");
  EXPECT_EQ(row["State"], "running");
  EXPECT_EQ(row["Status"].get<std::string>().rfind("Up ", 0), 0u);
  EXPECT_FALSE(row.contains("SizeRw"));
  EXPECT_EQ(row["HostConfig"]["NetworkMode"], "default");
  auto all = call("GET", "/containers/json?all=1&size=1&limit=5&filters=" +
                             std::string(R"({"status":{"exited":true}})"));
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.json().size(), 2u);
  EXPECT_EQ(all.json()[0]["SizeRw"], 12);
  EXPECT_EQ(fake_->last_list->limit, 5);
  EXPECT_EQ(fake_->last_list->filters.at("status"), std::vector<std::string>{"exited"});
  auto badf = call("GET", "/containers/json?filters=" + std::string(R"({"colour":["red"]})"));
  EXPECT_EQ(badf.status, 400);
  EXPECT_EQ(message(badf), "invalid filter 'colour'");
}

TEST_F(ContainerRoutesTest, InspectAndNotFound) {
  auto r = call("GET", "/v1.41/containers/web/json?size=1");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json();
  EXPECT_EQ(j["Id"], kId);
  EXPECT_EQ(j["Name"], "/web");
  EXPECT_EQ(j["State"]["Status"], "running");
  EXPECT_EQ(j["State"]["Running"], true);
  EXPECT_EQ(j["State"]["FinishedAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(j["SizeRw"], 1);
  EXPECT_EQ(j["HostConfig"]["RestartPolicy"]["Name"], "no");
  EXPECT_EQ(j["HostConfig"]["LogConfig"]["Type"], "json-file");
  EXPECT_EQ(j["HostConfig"]["KernelMemory"], 0);  // < 1.42 only
  EXPECT_TRUE(j["Config"]["Cmd"].is_null());
  EXPECT_TRUE(j["NetworkSettings"]["Networks"].is_object());
  EXPECT_TRUE(j["Mounts"].is_array());
  auto nf = call("GET", "/containers/nosuch/json");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(message(nf), "No such container: nosuch");
}

TEST_F(ContainerRoutesTest, StartStopKillRestartStatuses) {
  EXPECT_EQ(call("POST", "/containers/web/start").status, 304);
  auto stop = call("POST", "/containers/web/stop?t=3&signal=SIGINT");
  EXPECT_EQ(stop.status, 204);
  EXPECT_EQ(fake_->last_timeout, 3);
  EXPECT_EQ(fake_->last_signal, "SIGINT");
  EXPECT_EQ(call("POST", "/containers/web/stop").status, 304);
  auto kill = call("POST", "/containers/web/kill?signal=KILL");
  EXPECT_EQ(kill.status, 409);
  EXPECT_EQ(message(kill), "Cannot kill container: web: Container " + kId + " is not running");
  EXPECT_EQ(call("POST", "/containers/web/start").status, 204);
  EXPECT_EQ(call("POST", "/containers/web/restart?t=1").status, 204);
  EXPECT_EQ(call("POST", "/containers/web/stop?t=x").status, 400);
  EXPECT_EQ(call("POST", "/containers/web/start", R"({"Binds":[]})").status, 400);
  EXPECT_EQ(call("POST", "/containers/web/pause").status, 204);
  EXPECT_EQ(call("POST", "/containers/web/unpause").status, 204);
  EXPECT_EQ(call("POST", "/containers/nosuch/start").status, 404);
}

TEST_F(ContainerRoutesTest, WaitStreamsTheExitStatus) {
  fake_->containers[0].detail.state.exit_code = 3;
  auto r = call("POST", "/containers/web/wait?condition=next-exit");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.streamed);
  EXPECT_EQ(r.json()["StatusCode"], 3);
  EXPECT_TRUE(r.json()["Error"].is_null());
  EXPECT_EQ(fake_->last_condition, "next-exit");
  EXPECT_EQ(call("POST", "/containers/web/wait?condition=sometime").status, 400);
  EXPECT_EQ(call("POST", "/containers/nosuch/wait").status, 404);
}

TEST_F(ContainerRoutesTest, RenameUpdateDeletePrune) {
  EXPECT_EQ(call("POST", "/containers/web/rename?name=api").status, 204);
  EXPECT_EQ(fake_->containers[0].detail.name, "/api");
  EXPECT_EQ(call("POST", "/containers/api/rename").status, 400);
  EXPECT_EQ(call("POST", "/containers/api/rename?name=%2F").status, 400);
  auto up = call("POST", "/containers/api/update",
                 R"({"Memory": 16777216, "RestartPolicy": {"Name": "always"}})");
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(fake_->last_update->resources.memory, 16777216);
  EXPECT_EQ(fake_->last_update->restart_policy->name, "always");
  EXPECT_EQ(call("POST", "/containers/api/update", R"({"CpuPeriod": 1})").status, 400);
  auto rm = call("DELETE", "/containers/api");
  EXPECT_EQ(rm.status, 409);
  EXPECT_EQ(call("DELETE", "/containers/api?force=1&v=1").status, 204);
  EXPECT_TRUE(fake_->last_force);
  EXPECT_TRUE(fake_->last_volumes);
  fake_->add(std::string(64, 'd'), "gone", "exited");
  auto pr = call("POST", "/containers/prune?filters=" + std::string(R"({"label":["a"]})"));
  ASSERT_EQ(pr.status, 200);
  EXPECT_EQ(pr.json()["ContainersDeleted"][0], std::string(64, 'd'));
  EXPECT_EQ(pr.json()["SpaceReclaimed"], 10);
  auto pr2 = call("POST", "/containers/prune");
  EXPECT_TRUE(pr2.json()["ContainersDeleted"].is_null());
}

TEST_F(ContainerRoutesTest, LogsAreMultiplexedWithoutATty) {
  auto r = call("GET", "/containers/web/logs?stdout=1&stderr=1&tail=all");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), kMultiplexedStream);
  EXPECT_EQ(r.body, frame_stream(1, "out line\n") + frame_stream(2, "err line\n"));
  EXPECT_EQ(fake_->last_logs->tail, -1);
  auto old = call("GET", "/v1.41/containers/web/logs?stderr=1&tail=5&since=1700000000");
  EXPECT_EQ(old.header("Content-Type"), kRawStream);
  EXPECT_EQ(old.body, frame_stream(2, "err line\n"));
  EXPECT_EQ(fake_->last_logs->tail, 5);
  EXPECT_EQ(*fake_->last_logs->since_ns, 1700000000LL * 1000000000);
  auto none = call("GET", "/containers/web/logs");
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(message(none), "Bad parameters: you must choose at least one stream");
  fake_->containers[0].detail.config.tty = true;
  auto tty = call("GET", "/containers/web/logs?stdout=1&stderr=1");
  EXPECT_EQ(tty.body, "out line\nerr line\n");
  EXPECT_EQ(call("GET", "/containers/nosuch/logs?stdout=1").status, 404);
  EXPECT_EQ(call("GET", "/containers/web/logs?stdout=1&since=yesterday").status, 400);
}

// Entries are batched into large chunks (not one chunk per line), and a
// follow sends what it has each time the reader catches up (polls `gone`).
TEST_F(ContainerRoutesTest, LogsAreBatchedAndFlushedWhenCaughtUp) {
  auto& log = fake_->containers[0].log;
  log.clear();
  std::string want;
  for (int i = 0; i < 20000; ++i) {
    std::string line = "line " + std::to_string(i) + "\n";
    log.emplace_back(i % 3 == 0 ? 2 : 1, line);
    want += frame_stream(i % 3 == 0 ? 2 : 1, line);
  }
  auto r = call("GET", "/containers/web/logs?stdout=1&stderr=1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, want);
  EXPECT_GT(r.chunks.size(), 1u);  // ~400 KiB: more than one batch
  EXPECT_LT(r.chunks.size(), 20u);
  log.resize(3);
  fake_->logs_idle_after_each = true;
  auto f = call("GET", "/containers/web/logs?stdout=1&stderr=1&follow=1");
  ASSERT_EQ(f.chunks.size(), 3u);
  EXPECT_EQ(f.chunks[0], frame_stream(2, "line 0\n"));
  EXPECT_EQ(f.chunks[2], frame_stream(1, "line 2\n"));
  fake_->containers[0].detail.config.tty = true;
  auto t = call("GET", "/containers/web/logs?stdout=1&stderr=1&follow=1");
  EXPECT_EQ(t.chunks, (std::vector<std::string>{"line 0\n", "line 1\n", "line 2\n"}));
}

TEST_F(ContainerRoutesTest, AttachHijacksWithDockersHeader) {
  fake_->attach_output = "hello";
  TestRequest req("POST", "/v1.47/containers/web/attach?stream=1&stdout=1&stdin=1");
  req.hdrs.emplace("Upgrade", "tcp");
  req.hdrs.emplace("Connection", "Upgrade");
  TestResponse res;
  router_->handle(req, res);
  ASSERT_TRUE(res.hijacked);
  std::string got = res.read_peer();
  EXPECT_EQ(got.rfind("HTTP/1.1 101 UPGRADED\r\nContent-Type: "
                      "application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\n"
                      "Upgrade: tcp\r\n",
                      0),
            0u)
      << got;
  EXPECT_NE(got.find("Api-Version: 1.47\r\n"), std::string::npos);
  EXPECT_EQ(got.substr(got.size() - 9), "\r\n\r\nhello");
  EXPECT_EQ(fake_->attach_buffered, "stdin-bytes");
  EXPECT_TRUE(fake_->last_attach->stdin);
  EXPECT_FALSE(fake_->last_attach->stderr);

  // API < 1.42 says raw-stream; without Upgrade docker answers 200 OK.
  TestRequest old("POST", "/v1.41/containers/web/attach?stream=1&stdout=1");
  old.hdrs.emplace("Upgrade", "tcp");
  TestResponse res2;
  router_->handle(old, res2);
  EXPECT_NE(res2.read_peer().find("Content-Type: application/vnd.docker.raw-stream\r\n"),
            std::string::npos);
  TestRequest plain("POST", "/containers/web/attach?stream=1&stdout=1");
  TestResponse res3;
  router_->handle(plain, res3);
  EXPECT_EQ(res3.read_peer().rfind("HTTP/1.1 200 OK\r\nContent-Type: "
                                   "application/vnd.docker.raw-stream\r\n",
                                   0),
            0u);

  // An engine failure after the header reaches the client in the stream.
  fake_->attach_error = make_error(Errc::Conflict, "boom");
  TestRequest failing("POST", "/containers/web/attach?stream=1&stdout=1");
  failing.hdrs.emplace("Upgrade", "tcp");
  TestResponse res4;
  router_->handle(failing, res4);
  EXPECT_NE(res4.read_peer().find(frame_stream(1, "boom\r\n")), std::string::npos);

  fake_->containers[0].detail.state.status = "paused";
  auto paused = call("POST", "/containers/web/attach?stream=1");
  EXPECT_EQ(paused.status, 409);
  EXPECT_EQ(call("POST", "/containers/nosuch/attach").status, 404);
}

TEST_F(ContainerRoutesTest, ExecCreateStartInspectResize) {
  auto cr = call("POST", "/containers/web/exec",
                 R"({"Cmd":["sh","-c","echo hi"],"AttachStdout":true,"Tty":false,"Env":["X=1"]})");
  ASSERT_EQ(cr.status, 201) << cr.body;
  std::string id = cr.json()["Id"];
  EXPECT_EQ(fake_->execs[0].config.cmd.size(), 3u);
  EXPECT_EQ(call("POST", "/containers/web/exec", R"({"Cmd":[]})").status, 400);
  EXPECT_EQ(message(call("POST", "/containers/web/exec", R"({"Cmd":[]})")),
            "No exec command specified");
  auto js = call("GET", "/exec/" + id + "/json");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.json()["ProcessConfig"]["entrypoint"], "sh");
  EXPECT_EQ(js.json()["ProcessConfig"]["arguments"][1], "echo hi");
  EXPECT_TRUE(js.json()["ExitCode"].is_null());
  EXPECT_EQ(js.json()["ContainerID"], kId);

  fake_->attach_output = "hi";
  TestRequest start("POST", "/exec/" + id + "/start", R"({"Detach":false,"Tty":true})");
  start.hdrs.emplace("Upgrade", "tcp");
  TestResponse res;
  router_->handle(start, res);
  ASSERT_TRUE(res.hijacked);
  auto got = res.read_peer();
  EXPECT_NE(got.find("Content-Type: application/vnd.docker.raw-stream\r\n"), std::string::npos);
  EXPECT_EQ(got.substr(got.size() - 2), "hi");
  // Already running: 409 before any hijack.
  auto again = call("POST", "/exec/" + id + "/start", R"({"Detach":true})");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(call("POST", "/exec/nosuch/start", "{}").status, 404);
  EXPECT_EQ(call("POST", "/exec/" + id + "/resize?h=10&w=80").status, 200);
  EXPECT_EQ(call("POST", "/exec/" + id + "/resize?h=x&w=80").status, 400);
  auto cr2 = call("POST", "/containers/web/exec", R"({"Cmd":["true"]})");
  auto det =
      call("POST", "/exec/" + cr2.json()["Id"].get<std::string>() + "/start", R"({"Detach":true})");
  EXPECT_EQ(det.status, 200);
}

TEST_F(ContainerRoutesTest, TopChangesStatsExportResize) {
  auto top = call("GET", "/containers/web/top?ps_args=aux");
  ASSERT_EQ(top.status, 200);
  EXPECT_EQ(top.json()["Titles"][0], "PID");
  EXPECT_EQ(fake_->last_path, "aux");
  auto ch = call("GET", "/containers/web/changes");
  EXPECT_EQ(ch.json()[0]["Kind"], 1);
  EXPECT_EQ(ch.json()[0]["Path"], "/tmp");
  auto one = call("GET", "/containers/web/stats?stream=false");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.json()["memory_stats"]["usage"], 1024);
  EXPECT_EQ(one.json()["name"], "/web");
  EXPECT_TRUE(one.json().contains("precpu_stats"));
  EXPECT_EQ(one.json()["networks"]["eth0"]["rx_bytes"], 10);
  EXPECT_EQ(one.json()["networks"]["eth0"]["tx_packets"], 2);
  EXPECT_EQ(one.json()["networks"]["eth0"]["tx_dropped"], 0);
  auto stream = call("GET", "/containers/web/stats");
  EXPECT_EQ(std::count(stream.body.begin(), stream.body.end(), '\n'), 3);
  auto ex = call("GET", "/containers/web/export");
  EXPECT_EQ(ex.body, "TARDATA");
  EXPECT_EQ(ex.header("Content-Type"), "application/x-tar");
  EXPECT_EQ(call("POST", "/containers/web/resize?h=24&w=80").status, 200);
  EXPECT_EQ(call("POST", "/containers/web/resize?h=-1&w=80").status, 400);
}

TEST_F(ContainerRoutesTest, ArchiveAndCommit) {
  auto head = call("HEAD", "/containers/web/archive?path=/etc");
  ASSERT_EQ(head.status, 200);
  auto st = decode_path_stat_header(head.header("X-Docker-Container-Path-Stat"));
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->name, "etc");
  EXPECT_EQ(st->mode, (1u << 31) | 0755);
  EXPECT_EQ(st->mtime_ns, 1700000000LL * 1000000000);
  auto get = call("GET", "/containers/web/archive?path=/etc");
  EXPECT_EQ(get.body, "TAR:/etc");
  EXPECT_FALSE(get.header("X-Docker-Container-Path-Stat").empty());
  auto missing = call("GET", "/containers/web/archive?path=/missing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(call("GET", "/containers/web/archive").status, 400);
  auto put =
      call("PUT", "/containers/web/archive?path=/tmp&noOverwriteDirNonDir=1", std::string(12, 'x'));
  EXPECT_EQ(put.status, 200);
  EXPECT_EQ(fake_->last_put_body, std::string(12, 'x'));
  auto cm = call("POST", "/commit?container=web&repo=me/img&tag=v1&changes=CMD%20x&pause=0",
                 R"({"Env":["A=1"]})");
  ASSERT_EQ(cm.status, 201) << cm.body;
  EXPECT_EQ(cm.json()["Id"].get<std::string>().rfind("sha256:", 0), 0u);
  EXPECT_EQ(fake_->last_commit->repository, "me/img");
  EXPECT_FALSE(fake_->last_commit->pause);
  ASSERT_TRUE(fake_->last_commit->config);
  EXPECT_EQ(fake_->last_commit->config->env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(call("POST", "/commit?container=nosuch").status, 404);
}

TEST_F(ContainerRoutesTest, InfoAndDfCountContainers) {
  fake_->add(std::string(64, 'b'), "old", "exited");
  auto info = call("GET", "/info");
  ASSERT_EQ(info.status, 200);
  EXPECT_EQ(info.json()["Containers"], 2);
  EXPECT_EQ(info.json()["ContainersRunning"], 1);
  EXPECT_EQ(info.json()["ContainersStopped"], 1);
  auto df = call("GET", "/system/df");
  ASSERT_EQ(df.status, 200);
  EXPECT_EQ(df.json()["Containers"].size(), 2u);
  EXPECT_EQ(df.json()["Containers"][0]["SizeRw"], 12);
}

}  // namespace
}  // namespace berth::api::server
