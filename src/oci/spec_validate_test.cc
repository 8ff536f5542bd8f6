#include <gtest/gtest.h>

#include <functional>

#include "oci/spec_codec.h"
#include "oci/spec_test_data.h"

namespace berth::oci {
namespace {

// runc's default spec, changed by `edit`, then validated; returns the error
// message, or a marker that makes the comparison fail when it validates.
std::string invalid_after(const std::function<void(Spec&)>& edit) {
  auto s = parse_spec(testdata::kRuncDefault);
  EXPECT_TRUE(s.has_value());
  if (!s) return "<parse failed>";
  edit(*s);
  auto r = validate_spec(*s);
  if (r) return "<valid>";
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  return r.error().message;
}

bool valid_after(const std::function<void(Spec&)>& edit) {
  std::string msg = invalid_after(edit);
  EXPECT_EQ(msg, "<valid>");
  return msg == "<valid>";
}

Device make_device(std::string type, std::string path) {
  Device d;
  d.type = std::move(type);
  d.path = std::move(path);
  return d;
}

void add_user_ns(Spec& s) {
  s.linux->namespaces.push_back(Namespace{"user", ""});
  s.linux->uid_mappings.push_back(IdMapping{0, 100000, 65536});
  s.linux->gid_mappings.push_back(IdMapping{0, 100000, 65536});
}

TEST(ValidateSpec, DefaultsAreValid) {
  EXPECT_TRUE(valid_after([](Spec&) {}));
  EXPECT_TRUE(validate_spec(default_spec(false)).has_value());
  EXPECT_TRUE(validate_spec(default_spec(true)).has_value());
}

TEST(ValidateSpec, OciVersion) {
  EXPECT_EQ(invalid_after([](Spec& s) { s.oci_version = "2.0.0"; }),
            "config.json: ociVersion \"2.0.0\": unsupported major version 2");
  EXPECT_EQ(invalid_after([](Spec& s) { s.oci_version = "0.9.0"; }),
            "config.json: ociVersion \"0.9.0\": unsupported major version 0");
  EXPECT_EQ(invalid_after([](Spec& s) { s.oci_version = "1.0"; }),
            "config.json: ociVersion \"1.0\": not a semantic version (MAJOR.MINOR.PATCH)");
  EXPECT_EQ(invalid_after([](Spec& s) { s.oci_version = "one.two.three"; }),
            "config.json: ociVersion \"one.two.three\": not a semantic version "
            "(MAJOR.MINOR.PATCH)");
  EXPECT_EQ(invalid_after([](Spec& s) { s.oci_version = ""; }), "config.json: ociVersion: missing");
  EXPECT_TRUE(valid_after([](Spec& s) { s.oci_version = "1.2.0-rc.1+build.5"; }));
}

TEST(ValidateSpec, RootAndProcessRequired) {
  EXPECT_EQ(invalid_after([](Spec& s) { s.root.reset(); }),
            "config.json: root: missing (required on Linux)");
  EXPECT_EQ(invalid_after([](Spec& s) { s.root->path.clear(); }),
            "config.json: root.path: must not be empty");
  EXPECT_EQ(invalid_after([](Spec& s) { s.process.reset(); }), "config.json: process: missing");
}

TEST(ValidateSpec, ProcessArgsAndCwd) {
  EXPECT_EQ(invalid_after([](Spec& s) { s.process->args.clear(); }),
            "config.json: process.args: must not be empty");
  EXPECT_EQ(invalid_after([](Spec& s) { s.process->args = {""}; }),
            "config.json: process.args[0]: must not be empty");
  EXPECT_EQ(invalid_after([](Spec& s) { s.process->cwd = "home/user"; }),
            "config.json: process.cwd \"home/user\": must be an absolute path");
  EXPECT_EQ(invalid_after([](Spec& s) { s.process->cwd.clear(); }),
            "config.json: process.cwd: must not be empty");
}

TEST(ValidateSpec, Rlimits) {
  EXPECT_EQ(invalid_after([](Spec& s) { s.process->rlimits[0].soft = 2048; }),
            "config.json: process.rlimits[0]: RLIMIT_NOFILE soft limit 2048 exceeds hard limit "
            "1024");
  EXPECT_EQ(invalid_after([](Spec& s) { s.process->rlimits[0].type = "RLIMIT_FILES"; }),
            "config.json: process.rlimits[0].type \"RLIMIT_FILES\": unknown rlimit");
  EXPECT_EQ(invalid_after([](Spec& s) { s.process->rlimits.push_back(s.process->rlimits[0]); }),
            "config.json: process.rlimits[1].type \"RLIMIT_NOFILE\": repeated (each rlimit may be "
            "set once)");
}

TEST(ValidateSpec, CapabilityNamesMustBeNonEmpty) {
  EXPECT_EQ(invalid_after([](Spec& s) { s.process->capabilities->ambient.push_back(""); }),
            "config.json: process.capabilities.ambient[3]: must not be empty");
}

TEST(ValidateSpec, ProcessRanges) {
  EXPECT_EQ(invalid_after([](Spec& s) { s.process->oom_score_adj = 1001; }),
            "config.json: process.oomScoreAdj: 1001 is outside [-1000, 1000]");
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.process->io_priority = IoPriority{"RT", 1};
            }),
            "config.json: process.ioPriority.class \"RT\": must be IOPRIO_CLASS_RT, "
            "IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE");
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.process->io_priority = IoPriority{"IOPRIO_CLASS_BE", 8};
            }),
            "config.json: process.ioPriority.priority: 8 is outside [0, 7]");
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.process->scheduler.emplace();
              s.process->scheduler->policy = "SCHED_FAST";
            }),
            "config.json: process.scheduler.policy \"SCHED_FAST\": unknown scheduling policy");
}

