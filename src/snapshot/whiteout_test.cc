// Whiteouts: overlay form (0:0 char devices, opaque xattr) and deletions
// in copy form; a real overlay mount of a 2-layer chain.
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <fstream>
#include <sstream>

#include "snapshot/test_support.h"

namespace berth::snapshot {
namespace {

using namespace testing;

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<Ent> base_layer() {
  return {file("keep", "k"), file("gone", "g"),        dir("d"), file("d/old", "o"),
          dir("d/sub"),      file("d/sub/old2", "o2"), dir("e"), file("e/x", "x")};
}

// Upper layer: deletes gone, makes d opaque (keeping its own d/new and
// d/sub/new2), deletes the whole dir e, and (in this layer only) an entry
// written before its whiteout stays.
std::vector<Ent> upper_layer() {
  return {file("d/new", "n"),
          file("d/.wh..wh..opq", ""),
          dir("d/sub"),
          file("d/sub/new2", "n2"),
          file(".wh.gone", ""),
          file(".wh.e", ""),
          file("mine", "m"),
          file(".wh.mine", ""),
          file(".wh..wh.plnk", ""),
          file("nodir/.wh.nothing", "")};
}

TEST(Whiteouts, OverlayForm) {
  BERTH_REQUIRE_ROOT("overlay whiteouts need root (mknod, trusted.* xattrs)");
  TempDir tmp;
  auto s = open_snapshotter(tmp.path() + "/snapshots", "overlayfs");
  ASSERT_TRUE(s) << s.error().message;
  auto r = (*s)->apply_layer("", source_of(make_tar(upper_layer(), Comp::Gzip)));
  ASSERT_TRUE(r) << r.error().message;
  std::string fs = tmp.path() + "/snapshots/" + r->key + "/fs";
  struct stat st;
  for (const char* w : {"gone", "e", "nodir/nothing"}) {
    ASSERT_EQ(::lstat((fs + "/" + w).c_str(), &st), 0) << w;
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << w;
    EXPECT_EQ(st.st_rdev, makedev(0, 0)) << w;
  }
  EXPECT_FALSE(exists(fs + "/.wh.gone"));
  EXPECT_FALSE(exists(fs + "/.wh..wh.plnk"));
  EXPECT_EQ(slurp(fs + "/mine"), "m");  // own entry not hidden by its later whiteout
  char v[8];
  ssize_t n = ::getxattr((fs + "/d").c_str(), "trusted.overlay.opaque", v, sizeof v);
  ASSERT_EQ(n, 1);
  EXPECT_EQ(v[0], 'y');
  EXPECT_EQ(slurp(fs + "/d/new"), "n");
  EXPECT_EQ(::getxattr((fs + "/d/sub").c_str(), "trusted.overlay.opaque", v, sizeof v), -1);
}

TEST(Whiteouts, ForgedOverlayXattrsAreDropped) {
  BERTH_REQUIRE_ROOT("trusted.* xattrs need root");
  TempDir tmp;
  auto s = open_snapshotter(tmp.path() + "/snapshots", "overlayfs");
  ASSERT_TRUE(s) << s.error().message;
  Ent d = dir("d");
  d.xattrs = {{"trusted.overlay.redirect", "/etc"}, {"trusted.overlay.opaque", "y"}};
  auto r = (*s)->apply_layer("", source_of(make_tar({d})));
  ASSERT_TRUE(r) << r.error().message;
  char v[8];
  std::string p = tmp.path() + "/snapshots/" + r->key + "/fs/d";
  EXPECT_EQ(::getxattr(p.c_str(), "trusted.overlay.redirect", v, sizeof v), -1);
  EXPECT_EQ(::getxattr(p.c_str(), "trusted.overlay.opaque", v, sizeof v), -1);
}

TEST(Whiteouts, CopyFormDeletes) {
  TempDir tmp;
  auto s = open_snapshotter(tmp.path() + "/snapshots", "copy");
  ASSERT_TRUE(s) << s.error().message;
  auto base = (*s)->apply_layer("", source_of(make_tar(base_layer())));
  ASSERT_TRUE(base) << base.error().message;
  auto up = (*s)->apply_layer(base->key, source_of(make_tar(upper_layer(), Comp::Zstd)));
  ASSERT_TRUE(up) << up.error().message;
  std::string fs = tmp.path() + "/snapshots/" + up->key + "/fs";
  EXPECT_EQ(slurp(fs + "/keep"), "k");
  EXPECT_FALSE(exists(fs + "/gone"));
  EXPECT_FALSE(exists(fs + "/e"));
  EXPECT_FALSE(exists(fs + "/d/old"));
  EXPECT_FALSE(exists(fs + "/d/sub/old2"));
  EXPECT_EQ(slurp(fs + "/d/new"), "n");
  EXPECT_EQ(slurp(fs + "/d/sub/new2"), "n2");
  EXPECT_EQ(slurp(fs + "/mine"), "m");
  EXPECT_FALSE(exists(fs + "/.wh.gone"));
  EXPECT_FALSE(exists(fs + "/nodir"));
  // The parent snapshot is untouched.
  std::string bfs = tmp.path() + "/snapshots/" + base->key + "/fs";
  EXPECT_TRUE(exists(bfs + "/gone"));
  EXPECT_TRUE(exists(bfs + "/d/sub/old2"));
}

// The copy of the parent keeps what a layer can carry.
TEST(CopySnapshotter, ParentCopyKeepsAttributes) {
  TempDir tmp;
  auto s = open_snapshotter(tmp.path() + "/snapshots", "copy");
  ASSERT_TRUE(s) << s.error().message;
  Ent su = file("bin/su", "su", 04755);
  su.uid = 7;
  su.gid = 8;
  su.xattrs = {{"user.k", "v"}};
  std::vector<Ent> ents = {su, hardlink("bin/su2", "bin/su"), symlink("l", "/bin/su"),
                           dir("t", 01777)};
  Ent fifo;
  fifo.path = "p";
  fifo.type = AE_IFIFO;
  ents.push_back(fifo);
  if (is_root()) {
    Ent dev;
    dev.path = "dev/zero";
    dev.type = AE_IFCHR;
    dev.major = 1;
    dev.minor = 5;
    ents.push_back(dev);
  }
  auto base = (*s)->apply_layer("", source_of(make_tar(ents)));
  ASSERT_TRUE(base) << base.error().message;
  auto up = (*s)->apply_layer(base->key, source_of(make_tar({file("new", "n")})));
  ASSERT_TRUE(up) << up.error().message;
  std::string fs = tmp.path() + "/snapshots/" + up->key + "/fs";
  struct stat a, b;
  ASSERT_EQ(::lstat((fs + "/bin/su").c_str(), &a), 0);
  ASSERT_EQ(::lstat((fs + "/bin/su2").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_mode & 07777, 04755u);
  EXPECT_EQ(a.st_mtime, 1600000000);
  if (is_root()) {
    EXPECT_EQ(a.st_uid, 7u);
    EXPECT_EQ(a.st_gid, 8u);
  }
  char v[8];
  ssize_t n = ::lgetxattr((fs + "/bin/su").c_str(), "user.k", v, sizeof v);
  if (n >= 0) {
    EXPECT_EQ(std::string(v, n), "v");
  }
  ASSERT_EQ(::lstat((fs + "/t").c_str(), &a), 0);
  EXPECT_EQ(a.st_mode & 07777, 01777u);
  EXPECT_EQ(a.st_mtime, 1600000000);
  ASSERT_EQ(::lstat((fs + "/l").c_str(), &a), 0);
  EXPECT_TRUE(S_ISLNK(a.st_mode));
  ASSERT_EQ(::lstat((fs + "/p").c_str(), &a), 0);
  EXPECT_TRUE(S_ISFIFO(a.st_mode));
  if (is_root()) {
    ASSERT_EQ(::lstat((fs + "/dev/zero").c_str(), &a), 0);
    EXPECT_EQ(a.st_rdev, makedev(1, 5));
  }
  EXPECT_EQ(slurp(fs + "/new"), "n");
}

// A 2-layer chain mounted for real: the upper whiteout hides the lower file,
// the opaque dir hides the lower dir's content.
TEST(Overlay, MountsChainWithWhiteouts) {
  BERTH_REQUIRE_ROOT("mounting overlay needs root");
  TempDir tmp;
  auto s = open_snapshotter(tmp.path() + "/snapshots", "");
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_STREQ((*s)->name(), "overlayfs");
  EXPECT_TRUE((*s)->independent_layers());
  auto base = (*s)->apply_layer("", source_of(make_tar(base_layer(), Comp::Gzip)));
  ASSERT_TRUE(base) << base.error().message;
  auto up = (*s)->apply_layer(base->key, source_of(make_tar(upper_layer(), Comp::Gzip)));
  ASSERT_TRUE(up) << up.error().message;
  auto dirs = (*s)->layer_dirs({base->key, up->key});
  ASSERT_TRUE(dirs);
  ASSERT_EQ(dirs->size(), 2u);
  EXPECT_EQ((*dirs)[0], tmp.path() + "/snapshots/" + up->key + "/fs");  // top first
  auto mounts = (*s)->prepare_rw("ctr1", {base->key, up->key});
  ASSERT_TRUE(mounts) << mounts.error().message;
  ASSERT_EQ(mounts->size(), 1u);
  const Mount& m = (*mounts)[0];
  EXPECT_EQ(m.type, "overlay");
  std::string opts;
  for (const auto& o : m.options) opts += (opts.empty() ? "" : ",") + o;
  EXPECT_EQ(opts, "lowerdir=" + (*dirs)[0] + ":" + (*dirs)[1] + ",upperdir=" + tmp.path() +
                      "/snapshots/ctr1/fs,workdir=" + tmp.path() + "/snapshots/ctr1/work");
  EXPECT_FALSE((*s)->prepare_rw("ctr1", {base->key}));  // taken
  std::string target = tmp.path() + "/merged";
  ASSERT_EQ(::mkdir(target.c_str(), 0755), 0);
  ASSERT_EQ(::mount(m.source.c_str(), target.c_str(), m.type.c_str(), 0, opts.c_str()), 0)
      << strerror(errno);
  bool keep = exists(target + "/keep"), gone = exists(target + "/gone"), e = exists(target + "/e"),
       old = exists(target + "/d/old"), old2 = exists(target + "/d/sub/old2"),
       fresh = exists(target + "/d/new");
  std::string mine = slurp(target + "/mine");
  ::umount2(target.c_str(), MNT_DETACH);
  EXPECT_TRUE(keep);
  EXPECT_FALSE(gone);
  EXPECT_FALSE(e);
  EXPECT_FALSE(old);
  EXPECT_FALSE(old2);
  EXPECT_TRUE(fresh);
  EXPECT_EQ(mine, "m");
  EXPECT_TRUE((*s)->remove("ctr1"));
}

}  // namespace
}  // namespace berth::snapshot
