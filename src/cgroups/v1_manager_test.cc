#include "cgroups/v1_manager.h"

#include <gtest/gtest.h>

#include "base/strings.h"
#include "cgroups/test_fixture.h"

namespace berth::cgroups {
namespace {

using testing::get;
using testing::put;

constexpr const char* kUnlimited = "9223372036854771712";

// Knob files per hierarchy dir (relative name -> initial content).
const std::map<std::string, std::vector<std::pair<std::string, std::string>>>& knobs() {
  static const std::map<std::string, std::vector<std::pair<std::string, std::string>>> k = {
      {"cpu,cpuacct",
       {{"cpu.shares", "1024"},
        {"cpu.cfs_quota_us", "-1"},
        {"cpu.cfs_period_us", "100000"},
        {"cpu.cfs_burst_us", "0"},
        {"cpu.rt_period_us", "1000000"},
        {"cpu.rt_runtime_us", "0"},
        {"cpu.idle", "0"},
        {"cpuacct.usage", "123456789"}}},
      {"cpuset", {{"cpuset.cpus", ""}, {"cpuset.mems", ""}}},
      {"memory",
       {{"memory.limit_in_bytes", kUnlimited},
        {"memory.memsw.limit_in_bytes", kUnlimited},
        {"memory.soft_limit_in_bytes", kUnlimited},
        {"memory.swappiness", "60"},
        {"memory.oom_control", "oom_kill_disable 0"},
        {"memory.kmem.tcp.limit_in_bytes", ""},
        {"memory.use_hierarchy", "1"},
        {"memory.usage_in_bytes", "1048576"}}},
      {"devices", {{"devices.allow", ""}, {"devices.deny", ""}}},
      {"freezer", {{"freezer.state", "THAWED"}}},
      {"blkio",
       {{"blkio.weight", "500"},
        {"blkio.leaf_weight", "500"},
        {"blkio.weight_device", ""},
        {"blkio.leaf_weight_device", ""},
        {"blkio.throttle.read_bps_device", ""},
        {"blkio.throttle.write_bps_device", ""},
        {"blkio.throttle.read_iops_device", ""},
        {"blkio.throttle.write_iops_device", ""}}},
      {"pids", {{"pids.max", "max"}, {"pids.current", "3"}}},
      {"hugetlb", {{"hugetlb.2MB.limit_in_bytes", ""}, {"hugetlb.1GB.limit_in_bytes", ""}}},
      {"net_cls,net_prio", {{"net_cls.classid", "0"}, {"net_prio.ifpriomap", ""}}},
      {"systemd", {}},
  };
  return k;
}

// A v1 tree under tmp: every hierarchy with root knobs, plus the container
// path's directories with their knobs (cpuset empty, as the kernel makes them).
struct V1Fixture {
  testing::TempDir tmp;
  testing::WriteLog log;
  std::map<std::string, std::string> roots;
  std::string path = "/berth/c1";

