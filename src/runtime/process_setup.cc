#include "runtime/process_setup.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/strings.h"
#include "oci/spec_codec.h"
#include "runtime/capabilities.h"
#include "runtime/seccomp.h"
#include "sys/syscalls.h"

namespace berth::runtime {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string env_get(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& e : env)
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return e.substr(key.size() + 1);
  return {};
}

bool is_executable_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

// HOME from the container's /etc/passwd, "/" when absent (runc's behaviour).
std::string home_for(uint32_t uid) {
  auto text = read_file("/etc/passwd");
  if (text) {
    for (const auto& line : split(*text, '\n', true)) {
      auto f = split(line, ':');
      if (f.size() >= 6 && parse_uint(f[2]) == uid) return f[5];
    }
  }
  return "/";
}

// Loads the filter; a SCMP_ACT_NOTIFY listener fd goes to listenerPath with
// the container-process-state JSON of the runtime-spec (seccomp.md).
Result<void> load_and_hand_over(const oci::Seccomp& s, const CompiledSeccomp* compiled) {
  if (compiled && !compiled->uses_notify) return install_seccomp(*compiled);
  Fd listener = BERTH_TRY(load_seccomp(s));
  if (!listener) return ok();
  if (s.listener_path.empty())
    return make_error(Errc::InvalidArgument,
                      "linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
  Fd sock = BERTH_TRY_CTX(sys::unix_connect(s.listener_path), "linux.seccomp.listenerPath");
  Json st = {{"ociVersion", oci::kSpecVersion},
             {"fds", {"seccompFd"}},
             {"pid", ::getpid()},
             {"metadata", s.listener_metadata}};
  return sys::send_fd(sock.get(), listener.get(), dump_json(st));
}

}  // namespace

Result<void> apply_rlimits(const oci::Process& p) {
  for (const auto& r : p.rlimits) {
    int res = oci::rlimit_from_name(r.type);
    if (res < 0)
      return make_error(Errc::InvalidArgument, "process.rlimits: unknown type {:?}", r.type);
    struct rlimit rl = {static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
    if (::setrlimit(res, &rl) != 0) {
      struct rlimit cur;
      ::getrlimit(res, &cur);
      return sys_error(
          fmt::format("process.rlimits: set {} soft={} hard={} (current hard limit "
                      "{}; raising it needs CAP_SYS_RESOURCE)",
                      r.type, r.soft, r.hard, cur.rlim_max));
    }
  }
  return ok();
}

Result<void> apply_oom_score_adj(const oci::Process& p) {
  if (!p.oom_score_adj) return ok();
  if (auto r = write_file("/proc/self/oom_score_adj", fmt::format("{}", *p.oom_score_adj)); !r)
    return r.error().context("process.oomScoreAdj");
  return ok();
}

Result<void> apply_personality(const std::optional<oci::Personality>& p) {
  if (!p) return ok();
  unsigned long dom;
  if (p->domain == "LINUX")
    dom = PER_LINUX;
  else if (p->domain == "LINUX32")
    dom = PER_LINUX32;
  else
    return make_error(Errc::InvalidArgument, "linux.personality.domain: unknown {:?}", p->domain);
  if (::personality(dom) < 0) return sys_error("personality");
  return ok();
}

Result<void> apply_io_priority(const oci::Process& p) {
  if (!p.io_priority) return ok();
  // include/uapi/linux/ioprio.h: class in the top 3 bits of a 16-bit value.
  int klass = p.io_priority->klass == "IOPRIO_CLASS_RT"     ? 1
              : p.io_priority->klass == "IOPRIO_CLASS_BE"   ? 2
              : p.io_priority->klass == "IOPRIO_CLASS_IDLE" ? 3
                                                            : 0;
  if (!klass)
    return make_error(Errc::InvalidArgument, "process.ioPriority.class: unknown {:?}",
                      p.io_priority->klass);
  int value = (klass << 13) | (p.io_priority->priority & 0x1fff);
  if (::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, value) != 0)
    return sys_error("process.ioPriority: ioprio_set");
  return ok();
}