TEST(ValidateSpec, MountDestinationMustBeAbsolute) {
  EXPECT_EQ(invalid_after([](Spec& s) { s.mounts[1].destination = "dev"; }),
            "config.json: mounts[1].destination \"dev\": must be an absolute path");
  EXPECT_EQ(invalid_after([](Spec& s) { s.mounts[0].destination.clear(); }),
            "config.json: mounts[0].destination: must not be empty");
}

TEST(ValidateSpec, IdmappedMountNeedsBothMaps) {
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.mounts[0].uid_mappings.push_back({0, 1000, 1});
            }),
            "config.json: mounts[0]: uidMappings and gidMappings must be given together");
}

TEST(ValidateSpec, Hooks) {
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.hooks.emplace();
              s.hooks->create_runtime.push_back(Hook{"hooks/net.sh", {}, {}, std::nullopt});
            }),
            "config.json: hooks.createRuntime[0].path \"hooks/net.sh\": must be an absolute path");
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.hooks.emplace();
              s.hooks->poststart.push_back(Hook{"/bin/true", {}, {}, 1});
              s.hooks->poststop.push_back(Hook{"/bin/true", {}, {}, 0});
            }),
            "config.json: hooks.poststop[0].timeout: must be > 0, got 0");
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.hooks.emplace();
              s.hooks->prestart.push_back(Hook{"/bin/true", {}, {}, -3});
            }),
            "config.json: hooks.prestart[0].timeout: must be > 0, got -3");
}

TEST(ValidateSpec, Namespaces) {
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.linux->namespaces.push_back({"pid", ""});
            }),
            "config.json: linux.namespaces[5].type \"pid\": repeated (each namespace may appear "
            "once)");
  EXPECT_EQ(invalid_after([](Spec& s) { s.linux->namespaces[1].type = "net"; }),
            "config.json: linux.namespaces[1].type \"net\": unknown namespace type");
  EXPECT_EQ(invalid_after([](Spec& s) { s.linux->namespaces[1].path = "proc/1/ns/net"; }),
            "config.json: linux.namespaces[1].path \"proc/1/ns/net\": must be an absolute path");
  EXPECT_TRUE(valid_after([](Spec& s) {
    s.linux->namespaces.push_back({"cgroup", ""});
    s.linux->namespaces.push_back({"time", ""});
  }));
}