  V1Fixture() {
    log.base = tmp.path();
    for (auto& [dir, files] : knobs()) {
      std::string root = tmp.path() + "/" + dir;
      for (auto& c : split(dir, ',')) roots[c == "systemd" ? "name=systemd" : c] = root;
      std::string d = root;
      put(d + "/cgroup.procs", "1\n");
      for (auto& [f, v] : files) put(d + "/" + f, v);
      put(root + "/cpuset.cpus", dir == "cpuset" ? "0-3" : "");
      put(root + "/cpuset.mems", dir == "cpuset" ? "0" : "");
      for (auto& part : split(path, '/', true)) {
        d += "/" + part;
        put(d + "/cgroup.procs", "");
        for (auto& [f, v] : files) put(d + "/" + f, f.rfind("cpuset.", 0) == 0 ? "" : v);
      }
    }
  }
  std::string dir(const std::string& hierarchy) const {
    return tmp.path() + "/" + hierarchy + path;
  }
  V1Manager manager() { return V1Manager(roots, path, log.options()); }
};

TEST(V1Manager, PathsCoverEveryHierarchyAndCoMountsShareADir) {
  V1Fixture f;
  auto m = f.manager();
  auto p = m.paths();
  EXPECT_EQ(p.at("cpu"), f.dir("cpu,cpuacct"));
  EXPECT_EQ(p.at("cpuacct"), f.dir("cpu,cpuacct"));
  EXPECT_EQ(p.at("name=systemd"), f.dir("systemd"));
  EXPECT_EQ(p.size(), f.roots.size());
}

TEST(V1Manager, CreateMakesDirsAndCopiesCpusetFromParents) {
  V1Fixture f;
  std::filesystem::remove_all(f.tmp.path() + "/systemd/berth");  // mkdir must make it
  auto m = f.manager();
  auto r = m.create();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(testing::exists(f.dir("systemd")));
  EXPECT_EQ(get(f.dir("cpuset")), get(f.dir("cpuset")));
  EXPECT_EQ(get(f.tmp.path() + "/cpuset/berth/cpuset.cpus"), "0-3");
  EXPECT_EQ(get(f.dir("cpuset") + "/cpuset.cpus"), "0-3");
  EXPECT_EQ(get(f.dir("cpuset") + "/cpuset.mems"), "0");
  // Top-down: the intermediate level is filled before the leaf.
  EXPECT_LT(f.log.index_of("/cpuset/berth/cpuset.cpus"),
            f.log.index_of("/cpuset/berth/c1/cpuset.cpus"));
  // Idempotent, and an already-set cpuset is left alone.
  put(f.dir("cpuset") + "/cpuset.cpus", "1");
  ASSERT_TRUE(m.create());
  EXPECT_EQ(get(f.dir("cpuset") + "/cpuset.cpus"), "1");
}

TEST(V1Manager, AddProcessWritesEveryDistinctHierarchyOnce) {
  V1Fixture f;
  auto m = f.manager();
  ASSERT_TRUE(m.add_process(4242));
  size_t procs_writes = 0;
  for (auto& [p, v] : f.log.writes) {
    if (ends_with(p, "/cgroup.procs")) {
      ++procs_writes;
      EXPECT_EQ(v, "4242");
    }
  }
  EXPECT_EQ(procs_writes, knobs().size());  // cpu,cpuacct counted once
  EXPECT_EQ(get(f.dir("memory") + "/cgroup.procs"), "4242");
}

oci::Resources everything() {
  oci::Resources r;
  oci::DeviceCgroupRule deny_all;
  deny_all.allow = false;
  deny_all.access = "rwm";
  oci::DeviceCgroupRule null_dev;
  null_dev.allow = true;
  null_dev.type = "c";
  null_dev.major = 1;
  null_dev.minor = 3;
  null_dev.access = "rwm";
  r.devices = {deny_all, null_dev};
  oci::MemoryResources mem;
  mem.limit = 256 << 20;
  mem.reservation = 128 << 20;
  mem.swap = 512 << 20;
  mem.kernel_tcp = 64 << 20;
  mem.swappiness = 10;
  mem.disable_oom_killer = true;
  r.memory = mem;
  oci::CpuResources cpu;
  cpu.shares = 512;
  cpu.quota = 50000;
  cpu.period = 100000;
  cpu.burst = 1000;
  cpu.realtime_runtime = 950;
  cpu.realtime_period = 1000;
  cpu.cpus = "0-1";
  cpu.mems = "0";
  cpu.idle = 1;
  r.cpu = cpu;
  r.pids = oci::PidsResources{100};
  oci::BlockIoResources io;
  io.weight = 300;
  io.leaf_weight = 200;
  io.weight_device = {{8, 0, 400, 100}};
  io.throttle_read_bps_device = {{8, 0, 1048576}};
  io.throttle_write_bps_device = {{8, 16, 2097152}};
  io.throttle_read_iops_device = {{8, 0, 100}};
  io.throttle_write_iops_device = {{8, 0, 200}};
  r.block_io = io;
  r.hugepage_limits = {{"2MB", 4 << 20}, {"1GB", 0}};
  r.network = oci::NetworkResources{0x100001, {{"eth0", 5}}};
  return r;
}

TEST(V1Manager, SetWritesEveryField) {
  V1Fixture f;
  auto m = f.manager();
  auto res = m.set(everything());
  ASSERT_TRUE(res) << res.error().message;
  auto& l = f.log;
  const std::string c = "/berth/c1/";
  using V = std::vector<std::string>;
  EXPECT_EQ(l.to("/devices" + c + "devices.deny"), V{"a"});
  EXPECT_EQ(l.to("/devices" + c + "devices.allow"), V{"c 1:3 rwm"});
  EXPECT_EQ(l.to("/memory" + c + "memory.limit_in_bytes"), V{"268435456"});
  EXPECT_EQ(l.to("/memory" + c + "memory.memsw.limit_in_bytes"), V{"536870912"});
  EXPECT_EQ(l.to("/memory" + c + "memory.soft_limit_in_bytes"), V{"134217728"});
  EXPECT_EQ(l.to("/memory" + c + "memory.kmem.tcp.limit_in_bytes"), V{"67108864"});
  EXPECT_EQ(l.to("/memory" + c + "memory.swappiness"), V{"10"});
  EXPECT_EQ(l.to("/memory" + c + "memory.oom_control"), V{"1"});
  EXPECT_EQ(l.to("/cpu,cpuacct" + c + "cpu.shares"), V{"512"});
  EXPECT_EQ(l.to("/cpu,cpuacct" + c + "cpu.cfs_period_us"), V{"100000"});
  EXPECT_EQ(l.to("/cpu,cpuacct" + c + "cpu.cfs_quota_us"), V{"50000"});
  EXPECT_EQ(l.to("/cpu,cpuacct" + c + "cpu.cfs_burst_us"), V{"1000"});
  EXPECT_EQ(l.to("/cpu,cpuacct" + c + "cpu.rt_period_us"), V{"1000"});
  EXPECT_EQ(l.to("/cpu,cpuacct" + c + "cpu.rt_runtime_us"), V{"950"});
  EXPECT_EQ(l.to("/cpu,cpuacct" + c + "cpu.idle"), V{"1"});
  EXPECT_LT(l.index_of("/cpu,cpuacct" + c + "cpu.cfs_period_us"),
            l.index_of("/cpu,cpuacct" + c + "cpu.cfs_quota_us"));
  EXPECT_LT(l.index_of("/cpu,cpuacct" + c + "cpu.rt_period_us"),
            l.index_of("/cpu,cpuacct" + c + "cpu.rt_runtime_us"));
  EXPECT_EQ(l.to("/cpuset" + c + "cpuset.cpus"), V{"0-1"});
  EXPECT_EQ(l.to("/cpuset" + c + "cpuset.mems"), V{"0"});
  EXPECT_EQ(l.to("/pids" + c + "pids.max"), V{"100"});
  EXPECT_EQ(l.to("/blkio" + c + "blkio.weight"), V{"300"});
  EXPECT_EQ(l.to("/blkio" + c + "blkio.leaf_weight"), V{"200"});
  EXPECT_EQ(l.to("/blkio" + c + "blkio.weight_device"), V{"8:0 400"});
  EXPECT_EQ(l.to("/blkio" + c + "blkio.leaf_weight_device"), V{"8:0 100"});
  EXPECT_EQ(l.to("/blkio" + c + "blkio.throttle.read_bps_device"), V{"8:0 1048576"});
  EXPECT_EQ(l.to("/blkio" + c + "blkio.throttle.write_bps_device"), V{"8:16 2097152"});
  EXPECT_EQ(l.to("/blkio" + c + "blkio.throttle.read_iops_device"), V{"8:0 100"});
  EXPECT_EQ(l.to("/blkio" + c + "blkio.throttle.write_iops_device"), V{"8:0 200"});
  EXPECT_EQ(l.to("/hugetlb" + c + "hugetlb.2MB.limit_in_bytes"), V{"4194304"});
  EXPECT_EQ(l.to("/hugetlb" + c + "hugetlb.1GB.limit_in_bytes"), V{"0"});
  EXPECT_EQ(l.to("/net_cls,net_prio" + c + "net_cls.classid"), V{"1048577"});
  EXPECT_EQ(l.to("/net_cls,net_prio" + c + "net_prio.ifpriomap"), V{"eth0 5"});
  // The files really hold the values (writes went to disk, not just the log).
  EXPECT_EQ(get(f.dir("pids") + "/pids.max"), "100");
  EXPECT_EQ(get(f.dir("memory") + "/memory.limit_in_bytes"), "268435456");
  // Nothing outside the container's directories was touched.
  for (auto& [p, v] : l.writes) EXPECT_NE(p.find(c), std::string::npos) << p;
}

TEST(V1Manager, PartialUpdateTouchesOnlySetFields) {
  V1Fixture f;
  auto m = f.manager();
  oci::Resources r;
  r.pids = oci::PidsResources{0};
  ASSERT_TRUE(m.set(r));
  ASSERT_EQ(f.log.writes.size(), 1u);
  EXPECT_EQ(f.log.writes[0],
            std::make_pair(std::string("/pids/berth/c1/pids.max"), std::string("max")));
}

// Emulates the kernel's rule that memory.limit_in_bytes <= memsw limit.
struct MemswKernel {
  std::string dir;
  Result<void> check(const std::string& path, std::string_view value) {
    auto num = [](const std::string& s) -> int64_t {
      auto v = parse_int(trim(s));
      return !v || *v < 0 ? INT64_MAX : *v;
    };
    int64_t limit = num(get(dir + "/memory.limit_in_bytes"));
    int64_t memsw = num(get(dir + "/memory.memsw.limit_in_bytes"));
    int64_t v = num(std::string(value));
    if (ends_with(path, "/memory.limit_in_bytes")) limit = v;
    if (ends_with(path, "/memory.memsw.limit_in_bytes")) memsw = v;
    if (limit > memsw) return Error{Errc::InvalidArgument, EINVAL, "kernel: limit > memsw"};
    return ok();
  }
};

Result<void> set_memory(V1Fixture& f, int64_t limit, std::optional<int64_t> swap) {
  MemswKernel k{f.dir("memory")};
  auto opts = f.log.options();
  auto record = opts.before_write;
  opts.before_write = [&](const std::string& p, std::string_view v) -> Result<void> {
    BERTH_TRY(k.check(p, v));
    return record(p, v);
  };
  V1Manager m(f.roots, f.path, opts);
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = limit;
  r.memory->swap = swap;
  return m.set(r);
}

TEST(V1Manager, MemoryAndSwapOrderWorksRaisingAndLowering) {
  V1Fixture f;
  const std::string lim = "/memory/berth/c1/memory.limit_in_bytes";
  const std::string sw = "/memory/berth/c1/memory.memsw.limit_in_bytes";
  // From unlimited down to 100M/200M: limit first.
  auto r = set_memory(f, 100 << 20, 200 << 20);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_LT(f.log.index_of(lim), f.log.index_of(sw));
  // Raise to 300M/600M: memsw first (300M > old memsw 200M).
  f.log.writes.clear();
  r = set_memory(f, 300 << 20, 600 << 20);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_LT(f.log.index_of(sw), f.log.index_of(lim));
  EXPECT_EQ(get(f.dir("memory") + "/memory.memsw.limit_in_bytes"), std::to_string(600 << 20));
  // Lower to 50M/60M: limit first (60M < old limit 300M).
  f.log.writes.clear();
  r = set_memory(f, 50 << 20, 60 << 20);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_LT(f.log.index_of(lim), f.log.index_of(sw));
  // Back to unlimited with no swap given: memsw becomes unlimited first.
  f.log.writes.clear();
  r = set_memory(f, -1, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(f.log.to(sw), std::vector<std::string>{"-1"});
  EXPECT_LT(f.log.index_of(sw), f.log.index_of(lim));
  EXPECT_EQ(get(f.dir("memory") + "/memory.limit_in_bytes"), "-1");
}

TEST(V1Manager, SwapBelowLimitIsRejected) {
  V1Fixture f;
  auto r = set_memory(f, 200 << 20, 100 << 20);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_TRUE(f.log.writes.empty());
}

TEST(V1Manager, SwapWithoutSwapAccountingIsAClearError) {
  V1Fixture f;
  std::filesystem::remove(f.dir("memory") + "/memory.memsw.limit_in_bytes");
  auto m = f.manager();
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 100 << 20;
  r.memory->swap = 200 << 20;
  auto res = m.set(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::FailedPrecondition);
  EXPECT_NE(res.error().message.find("memory.memsw.limit_in_bytes"), std::string::npos);
  EXPECT_NE(res.error().message.find("swapaccount"), std::string::npos);
  // Unlimited swap needs no accounting: only the limit is written.
  f.log.writes.clear();
  r.memory->swap = -1;
  ASSERT_TRUE(m.set(r));
  EXPECT_EQ(f.log.writes.size(), 1u);
}

TEST(V1Manager, BlkioFallsBackToBfqWeight) {
  V1Fixture f;
  std::filesystem::remove(f.dir("blkio") + "/blkio.weight");
  std::filesystem::remove(f.dir("blkio") + "/blkio.weight_device");
  put(f.dir("blkio") + "/blkio.bfq.weight", "100");
  put(f.dir("blkio") + "/blkio.bfq.weight_device", "");
  auto m = f.manager();
  oci::Resources r;
  r.block_io = oci::BlockIoResources{};
  r.block_io->weight = 700;
  r.block_io->weight_device = {{8, 0, 250, std::nullopt}};
  ASSERT_TRUE(m.set(r));
  EXPECT_EQ(f.log.to("/blkio/berth/c1/blkio.bfq.weight"), std::vector<std::string>{"700"});
  EXPECT_EQ(f.log.to("/blkio/berth/c1/blkio.bfq.weight_device"),
            std::vector<std::string>{"8:0 250"});
  std::filesystem::remove(f.dir("blkio") + "/blkio.bfq.weight");
  auto none = m.set(r);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::FailedPrecondition);
}

TEST(V1Manager, WriteErrorsNameFileAndValue) {
  V1Fixture f;
  std::filesystem::remove(f.dir("pids") + "/pids.max");
  auto m = f.manager();
  oci::Resources r;
  r.pids = oci::PidsResources{77};
  auto res = m.set(r);
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message.find("pids.max"), std::string::npos) << res.error().message;
  EXPECT_NE(res.error().message.find("77"), std::string::npos) << res.error().message;
}

TEST(V1Manager, MissingControllerAndUnifiedAreErrors) {
  V1Fixture f;
  f.roots.erase("hugetlb");
  auto m = f.manager();
  oci::Resources r;
  r.hugepage_limits = {{"2MB", 1}};
  auto res = m.set(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::FailedPrecondition);
  EXPECT_NE(res.error().message.find("hugetlb"), std::string::npos);
  oci::Resources u;
  u.unified = {{"memory.high", "1"}};
  auto ru = m.set(u);
  ASSERT_FALSE(ru);
  EXPECT_EQ(ru.error().code, Errc::InvalidArgument);
}

TEST(V1Manager, FreezeThawAndState) {
  V1Fixture f;
  auto m = f.manager();
  EXPECT_EQ(*m.freezer_state(), FreezerState::Thawed);
  ASSERT_TRUE(m.freeze());
  EXPECT_EQ(get(f.dir("freezer") + "/freezer.state"), "FROZEN");
  EXPECT_EQ(*m.freezer_state(), FreezerState::Frozen);
  ASSERT_TRUE(m.thaw());
  EXPECT_EQ(*m.freezer_state(), FreezerState::Thawed);
}

TEST(V1Manager, PidsAreRecursive) {
  V1Fixture f;
  auto m = f.manager();
  put(f.dir("pids") + "/cgroup.procs", "10\n11\n");
  put(f.dir("pids") + "/sub/cgroup.procs", "12\n");
  put(f.dir("pids") + "/sub/deeper/cgroup.procs", "13\n");
  auto p = m.pids();
  ASSERT_TRUE(p) << p.error().message;
  std::sort(p->begin(), p->end());
  EXPECT_EQ(*p, (std::vector<pid_t>{10, 11, 12, 13}));
  put(f.dir("pids") + "/cgroup.procs", "10\nbogus\n");
  EXPECT_FALSE(m.pids());
}

TEST(V1Manager, Stats) {
  V1Fixture f;
  auto m = f.manager();
  auto s = m.stats();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->memory_usage, 1048576u);
  EXPECT_EQ(s->memory_limit, 0u);  // unlimited
  EXPECT_EQ(s->cpu_usage_ns, 123456789u);
  EXPECT_EQ(s->pids_current, 3u);
  put(f.dir("memory") + "/memory.limit_in_bytes", "268435456\n");
  EXPECT_EQ(m.stats()->memory_limit, 268435456u);
}

