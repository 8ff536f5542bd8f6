#include "runtime/features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace berth::runtime {
namespace {

bool lists(const Json& arr, const std::string& x) {
  if (!arr.is_array()) return false;
  return std::any_of(arr.begin(), arr.end(),
                     [&](const Json& e) { return e.is_string() && e.get<std::string>() == x; });
}

const Json& at(const Json& j, const char* key) {
  static const Json kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

TEST(Features, HasRequiredVersions) {
  Json f = features_json();
  ASSERT_TRUE(f.is_object());
  EXPECT_EQ(at(f, "ociVersionMin"), "1.0.0");
  EXPECT_EQ(at(f, "ociVersionMax"), "1.1.0");
}

TEST(Features, HooksAndMountOptions) {
  Json f = features_json();
  for (const char* h : {"prestart", "createRuntime", "createContainer", "startContainer",
                        "poststart", "poststop"}) {
    EXPECT_TRUE(lists(at(f, "hooks"), h)) << h;
  }
  for (const char* o : {"ro", "rbind", "nosuid", "rprivate", "rro", "rnoexec"}) {
    EXPECT_TRUE(lists(at(f, "mountOptions"), o)) << o;
  }
  // Not implemented by the mount code, so not advertised.
  for (const char* o : {"tmpcopyup", "idmap", "ridmap"}) {
    EXPECT_FALSE(lists(at(f, "mountOptions"), o)) << o;
  }
}

TEST(Features, LinuxSection) {
  Json f = features_json();
  const Json& linux = at(f, "linux");
  ASSERT_TRUE(linux.is_object());
  for (const char* ns : {"cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time"}) {
    EXPECT_TRUE(lists(at(linux, "namespaces"), ns)) << ns;
  }
  EXPECT_TRUE(lists(at(linux, "capabilities"), "CAP_SYS_ADMIN"));
  EXPECT_TRUE(lists(at(linux, "capabilities"), "CAP_CHOWN"));
  EXPECT_EQ(at(at(linux, "cgroup"), "v1"), true);
  EXPECT_EQ(at(at(linux, "cgroup"), "v2"), true);
  EXPECT_EQ(at(at(linux, "cgroup"), "systemd"), false);

  const Json& sc = at(linux, "seccomp");
  EXPECT_EQ(at(sc, "enabled"), true);
  EXPECT_TRUE(lists(at(sc, "actions"), "SCMP_ACT_NOTIFY"));
  EXPECT_TRUE(lists(at(sc, "actions"), "SCMP_ACT_KILL_PROCESS"));
  EXPECT_TRUE(lists(at(sc, "operators"), "SCMP_CMP_MASKED_EQ"));
  EXPECT_TRUE(lists(at(sc, "archs"), "SCMP_ARCH_X86_64"));
  EXPECT_TRUE(lists(at(sc, "knownFlags"), "SECCOMP_FILTER_FLAG_LOG"));
  ASSERT_TRUE(at(sc, "supportedFlags").is_array());
  for (const Json& fl : at(sc, "supportedFlags")) {
    EXPECT_TRUE(fl.is_string() && lists(at(sc, "knownFlags"), fl.get<std::string>())) << fl;
  }

  EXPECT_EQ(at(at(linux, "apparmor"), "enabled"), false);
  EXPECT_EQ(at(at(linux, "selinux"), "enabled"), false);
  EXPECT_EQ(at(at(linux, "intelRdt"), "enabled"), false);
  // mountExtensions is a runtime-spec 1.2 key; ociVersionMax is 1.1.0.
  EXPECT_FALSE(linux.contains("mountExtensions"));
}

}  // namespace
}  // namespace berth::runtime
