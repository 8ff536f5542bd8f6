// Container calls of EngineClient over a scripted http::Client.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <deque>

#include "api/client/engine_client.h"
#include "api/types/containers.h"

namespace berth::api::client {
namespace {

struct Answer {
  int status = 200;
  http::Headers headers;
  std::string body;
  std::vector<std::string> chunks;  // delivered through on_chunk
};

class ScriptedHttp : public http::Client {
 public:
  std::deque<Answer> answers;
  std::vector<http::ClientRequest> seen;
  std::string uploaded;
  Fd peer;  // the other end of an upgraded connection

  Result<http::ClientResponse> request(http::ClientRequest req) override {
    if (req.body_source)
      for (int i = 0; i < 1000; ++i) {
        auto c = BERTH_TRY(req.body_source());
        if (c.empty()) break;
        uploaded += c;
      }
    seen.push_back(req);
    if (answers.empty()) return make_error(Errc::Unavailable, "no answer scripted");
    Answer a = answers.front();
    answers.pop_front();
    http::ClientResponse r;
    r.status = a.status;
    r.headers = a.headers;
    if (req.on_chunk) {
      for (auto& c : a.chunks) BERTH_TRY(req.on_chunk(c));
      if (a.chunks.empty() && !a.body.empty()) BERTH_TRY(req.on_chunk(a.body));
    } else {
      r.body = a.body;
    }
    return r;
  }
  Result<Upgraded> upgrade(http::ClientRequest req) override {
    seen.push_back(req);
    Answer a = answers.front();
    answers.pop_front();
    Upgraded u;
    u.response.status = a.status;
    u.response.headers = a.headers;
    if (a.status >= 400) {
      u.response.body = a.body;
      return u;
    }
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return sys_error("sp");
    u.fd = Fd(sv[0]);
    peer = Fd(sv[1]);
    u.buffered = a.body;
    return u;
  }
  // begin() answers with the scripted status and headers; finish() with the body.
  Result<http::ClientResponse> begin(http::ClientRequest req) override {
    seen.push_back(req);
    if (answers.empty()) return make_error(Errc::Unavailable, "no answer scripted");
    begun = answers.front();
    answers.pop_front();
    http::ClientResponse r;
    r.status = begun->status;
    r.headers = begun->headers;
    return r;
  }
  Result<http::ClientResponse> finish() override {
    if (!begun) return make_error(Errc::Internal, "finish() without begin()");
    http::ClientResponse r;
    r.status = begun->status;
    r.headers = begun->headers;
    r.body = begun->body;
    begun.reset();
    return r;
  }
  std::optional<Answer> begun;
};

struct Fixture {
  ScriptedHttp* http;
  std::unique_ptr<EngineClient> client;
  explicit Fixture(std::string version = "1.47") {
    auto h = std::make_unique<ScriptedHttp>();
    http = h.get();
    Options o;
    o.host = "unix:///x.sock";
    o.api_version = version;
    client = std::make_unique<EngineClient>(std::move(h), o);
  }
  void answer(int status, std::string body, http::Headers h = {}) {
    http->answers.push_back({status, std::move(h), std::move(body), {}});
  }
  const http::ClientRequest& last() { return http->seen.back(); }
};

TEST(StreamDemuxer, SplitsFramesAcrossChunks) {
  std::string all = frame_stream(1, "hello\n") + frame_stream(2, "err") + frame_stream(1, "");
  StreamDemuxer d;
  std::vector<std::pair<int, std::string>> got;
  auto on = [&](int s, std::string_view v) -> Result<void> {
    got.emplace_back(s, std::string(v));
    return ok();
  };
  for (char ch : all) ASSERT_TRUE(d.feed(std::string_view(&ch, 1), on));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], (std::pair<int, std::string>{1, "hello\n"}));
  EXPECT_EQ(got[1], (std::pair<int, std::string>{2, "err"}));
  EXPECT_EQ(d.pending(), 0u);
  StreamDemuxer bad;
  EXPECT_FALSE(bad.feed("hello world!", on));
}

