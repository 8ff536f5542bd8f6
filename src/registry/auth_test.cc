// Unit tests of the pieces with no network: challenges, token replies, error
// bodies, the token cache, endpoint/scheme decisions.
#include <gtest/gtest.h>

#include "registry/auth.h"
#include "registry/curl_easy.h"
#include "registry/endpoints.h"

namespace berth::registry::detail {
namespace {

TEST(Challenge, BearerWithQuotedParams) {
  auto chs = parse_challenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/memos:pull,push")");
  ASSERT_EQ(chs.size(), 1u);
  EXPECT_EQ(chs[0].scheme, "bearer");
  EXPECT_EQ(chs[0].param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(chs[0].param("service"), "registry.docker.io");
  EXPECT_EQ(chs[0].param("scope"), "repository:library/memos:pull,push");
}

TEST(Challenge, SeveralChallengesTokensEscapesAndCase) {
  auto chs = parse_challenges(
      R"(Basic realm="a \"quoted\" realm", charset=UTF-8 , BEARER Realm=http://x/t, error="invalid_token")");
  ASSERT_EQ(chs.size(), 2u);
  EXPECT_EQ(chs[0].scheme, "basic");
  EXPECT_EQ(chs[0].param("realm"), "a \"quoted\" realm");
  EXPECT_EQ(chs[0].param("charset"), "UTF-8");
  EXPECT_EQ(chs[1].scheme, "bearer");
  EXPECT_EQ(chs[1].param("realm"), "http://x/t");
  EXPECT_EQ(chs[1].param("error"), "invalid_token");
}

TEST(Challenge, Token68AndEmpty) {
  auto chs = parse_challenges("Negotiate abc==, Basic");
  ASSERT_EQ(chs.size(), 2u);
  EXPECT_EQ(chs[0].scheme, "negotiate");
  EXPECT_EQ(chs[0].param("token68"), "abc==");
  EXPECT_EQ(chs[1].scheme, "basic");
  EXPECT_TRUE(parse_challenges("").empty());
}

TEST(TokenReply, TokenOrAccessToken) {
  auto a = parse_token_reply(R"({"token":"t1","expires_in":300,"refresh_token":"r"})");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->token, "t1");
  EXPECT_EQ(a->expires_in, std::chrono::seconds(300));
  EXPECT_EQ(a->refresh_token, "r");
  auto b = parse_token_reply(R"({"access_token":"t2","expires_in":5})");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->token, "t2");
  EXPECT_EQ(b->expires_in, std::chrono::seconds(60));  // spec minimum
  EXPECT_FALSE(parse_token_reply(R"({"nothing":1})"));
  EXPECT_FALSE(parse_token_reply("not json"));
}

TEST(TokenCache, KeyedByRealmServiceScopesAndUser) {
  TokenCache c;
  auto k1 = TokenCache::key("r", "s", {"b", "a"}, "u");
  auto k2 = TokenCache::key("r", "s", {"a", "b"}, "u");
  EXPECT_EQ(k1, k2);  // scope order does not matter
  EXPECT_NE(k1, TokenCache::key("r", "s", {"a"}, "u"));
  EXPECT_NE(k1, TokenCache::key("r", "s", {"a", "b"}, "v"));
  EXPECT_FALSE(c.get(k1));
  c.put(k1, "tok", std::chrono::seconds(60));
  EXPECT_EQ(c.get(k2).value_or(""), "tok");
  c.put(k1, "old", std::chrono::seconds(0));
  EXPECT_FALSE(c.get(k1));  // expired
}

TEST(RegistryError, DockersFormat) {
  EXPECT_EQ(
      registry_error_text(
          R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})"),
      "manifest unknown: manifest unknown");
  EXPECT_EQ(
      registry_error_text(
          R"({"errors":[{"code":"DENIED","message":"a"},{"code":"NAME_UNKNOWN","message":"b"}]})"),
      "denied: a; name unknown: b");
  EXPECT_EQ(registry_error_text(R"({"details":"incorrect username or password"})"),
            "incorrect username or password");
  EXPECT_EQ(registry_error_text("<html>"), "");
  EXPECT_EQ(registry_error_text(""), "");
}

TEST(Endpoints, SchemeSelection) {
  Options o;
  o.insecure_registries = {"my.registry:5000", "10.1.0.0/16", "http://plain.example", "fd00::/8"};
  EXPECT_EQ(origin_url(o, "docker.io"), "https://registry-1.docker.io");
  EXPECT_EQ(origin_url(o, "quay.io"), "https://quay.io");
  EXPECT_EQ(origin_url(o, "my.registry:5000"), "http://my.registry:5000");
  EXPECT_EQ(origin_url(o, "my.registry:5001"), "https://my.registry:5001");
  EXPECT_EQ(origin_url(o, "plain.example"), "http://plain.example");
  EXPECT_EQ(origin_url(o, "10.1.2.3:443"), "http://10.1.2.3:443");
  EXPECT_EQ(origin_url(o, "10.2.0.1"), "https://10.2.0.1");
  EXPECT_EQ(origin_url(o, "[fd00::5]:5000"), "http://[fd00::5]:5000");
  EXPECT_EQ(origin_url(o, "[fe80::5]:5000"), "https://[fe80::5]:5000");
  // Loopback is insecure by default.
  EXPECT_EQ(origin_url(o, "127.0.0.1:5000"), "http://127.0.0.1:5000");
  EXPECT_EQ(origin_url(o, "127.9.9.9"), "http://127.9.9.9");
  EXPECT_EQ(origin_url(o, "localhost:5000"), "http://localhost:5000");
  EXPECT_EQ(origin_url(o, "[::1]:5000"), "http://[::1]:5000");
  EXPECT_EQ(origin_url(Options{}, "128.0.0.1"), "https://128.0.0.1");
}

TEST(Endpoints, MirrorsFirstThenOrigin) {
  Options o;
  o.mirrors["docker.io"] = {"https://m1.example/", "127.0.0.1:5001"};
  o.mirrors["ghcr.io"] = {"https://gm.example"};
  auto hub = read_endpoints(o, "docker.io");
  ASSERT_EQ(hub.size(), 3u);
  EXPECT_EQ(hub[0].base, "https://m1.example");
  EXPECT_TRUE(hub[0].mirror);
  EXPECT_EQ(hub[1].base, "http://127.0.0.1:5001");
  EXPECT_EQ(hub[2].base, "https://registry-1.docker.io");
  EXPECT_FALSE(hub[2].mirror);
  auto gh = read_endpoints(o, "ghcr.io");
  ASSERT_EQ(gh.size(), 2u);
  EXPECT_EQ(gh[0].base, "https://gm.example");
  EXPECT_EQ(read_endpoints(o, "quay.io").size(), 1u);
}

TEST(Url, ResolveAndAuthority) {
  EXPECT_EQ(resolve_url("http://a:5000/v2/x/blobs/uploads/", "/v2/x/blobs/uploads/u?s=1").value(),
            "http://a:5000/v2/x/blobs/uploads/u?s=1");
  EXPECT_EQ(resolve_url("http://a:5000/v2/", "https://cdn.example/b").value(),
            "https://cdn.example/b");
  EXPECT_EQ(url_authority("http://A.example:5000/x"), "a.example:5000");
  EXPECT_EQ(url_authority("https://b.example/x"), "b.example:443");
  EXPECT_EQ(url_escape("repository:a/b:pull push"), "repository%3Aa%2Fb%3Apull%20push");
}

}  // namespace
}  // namespace berth::registry::detail
