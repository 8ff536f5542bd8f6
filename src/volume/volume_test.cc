// The local driver: names, options, create/get/remove, crash repair on open,
// size, device mounts (root only) and copy-up.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/fd.h"
#include "volume/copy_up.h"
#include "volume/local_volumes.h"
#include "volume/mount_options.h"

namespace berth::volume {
namespace {

namespace fs = std::filesystem;

CreateOptions opts(std::string name, std::map<std::string, std::string> options = {},
                   std::string driver = "") {
  CreateOptions o;
  o.name = std::move(name);
  o.options = std::move(options);
  o.driver = std::move(driver);
  return o;
}

class VolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-volume-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
    open_store();
  }
  void TearDown() override {
    vols_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void open_store() {
    vols_.reset();
    store_.reset();
    auto m = metadata::MetadataStore::open(dir_ + "/metadata.db");
    ASSERT_TRUE(m.has_value()) << m.error().message;
    store_ = std::move(*m);
    auto v = LocalVolumes::open(dir_ + "/volumes", store_);
    ASSERT_TRUE(v.has_value()) << v.error().message;
    vols_ = std::move(*v);
  }
  static void write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }

  std::string dir_;
  std::shared_ptr<metadata::MetadataStore> store_;
  std::unique_ptr<LocalVolumes> vols_;
};

TEST(VolumeNames, DockerRule) {
  EXPECT_TRUE(validate_name("data").has_value());
  EXPECT_TRUE(validate_name("a.b_c-9").has_value());
  EXPECT_EQ(validate_name("a").error().message,  // two characters at least
            "volume name is too short, names should be at least two alphanumeric characters");
  EXPECT_FALSE(validate_name("-x").has_value());
  auto r = validate_name("a/b");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_EQ(r.error().message,
            "\"a/b\" includes invalid characters for a local volume name, only "
            "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
            "directory, use absolute path");
  EXPECT_EQ(random_name().size(), 64u);
  EXPECT_NE(random_name(), random_name());
}

TEST(VolumeOptions, DockerValidation) {
  EXPECT_TRUE(validate_options({}).has_value());
  EXPECT_TRUE(validate_options({{"type", "tmpfs"}, {"device", "tmpfs"}, {"o", "size=1m"}}));
  EXPECT_EQ(validate_options({{"foo", "1"}}).error().message, "invalid option: \"foo\"");
  EXPECT_EQ(validate_options({{"type", "tmpfs"}}).error().message,
            "missing required option: \"device\"");
  EXPECT_EQ(validate_options({{"o", "bind"}, {"device", "/x"}}).error().message,
            "missing required option: \"type\"");
}

TEST(VolumeOptions, MountArgs) {
  auto a = parse_mount_options("size=10m,ro,nosuid,uid=1000");
  EXPECT_EQ(a.flags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID));
  EXPECT_EQ(a.data, "size=10m,uid=1000");
  EXPECT_FALSE(a.bind);
  auto b = parse_mount_options("bind,rshared");
  EXPECT_TRUE(b.bind);
  EXPECT_EQ(b.flags, static_cast<unsigned long>(MS_BIND));
  EXPECT_EQ(b.propagation, static_cast<unsigned long>(MS_SHARED | MS_REC));
  EXPECT_EQ(parse_mount_options("ro,rw").flags, 0u);
}

TEST_F(VolumeTest, CreateIsIdempotentByName) {
  bool created = false;
  auto v = vols_->create(
      [] {
        auto o = opts("data");
        o.labels = {{"k", "v"}};
        return o;
      }(),
      &created);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_TRUE(created);
  EXPECT_EQ(v->mountpoint, dir_ + "/volumes/data/_data");
  EXPECT_TRUE(fs::is_directory(v->mountpoint));
  EXPECT_EQ(v->labels.at("k"), "v");
  auto again = vols_->create(opts("data"), &created);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(created);
  EXPECT_EQ(again->labels.at("k"), "v");
  auto anon = vols_->create([] {
    auto o = opts("");
    o.anonymous = true;
    return o;
  }());
  ASSERT_TRUE(anon.has_value());
  EXPECT_EQ(anon->name.size(), 64u);
  EXPECT_TRUE(anon->anonymous);
  EXPECT_EQ(vols_->list().size(), 2u);
}

TEST_F(VolumeTest, BadInputCreatesNothing) {
  EXPECT_EQ(vols_->create(opts("a/b")).error().code, Errc::InvalidArgument);
  EXPECT_EQ(vols_->create(opts("x1", {{"bogus", "1"}})).error().code, Errc::InvalidArgument);
  auto d = vols_->create(opts("x2", {}, "nfsplugin"));
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().message,
            "error looking up volume plugin nfsplugin: plugin \"nfsplugin\" not found");
  EXPECT_TRUE(vols_->list().empty());
  EXPECT_FALSE(fs::exists(dir_ + "/volumes/x1"));
  EXPECT_TRUE(store_->list_volumes().value().empty());
}

TEST_F(VolumeTest, RemoveDeletesRowAndData) {
  auto v = vols_->create(opts("gone")).value();
  write(v.mountpoint + "/f", "x");
  ASSERT_TRUE(vols_->remove("gone").has_value());
  EXPECT_FALSE(fs::exists(dir_ + "/volumes/gone"));
  EXPECT_FALSE(store_->get_volume("gone").value().has_value());
  EXPECT_EQ(vols_->remove("gone").error().code, Errc::NotFound);
  EXPECT_EQ(vols_->get("gone").error().code, Errc::NotFound);
}

