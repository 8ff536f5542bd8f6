// LocalContainerService without a monitor: create (name rules, docker's
// messages, generated names, files and row, nothing left on failure),
// rename, remove, restore from rows with orphan cleanup, wait/logs of a
// created container. The lifecycle with a real berth-monitor is in
// local_containers_root_test.cc (root only).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "base/file.h"
#include "engine/fake_image_service.h"
#include "engine/local_containers.h"

namespace berth::engine {
namespace {

namespace fs = std::filesystem;

class LocalContainersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-ctr-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
    fs::create_directories(dir_ + "/data");
    fs::create_directories(dir_ + "/exec");
    fs::create_directories(dir_ + "/rootfs/etc");
    std::ofstream(dir_ + "/rootfs/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n"
                                                  "nobody:x:65534:65534:n:/home:/bin/false\n";
    std::ofstream(dir_ + "/rootfs/etc/group") << "root:x:0:\nnogroup:x:65534:\n";
    testing::FakeImageService::Image img;
    img.summary.id = sha256_of("image-config");
    img.summary.repo_tags = {"busybox:latest"};
    img.config = Json::parse(
        R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},
            "config":{"Cmd":["sh"],"Env":["PATH=/bin","A=image"],"Labels":{"from":"image"}}})");
    images_.images.push_back(img);
    images_.rootfs_dir = dir_ + "/rootfs";
    open();
  }
  void TearDown() override {
    svc_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void open() {
    svc_.reset();
    auto store = metadata::MetadataStore::open(dir_ + "/data/metadata.db");
    ASSERT_TRUE(store.has_value()) << store.error().message;
    ContainerServiceOptions o;
    o.data_root = dir_ + "/data";
    o.exec_root = dir_ + "/exec";
    o.monitor_binary = "/nonexistent/berth-monitor";
    auto s = open_container_service(o, images_, std::move(*store), bus_);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    svc_ = std::move(*s);
  }
  CreateRequest req(const std::string& name, const std::string& image = "busybox:latest") {
    CreateRequest r;
    r.name = name;
    r.config.image = image;
    return r;
  }
  size_t container_dirs() {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir_ + "/data/containers", ec);
         !ec && it != fs::directory_iterator(); ++it) {
      ++n;
    }
    return n;
  }
  std::vector<std::string> actions() {
    std::vector<std::string> out;
    auto sub = bus_.subscribe({}, int64_t{0}, std::nullopt);
    while (true) {
      auto n = sub->next(std::chrono::milliseconds(0));
      if (n.status != EventBus::Subscription::Status::Event) break;
      if (n.event.type == "container") out.push_back(n.event.action);
    }
    return out;
  }

  std::string dir_;
  testing::FakeImageService images_;
  EventBus bus_;
  std::unique_ptr<ContainerService> svc_;
};