TEST(ContainerClient, CreateListInspectLifecycle) {
  Fixture f;
  api::ContainerConfig cfg;
  cfg.image = "busybox";
  cfg.cmd = std::vector<std::string>{"echo", "hi"};
  api::HostConfig hc;
  hc.resources.memory = 64 << 20;
  hc.restart_policy.name = "always";
  Json body = EngineClient::create_body(cfg, hc);
  EXPECT_EQ(body["Image"], "busybox");
  EXPECT_EQ(body["HostConfig"]["Memory"], 64 << 20);
  EXPECT_EQ(body["HostConfig"]["RestartPolicy"]["Name"], "always");
  // What create_body writes, the daemon's decoder reads back.
  auto back = api::decode_create_body(dump_json(body), api::ApiVersion{1, 47}, 2);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->config.cmd->size(), 2u);
  EXPECT_EQ(back->host_config.resources.memory, 64 << 20);

  f.answer(201, R"({"Id":"abc","Warnings":[]})");
  auto cr = f.client->create_container(body, "web", "");
  ASSERT_TRUE(cr) << cr.error().message;
  EXPECT_EQ(cr->id, "abc");
  EXPECT_EQ(f.last().target, "/v1.47/containers/create?name=web");

  f.answer(409, R"({"message":"Conflict. The container name \"/web\" is already in use"})");
  auto dup = f.client->create_container(body, "web", "");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::Conflict);
  EXPECT_EQ(dup.error().message,
            "Error response from daemon: Conflict. The container name \"/web\" is already in use");

  f.answer(200, R"([{"Id":"abc","Names":["/web"],"Image":"busybox","State":"running",
      "Status":"Up 2 seconds","Ports":[{"PrivatePort":80,"Type":"tcp"}],"Labels":{"a":"b"},
      "HostConfig":{"NetworkMode":"default"}}])");
  auto rows = f.client->list_containers({true, 3, true, ""});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].status, "Up 2 seconds");
  EXPECT_EQ((*rows)[0].ports[0].private_port, 80);
  EXPECT_EQ((*rows)[0].size_rw, -1);
  EXPECT_EQ(f.last().target, "/v1.47/containers/json?all=1&limit=3&size=1");

  f.answer(304, "");
  EXPECT_TRUE(*f.client->start_container("web"));
  f.answer(204, "");
  EXPECT_FALSE(*f.client->stop_container("web", 3, "SIGINT"));
  EXPECT_EQ(f.last().target, "/v1.47/containers/web/stop?t=3&signal=SIGINT");
  f.answer(409, R"({"message":"Container abc is not running"})");
  auto k = f.client->kill_container("web", "KILL");
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().message, "Error response from daemon: Container abc is not running");
  f.answer(200, R"({"StatusCode":3,"Error":null})");
  auto w = f.client->wait_container("web", "next-exit");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->status_code, 3);
  EXPECT_EQ(f.last().target, "/v1.47/containers/web/wait?condition=next-exit");
  f.answer(204, "");
  EXPECT_TRUE(f.client->remove_container("web", true, true));
  EXPECT_EQ(f.last().target, "/v1.47/containers/web?force=1&v=1");
  f.answer(200, R"({"ContainersDeleted":null,"SpaceReclaimed":0})");
  EXPECT_TRUE(f.client->prune_containers("")->deleted.empty());
}

