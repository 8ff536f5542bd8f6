// Client against Debian's docker-registry started on 127.0.0.1: push, mount,
// manifests by tag and digest, blob fetch (full and ranged), tags, catalog
// search, basic auth, mirrors.
#include "registry/client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "base/json.h"
#include "registry/test_support.h"

namespace berth::registry {
namespace {

using testing::LocalRegistry;

#define START_OR_SKIP(server, ...)                                    \
  do {                                                                \
    std::string why_ = (server).start(__VA_ARGS__);                   \
    if (why_.rfind("skip: ", 0) == 0) GTEST_SKIP() << why_.substr(6); \
    ASSERT_EQ(why_, "");                                              \
  } while (0)

std::string pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + seed + i / 997) & 0xff);
  return s;
}

std::function<Result<std::string>()> reader(const std::string& data, size_t piece = 3000) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, pos, piece]() -> Result<std::string> {
    std::string out = data.substr(*pos, piece);
    *pos += out.size();
    return out;
  };
}

std::unique_ptr<Client> make_client(Options o = {}) {
  o.backoff_base = std::chrono::milliseconds(10);
  auto c = Client::create(std::move(o));
  EXPECT_TRUE(c);
  return std::move(*c);
}

oci::Reference parse_ref(const std::string& s) {
  auto r = oci::Reference::parse(s);
  EXPECT_TRUE(r) << r.error().message;
  return *r;
}

struct Image {
  std::string config, layer, manifest;
  Digest config_d, layer_d;
};

Image make_image(int seed) {
  Image im;
  im.config = R"({"architecture":"amd64","os":"linux","seed":)" + std::to_string(seed) + "}";
  im.layer = pattern(200000 + seed, seed);
  im.config_d = sha256_of(im.config);
  im.layer_d = sha256_of(im.layer);
  Json m = {{"schemaVersion", 2},
            {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
            {"config",
             {{"mediaType", "application/vnd.docker.container.image.v1+json"},
              {"size", im.config.size()},
              {"digest", im.config_d.str()}}},
            {"layers",
             {{{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
               {"size", im.layer.size()},
               {"digest", im.layer_d.str()}}}}};
  im.manifest = m.dump();
  return im;
}

// Pushes the image's blobs and manifest under `tag`; returns the manifest digest.
Digest push_image(Client& c, const oci::Reference& r, const Image& im, const Credentials& cred) {
  EXPECT_TRUE(c.push_blob(r, im.config_d, im.config.size(), reader(im.config), nullptr, cred));
  EXPECT_TRUE(c.push_blob(r, im.layer_d, im.layer.size(), reader(im.layer), nullptr, cred));
  auto d =
      c.put_manifest(r, "application/vnd.docker.distribution.manifest.v2+json", im.manifest, cred);
  EXPECT_TRUE(d) << d.error().message;
  return d ? *d : Digest();
}

Result<std::string> fetch_all(Client& c, const oci::Reference& r, const Digest& d, BlobFetch f = {},
                              BlobFetchResult* res = nullptr) {
  std::string got;
  auto out = c.fetch_blob(r, d, {}, f, [&](std::string_view s) -> Result<void> {
    got.append(s);
    return ok();
  });
  if (!out) return std::move(out).error();
  if (res) *res = *out;
  return got;
}

TEST(RegistryClient, PushThenPullRoundTrip) {
  LocalRegistry reg;
  START_OR_SKIP(reg);
  auto c = make_client();
  auto r = parse_ref(reg.domain() + "/team/app:v1");
  Image im = make_image(1);
  EXPECT_FALSE(*c->blob_exists(r, im.layer_d, {}));
  std::vector<int64_t> progress;
  ASSERT_TRUE(c->push_blob(r, im.layer_d, im.layer.size(), reader(im.layer),
                           [&](int64_t cur, int64_t) { progress.push_back(cur); }, {}));
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), static_cast<int64_t>(im.layer.size()));
  EXPECT_TRUE(*c->blob_exists(r, im.layer_d, {}));
  Digest md = push_image(*c, r, im, {});
  EXPECT_EQ(md, sha256_of(im.manifest));

  auto m = c->get_manifest(r, {});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->digest, md);
  EXPECT_EQ(m->body, im.manifest);
  EXPECT_EQ(m->media_type, "application/vnd.docker.distribution.manifest.v2+json");
  auto byd = c->get_manifest_by_digest(r, md, {});
  ASSERT_TRUE(byd) << byd.error().message;
  EXPECT_EQ(byd->body, im.manifest);

  BlobFetchResult res;
  auto full = fetch_all(*c, r, im.layer_d, {}, &res);
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(sha256_of(*full), im.layer_d);
  EXPECT_EQ(res.total, static_cast<int64_t>(im.layer.size()));
  EXPECT_FALSE(res.restarted);

  BlobFetch f;
  f.offset = 12345;
  auto tail = fetch_all(*c, r, im.layer_d, f, &res);
  ASSERT_TRUE(tail) << tail.error().message;
  EXPECT_EQ(*tail, im.layer.substr(12345));
  EXPECT_FALSE(res.restarted);
  EXPECT_EQ(res.total, static_cast<int64_t>(im.layer.size()));
}

