#include "api/server/router.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <chrono>
#include <filesystem>

#include "api/server/fake_http_test.h"
#include "api/types/auth.h"
#include "engine/fake_image_service.h"

namespace berth::api::server {
namespace {

// The container route tests' fakes (fake_http_test.h); a request body is
// read in 5-byte pieces.
using FakeRequest = testing::TestRequest;
using FakeResponse = testing::TestResponse;

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-router-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto fake = std::make_unique<engine::testing::FakeImageService>();
    fake_ = fake.get();
    engine::ImageSummary s;
    s.id = sha256_of("busybox");
    s.repo_tags = {"busybox:latest"};
    s.size = 4096;
    s.created = 1700000000;
    fake_->images.push_back(
        {s, Json{{"created", "2023-11-14T22:13:20Z"}, {"config", {{"Cmd", {"sh"}}}}}});
    engine::EngineOptions o;
    o.data_root = dir_;
    engine_ = std::move(engine::Engine::create(o, std::move(fake)).value());
    router_ = std::make_unique<Router>(*engine_, RouterOptions{});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  FakeResponse call(const std::string& method, const std::string& target, std::string body = "",
                    http::Headers h = {}) {
    FakeRequest req(method, target, std::move(body));
    req.hdrs = std::move(h);
    FakeResponse res;
    router_->handle(req, res);
    EXPECT_TRUE(res.done) << target;
    return res;
  }
  std::string dir_;
  engine::testing::FakeImageService* fake_ = nullptr;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, PingHeadersAndPrefixes) {
  for (const char* t : {"/_ping", "/v1.24/_ping", "/v1.47/_ping"}) {
    auto r = call("GET", t);
    EXPECT_EQ(r.status, 200) << t;
    EXPECT_EQ(r.body, "OK");
    EXPECT_EQ(r.header("Api-Version"), "1.47");
    EXPECT_EQ(r.header("Server"), "Berth/0.1.0 (linux)");
    EXPECT_EQ(r.header("Ostype"), "linux");
    EXPECT_EQ(r.header("Docker-Experimental"), "false");
    EXPECT_EQ(r.header("Pragma"), "no-cache");
    EXPECT_NE(r.header("Cache-Control").find("no-cache"), std::string::npos);
  }
  auto head = call("HEAD", "/_ping");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
}

TEST_F(RouterTest, VersionNegotiation) {
  auto high = call("GET", "/v1.99/version");
  EXPECT_EQ(high.status, 400);
  EXPECT_EQ(high.json()["message"],
            "client version 1.99 is too new. Maximum supported API version is 1.47");
  auto low = call("GET", "/v1.12/version");
  EXPECT_EQ(low.status, 400);
  EXPECT_NE(low.json()["message"].get<std::string>().find("client version 1.12 is too old"),
            std::string::npos);
  auto v = call("GET", "/v1.41/version");
  EXPECT_EQ(v.status, 200);
  EXPECT_EQ(v.json()["ApiVersion"], "1.47");
  EXPECT_EQ(v.json()["MinAPIVersion"], "1.24");
  EXPECT_EQ(call("GET", "/nope").status, 404);
  EXPECT_EQ(call("GET", "/nope").json()["message"], "page not found");
  EXPECT_EQ(call("POST", "/version").status, 404);
}

TEST_F(RouterTest, InfoAndDf) {
  auto i = call("GET", "/v1.47/info");
  ASSERT_EQ(i.status, 200);
  EXPECT_EQ(i.json()["Images"], 1);
  EXPECT_EQ(i.json()["Driver"], "overlayfs");
  EXPECT_EQ(i.json()["DockerRootDir"], dir_);
  auto df = call("GET", "/system/df");
  ASSERT_EQ(df.status, 200);
  EXPECT_EQ(df.json()["LayersSize"], 1234);
}

TEST_F(RouterTest, BuildPruneFreesNothingAndChecksItsFilters) {
  // docker's `system prune` ends with this request: without it the whole command failed.
  auto p = call("POST", R"(/v1.47/build/prune?filters={"until":{"24h":true}})");
  ASSERT_EQ(p.status, 200);
  EXPECT_EQ(p.json(), Json({{"CachesDeleted", nullptr}, {"SpaceReclaimed", 0}}));
  EXPECT_EQ(call("POST", R"(/build/prune?filters={"bogus":{"x":true}})").status, 400);
  EXPECT_EQ(call("POST", "/build/prune?filters=notjson").status, 400);
  EXPECT_EQ(call("GET", "/build/prune").status, 404);
}

TEST_F(RouterTest, NoPluginsAndNoSwarm) {
  auto p = call("GET", "/v1.47/plugins");
  ASSERT_EQ(p.status, 200);
  EXPECT_EQ(p.json(), Json::array());
  // Tools probe these to learn there is no swarm: dockerd's 503 and words.
  for (const char* path : {"/swarm", "/nodes", "/services", "/tasks", "/secrets", "/configs"}) {
    auto r = call("GET", std::string("/v1.47") + path);
    EXPECT_EQ(r.status, 503) << path;
    EXPECT_NE(r.json()["message"].get<std::string>().find("not a swarm manager"), std::string::npos)
        << path;
  }
}

TEST_F(RouterTest, ImageListAndQueryErrors) {
  auto r = call("GET", "/v1.47/images/json?all=1&filters={}");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json()[0]["RepoTags"][0], "busybox:latest");
  EXPECT_TRUE(fake_->last_list.all);
  auto old = call("GET", "/v1.41/images/json");
  EXPECT_EQ(old.json()[0]["VirtualSize"], 4096);
  auto bad = call("GET", "/images/json?all=maybe");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.json()["message"].get<std::string>().find("all"), std::string::npos);
  FakeRequest req("GET", "/images/json");
  auto badf = call("GET", "/images/json?filters={bad");
  EXPECT_EQ(badf.status, 400);
  EXPECT_NE(badf.json()["message"].get<std::string>().find("filters"), std::string::npos);
  auto unknown = call("GET", R"(/images/json?filters={"colour":{"x":true}})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.json()["message"], "invalid filter 'colour'");
  auto dangling = call("GET", R"(/images/json?filters={"dangling":["true"],"reference":["bu*"]})");
  EXPECT_EQ(dangling.status, 200);
  EXPECT_EQ(fake_->last_list.dangling, true);
  EXPECT_EQ(fake_->last_list.references, std::vector<std::string>{"bu*"});
  auto lim = call("GET", "/images/search?term=x&limit=abc");
  EXPECT_EQ(lim.status, 400);
  EXPECT_NE(lim.json()["message"].get<std::string>().find("limit"), std::string::npos);
}

