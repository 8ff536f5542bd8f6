#include "runtime/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strings.h"
#include "runtime/idmap.h"

namespace berth::runtime {
namespace {

const std::pair<const char*, int> kNamespaces[] = {
    {"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID},  {"network", CLONE_NEWNET},
    {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS},  {"cgroup", CLONE_NEWCGROUP},
    {"time", CLONE_NEWTIME}, {"mount", CLONE_NEWNS},
};

const char* proc_ns_name(int flag) {
  switch (flag) {
    case CLONE_NEWUSER:
      return "user";
    case CLONE_NEWPID:
      return "pid";
    case CLONE_NEWNET:
      return "net";
    case CLONE_NEWIPC:
      return "ipc";
    case CLONE_NEWUTS:
      return "uts";
    case CLONE_NEWCGROUP:
      return "cgroup";
    case CLONE_NEWTIME:
      return "time";
    case CLONE_NEWNS:
      return "mnt";
  }
  return "";
}

[[noreturn]] void stage1(SyncChannel& chan, const NamespacePlan& plan, const ChildMain& main) {
  auto die = [&](const Error& e) {
    [[maybe_unused]] auto r = chan.send("error", e.message);
    ::_exit(1);
  };
  // The runtime may die while we set up; take the half-built container with it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (auto m = chan.expect("go"); !m) die(m.error());
  std::vector<std::pair<int, Fd>> fds;
  for (const auto& [flag, path] : plan.join) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) die(sys_error(fmt::format("open namespace {}", path)));
    fds.emplace_back(flag, std::move(fd));
  }
  for (auto& [flag, fd] : fds) {
    if (::setns(fd.get(), flag) != 0)
      die(sys_error(fmt::format("join {} namespace", proc_ns_name(flag))));
  }
  fds.clear();
  if (plan.new_flags & CLONE_NEWUSER) {
    if (::unshare(CLONE_NEWUSER) != 0) die(sys_error("create user namespace"));
    if (auto r = chan.send("idmap"); !r) die(r.error());
    if (auto m = chan.expect("idmap-done"); !m) die(m.error());
    if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0)
      die(sys_error("become root in the user namespace (is uid/gid 0 mapped?)"));
  }
  if (int rest = plan.new_flags & ~CLONE_NEWUSER; rest && ::unshare(rest) != 0)
    die(sys_error("create namespaces"));
  if (!plan.time_offsets.empty()) {
    if (auto r = write_file("/proc/self/timens_offsets", plan.time_offsets); !r)
      die(r.error().context("linux.timeOffsets"));
  }
  // Raw clone with fork semantics: CLONE_PARENT makes the final process the
  // runtime's child, so `run` can wait for it and stage 1 can simply exit.
  long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0);
  if (pid < 0) die(sys_error("clone container process"));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, 0);
    // Both processes share the channel: wait until the parent has read our
    // pid from stage 1, so our own messages can never overtake it.
    if (auto m = chan.expect("child-go"); !m) ::_exit(1);
    main(chan);
    ::_exit(1);
  }
  if (auto r = chan.send("pid", fmt::format("{}", pid)); !r) ::_exit(1);
  ::_exit(0);
}

}  // namespace

bool NamespacePlan::new_user() const { return new_flags & CLONE_NEWUSER; }
bool NamespacePlan::has(int flag) const {
  if (new_flags & flag) return true;
  for (const auto& j : join)
    if (j.first == flag) return true;
  return false;
}

int namespace_flag(const std::string& type) {
  for (const auto& [n, f] : kNamespaces)
    if (type == n) return f;
  return 0;
}

Result<NamespacePlan> plan_namespaces(const std::vector<oci::Namespace>& ns) {
  NamespacePlan p;
  std::vector<std::pair<int, std::string>> joins;
  for (const auto& n : ns) {
    int f = namespace_flag(n.type);
    if (!f) return make_error(Errc::InvalidArgument, "linux.namespaces: unknown type {:?}", n.type);
    if (n.path.empty()) {
      p.new_flags |= f;
    } else {
      struct stat st;
      if (::stat(n.path.c_str(), &st) != 0)
        return sys_error(fmt::format("linux.namespaces: {} path {}", n.type, n.path));
      joins.emplace_back(f, n.path);
    }
  }
  // user first (it grants the rights to join the rest), mount last.
  for (auto& j : joins)
    if (j.first == CLONE_NEWUSER) p.join.push_back(j);
  for (auto& j : joins)
    if (j.first != CLONE_NEWUSER && j.first != CLONE_NEWNS) p.join.push_back(j);
  for (auto& j : joins)
    if (j.first == CLONE_NEWNS) p.join.push_back(j);
  return p;
}

