// create, start and run (runtime/container.h).
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "base/clock.h"
#include "base/file.h"
#include "base/log.h"
#include "base/scope_exit.h"
#include "oci/spec_codec.h"
#include "runtime/capabilities.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/container_internal.h"
#include "runtime/hooks.h"
#include "runtime/idmap.h"
#include "runtime/init.h"
#include "runtime/seccomp.h"
#include "runtime/spawn.h"
#include "sys/syscalls.h"

namespace berth::runtime {
namespace {

std::string absolute(const std::string& base, const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  return base + "/" + p;
}

Result<std::string> real_dir(const std::string& p) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) return sys_error(fmt::format("resolve {}", p));
  return std::string(buf);
}

// Checks everything that can be checked before any state exists, so bad
// input fails without side effects. linux.seccomp is compiled here once;
// the init installs that program (see runtime/seccomp.h).
Result<oci::Spec> check_bundle(std::string text, const std::string& seccomp_cache,
                               std::optional<CompiledSeccomp>* seccomp, std::string* text_out) {
  oci::Spec spec = BERTH_TRY(oci::parse_spec(text, "config.json"));
  *text_out = std::move(text);
  BERTH_TRY_CTX(oci::validate_spec(spec), "config.json");
  if (!spec.process) return make_error(Errc::InvalidArgument, "config.json: process is required");
  if (!spec.linux) return make_error(Errc::InvalidArgument, "config.json: linux is required");
  if (spec.process->capabilities)
    BERTH_TRY_CTX(check_capabilities(*spec.process->capabilities), "config.json");
  if (spec.linux->seccomp)
    *seccomp =
        BERTH_TRY_CTX(compile_seccomp_cached(*spec.linux->seccomp, seccomp_cache), "config.json");
  BERTH_TRY_CTX(check_sysctls(spec), "config.json");
  if (!spec.process->apparmor_profile.empty())
    log_warn("process.apparmorProfile {:?} ignored: AppArmor is not supported on this host",
             spec.process->apparmor_profile);
  if (!spec.process->selinux_label.empty() || !spec.linux->mount_label.empty())
    log_warn("SELinux labels ignored: SELinux is not supported on this host");
  if (spec.linux->intel_rdt_present)
    log_warn("linux.intelRdt ignored: Intel RDT (resctrl) is not supported by berth-runtime");
  if (spec.linux->resources && spec.linux->resources->rdma_present)
    log_warn("linux.resources.rdma ignored: the rdma cgroup is not supported by berth-runtime");
  bool has_mnt = false;
  for (const auto& n : spec.linux->namespaces)
    if (n.type == "mount") has_mnt = true;
  if (!has_mnt)
    return make_error(Errc::InvalidArgument,
                      "config.json: linux.namespaces: a mount namespace is required");
  return spec;
}

Result<oci::Spec> load_bundle(const std::string& bundle, const std::string& seccomp_cache,
                              std::optional<CompiledSeccomp>* seccomp, std::string* text_out) {
  std::string text = BERTH_TRY_CTX(read_file(bundle + "/config.json"), "load bundle");
  return check_bundle(std::move(text), seccomp_cache, seccomp, text_out);
}

bool same_file_unchanged(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// Like runc: the default devices and the pty devices are always usable, and
// mknod is allowed (it grants no access), on top of whatever
// linux.resources.devices says. linux.devices entries get no implicit rule.
// An implicit rule that the list already allows after its last deny
// changes nothing and is left out: on v1 each rule is a write to the
// cgroup (docker's own list repeats most of these).
oci::Resources effective_resources(const oci::Spec& spec) {
  oci::Resources r = spec.linux->resources.value_or(oci::Resources{});
  size_t since = 0;  // the rules after the last deny
  for (size_t i = 0; i < r.devices.size(); ++i)
    if (!r.devices[i].allow) since = i + 1;
  const size_t given = r.devices.size();
  auto allow = [&](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                   const char* access) {
    oci::DeviceCgroupRule rule = oci::device_rule(true, type, major, minor, access);
    for (size_t i = since; i < given; ++i) {
      const auto& d = r.devices[i];
      if (d.type == rule.type && d.major == rule.major && d.minor == rule.minor &&
          d.access == rule.access)
        return;
    }
    r.devices.push_back(std::move(rule));
  };
  allow("c", std::nullopt, std::nullopt, "m");
  allow("b", std::nullopt, std::nullopt, "m");
  for (auto [maj, min] : {std::pair{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}})
    allow("c", maj, min, "rwm");
  allow("c", 136, std::nullopt, "rwm");  // /dev/pts/*
  return r;
}

}  // namespace

