#include "monitor/client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "base/file.h"
#include "base/test_temp_dir.h"

namespace berth::monitor {
namespace {

using TempDir = test::TempDir;

// A one-connection fake monitor: answers each request with `reply(req)`.
class FakeMonitor {
 public:
  FakeMonitor(const std::string& dir, const std::string& name) {
    Fd d(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    sock_.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    struct sockaddr_un a = {};
    a.sun_family = AF_UNIX;
    std::string p = "/proc/self/fd/" + std::to_string(d.get()) + "/" + name;
    std::memcpy(a.sun_path, p.data(), p.size());
    EXPECT_EQ(::bind(sock_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(sock_.get(), 4), 0);
  }
  void serve(int requests) {
    thread_ = std::thread([this, requests] {
      Fd c(::accept4(sock_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      for (int i = 0; i < requests; ++i) {
        char buf[65536];
        struct msghdr msg = {};
        struct iovec iov = {buf, sizeof buf};
        alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))];
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctrl;
        msg.msg_controllen = sizeof ctrl;
        ssize_t n = ::recvmsg(c.get(), &msg, MSG_CMSG_CLOEXEC);
        if (n <= 0) return;
        struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
        got_fd_ = cm && cm->cmsg_type == SCM_RIGHTS;
        if (got_fd_) {
          int f;
          std::memcpy(&f, CMSG_DATA(cm), sizeof f);
          ::close(f);
        }
        Json req = Json::parse(std::string(buf, static_cast<size_t>(n)));
        requests_.push_back(req);
        Json rep;
        std::string op = req["op"];
        if (op == "state") {
          rep = {{"ok", true}, {"status", "running"}, {"pid", 42}, {"started_ns", 7}};
        } else if (op == "exec") {
          rep = {{"ok", true}, {"pid", 43}};
        } else if (op == "kill") {
          rep = {{"ok", false}, {"code", "failed precondition"}, {"message", "not running"}};
        } else if (op == "subscribe") {
          rep = {{"ok", true}};
          std::string s = rep.dump();
          ::send(c.get(), s.data(), s.size(), 0);
          rep = {{"event", "exit"}, {"exit", {{"exit_code", 3}}}};
        } else {
          rep = {{"ok", true}};
        }
        std::string s = rep.dump();
        ::send(c.get(), s.data(), s.size(), 0);
      }
    });
  }
  ~FakeMonitor() {
    if (thread_.joinable()) thread_.join();
  }
  std::vector<Json> requests_;
  bool got_fd_ = false;

 private:
  Fd sock_;
  std::thread thread_;
};

std::string long_dir(const TempDir& t) {
  std::string d = t.path() + "/" + std::string(60, 'd') + "/" + std::string(60, 'e');
  std::filesystem::create_directories(d);
  return d;
}

TEST(MonitorClient, LongSocketPathAndCalls) {
  TempDir t;
  std::string dir = long_dir(t);
  std::string path = dir + "/monitor.sock";
  ASSERT_GT(path.size(), 108u);
  FakeMonitor fake(dir, "monitor.sock");
  fake.serve(4);
  auto c = MonitorClient::connect(path);
  ASSERT_TRUE(c) << c.error().message;
  auto st = (*c)->state();
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->status, "running");
  EXPECT_EQ(st->pid, 42);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ::close(sv[1]);
  auto pid = (*c)->exec("e1", Json{{"args", {"true"}}}, false, false, "", Fd(sv[0]));
  ASSERT_TRUE(pid) << pid.error().message;
  EXPECT_EQ(*pid, 43);
  auto k = (*c)->kill(9, false);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code, Errc::FailedPrecondition);
  EXPECT_EQ(k.error().message, "not running");
  ASSERT_TRUE((*c)->resize("", 10, 20));
  c->reset();
}

TEST(MonitorClient, SubscriptionEvents) {
  TempDir t;
  FakeMonitor fake(t.path(), "m.sock");
  fake.serve(1);
  auto s = Subscription::open(t.path() + "/m.sock");
  ASSERT_TRUE(s) << s.error().message;
  auto ev = (*s)->next(std::chrono::seconds(5));
  ASSERT_TRUE(ev) << ev.error().message;
  ASSERT_TRUE(ev->has_value());
  EXPECT_EQ((*ev)->event, "exit");
  EXPECT_EQ((*ev)->exit->exit_code, 3);
  auto end = (*s)->next(std::chrono::seconds(5));
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code, Errc::Unavailable);
}

TEST(MonitorClient, NothingListening) {
  TempDir t;
  auto c = MonitorClient::connect(t.path() + "/none.sock");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::Unavailable);
  auto l = MonitorClient::connect(long_dir(t) + "/none.sock");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, Errc::Unavailable);
}