Result<NamespacePlan> plan_join_process(pid_t pid) {
  NamespacePlan p;
  for (const auto& [n, f] : kNamespaces) {
    std::string theirs = fmt::format("/proc/{}/ns/{}", pid, proc_ns_name(f));
    std::string mine = fmt::format("/proc/self/ns/{}", proc_ns_name(f));
    struct stat a, b;
    if (::stat(theirs.c_str(), &a) != 0) {
      if (errno == ENOENT) continue;  // kernel without this namespace type
      return sys_error(fmt::format("stat {}", theirs));
    }
    if (::stat(mine.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
    p.join.emplace_back(f, theirs);
  }
  return p;
}

Result<void> write_id_maps(pid_t pid, const oci::Linux& linux) {
  if (auto r = write_file(fmt::format("/proc/{}/uid_map", pid), format_id_map(linux.uid_mappings));
      !r)
    return r.error().context("linux.uidMappings");
  if (auto r = write_file(fmt::format("/proc/{}/gid_map", pid), format_id_map(linux.gid_mappings));
      !r)
    return r.error().context("linux.gidMappings");
  return ok();
}

namespace {

// Whether spawn_direct can serve the plan: no user namespace, no new time
// namespace, and only joins a process can make for itself after the clone
// (network, ipc, uts). A joined user namespace must own the new ones, and
// joining a pid namespace applies only to children: those need stage 1.
bool direct_spawnable(const NamespacePlan& plan) {
  if (plan.new_user() || (plan.new_flags & CLONE_NEWTIME)) return false;
  for (const auto& j : plan.join)
    if (j.first != CLONE_NEWNET && j.first != CLONE_NEWIPC && j.first != CLONE_NEWUTS) return false;
  return true;
}

// One clone() creates every new namespace at once, then the child joins the
// plan's others itself before anything else runs in it: no stage 1 (a fork
// less). The cgroup namespace is the exception: it must be made after the
// parent has moved the child into its cgroup, so the child unshares it.
Result<Spawned> spawn_direct(const NamespacePlan& plan, cgroups::Manager* cgroup,
                             const ChildMain& child_main) {
  std::vector<std::pair<int, Fd>> joins;
  for (const auto& [flag, path] : plan.join) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return sys_error(fmt::format("open namespace {}", path));
    joins.emplace_back(flag, std::move(fd));
  }
  auto [parent_end, child_end] = BERTH_TRY(SyncChannel::make_pair());
  long pid = ::syscall(SYS_clone, (plan.new_flags & ~CLONE_NEWCGROUP) | SIGCHLD, nullptr, nullptr,
                       nullptr, 0);
  if (pid < 0) return sys_error("clone container process");
  if (pid == 0) {
    parent_end.close();
    if (auto m = child_end.expect("go"); !m) ::_exit(1);
    for (auto& [flag, fd] : joins) {
      if (::setns(fd.get(), flag) != 0) {
        [[maybe_unused]] auto r = child_end.send(
            "error", sys_error(fmt::format("join {} namespace", proc_ns_name(flag))).message);
        ::_exit(1);
      }
      fd.reset();
    }
    if ((plan.new_flags & CLONE_NEWCGROUP) && ::unshare(CLONE_NEWCGROUP) != 0) {
      [[maybe_unused]] auto r =
          child_end.send("error", sys_error("create cgroup namespace").message);
      ::_exit(1);
    }
    child_main(child_end);
    ::_exit(1);
  }
  child_end.close();
  joins.clear();
  auto fail = [&](Error e) -> Result<Spawned> {
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    return e;
  };
  if (cgroup) {
    if (auto r = cgroup->add_process(static_cast<pid_t>(pid)); !r) return fail(r.error());
  }
  if (auto r = parent_end.send("go"); !r) return fail(r.error());
  return Spawned{static_cast<pid_t>(pid), std::move(parent_end)};
}

}  // namespace

Result<Spawned> spawn(const NamespacePlan& plan, cgroups::Manager* cgroup,
                      const IdMapWriter& id_maps, const ChildMain& child_main) {
  // A time namespace applies to children of the process that unshares it
  // (and CLONE_NEWTIME cannot be passed to clone()), so it needs stage 1;
  // see direct_spawnable for the rest.
  if (direct_spawnable(plan)) return spawn_direct(plan, cgroup, child_main);
  auto [parent_end, child_end] = BERTH_TRY(SyncChannel::make_pair());
  pid_t s1 = ::fork();
  if (s1 < 0) return sys_error("fork");
  if (s1 == 0) {
    parent_end.close();
    stage1(child_end, plan, child_main);
  }
  child_end.close();
  auto reap = [&] {
    int st;
    while (::waitpid(s1, &st, 0) < 0 && errno == EINTR) {
    }
  };
  auto fail = [&](Error e) -> Result<Spawned> {
    ::kill(s1, SIGKILL);
    reap();
    return e;
  };
  if (cgroup) {
    if (auto r = cgroup->add_process(s1); !r) return fail(r.error());
  }
  if (auto r = parent_end.send("go"); !r) return fail(r.error());
  pid_t pid = 0;
  while (pid == 0) {
    auto m = parent_end.recv();
    if (!m) return fail(m.error().context("namespace setup"));
    if (m->kind == "error") return fail(make_error(Errc::FailedPrecondition, "{}", m->payload));
    if (m->kind == "idmap") {
      if (auto r = id_maps ? id_maps(s1) : make_error(Errc::Internal, "no id maps"); !r)
        return fail(r.error());
      if (auto r = parent_end.send("idmap-done"); !r) return fail(r.error());
    } else if (m->kind == "pid") {
      auto v = parse_int(m->payload);
      if (!v || *v <= 0) return fail(make_error(Errc::Internal, "bad pid {:?}", m->payload));
      pid = static_cast<pid_t>(*v);
    }
  }
  reap();
  if (auto r = parent_end.send("child-go"); !r) {
    ::kill(pid, SIGKILL);
    return std::move(r).error();
  }
  return Spawned{pid, std::move(parent_end)};
}

}  // namespace berth::runtime