TEST_F(LocalContainersTest, CreateMergesImageAndWritesBundle) {
  auto r = req("web");
  r.config.env = {"A=mine", "B=2"};
  r.config.labels = {{"mine", "1"}};
  auto c = svc_->create(r);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  ASSERT_EQ(c->id.size(), 64u);
  auto d = svc_->inspect("web", false).value();
  EXPECT_EQ(d.id, c->id);
  EXPECT_EQ(d.name, "/web");
  EXPECT_EQ(d.path, "sh");
  EXPECT_EQ(d.state.status, "created");
  EXPECT_EQ(d.config.hostname, c->id.substr(0, 12));
  EXPECT_EQ(d.config.labels.at("from"), "image");
  EXPECT_EQ(d.config.labels.at("mine"), "1");
  EXPECT_NE(std::find(d.config.env.begin(), d.config.env.end(), "A=mine"), d.config.env.end());
  EXPECT_EQ(std::find(d.config.env.begin(), d.config.env.end(), "A=image"), d.config.env.end());
  std::string cdir = dir_ + "/data/containers/" + c->id;
  EXPECT_TRUE(fs::exists(cdir + "/bundle/config.json"));
  EXPECT_EQ(read_file(cdir + "/hostname").value(), c->id.substr(0, 12) + "\n");
  EXPECT_TRUE(fs::exists(cdir + "/hosts"));
  EXPECT_TRUE(fs::exists(cdir + "/resolv.conf"));
  auto spec = parse_json(read_file(cdir + "/bundle/config.json").value(), "spec").value();
  EXPECT_EQ(spec["process"]["args"], Json::array({"sh"}));
  // Prefix and name lookups, and ps -a.
  EXPECT_EQ(svc_->inspect(c->id.substr(0, 6), false).value().id, c->id);
  EXPECT_EQ(svc_->inspect("/web", false).value().id, c->id);
  EXPECT_TRUE(svc_->list({}).value().empty());  // not running
  ListOptions all;
  all.all = true;
  ASSERT_EQ(svc_->list(all).value().size(), 1u);
  EXPECT_EQ(svc_->counts().total, 1);
  EXPECT_EQ(svc_->counts().stopped, 1);
  EXPECT_EQ(actions(), std::vector<std::string>{"create"});
  EXPECT_EQ(svc_->list(all).value()[0].command, "sh");
  // ps's COMMAND as dockerd writes it: arguments with a space in single quotes.
  auto q = req("quoted");
  q.config.cmd = std::vector<std::string>{"sh", "-c", "echo 'a b'; true", "x"};
  ASSERT_TRUE(svc_->create(q));
  auto rows = svc_->list(all).value();
  auto it = std::find_if(rows.begin(), rows.end(),
                         [](const ContainerSummary& r) { return r.names[0] == "/quoted"; });
  ASSERT_NE(it, rows.end());
  EXPECT_EQ(it->command, "sh -c 'echo 'a b'; true' x");
}

TEST_F(LocalContainersTest, DockerErrorsAndNothingLeftBehind) {
  auto bad = svc_->create(req("-bad"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
  EXPECT_EQ(bad.error().message,
            "Invalid container name (-bad), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  auto noimg = svc_->create(req("x1", "nope:1"));
  ASSERT_FALSE(noimg.has_value());
  EXPECT_EQ(noimg.error().code, Errc::NotFound);
  EXPECT_EQ(noimg.error().message, "No such image: nope:1");
  auto first = svc_->create(req("web")).value();
  auto dup = svc_->create(req("/web"));
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, Errc::Conflict);
  EXPECT_EQ(dup.error().message,
            "Conflict. The container name \"/web\" is already in use by container \"" + first.id +
                "\". You have to remove (or rename) that container to be able to reuse that name.");
  // A failure after the rootfs was prepared (bad capability) leaves nothing.
  auto r = req("capfail");
  r.host_config.cap_add = {"NOT_A_CAP"};
  auto e = svc_->create(r);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, Errc::InvalidArgument);
  EXPECT_EQ(container_dirs(), 1u);
  EXPECT_EQ(images_.container_rootfs.size(), 1u);
  ListOptions all;
  all.all = true;
  EXPECT_EQ(svc_->list(all).value().size(), 1u);
  // The failed name is free again.
  EXPECT_TRUE(svc_->create(req("capfail")).has_value());
  EXPECT_EQ(svc_->inspect("nope", false).error().message, "No such container: nope");
}

TEST_F(LocalContainersTest, GeneratedNamesAndImageCmdFallback) {
  auto a = svc_->create(req("")).value();
  auto d = svc_->inspect(a.id, false).value();
  EXPECT_NE(d.name.find('_'), std::string::npos) << d.name;
  auto r = req("xx");
  r.config.entrypoint = std::vector<std::string>{};
  r.config.cmd = std::vector<std::string>{};
  // docker's merge: an empty Entrypoint and an empty Cmd take the image's Cmd.
  auto e = svc_->create(r);
  ASSERT_TRUE(e.has_value()) << e.error().message;
  EXPECT_FALSE(svc_->inspect(e->id, false).value().path.empty());
}

TEST_F(LocalContainersTest, RenameRemoveAndEvents) {
  // Names with a non-hex letter: a gone name is then looked up as an id
  // prefix too, and "cc" matched the other container's id 1 time in 256.
  auto a = svc_->create(req("ax")).value();
  svc_->create(req("bx")).value();
  auto dup = svc_->rename("ax", "bx");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::Conflict);
  EXPECT_TRUE(dup.error().message.starts_with(
      "Error when allocating new name: Conflict. The container name \"/bx\" is already in use"))
      << dup.error().message;
  EXPECT_EQ(svc_->rename("ax", "bad name").error().code, Errc::InvalidArgument);
  ASSERT_TRUE(svc_->rename("ax", "cx").has_value());
  EXPECT_EQ(svc_->inspect("cx", false).value().id, a.id);
  EXPECT_FALSE(svc_->inspect("ax", false).has_value());
  ASSERT_TRUE(svc_->remove("cx", false, false).has_value());
  // Gone from its place at once; the trash empties in the background.
  EXPECT_FALSE(fs::exists(dir_ + "/data/containers/" + a.id));
  EXPECT_FALSE(fs::exists(dir_ + "/exec/containers/" + a.id));
  EXPECT_FALSE(images_.container_rootfs.contains(a.id));
  EXPECT_EQ(svc_->remove("cx", false, false).error().message, "No such container: cx");
  EXPECT_EQ(actions(), (std::vector<std::string>{"create", "create", "rename", "destroy"}));
  // The name is reusable.
  EXPECT_TRUE(svc_->create(req("cx")).has_value());
}

