#include "runtime/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "base/file.h"
#include "base/log.h"
#include "sys/syscalls.h"

namespace berth::runtime {
namespace {

Result<void> run_one(const oci::Hook& h, const std::string& state, const char* kind, size_t idx) {
  auto what = fmt::format("{} hook #{} ({})", kind, idx, h.path);
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return sys_error("pipe");
  Fd rd(in[0]), wr(in[1]);
  std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = h.env;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork hook");
  if (pid == 0) {
    ::dup2(rd.get(), 0);
    // Only stdio reaches the hook, never the runtime's other descriptors.
    [[maybe_unused]] auto c = sys::cloexec_from(3);
    ::execve(h.path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  rd.reset();
  // A hook that does not read stdin must not block us: ignore EPIPE.
  signal(SIGPIPE, SIG_IGN);
  [[maybe_unused]] auto w = write_all(wr.get(), state);
  wr.reset();
  auto pidfd = sys::pidfd_open(pid);
  int timeout_ms = h.timeout ? *h.timeout * 1000 : -1;
  if (pidfd) {
    struct pollfd p = {pidfd->get(), POLLIN, 0};
    int r;
    while ((r = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
    }
    if (r == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return make_error(Errc::DeadlineExceeded, "{}: timed out after {}s", what, *h.timeout);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return sys_error("wait hook");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ok();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return make_error(Errc::FailedPrecondition, "{}: could not be executed (exit 127)", what);
  if (WIFSIGNALED(status))
    return make_error(Errc::FailedPrecondition, "{}: killed by signal {}", what, WTERMSIG(status));
  return make_error(Errc::FailedPrecondition, "{}: exited with status {}", what,
                    WEXITSTATUS(status));
}

}  // namespace

Result<void> run_hooks(const std::vector<oci::Hook>& hooks, const std::string& state_json,
                       const char* kind) {
  for (size_t i = 0; i < hooks.size(); ++i) BERTH_TRY(run_one(hooks[i], state_json, kind, i));
  return ok();
}

void run_hooks_warn(const std::vector<oci::Hook>& hooks, const std::string& state_json,
                    const char* kind) {
  for (size_t i = 0; i < hooks.size(); ++i)
    if (auto r = run_one(hooks[i], state_json, kind, i); !r) log_warn("{}", r.error().message);
}

}  // namespace berth::runtime
