// berth-init — the tiny init that `run --init` puts at pid 1 of a container
// (docker's tini equivalent): `berth-init [--] cmd args...`.
//
// It forks and execs the command in a process group of its own (the
// foreground group of the terminal when stdin is one), forwards every
// catchable asynchronous signal it receives to that group, reaps every
// child that is reparented to it (orphans inside the pid namespace; outside
// one it makes itself a child subreaper so the same holds), and exits with
// the command's status: its exit code, or 128+N when signal N killed it.
//
// Written against libc only (no libstdc++, no exceptions, no allocation):
// it is linked statically and runs in every --init container.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern "C" char** environ;

namespace {

void say(const char* a, const char* b = "", const char* c = "", const char* d = "") {
  char buf[512];
  snprintf(buf, sizeof buf, "berth-init: %s%s%s%s\n", a, b, c, d);
  ssize_t n = write(STDERR_FILENO, buf, strlen(buf));
  (void)n;
}

// Signals that report a fault of this process itself: never blocked, never
// forwarded (tini does the same).
bool synchronous(int sig) {
  return sig == SIGFPE || sig == SIGILL || sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT ||
         sig == SIGTRAP || sig == SIGSYS;
}

// execvp without its /bin/sh fallback for files that are not executables
// (runc reports "exec format error" there too). Returns the errno to report:
// the first error other than ENOENT met on PATH, else ENOENT.
int exec_path(char** argv) {
  const char* file = argv[0];
  if (strchr(file, '/')) {
    execve(file, argv, environ);
    return errno;
  }
  const char* path = getenv("PATH");
  if (!path || !*path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  int first_err = ENOENT;
  size_t flen = strlen(file);
  for (const char* p = path;;) {
    const char* end = strchrnul(p, ':');
    size_t dlen = static_cast<size_t>(end - p);
    char full[4096];
    if (dlen + 1 + flen < sizeof full) {
      if (dlen == 0) {
        full[0] = '.';
        dlen = 1;
      } else {
        memcpy(full, p, dlen);
      }
      full[dlen] = '/';
      memcpy(full + dlen + 1, file, flen + 1);
      execve(full, argv, environ);
      if (errno != ENOENT && errno != ENOTDIR && first_err == ENOENT) first_err = errno;
    }
    if (!*end) break;
    p = end + 1;
  }
  return first_err;
}

[[noreturn]] void exec_child(char** argv, const sigset_t& old_mask) {
  // Own process group: a forwarded signal reaches the whole job (a shell
  // pipeline), and with a terminal the job is its foreground group so ^C
  // from `docker run -it` reaches it directly.
  setpgid(0, 0);
  if (isatty(STDIN_FILENO)) {
    // SIGTTOU is still blocked here, so tcsetpgrp from a background group
    // succeeds instead of stopping us.
    tcsetpgrp(STDIN_FILENO, getpgrp());
  }
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, SIG_DFL);
  }
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  int err = exec_path(argv);
  say("exec ", argv[0], ": ", err == ENOENT ? "executable file not found" : strerror(err));
  _exit(err == ENOENT ? 127 : 126);
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  if (first < argc && strcmp(argv[first], "--") == 0) first++;
  if (first >= argc) {
    say("usage: berth-init [--] command [args...]");
    return 1;
  }
  if (argv[first][0] == '-' && argv[first][1] != '\0' && first == 1) {
    if (strcmp(argv[first], "--version") == 0 || strcmp(argv[first], "-v") == 0) {
      ssize_t n = write(STDOUT_FILENO, "berth-init\n", 11);
      (void)n;
      return 0;
    }
    say("unknown flag ", argv[first], " (use -- before a command that starts with '-')");
    return 1;
  }

  // Outside a pid namespace (or when pid 1 is someone else) orphans would go
  // to the real init; as a subreaper they come to us like they do at pid 1.
  if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  // An inherited SIG_IGN for SIGCHLD would make the kernel reap the child
  // itself and lose its status.
  signal(SIGCHLD, SIG_DFL);

  sigset_t all, old_mask;
  sigfillset(&all);
  for (int sig = 1; sig < NSIG; sig++)
    if (synchronous(sig)) sigdelset(&all, sig);
  sigprocmask(SIG_SETMASK, &all, &old_mask);

  pid_t child = fork();
  if (child < 0) {
    say("fork: ", strerror(errno));
    return 1;
  }
  if (child == 0) exec_child(argv + first, old_mask);
  // Also from here: the race with the child's own setpgid is harmless
  // (whichever runs first, the group exists before any signal is sent).
  setpgid(child, child);

  int status = 0;
  bool child_done = false;
  for (;;) {
    // Reap everything that has exited: the child and any orphan.
    for (;;) {
      int st = 0;
      pid_t p = waitpid(-1, &st, WNOHANG);
      if (p <= 0) break;
      if (p == child) {
        status = st;
        child_done = true;
      }
    }
    if (child_done) break;
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;  // EINTR
    if (sig == SIGCHLD) continue;
    // The group may be gone already (the child exited but is not reaped
    // yet, or it left its group): fall back to the child itself.
    if (kill(-child, sig) != 0) kill(child, sig);
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
