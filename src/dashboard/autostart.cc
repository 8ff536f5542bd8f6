#include "dashboard/autostart.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "base/fd.h"
#include "base/strings.h"

extern char** environ;

namespace berth::dashboard {

Result<CommandOutput> run_command(const std::vector<std::string>& argv) {
  if (argv.empty()) return make_error(Errc::InvalidArgument, "run_command: empty argv");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe2");
  Fd rd(p[0]), wr(p[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 2);
  // berthd blocks SIGTERM/SIGINT/SIGHUP for sigwait: the child must not
  // inherit that mask.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return sys_error(fmt::format("run {}", argv[0]), rc);
  wr.reset();
  CommandOutput out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(rd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.output.size() < (1 << 20)) out.output.append(buf, static_cast<size_t>(n));
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return sys_error(fmt::format("wait for {}", argv[0]));
  }
  out.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return out;
}

std::vector<std::string> Autostart::argv(const std::string& verb) const {
  std::vector<std::string> a = {o_.binary};
  if (!o_.root.empty()) a.push_back("--root=" + o_.root);
  a.push_back(verb);
  a.push_back(o_.unit);
  return a;
}

std::string Autostart::unsupported_reason() const {
  std::error_code ec;
  if (o_.root.empty() && !std::filesystem::exists(o_.booted_marker, ec))
    return "systemd is not running on this host, so berthd cannot be started at boot from "
           "here; start it from your init system instead";
  return "";
}

AutostartState Autostart::state() const {
  AutostartState s;
  s.detail = unsupported_reason();
  if (!s.detail.empty()) {
    s.state = "unsupported";
    return s;
  }
  auto r = run_command(argv("is-enabled"));
  if (!r) {
    s.state = "unsupported";
    s.detail = fmt::format("cannot run {}: {}", o_.binary, r.error().message);
    return s;
  }
  s.supported = true;
  std::string word(trim(r->output));
  // is-enabled prints one word on success (and for "disabled", exit 1); a
  // missing unit gets only an error on stderr.
  if (word.empty() || word.find(' ') != std::string::npos || word.find('\n') != std::string::npos) {
    s.state = "not-installed";
    s.detail = fmt::format("{} is not installed ({})", o_.unit, word.empty() ? "no output" : word);
    return s;
  }
  s.state = word;
  s.enabled = word == "enabled" || word == "enabled-runtime" || word == "alias";
  return s;
}

Result<AutostartState> Autostart::set_enabled(bool on) const {
  if (auto why = unsupported_reason(); !why.empty())
    return make_error(Errc::FailedPrecondition, "autostart: {}", why);
  auto r = BERTH_TRY(run_command(argv(on ? "enable" : "disable")));
  if (r.status != 0)
    return make_error(Errc::Internal, "systemctl {} {} failed (exit {}): {}",
                      on ? "enable" : "disable", o_.unit, r.status, trim(r.output));
  return state();
}

}  // namespace berth::dashboard