TEST_F(RouterTest, InspectHistoryNamesWithSlashes) {
  auto r = call("GET", "/v1.47/images/busybox:latest/json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["Config"]["Cmd"][0], "sh");
  EXPECT_EQ(r.json()["Created"], "2023-11-14T22:13:20Z");
  auto missing = call("GET", "/images/localhost:5000/a/b:1/json");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json()["message"], "No such image: localhost:5000/a/b:1");
  auto h = call("GET", "/images/busybox:latest/history");
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(h.json().size(), 2u);
  auto t = call("POST", "/images/busybox/tag?repo=localhost:5000/x/y&tag=2");
  EXPECT_EQ(t.status, 201);
  EXPECT_EQ(fake_->calls.back(), "tag busybox localhost:5000/x/y 2");
  auto d = call("DELETE", "/v1.47/images/my/repo:1?force=1");
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(fake_->calls.back(), "remove my/repo:1 force=true noprune=false");
  EXPECT_EQ(d.json()[0]["Untagged"], "my/repo:1");
}

TEST_F(RouterTest, ErrcToStatus) {
  EXPECT_EQ(status_for_errc(Errc::InvalidArgument), 400);
  EXPECT_EQ(status_for_errc(Errc::PermissionDenied), 403);
  EXPECT_EQ(status_for_errc(Errc::NotFound), 404);
  EXPECT_EQ(status_for_errc(Errc::AlreadyExists), 409);
  EXPECT_EQ(status_for_errc(Errc::Conflict), 409);
  EXPECT_EQ(status_for_errc(Errc::NotImplemented), 501);
  EXPECT_EQ(status_for_errc(Errc::Unavailable), 503);
  EXPECT_EQ(status_for_errc(Errc::Io), 500);
  fake_->fail_next = make_error(Errc::Conflict, "conflict: unable to remove");
  auto r = call("DELETE", "/images/busybox");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.json()["message"], "conflict: unable to remove");
  EXPECT_EQ(call("POST", "/build").status, 501);
}

