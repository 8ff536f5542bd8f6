#include "cgroups/v2_manager.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/strings.h"
#include "cgroups/test_fixture.h"

namespace berth::cgroups {
namespace {

using testing::get;
using testing::put;
using V = std::vector<std::string>;

constexpr const char* kAll = "cpuset cpu io memory hugetlb pids";

struct V2Fixture {
  testing::TempDir tmp;
  testing::WriteLog log;
  std::string path = "/berth/c1";

  V2Fixture() {
    log.base = tmp.path();
    std::string root = tmp.path();
    put(root + "/cgroup.controllers", std::string(kAll) + " rdma misc\n");
    put(root + "/cgroup.subtree_control", "");
    put(root + "/cgroup.procs", "1\n");
    put(root + "/berth/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
    put(root + "/berth/cgroup.subtree_control", "memory\n");
    put(root + "/berth/cgroup.procs", "");
    std::string c = dir();
    for (auto& [f, v] : std::vector<std::pair<std::string, std::string>>{
             {"cgroup.procs", ""},
             {"cgroup.controllers", ""},
             {"cgroup.subtree_control", ""},
             {"cgroup.freeze", "0\n"},
             {"cgroup.events", "populated 0\nfrozen 0\n"},
             {"memory.max", "max\n"},
             {"memory.low", "0\n"},
             {"memory.high", "max\n"},
             {"memory.swap.max", "max\n"},
             {"memory.current", "2097152\n"},
             {"cpu.weight", "100\n"},
             {"cpu.max", "max 100000\n"},
             {"cpu.max.burst", "0\n"},
             {"cpu.idle", "0\n"},
             {"cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"},
             {"cpuset.cpus", ""},
             {"cpuset.mems", ""},
             {"pids.max", "max\n"},
             {"pids.current", "4\n"},
             {"io.weight", "default 100\n"},
             {"io.max", ""},
             {"hugetlb.2MB.max", "max\n"},
             {"hugetlb.1GB.max", "max\n"}})
      put(c + "/" + f, v);
  }
  std::string dir() const { return tmp.path() + path; }
  V2Manager manager() { return V2Manager(tmp.path(), path, log.options()); }
};

TEST(V2Manager, CreateEnablesOfferedControllersTopDown) {
  V2Fixture f;
  auto m = f.manager();
  auto r = m.create();
  ASSERT_TRUE(r) << r.error().message;
  // The root offers rdma/misc too, but only the wanted ones are enabled.
  EXPECT_EQ(f.log.to("/cgroup.subtree_control"), V{"+cpuset +cpu +io +memory +hugetlb +pids"});
  // memory is already on in /berth.
  EXPECT_EQ(f.log.to("/berth/cgroup.subtree_control"), V{"+cpuset +cpu +io +hugetlb +pids"});
  EXPECT_LT(f.log.index_of("/cgroup.subtree_control"),
            f.log.index_of("/berth/cgroup.subtree_control"));
  // The leaf's own subtree_control is not touched.
  EXPECT_EQ(f.log.index_of("/berth/c1/cgroup.subtree_control"), -1);
  EXPECT_EQ(m.paths(), (std::map<std::string, std::string>{{"", f.dir()}}));
}

TEST(V2Manager, CreateMakesMissingDirectories) {
  V2Fixture f;
  V2Manager m(f.tmp.path(), "/berth/new/leaf", f.log.options());
  // The fresh /berth/new has no cgroup.controllers in a fixture: emulate the
  // kernel populating it right after mkdir.
  put(f.tmp.path() + "/berth/new/cgroup.controllers", "memory pids");
  put(f.tmp.path() + "/berth/new/cgroup.subtree_control", "");
  auto r = m.create();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(testing::exists(f.tmp.path() + "/berth/new/leaf"));
  EXPECT_EQ(f.log.to("/berth/new/cgroup.subtree_control"), V{"+memory +pids"});
}

TEST(V2Manager, RefusedControllersAreEnabledOneByOne) {
  V2Fixture f;
  auto opts = f.log.options();
  auto record = opts.before_write;
  // A "kernel" that refuses cpuset (and any write naming it).
  opts.before_write = [&](const std::string& p, std::string_view v) -> Result<void> {
    BERTH_TRY(record(p, v));
    if (v.find("+cpuset") != std::string_view::npos)
      return Error{Errc::Conflict, EBUSY, "emulated EBUSY"};
    return ok();
  };
  V2Manager m(f.tmp.path(), f.path, opts);
  ASSERT_TRUE(m.create());
  EXPECT_EQ(f.log.to("/cgroup.subtree_control"),
            (V{"+cpuset +cpu +io +memory +hugetlb +pids", "+cpuset", "+cpu", "+io", "+memory",
               "+hugetlb", "+pids"}));
}

oci::Resources everything() {
  oci::Resources r;
  oci::MemoryResources mem;
  mem.limit = 256 << 20;
  mem.reservation = 128 << 20;
  mem.swap = 384 << 20;
  mem.swappiness = 10;            // no v2 knob: ignored
  mem.disable_oom_killer = true;  // no v2 knob: ignored
  r.memory = mem;
  oci::CpuResources cpu;
  cpu.shares = 1024;
  cpu.quota = 50000;
  cpu.period = 200000;
  cpu.burst = 1000;
  cpu.cpus = "0-1";
  cpu.mems = "0";
  cpu.idle = 1;
  r.cpu = cpu;
  r.pids = oci::PidsResources{-1};
  oci::BlockIoResources io;
  io.weight = 500;
  io.weight_device = {{8, 0, 1000, std::nullopt}};
  io.throttle_read_bps_device = {{8, 0, 1048576}};
  io.throttle_write_bps_device = {{8, 0, 0}};
  io.throttle_read_iops_device = {{8, 16, 100}};
  io.throttle_write_iops_device = {{8, 16, 200}};
  r.block_io = io;
  r.hugepage_limits = {{"2MB", 4 << 20}, {"1GB", 1 << 30}};
  r.unified = {{"memory.high", "200000000"}, {"memory.max", "300000000"}};
  oci::DeviceCgroupRule deny_all;
  r.devices = {deny_all};
  return r;
}

TEST(V2Manager, SetWritesEveryField) {
  V2Fixture f;
  auto m = f.manager();
  auto res = m.set(everything());
  ASSERT_TRUE(res) << res.error().message;
  auto& l = f.log;
  const std::string c = "/berth/c1/";
  EXPECT_EQ(l.to(c + "memory.max"), (V{"268435456", "300000000"}));  // unified wins, last
  EXPECT_EQ(l.to(c + "memory.low"), V{"134217728"});
  EXPECT_EQ(l.to(c + "memory.swap.max"), V{"134217728"});  // 384M - 256M
  EXPECT_EQ(l.to(c + "memory.high"), V{"200000000"});
  EXPECT_EQ(l.to(c + "cpu.weight"), V{"39"});
  EXPECT_EQ(l.to(c + "cpu.max"), V{"50000 200000"});
  EXPECT_EQ(l.to(c + "cpu.max.burst"), V{"1000"});
  EXPECT_EQ(l.to(c + "cpu.idle"), V{"1"});
  EXPECT_EQ(l.to(c + "cpuset.cpus"), V{"0-1"});
  EXPECT_EQ(l.to(c + "cpuset.mems"), V{"0"});
  EXPECT_EQ(l.to(c + "pids.max"), V{"max"});
  EXPECT_EQ(l.to(c + "io.weight"), (V{"4950", "8:0 10000"}));
  EXPECT_EQ(l.to(c + "io.max"),
            (V{"8:0 rbps=1048576", "8:0 wbps=max", "8:16 riops=100", "8:16 wiops=200"}));
  EXPECT_EQ(l.to(c + "hugetlb.2MB.max"), V{"4194304"});
  EXPECT_EQ(l.to(c + "hugetlb.1GB.max"), V{"1073741824"});
  EXPECT_EQ(get(f.dir() + "/memory.max"), "300000000");
  for (auto& [p, v] : l.writes) EXPECT_EQ(p.rfind(c, 0), 0u) << p;
}

TEST(V2Manager, BfqWeightTakesTheRawBlkioValue) {
  V2Fixture f;
  put(f.dir() + "/io.bfq.weight", "default 100\n");
  auto m = f.manager();
  oci::Resources r;
  r.block_io = oci::BlockIoResources{};
  r.block_io->weight = 500;
  ASSERT_TRUE(m.set(r));
  EXPECT_EQ(f.log.to("/berth/c1/io.bfq.weight"), V{"500"});
  EXPECT_EQ(f.log.index_of("/berth/c1/io.weight"), -1);
}

TEST(V2Manager, CpuMaxKeepsTheHalfNotGiven) {
  V2Fixture f;
  put(f.dir() + "/cpu.max", "30000 50000\n");
  auto m = f.manager();
  oci::Resources r;
  r.cpu = oci::CpuResources{};
  r.cpu->quota = 0;  // unlimited, period stays 50000
  ASSERT_TRUE(m.set(r));
  EXPECT_EQ(get(f.dir() + "/cpu.max"), "max 50000");
  r.cpu->quota.reset();
  r.cpu->period = 100000;
  put(f.dir() + "/cpu.max", "30000 50000\n");
  ASSERT_TRUE(m.set(r));
  EXPECT_EQ(get(f.dir() + "/cpu.max"), "30000 100000");
}

TEST(V2Manager, SwapRules) {
  V2Fixture f;
  auto m = f.manager();
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = -1;
  ASSERT_TRUE(m.set(r));
  EXPECT_EQ(get(f.dir() + "/memory.max"), "max");
  EXPECT_EQ(get(f.dir() + "/memory.swap.max"), "max");
  r.memory->limit = 100;
  r.memory->swap = 50;
  auto bad = m.set(r);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
  // No swap accounting: a finite swap is a clear error, unlimited is fine.
  std::filesystem::remove(f.dir() + "/memory.swap.max");
  r.memory->swap = 200;
  auto noacct = m.set(r);
  ASSERT_FALSE(noacct);
  EXPECT_EQ(noacct.error().code, Errc::FailedPrecondition);
  EXPECT_NE(noacct.error().message.find("memory.swap.max"), std::string::npos);
  r.memory->swap = -1;
  EXPECT_TRUE(m.set(r));
}

TEST(V2Manager, UnifiedKeysThatArePathsAreRejectedBeforeAnyWrite) {
  V2Fixture f;
  auto m = f.manager();
  for (const char* key : {"../../etc/passwd", "sub/memory.max", "..", "memory..max"}) {
    oci::Resources r;
    r.pids = oci::PidsResources{5};
    r.unified = {{key, "1"}};
    auto res = m.set(r);
    ASSERT_FALSE(res) << key;
    EXPECT_EQ(res.error().code, Errc::InvalidArgument) << key;
  }
  EXPECT_TRUE(f.log.writes.empty());
  oci::Resources missing;
  missing.unified = {{"memory.oom.group", "1"}};  // no such file in the fixture
  auto res = m.set(missing);
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message.find("memory.oom.group"), std::string::npos);
}

TEST(V2Manager, V1OnlyFields) {
  V2Fixture f;
  auto m = f.manager();
  oci::Resources r;
  r.cpu = oci::CpuResources{};
  r.cpu->realtime_runtime = 100;
  auto res = m.set(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::NotImplemented);
}

TEST(V2Manager, BadDeviceRuleIsRejected) {
  V2Fixture f;
  auto m = f.manager();
  oci::Resources r;
  oci::DeviceCgroupRule bad;
  bad.type = "q";
  r.devices = {bad};
  auto res = m.set(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::InvalidArgument);
}

TEST(V2Manager, FreezeWaitsForTheEventsFile) {
  V2Fixture f;
  auto m = f.manager();
  EXPECT_EQ(*m.freezer_state(), FreezerState::Thawed);
  // The kernel never reports "frozen 1": times out, and asks to thaw again.
  auto r = m.freeze();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::DeadlineExceeded);
  EXPECT_EQ(f.log.to("/berth/c1/cgroup.freeze"), (V{"1", "0"}));
  // A kernel that has frozen it.
  put(f.dir() + "/cgroup.events", "populated 1\nfrozen 1\n");
  ASSERT_TRUE(m.freeze());
  EXPECT_EQ(*m.freezer_state(), FreezerState::Frozen);
  put(f.dir() + "/cgroup.events", "populated 1\nfrozen 0\n");
  ASSERT_TRUE(m.thaw());
  EXPECT_EQ(*m.freezer_state(), FreezerState::Thawed);
}

TEST(V2Manager, PidsStatsDestroy) {
  V2Fixture f;
  auto m = f.manager();
  put(f.dir() + "/cgroup.procs", "7\n");
  put(f.dir() + "/inner/cgroup.procs", "8\n9\n");
  auto p = m.pids();
  ASSERT_TRUE(p);
  std::sort(p->begin(), p->end());
  EXPECT_EQ(*p, (std::vector<pid_t>{7, 8, 9}));
  auto s = m.stats();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->memory_usage, 2097152u);
  EXPECT_EQ(s->memory_limit, 0u);
  EXPECT_EQ(s->cpu_usage_ns, 1500000u);
  EXPECT_EQ(s->pids_current, 4u);
  auto busy = m.destroy();
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, Errc::Conflict);
  put(f.dir() + "/cgroup.procs", "");
  put(f.dir() + "/inner/cgroup.procs", "");
  auto r = m.destroy();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(testing::exists(f.dir()));
  EXPECT_TRUE(testing::exists(f.tmp.path() + "/berth"));
  EXPECT_TRUE(m.destroy());  // already gone
}

TEST(MakeManager, ChoosesByVersionAndPath) {
  Layout v2;
  v2.version = Version::V2;
  v2.unified_root = "/sys/fs/cgroup";
  auto m = make_manager(v2, "", "abc");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)->version(), Version::V2);
  EXPECT_EQ((*m)->paths().at(""), "/sys/fs/cgroup/berth/abc");
  Layout v1;
  v1.version = Version::V1;
  v1.v1_roots = {{"memory", "/sys/fs/cgroup/memory"}, {"pids", "/sys/fs/cgroup/pids"}};
  m = make_manager(v1, "docker/abc", "abc");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)->version(), Version::V1);
  EXPECT_EQ((*m)->paths().at("memory"), "/sys/fs/cgroup/memory/docker/abc");
  auto bad = make_manager(v1, "/../x", "abc");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("cgroupsPath"), std::string::npos);
}

}  // namespace
}  // namespace berth::cgroups
