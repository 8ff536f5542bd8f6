// cgroups/devices_bpf.h — the cgroup v2 device allowlist as an eBPF program.
//
// cgroup v2 has no devices.allow file: the kernel asks a
// BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup (attach type
// BPF_CGROUP_DEVICE, kernel >= 4.15) on every open/mknod of a device node.
// The program gets struct bpf_cgroup_dev_ctx (access_type = access << 16 |
// type, major, minor) and returns 1 to allow, 0 to deny.
//
// build_device_program() is pure, so the tests check the program's logic
// with a small interpreter without root. Depends on: base, oci.
#pragma once

#include <linux/bpf.h>

#include <vector>

#include "base/result.h"
#include "cgroups/devices.h"

namespace berth::cgroups {

// Emits a straight-line program that evaluates `rules` with the semantics of
// device_access_allowed(): rules are tested last to first, the first match
// decides, and falling off the end denies. Opcodes used: LDX_MEM(W),
// ALU32 MOV/AND/RSH, ALU64 MOV imm, JMP32 JNE/JEQ imm, EXIT.
std::vector<struct bpf_insn> build_device_program(const std::vector<DeviceRule>& rules);

// Loads `program` and attaches it to the cgroup directory `cgroup_fd`
// (borrowed). A program attached earlier by this function is replaced
// atomically (single-program mode replaces on attach); if others attached
// programs in multi mode, the new one is attached in multi mode and the old
// ones are detached afterwards. Needs CAP_SYS_ADMIN (CAP_BPF+CAP_NET_ADMIN).
// Verifier output is included in the error when loading fails.
Result<void> attach_device_program(int cgroup_fd, const std::vector<struct bpf_insn>& program);

}  // namespace berth::cgroups
