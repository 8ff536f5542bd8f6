#include <gtest/gtest.h>

#include <random>

#include "cgroups/devices.h"
#include "cgroups/devices_bpf.h"

namespace berth::cgroups {
namespace {

oci::DeviceCgroupRule rule(bool allow, std::string type, std::optional<int64_t> major,
                           std::optional<int64_t> minor, std::string access) {
  return oci::device_rule(allow, std::move(type), major, minor, std::move(access));
}

// Docker's default device rules (deny all, then the usual allowlist).
std::vector<oci::DeviceCgroupRule> docker_rules() {
  return {rule(false, "", {}, {}, "rwm"),  rule(true, "c", 1, 5, "rwm"),
          rule(true, "c", 1, 3, "rwm"),    rule(true, "c", 1, 9, "rwm"),
          rule(true, "c", 1, 8, "rwm"),    rule(true, "c", 5, 0, "rwm"),
          rule(true, "c", 5, 1, "rwm"),    rule(false, "c", 10, 229, "rwm"),
          rule(true, "c", {}, {}, "m"),    rule(true, "b", {}, {}, "m"),
          rule(true, "c", 136, {}, "rwm"), rule(true, "c", 5, 2, "rwm"),
          rule(true, "c", 10, 200, "rwm")};
}

// A tiny interpreter for exactly the opcodes build_device_program emits;
// any other opcode fails the test.
struct Ctx {
  uint32_t access_type, major, minor;
};
int run(const std::vector<bpf_insn>& prog, const Ctx& ctx) {
  uint64_t reg[11] = {};
  const uint32_t* mem = reinterpret_cast<const uint32_t*>(&ctx);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W:
        EXPECT_EQ(i.src_reg, BPF_REG_1);
        EXPECT_TRUE(i.off == 0 || i.off == 4 || i.off == 8) << i.off;
        reg[i.dst_reg] = mem[i.off / 4];
        break;
      case BPF_ALU | BPF_MOV | BPF_X:
        reg[i.dst_reg] = static_cast<uint32_t>(reg[i.src_reg]);
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg]) & static_cast<uint32_t>(i.imm);
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
        reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg]) >> i.imm;
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        reg[i.dst_reg] = static_cast<uint64_t>(int64_t{i.imm});
        break;
      case BPF_JMP32 | BPF_JNE | BPF_K:
        if (static_cast<uint32_t>(reg[i.dst_reg]) != static_cast<uint32_t>(i.imm)) pc += i.off;
        break;
      case BPF_JMP32 | BPF_JEQ | BPF_K:
        if (static_cast<uint32_t>(reg[i.dst_reg]) == static_cast<uint32_t>(i.imm)) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT:
        return static_cast<int>(reg[0]);
      default:
        ADD_FAILURE() << "unexpected opcode " << int(i.code) << " at " << pc;
        return -1;
    }
    EXPECT_LT(pc, prog.size()) << "jump out of the program";
  }
  ADD_FAILURE() << "fell off the end of the program";
  return -1;
}

bool program_allows(const std::vector<bpf_insn>& prog, char type, uint32_t major, uint32_t minor,
                    uint32_t access) {
  uint32_t t = type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
  return run(prog, Ctx{(access << 16) | t, major, minor}) == 1;
}

TEST(Devices, NormalizeDefaultsAndErrors) {
  auto n = normalize_device_rules({rule(true, "", {}, {}, ""), rule(false, "b", 8, -1, "wm")});
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ((*n)[0].type, 'a');
  EXPECT_EQ((*n)[0].access, kAccAll);
  EXPECT_EQ((*n)[1].minor, -1);
  EXPECT_EQ((*n)[1].access, kAccWrite | kAccMknod);
  auto bad_type = normalize_device_rules({rule(true, "x", 1, 1, "r")});
  ASSERT_FALSE(bad_type);
  EXPECT_NE(bad_type.error().message.find("devices[0].type"), std::string::npos);
  auto bad_access =
      normalize_device_rules({rule(true, "c", 1, 1, "r"), rule(true, "c", 1, 1, "rx")});
  ASSERT_FALSE(bad_access);
  EXPECT_NE(bad_access.error().message.find("devices[1].access"), std::string::npos);
  EXPECT_FALSE(normalize_device_rules({rule(true, "c", -5, 1, "r")}));
}

TEST(Devices, V1Lines) {
  auto n = normalize_device_rules({rule(false, "a", {}, {}, "rwm"), rule(true, "c", 1, 3, "rwm"),
                                   rule(true, "b", {}, {}, "m"), rule(true, "a", 10, {}, "rw"),
                                   rule(false, "c", 5, 1, "w")});
  ASSERT_TRUE(n);
  std::vector<std::pair<std::string, std::string>> want = {
      {"devices.deny", "a"},          {"devices.allow", "c 1:3 rwm"}, {"devices.allow", "b *:* m"},
      {"devices.allow", "c 10:* rw"}, {"devices.allow", "b 10:* rw"}, {"devices.deny", "c 5:1 w"}};
  EXPECT_EQ(v1_device_writes(*n), want);
}

