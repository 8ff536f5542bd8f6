#include "runtime/capabilities.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace berth::runtime {
namespace {

uint64_t bit(int cap) { return uint64_t{1} << cap; }

TEST(CapabilityNames, MapsCanonicalNames) {
  EXPECT_EQ(capability_from_name("CAP_CHOWN").value_or(-1), CAP_CHOWN);
  EXPECT_EQ(capability_from_name("CAP_SYS_ADMIN").value_or(-1), 21);
  EXPECT_EQ(capability_from_name("CAP_NET_BIND_SERVICE").value_or(-1), CAP_NET_BIND_SERVICE);
  EXPECT_EQ(capability_from_name("CAP_CHECKPOINT_RESTORE").value_or(-1), 40);
}

TEST(CapabilityNames, RejectsUnknownAndNonCanonicalNames) {
  auto r = capability_from_name("CAP_FOO");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_EQ(r.error().message, "unknown capability \"CAP_FOO\"");
  // libcap itself would take these; config.json must use the CAP_ spelling.
  EXPECT_FALSE(capability_from_name("cap_chown").has_value());
  EXPECT_FALSE(capability_from_name("CHOWN").has_value());
  EXPECT_FALSE(capability_from_name("21").has_value());
  EXPECT_FALSE(capability_from_name("").has_value());
}

TEST(CapabilityNames, KnownCapabilitiesInKernelOrder) {
  auto caps = known_capabilities();
  ASSERT_GE(caps.size(), 41u);  // CAP_CHOWN .. CAP_CHECKPOINT_RESTORE
  EXPECT_EQ(caps[0], "CAP_CHOWN");
  EXPECT_EQ(caps[21], "CAP_SYS_ADMIN");
  EXPECT_EQ(caps[40], "CAP_CHECKPOINT_RESTORE");
  for (size_t i = 0; i < caps.size(); ++i) {
    EXPECT_EQ(capability_from_name(caps[i]).value_or(-1), static_cast<int>(i)) << caps[i];
  }
}

TEST(CapabilityCheck, NamesTheSetAndIndex) {
  oci::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_KILL"};
  c.effective = {"CAP_CHOWN"};
  c.permitted = {"CAP_CHOWN"};
  EXPECT_TRUE(check_capabilities(c).has_value());
  c.ambient = {"CAP_KILL", "CAP_FOO"};
  auto r = check_capabilities(c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "process.capabilities.ambient[1]: unknown capability \"CAP_FOO\"");
}

TEST(CapabilityCheck, UnknownNameFailsApplyBeforeChangingAnything) {
  oci::Capabilities c;
  c.bounding = {"CAP_BOGUS"};
  auto r = drop_bounding(c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "process.capabilities.bounding[0]: unknown capability \"CAP_BOGUS\"");
}

// Reads the Cap* lines of /proc/self/status as masks.
std::map<std::string, uint64_t> read_cap_masks(const std::string& status) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Cap", 0) != 0) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    out[line.substr(0, colon)] = std::strtoull(line.c_str() + colon + 1, nullptr, 16);
  }
  return out;
}

uint64_t current_bounding() {
  std::ifstream f("/proc/self/status");
  std::stringstream ss;
  ss << f.rdbuf();
  return read_cap_masks(ss.str())["CapBnd"];
}

bool require_root() {
  if (geteuid() == 0) return true;
  if (std::getenv("BERTH_TEST_ROOT") != nullptr) {
    ADD_FAILURE() << "BERTH_TEST_ROOT is set but the test does not run as root";
  }
  return false;
}

// Runs drop_bounding + apply_capabilities in a forked child and returns the
// child's /proc/self/status (empty with `err` set on failure).
std::string status_after_apply(const oci::Capabilities& c, std::string* err) {
  int p[2];
  if (pipe(p) != 0) {
    *err = "pipe failed";
    return "";
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    std::string out;
    auto r = drop_bounding(c);
    if (r) r = apply_capabilities(c);
    if (!r) {
      out = "ERROR " + r.error().message;
    } else {
      std::ifstream f("/proc/self/status");
      std::stringstream ss;
      ss << f.rdbuf();
      out = ss.str();
    }
    const char* d = out.data();
    size_t left = out.size();
    while (left > 0) {
      ssize_t n = write(p[1], d, left);
      if (n <= 0) break;
      d += n;
      left -= static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(p[1]);
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  close(p[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (got.rfind("ERROR ", 0) == 0) {
    *err = got.substr(6);
    return "";
  }
  return got;
}

TEST(CapabilityApply, SetsAllFiveSets) {
  if (!require_root()) GTEST_SKIP() << "needs root";
  oci::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_NET_RAW"};
  c.permitted = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"};
  c.effective = {"CAP_CHOWN", "CAP_KILL"};
  c.inheritable = {"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"};
  c.ambient = {"CAP_NET_BIND_SERVICE"};
  // Whatever this test process lacks in its own bounding set cannot be kept.
  uint64_t have = current_bounding();
  std::string err;
  auto masks = read_cap_masks(status_after_apply(c, &err));
  ASSERT_TRUE(err.empty()) << err;
  EXPECT_EQ(masks["CapBnd"], (bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE) |
                              bit(CAP_SETUID) | bit(CAP_NET_RAW)) &
                                 have);
  EXPECT_EQ(masks["CapPrm"],
            bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE) | bit(CAP_NET_RAW));
  EXPECT_EQ(masks["CapEff"], bit(CAP_CHOWN) | bit(CAP_KILL));
  EXPECT_EQ(masks["CapInh"], bit(CAP_NET_BIND_SERVICE) | bit(CAP_NET_RAW));
  EXPECT_EQ(masks["CapAmb"], bit(CAP_NET_BIND_SERVICE));
}

TEST(CapabilityApply, EmptySetsDropEverything) {
  if (!require_root()) GTEST_SKIP() << "needs root";
  std::string err;
  auto masks = read_cap_masks(status_after_apply(oci::Capabilities{}, &err));
  ASSERT_TRUE(err.empty()) << err;
  ASSERT_EQ(masks.size(), 5u);
  for (const auto& [k, v] : masks) EXPECT_EQ(v, 0u) << k;
}

// runc's default spec has ambient capabilities but no inheritable set; like
// runc, such an ambient capability is skipped (with a warning), the rest applies.
TEST(CapabilityApply, AmbientOutsideInheritableIsSkipped) {
  if (!require_root()) GTEST_SKIP() << "needs root";
  oci::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_KILL"};
  c.permitted = {"CAP_CHOWN", "CAP_KILL"};
  c.effective = {"CAP_CHOWN"};
  c.inheritable = {"CAP_CHOWN"};
  c.ambient = {"CAP_KILL"};
  std::string err;
  auto masks = read_cap_masks(status_after_apply(c, &err));
  ASSERT_TRUE(err.empty()) << err;
  EXPECT_EQ(masks["CapAmb"], 0u);
  EXPECT_EQ(masks["CapPrm"], bit(CAP_CHOWN) | bit(CAP_KILL));
  EXPECT_EQ(masks["CapEff"], bit(CAP_CHOWN));
}

TEST(CapabilityApply, EffectiveOutsidePermittedIsAnError) {
  if (!require_root()) GTEST_SKIP() << "needs root";
  oci::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_KILL"};
  c.permitted = {"CAP_CHOWN"};
  c.effective = {"CAP_CHOWN", "CAP_KILL"};
  std::string err;
  status_after_apply(c, &err);
  EXPECT_NE(err.find("process.capabilities"), std::string::npos) << err;
}

}  // namespace
}  // namespace berth::runtime
