#include "api/client/engine_client.h"

#include <gtest/gtest.h>

#include <deque>

#include "api/client/auth.h"

namespace berth::api::client {
namespace {

// A scripted http::Client: records requests, answers from a queue; a body
// answered with `chunks` is delivered through on_chunk like a stream.
struct Scripted {
  int status = 200;
  http::Headers headers;
  std::string body;
  std::vector<std::string> chunks;
};

class FakeHttp : public http::Client {
 public:
  std::deque<Scripted> answers;
  std::vector<http::ClientRequest> seen;
  std::vector<std::string> uploaded;

  Result<http::ClientResponse> request(http::ClientRequest req) override {
    if (req.body_source) {
      std::string all;
      while (true) {
        auto c = req.body_source();
        if (!c) return c.error();
        if (c->empty()) break;
        all += *c;
      }
      uploaded.push_back(all);
    }
    seen.push_back(req);
    if (answers.empty())
      return make_error(Errc::Unavailable, "Cannot connect to the berth daemon at unix:///x.sock");
    Scripted a = answers.front();
    answers.pop_front();
    http::ClientResponse r;
    r.status = a.status;
    r.headers = a.headers;
    if (req.on_chunk && !a.chunks.empty()) {
      for (auto& c : a.chunks) BERTH_TRY(req.on_chunk(c));
    } else if (req.on_chunk && !a.body.empty()) {
      BERTH_TRY(req.on_chunk(a.body));
    } else {
      r.body = a.body;
    }
    return r;
  }
  Result<Upgraded> upgrade(http::ClientRequest) override {
    return make_error(Errc::NotImplemented, "no upgrade");
  }
  Result<http::ClientResponse> begin(http::ClientRequest) override {
    return make_error(Errc::NotImplemented, "no long poll");
  }
  Result<http::ClientResponse> finish() override {
    return make_error(Errc::NotImplemented, "no long poll");
  }
};

Scripted ping(const std::string& v) {
  Scripted s;
  s.body = "OK";
  if (!v.empty()) s.headers.emplace("Api-Version", v);
  return s;
}

Scripted ok_body(std::string body) {
  Scripted s;
  s.body = std::move(body);
  return s;
}

struct Fixture {
  FakeHttp* http;
  std::unique_ptr<EngineClient> client;
  explicit Fixture(std::string version = "") {
    unsetenv("DOCKER_API_VERSION");
    auto h = std::make_unique<FakeHttp>();
    http = h.get();
    Options o;
    o.host = "unix:///x.sock";
    o.api_version = std::move(version);
    client = std::make_unique<EngineClient>(std::move(h), o);
  }
};

Scripted too_new(const std::string& server_max) {
  Scripted r;
  r.status = 400;
  r.body = R"({"message":"client version 1.47 is too new. Maximum supported API version is )" +
           server_max + R"("})";
  return r;
}

TEST(EngineClient, FirstCallGoesOutAs147WithoutPing) {
  Fixture f;
  f.http->answers = {ok_body("[]"), ok_body("[]")};
  ASSERT_TRUE(f.client->list_images({}));
  ASSERT_TRUE(f.client->list_images({}));
  ASSERT_EQ(f.http->seen.size(), 2u);
  EXPECT_EQ(f.http->seen[0].target, "/v1.47/images/json");
  EXPECT_EQ(f.http->seen[1].target, "/v1.47/images/json");
  EXPECT_FALSE(f.client->downgraded());
}

TEST(EngineClient, NegotiatesDownWhenTheDaemonRefuses147) {
  Fixture f;
  f.http->answers = {too_new("1.45"), ping("1.45"), ok_body("[]"), ok_body("[]")};
  ASSERT_TRUE(f.client->list_images({}));
  ASSERT_EQ(f.http->seen.size(), 3u);
  EXPECT_EQ(f.http->seen[0].target, "/v1.47/images/json");
  EXPECT_EQ(f.http->seen[1].target, "/_ping");
  EXPECT_EQ(f.http->seen[2].target, "/v1.45/images/json");
  EXPECT_TRUE(f.client->downgraded());
  ASSERT_TRUE(f.client->list_images({}));
  EXPECT_EQ(f.http->seen[3].target, "/v1.45/images/json") << "negotiated once";
  // Any other 400 is the answer, not a reason to negotiate.
  Fixture g;
  Scripted bad;
  bad.status = 400;
  bad.body = R"({"message":"invalid filter"})";
  g.http->answers = {bad};
  auto r = g.client->list_images({});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "Error response from daemon: invalid filter");
  EXPECT_EQ(g.http->seen.size(), 1u);
}

