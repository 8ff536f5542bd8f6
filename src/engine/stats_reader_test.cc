#include "engine/stats_reader.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/test_temp_dir.h"

namespace berth::engine {
namespace {

namespace fs = std::filesystem;

using Tmp = test::TempDir;

void put(const std::string& p, const std::string& content) {
  fs::create_directories(fs::path(p).parent_path());
  std::ofstream(p) << content;
}

void proc_fixture(const std::string& proc) {
  put(proc + "/stat",
      "cpu  100 0 50 1000 10 0 5 7 0 0\n"
      "cpu0 50 0 25 500 5 0 2 3 0 0\n"
      "cpu1 50 0 25 500 5 0 3 4 0 0\n"
      "intr 1234\nctxt 99\n");
  put(proc + "/meminfo", "MemTotal:        2048000 kB\nMemFree: 1 kB\n");
}

uint64_t ticks_ns(uint64_t ticks) {
  return ticks * (1'000'000'000ull / static_cast<uint64_t>(sysconf(_SC_CLK_TCK)));
}

TEST(StatsReader, CgroupV2) {
  Tmp t;
  std::string cg = t.path() + "/cg/berth/abc";
  put(cg + "/cpu.stat",
      "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\n"
      "throttled_usec 300\n");
  put(cg + "/memory.current", "4096\n");
  put(cg + "/memory.peak", "8192\n");
  put(cg + "/memory.max", "max\n");
  put(cg + "/memory.stat", "anon 100\nfile 200\ninactive_file 50\n");
  put(cg + "/pids.current", "3\n");
  put(cg + "/pids.max", "100\n");
  put(cg + "/io.stat", "8:0 rbytes=1024 wbytes=2048 rios=1 wios=2 dbytes=0 dios=0\n");
  proc_fixture(t.path() + "/proc");
  StatsPaths p;
  p.layout.version = cgroups::Version::V2;
  p.layout.unified_root = t.path() + "/cg";
  p.cgroups_path = "/berth/abc";
  p.proc_root = t.path() + "/proc";
  auto s = read_stats(p);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_GT(s->read_ns, 0);
  EXPECT_EQ(s->cpu_total, 2000000u);
  EXPECT_EQ(s->cpu_user, 1500000u);
  EXPECT_EQ(s->cpu_kernel, 500000u);
  EXPECT_EQ(s->throttling_periods, 10u);
  EXPECT_EQ(s->throttled_periods, 2u);
  EXPECT_EQ(s->throttled_time, 300000u);
  EXPECT_EQ(s->memory_usage, 4096u);
  EXPECT_EQ(s->memory_max_usage, 8192u);
  EXPECT_EQ(s->memory_limit, 2048000u * 1024);  // unlimited -> host MemTotal
  EXPECT_EQ(s->memory_stats.at("inactive_file"), 50u);
  EXPECT_EQ(s->pids_current, 3u);
  EXPECT_EQ(s->pids_limit, 100u);
  ASSERT_EQ(s->io_service_bytes.size(), 2u);
  EXPECT_EQ(s->io_service_bytes[0].op, "read");
  EXPECT_EQ(s->io_service_bytes[0].value, 1024u);
  EXPECT_EQ(s->io_service_bytes[1].op, "write");
  EXPECT_EQ(s->io_service_bytes[1].major, 8u);
  EXPECT_EQ(s->online_cpus, 2u);
  EXPECT_EQ(s->system_cpu, ticks_ns(100 + 50 + 1000 + 10 + 5));

  put(cg + "/memory.max", "536870912\n");
  s = read_stats(p);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->memory_limit, 536870912u);

  p.cgroups_path = "/berth/gone";
  auto gone = read_stats(p);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::NotFound);
}

TEST(StatsReader, CgroupV1Hybrid) {
  Tmp t;
  std::string root = t.path() + "/cg";
  std::string id = "/berth/abc";
  put(root + "/cpu,cpuacct" + id + "/cpuacct.usage", "5000\n");
  put(root + "/cpu,cpuacct" + id + "/cpuacct.usage_percpu", "3000 2000 \n");
  put(root + "/cpu,cpuacct" + id + "/cpuacct.stat", "user 3\nsystem 1\n");
  put(root + "/cpu,cpuacct" + id + "/cpu.stat",
      "nr_periods 4\nnr_throttled 1\nthrottled_time 77\n");
  put(root + "/memory" + id + "/memory.usage_in_bytes", "1000\n");
  put(root + "/memory" + id + "/memory.max_usage_in_bytes", "2000\n");
  put(root + "/memory" + id + "/memory.limit_in_bytes", "9223372036854771712\n");
  put(root + "/memory" + id + "/memory.stat", "cache 10\nrss 20\ntotal_inactive_file 5\n");
  put(root + "/pids" + id + "/pids.current", "2\n");
  put(root + "/pids" + id + "/pids.max", "max\n");
  put(root + "/blkio" + id + "/blkio.throttle.io_service_bytes",
      "8:0 Read 100\n8:0 Write 200\n8:0 Sync 0\n8:0 Async 300\n8:0 Total 300\nTotal 300\n");
  proc_fixture(t.path() + "/proc");
  StatsPaths p;
  p.layout.version = cgroups::Version::V1;
  p.layout.v1_roots = {{"cpu", root + "/cpu,cpuacct"},
                       {"cpuacct", root + "/cpu,cpuacct"},
                       {"memory", root + "/memory"},
                       {"pids", root + "/pids"},
                       {"blkio", root + "/blkio"}};
  p.cgroups_path = id;
  p.proc_root = t.path() + "/proc";
  auto s = read_stats(p);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->cpu_total, 5000u);
  EXPECT_EQ(s->percpu, (std::vector<uint64_t>{3000, 2000}));
  EXPECT_EQ(s->cpu_user, ticks_ns(3));
  EXPECT_EQ(s->cpu_kernel, ticks_ns(1));
  EXPECT_EQ(s->throttled_time, 77u);
  EXPECT_EQ(s->memory_usage, 1000u);
  EXPECT_EQ(s->memory_max_usage, 2000u);
  EXPECT_EQ(s->memory_limit, 2048000u * 1024);
  EXPECT_EQ(s->memory_stats.at("rss"), 20u);
  EXPECT_EQ(s->pids_current, 2u);
  EXPECT_EQ(s->pids_limit, 0u);
  ASSERT_EQ(s->io_service_bytes.size(), 5u);
  EXPECT_EQ(s->io_service_bytes[0].op, "read");
  EXPECT_EQ(s->io_service_bytes[4].op, "total");
  EXPECT_EQ(s->online_cpus, 2u);
}

