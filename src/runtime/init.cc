#include "runtime/init.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/process_setup.h"
#include "sys/syscalls.h"

namespace berth::runtime {
namespace {

[[noreturn]] void fail(SyncChannel& chan, const Error& e) {
  [[maybe_unused]] auto r = chan.send("error", e.message);
  ::_exit(1);
}

// After "created" nobody listens on the channel: report like runc does, on
// the stderr the container inherited.
[[noreturn]] void fail_late(const Error& e, int code) {
  std::string m = fmt::format("berth-runtime: {}\n", e.message);
  [[maybe_unused]] ssize_t n = ::write(2, m.data(), m.size());
  ::_exit(code);
}

Result<void> set_names(const oci::Spec& s, bool new_uts) {
  if (!s.hostname.empty()) {
    if (!new_uts) return make_error(Errc::InvalidArgument, "hostname requires a new uts namespace");
    if (::sethostname(s.hostname.data(), s.hostname.size()) != 0) return sys_error("sethostname");
  }
  if (!s.domainname.empty()) {
    if (!new_uts)
      return make_error(Errc::InvalidArgument, "domainname requires a new uts namespace");
    if (::setdomainname(s.domainname.data(), s.domainname.size()) != 0)
      return sys_error("setdomainname");
  }
  return ok();
}

Result<void> make_dirs(const std::string& path) {
  Fd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_error("open /");
  BERTH_TRY(sys::mkdir_all_in_root(root.get(), path, true));
  return ok();
}

}  // namespace

bool needs_prestart_pause(const oci::Spec& spec) {
  const auto& h = spec.hooks;
  return h && !(h->prestart.empty() && h->create_runtime.empty() && h->create_container.empty() &&
                h->start_container.empty());
}

void container_init(SyncChannel& chan, const InitArgs& a) {
  const oci::Spec& s = *a.spec;
  const oci::Process& proc = *s.process;
  // Until execve nothing in the container may open /proc/1/exe (the runtime).
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Its own session and process group, as runc and crun give it: otherwise
  // it shares the caller's (berth-monitor's), and a `kill 0` in the
  // container signals the monitor outside it.
  ::setsid();
  // Opened O_RDWR by the runtime before any user namespace (so it never
  // blocks and needs no access to the state dir); read until `start` writes.
  Fd fifo(a.fifo_fd);
  if (auto r = apply_oom_score_adj(proc); !r) fail(chan, r.error());
  if (auto r = apply_sysctls(s); !r) fail(chan, r.error());
  if (auto r = prepare_rootfs(a.rootfs); !r) fail(chan, r.error());
  std::string state_json;  // for the hooks the init runs itself
  if (a.prestart_pause) {
    if (auto r = chan.send("prestart"); !r) fail(chan, r.error());
    auto done = chan.expect("prestart-done");
    if (!done) fail(chan, done.error());
    state_json = std::move(done->payload);
    if (s.hooks) {
      if (auto r = run_hooks(s.hooks->create_container, state_json, "createContainer"); !r)
        fail(chan, r.error());
    }
  }
  if (auto r = enter_rootfs(a.rootfs); !r) fail(chan, r.error());
  if (proc.terminal) {
    if (auto r = setup_console(a.console_fd, proc.console_size, true); !r) fail(chan, r.error());
  }
  // runc creates a missing cwd (before the root may become read-only). One
  // that is not a directory fails the create, not the exec after start.
  if (!proc.cwd.empty()) {
    struct stat st {};
    if (::stat(proc.cwd.c_str(), &st) != 0) {
      if (auto r = make_dirs(proc.cwd); !r) fail(chan, r.error().context("process.cwd"));
    } else if (!S_ISDIR(st.st_mode)) {
      fail(chan,
           make_error(Errc::InvalidArgument,
                      "chdir to cwd {:?} set in config.json failed: not a directory", proc.cwd));
    }
  }
  if (auto r = finish_rootfs(a.rootfs); !r) fail(chan, r.error());
  if (auto r = set_names(s, a.new_uts); !r) fail(chan, r.error());
  if (auto r = apply_rlimits(proc); !r) fail(chan, r.error());
  if (auto r = apply_personality(s.linux ? s.linux->personality : std::nullopt); !r)
    fail(chan, r.error());
  if (auto r = apply_io_priority(proc); !r) fail(chan, r.error());
  if (auto r = apply_scheduler(proc); !r) fail(chan, r.error());
  auto exe = resolve_executable(proc);
  if (!exe) fail(chan, exe.error());
  if (a.console_fd >= 0) ::close(a.console_fd);
  if (auto r = chan.send("created"); !r) ::_exit(1);
  chan.close();

  char b;
  ssize_t n;
  while ((n = ::read(fifo.get(), &b, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) fail_late(sys_error("wait for start"), 1);
  fifo.reset();
  if (s.hooks) {
    if (auto r = run_hooks(s.hooks->start_container, state_json, "startContainer"); !r)
      fail_late(r.error(), 1);
  }
  auto r = exec_process(proc, s.linux ? s.linux->seccomp : std::nullopt, *exe, a.preserve_fds,
                        a.seccomp);
  fail_late(r.error(), 127);
}

void exec_init(SyncChannel& chan, const ExecArgs& a) {
  const oci::Process& proc = *a.process;
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ::setsid();  // as container_init: never in the caller's process group
  if (proc.terminal) {
    if (auto r = setup_console(a.console_fd, proc.console_size, false); !r) fail(chan, r.error());
    ::close(a.console_fd);
  }
  if (auto r = apply_rlimits(proc); !r) fail(chan, r.error());
  if (auto r = apply_oom_score_adj(proc); !r) fail(chan, r.error());
  if (auto r = apply_io_priority(proc); !r) fail(chan, r.error());
  if (auto r = apply_scheduler(proc); !r) fail(chan, r.error());
  auto exe = resolve_executable(proc);
  if (!exe) fail(chan, exe.error());
  const oci::Spec& s = *a.spec;
  auto r = exec_process(proc, s.linux ? s.linux->seccomp : std::nullopt, *exe, a.preserve_fds);
  fail(chan, r.error());
}

}  // namespace berth::runtime