TEST(EngineClient, NegotiationCapsAt147AndDefaultsTo124) {
  Fixture f;
  f.http->answers = {too_new("1.50"), ping("1.50"), ok_body("[]")};
  ASSERT_TRUE(f.client->list_images({}));
  EXPECT_EQ(f.http->seen[2].target, "/v1.47/images/json");
  EXPECT_FALSE(f.client->downgraded());
  Fixture g;
  g.http->answers = {too_new("1.24"), ping(""), ok_body("[]")};
  ASSERT_TRUE(g.client->list_images({}));
  EXPECT_EQ(g.http->seen[2].target, "/v1.24/images/json");
}

TEST(EngineClient, ExplicitVersionSkipsPing) {
  Fixture f("1.41");
  f.http->answers = {ok_body("[]")};
  ListImagesOptions o;
  o.all = true;
  o.filters_json = R"({"dangling":{"true":true}})";
  ASSERT_TRUE(f.client->list_images(o));
  EXPECT_EQ(f.http->seen[0].target,
            "/v1.41/images/json?all=1&filters=%7B%22dangling%22%3A%7B%22true%22%3Atrue%7D%7D");
}

TEST(EngineClient, DaemonErrorsCarryDockerWording) {
  Fixture f("1.47");
  Scripted nf;
  nf.status = 404;
  nf.body = R"({"message":"No such image: nope:latest"})";
  f.http->answers = {nf};
  auto r = f.client->history("nope");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_EQ(r.error().message, "Error response from daemon: No such image: nope:latest");
  Scripted conflict;
  conflict.status = 409;
  conflict.body = "plain text\n";
  f.http->answers = {conflict};
  auto d = f.client->remove_image("x", false, false);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, Errc::Conflict);
  EXPECT_EQ(d.error().message, "Error response from daemon: plain text");
}

TEST(EngineClient, TransportErrorPassesThrough) {
  Fixture f;
  auto r = f.client->list_images({});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Unavailable);
  EXPECT_EQ(r.error().message, "Cannot connect to the berth daemon at unix:///x.sock");
}

TEST(EngineClient, DecodesImageListFromDockerJson) {
  Fixture f("1.47");
  f.http->answers = {ok_body(R"([{"Id":"sha256:aa","ParentId":"","RepoTags":["busybox:latest"],
    "RepoDigests":["busybox@sha256:bb"],"Created":1700000000,"Size":4261550,"SharedSize":-1,
    "Labels":null,"Containers":-1,"Extra":{"x":1}},
    {"Id":"sha256:cc","RepoTags":["<none>:<none>"],"RepoDigests":["<none>@<none>"],"Created":1,"Size":2}])")};
  auto r = f.client->list_images({});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].id, "sha256:aa");
  EXPECT_EQ((*r)[0].repo_tags, std::vector<std::string>{"busybox:latest"});
  EXPECT_EQ((*r)[0].size, 4261550);
  EXPECT_EQ((*r)[0].containers, -1);
  EXPECT_TRUE((*r)[1].repo_tags.empty());
  EXPECT_TRUE((*r)[1].repo_digests.empty());
  f.http->answers = {ok_body(R"([{"Id": 5}])")};
  auto bad = f.client->list_images({});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "image list entry: field Id is not a string");
}

TEST(EngineClient, PullStreamsMessagesSplitAcrossChunks) {
  Fixture f("1.47");
  Scripted s;
  s.chunks = {
      "{\"status\":\"Pulling from library/busybox\",\"id\":\"latest\"}\r\n{\"status\":\"Down",
      "loading\",\"progressDetail\":{\"current\":10,\"total\":100},\"id\":\"abc\"}\n",
      "{\"status\":\"Digest: sha256:00\"}"};
  f.http->answers = {s};
  std::vector<JsonMessage> got;
  PullOptions o;
  o.from_image = "docker.io/library/busybox";
  o.tag = "latest";
  o.registry_auth = "xyz";
  auto r = f.client->pull(o, [&](const JsonMessage& m) {
    got.push_back(m);
    return ok();
  });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].id, "latest");
  EXPECT_FALSE(got[0].has_progress);
  EXPECT_TRUE(got[1].has_progress);
  EXPECT_EQ(got[1].current, 10);
  EXPECT_EQ(got[1].total, 100);
  EXPECT_EQ(got[2].status, "Digest: sha256:00");
  const auto& req = f.http->seen[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v1.47/images/create?fromImage=docker.io%2Flibrary%2Fbusybox&tag=latest");
  EXPECT_EQ(req.headers.find("X-Registry-Auth")->second, "xyz");
}

