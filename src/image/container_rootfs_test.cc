// Container support of LocalImageService on the overlay snapshotter (root):
// writable layers, GC, commit.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "base/scope_exit.h"
#include "base/strings.h"
#include "image/internal.h"
#include "image/tar_io.h"

namespace berth::image {
namespace {

namespace fs = std::filesystem;

const std::string kC1(64, 'a');
const std::string kC2(64, 'b');

std::string tar_of(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out;
  ByteSink sink = [&](std::string_view d) -> Result<void> {
    out.append(d);
    return ok();
  };
  auto w = TarWriter::open(sink);
  EXPECT_TRUE(w);
  for (const auto& [name, data] : entries) {
    if (name.ends_with("/")) {
      EXPECT_TRUE((*w)->add_dir(name));
    } else {
      EXPECT_TRUE((*w)->add_bytes(name, data));
    }
  }
  EXPECT_TRUE((*w)->close());
  return out;
}

ByteSource once(const std::string& s) {
  auto done = std::make_shared<bool>(false);
  return [s, done]() -> Result<std::string> {
    if (*done) return std::string();
    *done = true;
    return s;
  };
}

std::vector<std::string> tar_names(const std::string& bytes) {
  std::vector<std::string> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) out.push_back(archive_entry_pathname(e));
  archive_read_free(a);
  return out;
}

class ContainerRootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (overlay snapshotter)";
    char tmpl[] = "/tmp/berth-crootfs-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto m = metadata::MetadataStore::open(dir_ + "/metadata.db");
    ASSERT_TRUE(m) << m.error().message;
    meta_ = std::move(*m);
    LocalOptions o;
    o.data_root = dir_;
    o.storage_driver = "overlayfs";
    o.registry_client = nullptr;
    auto s = open_local_image_service(o, meta_);
    if (!s) GTEST_SKIP() << "overlay not usable here: " << s.error().message;
    svc_ = std::move(*s);
  }
  void TearDown() override {
    if (!mnt_.empty()) ::umount2(mnt_.c_str(), MNT_DETACH);
    svc_.reset();
    meta_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  Digest import_image(const std::string& repo,
                      const std::vector<std::pair<std::string, std::string>>& files) {
    ImportRequest r;
    r.repository = repo;
    auto id = svc_->import(r, once(tar_of(files)), nullptr);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : Digest{};
  }
  bool snapshot_exists(const std::string& key) { return fs::exists(dir_ + "/snapshots/" + key); }
  std::string read(const std::string& p) {
    std::ifstream f(p);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  // Mounts the rootfs mounts of a container on dir_/mnt (one overlay or bind).
  void mount_rootfs(const std::vector<RootfsMount>& ms) {
    ASSERT_EQ(ms.size(), 1u);
    mnt_ = dir_ + "/mnt";
    fs::create_directories(mnt_);
    const auto& m = ms[0];
    if (m.type == "bind") {
      ASSERT_EQ(::mount(m.source.c_str(), mnt_.c_str(), nullptr, MS_BIND | MS_REC, nullptr), 0);
      return;
    }
    ASSERT_EQ(
        ::mount(m.source.c_str(), mnt_.c_str(), m.type.c_str(), 0, join(m.options, ",").c_str()), 0)
        << strerror(errno);
  }

  std::string dir_, mnt_;
  std::shared_ptr<metadata::MetadataStore> meta_;
  std::unique_ptr<ImageService> svc_;
};

TEST_F(ContainerRootfsTest, PrepareRemoveRoundTrip) {
  Digest img = import_image("base", {{"etc/", ""}, {"etc/hello", "hi"}});
  auto ms = svc_->prepare_container_rootfs(kC1, img);
  ASSERT_TRUE(ms) << ms.error().message;
  ASSERT_EQ(ms->size(), 1u);
  EXPECT_EQ((*ms)[0].type, "overlay");
  auto opts = join((*ms)[0].options, ",");
  EXPECT_NE(opts.find("lowerdir=" + dir_ + "/snapshots/"), std::string::npos) << opts;
  EXPECT_NE(opts.find("upperdir=" + dir_ + "/snapshots/rw-" + kC1 + "/fs"), std::string::npos);
  EXPECT_NE(opts.find("workdir=" + dir_ + "/snapshots/rw-" + kC1 + "/work"), std::string::npos);
  mount_rootfs(*ms);
  EXPECT_EQ(read(mnt_ + "/etc/hello"), "hi");
  ASSERT_EQ(::umount2(mnt_.c_str(), 0), 0);
  mnt_.clear();

  auto again = svc_->prepare_container_rootfs(kC1, img);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::AlreadyExists);
  auto unknown = svc_->prepare_container_rootfs(kC2, sha256_of("nothing"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::NotFound);
  EXPECT_FALSE(svc_->prepare_container_rootfs("../x", img));

  auto list = svc_->list_container_rootfs();
  ASSERT_TRUE(list);
  EXPECT_EQ(*list, std::vector<std::string>{kC1});
  auto changes = svc_->container_changes_dir(kC1);
  ASSERT_TRUE(changes) << changes.error().message;
  EXPECT_EQ(*changes, dir_ + "/snapshots/rw-" + kC1 + "/fs");
  EXPECT_EQ(svc_->container_changes_dir(kC2).error().code, Errc::NotFound);

  ASSERT_TRUE(svc_->remove_container_rootfs(kC1));
  EXPECT_FALSE(snapshot_exists("rw-" + kC1));
  EXPECT_TRUE(svc_->list_container_rootfs()->empty());
  EXPECT_TRUE(svc_->remove_container_rootfs(kC1)) << "absent is a no-op";
  auto leases = meta_->list_leases();  // kept: a range-for over *temporary would dangle
  ASSERT_TRUE(leases.has_value());
  for (const auto& l : *leases) EXPECT_FALSE(starts_with(l.id, "container:"));
}

TEST_F(ContainerRootfsTest, TwoContainersOnOneImage) {
  Digest img = import_image("", {{"f", "x"}});
  ASSERT_TRUE(svc_->prepare_container_rootfs(kC1, img));
  ASSERT_TRUE(svc_->prepare_container_rootfs(kC2, img));
  EXPECT_EQ(svc_->list_container_rootfs()->size(), 2u);
  ASSERT_TRUE(svc_->remove_container_rootfs(kC2));
  EXPECT_EQ(*svc_->list_container_rootfs(), std::vector<std::string>{kC1});
}

TEST_F(ContainerRootfsTest, GcKeepsRwSnapshotsAndTheirChain) {
  Digest img = import_image("base", {{"f", "x"}});
  auto rec = meta_->get_image(img);
  ASSERT_TRUE(rec);
  auto layer = meta_->get_layer(rec->chain_ids[0]);
  ASSERT_TRUE(layer && *layer);
  const std::string lower_key = (*layer)->snapshot_key;
  ASSERT_TRUE(svc_->prepare_container_rootfs(kC1, img));

  ASSERT_TRUE(svc_->gc());
  EXPECT_TRUE(snapshot_exists("rw-" + kC1));
  // rmi -f of the image: its row goes, but the container's chain must stay.
  auto rm = svc_->remove(img.str(), true, false);
  ASSERT_TRUE(rm) << rm.error().message;
  ASSERT_TRUE(svc_->gc());
  EXPECT_TRUE(snapshot_exists("rw-" + kC1));
  EXPECT_TRUE(snapshot_exists(lower_key)) << "the lower layer of a container was swept";

  ASSERT_TRUE(svc_->remove_container_rootfs(kC1));
  ASSERT_TRUE(svc_->gc());
  EXPECT_FALSE(snapshot_exists(lower_key));
}

TEST_F(ContainerRootfsTest, RepairRemakesALayerAPowerLossTook) {
  Digest img = import_image("base", {{"f", "x"}});
  ASSERT_TRUE(svc_->prepare_container_rootfs(kC1, img, Durability::ProcessCrashSafe));
  ASSERT_TRUE(svc_->prepare_container_rootfs(kC2, img, Durability::ProcessCrashSafe));
  auto there = svc_->repair_container_rootfs(kC1, img);
  ASSERT_TRUE(there) << there.error().message;
  EXPECT_FALSE(*there) << "nothing to repair";
  std::ofstream(*svc_->container_changes_dir(kC1) + "/written") << "x";
  // kC1 has its (durable) row; kC2's row never made it. The power loss
  // takes both writable layers, not the leases.
  metadata::ContainerRow row;
  row.id = kC1;
  row.name = "c1";
  row.image = img;
  row.config = "{}";
  row.state = "{}";
  ASSERT_TRUE(meta_->put_container(row));
  fs::remove_all(dir_ + "/snapshots/rw-" + kC1);
  fs::remove_all(dir_ + "/snapshots/rw-" + kC2);
  ASSERT_TRUE(svc_->gc());  // startup: before the engine's restore
  auto listed = meta_->list_leases();
  ASSERT_TRUE(listed.has_value());
  std::set<std::string> leases;
  for (const auto& l : *listed) leases.insert(l.id);
  EXPECT_TRUE(leases.contains("container:" + kC1)) << "a container row keeps its lease";
  EXPECT_FALSE(leases.contains("container:" + kC2)) << "an orphan lease goes";

  auto fixed = svc_->repair_container_rootfs(kC1, img);
  ASSERT_TRUE(fixed) << fixed.error().message;
  EXPECT_TRUE(*fixed);
  EXPECT_TRUE(snapshot_exists("rw-" + kC1));
  EXPECT_TRUE(fs::is_empty(*svc_->container_changes_dir(kC1))) << "made again, empty";
  EXPECT_FALSE(*svc_->repair_container_rootfs(kC1, img));
  EXPECT_EQ(*svc_->list_container_rootfs(), std::vector<std::string>{kC1});

  // Missing, and its image gone too: nothing to make it from.
  ASSERT_TRUE(svc_->remove(img.str(), true, false));
  fs::remove_all(dir_ + "/snapshots/rw-" + kC1);
  auto gone = svc_->repair_container_rootfs(kC1, img);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::NotFound);
  EXPECT_FALSE(svc_->repair_container_rootfs("../x", img));
}

