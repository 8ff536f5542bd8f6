#include "cgroups/convert.h"

#include <gtest/gtest.h>

#include "cgroups/fs.h"

namespace berth::cgroups {
namespace {

TEST(Convert, SharesToWeight) {
  EXPECT_EQ(shares_to_weight(0), 0u);  // unset stays unset
  EXPECT_EQ(shares_to_weight(2), 1u);
  EXPECT_EQ(shares_to_weight(1024), 39u);  // docker's default shares
  EXPECT_EQ(shares_to_weight(512), 20u);
  EXPECT_EQ(shares_to_weight(262144), 10000u);
  EXPECT_EQ(shares_to_weight(1), 1u);             // clamped up to 2
  EXPECT_EQ(shares_to_weight(1u << 30), 10000u);  // clamped down
}

TEST(Convert, BlkioWeightToIoWeight) {
  EXPECT_EQ(blkio_weight_to_io_weight(0), 0u);
  EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_weight_to_io_weight(500), 4950u);
  EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
  EXPECT_EQ(blkio_weight_to_io_weight(5), 1u);
}

std::optional<std::string> swap_of(std::optional<int64_t> l, std::optional<int64_t> s) {
  auto r = v2_swap_max(l, s);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : std::nullopt;
}

TEST(Convert, V2SwapIsMemswMinusLimit) {
  EXPECT_EQ(swap_of(100 << 20, 300 << 20), std::to_string(200 << 20));
  EXPECT_EQ(swap_of(100, 100), "0");  // swap == limit: no swap at all
  EXPECT_EQ(swap_of(100, -1), "max");
  EXPECT_EQ(swap_of(std::nullopt, -1), "max");
  EXPECT_EQ(swap_of(-1, std::nullopt), "max");  // unlimited memory, unlimited swap
  EXPECT_EQ(swap_of(100, std::nullopt), std::nullopt);
  EXPECT_EQ(swap_of(std::nullopt, std::nullopt), std::nullopt);
  auto below = v2_swap_max(200, 100);
  ASSERT_FALSE(below);
  EXPECT_EQ(below.error().code, Errc::InvalidArgument);
  EXPECT_NE(below.error().message.find("200"), std::string::npos);
  EXPECT_FALSE(v2_swap_max(std::nullopt, 100));
  EXPECT_FALSE(v2_swap_max(-1, 100));
}

TEST(Convert, Limits) {
  EXPECT_EQ(v1_limit(-1), "-1");
  EXPECT_EQ(v1_limit(4096), "4096");
  EXPECT_EQ(v2_limit(-1), "max");
  EXPECT_EQ(v2_limit(0), "0");
}

TEST(Convert, CpuMax) {
  EXPECT_EQ(cpu_max_line(50000, 100000), "50000 100000");
  EXPECT_EQ(cpu_max_line(0, 100000), "max 100000");
  EXPECT_EQ(cpu_max_line(-1, 250000), "max 250000");
  EXPECT_EQ(cpu_max_line(std::nullopt, 100000), "max 100000");
  auto m = parse_cpu_max("max 100000\n");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->quota);
  EXPECT_EQ(m->period, 100000u);
  m = parse_cpu_max("25000 50000");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->quota, 25000);
  EXPECT_EQ(m->period, 50000u);
  EXPECT_FALSE(parse_cpu_max("abc 100"));
  EXPECT_FALSE(parse_cpu_max(""));
}

TEST(Convert, V1FreezerState) {
  EXPECT_EQ(*parse_v1_freezer_state("THAWED\n"), FreezerState::Thawed);
  EXPECT_EQ(*parse_v1_freezer_state("FREEZING"), FreezerState::Freezing);
  EXPECT_EQ(*parse_v1_freezer_state("FROZEN\n"), FreezerState::Frozen);
  EXPECT_FALSE(parse_v1_freezer_state("frozen"));
  EXPECT_FALSE(parse_v1_freezer_state(""));
}

TEST(Convert, V2FreezerState) {
  EXPECT_EQ(*parse_v2_freezer_state("0\n", "populated 1\nfrozen 0\n"), FreezerState::Thawed);
  EXPECT_EQ(*parse_v2_freezer_state("1\n", "populated 1\nfrozen 0\n"), FreezerState::Freezing);
  EXPECT_EQ(*parse_v2_freezer_state("1", "populated 1\nfrozen 1\n"), FreezerState::Frozen);
  // Thaw requested, not reached yet: tasks are still frozen.
  EXPECT_EQ(*parse_v2_freezer_state("0", "frozen 1"), FreezerState::Frozen);
  EXPECT_FALSE(parse_v2_freezer_state("2", "frozen 0"));
  EXPECT_FALSE(parse_v2_freezer_state("1", "populated 1\n"));
}

TEST(Convert, UnifiedKeys) {
  EXPECT_TRUE(check_unified_key("memory.high"));
  EXPECT_TRUE(check_unified_key("cpu.max.burst"));
  for (const char* bad :
       {"", ".", "..", "../memory.max", "a/b", "memory..max", "/memory.max", "nodot"}) {
    auto r = check_unified_key(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::InvalidArgument);
    }
  }
}

TEST(Convert, HugepageSize) {
  EXPECT_TRUE(check_hugepage_size("2MB"));
  EXPECT_TRUE(check_hugepage_size("1GB"));
  EXPECT_FALSE(check_hugepage_size("../2MB"));
  EXPECT_FALSE(check_hugepage_size(""));
}

TEST(Convert, CleanCgroupPath) {
  EXPECT_EQ(*clean_cgroup_path("", "abc"), "/berth/abc");
  EXPECT_EQ(*clean_cgroup_path("/docker/abc", "x"), "/docker/abc");
  EXPECT_EQ(*clean_cgroup_path("rel/path/", "x"), "/rel/path");
  EXPECT_EQ(*clean_cgroup_path("//a//./b", "x"), "/a/b");
  EXPECT_FALSE(clean_cgroup_path("/a/../../etc", "x"));
  EXPECT_FALSE(clean_cgroup_path("/", "x"));
  EXPECT_FALSE(clean_cgroup_path("", ""));
  EXPECT_FALSE(clean_cgroup_path("", "a/b"));
  EXPECT_EQ(join_path("/sys/fs/cgroup/", "/a/b"), "/sys/fs/cgroup/a/b");
  EXPECT_EQ(join_path("/", "/a"), "/a");
}

}  // namespace
}  // namespace berth::cgroups