struct PreparedBundle {
  std::string bundle;  // real path
  Fd file;             // config.json as read: pins its inode
  struct stat st = {};
  oci::Spec spec;
  std::string text;
  std::optional<CompiledSeccomp> seccomp;
  bool used = false;
};

Result<std::shared_ptr<PreparedBundle>> Runtime::prepare(const std::string& bundle) const {
  auto p = std::make_shared<PreparedBundle>();
  p->bundle = BERTH_TRY(real_dir(bundle.empty() ? "." : bundle));
  std::string path = p->bundle + "/config.json";
  p->file.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!p->file) return sys_error(fmt::format("open {}", path)).context("load bundle");
  // Taken before the read: a write during it changes mtime, so create()
  // does not use what was read.
  if (::fstat(p->file.get(), &p->st) != 0) return sys_error(fmt::format("stat {}", path));
  std::string text = BERTH_TRY_CTX(read_fd(p->file.get(), path), "load bundle");
  p->spec = BERTH_TRY(
      check_bundle(std::move(text), store_.root() + "/.seccomp-cache", &p->seccomp, &p->text));
  return p;
}

Result<void> Runtime::create(const std::string& id, const CreateOptions& opts) {
  return create_impl(id, opts, nullptr);
}

Result<void> Runtime::create_impl(const std::string& id, const CreateOptions& opts,
                                  Fd* terminal_end) {
  BERTH_TRY(validate_container_id(id));
  std::string bundle = BERTH_TRY(real_dir(opts.bundle.empty() ? "." : opts.bundle));
  std::optional<CompiledSeccomp> seccomp;
  // The state root is root-only (0711, entries 0700), on tmpfs normally.
  std::string spec_text;
  oci::Spec spec;
  struct stat now = {};
  if (const auto& p = opts.prepared; p && !p->used && p->bundle == bundle &&
                                     ::stat((bundle + "/config.json").c_str(), &now) == 0 &&
                                     same_file_unchanged(now, p->st)) {
    p->used = true;
    spec = std::move(p->spec);
    spec_text = std::move(p->text);
    seccomp = std::move(p->seccomp);
  } else {
    spec = BERTH_TRY(load_bundle(bundle, store_.root() + "/.seccomp-cache", &seccomp, &spec_text));
  }
  std::string rootfs_cfg = absolute(bundle, spec.root->path);
  struct stat st;
  if (::stat(rootfs_cfg.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(Errc::NotFound, "rootfs ({}) does not exist", rootfs_cfg);
  std::string rootfs = BERTH_TRY(real_dir(rootfs_cfg));
  NamespacePlan plan = BERTH_TRY(plan_namespaces(spec.linux->namespaces));
  for (const auto& [clock, off] : spec.linux->time_offsets)
    plan.time_offsets += fmt::format("{} {} {}\n", clock, off.secs, off.nanosecs);
  if (plan.new_user() && (spec.linux->uid_mappings.empty() || spec.linux->gid_mappings.empty()))
    return make_error(Errc::InvalidArgument,
                      "config.json: a new user namespace needs linux.uidMappings and gidMappings");
  Fd console;
  if (spec.process->terminal && opts.console_socket.empty() && opts.console_fd < 0 &&
      terminal_end) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      return sys_error("socketpair");
    terminal_end->reset(sv[0]);
    console.reset(sv[1]);
  } else if (spec.process->terminal && opts.console_socket.empty() && opts.console_fd < 0) {
    return make_error(Errc::InvalidArgument,
                      "cannot allocate tty if berth-runtime will detach without setting "
                      "console socket");
  }
  if (spec.process->terminal && !opts.console_socket.empty())
    console = BERTH_TRY_CTX(sys::unix_connect(opts.console_socket), "console socket");

  Fd reservation = BERTH_TRY(store_.reserve(id));
  auto cg = make_cgroup(spec, id);
  if (!cg) {
    [[maybe_unused]] auto r = store_.remove(id);
    return std::move(cg).error();
  }
  pid_t pid = 0;
  ScopeExit undo([&] {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      int s;
      while (::waitpid(pid, &s, 0) < 0 && errno == EINTR) {
      }
    }
    if (auto r = (*cg)->destroy(); !r) log_warn("cleanup: {}", r.error().message);
    if (auto r = store_.remove(id); !r) log_warn("cleanup: {}", r.error().message);
  });
  BERTH_TRY((*cg)->create());
  BERTH_TRY_CTX((*cg)->set(effective_resources(spec)), "linux.resources");
  if (::mkfifo(store_.fifo_path(id).c_str(), 0600) != 0) return sys_error("create exec fifo");
  Fd fifo(::open(store_.fifo_path(id).c_str(), O_RDWR | O_CLOEXEC));
  if (!fifo) return sys_error("open exec fifo");

  InitArgs ia;
  ia.spec = &spec;
  ia.rootfs.spec = &spec;
  ia.rootfs.rootfs = rootfs;
  ia.rootfs.new_userns = plan.new_user();
  ia.rootfs.new_cgroupns = plan.new_flags & CLONE_NEWCGROUP;
  ia.rootfs.cgroup_v2 = (*cg)->version() == cgroups::Version::V2;
  ia.rootfs.no_pivot = opts.no_pivot;
  ia.rootfs.cgroup_paths = (*cg)->paths();
  ia.fifo_fd = fifo.get();
  ia.seccomp = seccomp ? &*seccomp : nullptr;
  auto idmaps = BERTH_TRY(make_idmap_namespaces(spec));
  for (const auto& [index, fd] : idmaps) ia.rootfs.idmap_userns[index] = fd.get();
  ia.console_fd = console ? console.get() : opts.console_fd;
  ia.new_uts = plan.new_flags & CLONE_NEWUTS;
  ia.preserve_fds = opts.preserve_fds;
  ia.prestart_pause = needs_prestart_pause(spec);

  auto maps = [&](pid_t p) { return write_id_maps(p, *spec.linux); };
  Spawned sp =
      BERTH_TRY(spawn(plan, cg->get(), maps, [&](SyncChannel& c) { container_init(c, ia); }));
  pid = sp.pid;
  // Only the init may hold the fifo: `start` detects a dead init by finding
  // no reader.
  fifo.reset();

  oci::State state;
  state.id = id;
  state.status = "creating";
  state.pid = pid;
  state.bundle = bundle;
  state.annotations = spec.annotations;
  while (true) {
    auto m = sp.chan.recv();
    if (!m) return make_error(Errc::FailedPrecondition, "container init exited during setup");
    if (m->kind == "error") return make_error(Errc::FailedPrecondition, "{}", m->payload);
    if (m->kind == "prestart") {
      std::string sj = dump_json(oci::state_to_json(state));
      if (spec.hooks) {
        BERTH_TRY(run_hooks(spec.hooks->prestart, sj, "prestart"));
        BERTH_TRY(run_hooks(spec.hooks->create_runtime, sj, "createRuntime"));
      }
      BERTH_TRY(sp.chan.send("prestart-done", sj));
    } else if (m->kind == "created") {
      break;
    }
  }
  ContainerRecord rec;
  rec.id = id;
  rec.bundle = bundle;
  rec.rootfs = rootfs;
  rec.pid = pid;
  rec.start_time = BERTH_TRY(sys::process_start_time(pid));
  rec.created = now_rfc3339();
  rec.owner = "root";
  rec.cgroups_path = cgroups_path_for(spec, id);
  rec.no_pivot = opts.no_pivot;
  rec.annotations = spec.annotations;
  rec.poststart_hooks = spec.hooks && !spec.hooks->poststart.empty();
  rec.poststop_hooks = spec.hooks && !spec.hooks->poststop.empty();
  // The text it was parsed from: writing it costs less than serializing the
  // spec again, and it parses to the same spec.
  BERTH_TRY(store_.save(rec, spec_text));
  if (opts.record_out) *opts.record_out = rec;
  if (!opts.pid_file.empty())
    BERTH_TRY_CTX(write_file_atomic(opts.pid_file, fmt::format("{}", pid), 0644,
                                    Durability::ProcessCrashSafe),
                  "pid file");
  undo.dismiss();
  return ok();
}