TEST(RegistryClient, ConcurrentFetchesShareOneClient) {
  LocalRegistry reg;
  START_OR_SKIP(reg);
  auto c = make_client();
  auto r = parse_ref(reg.domain() + "/conc/app:1");
  Image im = make_image(8);
  Digest md = push_image(*c, r, im, {});
  // Pushing by digest (no tag) works too and returns the same digest.
  auto again = c->put_manifest(
      r.with_digest(md), "application/vnd.docker.distribution.manifest.v2+json", im.manifest, {});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, md);
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      BlobFetch f;
      f.offset = i * 1000;
      auto got = fetch_all(*c, r, im.layer_d, f);
      auto m = c->get_manifest(r, {});
      if (got && *got == im.layer.substr(static_cast<size_t>(i) * 1000) && m && m->digest == md)
        ++good;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 6);
  // An open registry accepts any login (docker's behaviour: nothing to check).
  auto login = c->login(reg.domain(), Credentials{"any", "thing", ""});
  ASSERT_TRUE(login) << login.error().message;
}

TEST(RegistryClient, ChunkedUpload) {
  LocalRegistry reg;
  START_OR_SKIP(reg);
  Options o;
  o.chunked_upload_threshold = 1024;
  o.upload_chunk_size = 64 * 1024;
  auto c = make_client(o);
  auto r = parse_ref(reg.domain() + "/chunked:v1");
  std::string blob = pattern(300001, 7);  // 5 chunks, the last one short
  Digest d = sha256_of(blob);
  std::vector<int64_t> progress;
  auto pushed = c->push_blob(r, d, blob.size(), reader(blob, 10000),
                             [&](int64_t cur, int64_t) { progress.push_back(cur); }, {});
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_EQ(progress.size(), 5u);
  auto got = fetch_all(*c, r, d);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, blob);
  // A wrong digest is refused by the registry at the final PUT.
  auto bad = c->push_blob(r, sha256_of("other"), blob.size(), reader(blob, 10000), nullptr, {});
  EXPECT_FALSE(bad);
}

TEST(RegistryClient, CrossRepositoryMount) {
  LocalRegistry reg;
  START_OR_SKIP(reg);
  auto c = make_client();
  auto a = parse_ref(reg.domain() + "/src/a:1");
  auto b = parse_ref(reg.domain() + "/dst/b:1");
  Image im = make_image(2);
  push_image(*c, a, im, {});
  auto mounted = c->mount_blob(b, im.layer_d, "src/a", {});
  ASSERT_TRUE(mounted) << mounted.error().message;
  EXPECT_TRUE(*mounted);
  EXPECT_TRUE(*c->blob_exists(b, im.layer_d, {}));
  auto missing = c->mount_blob(b, sha256_of("absent"), "src/a", {});
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_FALSE(*missing);
}

