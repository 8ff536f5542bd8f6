#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include "oci/spec_codec.h"
#include "oci/spec_test_data.h"

namespace berth::oci {
namespace {

TEST(DefaultSpec, MatchesRuncSpecExceptVersion) {
  Json expected = Json::parse(testdata::kRuncDefault);
  expected["ociVersion"] = kSpecVersion;
  EXPECT_EQ(spec_to_json(default_spec(false)), expected);
}

TEST(DefaultSpec, ShellWithTerminal) {
  Spec s = default_spec(false);
  EXPECT_EQ(s.oci_version, kSpecVersion);
  EXPECT_EQ(s.process->args, std::vector<std::string>{"sh"});
  EXPECT_TRUE(s.process->terminal);
  EXPECT_TRUE(validate_spec(s).has_value());
}

TEST(DefaultSpec, RootlessMapsCallerAndKeepsHostNetwork) {
  Spec s = default_spec(true);
  const Linux& l = s.linux.value();
  std::vector<std::string> types;
  for (const auto& ns : l.namespaces) types.push_back(ns.type);
  EXPECT_EQ(types, (std::vector<std::string>{"pid", "ipc", "uts", "mount", "user"}));
  ASSERT_EQ(l.uid_mappings.size(), 1u);
  EXPECT_EQ(l.uid_mappings[0].container_id, 0u);
  EXPECT_EQ(l.uid_mappings[0].host_id, geteuid());
  EXPECT_EQ(l.uid_mappings[0].size, 1u);
  ASSERT_EQ(l.gid_mappings.size(), 1u);
  EXPECT_EQ(l.gid_mappings[0].host_id, getegid());
  // No device cgroup rules: an unprivileged caller cannot write them.
  EXPECT_FALSE(l.resources);
  // /sys is bound from the host, and devpts drops gid=5.
  EXPECT_EQ(s.mounts[5].destination, "/sys");
  EXPECT_EQ(s.mounts[5].type, "none");
  EXPECT_EQ(s.mounts[5].options.front(), "rbind");
  EXPECT_EQ(s.mounts[2].options.back(), "mode=0620");
  EXPECT_TRUE(validate_spec(s).has_value()) << validate_spec(s).error().message;
}

TEST(KnownNames, Namespaces) {
  const auto& ns = known_namespaces();
  EXPECT_EQ(ns.size(), 8u);
  for (const char* n : {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"}) {
    EXPECT_NE(std::find(ns.begin(), ns.end(), n), ns.end()) << n;
  }
}

TEST(KnownNames, Rlimits) {
  EXPECT_EQ(known_rlimits().size(), 16u);
  EXPECT_EQ(rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  EXPECT_EQ(rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  EXPECT_EQ(rlimit_from_name("RLIMIT_AS"), RLIMIT_AS);
  EXPECT_EQ(rlimit_from_name("NOFILE"), -1);
  EXPECT_EQ(rlimit_from_name("rlimit_nofile"), -1);
  EXPECT_EQ(rlimit_from_name(""), -1);
  for (const auto& name : known_rlimits()) EXPECT_GE(rlimit_from_name(name), 0) << name;
}

}  // namespace
}  // namespace berth::oci