namespace {

// Until the process behind `exe_link` runs another executable than `before`
// (it exec'd), has gone, or `limit` passed. Polls: only starts with poststart
// hooks come here.
void wait_for_exec(const std::string& exe_link, const struct stat& before,
                   std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    struct stat now = {};
    if (::stat(exe_link.c_str(), &now) != 0) return;
    if (now.st_dev != before.st_dev || now.st_ino != before.st_ino) return;
    ::usleep(500);
  }
}

}  // namespace

Result<void> Runtime::start(const std::string& id) {
  ContainerInfo ci = BERTH_TRY(info(id));
  if (ci.status == Status::Stopped)
    return make_error(Errc::FailedPrecondition, "cannot start a container that has stopped");
  if (ci.status != Status::Created)
    return make_error(Errc::FailedPrecondition, "cannot start an already running container");
  Fd fifo(::open(store_.fifo_path(id).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) {
    if (errno == ENXIO)
      return make_error(Errc::FailedPrecondition, "cannot start a container that has stopped");
    return sys_error("open exec fifo");
  }
  // Poststart hooks run after the user's program is executed (OCI runtime
  // spec), so after the init's startContainer hooks: the init's executable
  // is noted now, and the hooks wait below until it has changed.
  struct stat before = {};
  std::string exe_link = fmt::format("/proc/{}/exe", ci.record.pid);
  bool watch_exec = ci.record.poststart_hooks && ::stat(exe_link.c_str(), &before) == 0;
  if (::write(fifo.get(), "0", 1) != 1) return sys_error("signal container start");
  ::unlink(store_.fifo_path(id).c_str());
  // Parsing the stored spec costs more than the rest of a start: only for hooks.
  if (!ci.record.poststart_hooks) return ok();
  if (watch_exec) wait_for_exec(exe_link, before, std::chrono::seconds(30));
  oci::Spec spec = BERTH_TRY(store_.load_spec(id));
  if (spec.hooks && !spec.hooks->poststart.empty()) {
    Json st = BERTH_TRY(state_json(id));
    // Poststart failures are warnings: the container is already running.
    run_hooks_warn(spec.hooks->poststart, dump_json(st), "poststart");
  }
  return ok();
}

namespace {
pid_t g_forward_to = 0;
void forward_signal(int sig) {
  if (g_forward_to > 0) ::kill(g_forward_to, sig);
}
}  // namespace

int wait_forwarding_signals(pid_t pid) {
  g_forward_to = pid;
  struct sigaction sa = {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH})
    ::sigaction(sig, &sa, nullptr);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 255;
  }
  g_forward_to = 0;
  return exit_code_from_status(status);
}

int exit_code_from_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

Result<int> Runtime::run(const std::string& id, const CreateOptions& opts, bool detach) {
  Fd our_end;
  BERTH_TRY(create_impl(id, opts, detach ? nullptr : &our_end));
  bool proxy = our_end.valid();
  Fd master;
  if (proxy) master = BERTH_TRY_CTX(sys::recv_fd(our_end.get()), "receive terminal");
  if (auto r = start(id); !r) {
    [[maybe_unused]] auto d = remove(id, true);
    return std::move(r).error();
  }
  if (detach) return 0;
  ContainerRecord rec = BERTH_TRY(store_.load(id));
  if (proxy) proxy_tty(master.get());
  int code = wait_forwarding_signals(rec.pid);
  if (auto r = remove(id, true); !r) log_warn("delete after run: {}", r.error().message);
  return code;
}

}  // namespace berth::runtime