std::string lowerdir_of(const std::vector<RootfsMount>& ms) {
  for (const auto& o : ms.at(0).options)
    if (starts_with(o, "lowerdir=")) return o.substr(9);
  return "";
}

TEST_F(ContainerRootfsTest, InitLayerHoldsWhatTheImageLacksAndIsShared) {
  // No /proc, /dev, /sys, /etc/hosts, /etc/hostname, /etc/resolv.conf; /etc exists.
  Digest img = import_image("bare", {{"etc/", ""}, {"etc/passwd", "root:x:0:0::/:/bin/sh\n"}});
  auto ms = svc_->prepare_container_rootfs(kC1, img);
  ASSERT_TRUE(ms) << ms.error().message;
  auto lower = split(lowerdir_of(*ms), ':', true);
  ASSERT_EQ(lower.size(), 2u) << lowerdir_of(*ms);  // init layer on top of the image's
  const std::string init_dir = lower[0];
  for (const char* d : {"proc", "dev", "sys"})
    EXPECT_TRUE(fs::is_directory(init_dir + "/" + d)) << d;
  for (const char* f : {"etc/hosts", "etc/hostname", "etc/resolv.conf"})
    EXPECT_TRUE(fs::is_regular_file(init_dir + "/" + f)) << f;
  EXPECT_FALSE(fs::exists(init_dir + "/etc/passwd")) << "the image's own files stay below";
  mount_rootfs(*ms);
  EXPECT_EQ(read(mnt_ + "/etc/passwd"), "root:x:0:0::/:/bin/sh\n");
  EXPECT_TRUE(fs::is_directory(mnt_ + "/proc"));
  struct stat image_etc, merged_etc;
  ASSERT_EQ(::stat((lower[1] + "/etc").c_str(), &image_etc), 0);
  ASSERT_EQ(::stat((mnt_ + "/etc").c_str(), &merged_etc), 0);
  EXPECT_EQ(merged_etc.st_mode, image_etc.st_mode);
  EXPECT_EQ(merged_etc.st_mtim.tv_sec, image_etc.st_mtim.tv_sec);
  ASSERT_EQ(::umount2(mnt_.c_str(), 0), 0);
  mnt_.clear();
  EXPECT_TRUE(fs::is_empty(*svc_->container_changes_dir(kC1))) << "nothing in the writable layer";

  // A second container shares it; gc keeps it while a container uses it.
  auto ms2 = svc_->prepare_container_rootfs(kC2, img);
  ASSERT_TRUE(ms2);
  EXPECT_EQ(lowerdir_of(*ms2), lowerdir_of(*ms));
  ASSERT_TRUE(svc_->remove_container_rootfs(kC1));
  ASSERT_TRUE(svc_->gc());
  EXPECT_TRUE(fs::exists(init_dir));
  ASSERT_TRUE(svc_->remove_container_rootfs(kC2));
  ASSERT_TRUE(svc_->gc());
  EXPECT_FALSE(fs::exists(init_dir)) << "unused init layers are swept";
  auto rec = meta_->get_image(img);
  ASSERT_TRUE(rec);
  auto init_row = meta_->get_layer(init_chain_id(rec->chain_ids.back()));
  ASSERT_TRUE(init_row);
  EXPECT_FALSE(*init_row);
  // The image is untouched, and a new container gets a new init layer.
  auto ms3 = svc_->prepare_container_rootfs(kC1, img);
  ASSERT_TRUE(ms3) << ms3.error().message;
  EXPECT_EQ(split(lowerdir_of(*ms3), ':', true).size(), 2u);
}