TEST_F(VolumeTest, OpenRepairsWhatACrashLeft) {
  vols_->create(opts("kept")).value();
  vols_->create(opts("halfremoved")).value();
  // A row whose directory vanished: recreated empty.
  fs::remove_all(dir_ + "/volumes/kept");
  // A remove interrupted after its rename: finished.
  fs::rename(dir_ + "/volumes/halfremoved", dir_ + "/volumes/.trash-halfremoved");
  // A create interrupted before its row: an empty dir goes, a used one stays.
  fs::create_directories(dir_ + "/volumes/norow/_data");
  fs::create_directories(dir_ + "/volumes/userdata/_data");
  write(dir_ + "/volumes/userdata/_data/f", "keep me");
  open_store();
  EXPECT_TRUE(fs::is_directory(dir_ + "/volumes/kept/_data"));
  EXPECT_TRUE(vols_->get("kept").has_value());
  EXPECT_FALSE(vols_->get("halfremoved").has_value());
  EXPECT_FALSE(store_->get_volume("halfremoved").value().has_value());
  EXPECT_FALSE(fs::exists(dir_ + "/volumes/.trash-halfremoved"));
  EXPECT_FALSE(fs::exists(dir_ + "/volumes/norow"));
  ASSERT_TRUE(vols_->get("userdata").has_value());
  EXPECT_TRUE(store_->get_volume("userdata").value().has_value());
}

TEST_F(VolumeTest, SizeCountsRegularFilesOnce) {
  auto v = vols_->create(opts("sized")).value();
  write(v.mountpoint + "/a", std::string(100, 'a'));
  fs::create_directories(v.mountpoint + "/d");
  write(v.mountpoint + "/d/b", std::string(50, 'b'));
  ASSERT_EQ(::link((v.mountpoint + "/a").c_str(), (v.mountpoint + "/d/a").c_str()), 0);
  EXPECT_EQ(vols_->size("sized").value(), 150);
}

TEST_F(VolumeTest, TmpfsDeviceIsMountedForItsHolders) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mount)";
  auto v = vols_->create(opts("ram", {{"type", "tmpfs"}, {"device", "tmpfs"}, {"o", "size=1m"}}))
               .value();
  ASSERT_TRUE(vols_->mount("ram", "c1").has_value());
  ASSERT_TRUE(vols_->mount("ram", "c2").has_value());
  struct stat a {
  }, b{};
  ASSERT_EQ(::stat(v.mountpoint.c_str(), &a), 0);
  ASSERT_EQ(::stat((dir_ + "/volumes/ram").c_str(), &b), 0);
  EXPECT_NE(a.st_dev, b.st_dev);  // a tmpfs is mounted there
  EXPECT_EQ(vols_->remove("ram").error().code, Errc::FailedPrecondition);
  ASSERT_TRUE(vols_->unmount("ram", "c1").has_value());
  ASSERT_EQ(::stat(v.mountpoint.c_str(), &a), 0);
  EXPECT_NE(a.st_dev, b.st_dev);  // c2 still holds it
  ASSERT_TRUE(vols_->unmount("ram", "c2").has_value());
  ASSERT_EQ(::stat(v.mountpoint.c_str(), &a), 0);
  EXPECT_EQ(a.st_dev, b.st_dev);
  // A failing mount is reported with docker's prefix and holds nothing.
  vols_->create(opts("bad", {{"type", "nosuchfs"}, {"device", "x"}})).value();
  auto m = vols_->mount("bad", "c1");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message.find("failed to mount local volume"), std::string::npos);
  EXPECT_TRUE(vols_->remove("bad").has_value());
  EXPECT_TRUE(vols_->remove("ram").has_value());
}

TEST_F(VolumeTest, CopyUpKeepsModesLinksAndSkipsExisting) {
  std::string src = dir_ + "/src";
  fs::create_directories(src + "/sub");
  write(src + "/file", "hello");
  ::chmod((src + "/file").c_str(), 0640);
  ::chmod((src + "/sub").c_str(), 0711);
  ::chmod(src.c_str(), 0750);
  ASSERT_EQ(::symlink("/etc/passwd", (src + "/link").c_str()), 0);
  ASSERT_EQ(::link((src + "/file").c_str(), (src + "/sub/hard").c_str()), 0);
  ASSERT_EQ(::mkfifo((src + "/fifo").c_str(), 0600), 0);
  std::string dst = dir_ + "/dst";
  fs::create_directories(dst);
  write(dst + "/existing", "mine");
  write(src + "/existing", "image's");
  EXPECT_FALSE(dir_is_empty(dst));
  Fd s(::open(src.c_str(), O_RDONLY | O_DIRECTORY));
  auto r = copy_up(s.get(), dst);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((dst + "/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_nlink, 2u);
  ASSERT_EQ(::stat((dst + "/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  ASSERT_EQ(::stat(dst.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(fs::read_symlink(dst + "/link").string(), "/etc/passwd");
  EXPECT_TRUE(fs::is_fifo(dst + "/fifo"));
  std::ifstream in(dst + "/existing");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "mine");
  EXPECT_TRUE(dir_is_empty(dir_ + "/nope"));
}

}  // namespace
}  // namespace berth::volume
