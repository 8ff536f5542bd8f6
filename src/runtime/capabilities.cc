#include "runtime/capabilities.h"

#include <cstring>

#include <sys/capability.h>
#include <sys/prctl.h>

#include <bitset>
#include <cctype>
#include <memory>
#include <string_view>

#include "base/log.h"

namespace berth::runtime {
namespace {

// Capability numbers are bit positions in 64-bit kernel masks.
constexpr int kMaxCapBits = 64;
using CapSet = std::bitset<kMaxCapBits>;

struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};

// runc accepts only the canonical spelling ("CAP_SYS_ADMIN"); libcap also
// takes lower case and bare numbers, which config.json must not use.
bool canonical_spelling(std::string_view name) {
  if (name.size() <= 4 || name.substr(0, 4) != "CAP_") return false;
  for (char c : name.substr(4)) {
    if (!(std::isupper(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return true;
}

std::string name_of(cap_value_t v) {
  std::unique_ptr<char, CapFree> n(cap_to_name(v));
  if (!n) return fmt::format("{}", v);
  std::string s(n.get());
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Resolves one set to the capabilities the running kernel has. Names the
// kernel does not know (newer than it, e.g. CAP_CHECKPOINT_RESTORE before
// 5.9) are skipped with a warning, as runc does.
Result<CapSet> resolve_set(const std::vector<std::string>& names, std::string_view set) {
  CapSet out;
  int kernel_bits = static_cast<int>(cap_max_bits());
  for (size_t i = 0; i < names.size(); ++i) {
    auto v = capability_from_name(names[i]);
    if (!v) return std::move(v).error().context(fmt::format("process.capabilities.{}[{}]", set, i));
    if (*v >= kernel_bits || *v >= kMaxCapBits) {
      log_warn("capability {} ({}) is not supported by the running kernel; ignored", names[i], set);
      continue;
    }
    out.set(static_cast<size_t>(*v));
  }
  return out;
}

Result<void> set_flag(cap_t c, cap_flag_t flag, const CapSet& set) {
  for (int v = 0; v < kMaxCapBits; ++v) {
    if (!set.test(static_cast<size_t>(v))) continue;
    cap_value_t cv = v;
    if (cap_set_flag(c, flag, 1, &cv, CAP_SET) != 0) {
      return sys_error(fmt::format("cap_set_flag {}", name_of(cv)));
    }
  }
  return ok();
}

}  // namespace

Result<int> capability_from_name(const std::string& name) {
  cap_value_t v = 0;
  if (!canonical_spelling(name) || cap_from_name(name.c_str(), &v) != 0) {
    return make_error(Errc::InvalidArgument, "unknown capability \"{}\"", name);
  }
  return static_cast<int>(v);
}

std::vector<std::string> known_capabilities() {
  // Names libcap knows, in kernel order; the list does not depend on the
  // running kernel (the features document describes the runtime).
  std::vector<std::string> out;
  for (cap_value_t v = 0; v < kMaxCapBits; ++v) {
    std::string n = name_of(v);
    if (n.rfind("CAP_", 0) != 0) break;  // libcap prints unnamed bits as numbers
    out.push_back(std::move(n));
  }
  return out;
}

Result<void> check_capabilities(const oci::Capabilities& caps) {
  const std::pair<const std::vector<std::string>*, std::string_view> sets[] = {
      {&caps.bounding, "bounding"},       {&caps.effective, "effective"},
      {&caps.inheritable, "inheritable"}, {&caps.permitted, "permitted"},
      {&caps.ambient, "ambient"},
  };
  for (const auto& [names, set] : sets) {
    for (size_t i = 0; i < names->size(); ++i) {
      auto v = capability_from_name((*names)[i]);
      if (!v) {
        return std::move(v).error().context(fmt::format("process.capabilities.{}[{}]", set, i));
      }
    }
  }
  return ok();
}

Result<void> drop_bounding(const oci::Capabilities& caps) {
  CapSet keep = BERTH_TRY(resolve_set(caps.bounding, "bounding"));
  int kernel_bits = static_cast<int>(cap_max_bits());
  for (cap_value_t v = 0; v < kernel_bits && v < kMaxCapBits; ++v) {
    if (keep.test(static_cast<size_t>(v))) continue;
    // Dropping needs CAP_SETPCAP, and a bounding set that is already small
    // enough needs no privilege: a refused drop of a capability that is
    // not there is fine. (Dropping first saves a read per capability.)
    if (cap_drop_bound(v) != 0) {
      int err = errno;
      if (cap_get_bound(v) == 0) continue;
      return sys_error(fmt::format("process.capabilities.bounding: drop {}", name_of(v)), err);
    }
  }
  return ok();
}

Result<void> apply_capabilities(const oci::Capabilities& caps) {
  CapSet eff = BERTH_TRY(resolve_set(caps.effective, "effective"));
  CapSet prm = BERTH_TRY(resolve_set(caps.permitted, "permitted"));
  CapSet inh = BERTH_TRY(resolve_set(caps.inheritable, "inheritable"));
  CapSet amb = BERTH_TRY(resolve_set(caps.ambient, "ambient"));

  std::unique_ptr<struct _cap_struct, CapFree> c(cap_init());
  if (!c) return sys_error("cap_init");
  BERTH_TRY_CTX(set_flag(c.get(), CAP_EFFECTIVE, eff), "process.capabilities.effective");
  BERTH_TRY_CTX(set_flag(c.get(), CAP_PERMITTED, prm), "process.capabilities.permitted");
  BERTH_TRY_CTX(set_flag(c.get(), CAP_INHERITABLE, inh), "process.capabilities.inheritable");
  // capset(2) fails with EPERM when effective is not a subset of permitted,
  // or permitted grows beyond what the process had.
  if (cap_set_proc(c.get()) != 0) {
    return sys_error("process.capabilities: set effective/permitted/inheritable");
  }

  // Ambient capabilities (Linux 4.3) survive execve of unprivileged
  // binaries. The kernel clears an ambient bit whenever it leaves permitted
  // or inheritable, and refuses to raise one that is not in both.
  // capset(2) has just left ambient within permitted and inheritable (the
  // kernel intersects them), so with no inheritable capability (docker's
  // default) it is empty already. Otherwise one PR_CAP_AMBIENT_CLEAR_ALL:
  // libcap's cap_reset_ambient reads every bit first (~40 prctl calls).
  if (inh.any() && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    if (amb.none() && errno == EINVAL) return ok();  // kernel without ambient support
    return sys_error("process.capabilities.ambient: clear");
  }
  for (cap_value_t v = 0; v < kMaxCapBits; ++v) {
    if (!amb.test(static_cast<size_t>(v))) continue;
    if (cap_set_ambient(v, CAP_SET) != 0) {
      // runc's default spec lists ambient capabilities without inheritable
      // ones; like runc, a capability the kernel refuses to raise is a
      // warning, not a failed container.
      log_info(
          "process.capabilities.ambient: cannot raise {} (it must be permitted and "
          "inheritable): {}",
          name_of(v), std::strerror(errno));
    }
  }
  return ok();
}

}  // namespace berth::runtime