TEST(StatsReader, CarryPrevious) {
  StatsSample a, b;
  a.read_ns = 10;
  a.cpu_total = 100;
  a.system_cpu = 1000;
  a.percpu = {60, 40};
  a.online_cpus = 2;
  b.read_ns = 20;
  carry_previous(b, a);
  EXPECT_EQ(b.preread_ns, 10);
  EXPECT_EQ(b.pre_cpu_total, 100u);
  EXPECT_EQ(b.pre_system_cpu, 1000u);
  EXPECT_EQ(b.pre_percpu, a.percpu);
  EXPECT_EQ(b.pre_online_cpus, 2u);
}

TEST(StatsReader, ThisHostsProcStat) {
  // Real /proc: a running system has CPUs and ticks.
  Tmp t;
  std::string cg = t.path() + "/berth/x";
  fs::create_directories(cg);
  StatsPaths p;
  p.layout.version = cgroups::Version::V2;
  p.layout.unified_root = t.path();
  p.cgroups_path = "/berth/x";
  auto s = read_stats(p);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_GT(s->online_cpus, 0u);
  EXPECT_GT(s->system_cpu, 0u);
  EXPECT_GT(s->memory_limit, 0u);
  EXPECT_EQ(s->cpu_total, 0u);  // missing files read 0
}

TEST(StatsReader, NetworksFromTheInitsNetDev) {
  Tmp t;
  std::string cg = t.path() + "/cg/berth/x";
  fs::create_directories(cg);
  proc_fixture(t.path() + "/proc");
  // The kernel pads names to 6 and numbers to 8 columns, so a 10-digit
  // count follows the colon directly.
  put(t.path() + "/proc/42/net/dev",
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n"
      "    lo:     640       8    0    0    0     0          0         0      640       8    0    "
      "0    0     0       0          0\n"
      "  eth0:1234567890      23    1    2    0     0          0         0     1974      20    3   "
      " "
      "4    0     0       0          0\n"
      "  eth1:       5       1    0    0    0     0          0         0        6       2    0    "
      "0    0     0       0          0\n"
      "  bad0: 1 2 3\n");
  StatsPaths p;
  p.layout.version = cgroups::Version::V2;
  p.layout.unified_root = t.path() + "/cg";
  p.cgroups_path = "/berth/x";
  p.proc_root = t.path() + "/proc";
  auto none = read_stats(p);  // net_pid 0: the host's namespace is not reported
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->networks.empty());
  p.net_pid = 42;
  auto s = read_stats(p);
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->networks.size(), 2u);  // lo and the short line left out
  const auto& e = s->networks[0];
  EXPECT_EQ(e.name, "eth0");
  EXPECT_EQ(e.rx_bytes, 1234567890u);
  EXPECT_EQ(e.rx_packets, 23u);
  EXPECT_EQ(e.rx_errors, 1u);
  EXPECT_EQ(e.rx_dropped, 2u);
  EXPECT_EQ(e.tx_bytes, 1974u);
  EXPECT_EQ(e.tx_packets, 20u);
  EXPECT_EQ(e.tx_errors, 3u);
  EXPECT_EQ(e.tx_dropped, 4u);
  EXPECT_EQ(s->networks[1].name, "eth1");
  EXPECT_EQ(s->networks[1].tx_bytes, 6u);
  p.net_pid = 43;  // a process gone meanwhile: no networks, not an error
  auto gone = read_stats(p);
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_TRUE(gone->networks.empty());
}

}  // namespace
}  // namespace berth::engine