TEST_F(RouterTest, PullStreamsProgressAndErrors) {
  // X-Registry-Auth: base64url of {"username":"u","password":"p"}
  http::Headers h;
  h.emplace("X-Registry-Auth", "eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InAifQ");
  auto r = call("POST", "/v1.47/images/create?fromImage=busybox&tag=1.36", "", h);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.streamed);
  EXPECT_EQ(fake_->last_pull.reference, "busybox:1.36");
  EXPECT_EQ(fake_->last_pull.credentials.username, "u");
  EXPECT_EQ(fake_->last_pull.credentials.password, "p");
  EXPECT_NE(r.body.find("\"progressDetail\":{\"current\":10,\"total\":100}"), std::string::npos);
  // Error before any output: a plain HTTP error.
  fake_->fail_next = make_error(Errc::NotFound, "manifest for nosuch:latest not found");
  auto nf = call("POST", "/images/create?fromImage=nosuch&tag=latest");
  EXPECT_EQ(nf.status, 404);
  EXPECT_FALSE(nf.streamed);
  // Error after output: an errorDetail line in a 200 stream.
  fake_->fail_after_progress = make_error(Errc::Io, "disk full");
  auto mid = call("POST", "/images/create?fromImage=busybox&tag=latest");
  EXPECT_EQ(mid.status, 200);
  EXPECT_NE(mid.body.find("{\"error\":\"disk full\",\"errorDetail\":{\"message\":\"disk full\"}}"),
            std::string::npos)
      << mid.body;
  auto digest = call("POST", "/images/create?fromImage=busybox&tag=sha256:" + std::string(64, 'a'));
  EXPECT_EQ(fake_->last_pull.reference, "busybox@sha256:" + std::string(64, 'a'));
  auto badauth = call("POST", "/images/create?fromImage=busybox&tag=1", "",
                      http::Headers{{"X-Registry-Auth", "!!!"}});
  EXPECT_EQ(badauth.status, 400);
  auto badplat = call("POST", "/images/create?fromImage=busybox&tag=1&platform=a/b/c/d/e");
  EXPECT_EQ(badplat.status, 400);
}

