// LocalContainerService with a real berth-monitor (needs root and the
// monitor binary: $BERTH_TEST_MONITOR, or cmd/berth-monitor/berth-monitor
// in this build tree). The image is a fake whose rootfs is a static busybox
// tree bind-mounted by the monitor. Covers create/start/wait/logs/stop/rm,
// docker's start-failure mapping, attach before start, restart policies,
// --rm and live restore.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "base/file.h"
#include "engine/fake_image_service.h"
#include "engine/local_containers.h"
#include "engine/root_test_support.h"

namespace berth::engine {
namespace {

namespace fs = std::filesystem;

class RootContainersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::root_test_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    char t[] = "/tmp/berth-ctr-root-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
    std::string r = dir_ + "/rootfs";
    testing::add_busybox_image(images_, r, {"/proc", "/sys", "/dev", "/tmp", "/root"},
                               {"sh", "echo", "cat", "sleep", "true", "false", "ls", "id", "ps"});
    open();
  }
  void TearDown() override {
    if (dir_.empty()) return;
    if (svc_) {
      ListOptions all;
      all.all = true;
      if (auto l = svc_->list(all)) {
        for (const auto& c : *l) (void)svc_->remove(c.id, true, false);
      }
    }
    svc_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void open(std::map<std::string, std::string> runtimes = {}) {
    svc_.reset();
    auto store = metadata::MetadataStore::open(dir_ + "/metadata.db");
    ASSERT_TRUE(store.has_value()) << store.error().message;
    ContainerServiceOptions o;
    o.data_root = dir_ + "/data";
    o.exec_root = dir_ + "/exec";
    o.monitor_binary = testing::test_monitor_binary();
    o.cgroup_parent = "/berth-test";
    o.runtimes = std::move(runtimes);
    auto s = open_container_service(o, images_, std::move(*store), bus_);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    svc_ = std::move(*s);
  }
  std::string create(const std::string& name, std::vector<std::string> cmd,
                     std::function<void(CreateRequest&)> f = {}) {
    CreateRequest r;
    r.name = name;
    r.config.image = "busybox:latest";
    r.config.cmd = std::move(cmd);
    if (f) f(r);
    auto c = svc_->create(r);
    EXPECT_TRUE(c.has_value()) << c.error().message;
    return c ? c->id : "";
  }
  std::string logs(const std::string& name, bool out, bool err) {
    LogsOptions lo;
    lo.stdout = out;
    lo.stderr = err;
    std::string s;
    auto r = svc_->logs(name, lo,
                        [&](int, std::string_view d) -> Result<void> {
                          s += d;
                          return {};
                        },
                        {});
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return s;
  }
  std::string status(const std::string& name) {
    return svc_->inspect(name, false).value().state.status;
  }

  std::string dir_;
  testing::FakeImageService images_;
  EventBus bus_;
  std::unique_ptr<ContainerService> svc_;
};

TEST_F(RootContainersTest, RunWaitLogsRemove) {
  create("t1", {"sh", "-c", "echo hello; echo err >&2; exit 3"});
  ASSERT_TRUE(svc_->start("t1", nullptr).has_value());
  auto w = svc_->wait("t1", "not-running", {});
  ASSERT_TRUE(w.has_value()) << w.error().message;
  EXPECT_EQ(w->status_code, 3);
  auto d = svc_->inspect("t1", false).value();
  EXPECT_EQ(d.state.status, "exited");
  EXPECT_EQ(d.state.exit_code, 3);
  EXPECT_GT(d.state.finished_ns, 0);
  EXPECT_EQ(logs("t1", true, false), "hello\n");
  EXPECT_EQ(logs("t1", false, true), "err\n");
  ASSERT_TRUE(svc_->remove("t1", false, false).has_value());
}

TEST_F(RootContainersTest, StartRewritesBundleFilesLostToAPowerLoss) {
  // The bundle files are not fsynced; after a power loss they may be empty
  // or gone while the (durable) row says the container exists.
  std::string id = create("pl", {"sh", "-c", "cat /etc/hostname; grep -c localhost /etc/hosts"},
                          [](CreateRequest& r) { r.config.hostname = "plhost"; });
  ASSERT_FALSE(id.empty());
  std::string dir = dir_ + "/data/containers/" + id;
  ASSERT_TRUE(write_file(dir + "/bundle/config.json", "", false).has_value());
  ASSERT_EQ(::unlink((dir + "/hosts").c_str()), 0);
  ASSERT_EQ(::truncate((dir + "/hostname").c_str(), 0), 0);
  ASSERT_TRUE(svc_->start("pl", nullptr).has_value());
  auto w = svc_->wait("pl", "not-running", {});
  ASSERT_TRUE(w.has_value()) << w.error().message;
  EXPECT_EQ(w->status_code, 0);
  EXPECT_EQ(logs("pl", true, false), "plhost\n2\n");  // 127.0.0.1 and ::1
  auto cfg = read_file(dir + "/bundle/config.json");
  ASSERT_TRUE(cfg.has_value());
  EXPECT_TRUE(Json::accept(*cfg));
}

TEST_F(RootContainersTest, StopRemoveForceAndExecErrors) {
  std::string id = create("long", {"sleep", "100"});
  ASSERT_TRUE(svc_->start("long", nullptr).has_value());
  EXPECT_EQ(status("long"), "running");
  EXPECT_EQ(svc_->list({}).value().size(), 1u);
  auto rm = svc_->remove("long", false, false);
  ASSERT_FALSE(rm.has_value());
  EXPECT_EQ(rm.error().message,
            "You cannot remove a running container " + id +
                ". Stop the container before attempting removal or force remove");
  ExecConfig ec;
  ec.cmd = {"true"};
  ec.attach_stdout = true;
  auto ex = svc_->exec_create("long", ec);
  ASSERT_TRUE(ex.has_value()) << ex.error().message;
  ASSERT_TRUE(svc_->exec_start(*ex, true, false, Fd(), "").has_value());
  for (int i = 0; i < 100 && svc_->exec_inspect(*ex).value().running; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(svc_->exec_inspect(*ex).value().exit_code, std::optional<int>(0));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(svc_->stop("long", "", 1, nullptr).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(8));
  EXPECT_EQ(status("long"), "exited");
  EXPECT_EQ(svc_->exec_create("long", ec).error().message, "Container " + id + " is not running");
  // Not a hex name: once gone it would be looked up as an id prefix too.
  create("fz", {"sleep", "100"});
  ASSERT_TRUE(svc_->start("fz", nullptr).has_value());
  ASSERT_TRUE(svc_->remove("fz", true, false).has_value());
  EXPECT_FALSE(svc_->inspect("fz", false).has_value());
}

TEST_F(RootContainersTest, StartFailureIsDockers) {
  create("bad", {"nope"});
  auto r = svc_->start("bad", nullptr);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("executable file not found"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  auto d = svc_->inspect("bad", false).value();
  EXPECT_EQ(d.state.exit_code, 127);
  EXPECT_NE(d.state.status, "running");
}

TEST_F(RootContainersTest, FailedStartOfAnAutoRemoveContainerRemovesIt) {
  // docker removes an --rm container whose start failed; its clients wait for that.
  // Bounded waits: a regression fails the test instead of hanging it.
  auto within_10s = [] {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    return [end] { return std::chrono::steady_clock::now() > end; };
  };
  create("badrm", {"nope"}, [](CreateRequest& r) { r.host_config.auto_remove = true; });
  ASSERT_FALSE(svc_->start("badrm", nullptr).has_value());
  auto w = svc_->wait("badrm", "removed", within_10s());
  ASSERT_TRUE(w.has_value()) << w.error().message;
  EXPECT_TRUE(w->error.empty()) << w->error;  // dockerd's answer has no Error either
  EXPECT_FALSE(svc_->inspect("badrm", false).has_value());

  // A failure before the runtime is reached (the daemon restarted without the
  // runtime the container was created with) removes it too.
  open({{"alt", "/bin/false"}});
  create("altrm", {"true"}, [](CreateRequest& r) {
    r.host_config.auto_remove = true;
    r.host_config.runtime = "alt";
  });
  open();
  auto s = svc_->start("altrm", nullptr);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("unknown or invalid runtime name: alt"), std::string::npos)
      << s.error().message;
  ASSERT_TRUE(svc_->wait("altrm", "removed", within_10s()).has_value());
  EXPECT_FALSE(svc_->inspect("altrm", false).has_value());
}

TEST_F(RootContainersTest, AttachBeforeStartGetsAllOutput) {
  create("att", {"echo", "attached"});
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  AttachOptions ao;
  ao.stdout = ao.stderr = true;
  ASSERT_TRUE(svc_->attach("att", ao, Fd(sv[0]), "").has_value());
  ASSERT_TRUE(svc_->start("att", nullptr).has_value());
  std::string got;
  char buf[256];
  for (int i = 0; i < 50; ++i) {
    ssize_t n = ::read(sv[1], buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, n);
  }
  ::close(sv[1]);
  // One stdout frame: [1 0 0 0 0 0 0 9] "attached\n".
  ASSERT_GE(got.size(), 8u);
  EXPECT_EQ(got[0], 1);
  EXPECT_EQ(got.substr(8), "attached\n");
}

TEST_F(RootContainersTest, RestartPolicyOnFailureAndAutoRemove) {
  create("rp", {"sh", "-c", "exit 1"}, [](CreateRequest& r) {
    r.host_config.restart_policy = {"on-failure", 2};
  });
  ASSERT_TRUE(svc_->start("rp", nullptr).has_value());
  for (int i = 0; i < 100; ++i) {
    auto d = svc_->inspect("rp", false).value();
    if (d.state.restart_count == 2 && d.state.status == "exited") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto d = svc_->inspect("rp", false).value();
  EXPECT_EQ(d.state.restart_count, 2);
  EXPECT_EQ(d.state.status, "exited");
  EXPECT_EQ(d.state.exit_code, 1);

  create("rm", {"true"}, [](CreateRequest& r) { r.host_config.auto_remove = true; });
  ASSERT_TRUE(svc_->start("rm", nullptr).has_value());
  auto w = svc_->wait("rm", "removed", {});
  ASSERT_TRUE(w.has_value());
  EXPECT_FALSE(svc_->inspect("rm", false).has_value());
}

TEST_F(RootContainersTest, KilledMonitorsContainerIsReapedAndRestarted) {
  // A monitor killed while the daemon runs leaves its container's process,
  // cgroup and runtime state; the restart must clear them, not fail on them.
  create("mk", {"sleep", "100"}, [](CreateRequest& r) {
    r.host_config.restart_policy = {"always", 0};
  });
  ASSERT_TRUE(svc_->start("mk", nullptr).has_value());
  auto before = svc_->inspect("mk", false).value().state;
  ASSERT_GT(before.monitor_pid, 0);
  ASSERT_EQ(::kill(before.monitor_pid, SIGKILL), 0);
  ContainerState now;
  for (int i = 0; i < 100; ++i) {
    now = svc_->inspect("mk", false).value().state;
    if (now.status == "running" && now.pid != before.pid && now.restart_count >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(now.status, "running");
  EXPECT_GE(now.restart_count, 1);
  EXPECT_NE(now.pid, before.pid);
  bool old_gone = false;
  for (int i = 0; i < 50 && !old_gone; ++i) {
    old_gone = ::kill(before.pid, 0) != 0;
    if (!old_gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(old_gone) << "the killed monitor's container process still runs";
  ASSERT_TRUE(svc_->stop("mk", "", 1, nullptr).has_value());
}

TEST_F(RootContainersTest, LiveRestore) {
  create("live", {"sh", "-c", "while true; do echo tick; sleep 0.2; done"});
  ASSERT_TRUE(svc_->start("live", nullptr).has_value());
  create("dies", {"sleep", "100"});
  ASSERT_TRUE(svc_->start("dies", nullptr).has_value());
  int dies_pid = svc_->inspect("dies", false).value().state.pid;
  svc_.reset();  // the daemon goes away; monitors stay
  ASSERT_EQ(::kill(dies_pid, SIGKILL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  open();
  EXPECT_EQ(status("live"), "running");
  for (int i = 0; i < 50 && status("dies") != "exited"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto d = svc_->inspect("dies", false).value();
  EXPECT_EQ(d.state.status, "exited");
  EXPECT_EQ(d.state.exit_code, 137);
  ASSERT_TRUE(svc_->stop("live", "", 1, nullptr).has_value());
  EXPECT_EQ(status("live"), "exited");
  EXPECT_NE(logs("live", true, false).find("tick\n"), std::string::npos);
}

// A created container gets a standby monitor (rootfs mounted, no container
// in the runtime yet); its start uses it. Removal, and a daemon restart,
// shut an unused one down.
TEST_F(RootContainersTest, StandbyMonitorServesTheStartAndIsShutDownWhenUnused) {
  auto pid_file = [&](const std::string& id) {
    return dir_ + "/exec/containers/" + id + "/monitor.pid";
  };
  auto rootfs_mounted = [&](const std::string& id) {
    auto text = read_file("/proc/self/mountinfo");
    return text &&
           text->find(dir_ + "/data/containers/" + id + "/bundle/rootfs") != std::string::npos;
  };
  auto wait_for = [](const std::function<bool()>& f) {
    for (int i = 0; i < 200 && !f(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return f();
  };
  std::string used = create("sb-used", {"sh", "-c", "echo standby-ok; exec sleep 100"});
  ASSERT_TRUE(wait_for([&] { return fs::exists(pid_file(used)); })) << "no standby monitor";
  EXPECT_TRUE(rootfs_mounted(used));
  EXPECT_EQ(status("sb-used"), "created");
  EXPECT_EQ(svc_->inspect("sb-used", false).value().state.pid, 0);
  EXPECT_FALSE(fs::exists(dir_ + "/exec/runtime/" + used)) << "no container in the runtime yet";
  auto monitor_pid = read_file(pid_file(used)).value();
  ASSERT_TRUE(svc_->start("sb-used", nullptr).has_value());
  EXPECT_EQ(svc_->inspect("sb-used", false).value().state.monitor_pid, std::stoi(monitor_pid))
      << "the start used the standby monitor";
  EXPECT_TRUE(wait_for([&] { return logs("sb-used", true, false) == "standby-ok\n"; }));
  ASSERT_TRUE(svc_->stop("sb-used", "", 1, nullptr).has_value());
  EXPECT_EQ(status("sb-used"), "exited");

  std::string removed = create("sb-removed", {"true"});
  ASSERT_TRUE(wait_for([&] { return fs::exists(pid_file(removed)); }));
  ASSERT_TRUE(svc_->remove("sb-removed", false, false).has_value());
  EXPECT_FALSE(rootfs_mounted(removed));
  EXPECT_FALSE(fs::exists(pid_file(removed)));

  std::string kept = create("sb-kept", {"sh", "-c", "echo after-restart"});
  ASSERT_TRUE(wait_for([&] { return fs::exists(pid_file(kept)); }));
  svc_.reset();  // the daemon goes away; the standby stays, then restore shuts it down
  open();
  EXPECT_TRUE(wait_for([&] { return !fs::exists(pid_file(kept)) && !rootfs_mounted(kept); }));
  EXPECT_EQ(status("sb-kept"), "created");
  ASSERT_TRUE(svc_->start("sb-kept", nullptr).has_value());
  ASSERT_TRUE(svc_->wait("sb-kept", "not-running", {}).has_value());
  EXPECT_EQ(logs("sb-kept", true, false), "after-restart\n");
}

}  // namespace
}  // namespace berth::engine
