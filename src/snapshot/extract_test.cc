// Layer apply: what an entry keeps (modes, owners, xattrs, links, devices)
// and every escape it must not make.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <fstream>
#include <random>
#include <sstream>

#include "snapshot/extract.h"
#include "snapshot/test_support.h"

namespace berth::snapshot {
namespace {

using namespace testing;

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool exists_nofollow(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

TEST(CleanEntryPath, Cases) {
  EXPECT_EQ(clean_entry_path("a/b"), "a/b");
  EXPECT_EQ(clean_entry_path("./a//b/"), "a/b");
  EXPECT_EQ(clean_entry_path("/etc/passwd"), "etc/passwd");
  EXPECT_EQ(clean_entry_path("a/../b"), "b");
  EXPECT_EQ(clean_entry_path("./"), "");
  EXPECT_EQ(clean_entry_path("../x"), std::nullopt);
  EXPECT_EQ(clean_entry_path("a/../../x"), std::nullopt);
  EXPECT_EQ(clean_entry_path("/../x"), std::nullopt);
}

class ApplyTest : public ::testing::TestWithParam<std::tuple<std::string, Comp>> {
 protected:
  void SetUp() override {
    if (std::get<0>(GetParam()) == "overlayfs") BERTH_REQUIRE_ROOT("overlay needs root");
    auto s = open_snapshotter(tmp_.path() + "/snapshots", std::get<0>(GetParam()));
    ASSERT_TRUE(s) << s.error().message;
    snap_ = std::move(*s);
  }
  std::string fs(const std::string& key) { return tmp_.path() + "/snapshots/" + key + "/fs"; }
  // root/tmp is empty and no key but `keys` exists.
  void expect_clean(size_t keys = 0) {
    auto l = snap_->list();
    ASSERT_TRUE(l);
    EXPECT_EQ(l->size(), keys);
    std::string t = tmp_.path() + "/snapshots/tmp";
    EXPECT_EQ(count_entries(t), 0) << "leftovers in " << t;
  }
  TempDir tmp_;
  std::unique_ptr<Snapshotter> snap_;
};

TEST_P(ApplyTest, KeepsFilesModesOwnersLinksAndDiffId) {
  std::vector<Ent> ents;
  ents.push_back(dir("etc", 0755));
  ents.push_back(file("etc/hostname", "berth\n"));
  Ent suid = file("bin/su", std::string(100000, 'x'), 04755);
  ents.push_back(suid);
  Ent sgid = file("bin/wall", "w", 02711);
  sgid.uid = 0;
  sgid.gid = 5;
  ents.push_back(sgid);
  ents.push_back(dir("tmp", 01777));
  Ent owned = file("home/u/notes", "n", 0600);
  owned.uid = 1000;
  owned.gid = 1001;
  ents.push_back(owned);
  Ent x = file("usr/bin/ping", "ping", 0755);
  x.xattrs = {{"user.berth", "yes"}};
  if (is_root())
    x.xattrs.push_back(
        {"security.capability",
         std::string(
             "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
             20)});
  ents.push_back(x);
  ents.push_back(hardlink("bin/su-link", "bin/su"));
  ents.push_back(symlink("etc/abs", "/etc/hostname"));
  ents.push_back(symlink("etc/rel", "hostname"));
  Ent fifo;
  fifo.path = "run/fifo";
  fifo.type = AE_IFIFO;
  fifo.perm = 0620;
  ents.push_back(fifo);
  if (is_root()) {
    Ent null;
    null.path = "dev/null";
    null.type = AE_IFCHR;
    null.perm = 0666;
    null.major = 1;
    null.minor = 3;
    ents.push_back(null);
  }
  ents.push_back(file("/abs/file", "absolute"));
  std::string plain = make_tar(ents);
  auto r = snap_->apply_layer("", source_of(make_tar(ents, std::get<1>(GetParam()))));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->diff_id, sha256_of(plain));
  EXPECT_EQ(r->size, 6 + 100000 + 1 + 1 + 4 + 8);
  std::string root = fs(r->key);
  EXPECT_EQ(slurp(root + "/etc/hostname"), "berth\n");
  EXPECT_EQ(slurp(root + "/abs/file"), "absolute");
  struct stat st, st2;
  ASSERT_EQ(::lstat((root + "/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_size, 100000);
  EXPECT_EQ(st.st_mtime, 1600000000);
  ASSERT_EQ(::lstat((root + "/bin/su-link").c_str(), &st2), 0);
  EXPECT_EQ(st.st_ino, st2.st_ino);
  ASSERT_EQ(::lstat((root + "/bin/wall").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 02711u);
  ASSERT_EQ(::lstat((root + "/tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  EXPECT_EQ(st.st_mtime, 1600000000);
  ASSERT_EQ(::lstat((root + "/home").c_str(), &st), 0);  // implicit
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(::lstat((root + "/home/u/notes").c_str(), &st), 0);
  if (is_root()) {
    EXPECT_EQ(st.st_uid, 1000u);
    EXPECT_EQ(st.st_gid, 1001u);
  }
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  char buf[64];
  ssize_t n = ::lgetxattr((root + "/usr/bin/ping").c_str(), "user.berth", buf, sizeof buf);
  if (n >= 0) {
    EXPECT_EQ(std::string(buf, n), "yes");
  }
  if (is_root()) {
    n = ::lgetxattr((root + "/usr/bin/ping").c_str(), "security.capability", buf, sizeof buf);
    EXPECT_EQ(n, 20) << "security.capability kept after chown";
  }
  n = ::readlink((root + "/etc/abs").c_str(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "/etc/hostname");
  ASSERT_EQ(::lstat((root + "/run/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0620u);
  if (is_root()) {
    ASSERT_EQ(::lstat((root + "/dev/null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(major(st.st_rdev), 1u);
    EXPECT_EQ(minor(st.st_rdev), 3u);
  }
  expect_clean(1);
}

// Every way out of the layer root is refused, naming the entry, with
// nothing left behind (neither in the store nor outside it).
TEST_P(ApplyTest, RefusesEscapes) {
  std::string outside = tmp_.path() + "/outside";
  ASSERT_EQ(::mkdir(outside.c_str(), 0755), 0);
  struct Case {
    std::string name;
    std::vector<Ent> ents;
    std::string entry;  // named in the error
  };
  std::vector<Case> cases = {
      {"dotdot", {file("../x", "x")}, "../x"},
      {"inner dotdot", {dir("a"), file("a/../../x", "x")}, "a/../../x"},
      {"abs symlink parent", {symlink("link", outside), file("link/passwd", "x")}, "link/passwd"},
      {"rel symlink parent",
       {symlink("link", "../../../../../../../../" + outside), file("link/passwd", "x")},
       "link/passwd"},
      {"symlink dir parent", {dir("d"), symlink("d/l", "/"), dir("d/l/sub")}, "d/l/sub/"},
      {"symlink then hardlink through it",
       {file("f", "x"), symlink("l", outside), hardlink("l/f", "f")},
       "l/f"},
      {"hardlink outside", {hardlink("h", "../../outside/x")}, "h"},
      {"hardlink absolute", {hardlink("h", "/etc/passwd")}, "h"},
      {"hardlink through symlink", {symlink("l", "/etc"), hardlink("h", "l/passwd")}, "h"},
      {"whiteout through symlink", {symlink("l", outside), file("l/.wh.x", "")}, "l/.wh.x"},
      {"opaque through symlink",
       {symlink("l", outside), file("l/.wh..wh..opq", "")},
       "l/.wh..wh..opq"},
  };
  ASSERT_EQ(::close(::creat((outside + "/x").c_str(), 0644)), 0);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    for (Comp comp : {Comp::None, Comp::Gzip}) {
      auto r = snap_->apply_layer("", source_of(make_tar(c.ents, comp)));
      ASSERT_FALSE(r) << "accepted " << c.name;
      EXPECT_EQ(r.error().code, Errc::InvalidArgument) << r.error().message;
      EXPECT_NE(r.error().message.find("\"" + c.entry + "\""), std::string::npos)
          << r.error().message;
      expect_clean(0);
    }
  }
  EXPECT_FALSE(exists_nofollow(outside + "/passwd"));
  EXPECT_FALSE(exists_nofollow(outside + "/f"));
  EXPECT_FALSE(exists_nofollow(outside + "/sub"));
  EXPECT_TRUE(exists_nofollow(outside + "/x"));
  EXPECT_FALSE(exists_nofollow(tmp_.path() + "/x"));
  EXPECT_FALSE(exists_nofollow(tmp_.path() + "/snapshots/x"));
}

// Hardlinks may only name earlier entries of the same tar: in copy form the
// parent's files are in the tree too, but linking to them is refused.
TEST_P(ApplyTest, HardlinkToLowerLayerRefused) {
  auto base = snap_->apply_layer("", source_of(make_tar({file("lower", "l")})));
  ASSERT_TRUE(base) << base.error().message;
  auto r = snap_->apply_layer(base->key, source_of(make_tar({hardlink("h", "lower")})));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_NE(r.error().message.find("\"h\""), std::string::npos) << r.error().message;
  expect_clean(1);
}

TEST_P(ApplyTest, LaterEntriesReplaceEarlierOnes) {
  // A symlink replaced by a file or a hardlink is replaced, never written through.
  std::string victim = tmp_.path() + "/victim";
  ASSERT_EQ(::close(::creat(victim.c_str(), 0644)), 0);
  std::vector<Ent> ents = {file("a", "1"),    file("a", "22"),         dir("d"),
                           file("d/x", "x"),  file("d", "now a file"), symlink("s", "/nowhere"),
                           dir("s"),          file("s/in", "in"),      symlink("t", victim),
                           file("t", "mine"), symlink("u", victim),    hardlink("u", "a")};
  auto r = snap_->apply_layer("", source_of(make_tar(ents, std::get<1>(GetParam()))));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(slurp(fs(r->key) + "/a"), "22");
  EXPECT_EQ(slurp(fs(r->key) + "/d"), "now a file");
  EXPECT_EQ(slurp(fs(r->key) + "/s/in"), "in");
  EXPECT_EQ(slurp(fs(r->key) + "/t"), "mine");
  EXPECT_EQ(slurp(fs(r->key) + "/u"), "22");
  EXPECT_EQ(slurp(victim), "");
}

TEST_P(ApplyTest, CorruptInputLeavesNothing) {
  std::vector<Ent> ents = {file("a", std::string(300000, 'a')), file("b", "b")};
  std::string gz = make_tar(ents, Comp::Gzip);
  for (size_t cut : {gz.size() / 2, gz.size() - 9, size_t{30}}) {
    auto r = snap_->apply_layer("", source_of(gz.substr(0, cut)));
    ASSERT_FALSE(r) << "truncated gzip accepted, cut at " << cut;
    EXPECT_EQ(r.error().code, Errc::InvalidArgument) << r.error().message;
    expect_clean(0);
  }
  auto t = make_tar(ents);
  auto r = snap_->apply_layer("", source_of(t.substr(0, 2048)));
  ASSERT_FALSE(r) << "truncated tar accepted";
  expect_clean(0);
  r = snap_->apply_layer("", source_of(std::string(5000, 'z') + "not a tar"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_NE(r.error().message.find("not a tar"), std::string::npos) << r.error().message;
  expect_clean(0);
  // The source's own error wins (a network failure is not bad input).
  int calls = 0;
  ByteSource failing = [&, data = make_tar(ents)]() -> Result<std::string> {
    if (calls++ == 3) return make_error(Errc::Unavailable, "connection reset");
    return data.substr((calls - 1) * 1000, 1000);
  };
  r = snap_->apply_layer("", failing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Unavailable) << r.error().message;
  EXPECT_NE(r.error().message.find("connection reset"), std::string::npos);
  expect_clean(0);
}

TEST_P(ApplyTest, EmptyStreamIsAnEmptyLayer) {
  auto r = snap_->apply_layer("", source_of(""));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->diff_id, sha256_of(""));
  std::string zeros(1024, '\0');
  r = snap_->apply_layer("", source_of(zeros));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->diff_id, sha256_of(zeros));
}

INSTANTIATE_TEST_SUITE_P(Drivers, ApplyTest,
                         ::testing::Combine(::testing::Values("copy", "overlayfs"),
                                            ::testing::Values(Comp::None, Comp::Gzip, Comp::Zstd)),
                         [](const auto& info) {
                           std::string n = std::get<0>(info.param);
                           Comp c = std::get<1>(info.param);
                           return n + (c == Comp::None   ? "_plain"
                                       : c == Comp::Gzip ? "_gzip"
                                                         : "_zstd");
                         });

}  // namespace
}  // namespace berth::snapshot

namespace berth::snapshot {
namespace {

using namespace testing;

// Damaged tars (bytes flipped in headers and data, cut anywhere) never crash
// the extractor and never leave anything in tmp/; what is accepted stays
// inside the layer root.
TEST(ApplyFuzz, DamagedTarsFailCleanly) {
  TempDir tmp;
  auto s = open_snapshotter(tmp.path() + "/snapshots", is_root() ? "overlayfs" : "copy");
  ASSERT_TRUE(s) << s.error().message;
  std::vector<Ent> ents = {dir("d"),
                           file("d/a", std::string(3000, 'a'), 04755),
                           symlink("d/l", "/etc"),
                           hardlink("d/h", "d/a"),
                           file("d/.wh.x", ""),
                           file("b", "b")};
  const std::string plain = make_tar(ents);
  std::mt19937 rng(1234);
  int accepted = 0;
  for (int i = 0; i < 150; ++i) {
    std::string t = plain;
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) {
      // Mostly inside the first headers, where the interesting fields are.
      size_t pos = rng() % 2 ? rng() % 2048 : rng() % t.size();
      t[pos] = static_cast<char>(rng() % 3 == 0 ? '/' : rng() % 3 == 1 ? '.' : rng());
    }
    if (rng() % 4 == 0) t.resize(rng() % t.size());
    auto r = (*s)->apply_layer("", source_of(i % 2 ? t : make_gzip_of(t)));
    if (r) {
      ++accepted;
      ASSERT_TRUE((*s)->remove(r->key));
    }
    ASSERT_EQ(count_entries(tmp.path() + "/snapshots/tmp"), 0) << "iteration " << i;
  }
  EXPECT_EQ(count_entries(tmp.path() + "/snapshots"), 2);  // tmp/ and .driver
  EXPECT_EQ(count_entries(tmp.path()), 1);                 // nothing beside snapshots/
  RecordProperty("accepted", accepted);
}

}  // namespace
}  // namespace berth::snapshot
