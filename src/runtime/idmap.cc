#include "runtime/idmap.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"

namespace berth::runtime {
namespace {

Result<std::string> read_link(const std::string& p) {
  char buf[256];
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
  if (n < 0) return sys_error(fmt::format("readlink {}", p));
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

std::string format_id_map(const std::vector<oci::IdMapping>& m) {
  std::string s;
  for (const auto& e : m) s += fmt::format("{} {} {}\n", e.container_id, e.host_id, e.size);
  return s;
}

Result<Fd> make_idmap_userns(const oci::Mount& m) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe");
  Fd rd(p[0]), wr(p[1]);
  pid_t child = ::fork();
  if (child < 0) return sys_error("fork");
  if (child == 0) {
    wr.reset();
    if (::unshare(CLONE_NEWUSER) != 0) ::_exit(1);
    char b;
    [[maybe_unused]] ssize_t n = ::read(rd.get(), &b, 1);  // until the parent is done
    ::_exit(0);
  }
  rd.reset();
  auto finish = [&] {
    wr.reset();
    ::waitpid(child, nullptr, 0);
  };
  // The child must have unshared before its maps are written: wait for it.
  std::string own = BERTH_TRY(read_link("/proc/self/ns/user"));
  for (int i = 0; i < 2000; ++i) {
    auto theirs = read_link(fmt::format("/proc/{}/ns/user", child));
    if (theirs && *theirs != own) break;
    ::usleep(500);
  }
  Result<void> w =
      write_file(fmt::format("/proc/{}/uid_map", child), format_id_map(m.uid_mappings));
  if (w) w = write_file(fmt::format("/proc/{}/setgroups", child), "deny");
  if (w) w = write_file(fmt::format("/proc/{}/gid_map", child), format_id_map(m.gid_mappings));
  if (!w) {
    finish();
    return w.error().context(fmt::format("mounts: {}: id mappings", m.destination));
  }
  Fd ns(::open(fmt::format("/proc/{}/ns/user", child).c_str(), O_RDONLY | O_CLOEXEC));
  finish();
  if (!ns) return sys_error("open idmap user namespace");
  return ns;
}

Result<std::map<size_t, Fd>> make_idmap_namespaces(const oci::Spec& spec) {
  std::map<size_t, Fd> out;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const auto& m = spec.mounts[i];
    if (m.uid_mappings.empty() && m.gid_mappings.empty()) continue;
    out.emplace(i, BERTH_TRY(make_idmap_userns(m)));
  }
  return out;
}

}  // namespace berth::runtime
