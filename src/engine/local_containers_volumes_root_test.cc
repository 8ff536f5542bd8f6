// Volumes and binds of real containers (root, berth-monitor as in
// local_containers_root_test.cc): copy-up, data surviving rm, rm -v, the
// in-use conflict, references re-declared at restart, and a failed create
// that takes back the volumes and host directories it made.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/file.h"
#include "engine/fake_image_service.h"
#include "engine/local_containers.h"
#include "engine/root_test_support.h"
#include "engine/volumes.h"

namespace berth::engine {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class RootVolumesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::root_test_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    char t[] = "/tmp/berth-vol-root-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
    std::string r = dir_ + "/rootfs";
    testing::add_busybox_image(images_, r, {"/proc", "/sys", "/dev", "/tmp", "/data"},
                               {"sh", "echo", "cat", "true", "ls"});
    std::ofstream(r + "/data/hello") << "from the image\n";
    open();
  }
  void TearDown() override {
    if (dir_.empty()) return;
    if (svc_) {
      ListOptions all;
      all.all = true;
      if (auto l = svc_->list(all)) {
        for (const auto& c : *l) (void)svc_->remove(c.id, true, true);
      }
    }
    svc_.reset();
    vols_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void open() {
    svc_.reset();
    vols_.reset();
    auto meta = metadata::MetadataStore::open(dir_ + "/metadata.db");
    ASSERT_TRUE(meta.has_value()) << meta.error().message;
    auto v = VolumeService::open(dir_ + "/data", std::move(*meta), bus_);
    ASSERT_TRUE(v.has_value()) << v.error().message;
    vols_ = std::move(*v);
    auto store = metadata::MetadataStore::open(dir_ + "/metadata.db");
    ASSERT_TRUE(store.has_value()) << store.error().message;
    ContainerServiceOptions o;
    o.data_root = dir_ + "/data";
    o.exec_root = dir_ + "/exec";
    o.monitor_binary = testing::test_monitor_binary();
    o.cgroup_parent = "/berth-test";
    o.volumes = vols_.get();
    auto s = open_container_service(o, images_, std::move(*store), bus_);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    svc_ = std::move(*s);
  }
  Result<CreateResult> create(const std::string& name, std::vector<std::string> cmd,
                              std::vector<std::string> binds,
                              std::vector<std::string> volumes = {}) {
    CreateRequest r;
    r.name = name;
    r.config.image = "busybox:latest";
    r.config.cmd = std::move(cmd);
    r.config.volumes = std::move(volumes);
    r.host_config.binds = std::move(binds);
    return svc_->create(r);
  }
  int run(const std::string& name) {
    EXPECT_TRUE(svc_->start(name, nullptr).has_value());
    auto w = svc_->wait(name, "not-running", {});
    EXPECT_TRUE(w.has_value()) << w.error().message;
    return w ? w->status_code : -1;
  }
  std::vector<std::string> volume_names() {
    std::vector<std::string> out;
    auto all = vols_->list({}).value();  // a named copy: the Result is a temporary
    for (const auto& v : all) out.push_back(v.name);
    return out;
  }

  std::string dir_;
  testing::FakeImageService images_;
  EventBus bus_;
  std::unique_ptr<VolumeService> vols_;
  std::unique_ptr<ContainerService> svc_;
};

TEST_F(RootVolumesTest, NamedVolumeGetsImageContentAndOutlivesItsContainer) {
  ASSERT_TRUE(create("wr", {"sh", "-c", "cat /data/hello && echo mine > /data/f"}, {"keep:/data"}));
  EXPECT_EQ(run("wr"), 0);
  auto v = vols_->inspect("keep").value();
  EXPECT_EQ(slurp(v.mountpoint + "/hello"), "from the image\n");
  EXPECT_EQ(slurp(v.mountpoint + "/f"), "mine\n");
  auto d = svc_->inspect("wr", false).value();
  ASSERT_EQ(d.mounts.size(), 1u);
  EXPECT_EQ(d.mounts[0].name, "keep");
  EXPECT_EQ(d.mounts[0].source, v.mountpoint);
  ASSERT_TRUE(svc_->remove("wr", false, true).has_value());
  EXPECT_EQ(slurp(v.mountpoint + "/f"), "mine\n");  // rm -v keeps named volumes
  ASSERT_TRUE(create("rd", {"cat", "/data/f"}, {"keep:/data:ro"}));
  EXPECT_EQ(run("rd"), 0);
}

TEST_F(RootVolumesTest, InUseConflictRmVAndRestart) {
  auto c = create("us", {"true"}, {"named:/n"}, {"/anon"});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  auto d = svc_->inspect("us", false).value();
  ASSERT_EQ(d.mounts.size(), 2u);
  std::string anon = d.mounts[1].name;
  EXPECT_EQ(anon.size(), 64u);
  auto r = vols_->remove("named", false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::Conflict);
  EXPECT_EQ(r.error().message, "remove named: volume is in use - [" + c->id + "]");
  // The references come back with the daemon.
  open();
  EXPECT_EQ(vols_->remove(anon, false).error().code, Errc::Conflict);
  EXPECT_EQ(vols_->list({{"dangling", {"true"}}}).value().size(), 0u);
  ASSERT_TRUE(svc_->remove("us", false, true).has_value());
  EXPECT_EQ(volume_names(), (std::vector<std::string>{"named"}));
  EXPECT_TRUE(vols_->remove("named", false).has_value());
}

TEST_F(RootVolumesTest, FailedCreateTakesBackWhatItMade) {
  std::string host = dir_ + "/host/new";
  CreateRequest r;
  r.name = "bad";
  r.config.image = "busybox:latest";
  r.config.cmd = {"true"};
  r.config.user = "nosuchuser";  // fails in the spec, after the volumes exist
  r.host_config.binds = {"made:/data", host + ":/h"};
  auto c = svc_->create(r);
  ASSERT_FALSE(c.has_value());
  EXPECT_TRUE(volume_names().empty());
  EXPECT_FALSE(fs::exists(dir_ + "/host"));
  ListOptions all;
  all.all = true;
  EXPECT_TRUE(svc_->list(all).value().empty());
  // An existing volume used by a failed create stays, unreferenced.
  ASSERT_TRUE(vols_->create({"kept", "", {}, {}}).has_value());
  r.host_config.binds = {"kept:/data"};
  ASSERT_FALSE(svc_->create(r).has_value());
  EXPECT_EQ(volume_names(), (std::vector<std::string>{"kept"}));
  EXPECT_TRUE(vols_->remove("kept", false).has_value());
}

}  // namespace
}  // namespace berth::engine
