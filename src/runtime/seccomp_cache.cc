// runtime/seccomp_cache.cc — compiled seccomp programs kept across
// containers. Every container of berthd gets the same default profile, and
// libseccomp's build of it costs ~10 ms of CPU per container; the program
// it yields depends only on the profile, libseccomp and the kernel, so it
// is stored once under the runtime's state root (tmpfs: gone at reboot).
#include <dirent.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <optional>

#include <fmt/format.h>
#include <seccomp.h>

#include "base/file.h"
#include "base/log.h"
#include "runtime/seccomp.h"

namespace berth::runtime {

namespace {

// Enough for a handful of distinct profiles; beyond it new profiles are
// compiled every time rather than filling the state root.
constexpr int kMaxEntries = 64;

// Everything the program depends on, in one unambiguous string: each field
// is length-prefixed, so no two profiles share a fingerprint. The leading
// "berth-seccomp-N" changes whenever berth builds a different program from
// the same profile (2: the binary tree of build_filter).
std::string fingerprint(const oci::Seccomp& s) {
  std::string out;
  auto put = [&](std::string_view v) {
    fmt::format_to(std::back_inserter(out), "{}:{};", v.size(), v);
  };
  auto num = [&](uint64_t v) { fmt::format_to(std::back_inserter(out), "#{};", v); };
  struct utsname u {};
  ::uname(&u);
  const scmp_version* v = seccomp_version();
  put(fmt::format("berth-seccomp-2 libseccomp {}.{}.{} kernel {} {}", v ? v->major : 0,
                  v ? v->minor : 0, v ? v->micro : 0, u.release, u.machine));
  put(s.default_action);
  num(s.default_errno_ret ? *s.default_errno_ret + 1ULL : 0);
  num(s.architectures.size());
  for (const auto& a : s.architectures) put(a);
  num(s.flags.size());
  for (const auto& f : s.flags) put(f);
  put(s.listener_path);
  put(s.listener_metadata);
  num(s.syscalls.size());
  for (const auto& c : s.syscalls) {
    num(c.names.size());
    for (const auto& n : c.names) put(n);
    put(c.action);
    num(c.errno_ret ? *c.errno_ret + 1ULL : 0);
    num(c.args.size());
    for (const auto& a : c.args) {
      num(a.index);
      num(a.value);
      num(a.value_two);
      put(a.op);
    }
  }
  return out;
}

int count_entries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  int n = 0;
  while (struct dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}

}  // namespace

// Entry layout: magic, the SECCOMP_FILTER_FLAG_* word, the fingerprint's
// length and bytes, then the program. The file name is only a hash of the
// fingerprint (std::hash: no crypto library in the monitor, whose OpenSSL
// context alone would cost ~130 kB per container); a hit needs the whole
// fingerprint to match, so a profile crafted to collide with another's name
// finds a miss, never the other program.
constexpr char kMagic[8] = {'B', 'S', 'C', 'M', 'P', '0', '0', '1'};

namespace {

constexpr size_t kHead = sizeof kMagic + 2 * sizeof(uint32_t) + sizeof(uint64_t);

std::optional<CompiledSeccomp> lookup(const std::string& path, const std::string& fp) {
  auto bytes = read_file(path);
  if (!bytes || bytes->size() <= kHead + fp.size()) return std::nullopt;
  uint32_t flags = 0;
  uint64_t fp_len = 0;
  std::memcpy(&flags, bytes->data() + sizeof kMagic, sizeof flags);
  std::memcpy(&fp_len, bytes->data() + sizeof kMagic + 2 * sizeof(uint32_t), sizeof fp_len);
  size_t prog = bytes->size() - kHead - fp.size();
  if (std::memcmp(bytes->data(), kMagic, sizeof kMagic) != 0 || fp_len != fp.size() ||
      bytes->compare(kHead, fp.size(), fp) != 0 || prog % sizeof(sock_filter) != 0 ||
      prog / sizeof(sock_filter) > 0xffff)
    return std::nullopt;
  CompiledSeccomp c;
  c.flags = flags;
  c.program.resize(prog / sizeof(sock_filter));
  std::memcpy(c.program.data(), bytes->data() + kHead + fp.size(), prog);
  return c;
}

// Best effort: a cache that cannot be written only costs time.
void store(const std::string& dir, const std::string& path, const std::string& fp,
           const CompiledSeccomp& c) {
  if (c.uses_notify) return;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return;
  if (count_entries(dir) >= kMaxEntries) return;
  std::string bytes(kMagic, sizeof kMagic);
  uint32_t words[2] = {c.flags, 0};
  uint64_t fp_len = fp.size();
  bytes.append(reinterpret_cast<const char*>(words), sizeof words);
  bytes.append(reinterpret_cast<const char*>(&fp_len), sizeof fp_len);
  bytes += fp;
  bytes.append(reinterpret_cast<const char*>(c.program.data()),
               c.program.size() * sizeof(sock_filter));
  if (auto w = write_file_atomic(path, bytes, 0600, Durability::ProcessCrashSafe); !w)
    log_debug("seccomp cache: {}", w.error().message);
}

}  // namespace

Result<CompiledSeccomp> compile_seccomp_cached(const oci::Seccomp& s,
                                               const std::string& cache_dir) {
  if (cache_dir.empty()) return compile_seccomp(s);
  const std::string fp = fingerprint(s);
  const std::string path = fmt::format("{}/{:016x}.bpf", cache_dir, std::hash<std::string>{}(fp));
  if (auto hit = lookup(path, fp)) return *hit;
  // A miss is compiled in a child that fills the cache: libseccomp's heap
  // and code pages then never count against the caller, a monitor that
  // lives as long as its container. Any failure there (a bad profile, a
  // NOTIFY one, a read-only cache) is redone here, for the real error.
  pid_t pid = ::fork();
  if (pid == 0) {
    auto c = compile_seccomp(s);
    if (c) store(cache_dir, path, fp, *c);
    ::_exit(c ? 0 : 1);
  }
  if (pid > 0) {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (auto hit = lookup(path, fp)) return *hit;
  }
  CompiledSeccomp c = BERTH_TRY(compile_seccomp(s));
  store(cache_dir, path, fp, c);
  return c;
}

}  // namespace berth::runtime