TEST_F(ContainerRootfsTest, NoInitLayerForAnImageThatHasItAllAndNoneUnderASymlinkedEtc) {
  Digest full = import_image("full", {{"proc/", ""},
                                      {"dev/", ""},
                                      {"sys/", ""},
                                      {"etc/", ""},
                                      {"etc/hosts", ""},
                                      {"etc/hostname", ""},
                                      {"etc/resolv.conf", ""}});
  auto ms = svc_->prepare_container_rootfs(kC1, full);
  ASSERT_TRUE(ms) << ms.error().message;
  EXPECT_EQ(split(lowerdir_of(*ms), ':', true).size(), 1u) << lowerdir_of(*ms);

  // etc is a symlink in the image: no etc directory may shadow it.
  auto l = meta_->get_image(full);
  ASSERT_TRUE(l);
  std::string base = dir_ + "/symlinked";
  fs::create_directories(base + "/usr/etc");
  fs::create_symlink("usr/etc", base + "/etc");
  auto dirs = missing_init_entries({base});
  std::vector<std::string> paths;
  for (const auto& e : dirs) paths.push_back(e.path + (e.dir ? "/" : ""));
  EXPECT_EQ(paths, (std::vector<std::string>{"proc/", "dev/", "sys/"}));
  // A real etc of the image: the init layer's etc (needed for the files)
  // keeps the image's mode, owner and mtime, which the merged /etc shows.
  fs::remove(base + "/etc");
  ASSERT_EQ(::mkdir((base + "/etc").c_str(), 0750), 0);
  ASSERT_EQ(::chown((base + "/etc").c_str(), 12, 34), 0);
  struct timespec times[2] = {{12345, 0}, {12345, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (base + "/etc").c_str(), times, 0), 0);
  auto with_etc = missing_init_entries({base});
  ASSERT_EQ(with_etc.size(), 7u);
  EXPECT_EQ(with_etc[3].path, "etc");
  EXPECT_TRUE(with_etc[3].dir && with_etc[3].copy_of_image_dir);
  EXPECT_EQ(with_etc[3].perm, 0750u);
  EXPECT_EQ(with_etc[3].uid, 12);
  EXPECT_EQ(with_etc[3].gid, 34);
  EXPECT_EQ(with_etc[3].mtime, 12345);
  // With no etc at all, it is made with its files.
  fs::remove(base + "/etc");
  paths.clear();
  for (const auto& e : missing_init_entries({base})) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"proc", "dev", "sys", "etc", "etc/hosts",
                                             "etc/hostname", "etc/resolv.conf"}));
}