TEST_F(RouterTest, ImportLoadSavePushSearchPruneAuth) {
  auto imp = call("POST", "/images/create?fromSrc=-&repo=mine&tag=v1&changes=CMD%20sh&message=m",
                  "tarball-bytes");
  EXPECT_EQ(imp.status, 200);
  EXPECT_EQ(fake_->last_body, "tarball-bytes");
  EXPECT_EQ(fake_->last_import.repository, "mine");
  EXPECT_EQ(fake_->last_import.changes.size(), 1u);
  auto load = call("POST", "/images/load?quiet=1", "archive");
  EXPECT_EQ(load.status, 200);
  EXPECT_NE(load.body.find(R"({"stream":"Loaded image: busybox:latest\n"})"), std::string::npos);
  EXPECT_EQ(load.body.find("Loading layer"), std::string::npos);
  auto save = call("GET", "/images/get?names=a&names=b/c");
  EXPECT_EQ(save.body, "TAR:a,b/c,");
  EXPECT_EQ(save.header("Content-Type"), "application/x-tar");
  auto one = call("GET", "/images/x/y:1/get");
  EXPECT_EQ(one.body, "TAR:x/y:1,");
  auto push = call("POST", "/images/localhost:5000/x/push?tag=1");
  EXPECT_EQ(fake_->last_push.reference, "localhost:5000/x:1");
  EXPECT_NE(push.body.find("The push refers to repository"), std::string::npos);
  auto s = call("GET", R"(/images/search?term=busybox&filters={"is-official":{"true":true}})");
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.json().size(), 1u);
  EXPECT_EQ(s.json()[0]["name"], "busybox");
  auto stars = call("GET", R"(/images/search?term=busybox&filters={"stars":{"10":true}})");
  EXPECT_EQ(stars.json().size(), 1u);
  auto tags = call("GET", "/images/search?term=busybox&list-tags=1");
  EXPECT_EQ(tags.json(), Json({"1.36", "latest"}));
  fake_->distribution.descriptor.media_type = "application/vnd.oci.image.index.v1+json";
  fake_->distribution.descriptor.digest = sha256_of("index");
  fake_->distribution.descriptor.size = 5;
  fake_->distribution.platforms = {{"linux", "arm64", "v8", "", {}},
                                   {"linux", "amd64", "", "", {}}};
  auto dist = call("GET", "/v1.47/distribution/localhost:5000/a/b:1/json");
  ASSERT_EQ(dist.status, 200) << dist.body;
  EXPECT_EQ(fake_->calls.back(), "distribution localhost:5000/a/b:1");
  EXPECT_EQ(dist.json()["Descriptor"],
            Json({{"mediaType", "application/vnd.oci.image.index.v1+json"},
                  {"digest", sha256_of("index").str()},
                  {"size", 5}}));
  EXPECT_EQ(dist.json()["Platforms"],
            Json::parse(R"([{"architecture":"arm64","os":"linux","variant":"v8"},
                            {"architecture":"amd64","os":"linux"}])"));
  fake_->fail_next = make_error(Errc::NotFound, "manifest unknown");
  EXPECT_EQ(call("GET", "/distribution/x/json").status, 404);
  EXPECT_EQ(call("GET", "/distribution/json").status, 404);  // no name: no route
  auto p = call("POST", R"(/images/prune?filters={"dangling":{"false":true}})");
  EXPECT_EQ(p.json()["SpaceReclaimed"], 42);
  EXPECT_EQ(fake_->calls.back(), "prune all=true labels=0 until=-1");
  auto a = call("POST", "/auth", R"({"username":"u","password":"p","serveraddress":"r:5000"})");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.json()["Status"], "Login Succeeded");
  EXPECT_EQ(fake_->calls.back(), "login r:5000");
  fake_->fail_next = make_error(Errc::PermissionDenied, "unauthorized");
  EXPECT_EQ(call("POST", "/auth", R"({"username":"u"})").status, 401);
}

TEST_F(RouterTest, EventsReplayUntil) {
  fake_->emit({"tag", "sha256:1", {{"name", "a:1"}}});
  fake_->emit({"delete", "sha256:2", {}});
  // Not time(nullptr): glibc reads the coarse clock, which can be behind the
  // events' precise time stamps, so "until" fell before them now and then.
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  auto r = call("GET", R"(/events?since=0&until=)" + std::to_string(now_s + 1) +
                           R"(&filters={"event":{"tag":true}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"Action\":\"tag\""), std::string::npos);
  EXPECT_EQ(r.body.find("\"delete\""), std::string::npos);
  EXPECT_EQ(call("GET", "/events?since=garbage").status, 400);
  EXPECT_EQ(call("GET", R"(/events?filters={"colour":["x"]})").status, 400);
}

}  // namespace
}  // namespace berth::api::server
