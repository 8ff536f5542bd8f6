#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "base/scope_exit.h"
#include "store/metadata/sqlite.h"
#include "store/metadata/test_fixture.h"

namespace berth::metadata {
namespace {

TEST_F(MetaTest, CommitImageRoundTrips) {
  ImageCommit c = image(d("cfg"), {d("c1"), d("c2"), d("c3")}, {"docker.io/library/a:1"});
  c.image.created = 1700000000;
  c.image.size = 12345;
  c.image.architecture = "arm64";
  c.image.variant = "v8";
  c.image.labels = {{"maintainer", "me"}, {"quote\"d", "ü"}};
  c.blobs.push_back(d("layerblob"));
  c.repo_digest = RepoDigest{"docker.io/library/a", c.image.manifest};
  auto moved = store_->commit_image(c);
  ASSERT_TRUE(moved.has_value()) << moved.error().message;
  ASSERT_EQ(moved->size(), 1u);
  EXPECT_EQ((*moved)[0].tag, "docker.io/library/a:1");
  EXPECT_FALSE((*moved)[0].previous.has_value());

  auto got = store_->get_image(d("cfg"));
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(got->id, d("cfg"));
  EXPECT_EQ(got->manifest, c.image.manifest);
  EXPECT_EQ(got->manifest_media_type, c.image.manifest_media_type);
  EXPECT_EQ(got->created, 1700000000);
  EXPECT_GT(got->added_ns, 0) << "added_ns is filled in when 0";
  EXPECT_EQ(got->size, 12345);
  EXPECT_EQ(got->os, "linux");
  EXPECT_EQ(got->architecture, "arm64");
  EXPECT_EQ(got->variant, "v8");
  EXPECT_EQ(got->chain_ids, (std::vector<Digest>{d("c1"), d("c2"), d("c3")}));
  EXPECT_EQ(got->labels, c.image.labels);
  EXPECT_EQ(store_->tags_of(d("cfg")).value(), std::vector<std::string>{"docker.io/library/a:1"});
  auto rds = store_->repo_digests_of(d("cfg")).value();
  ASSERT_EQ(rds.size(), 1u);
  EXPECT_EQ(rds[0].repository, "docker.io/library/a");
  EXPECT_EQ(rds[0].manifest, c.image.manifest);
  auto blobs = store_->blobs_of(d("cfg")).value();
  EXPECT_EQ(blobs.size(), 3u);
  EXPECT_EQ(store_->lookup_repo_digest("docker.io/library/a", c.image.manifest).value(),
            std::optional<Digest>(d("cfg")));
  EXPECT_FALSE(store_->lookup_repo_digest("docker.io/library/b", c.image.manifest)->has_value());
}

TEST_F(MetaTest, GetUnknownImageIsNotFound) {
  auto r = store_->get_image(d("nope"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_EQ(r.error().message, "image " + d("nope").str() + " not found");
}

TEST_F(MetaTest, RecommitUpdatesButKeepsAddedTime) {
  ImageCommit c = image(d("cfg"), {d("c1")}, {"r:t"});
  c.image.added_ns = 111;
  ASSERT_TRUE(store_->commit_image(c).has_value());
  c.image.added_ns = 222;
  c.image.size = 9;
  c.image.chain_ids = {d("c1"), d("c2")};
  auto moved = store_->commit_image(c);
  ASSERT_TRUE(moved.has_value());
  EXPECT_TRUE(moved->empty()) << "r:t already pointed at this image";
  auto got = store_->get_image(d("cfg")).value();
  EXPECT_EQ(got.added_ns, 111);
  EXPECT_EQ(got.size, 9);
  EXPECT_EQ(got.chain_ids.size(), 2u);
}

TEST_F(MetaTest, CommitReleasesTheLeaseInTheSameTransaction) {
  ASSERT_TRUE(store_->create_lease("pull:x", 4000000000).has_value());
  ASSERT_TRUE(store_->add_lease_resource("pull:x", LeaseKind::Blob, d("b").str()).has_value());
  ImageCommit c = image(d("cfg"), {});
  c.release_lease = "pull:x";
  ASSERT_TRUE(store_->commit_image(c).has_value());
  EXPECT_TRUE(store_->list_leases()->empty());
}

TEST_F(MetaTest, TagMovesReportThePreviousImage) {
  ASSERT_TRUE(store_->commit_image(image(d("A"), {}, {"app:latest", "app:1"})).has_value());
  auto moved = store_->commit_image(image(d("B"), {}, {"app:latest", "app:2"}));
  ASSERT_TRUE(moved.has_value());
  ASSERT_EQ(moved->size(), 2u);
  EXPECT_EQ((*moved)[0].tag, "app:latest");
  EXPECT_EQ((*moved)[0].previous, std::optional<Digest>(d("A")));
  EXPECT_EQ((*moved)[1].tag, "app:2");
  EXPECT_FALSE((*moved)[1].previous.has_value());
  EXPECT_EQ(store_->tags_of(d("A")).value(), std::vector<std::string>{"app:1"});

  auto back = store_->set_tag("app:latest", d("A"));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->tag, "app:latest");
  EXPECT_EQ(back->previous, std::optional<Digest>(d("B")));
  auto fresh = store_->set_tag("app:new", d("A"));
  ASSERT_TRUE(fresh.has_value());
  EXPECT_FALSE(fresh->previous.has_value());
  EXPECT_EQ(store_->lookup_tag("app:latest").value(), std::optional<Digest>(d("A")));

  auto missing = store_->set_tag("app:x", d("nope"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  EXPECT_FALSE(store_->lookup_tag("app:x")->has_value());
}

TEST_F(MetaTest, DeleteTag) {
  ASSERT_TRUE(store_->commit_image(image(d("A"), {}, {"t:1"})).has_value());
  ASSERT_TRUE(store_->delete_tag("t:1").has_value());
  EXPECT_FALSE(store_->lookup_tag("t:1")->has_value());
  EXPECT_TRUE(store_->get_image(d("A")).has_value()) << "the image stays (dangling)";
  auto again = store_->delete_tag("t:1");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::NotFound);
  EXPECT_EQ(again.error().message, "tag t:1 not found");
}

// A commit that fails after some of its rows were written (here the last
// tag violates a CHECK constraint) must leave no trace: not the image row,
// not its blobs, not the first tag, and the lease still held.
TEST_F(MetaTest, CommitFailingMidwayLeavesNothing) {
  ASSERT_TRUE(store_->create_lease("pull:y", 4000000000).has_value());
  ImageCommit c = image(d("cfg"), {d("c1")}, {"good:tag", ""});
  c.repo_digest = RepoDigest{"docker.io/library/a", c.image.manifest};
  c.release_lease = "pull:y";
  auto r = store_->commit_image(c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_EQ(store_->get_image(d("cfg")).error().code, Errc::NotFound);
  EXPECT_FALSE(store_->lookup_tag("good:tag")->has_value());
  EXPECT_TRUE(store_->blobs_of(d("cfg"))->empty());
  EXPECT_TRUE(store_->list_images()->empty());
  EXPECT_EQ(store_->list_leases()->size(), 1u);
  auto roots = store_->gc_roots(0).value();
  EXPECT_TRUE(roots.blobs.empty());
  EXPECT_TRUE(roots.layers.empty());

  // Same for an update of an existing image: the old state survives whole.
  ASSERT_TRUE(store_->commit_image(image(d("old"), {d("c1")}, {"good:tag"})).has_value());
  ImageCommit c2 = image(d("new"), {d("c2")}, {"good:tag", ""});
  ASSERT_FALSE(store_->commit_image(c2).has_value());
  EXPECT_EQ(store_->lookup_tag("good:tag").value(), std::optional<Digest>(d("old")));
  EXPECT_EQ(store_->list_images()->size(), 1u);
}

TEST_F(MetaTest, ResolveImagePrefix) {
  Digest a = hexd("abc123"), b = hexd("abc456"), c = hexd("f00d");
  for (const Digest& id : {a, b, c}) ASSERT_TRUE(store_->commit_image(image(id, {})).has_value());
  EXPECT_EQ(store_->resolve_image_prefix("abc1").value(), a);
  EXPECT_EQ(store_->resolve_image_prefix("f").value(), c);
  EXPECT_EQ(store_->resolve_image_prefix(a.hex()).value(), a);
  EXPECT_EQ(store_->resolve_image_prefix("sha256:abc4").value(), b);
  auto amb = store_->resolve_image_prefix("abc");
  ASSERT_FALSE(amb.has_value());
  EXPECT_EQ(amb.error().code, Errc::Conflict);
  EXPECT_EQ(amb.error().message, "multiple IDs found with provided prefix: abc");
  EXPECT_EQ(store_->resolve_image_prefix("a").error().code, Errc::Conflict);
  EXPECT_EQ(store_->resolve_image_prefix("abd").error().code, Errc::NotFound);
  EXPECT_EQ(store_->resolve_image_prefix("").error().code, Errc::NotFound);
  EXPECT_EQ(store_->resolve_image_prefix("xyz").error().code, Errc::NotFound);
  EXPECT_EQ(store_->resolve_image_prefix("ABC123").error().code, Errc::NotFound);
  EXPECT_EQ(store_->resolve_image_prefix(a.hex() + "0").error().code, Errc::NotFound);
  EXPECT_EQ(store_->resolve_image_prefix("abc%").error().code, Errc::NotFound);
}

TEST_F(MetaTest, ListImagesNewestFirstWithChains) {
  ImageCommit a = image(d("A"), {d("a1"), d("a2")});
  a.image.added_ns = 100;
  a.image.labels = {{"k", "v"}};
  ImageCommit b = image(d("B"), {d("b1")});
  b.image.added_ns = 200;
  ASSERT_TRUE(store_->commit_image(a).has_value());
  ASSERT_TRUE(store_->commit_image(b).has_value());
  auto all = store_->list_images();
  ASSERT_TRUE(all.has_value()) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, d("B"));
  EXPECT_EQ((*all)[0].chain_ids, std::vector<Digest>{d("b1")});
  EXPECT_EQ((*all)[1].id, d("A"));
  EXPECT_EQ((*all)[1].chain_ids, (std::vector<Digest>{d("a1"), d("a2")}));
  EXPECT_EQ((*all)[1].labels.at("k"), "v");
}

TEST_F(MetaTest, AllTagsAndRepoDigestsMatchThePerImageQueries) {
  ImageCommit a = image(d("a"), {d("c1")}, {"docker.io/library/a:2", "docker.io/library/a:1"});
  a.repo_digest = RepoDigest{"docker.io/library/a", a.image.manifest};
  ImageCommit b = image(d("b"), {d("c2")}, {"docker.io/library/b:1"});
  ImageCommit none = image(d("none"), {d("c3")}, {});
  for (const auto& c : {a, b, none}) ASSERT_TRUE(store_->commit_image(c).has_value());
  ASSERT_TRUE(store_
                  ->commit_image([&] {
                    ImageCommit again = b;
                    again.tags.clear();
                    again.repo_digest = RepoDigest{"localhost:5000/b", d("m2")};
                    return again;
                  }())
                  .has_value());
  auto tags = store_->all_tags();
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  auto digests = store_->all_repo_digests();
  ASSERT_TRUE(digests.has_value()) << digests.error().message;
  EXPECT_EQ(tags->size(), 2u);
  EXPECT_FALSE(tags->count(d("none")));
  EXPECT_FALSE(digests->count(d("none")));
  for (const auto& id : {d("a"), d("b")}) {
    EXPECT_EQ((*tags)[id], store_->tags_of(id).value());
    auto one = store_->repo_digests_of(id).value();
    auto& all = (*digests)[id];
    ASSERT_EQ(all.size(), one.size());
    for (size_t i = 0; i < one.size(); ++i) {
      EXPECT_EQ(all[i].repository, one[i].repository);
      EXPECT_EQ(all[i].manifest, one[i].manifest);
    }
  }
  EXPECT_EQ((*tags)[d("a")],
            (std::vector<std::string>{"docker.io/library/a:1", "docker.io/library/a:2"}));
}

TEST_F(MetaTest, DeleteImageTakesItsRowsAlong) {
  ImageCommit c = image(d("A"), {d("a1")}, {"x:1", "x:2"});
  c.repo_digest = RepoDigest{"docker.io/library/x", c.image.manifest};
  ASSERT_TRUE(store_->commit_image(c).has_value());
  ASSERT_TRUE(store_->delete_image(d("A")).has_value());
  EXPECT_EQ(store_->get_image(d("A")).error().code, Errc::NotFound);
  EXPECT_FALSE(store_->lookup_tag("x:1")->has_value());
  EXPECT_FALSE(store_->lookup_repo_digest("docker.io/library/x", c.image.manifest)->has_value());
  EXPECT_TRUE(store_->blobs_of(d("A"))->empty());
  auto db = sql::Db::open(db_path_).value();
  auto s = db.prepare("SELECT COUNT(*) FROM image_layers").value();
  ASSERT_TRUE(s.step().value());
  EXPECT_EQ(s.int64(0), 0);
  auto again = store_->delete_image(d("A"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::NotFound);
}

TEST_F(MetaTest, DeleteRepoDigestsOfOneRepository) {
  ImageCommit c = image(d("A"), {});
  c.repo_digest = RepoDigest{"docker.io/library/x", d("m1")};
  ASSERT_TRUE(store_->commit_image(c).has_value());
  c.repo_digest = RepoDigest{"registry.local:5000/x", d("m1")};
  ASSERT_TRUE(store_->commit_image(c).has_value());
  EXPECT_EQ(store_->repo_digests_of(d("A"))->size(), 2u);
  ASSERT_TRUE(store_->delete_repo_digests(d("A"), "docker.io/library/x").has_value());
  auto left = store_->repo_digests_of(d("A")).value();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].repository, "registry.local:5000/x");
}

TEST_F(MetaTest, ConcurrentCommitsAndReadsFromManyThreads) {
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string n = std::to_string(t) + "-" + std::to_string(i);
        if (!store_->commit_image(image(d(n), {d("l" + n)}, {"r:" + n}))) ++failures;
        if (!store_->list_images()) ++failures;
        if (!store_->set_tag("shared:latest", d(n))) ++failures;
      }
    });
  }
  for (auto& th : ts) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->list_images()->size(), 80u);
  EXPECT_TRUE(store_->lookup_tag("shared:latest")->has_value());
}

}  // namespace
}  // namespace berth::metadata

