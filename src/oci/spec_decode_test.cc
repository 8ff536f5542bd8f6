#include <gtest/gtest.h>

#include "oci/spec_codec.h"
#include "oci/spec_test_data.h"

namespace berth::oci {
namespace {

Spec must_parse(std::string_view text) {
  auto s = parse_spec(text);
  EXPECT_TRUE(s.has_value()) << s.error().message;
  return s ? std::move(s).value() : Spec{};
}

// The message of a parse failure, or a marker that makes the comparison fail.
std::string parse_error(std::string_view text) {
  auto s = parse_spec(text);
  if (s) return "<parsed without error>";
  EXPECT_EQ(s.error().code, Errc::InvalidArgument);
  return s.error().message;
}

TEST(SpecDecode, RuncDefault) {
  Spec s = must_parse(testdata::kRuncDefault);
  EXPECT_EQ(s.oci_version, "1.0.2-dev");
  ASSERT_TRUE(s.process);
  EXPECT_TRUE(s.process->terminal);
  EXPECT_EQ(s.process->args, std::vector<std::string>{"sh"});
  EXPECT_EQ(s.process->cwd, "/");
  EXPECT_EQ(s.process->env.size(), 2u);
  ASSERT_TRUE(s.process->capabilities);
  EXPECT_EQ(s.process->capabilities->bounding.size(), 3u);
  EXPECT_TRUE(s.process->capabilities->inheritable.empty());
  ASSERT_EQ(s.process->rlimits.size(), 1u);
  EXPECT_EQ(s.process->rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(s.process->rlimits[0].soft, 1024u);
  EXPECT_TRUE(s.process->no_new_privileges);
  ASSERT_TRUE(s.root);
  EXPECT_EQ(s.root->path, "rootfs");
  EXPECT_TRUE(s.root->readonly);
  EXPECT_EQ(s.hostname, "runc");
  ASSERT_EQ(s.mounts.size(), 7u);
  EXPECT_EQ(s.mounts[2].destination, "/dev/pts");
  EXPECT_EQ(s.mounts[2].options.back(), "gid=5");
  ASSERT_TRUE(s.linux);
  ASSERT_TRUE(s.linux->resources);
  ASSERT_EQ(s.linux->resources->devices.size(), 1u);
  EXPECT_FALSE(s.linux->resources->devices[0].allow);
  EXPECT_FALSE(s.linux->resources->devices[0].major.has_value());
  EXPECT_EQ(s.linux->resources->devices[0].access, "rwm");
  ASSERT_EQ(s.linux->namespaces.size(), 5u);
  EXPECT_EQ(s.linux->namespaces[1].type, "network");
  EXPECT_EQ(s.linux->masked_paths.size(), 10u);
  EXPECT_EQ(s.linux->readonly_paths.size(), 5u);
  EXPECT_FALSE(s.hooks);
  EXPECT_TRUE(validate_spec(s).has_value()) << validate_spec(s).error().message;
}

TEST(SpecDecode, RuncDefaultRoundTripsExactly) {
  Spec s = must_parse(testdata::kRuncDefault);
  EXPECT_EQ(spec_to_json(s), Json::parse(testdata::kRuncDefault));
}

TEST(SpecDecode, MaximalFields) {
  Spec s = must_parse(testdata::kMaximal);
  const Process& p = s.process.value();
  EXPECT_EQ(p.console_size->height, 40u);
  EXPECT_EQ(p.console_size->width, 120u);
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{5, 27}));
  EXPECT_EQ(p.command_line, "app.exe --flag");
  EXPECT_EQ(p.capabilities->inheritable, std::vector<std::string>{"CAP_NET_RAW"});
  EXPECT_EQ(p.rlimits[1].hard, UINT64_MAX);
  EXPECT_EQ(p.oom_score_adj, -500);
  EXPECT_EQ(p.io_priority->klass, "IOPRIO_CLASS_BE");
  EXPECT_EQ(p.io_priority->priority, 4);
  EXPECT_EQ(p.scheduler->policy, "SCHED_DEADLINE");
  EXPECT_EQ(p.scheduler->nice, -5);
  EXPECT_EQ(p.scheduler->period, 3000000u);
  EXPECT_EQ(s.domainname, "example.org");
  EXPECT_EQ(s.mounts[1].uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(s.mounts[1].gid_mappings[0].host_id, 200000u);
  EXPECT_TRUE(s.mounts[2].type.empty());
  const Hooks& h = s.hooks.value();
  EXPECT_EQ(h.prestart[0].timeout, 5);
  EXPECT_EQ(h.prestart[0].args, (std::vector<std::string>{"prestart", "a"}));
  EXPECT_EQ(h.create_runtime[0].path, "/usr/bin/create-runtime");
  EXPECT_FALSE(h.create_runtime[0].timeout);
  EXPECT_EQ(h.create_container[0].timeout, 1);
  EXPECT_EQ(h.start_container[0].args[0], "sc");
  EXPECT_EQ(h.poststart[0].env[0], "B=2");
  EXPECT_EQ(h.poststop[0].timeout, 30);
  EXPECT_EQ(s.annotations.at("org.example.key"), "value");
  const Linux& l = s.linux.value();
  EXPECT_EQ(l.gid_mappings[1].container_id, 65536u);
  EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");
  const Resources& r = l.resources.value();
  EXPECT_EQ(r.devices[1].major, 1);
  EXPECT_EQ(r.devices[2].major, 8);
  EXPECT_FALSE(r.devices[2].minor);
  EXPECT_EQ(r.memory->limit, 536870912);
  EXPECT_EQ(r.memory->swap, -1);
  EXPECT_EQ(r.memory->kernel, 0);
  EXPECT_EQ(r.memory->swappiness, 60u);
  EXPECT_EQ(r.memory->disable_oom_killer, false);
  EXPECT_EQ(r.memory->check_before_update, true);
  EXPECT_EQ(r.cpu->quota, -1);
  EXPECT_EQ(r.cpu->burst, 5000u);
  EXPECT_EQ(r.cpu->cpus, "0-1");
  EXPECT_EQ(r.cpu->idle, 1);
  EXPECT_EQ(r.pids->limit, 100);
  EXPECT_EQ(r.block_io->weight, 500);
  EXPECT_EQ(r.block_io->weight_device[0].leaf_weight, 200);
  EXPECT_FALSE(r.block_io->weight_device[1].weight);
  EXPECT_EQ(r.block_io->throttle_write_iops_device[0].rate, 200u);
  EXPECT_EQ(r.hugepage_limits[0].page_size, "2MB");
  EXPECT_EQ(r.network->class_id, 1048577u);
  EXPECT_EQ(r.network->priorities[0], (std::pair<std::string, uint32_t>{"eth0", 500}));
  EXPECT_EQ(r.unified.at("io.weight"), "default 100");
  EXPECT_EQ(l.cgroups_path, "/berth/abc123");
  EXPECT_EQ(l.namespaces[1].path, "/var/run/netns/n1");
  EXPECT_EQ(l.namespaces[7].type, "time");
  EXPECT_EQ(l.devices[0].file_mode, 0666u);
  EXPECT_EQ(l.devices[0].uid, 0u);
  EXPECT_FALSE(l.devices[1].file_mode);
  const Seccomp& sc = l.seccomp.value();
  EXPECT_EQ(sc.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(sc.default_errno_ret, 1u);
  EXPECT_EQ(sc.architectures.size(), 2u);
  EXPECT_EQ(sc.flags[0], "SECCOMP_FILTER_FLAG_LOG");
  EXPECT_EQ(sc.listener_path, "/run/seccomp-agent.sock");
  EXPECT_EQ(sc.listener_metadata, "meta");
  EXPECT_EQ(sc.syscalls[0].names, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(sc.syscalls[1].args[1].index, 1u);
  EXPECT_EQ(sc.syscalls[1].args[1].value, 255u);
  EXPECT_EQ(sc.syscalls[1].args[1].value_two, 4u);
  EXPECT_EQ(sc.syscalls[1].args[1].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(sc.syscalls[2].errno_ret, 13u);
  EXPECT_EQ(l.rootfs_propagation, "rslave");
  EXPECT_EQ(l.mount_label, "system_u:object_r:container_file_t:s0");
  EXPECT_EQ(l.personality->domain, "LINUX32");
  EXPECT_EQ(l.personality->flags[0], "SOMEFLAG");
  EXPECT_TRUE(validate_spec(s).has_value()) << validate_spec(s).error().message;
}

TEST(SpecDecode, MaximalRoundTripsExactly) {
  Spec s = must_parse(testdata::kMaximal);
  Json out = spec_to_json(s);
  Json in = Json::parse(testdata::kMaximal);
  EXPECT_EQ(out, in) << "diff: " << Json::diff(in, out).dump();
  // And the encoder's output decodes to the same thing again.
  Spec again = must_parse(dump_json(out));
  EXPECT_EQ(spec_to_json(again), out);
}

TEST(SpecDecode, EncoderOmitsUnsetOptionals) {
  Spec s;
  s.oci_version = "1.1.0";
  s.process.emplace();
  s.process->cwd = "/";
  s.linux.emplace();
  s.linux->resources.emplace();
  s.linux->resources->memory.emplace();
  Json j = spec_to_json(s);
  EXPECT_EQ(j, Json::parse(R"({"ociVersion": "1.1.0",
      "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/"},
      "linux": {"resources": {"memory": {}}}})"));
}

TEST(SpecDecode, NullAndUnknownMembersAreIgnored) {
  Spec s = must_parse(R"({"ociVersion": "1.0.0", "hooks": null, "mounts": null,
      "process": {"args": ["sh"], "env": null, "cwd": "/", "futureField": {"x": [1]}},
      "linux": {"intelRdt": {"closID": "x"}, "timeOffsets": {}}, "vm": {}})");
  EXPECT_FALSE(s.hooks);
  EXPECT_TRUE(s.mounts.empty());
  EXPECT_TRUE(s.process->env.empty());
  EXPECT_TRUE(s.linux);
}

TEST(SpecDecode, MalformedJson) {
  std::string msg = parse_error(R"({"ociVersion": "1.0.0",)");
  EXPECT_TRUE(msg.starts_with("config.json: invalid JSON: ")) << msg;
  EXPECT_EQ(parse_error("").substr(0, 27), "config.json: invalid JSON: ");
}

TEST(SpecDecode, DocumentNameIsThePrefix) {
  auto s = parse_spec(R"({"ociVersion": 1})", "/b/config.json");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "/b/config.json: ociVersion: expected string, got number");
}

TEST(SpecDecode, TopLevelMustBeAnObject) {
  EXPECT_EQ(parse_error("[1, 2]"), "config.json: expected object, got array");
}

TEST(SpecDecode, WrongTypeInArrayNamesTheElement) {
  EXPECT_EQ(parse_error(R"({"ociVersion": "1.0.0", "process": {"args": ["sh", 1]}})"),
            "config.json: process.args[1]: expected string, got number");
}

TEST(SpecDecode, WrongTypeDeepInLinuxResources) {
  EXPECT_EQ(parse_error(R"({"ociVersion": "1.0.0",
                "linux": {"resources": {"memory": {"limit": "1g"}}}})"),
            "config.json: linux.resources.memory.limit: expected integer, got string");
  EXPECT_EQ(parse_error(R"({"linux": {"resources": {"blockIO":
                {"throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": true}]}}}})"),
            "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: "
            "expected integer, got boolean");
  EXPECT_EQ(parse_error(R"({"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                              "args": [{"index": 0, "value": 1, "op": 7}]}]}}})"),
            "config.json: linux.seccomp.syscalls[0].args[0].op: expected string, got number");
}