TEST(ContainerClient, LogsDemultiplexAndErrors) {
  Fixture f;
  Answer a;
  a.headers.emplace("Content-Type", api::kMultiplexedStream);
  std::string frames = frame_stream(1, "out\n") + frame_stream(2, "err\n");
  a.chunks = {frames.substr(0, 5), frames.substr(5)};
  f.http->answers.push_back(a);
  std::string out, err;
  auto r = f.client->container_logs("web", {}, false, [&](int s, std::string_view d) {
    (s == 1 ? out : err) += d;
    return ok();
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(out, "out\n");
  EXPECT_EQ(err, "err\n");
  EXPECT_EQ(f.last().target, "/v1.47/containers/web/logs?stdout=1&stderr=1&tail=all");
  // TTY: raw bytes, even ones that look like JSON.
  f.answer(200, R"({"level":"info"})");
  out.clear();
  ASSERT_TRUE(f.client->container_logs("web", {}, true, [&](int, std::string_view d) {
    out += d;
    return ok();
  }));
  EXPECT_EQ(out, R"({"level":"info"})");
  f.answer(404, R"({"message":"No such container: nope"})");
  auto nf = f.client->container_logs("nope", {}, false,
                                     [](int, std::string_view) -> Result<void> { return ok(); });
  ASSERT_FALSE(nf);
  EXPECT_EQ(nf.error().message, "Error response from daemon: No such container: nope");
}

// `logs` of a container with `--log-driver none`: the daemon's message, not
// "HTTP status 501", with or without a TTY.
TEST(ContainerClient, LogsErrorAnswerKeepsTheDaemonsMessage) {
  Fixture f;
  for (bool tty : {false, true}) {
    f.answer(501, R"({"message":"configured logging driver does not support reading"})"
                  "\n");
    std::string out;
    auto r = f.client->container_logs("quiet", {}, tty, [&](int, std::string_view d) {
      out += d;
      return ok();
    });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::NotImplemented);
    EXPECT_EQ(r.error().message,
              "Error response from daemon: configured logging driver does not support reading");
    EXPECT_EQ(out, "");
  }
}

// Frames of one stream within a received piece come out as one call;
// stream changes keep their order; a frame cut across pieces is joined.
TEST(ContainerClient, LogsCoalesceFramesPerPiece) {
  Fixture f;
  Answer a;
  a.headers.emplace("Content-Type", api::kMultiplexedStream);
  std::string p1 = frame_stream(1, "a\n") + frame_stream(1, "b\n") + frame_stream(2, "c\n") +
                   frame_stream(1, "d\n");
  std::string p2 = frame_stream(1, "e\n") + frame_stream(1, "f\n");
  a.chunks = {p1 + p2.substr(0, 4), p2.substr(4)};
  f.http->answers.push_back(a);
  std::vector<std::pair<int, std::string>> calls;
  auto r = f.client->container_logs("web", {}, false, [&](int s, std::string_view d) {
    calls.emplace_back(s, std::string(d));
    return ok();
  });
  ASSERT_TRUE(r) << r.error().message;
  std::vector<std::pair<int, std::string>> want = {
      {1, "a\nb\n"}, {2, "c\n"}, {1, "d\n"}, {1, "e\nf\n"}};
  EXPECT_EQ(calls, want);
  // A bad stream byte ends the call with an error, after what came before.
  Answer bad;
  bad.chunks = {frame_stream(1, "ok\n") + std::string("\x07\0\0\0\0\0\0\1x", 9)};
  f.http->answers.push_back(bad);
  calls.clear();
  auto b = f.client->container_logs("web", {}, false, [&](int s, std::string_view d) {
    calls.emplace_back(s, std::string(d));
    return ok();
  });
  EXPECT_FALSE(b);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].second, "ok\n");
}

TEST(ContainerClient, AttachAndExecHijack) {
  Fixture f;
  http::Headers h{{"Content-Type", api::kMultiplexedStream}};
  f.answer(101, "early", h);
  auto c = f.client->attach_container("web", {}, false);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->multiplexed);
  EXPECT_TRUE(c->fd.valid());
  EXPECT_EQ(c->buffered, "early");
  EXPECT_EQ(f.last().target, "/v1.47/containers/web/attach?stream=1&stdin=0&stdout=1&stderr=1");
  f.answer(101, "", {{"Content-Type", api::kRawStream}});
  EXPECT_FALSE(f.client->attach_container("web", {}, true)->multiplexed);
  f.answer(409, R"({"message":"container web is paused"})");
  EXPECT_FALSE(f.client->attach_container("web", {}, false));

  f.answer(201, R"({"Id":"e1"})");
  ExecOptions eo;
  eo.cmd = {"sh"};
  eo.tty = true;
  auto id = f.client->exec_create("web", eo);
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, "e1");
  auto sent = Json::parse(f.last().body);
  EXPECT_EQ(sent["Cmd"][0], "sh");
  EXPECT_EQ(sent["Tty"], true);
  f.answer(101, "", {{"Content-Type", api::kRawStream}});
  auto s = f.client->exec_start("e1", false, true);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->multiplexed);
  EXPECT_EQ(Json::parse(f.last().body)["Tty"], true);
  f.answer(200, "");
  auto d = f.client->exec_start("e1", true, false);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->fd.valid());
  f.answer(200, R"({"ID":"e1","Running":false,"ExitCode":2,"ProcessConfig":{"tty":true}})");
  auto ei = f.client->exec_inspect("e1");
  ASSERT_TRUE(ei);
  EXPECT_EQ(ei->exit_code, 2);
  EXPECT_TRUE(ei->tty);
}