TEST_F(LocalContainersTest, RestoreFromRowsAndRemoveOrphans) {
  auto a = svc_->create(req("keep")).value();
  ASSERT_TRUE(svc_->rename("keep", "kept").has_value());
  svc_.reset();
  // An orphan directory and an orphan rootfs (no row).
  std::string orphan(64, 'e');
  fs::create_directories(dir_ + "/data/containers/" + orphan + "/bundle/rootfs");
  fs::create_directories(dir_ + "/exec/containers/" + orphan);
  images_.container_rootfs.insert(orphan);
  // Deletions a daemon queued and did not finish before it died.
  fs::create_directories(dir_ + "/data/trash/0123456789abcdef/bundle");
  fs::create_directories(dir_ + "/exec/trash/0123456789abcdef");
  open();
  EXPECT_FALSE(fs::exists(dir_ + "/data/trash"));
  EXPECT_FALSE(fs::exists(dir_ + "/exec/trash"));
  auto d = svc_->inspect("kept", false);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->id, a.id);
  EXPECT_EQ(d->state.status, "created");
  EXPECT_FALSE(fs::exists(dir_ + "/data/containers/" + orphan));
  EXPECT_FALSE(fs::exists(dir_ + "/exec/containers/" + orphan));
  EXPECT_FALSE(images_.container_rootfs.contains(orphan));
  EXPECT_TRUE(images_.container_rootfs.contains(a.id));
  EXPECT_EQ(svc_->create(req("kept")).error().code, Errc::Conflict);
}

TEST_F(LocalContainersTest, RestoreFinishesARemovalAPowerLossUndid) {
  // The row is deleted without fsync after the directory went to the trash:
  // a row whose directory is gone is a removal to finish, not a container.
  auto a = svc_->create(req("gone")).value();
  auto b = svc_->create(req("stays")).value();
  svc_.reset();
  fs::rename(dir_ + "/data/containers/" + a.id, dir_ + "/data/trash-of-test");
  open();
  EXPECT_EQ(svc_->inspect("gone", false).error().code, Errc::NotFound);
  EXPECT_FALSE(images_.container_rootfs.contains(a.id));
  EXPECT_TRUE(svc_->inspect("stays", false).has_value());
  EXPECT_TRUE(images_.container_rootfs.contains(b.id));
  // The name is free again, and the row stays gone after another restart.
  EXPECT_TRUE(svc_->create(req("gone")).has_value());
  svc_.reset();
  open();
  EXPECT_TRUE(svc_->inspect("gone", false).has_value());
}

