// Client against testdata/fake_registry.py: bearer token auth, digest lies,
// Range ignored, mid-transfer cuts, 500 then success, redirects without
// Authorization, tag pagination, Hub search, cancellation.
#include <gtest/gtest.h>

#include "base/json.h"
#include "registry/client.h"
#include "registry/test_support.h"

namespace berth::registry {
namespace {

using testing::FakeRegistry;

#define START_OR_SKIP(server, ...)                                    \
  do {                                                                \
    std::string why_ = (server).start(__VA_ARGS__);                   \
    if (why_.rfind("skip: ", 0) == 0) GTEST_SKIP() << why_.substr(6); \
    ASSERT_EQ(why_, "");                                              \
  } while (0)

// The fake's blob: bytes (i*7 + i/256) % 256 for i < 1 MiB.
std::string fake_blob() {
  std::string s(1 << 20, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>((i * 7 + i / 256) % 256);
  return s;
}

std::unique_ptr<Client> make_client(Options o = {}) {
  o.backoff_base = std::chrono::milliseconds(10);
  auto c = Client::create(std::move(o));
  EXPECT_TRUE(c);
  return std::move(*c);
}

oci::Reference repo(const FakeRegistry& f, const std::string& rest = ":latest") {
  return *oci::Reference::parse(f.domain() + "/test/repo" + rest);
}

Json stats(const FakeRegistry& f) {
  detail::Request req;
  req.url = f.url() + "/_stats";
  auto r = detail::perform(req);
  EXPECT_TRUE(r);
  return r ? Json::parse(r->body) : Json::object();
}

struct Fetched {
  std::string data;
  BlobFetchResult res;
};

Result<Fetched> fetch(Client& c, const oci::Reference& r, BlobFetch f = {},
                      const Credentials& cred = {}) {
  Fetched out;
  auto d = Digest::parse("sha256:" + sha256_of(fake_blob()).hex());  // computed, not hard-coded
  auto res = c.fetch_blob(r, *d, cred, f, [&](std::string_view s) -> Result<void> {
    out.data.append(s);
    return ok();
  });
  if (!res) return std::move(res).error();
  out.res = *res;
  return out;
}

TEST(FakeRegistry, BearerTokenAnonymousAndCached) {
  FakeRegistry f;
  START_OR_SKIP(f, {"--bearer", "x"});
  auto c = make_client();
  auto m = c->get_manifest(repo(f), {});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->media_type, "application/vnd.oci.image.manifest.v1+json");
  auto again = c->get_manifest(repo(f), {});
  ASSERT_TRUE(again) << again.error().message;
  auto blob = fetch(*c, repo(f));
  ASSERT_TRUE(blob) << blob.error().message;
  Json s = stats(f);
  EXPECT_EQ(s["token_requests"], 1);  // cached for the same realm/service/scope
  EXPECT_EQ(s["token_auth"][0], "");  // anonymous
  EXPECT_EQ(s["token_scopes"][0], Json::array({"repository:test/repo:pull"}));
}

TEST(FakeRegistry, BearerTokenWithCredentialsAndAccessToken) {
  FakeRegistry f;
  START_OR_SKIP(f, {"--bearer", "y", "--user", "bob:pw", "--access-token"});
  auto c = make_client();
  auto m = c->get_manifest(repo(f), Credentials{"bob", "pw", ""});
  ASSERT_TRUE(m) << m.error().message;
  Json s = stats(f);
  EXPECT_EQ(s["token_auth"][0], "Basic Ym9iOnB3");
  auto login = c->login(f.domain(), Credentials{"bob", "pw", ""});
  ASSERT_TRUE(login) << login.error().message;
  auto bad = make_client()->login(f.domain(), Credentials{"bob", "nope", ""});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::PermissionDenied);
  EXPECT_EQ(bad.error().message, "unauthorized: incorrect username or password");
  auto bad_pull = make_client()->get_manifest(repo(f), Credentials{"bob", "nope", ""});
  ASSERT_FALSE(bad_pull);
  EXPECT_EQ(bad_pull.error().code, Errc::PermissionDenied);
}

TEST(FakeRegistry, LoginReturnsIdentityTokenUsableForPulls) {
  FakeRegistry f;
  START_OR_SKIP(f, {"--bearer", "w", "--user", "bob:pw"});
  auto login = make_client()->login(f.domain(), Credentials{"bob", "pw", ""});
  ASSERT_TRUE(login) << login.error().message;
  EXPECT_EQ(*login, "rt-1");
  // docker stores the identity token instead of the password; it is
  // exchanged with the OAuth2 refresh-token grant.
  auto m = make_client()->get_manifest(repo(f), Credentials{"bob", "", *login});
  ASSERT_TRUE(m) << m.error().message;
  Json s = stats(f);
  EXPECT_EQ(s["token_auth"].back(), "refresh:rt-1");
  EXPECT_EQ(s["token_scopes"].back(), Json::array({"repository:test/repo:pull"}));
  auto bad = make_client()->get_manifest(repo(f), Credentials{"bob", "", "rt-wrong"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::PermissionDenied);
}

TEST(FakeRegistry, DigestMismatchIsRefused) {
  FakeRegistry f;
  START_OR_SKIP(f, {"--lie"});
  auto c = make_client();
  auto by_tag = c->get_manifest(repo(f), {});
  ASSERT_FALSE(by_tag);
  EXPECT_NE(by_tag.error().message.find("manifest digest mismatch"), std::string::npos)
      << by_tag.error().message;
  auto want = sha256_of("something else");
  auto by_digest = c->get_manifest_by_digest(repo(f), want, {});
  ASSERT_FALSE(by_digest);
  EXPECT_NE(by_digest.error().message.find("expected " + want.str()), std::string::npos)
      << by_digest.error().message;
}

TEST(FakeRegistry, ResumeWithRangeAndRestartWhenIgnored) {
  std::string blob = fake_blob();
  {
    FakeRegistry f;
    START_OR_SKIP(f);
    BlobFetch bf;
    bf.offset = 1000;
    int64_t last = 0, total = 0;
    bf.progress = [&](int64_t cur, int64_t tot) {
      last = cur;
      total = tot;
    };
    auto got = fetch(*make_client(), repo(f), bf);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_FALSE(got->res.restarted);
    EXPECT_EQ(got->data, blob.substr(1000));
    EXPECT_EQ(got->res.total, static_cast<int64_t>(blob.size()));
    EXPECT_EQ(last, static_cast<int64_t>(blob.size()));
    EXPECT_EQ(total, static_cast<int64_t>(blob.size()));
    EXPECT_EQ(stats(f)["blob_ranges"][0], "bytes=1000-");
  }
  {
    FakeRegistry f;
    START_OR_SKIP(f, {"--ignore-range"});
    BlobFetch bf;
    bf.offset = 1000;
    auto got = fetch(*make_client(), repo(f), bf);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_TRUE(got->res.restarted);
    EXPECT_EQ(got->data, blob);
  }
}

TEST(FakeRegistry, MidTransferFailureResumesFromDeliveredBytes) {
  std::string blob = fake_blob();
  {
    FakeRegistry f;
    START_OR_SKIP(f, {"--cut-first", "2"});
    auto got = fetch(*make_client(), repo(f));
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->data, blob);
    EXPECT_FALSE(got->res.restarted);
    Json ranges = stats(f)["blob_ranges"];
    ASSERT_EQ(ranges.size(), 3u);
    EXPECT_EQ(ranges[0], "");
    EXPECT_EQ(ranges[1], "bytes=524288-");  // half of 1 MiB was delivered
    EXPECT_EQ(ranges[2], "bytes=786432-");
  }
  {
    // The server ignores Range on the resumed request: the bytes the sink
    // already has are skipped, not delivered twice.
    FakeRegistry f;
    START_OR_SKIP(f, {"--cut-first", "1", "--ignore-range"});
    auto got = fetch(*make_client(), repo(f));
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->data.size(), blob.size());
    EXPECT_EQ(got->data, blob);
  }
}