TEST(EngineClient, StreamErrorMessageFailsTheCall) {
  Fixture f("1.47");
  Scripted s;
  s.body =
      "{\"status\":\"Pulling\"}\n{\"errorDetail\":{\"message\":\"manifest unknown\"},\"error\":"
      "\"manifest unknown\"}\n";
  f.http->answers = {s};
  int n = 0;
  auto r = f.client->pull({"x", "latest", "", ""}, [&](const JsonMessage&) {
    ++n;
    return ok();
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "manifest unknown");
  EXPECT_EQ(n, 2);
  // Anonymous pulls still send the header ({} in base64url), as docker does.
  EXPECT_EQ(f.http->seen[0].headers.find("X-Registry-Auth")->second, "e30=");
}

TEST(EngineClient, StreamedErrorAnswerIsADaemonError) {
  Fixture f("1.47");
  Scripted s;
  s.status = 404;
  s.body = R"({"message":"pull access denied for nope"})";
  f.http->answers = {s};
  int n = 0;
  auto r = f.client->pull({"nope", "latest", "", ""}, [&](const JsonMessage&) {
    ++n;
    return ok();
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "Error response from daemon: pull access denied for nope");
  EXPECT_EQ(n, 0);
}

TEST(EngineClient, LoadUploadsTheSource) {
  Fixture f("1.47");
  f.http->answers = {ok_body("{\"stream\":\"Loaded image: busybox:latest\\n\"}\n")};
  std::vector<std::string> parts = {"abc", "def", ""};
  size_t i = 0;
  std::string stream;
  auto r = f.client->load([&]() -> Result<std::string> { return parts[i++]; }, true,
                          [&](const JsonMessage& m) {
                            stream += m.stream;
                            return ok();
                          });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(f.http->uploaded[0], "abcdef");
  EXPECT_EQ(f.http->seen[0].target, "/v1.47/images/load?quiet=1");
  EXPECT_EQ(stream, "Loaded image: busybox:latest\n");
}

TEST(EngineClient, ImportSendsDockerQuery) {
  Fixture f("1.47");
  f.http->answers = {ok_body("{\"status\":\"sha256:ab\"}\n")};
  ImportOptions o;
  o.source = []() -> Result<std::string> { return std::string(); };
  o.repo = "mine:1";
  o.message = "hi there";
  o.changes = {"CMD [\"sh\"]", "ENV A=b"};
  ASSERT_TRUE(f.client->import(o, [](const JsonMessage&) { return ok(); }));
  EXPECT_EQ(f.http->seen[0].target,
            "/v1.47/images/create?fromSrc=-&repo=mine%3A1&message=hi%20there&changes=CMD%20%5B%"
            "22sh%22%5D&changes=ENV%20A%3Db");
}

TEST(EngineClient, TagDeleteSearchTagsAuthDf) {
  Fixture f("1.47");
  f.http->answers = {
      ok_body(""),
      ok_body(R"([{"Untagged":"busybox:latest"},{"Deleted":"sha256:aa"}])"),
      ok_body(
          R"([{"name":"busybox","description":"d","star_count":3,"is_official":true,"is_automated":false}])"),
      ok_body(R"(["1.0","latest"])"),
      ok_body(R"({"Status":"Login Succeeded","IdentityToken":""})"),
      ok_body(
          R"({"LayersSize":10,"Images":[{"Id":"sha256:aa","Size":10,"Containers":0}],"Containers":[],"Volumes":null})")};
  ASSERT_TRUE(f.client->tag("busybox", "docker.io/library/mine", "v1"));
  EXPECT_EQ(f.http->seen[0].target,
            "/v1.47/images/busybox/tag?repo=docker.io%2Flibrary%2Fmine&tag=v1");
  auto del = f.client->remove_image("busybox", true, true);
  ASSERT_TRUE(del);
  EXPECT_EQ(f.http->seen[1].method, "DELETE");
  EXPECT_EQ(f.http->seen[1].target, "/v1.47/images/busybox?force=1&noprune=1");
  EXPECT_EQ((*del)[0].untagged, "busybox:latest");
  EXPECT_EQ((*del)[1].deleted, "sha256:aa");
  auto s = f.client->search("busybox", 5, "", "");
  ASSERT_TRUE(s);
  EXPECT_EQ(f.http->seen[2].target, "/v1.47/images/search?term=busybox&limit=5");
  EXPECT_TRUE((*s)[0].is_official);
  EXPECT_EQ((*s)[0].star_count, 3);
  auto tags = f.client->list_tags("localhost:5000/app", "");
  ASSERT_TRUE(tags);
  EXPECT_EQ(f.http->seen[3].target, "/v1.47/images/search?term=localhost%3A5000%2Fapp&list-tags=1");
  EXPECT_EQ(*tags, (std::vector<std::string>{"1.0", "latest"}));
  auto a = f.client->login("u", "p", "localhost:5000");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, "Login Succeeded");
  EXPECT_EQ(f.http->seen[4].body,
            R"({"password":"p","serveraddress":"localhost:5000","username":"u"})");
  auto df = f.client->disk_usage();
  ASSERT_TRUE(df) << df.error().message;
  EXPECT_EQ(df->layers_size, 10);
  EXPECT_EQ(df->images[0].containers, 0);
}

TEST(Decode, TagListShapes) {
  EXPECT_EQ(*decode_tag_list(R"({"name":"x","tags":["a","b"]})"),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*decode_tag_list(R"([{"Name":"a"},{"tag":"b"}])"),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(decode_tag_list("[1]"));
}

TEST(Decode, EventsOldAndNewSpelling) {
  Event e = decode_event(Json::parse(
      R"({"Type":"image","Action":"pull","Actor":{"ID":"busybox:latest","Attributes":{"name":"busybox"}},"scope":"local","time":1700000000,"timeNano":1700000000000000001})"));
  EXPECT_EQ(e.type, "image");
  EXPECT_EQ(e.action, "pull");
  EXPECT_EQ(e.actor_id, "busybox:latest");
  EXPECT_EQ(e.attributes.at("name"), "busybox");
  EXPECT_EQ(e.time_nano, 1700000000000000001);
  Event old = decode_event(Json::parse(R"({"status":"tag","id":"sha256:aa","time":5})"));
  EXPECT_EQ(old.action, "tag");
  EXPECT_EQ(old.actor_id, "sha256:aa");
}

TEST(Auth, Base64AndRegistryHeader) {
  EXPECT_EQ(base64_encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_EQ(*base64_decode("dXNlcjpwYXNz"), "user:pass");
  EXPECT_EQ(*base64_decode("YQ"), "a");
  EXPECT_EQ(*base64_decode("YWI="), "ab");
  EXPECT_FALSE(base64_decode("!!!"));
  EXPECT_EQ(encode_registry_auth({}), "e30=");
  RegistryAuth a{"u", "p?>", "localhost:5000", ""};
  std::string h = encode_registry_auth(a);
  EXPECT_EQ(h.find('+'), std::string::npos);
  EXPECT_EQ(h.find('/'), std::string::npos);
  EXPECT_EQ(*base64_decode(h),
            R"({"password":"p?>","serveraddress":"localhost:5000","username":"u"})");
}

TEST(Host, ResolutionOrder) {
  unsetenv("DOCKER_HOST");
  EXPECT_EQ(resolve_host(""), "unix:///run/berth/berth.sock");
  setenv("DOCKER_HOST", "unix:///var/run/docker.sock", 1);
  EXPECT_EQ(resolve_host(""), "unix:///var/run/docker.sock");
  EXPECT_EQ(resolve_host("tcp://127.0.0.1:2375"), "tcp://127.0.0.1:2375");
  unsetenv("DOCKER_HOST");
  EXPECT_LT(compare_api_versions("1.9", "1.47"), 0);
  EXPECT_EQ(compare_api_versions("1.47", "1.47"), 0);
}

}  // namespace
}  // namespace berth::api::client