TEST_F(LocalContainersTest, CreateLeavesTheWritableLayerToTheRow) {
  // The layer (and its lease) is written without fsync for every container;
  // only a --rm container's row is too. Both rows survive a daemon restart.
  auto r = req("eph");
  r.host_config.auto_remove = true;
  auto a = svc_->create(r).value();
  auto b = svc_->create(req("dur")).value();
  auto has = [&](const std::string& call) {
    return std::find(images_.calls.begin(), images_.calls.end(), call) != images_.calls.end();
  };
  for (const auto& id : {a.id, b.id})
    EXPECT_TRUE(has("prepare_container_rootfs " + id + " " + sha256_of("image-config").str() +
                    " ephemeral"));
  svc_.reset();
  open();
  EXPECT_TRUE(svc_->inspect("eph", false).has_value());
  EXPECT_TRUE(svc_->inspect("dur", false).has_value());
  EXPECT_FALSE(has("repair_container_rootfs " + b.id + " " + sha256_of("image-config").str()));
}

TEST_F(LocalContainersTest, RestoreRemakesAWritableLayerAPowerLossTook) {
  auto a = svc_->create(req("kept")).value();
  svc_.reset();
  images_.container_rootfs.erase(a.id);
  open();
  EXPECT_TRUE(images_.container_rootfs.contains(a.id));
  EXPECT_NE(std::find(images_.calls.begin(), images_.calls.end(),
                      "repair_container_rootfs " + a.id + " " + sha256_of("image-config").str()),
            images_.calls.end());
  EXPECT_TRUE(svc_->inspect("kept", false).has_value());
}

TEST_F(LocalContainersTest, WaitAndLogsOfCreatedContainer) {
  auto a = svc_->create(req("ww")).value();
  auto w = svc_->wait("ww", "", {});
  ASSERT_TRUE(w.has_value()) << w.error().message;
  EXPECT_EQ(w->status_code, 0);
  EXPECT_EQ(svc_->wait("ww", "bogus", {}).error().code, Errc::InvalidArgument);
  // next-exit only ends when the client leaves.
  int polls = 0;
  auto n = svc_->wait("ww", "next-exit", [&] { return ++polls > 2; });
  EXPECT_EQ(n.error().code, Errc::Cancelled);
  LogsOptions lo;
  lo.stdout = lo.stderr = true;
  int lines = 0;
  ASSERT_TRUE(svc_->logs("ww", lo,
                         [&](int, std::string_view) -> Result<void> {
                           ++lines;
                           return {};
                         },
                         {})
                  .has_value());
  EXPECT_EQ(lines, 0);
  EXPECT_EQ(svc_->kill("ww", "").error().message, "Container " + a.id + " is not running");
  ExecConfig ec;
  ec.cmd = {"ls"};
  EXPECT_EQ(svc_->exec_create("ww", ec).error().message, "Container " + a.id + " is not running");
  bool already = false;
  ASSERT_TRUE(svc_->stop("ww", "", std::nullopt, &already).has_value());
  EXPECT_TRUE(already);
}

TEST_F(LocalContainersTest, StartWithoutMonitorFailsAndRecordsIt) {
  auto a = svc_->create(req("ss")).value();
  auto r = svc_->start("ss", nullptr);
  ASSERT_FALSE(r.has_value());
  auto d = svc_->inspect("ss", false).value();
  EXPECT_EQ(d.state.status, "created");
  EXPECT_NE(d.state.exit_code, 0);
  EXPECT_FALSE(d.state.error.empty());
  ASSERT_TRUE(svc_->remove("ss", false, false).has_value());
  (void)a;
}

}  // namespace
}  // namespace berth::engine