TEST(SpecDecode, WrongTypeForObjectsAndArrays) {
  EXPECT_EQ(parse_error(R"({"process": []})"), "config.json: process: expected object, got array");
  EXPECT_EQ(parse_error(R"({"mounts": {}})"), "config.json: mounts: expected array, got object");
  EXPECT_EQ(parse_error(R"({"mounts": ["/proc"]})"),
            "config.json: mounts[0]: expected object, got string");
  EXPECT_EQ(parse_error(R"({"root": {"readonly": "yes"}})"),
            "config.json: root.readonly: expected boolean, got string");
  EXPECT_EQ(parse_error(R"({"annotations": {"a": 1}})"),
            "config.json: annotations.a: expected string, got number");
  EXPECT_EQ(parse_error(R"({"hooks": {"poststop": [{"path": "/x", "timeout": "5"}]}})"),
            "config.json: hooks.poststop[0].timeout: expected integer, got string");
}

TEST(SpecDecode, NegativeValueForUnsignedField) {
  EXPECT_EQ(parse_error(R"({"process": {"user": {"uid": -1}}})"),
            "config.json: process.user.uid: expected non-negative integer, got -1");
  EXPECT_EQ(parse_error(R"({"process": {"rlimits": [{"type": "RLIMIT_NOFILE", "soft": -5}]}})"),
            "config.json: process.rlimits[0].soft: expected non-negative integer, got -5");
  EXPECT_EQ(parse_error(R"({"linux": {"resources": {"cpu": {"shares": -2}}}})"),
            "config.json: linux.resources.cpu.shares: expected non-negative integer, got -2");
  EXPECT_EQ(parse_error(R"({"linux": {"uidMappings": [{"containerID": 0, "hostID": -1}]}})"),
            "config.json: linux.uidMappings[0].hostID: expected non-negative integer, got -1");
}

TEST(SpecDecode, OutOfRangeAndFractionalIntegers) {
  EXPECT_EQ(parse_error(R"({"process": {"user": {"gid": 4294967296}}})"),
            "config.json: process.user.gid: 4294967296 is out of range [0, 4294967295]");
  EXPECT_EQ(parse_error(R"({"linux": {"resources": {"blockIO": {"weight": 70000}}}})"),
            "config.json: linux.resources.blockIO.weight: 70000 is out of range [0, 65535]");
  EXPECT_EQ(parse_error(R"({"linux": {"resources": {"memory": {"limit": 9223372036854775808}}}})"),
            "config.json: linux.resources.memory.limit: 9223372036854775808 is out of range "
            "[-9223372036854775808, 9223372036854775807]");
  EXPECT_EQ(parse_error(R"({"process": {"oomScoreAdj": 1.5}})"),
            "config.json: process.oomScoreAdj: expected integer, got number 1.5");
}

}  // namespace
}  // namespace berth::oci