TEST(ValidateSpec, UserNamespaceNeedsMappings) {
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.linux->namespaces.push_back({"user", ""});
            }),
            "config.json: linux.uidMappings: required for a new user namespace");
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.linux->namespaces.push_back({"user", ""});
              s.linux->uid_mappings.push_back({0, 1000, 1});
            }),
            "config.json: linux.gidMappings: required for a new user namespace");
  EXPECT_TRUE(valid_after(add_user_ns));
  EXPECT_EQ(invalid_after([](Spec& s) {
              add_user_ns(s);
              s.linux->gid_mappings[0].size = 0;
            }),
            "config.json: linux.gidMappings[0].size: must be > 0");
}

TEST(ValidateSpec, MappingsWithoutUserNamespace) {
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.linux->uid_mappings.push_back({0, 1000, 1});
            }),
            "config.json: linux.uidMappings: given without a user namespace in linux.namespaces");
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.linux->gid_mappings.push_back({0, 1000, 1});
            }),
            "config.json: linux.gidMappings: given without a user namespace in linux.namespaces");
  EXPECT_EQ(invalid_after([](Spec& s) {
              add_user_ns(s);
              s.linux->namespaces.back().path = "/proc/42/ns/user";
            }),
            "config.json: linux.uidMappings: not allowed when joining an existing user namespace");
  EXPECT_TRUE(valid_after([](Spec& s) {
    s.linux->namespaces.push_back({"user", "/proc/1/ns/user"});
  }));
}

TEST(ValidateSpec, HostnameNeedsUtsNamespace) {
  EXPECT_EQ(
      invalid_after([](Spec& s) { s.linux->namespaces.erase(s.linux->namespaces.begin() + 3); }),
      "config.json: hostname \"runc\": needs a uts namespace in linux.namespaces");
  EXPECT_TRUE(valid_after([](Spec& s) {
    s.linux->namespaces.erase(s.linux->namespaces.begin() + 3);
    s.hostname.clear();
  }));
}

TEST(ValidateSpec, LinuxDevicesAndRules) {
  EXPECT_EQ(invalid_after([](Spec& s) { s.linux->devices.push_back(make_device("x", "/dev/x")); }),
            "config.json: linux.devices[0].type \"x\": must be one of c, b, u, p");
  EXPECT_EQ(invalid_after([](Spec& s) { s.linux->devices.push_back(make_device("c", "dev/x")); }),
            "config.json: linux.devices[0].path \"dev/x\": must be an absolute path");
  EXPECT_EQ(invalid_after([](Spec& s) { s.linux->resources->devices[0].access = "rwx"; }),
            "config.json: linux.resources.devices[0].access \"rwx\": must be a combination of r, "
            "w, m");
  EXPECT_EQ(invalid_after([](Spec& s) { s.linux->resources->devices[0].type = "u"; }),
            "config.json: linux.resources.devices[0].type \"u\": must be one of a, c, b");
}

TEST(ValidateSpec, LinuxPathsAndModes) {
  EXPECT_EQ(invalid_after([](Spec& s) { s.linux->masked_paths.push_back("proc/kcore"); }),
            "config.json: linux.maskedPaths[10] \"proc/kcore\": must be an absolute path");
  EXPECT_EQ(invalid_after([](Spec& s) { s.linux->readonly_paths[0] = "proc/bus"; }),
            "config.json: linux.readonlyPaths[0] \"proc/bus\": must be an absolute path");
  EXPECT_EQ(invalid_after([](Spec& s) { s.linux->rootfs_propagation = "recursive"; }),
            "config.json: linux.rootfsPropagation \"recursive\": not a mount propagation mode");
  EXPECT_EQ(invalid_after([](Spec& s) {
              s.linux->personality = Personality{"LINUX64", {}};
            }),
            "config.json: linux.personality.domain \"LINUX64\": must be LINUX or LINUX32");
  EXPECT_EQ(invalid_after([](Spec& s) { s.linux->resources->unified["../x"] = "1"; }),
            "config.json: linux.resources.unified \"../x\": not a cgroup file name");
}