TEST(V1Manager, DestroyRemovesChildrenFirstAndIsIdempotent) {
  V1Fixture f;
  auto m = f.manager();
  ASSERT_TRUE(m.create());
  put(f.dir("memory") + "/child/grandchild/cgroup.procs", "");
  put(f.dir("memory") + "/child/cgroup.procs", "");
  put(f.dir("memory") + "/child/memory.limit_in_bytes", "1");
  auto r = m.destroy();
  ASSERT_TRUE(r) << r.error().message;
  for (auto& [c, d] : m.paths()) EXPECT_FALSE(testing::exists(d)) << d;
  // The parent /berth stays: other containers live there.
  EXPECT_TRUE(testing::exists(f.tmp.path() + "/memory/berth"));
  EXPECT_TRUE(m.destroy());
}

TEST(V1Manager, DestroyWithProcessesIsConflict) {
  V1Fixture f;
  auto m = f.manager();
  put(f.dir("freezer") + "/child/cgroup.procs", "321\n");
  auto r = m.destroy();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Conflict);
  EXPECT_NE(r.error().message.find("321"), std::string::npos);
  EXPECT_TRUE(testing::exists(f.dir("memory")));  // nothing removed
}

}  // namespace
}  // namespace berth::cgroups

namespace berth::cgroups {
namespace {

TEST(CgroupFs, WriteEachKeepsTheOrderAndNamesTheFailure) {
  testing::TempDir tmp;
  put(tmp.path() + "/devices.allow");
  put(tmp.path() + "/devices.deny");
  std::vector<std::string> seen;
  ManagerOptions o;
  o.fixture_tree = true;
  o.before_write = [&](const std::string& path, std::string_view value) -> Result<void> {
    seen.push_back(path.substr(path.rfind('/') + 1) + "=" + std::string(value));
    return {};
  };
  CgroupFs fs(o);
  ASSERT_TRUE(fs.write_each(tmp.path(), {{"devices.deny", "a"},
                                         {"devices.allow", "c 1:3 rwm"},
                                         {"devices.deny", "c 1:3 w"},
                                         {"devices.allow", "c 1:5 rwm"}}));
  EXPECT_EQ(seen, (std::vector<std::string>{"devices.deny=a", "devices.allow=c 1:3 rwm",
                                            "devices.deny=c 1:3 w", "devices.allow=c 1:5 rwm"}));
  // One open per file: each value is one write(2) on it (a plain file
  // here, so they add up; the kernel takes each write as one rule).
  EXPECT_EQ(get(tmp.path() + "/devices.allow"), "c 1:3 rwmc 1:5 rwm");
  EXPECT_EQ(get(tmp.path() + "/devices.deny"), "ac 1:3 w");

  auto missing = fs.write_each(tmp.path(), {{"devices.allow", "a"}, {"nope", "x"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  EXPECT_EQ(missing.error().message,
            "write \"x\" to " + tmp.path() + "/nope: " + std::strerror(ENOENT));
}

}  // namespace
}  // namespace berth::cgroups