TEST(MonitorClient, ExitAndHealthFiles) {
  TempDir t;
  auto missing = read_exit_file(t.path() + "/exit.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  ASSERT_TRUE(write_file_atomic(t.path() + "/exit.json", R"({"exit_code":137,"oom_killed":true})"));
  auto e = read_exit_file(t.path() + "/exit.json");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->exit_code, 137);
  EXPECT_TRUE(e->oom_killed);
  ASSERT_TRUE(write_file_atomic(t.path() + "/health.json", R"({"status":"healthy"})"));
  auto h = read_health_file(t.path() + "/health.json");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, "healthy");
  ASSERT_TRUE(write_file_atomic(t.path() + "/bad.json", R"({"exit_code":"x"})"));
  auto bad = read_exit_file(t.path() + "/bad.json");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
}

TEST(MonitorClient, MonitorAlive) {
  EXPECT_FALSE(monitor_alive(::getpid(), "/x/monitor.json"));  // not a berth-monitor
  EXPECT_FALSE(monitor_alive(0, "/x"));
  EXPECT_FALSE(monitor_alive(999999999, "/x"));
}

TEST(MonitorClient, CmdlineIsMonitorOf) {
  using namespace std::string_literals;
  const std::string cfg = "/d/containers/abc/monitor.json";
  EXPECT_TRUE(
      cmdline_is_monitor_of("/usr/bin/berth-monitor\0/d/containers/abc/monitor.json\0"s, cfg));
  EXPECT_TRUE(
      cmdline_is_monitor_of("berth-monitor\0--foreground\0/d/containers/abc/monitor.json\0"s, cfg));
  // Another container's, another program, the config in the wrong place.
  EXPECT_FALSE(cmdline_is_monitor_of("berth-monitor\0/d/containers/abd/monitor.json\0"s, cfg));
  EXPECT_FALSE(cmdline_is_monitor_of("/bin/tail\0/d/containers/abc/monitor.json\0"s, cfg));
  EXPECT_FALSE(
      cmdline_is_monitor_of("/x/berth-monitor-old\0/d/containers/abc/monitor.json\0"s, cfg));
  EXPECT_FALSE(cmdline_is_monitor_of("berth-monitor\0--foreground\0"s, cfg));
  EXPECT_FALSE(
      cmdline_is_monitor_of("berth-monitor\0--debug\0/d/containers/abc/monitor.json\0"s, cfg));
  EXPECT_FALSE(cmdline_is_monitor_of("berth-monitor"s, cfg));
  EXPECT_FALSE(cmdline_is_monitor_of(""s, cfg));
}

TEST(MonitorClient, SpawnReportsTheMonitorsLine) {
  TempDir t;
  // A stand-in "monitor" that fails the way berth-monitor does.
  std::string fake = t.path() + "/berth-monitor";
  ASSERT_TRUE(write_file_atomic(fake,
                                "#!/bin/sh\necho 'berth-monitor: rootfs: no such thing' >&2\n"
                                "exit 1\n",
                                0755));
  MonitorConfig c;
  c.id = "x";
  c.pid_file = t.path() + "/monitor.pid";
  auto r = spawn(fake, t.path() + "/monitor.json", c, std::chrono::seconds(10));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "rootfs: no such thing");
  EXPECT_TRUE(std::filesystem::exists(t.path() + "/monitor.json"));
  // Success in the foreground: "ok", and the monitor goes on as our child,
  // which is reaped when it exits (no zombie left behind).
  ASSERT_TRUE(write_file_atomic(
      fake, "#!/bin/sh\n[ \"$1\" = --foreground ] || exit 3\necho ok >&2\nexec sleep 0.3\n", 0755));
  auto fg = spawn(fake, t.path() + "/monitor.json", c, std::chrono::seconds(10));
  ASSERT_TRUE(fg) << fg.error().message;
  std::string stat = fmt::format("/proc/{}/stat", *fg);
  EXPECT_TRUE(std::filesystem::exists(stat));
  for (int i = 0; i < 500 && std::filesystem::exists(stat); ++i) ::usleep(10'000);
  EXPECT_FALSE(std::filesystem::exists(stat)) << "not reaped: " << read_file(stat).value_or("");
  // A monitor that daemonised (no line, exit 0): the pid file names it.
  ASSERT_TRUE(write_file_atomic(
      fake, "#!/bin/sh\nfor a; do last=$a; done\necho 4242 > \"$(dirname $last)/monitor.pid\"\n",
      0755));
  auto ok = spawn(fake, t.path() + "/monitor.json", c, std::chrono::seconds(10));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(*ok, 4242);
  // A hanging monitor times out.
  ASSERT_TRUE(write_file_atomic(fake, "#!/bin/sh\nexec sleep 30\n", 0755));
  auto slow = spawn(fake, t.path() + "/monitor.json", c, std::chrono::milliseconds(300));
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, Errc::DeadlineExceeded);
}

}  // namespace
}  // namespace berth::monitor