TEST(FakeRegistry, RetriesServerErrorsThenSucceeds) {
  FakeRegistry f;
  START_OR_SKIP(f, {"--fail-first", "3"});
  auto m = make_client()->get_manifest(repo(f), {});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(stats(f)["requests"], 4);

  FakeRegistry g;
  START_OR_SKIP(g, {"--fail-first", "10"});
  Options o;
  o.retries = 2;
  auto fail = make_client(o)->get_manifest(repo(g), {});
  ASSERT_FALSE(fail);
  EXPECT_EQ(fail.error().code, Errc::Unavailable);
  EXPECT_EQ(fail.error().message, "unknown: injected failure");
  EXPECT_EQ(stats(g)["requests"], 3);

  FakeRegistry h;
  START_OR_SKIP(h, {"--fail-first", "2"});
  auto blob = fetch(*make_client(), repo(h));
  ASSERT_TRUE(blob) << blob.error().message;
  EXPECT_EQ(blob->data, fake_blob());
}

TEST(FakeRegistry, RedirectDropsAuthorizationForAnotherHost) {
  FakeRegistry f;
  START_OR_SKIP(f, {"--bearer", "z", "--redirect"});
  auto got = fetch(*make_client(), repo(f));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->data, fake_blob());
  Json s = stats(f);
  ASSERT_EQ(s["redirected_auth"].size(), 1u);
  EXPECT_EQ(s["redirected_auth"][0], "");  // localhost:port is not 127.0.0.1:port
}