TEST(ValidateSpec, SeccompStructure) {
  auto with_seccomp = [](const std::function<void(Seccomp&)>& edit) {
    return invalid_after([&](Spec& s) {
      Seccomp sc;
      sc.default_action = "SCMP_ACT_ERRNO";
      sc.syscalls.push_back(SeccompSyscall{{"read"}, "SCMP_ACT_ALLOW", std::nullopt, {}});
      edit(sc);
      s.linux->seccomp = sc;
    });
  };
  EXPECT_EQ(with_seccomp([](Seccomp&) {}), "<valid>");
  EXPECT_EQ(with_seccomp([](Seccomp& sc) { sc.default_action.clear(); }),
            "config.json: linux.seccomp.defaultAction: must not be empty");
  EXPECT_EQ(with_seccomp([](Seccomp& sc) { sc.syscalls[0].names.clear(); }),
            "config.json: linux.seccomp.syscalls[0].names: must not be empty");
  EXPECT_EQ(with_seccomp([](Seccomp& sc) { sc.syscalls[0].names.push_back(""); }),
            "config.json: linux.seccomp.syscalls[0].names[1]: must not be empty");
  EXPECT_EQ(with_seccomp([](Seccomp& sc) { sc.syscalls[0].action.clear(); }),
            "config.json: linux.seccomp.syscalls[0].action: must not be empty");
  EXPECT_EQ(with_seccomp([](Seccomp& sc) {
              sc.syscalls[0].args.push_back(SeccompArg{0, 1, 0, ""});
            }),
            "config.json: linux.seccomp.syscalls[0].args[0].op: must not be empty");
  EXPECT_EQ(with_seccomp([](Seccomp& sc) { sc.syscalls[0].action = "SCMP_ACT_NOTIFY"; }),
            "config.json: linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
  EXPECT_EQ(with_seccomp([](Seccomp& sc) { sc.architectures.push_back(""); }),
            "config.json: linux.seccomp.architectures[0]: must not be empty");
}

TEST(ValidateSpec, ParsedJsonEndToEnd) {
  // Decoding and validation together, as `berth-runtime create` uses them.
  auto s = parse_spec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
      "process": {"args": ["sh"], "cwd": "/"},
      "linux": {"namespaces": [{"type": "mount"}, {"type": "ipc"}, {"type": "mount"}]}})");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto r = validate_spec(*s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "config.json: linux.namespaces[2].type \"mount\": repeated (each namespace may appear "
            "once)");
}

}  // namespace
}  // namespace berth::oci

namespace berth::oci {
namespace {

TEST(TimeOffsets, DecodeRoundTripAndValidate) {
  const char* text = R"({"ociVersion": "1.1.0", "root": {"path": "rootfs"},
    "process": {"args": ["sh"], "cwd": "/"},
    "linux": {"namespaces": [{"type": "mount"}, {"type": "time"}],
              "timeOffsets": {"monotonic": {"secs": 86400, "nanosecs": 5}}}})";
  auto s = parse_spec(text);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  ASSERT_EQ(s->linux->time_offsets.count("monotonic"), 1u);
  EXPECT_EQ(s->linux->time_offsets["monotonic"].secs, 86400);
  EXPECT_EQ(s->linux->time_offsets["monotonic"].nanosecs, 5u);
  EXPECT_TRUE(validate_spec(*s).has_value());
  auto again = spec_from_json(spec_to_json(*s));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->linux->time_offsets["monotonic"].secs, 86400);

  s->linux->time_offsets["realtime"] = TimeOffset{1, 0};
  auto bad_clock = validate_spec(*s);
  ASSERT_FALSE(bad_clock.has_value());
  EXPECT_NE(bad_clock.error().message.find("monotonic or boottime"), std::string::npos);
  s->linux->time_offsets.erase("realtime");
  s->linux->namespaces.pop_back();  // no time namespace
  auto no_ns = validate_spec(*s);
  ASSERT_FALSE(no_ns.has_value());
  EXPECT_NE(no_ns.error().message.find("linux.timeOffsets"), std::string::npos);
}

}  // namespace
}  // namespace berth::oci