TEST(Devices, OracleLastMatchWinsDefaultDeny) {
  auto n = *normalize_device_rules(docker_rules());
  EXPECT_TRUE(device_access_allowed(n, 'c', 1, 3, kAccRead | kAccWrite));
  EXPECT_FALSE(device_access_allowed(n, 'c', 10, 229, kAccRead));  // explicitly denied later
  EXPECT_TRUE(device_access_allowed(n, 'b', 8, 0, kAccMknod));
  EXPECT_FALSE(device_access_allowed(n, 'b', 8, 0, kAccRead));
  EXPECT_TRUE(device_access_allowed(n, 'c', 136, 7, kAccWrite));
  EXPECT_FALSE(device_access_allowed({}, 'c', 1, 3, kAccRead));
  // A deny of "w" blocks an open asking for read+write.
  auto d = *normalize_device_rules({rule(true, "a", {}, {}, "rwm"), rule(false, "c", 1, 3, "w")});
  EXPECT_FALSE(device_access_allowed(d, 'c', 1, 3, kAccRead | kAccWrite));
  EXPECT_TRUE(device_access_allowed(d, 'c', 1, 3, kAccRead));
}

TEST(DevicesBpf, DockerRulesProgramMatchesOracle) {
  auto n = *normalize_device_rules(docker_rules());
  auto prog = build_device_program(n);
  // Structure: ends in EXIT, and the leading deny-all ends generation.
  ASSERT_GE(prog.size(), 8u);
  EXPECT_EQ(prog.back().code, BPF_JMP | BPF_EXIT);
  EXPECT_TRUE(program_allows(prog, 'c', 1, 3, kAccRead | kAccWrite));
  EXPECT_TRUE(program_allows(prog, 'c', 5, 2, kAccRead));
  EXPECT_FALSE(program_allows(prog, 'c', 10, 229, kAccRead));
  EXPECT_TRUE(program_allows(prog, 'c', 136, 4, kAccRead | kAccWrite));
  EXPECT_TRUE(program_allows(prog, 'c', 7, 7, kAccMknod));
  EXPECT_FALSE(program_allows(prog, 'c', 7, 7, kAccRead));
  EXPECT_FALSE(program_allows(prog, 'b', 8, 0, kAccRead));
  EXPECT_TRUE(program_allows(prog, 'b', 8, 0, kAccMknod));
  EXPECT_FALSE(program_allows(prog, 'b', 8, 0, kAccMknod | kAccRead));
}

TEST(DevicesBpf, EmptyRulesDenyEverything) {
  auto prog = build_device_program({});
  EXPECT_FALSE(program_allows(prog, 'c', 1, 3, kAccRead));
  EXPECT_FALSE(program_allows(prog, 'b', 0, 0, kAccMknod));
}

TEST(DevicesBpf, AllowAllShortCircuits) {
  auto n = *normalize_device_rules({rule(false, "c", 1, 3, "rwm"), rule(true, "a", {}, {}, "rwm")});
  auto prog = build_device_program(n);
  // Prologue (6) + "mov r0, 1; exit": the earlier deny is unreachable and omitted.
  EXPECT_EQ(prog.size(), 8u);
  EXPECT_TRUE(program_allows(prog, 'c', 1, 3, kAccWrite));
}

TEST(DevicesBpf, RandomRuleListsMatchOracle) {
  std::mt19937 rng(12345);
  const char types[] = {'a', 'c', 'b'};
  for (int round = 0; round < 300; ++round) {
    std::vector<DeviceRule> rules(rng() % 7);
    for (auto& r : rules) {
      r.allow = rng() % 2;
      r.type = types[rng() % 3];
      r.major = rng() % 3 == 0 ? -1 : static_cast<int64_t>(rng() % 3);
      r.minor = rng() % 3 == 0 ? -1 : static_cast<int64_t>(rng() % 3);
      r.access = 1 + rng() % 7;
    }
    auto prog = build_device_program(rules);
    for (char t : {'c', 'b'})
      for (uint32_t maj = 0; maj < 3; ++maj)
        for (uint32_t min = 0; min < 3; ++min)
          for (uint32_t acc = 1; acc <= 7; ++acc)
            ASSERT_EQ(program_allows(prog, t, maj, min, acc),
                      device_access_allowed(rules, t, maj, min, acc))
                << "round " << round << " " << t << " " << maj << ":" << min << " acc " << acc;
  }
}

}  // namespace
}  // namespace berth::cgroups