namespace berth::metadata {
namespace {

// A real full disk (a small tmpfs; needs root to mount; 512 KiB leaves room
// for the schema of every migration): the failing commit
// is a clear Io error and every earlier commit is still there, whole.
TEST_F(MetaTest, FullDiskFailsCleanlyAndKeepsEarlierCommits) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  std::string mnt = dir_ + "/small";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0700), 0);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=512k"), 0);
  ScopeExit umount([&] { ::umount2(mnt.c_str(), MNT_DETACH); });
  int committed = 0;
  Error failure;
  {
    auto s = MetadataStore::open(mnt + "/metadata.db");
    ASSERT_TRUE(s.has_value()) << s.error().message;
    std::string big(2000, 'x');
    for (int i = 0; i < 2000; ++i) {
      ImageCommit c = image(d("full" + std::to_string(i)), {d("l")}, {"t:" + std::to_string(i)});
      c.image.labels = {{"pad", big}};
      auto r = (*s)->commit_image(c);
      if (!r) {
        failure = r.error();
        break;
      }
      ++committed;
    }
  }
  ASSERT_GT(committed, 0);
  ASSERT_LT(committed, 2000) << "512 KiB held 4 MB of rows?";
  EXPECT_EQ(failure.code, Errc::Io);
  EXPECT_NE(failure.message.find("no space left on device"), std::string::npos) << failure.message;
  auto s = MetadataStore::open(mnt + "/metadata.db");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto all = (*s)->list_images();
  ASSERT_TRUE(all.has_value()) << all.error().message;
  EXPECT_EQ(static_cast<int>(all->size()), committed);
  EXPECT_FALSE((*s)->lookup_tag("t:" + std::to_string(committed))->has_value());
  EXPECT_TRUE((*s)->lookup_tag("t:" + std::to_string(committed - 1))->has_value());
}

}  // namespace
}  // namespace berth::metadata