TEST(ContainerClient, LongPollWait) {
  Fixture f;
  f.answer(200, R"({"StatusCode":3})");
  ASSERT_TRUE(f.client->cli_begin("POST", "/containers/web/wait", {{"condition", "removed"}}));
  EXPECT_EQ(f.last().target, "/v1.47/containers/web/wait?condition=removed");
  auto body = f.client->cli_finish();
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_EQ(*body, R"({"StatusCode":3})");
  // An error answer ends at cli_begin, with the daemon's message.
  f.answer(404, R"({"message":"No such container: gone"})");
  auto e = f.client->cli_begin("POST", "/containers/gone/wait", {});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "Error response from daemon: No such container: gone");
  EXPECT_FALSE(f.client->cli_finish());
}

TEST(ContainerClient, ArchiveStatsTopCommit) {
  Fixture f;
  api::PathStat ps{"etc", 10, 0755u | (1u << 31), 0, ""};
  f.answer(200, "", {{"X-Docker-Container-Path-Stat", api::encode_path_stat_header(ps)}});
  auto st = f.client->archive_stat("web", "/etc");
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->name, "etc");
  EXPECT_EQ(st->mode, 0755u | (1u << 31));
  f.answer(404, "");
  auto missing = f.client->archive_stat("web", "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  f.answer(200, "TARBYTES", {{"X-Docker-Container-Path-Stat", api::encode_path_stat_header(ps)}});
  std::string tar;
  auto g = f.client->archive_get("web", "/etc", [&](std::string_view b) -> Result<void> {
    tar += b;
    return ok();
  });
  ASSERT_TRUE(g);
  EXPECT_EQ(tar, "TARBYTES");
  f.answer(200, "");
  std::vector<std::string> parts = {"ab", "cd", ""};
  size_t i = 0;
  ASSERT_TRUE(f.client->archive_put(
      "web", "/tmp", [&]() -> Result<std::string> { return parts[i++]; }, true, false));
  EXPECT_EQ(f.http->uploaded, "abcd");
  EXPECT_EQ(f.last().target, "/v1.47/containers/web/archive?path=%2Ftmp&noOverwriteDirNonDir=1");

  f.answer(200, "{\"read\":\"x\"}\n{\"read\":\"y\"}\n");
  int samples = 0;
  ASSERT_TRUE(f.client->stats("web", true, false, [&](const Json&) -> Result<void> {
    ++samples;
    return ok();
  }));
  EXPECT_EQ(samples, 2);
  f.answer(200, R"({"Titles":["PID","CMD"],"Processes":[["1","sh"]]})");
  auto t = f.client->top("web", "");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->processes[0][1], "sh");
  f.answer(200, "null");
  EXPECT_TRUE(f.client->changes("web")->empty());
  f.answer(201, R"({"Id":"sha256:abc"})");
  CommitOptions co;
  co.container = "web";
  co.repository = "me/img";
  co.changes = {"CMD x"};
  EXPECT_EQ(*f.client->commit(co), "sha256:abc");
  EXPECT_EQ(f.last().target, "/v1.47/commit?container=web&pause=1&repo=me%2Fimg&changes=CMD%20x");
}

}  // namespace
}  // namespace berth::api::client