TEST_F(ContainerRootfsTest, GcDropsTheLeaseOfAVanishedRwSnapshot) {
  Digest img = import_image("base", {{"f", "x"}});
  ASSERT_TRUE(svc_->prepare_container_rootfs(kC1, img));
  // As if the daemon died between remove_container_rootfs's two steps.
  std::error_code ec;
  fs::remove_all(dir_ + "/snapshots/rw-" + kC1, ec);
  ASSERT_TRUE(svc_->gc());
  auto leases = meta_->list_leases();  // kept: a range-for over *temporary would dangle
  ASSERT_TRUE(leases.has_value());
  for (const auto& l : *leases) EXPECT_FALSE(starts_with(l.id, "container:"));
}

TEST_F(ContainerRootfsTest, CommitAddedDeletedAndOpaque) {
  Digest img = import_image(
      "base", {{"keep", "k"}, {"del", "d"}, {"dir/", ""}, {"dir/old", "o"}, {"dir2/", ""}});
  ASSERT_TRUE(svc_->prepare_container_rootfs(kC1, img));
  std::string up = *svc_->container_changes_dir(kC1);
  // What overlay writes for: echo > new.txt; rm del; rm -r dir; mkdir dir;
  // echo > dir/fresh; echo > dir2/sub (dir2 copied up, not opaque).
  std::ofstream(up + "/new.txt") << "new";
  ASSERT_EQ(::mknod((up + "/del").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_EQ(::mkdir((up + "/dir").c_str(), 0755), 0);
  ASSERT_EQ(::lsetxattr((up + "/dir").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  std::ofstream(up + "/dir/fresh") << "f";
  ASSERT_EQ(::mkdir((up + "/dir2").c_str(), 0755), 0);
  std::ofstream(up + "/dir2/sub") << "s";

  CommitRequest req;
  req.container_id = kC1;
  req.parent = img;
  req.config = Json{{"Cmd", Json::array({"sh", "-c", "true"})}, {"Env", Json::array({"A=1"})}};
  req.comment = "my change";
  req.author = "me";
  req.repository = "committed";
  req.tag = "v1";
  auto id = svc_->commit_container(req);
  ASSERT_TRUE(id) << id.error().message;

  auto rows = svc_->list(ListFilters{});
  ASSERT_TRUE(rows);
  bool listed = false;
  for (const auto& s : *rows)
    if (s.id == *id) listed = s.repo_tags == std::vector<std::string>{"committed:v1"};
  EXPECT_TRUE(listed);
  auto d = svc_->inspect("committed:v1");
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->diff_ids.size(), 2u);
  EXPECT_EQ(d->config["author"], "me");
  EXPECT_EQ(d->config["comment"], "my change");  // image inspect's Comment, as docker
  EXPECT_EQ(d->config["parent"], req.parent.str());
  EXPECT_EQ(d->config["config"]["Env"], Json::array({"A=1"}));
  auto h = svc_->history("committed:v1");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].comment, "my change");
  EXPECT_EQ((*h)[0].created_by, "sh -c true");

  // The new layer blob (plain tar: its digest is the diff id).
  auto c = content::ContentStore::open(dir_ + "/content");
  ASSERT_TRUE(c);
  auto blob = (*c)->read(d->diff_ids[1]);
  ASSERT_TRUE(blob) << blob.error().message;
  EXPECT_EQ(tar_names(*blob),
            (std::vector<std::string>{".wh.del", "dir/", "dir/.wh..wh..opq", "dir/fresh", "dir2/",
                                      "dir2/sub", "new.txt"}));

  // The image's rootfs (its apply chain, mounted) shows the changes.
  auto ms = svc_->prepare_container_rootfs(kC2, *id);
  ASSERT_TRUE(ms) << ms.error().message;
  mount_rootfs(*ms);
  EXPECT_EQ(read(mnt_ + "/keep"), "k");
  EXPECT_EQ(read(mnt_ + "/new.txt"), "new");
  EXPECT_FALSE(fs::exists(mnt_ + "/del"));
  EXPECT_FALSE(fs::exists(mnt_ + "/dir/old"));
  EXPECT_EQ(read(mnt_ + "/dir/fresh"), "f");
  EXPECT_EQ(read(mnt_ + "/dir2/sub"), "s");
  ASSERT_EQ(::umount2(mnt_.c_str(), 0), 0);
  mnt_.clear();

  // The committed image survives GC and a save (its blobs are referenced).
  ASSERT_TRUE(svc_->gc());
  std::string saved;
  ASSERT_TRUE(svc_->save({"committed:v1"}, [&](std::string_view b) -> Result<void> {
    saved.append(b);
    return ok();
  }));
  EXPECT_FALSE(saved.empty());
}

TEST_F(ContainerRootfsTest, CommitWithoutChangesAddsNoLayer) {
  Digest img = import_image("base", {{"f", "x"}});
  ASSERT_TRUE(svc_->prepare_container_rootfs(kC1, img));
  CommitRequest req;
  req.container_id = kC1;
  req.parent = img;
  req.config = Json::object();
  auto id = svc_->commit_container(req);
  ASSERT_TRUE(id) << id.error().message;
  auto d = svc_->inspect(id->str());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->diff_ids.size(), 1u);
  auto h = svc_->history(id->str());
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), 2u);
  EXPECT_TRUE(d->summary.repo_tags.empty());

  // commit -c: Dockerfile instructions on top of the given config; a bad
  // one fails before anything is stored.
  req.config = Json{{"Env", {"A=1"}}, {"Cmd", {"sh"}}};
  req.changes = {"ENV B=2", "CMD [\"echo\", \"hi\"]"};
  auto changed = svc_->commit_container(req);
  ASSERT_TRUE(changed) << changed.error().message;
  auto cd = svc_->inspect(changed->str());
  ASSERT_TRUE(cd);
  EXPECT_EQ(cd->config["config"]["Env"], Json::array({"A=1", "B=2"}));
  EXPECT_EQ(cd->config["config"]["Cmd"], Json::array({"echo", "hi"}));
  req.changes = {"BOGUS x"};
  EXPECT_EQ(svc_->commit_container(req).error().code, Errc::InvalidArgument);
  req.changes.clear();

  req.container_id = kC2;  // no rootfs
  EXPECT_EQ(svc_->commit_container(req).error().code, Errc::NotFound);
  req.container_id = kC1;
  req.repository = "x";
  req.tag = "bad tag";
  EXPECT_EQ(svc_->commit_container(req).error().code, Errc::InvalidArgument);
}

}  // namespace
}  // namespace berth::image
