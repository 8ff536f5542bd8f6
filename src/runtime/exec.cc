// exec (runtime/container.h): a new process inside a running container.
#include <sys/socket.h>
#include <unistd.h>

#include "base/file.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/container_internal.h"
#include "runtime/init.h"
#include "runtime/spawn.h"
#include "sys/syscalls.h"

namespace berth::runtime {

Result<int> Runtime::exec(const std::string& id, const ExecOptions& opts) {
  ContainerInfo ci = BERTH_TRY(info(id));
  if (ci.status == Status::Stopped)
    return make_error(Errc::FailedPrecondition, "cannot exec in a stopped container");
  if (ci.status == Status::Paused)
    return make_error(Errc::FailedPrecondition, "cannot exec in a paused container");
  oci::Spec spec = BERTH_TRY(store_.load_spec(id));
  if (opts.process.args.empty())
    return make_error(Errc::InvalidArgument, "exec: process.args must not be empty");
  bool terminal = opts.process.terminal;
  if (terminal && opts.detach && opts.console_socket.empty() && opts.console_fd < 0)
    return make_error(Errc::InvalidArgument,
                      "cannot allocate tty if berth-runtime will detach without setting "
                      "console socket");
  Fd console, our_end;
  if (terminal && opts.console_fd < 0) {
    if (!opts.console_socket.empty()) {
      console = BERTH_TRY_CTX(sys::unix_connect(opts.console_socket), "console socket");
    } else {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return sys_error("socketpair");
      our_end.reset(sv[0]);
      console.reset(sv[1]);
    }
  }
  NamespacePlan plan = BERTH_TRY(plan_join_process(ci.record.pid));
  auto cg = BERTH_TRY(make_cgroup_at(ci.record.cgroups_path, id));
  ExecArgs ea;
  ea.process = &opts.process;
  ea.spec = &spec;
  ea.console_fd = console ? console.get() : (terminal ? opts.console_fd : -1);
  ea.preserve_fds = opts.preserve_fds;
  Spawned sp = BERTH_TRY(spawn(plan, cg.get(), nullptr, [&](SyncChannel& c) { exec_init(c, ea); }));
  console.reset();
  // EOF means execve succeeded (the channel is close-on-exec).
  auto m = sp.chan.recv();
  if (m && m->kind == "error") {
    wait_forwarding_signals(sp.pid);
    return make_error(Errc::FailedPrecondition, "exec failed: {}", m->payload);
  }
  if (!opts.pid_file.empty())
    BERTH_TRY_CTX(write_file_atomic(opts.pid_file, fmt::format("{}", sp.pid), 0644,
                                    Durability::ProcessCrashSafe),
                  "pid file");
  if (opts.pid_out) *opts.pid_out = sp.pid;
  if (opts.detach) return 0;
  if (our_end) {
    Fd master = BERTH_TRY_CTX(sys::recv_fd(our_end.get()), "receive terminal");
    proxy_tty(master.get());
  }
  return wait_forwarding_signals(sp.pid);
}

}  // namespace berth::runtime