TEST(RegistryClient, NotFoundMessagesTagsAndCatalogSearch) {
  LocalRegistry reg;
  START_OR_SKIP(reg);
  auto c = make_client();
  auto r = parse_ref(reg.domain() + "/lib/memos:1");
  Image im = make_image(3);
  push_image(*c, r, im, {});
  push_image(*c, r.with_tag("2"), im, {});
  push_image(*c, parse_ref(reg.domain() + "/other/thing:1"), im, {});

  auto missing = c->get_manifest(r.with_tag("nope"), {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  EXPECT_EQ(missing.error().message, "manifest for " + reg.domain() +
                                         "/lib/memos:nope not found: manifest unknown: "
                                         "manifest unknown");

  auto tags = c->list_tags(r.name_only(), {});
  ASSERT_TRUE(tags) << tags.error().message;
  std::sort(tags->begin(), tags->end());
  EXPECT_EQ(*tags, (std::vector<std::string>{"1", "2"}));

  auto found = c->search(reg.domain(), "memos", 25, {});
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].name, reg.domain() + "/lib/memos");
  auto all = c->search(reg.domain(), "", 25, {});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);
  auto limited = c->search(reg.domain(), "", 1, {});
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->size(), 1u);
}

TEST(RegistryClient, BasicAuth) {
  LocalRegistry reg;
  START_OR_SKIP(reg, "alice", "s3cret");
  auto c = make_client();
  Credentials good{"alice", "s3cret", ""};
  Credentials bad{"alice", "wrong", ""};
  auto ok_login = c->login(reg.domain(), good);
  ASSERT_TRUE(ok_login) << ok_login.error().message;
  auto bad_login = c->login(reg.domain(), bad);
  ASSERT_FALSE(bad_login);
  EXPECT_EQ(bad_login.error().code, Errc::PermissionDenied);
  EXPECT_EQ(bad_login.error().message, "unauthorized: incorrect username or password");

  auto r = parse_ref(reg.domain() + "/private/app:1");
  Image im = make_image(4);
  push_image(*c, r, im, good);
  auto m = c->get_manifest(r, good);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->body, im.manifest);

  auto anon = make_client()->get_manifest(r, {});
  ASSERT_FALSE(anon);
  EXPECT_EQ(anon.error().code, Errc::PermissionDenied);
  EXPECT_NE(anon.error().message.find("pull access denied for " + reg.domain() + "/private/app"),
            std::string::npos)
      << anon.error().message;
  auto denied_push =
      make_client()->push_blob(r, im.config_d, im.config.size(), reader(im.config), nullptr, bad);
  ASSERT_FALSE(denied_push);
  EXPECT_EQ(denied_push.error().code, Errc::PermissionDenied);
}

TEST(RegistryClient, MirrorServesReadsWhenOriginIsDown) {
  LocalRegistry mirror;
  START_OR_SKIP(mirror);
  auto seed = make_client();
  Image im = make_image(5);
  // The mirror holds the repository under the origin's path.
  Digest md = push_image(*seed, parse_ref(mirror.domain() + "/proj/app:1"), im, {});

  int dead_port = testing::free_port();  // nothing listens there
  std::string origin = "127.0.0.1:" + std::to_string(dead_port);
  Options o;
  o.retries = 1;
  o.mirrors[origin] = {"http://" + mirror.domain()};
  auto c = make_client(o);
  auto r = parse_ref(origin + "/proj/app:1");
  auto m = c->get_manifest(r, {});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->digest, md);
  auto blob = fetch_all(*c, r, im.layer_d);
  ASSERT_TRUE(blob) << blob.error().message;
  EXPECT_EQ(*blob, im.layer);
  auto tags = c->list_tags(r.name_only(), {});
  ASSERT_TRUE(tags);
  EXPECT_EQ(*tags, std::vector<std::string>{"1"});
  // Writes never go to a mirror.
  EXPECT_FALSE(c->blob_exists(r, im.layer_d, {}));
  // A mirror without the content falls through to the origin (here: down).
  auto absent = c->get_manifest(r.with_tag("2"), {});
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code, Errc::Unavailable);
}

TEST(RegistryClient, OriginUsedWhenMirrorIsDown) {
  LocalRegistry origin;
  START_OR_SKIP(origin);
  auto c0 = make_client();
  Image im = make_image(6);
  auto r = parse_ref(origin.domain() + "/proj/app:1");
  Digest md = push_image(*c0, r, im, {});
  Options o;
  o.retries = 0;
  o.mirrors[origin.domain()] = {"http://127.0.0.1:" + std::to_string(testing::free_port())};
  auto c = make_client(o);
  auto m = c->get_manifest(r, {});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->digest, md);
}

}  // namespace
}  // namespace berth::registry