TEST(FakeRegistry, TagPaginationHubSearchAndCancel) {
  FakeRegistry f;
  START_OR_SKIP(f);
  auto c = make_client();
  auto tags = c->list_tags(repo(f, ""), {});
  ASSERT_TRUE(tags) << tags.error().message;
  EXPECT_EQ(*tags, (std::vector<std::string>{"a", "b", "c"}));

  Options o;
  o.hub_index_url = f.url() + "/";
  auto hub = make_client(o);
  auto res = hub->search("docker.io", "memos", 25, {});
  ASSERT_TRUE(res) << res.error().message;
  ASSERT_EQ(res->size(), 2u);
  EXPECT_EQ((*res)[0].name, "memos/app");
  EXPECT_EQ((*res)[0].star_count, 7);
  EXPECT_TRUE((*res)[0].is_automated);
  EXPECT_TRUE((*res)[1].is_official);
  auto one = hub->search("docker.io", "memos", 1, {});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->size(), 1u);

  std::atomic<bool> cancel{true};
  BlobFetch bf;
  bf.cancel = &cancel;
  auto cancelled = fetch(*c, repo(f), bf);
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, Errc::Cancelled);

  auto unknown = c->get_manifest(repo(f, ":nope"), {});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::NotFound);
}

TEST(FakeRegistry, BrokenMirrorsFallThroughQuickly) {
  FakeRegistry f;
  START_OR_SKIP(f);
  Options o;
  o.backoff_base = std::chrono::milliseconds(200);
  // A TLS mirror that speaks plain HTTP, a refused port, a non-HTTP scheme.
  o.mirrors[f.domain()] = {"https://" + f.domain(),
                           "http://127.0.0.1:" + std::to_string(testing::free_port()),
                           "ftp://127.0.0.1:1"};
  auto c = Client::create(o);
  ASSERT_TRUE(c);
  auto start = std::chrono::steady_clock::now();
  auto m = (*c)->get_manifest(repo(f), {});
  ASSERT_TRUE(m) << m.error().message;
  auto blob = fetch(**c, repo(f));
  ASSERT_TRUE(blob) << blob.error().message;
  EXPECT_EQ(blob->data, fake_blob());
  // One retry per mirror at most (2 x ~200 ms x 2 requests), not 5 with doubling.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST(FakeRegistry, SinkErrorAbortsWithoutRetry) {
  FakeRegistry f;
  START_OR_SKIP(f);
  auto c = make_client();
  int calls = 0;
  auto r =
      c->fetch_blob(repo(f), sha256_of(fake_blob()), {}, {}, [&](std::string_view) -> Result<void> {
        ++calls;
        return make_error(Errc::Io, "disk full");
      });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "disk full");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace berth::registry