Result<void> apply_scheduler(const oci::Process& p) {
  if (!p.scheduler) return ok();
  const oci::Scheduler& s = *p.scheduler;
  // struct sched_attr (sched_setattr(2)); glibc 2.36 has no wrapper.
  struct {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
  } attr = {};
  attr.size = sizeof attr;
  const std::pair<const char*, uint32_t> policies[] = {{"SCHED_OTHER", 0}, {"SCHED_FIFO", 1},
                                                       {"SCHED_RR", 2},    {"SCHED_BATCH", 3},
                                                       {"SCHED_IDLE", 5},  {"SCHED_DEADLINE", 6}};
  bool found = false;
  for (auto& [n, v] : policies)
    if (s.policy == n) {
      attr.sched_policy = v;
      found = true;
    }
  if (!found)
    return make_error(Errc::InvalidArgument, "process.scheduler.policy: unknown {:?}", s.policy);
  const std::pair<const char*, uint64_t> flags[] = {
      {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},
      {"SCHED_FLAG_DL_OVERRUN", 0x04},    {"SCHED_FLAG_KEEP_POLICY", 0x08},
      {"SCHED_FLAG_KEEP_PARAMS", 0x10},   {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
      {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}};
  for (const auto& f : s.flags) {
    bool known = false;
    for (auto& [n, v] : flags)
      if (f == n) {
        attr.sched_flags |= v;
        known = true;
      }
    if (!known)
      return make_error(Errc::InvalidArgument, "process.scheduler.flags: unknown {:?}", f);
  }
  attr.sched_nice = s.nice;
  attr.sched_priority = static_cast<uint32_t>(s.priority);
  attr.sched_runtime = s.runtime;
  attr.sched_deadline = s.deadline;
  attr.sched_period = s.period;
  if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0)
    return sys_error(fmt::format("process.scheduler: sched_setattr {}", s.policy));
  return ok();
}

Result<std::string> resolve_executable(const oci::Process& p) {
  if (p.args.empty()) return make_error(Errc::InvalidArgument, "process.args must not be empty");
  const std::string& name = p.args[0];
  if (name.find('/') != std::string::npos) {
    // runc's wording and classes: a missing path is 127 to docker, one that
    // exists but cannot be run (a directory, no x bit) is 126.
    struct stat st;
    if (::stat(name.c_str(), &st) != 0)
      return make_error(Errc::NotFound, "exec: {:?}: stat {}: {}", name, name,
                        errno == ENOENT ? "no such file or directory" : std::strerror(errno));
    if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
      return make_error(Errc::PermissionDenied, "exec: {:?}: permission denied", name);
    return name;
  }
  std::string path = env_get(p.env, "PATH");
  if (path.empty()) path = kDefaultPath;
  for (const auto& dir : split(path, ':', true)) {
    std::string cand = dir + "/" + name;
    if (is_executable_file(cand)) return cand;
  }
  return make_error(Errc::NotFound, "exec: {:?}: executable file not found in $PATH", name);
}

Result<void> exec_process(const oci::Process& p, const std::optional<oci::Seccomp>& seccomp,
                          const std::string& exe, int preserve_fds,
                          const CompiledSeccomp* compiled) {
  // Nothing the runtime holds open may reach the container: fds inherited
  // from our caller without O_CLOEXEC included (CVE-2024-21626 class).
  BERTH_TRY(sys::cloexec_from(3 + preserve_fds));
  for (int fd = 3; fd < 3 + preserve_fds; ++fd) {
    int fl = ::fcntl(fd, F_GETFD);
    if (fl < 0) return sys_error(fmt::format("--preserve-fds: fd {}", fd));
    if (::fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) != 0) return sys_error("--preserve-fds");
  }
  bool cwd_done = !p.cwd.empty() && ::chdir(p.cwd.c_str()) == 0;
  if (!p.user.additional_gids.empty()) {
    std::vector<gid_t> g(p.user.additional_gids.begin(), p.user.additional_gids.end());
    if (::setgroups(g.size(), g.data()) != 0) return sys_error("setgroups");
  } else if (::setgroups(0, nullptr) != 0 && errno != EPERM) {
    // EPERM: a user namespace with setgroups denied; nothing to drop then.
    return sys_error("setgroups");
  }
  if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return sys_error("set no_new_privs");
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it while
  // still privileged. With it, load as late as possible so the filter does
  // not have to allow the setup syscalls below.
  if (seccomp && !p.no_new_privileges) BERTH_TRY(load_and_hand_over(*seccomp, compiled));
  if (p.capabilities) BERTH_TRY(drop_bounding(*p.capabilities));
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return sys_error("keepcaps");
  if (::setresgid(p.user.gid, p.user.gid, p.user.gid) != 0)
    return sys_error(fmt::format("setgid {}", p.user.gid));
  if (::setresuid(p.user.uid, p.user.uid, p.user.uid) != 0)
    return sys_error(fmt::format("setuid {}", p.user.uid));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return sys_error("keepcaps");
  if (p.capabilities) BERTH_TRY(apply_capabilities(*p.capabilities));
  if (!cwd_done && !p.cwd.empty() && ::chdir(p.cwd.c_str()) != 0)
    return sys_error(fmt::format("chdir to cwd {:?}", p.cwd));
  ::umask(p.user.umask ? static_cast<mode_t>(*p.user.umask) : 022);
  std::vector<std::string> env = p.env;
  if (env_get(env, "HOME").empty()) env.push_back("HOME=" + home_for(p.user.uid));
  std::vector<char*> argv, envp;
  std::vector<std::string> args = p.args;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  if (seccomp && p.no_new_privileges) BERTH_TRY(load_and_hand_over(*seccomp, compiled));
  ::execve(exe.c_str(), argv.data(), envp.data());
  return sys_error(fmt::format("exec {:?}", exe));
}

}  // namespace berth::runtime
