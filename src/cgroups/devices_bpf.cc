#include "cgroups/devices_bpf.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "base/fd.h"

namespace berth::cgroups {
namespace {

constexpr uint8_t R0 = BPF_REG_0, R1 = BPF_REG_1, R2 = BPF_REG_2, R3 = BPF_REG_3, R4 = BPF_REG_4,
                  R5 = BPF_REG_5;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn ldx_w(uint8_t dst, uint8_t src, int16_t off) {
  return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
bpf_insn mov32_reg(uint8_t dst, uint8_t src) {
  return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn and32_imm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm);
}
bpf_insn rsh32_imm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov64_imm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn jmp32_imm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
  return insn(BPF_JMP32 | op | BPF_K, dst, 0, off, imm);
}
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// A jump whose target ("the next rule") is patched once the block is complete.
constexpr int16_t kToNext = 0x7fff;

long bpf(int cmd, union bpf_attr* attr) { return ::syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }
uint64_t ptr(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

}  // namespace

std::vector<bpf_insn> build_device_program(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> prog;
  // Prologue: R2 = type, R3 = access, R4 = major, R5 = minor
  // (struct bpf_cgroup_dev_ctx: u32 access_type, u32 major, u32 minor).
  prog.push_back(ldx_w(R2, R1, offsetof(bpf_cgroup_dev_ctx, access_type)));
  prog.push_back(mov32_reg(R3, R2));
  prog.push_back(rsh32_imm(R3, 16));
  prog.push_back(and32_imm(R2, 0xffff));
  prog.push_back(ldx_w(R4, R1, offsetof(bpf_cgroup_dev_ctx, major)));
  prog.push_back(ldx_w(R5, R1, offsetof(bpf_cgroup_dev_ctx, minor)));

  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    const DeviceRule& r = *it;
    std::vector<bpf_insn> block;
    if (r.type != 'a') {
      int32_t t = r.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
      block.push_back(jmp32_imm(BPF_JNE, R2, t, kToNext));
    }
    if (r.major >= 0)
      block.push_back(jmp32_imm(BPF_JNE, R4, static_cast<int32_t>(r.major), kToNext));
    if (r.minor >= 0)
      block.push_back(jmp32_imm(BPF_JNE, R5, static_cast<int32_t>(r.minor), kToNext));
    bool access_matters = (r.access & kAccAll) != kAccAll;
    if (access_matters) {
      // R1 is free once the context has been read.
      block.push_back(mov32_reg(R1, R3));
      if (r.allow) {
        // Allow only when every requested bit is granted: (req & ~granted) == 0.
        block.push_back(and32_imm(R1, static_cast<int32_t>(~r.access & kAccAll)));
        block.push_back(jmp32_imm(BPF_JNE, R1, 0, kToNext));
      } else {
        // Deny as soon as any requested bit is denied: (req & denied) != 0.
        block.push_back(and32_imm(R1, static_cast<int32_t>(r.access)));
        block.push_back(jmp32_imm(BPF_JEQ, R1, 0, kToNext));
      }
    }
    block.push_back(mov64_imm(R0, r.allow ? 1 : 0));
    block.push_back(exit_insn());
    for (size_t i = 0; i < block.size(); ++i) {
      if (block[i].off == kToNext && BPF_CLASS(block[i].code) == BPF_JMP32)
        block[i].off = static_cast<int16_t>(block.size() - i - 1);
    }
    prog.insert(prog.end(), block.begin(), block.end());
    // A rule that matches every request makes all earlier rules unreachable.
    if (r.type == 'a' && r.major < 0 && r.minor < 0 && !access_matters) return prog;
  }
  prog.push_back(mov64_imm(R0, 0));
  prog.push_back(exit_insn());
  return prog;
}

Result<void> attach_device_program(int cgroup_fd, const std::vector<bpf_insn>& program) {
  static const char kLicense[] = "Apache-2.0";
  std::string log(64 * 1024, '\0');
  union bpf_attr load;
  std::memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = ptr(program.data());
  load.insn_cnt = static_cast<uint32_t>(program.size());
  load.license = ptr(kLicense);
  load.log_buf = ptr(log.data());
  load.log_size = static_cast<uint32_t>(log.size());
  load.log_level = 1;
  Fd prog(static_cast<int>(bpf(BPF_PROG_LOAD, &load)));
  if (!prog) {
    int err = errno;
    Error e = sys_error("load eBPF device program (BPF_PROG_LOAD)", err);
    log.resize(std::strlen(log.c_str()));
    if (!log.empty()) e.message += fmt::format("; verifier: {}", log);
    return e;
  }

  // Which programs are attached now, and in which mode?
  std::vector<uint32_t> old_ids(64);
  union bpf_attr query;
  std::memset(&query, 0, sizeof query);
  query.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  query.query.attach_type = BPF_CGROUP_DEVICE;
  query.query.prog_ids = ptr(old_ids.data());
  query.query.prog_cnt = static_cast<uint32_t>(old_ids.size());
  if (bpf(BPF_PROG_QUERY, &query) != 0) return sys_error("query cgroup device programs");
  old_ids.resize(query.query.prog_cnt);
  bool multi = (query.query.attach_flags & BPF_F_ALLOW_MULTI) != 0;

  union bpf_attr attach;
  std::memset(&attach, 0, sizeof attach);
  attach.target_fd = static_cast<uint32_t>(cgroup_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  // Single-program mode swaps the attached program in one step, so an update
  // never leaves a window with no filter (or with two).
  attach.attach_flags = multi && !old_ids.empty() ? BPF_F_ALLOW_MULTI : 0;
  if (bpf(BPF_PROG_ATTACH, &attach) != 0) return sys_error("attach eBPF device program");
  if (attach.attach_flags == 0) return ok();

  // Multi mode: the new program runs alongside the old ones; remove those.
  for (uint32_t id : old_ids) {
    union bpf_attr get;
    std::memset(&get, 0, sizeof get);
    get.prog_id = id;
    Fd old(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, &get)));
    if (!old) {
      if (errno == ENOENT) continue;
      return sys_error(fmt::format("open attached device program id {}", id));
    }
    union bpf_attr detach;
    std::memset(&detach, 0, sizeof detach);
    detach.target_fd = static_cast<uint32_t>(cgroup_fd);
    detach.attach_bpf_fd = static_cast<uint32_t>(old.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, &detach) != 0 && errno != ENOENT)
      return sys_error(fmt::format("detach old device program id {}", id));
  }
  return ok();
}

}  // namespace berth::cgroups
