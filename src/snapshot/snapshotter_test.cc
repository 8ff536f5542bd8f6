// Snapshotter lifecycle: driver choice, keys, concurrency, removal,
// leftovers, decompress_layer.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <set>
#include <thread>

#include "snapshot/test_support.h"

namespace berth::snapshot {
namespace {

using namespace testing;

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

TEST(OpenSnapshotter, DriverChoice) {
  TempDir tmp;
  auto bad = open_snapshotter(tmp.path() + "/s1", "btrfs");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
  EXPECT_NE(bad.error().message.find("btrfs"), std::string::npos);
  auto c = open_snapshotter(tmp.path() + "/s2", "vfs");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_STREQ((*c)->name(), "copy");
  EXPECT_FALSE((*c)->independent_layers());
  auto a = open_snapshotter(tmp.path() + "/s3", "");
  ASSERT_TRUE(a) << a.error().message;
  if (is_root()) {
    EXPECT_STREQ((*a)->name(), "overlayfs");
    auto o = open_snapshotter(tmp.path() + "/s4", "overlay2");
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_STREQ((*o)->name(), "overlayfs");
  } else {
    EXPECT_STREQ((*a)->name(), "copy");
    auto o = open_snapshotter(tmp.path() + "/s4", "overlayfs");
    ASSERT_FALSE(o);
    EXPECT_NE(o.error().message.find("overlayfs"), std::string::npos);
  }
  // The probe leaves nothing behind.
  EXPECT_EQ(count_entries(tmp.path() + "/s3/tmp"), 0);
  auto l = (*a)->list();
  ASSERT_TRUE(l);
  EXPECT_TRUE(l->empty());
}

TEST(OpenSnapshotter, DriverIsRecorded) {
  TempDir tmp;
  std::string root = tmp.path() + "/s";
  {
    auto c = open_snapshotter(root, "copy");
    ASSERT_TRUE(c) << c.error().message;
    ASSERT_TRUE((*c)->apply_layer("", source_of(make_tar({file("a", "a")}))));
  }
  auto again = open_snapshotter(root, "");  // auto: keeps the recorded driver
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_STREQ((*again)->name(), "copy");
  if (is_root()) {
    auto ov = open_snapshotter(root, "overlayfs");
    ASSERT_FALSE(ov);
    EXPECT_EQ(ov.error().code, Errc::FailedPrecondition) << ov.error().message;
  }
}

TEST(Snapshotter, DeferredRemovalLeavesTheListAtOnceAndTmpWhenDone) {
  TempDir tmp;
  std::string root = tmp.path() + "/s";
  auto s = open_snapshotter(root, "copy");
  ASSERT_TRUE(s);
  std::vector<Ent> files;
  for (int i = 0; i < 200; ++i) files.push_back(file("f" + std::to_string(i), "x"));
  auto base = (*s)->apply_layer("", source_of(make_tar(files)));
  ASSERT_TRUE(base) << base.error().message;
  ASSERT_TRUE((*s)->prepare_rw("rw-a", {base->key}));
  ASSERT_TRUE((*s)->prepare_rw("rw-b", {base->key}));
  ASSERT_TRUE((*s)->remove_deferred("rw-a"));
  ASSERT_TRUE((*s)->remove_deferred("rw-b"));
  EXPECT_TRUE((*s)->remove_deferred("rw-a"));  // already gone: nothing to do
  EXPECT_FALSE((*s)->remove_deferred("../etc"));
  EXPECT_FALSE(exists(root + "/rw-a"));
  auto l = (*s)->list();
  ASSERT_TRUE(l);
  EXPECT_EQ(*l, std::vector<std::string>{base->key});
  // clean_tmp() meanwhile must not race the reaper for its graves.
  ASSERT_TRUE((*s)->clean_tmp());
  (*s)->wait_deferred();
  EXPECT_EQ(count_entries(root + "/tmp"), 0);
  EXPECT_TRUE(exists(root + "/" + base->key + "/fs/f199"));
}

TEST(Snapshotter, KeysSurviveRestartsAndRemoveIsIdempotent) {
  TempDir tmp;
  std::string root = tmp.path() + "/s";
  std::string k1, k2;
  {
    auto s = open_snapshotter(root, "copy");
    ASSERT_TRUE(s);
    auto a = (*s)->apply_layer("", source_of(make_tar({file("a", "a")})));
    auto b = (*s)->apply_layer("", source_of(make_tar({file("b", "b")})));
    ASSERT_TRUE(a && b);
    k1 = a->key;
    k2 = b->key;
    EXPECT_NE(k1, k2);
  }
  auto s = open_snapshotter(root, "copy");
  ASSERT_TRUE(s);
  auto c = (*s)->apply_layer(k2, source_of(make_tar({file("c", "c")})));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_GT(std::stoull(c->key), std::stoull(k2));
  EXPECT_TRUE(exists(root + "/" + c->key + "/fs/b"));
  auto l = (*s)->list();
  ASSERT_TRUE(l);
  EXPECT_EQ(std::set<std::string>(l->begin(), l->end()), (std::set<std::string>{k1, k2, c->key}));
  EXPECT_TRUE((*s)->remove(k1));
  EXPECT_TRUE((*s)->remove(k1));
  EXPECT_FALSE(exists(root + "/" + k1));
  EXPECT_EQ((*s)->list()->size(), 2u);
  EXPECT_FALSE((*s)->remove("../etc"));
  auto missing = (*s)->apply_layer("999", source_of(make_tar({file("c", "c")})));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  EXPECT_FALSE((*s)->layer_dirs({k1}));
  auto dirs = (*s)->layer_dirs({k2, c->key});
  ASSERT_TRUE(dirs);
  EXPECT_EQ(*dirs, std::vector<std::string>{root + "/" + c->key + "/fs"});
  auto rw = (*s)->prepare_rw("rw1", {k2, c->key});
  ASSERT_TRUE(rw) << rw.error().message;
  ASSERT_EQ(rw->size(), 1u);
  EXPECT_EQ((*rw)[0].type, "bind");
  EXPECT_EQ((*rw)[0].source, root + "/rw1/fs");
  EXPECT_TRUE(exists(root + "/rw1/fs/c"));
  EXPECT_TRUE(exists(root + "/rw1/fs/b"));
}

TEST(Snapshotter, CleanTmpRemovesLeftovers) {
  TempDir tmp;
  std::string root = tmp.path() + "/s";
  auto s = open_snapshotter(root, "copy");
  ASSERT_TRUE(s);
  // What a killed apply leaves: a half-extracted tree, read-only dirs included.
  ASSERT_EQ(::mkdir((root + "/tmp/dead").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/tmp/dead/fs").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("/etc", (root + "/tmp/dead/fs/link").c_str()), 0);
  ASSERT_EQ(::mkdir((root + "/tmp/dead/fs/ro").c_str(), 0555), 0);
  ASSERT_TRUE((*s)->clean_tmp());
  EXPECT_EQ(count_entries(root + "/tmp"), 0);
  EXPECT_TRUE(exists("/etc/passwd"));
}

TEST(Snapshotter, ConcurrentOverlayApplies) {
  BERTH_REQUIRE_ROOT("overlay needs root");
  TempDir tmp;
  auto s = open_snapshotter(tmp.path() + "/s", "overlayfs");
  ASSERT_TRUE(s) << s.error().message;
  std::vector<Result<ApplyResult>> results(4, Error{});
  std::vector<std::string> tars;
  for (int i = 0; i < 4; ++i) {
    std::vector<Ent> ents;
    for (int j = 0; j < 200; ++j)
      ents.push_back(
          file(fmt::format("l{}/d{}/f{}", i, j % 10, j), std::string(1000 + j, 'a' + i)));
    tars.push_back(make_tar(ents, i % 2 ? Comp::Gzip : Comp::Zstd));
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] { results[i] = (*s)->apply_layer("", source_of(tars[i], 4096)); });
  for (auto& t : threads) t.join();
  std::set<std::string> keys;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().message;
    keys.insert(results[i]->key);
    EXPECT_TRUE(exists(tmp.path() + "/s/" + results[i]->key + fmt::format("/fs/l{}/d9/f199", i)));
  }
  EXPECT_EQ(keys.size(), 4u);
  EXPECT_EQ((*s)->list()->size(), 4u);
}

TEST(DecompressLayer, StreamsTheTarAndItsDigest) {
  std::vector<Ent> ents = {file("a", std::string(200000, 'q')), file("b", "b")};
  std::string plain = make_tar(ents);
  for (Comp c : {Comp::None, Comp::Gzip, Comp::Zstd}) {
    std::string out;
    auto d = decompress_layer(source_of(make_tar(ents, c), 3000), [&](std::string_view b) {
      out.append(b);
      return ok();
    });
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(out, plain);
    EXPECT_EQ(*d, sha256_of(plain));
  }
  std::string gz = make_tar(ents, Comp::Gzip);
  auto bad = decompress_layer(source_of(gz.substr(0, gz.size() / 2)),
                              [](std::string_view) { return ok(); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
  auto sink_err = decompress_layer(source_of(plain), [](std::string_view) -> Result<void> {
    return make_error(Errc::Io, "disk full");
  });
  ASSERT_FALSE(sink_err);
  EXPECT_EQ(sink_err.error().code, Errc::Io);
}

}  // namespace
}  // namespace berth::snapshot

namespace berth::snapshot {
namespace {

using namespace testing;

// Disk full during an apply: the filesystem's error (not "bad input"),
// naming the entry, and nothing left behind.
TEST(Snapshotter, DiskFullLeavesNothing) {
  BERTH_REQUIRE_ROOT("mounting a small tmpfs needs root");
  TempDir tmp;
  std::string root = tmp.path() + "/small";
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  ASSERT_EQ(::mount("tmpfs", root.c_str(), "tmpfs", 0, "size=1m"), 0) << strerror(errno);
  struct Unmount {
    std::string p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{root};
  for (const char* driver : {"copy", "overlayfs"}) {
    SCOPED_TRACE(driver);
    auto s = open_snapshotter(root + "/" + driver, driver);
    ASSERT_TRUE(s) << s.error().message;
    std::vector<Ent> ents = {file("small", "s"), file("big", std::string(3 << 20, 'b'))};
    auto r = (*s)->apply_layer("", source_of(make_tar(ents, Comp::Gzip)));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::Io) << r.error().message;
    EXPECT_EQ(r.error().sys_errno, ENOSPC) << r.error().message;
    EXPECT_NE(r.error().message.find("\"big\""), std::string::npos) << r.error().message;
    EXPECT_TRUE((*s)->list()->empty());
    EXPECT_EQ(count_entries(root + "/" + driver + "/tmp"), 0);
    struct statvfs v;
    ASSERT_EQ(::statvfs(root.c_str(), &v), 0);
    EXPECT_GT(v.f_bfree * v.f_bsize, 900u * 1024) << "space not given back";
  }
}

}  // namespace
}  // namespace berth::snapshot
