// berth doctor's host checks over fixture /proc and /sys trees: a good v2
// host, a v1 hybrid host, and a host missing what berth needs.
#include "cli/doctor.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace berth::cli {
namespace {

namespace fs = std::filesystem;

class FakeHost {
 public:
  FakeHost() {
    char tmpl[] = "/tmp/berth-doctor-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  ~FakeHost() { fs::remove_all(root_); }
  void put(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(root_ + rel).parent_path());
    std::ofstream(root_ + rel) << text;
  }
  const Check& find(const std::vector<Check>& cs, const std::string& name) {
    for (const auto& c : cs)
      if (c.name == name) return c;
    static Check none;
    ADD_FAILURE() << "no check " << name;
    return none;
  }
  std::string root_;
};

TEST(Doctor, KernelVersionParsing) {
  EXPECT_EQ(kernel_version("6.1.0-18-amd64"), (std::pair{6, 1}));
  EXPECT_EQ(kernel_version("5.10.0-23-cloud-amd64\n"), (std::pair{5, 10}));
  EXPECT_EQ(kernel_version("4.19"), (std::pair{4, 19}));
  EXPECT_EQ(kernel_version(""), (std::pair{0, 0}));
  EXPECT_EQ(kernel_version("garbage"), (std::pair{0, 0}));
}

TEST(Doctor, HealthyCgroupV2Host) {
  FakeHost h;
  h.put("/proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
  h.put("/proc/filesystems", "nodev\tsysfs\nnodev\toverlay\n\text4\n");
  h.put("/proc/self/mountinfo",
        "25 1 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  h.put("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
  h.put("/proc/self/status", "Name:\tx\nSeccomp:\t0\nSeccomp_filters:\t0\n");
  h.put("/proc/sys/user/max_user_namespaces", "63413\n");
  h.put("/sys/module/nf_tables/refcnt", "0\n");
  auto cs = host_checks(h.root_);
  for (const auto& c : cs) EXPECT_EQ(c.status, CheckStatus::Ok) << format_check(c);
  EXPECT_NE(h.find(cs, "cgroups").detail.find("v2"), std::string::npos);
  EXPECT_NE(h.find(cs, "cgroups").detail.find("memory"), std::string::npos);
  EXPECT_TRUE(all_essential_ok(cs));
  EXPECT_NE(format_check(cs[0]).find("OK"), std::string::npos);
}

TEST(Doctor, HybridV1HostWithModulesOnDisk) {
  FakeHost h;
  h.put("/proc/sys/kernel/osrelease", "5.10.0-23-amd64\n");
  h.put("/proc/filesystems", "nodev\tsysfs\n\text4\n");
  h.put("/lib/modules/5.10.0-23-amd64/kernel/fs/overlayfs/overlay.ko", "");
  h.put("/lib/modules/5.10.0-23-amd64/kernel/net/netfilter/nf_tables.ko.xz", "");
  h.put("/proc/self/mountinfo",
        "30 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
        "31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "32 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "33 25 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n");
  h.put("/proc/self/status", "Seccomp:\t0\n");
  h.put("/proc/sys/user/max_user_namespaces", "0\n");
  auto cs = host_checks(h.root_);
  EXPECT_EQ(h.find(cs, "overlayfs").status, CheckStatus::Ok);
  EXPECT_NE(h.find(cs, "overlayfs").detail.find("module"), std::string::npos);
  EXPECT_EQ(h.find(cs, "nftables").status, CheckStatus::Ok);
  const auto& cg = h.find(cs, "cgroups");
  EXPECT_NE(cg.detail.find("v1"), std::string::npos);
  EXPECT_EQ(cg.detail.find("systemd"), std::string::npos);
  EXPECT_EQ(cg.status, CheckStatus::Warn);  // no pids controller
  EXPECT_NE(cg.fix.find("pids"), std::string::npos);
  EXPECT_EQ(h.find(cs, "user namespaces").status, CheckStatus::Warn);
  EXPECT_TRUE(all_essential_ok(cs));  // warnings only
}

TEST(Doctor, MissingEssentialsFail) {
  FakeHost h;
  h.put("/proc/sys/kernel/osrelease", "4.19.0-6-amd64\n");
  h.put("/proc/filesystems", "\text4\n");
  h.put("/proc/modules", "ext4 1 0 - Live 0x0\n");  // modules exist, nf_tables is not one
  h.put("/proc/self/mountinfo", "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
  h.put("/proc/self/status", "Name:\tx\n");
  auto cs = host_checks(h.root_);
  EXPECT_EQ(h.find(cs, "kernel").status, CheckStatus::Missing);
  EXPECT_NE(h.find(cs, "kernel").fix.find("5.6"), std::string::npos);
  EXPECT_EQ(h.find(cs, "cgroups").status, CheckStatus::Missing);
  EXPECT_EQ(h.find(cs, "seccomp").status, CheckStatus::Missing);
  EXPECT_EQ(h.find(cs, "overlayfs").status, CheckStatus::Warn);
  EXPECT_EQ(h.find(cs, "nftables").status, CheckStatus::Warn);
  EXPECT_FALSE(all_essential_ok(cs));
  auto line = format_check(h.find(cs, "seccomp"));
  EXPECT_NE(line.find("MISSING"), std::string::npos);
  EXPECT_NE(line.find("->"), std::string::npos);
  // An empty tree (no /proc at all) is reported, not crashed on; nftables
  // cannot be judged without any module information.
  FakeHost empty;
  auto none = host_checks(empty.root_);
  EXPECT_FALSE(all_essential_ok(none));
  EXPECT_EQ(h.find(none, "nftables").status, CheckStatus::Unknown);
  EXPECT_NE(format_check(h.find(none, "nftables")).find("UNKNOWN"), std::string::npos);
}

}  // namespace
}  // namespace berth::cli
