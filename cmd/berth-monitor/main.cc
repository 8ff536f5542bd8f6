// berth-monitor [--foreground] CONFIG_PATH — the per-container supervisor
// (see monitor/protocol.h for the lifetime). `--foreground --pooled=....`
// waits on stdin for the config path first (protocol.h, "Pooled"; started
// by monitor::MonitorPool). The original process forks once
// and returns as soon as the daemonised child has created the container:
// exit 0, or 1 with one line "berth-monitor: <message>" on stderr. With
// --foreground it does not fork: it writes one line on stderr, "ok" or
// "berth-monitor: <message>" (then exits 1), and goes on, its spawner's
// child, which reaps it (monitor::spawn).
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "base/file.h"
#include "base/json.h"
#include "monitor/memory.h"
#include "monitor/protocol.h"
#include "monitor/server.h"

namespace {

int fail(const std::string& msg) {
  std::string line = "berth-monitor: " + msg + "\n";
  [[maybe_unused]] ssize_t n = ::write(2, line.data(), line.size());
  return 1;
}

// glibc's per-thread cache and fast bins keep freed small chunks out of
// reach of malloc_trim: with them off, the heap garbage of runtime calls
// can be handed back (about 30 kB less per monitor). Tunables are read at
// startup only, so the spawner sets them (monitor::spawn does) or the
// monitor re-executes itself once.
constexpr const char* kTunables = "glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0";

void ensure_malloc_tunables(char** argv) {
  const char* cur = ::getenv("GLIBC_TUNABLES");
  if (cur && std::strstr(cur, "tcache_count=0")) return;
  std::string v = cur && *cur ? std::string(cur) + ":" + kTunables : std::string(kTunables);
  if (::setenv("GLIBC_TUNABLES", v.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // Not fatal: the monitor only uses more memory.
}

// A pooled monitor: reads its config path from stdin (one line) and writes
// it over the placeholder argument `slot`, which is exactly as long, so
// that /proc/PID/cmdline names the config as for a monitor spawned with it.
// False at EOF before a whole line: the pool is gone, nothing to do.
bool await_config_path(char* slot) {
  // Out of the spawner's session now: a Ctrl-C meant for a daemon run in a
  // terminal must not end a monitor that waits for it.
  ::setsid();
  // The pool starts idle monitors as SCHED_IDLE (monitor/pool.cc), for
  // their start-up only: waiting as one, the bound monitor would wake up
  // only when nothing else wants a CPU, and its container would inherit it.
  std::string sched_error;
  if (::sched_getscheduler(0) == SCHED_IDLE) {
    struct sched_param sp = {};
    if (::sched_setscheduler(0, SCHED_OTHER, &sp) != 0)
      sched_error = std::string("pooled: leave SCHED_IDLE: ") + std::strerror(errno);
  }
  // It may wait long: it holds no more than a bound monitor does when quiet
  // (without this, ~740 kB PSS instead of ~150: the pages of its start-up).
  berth::monitor::release_memory();
  // Only now may the pool hand it out: until here, under load, a SCHED_IDLE
  // start-up can take any time.
  { [[maybe_unused]] ssize_t n = ::write(2, "idle\n", 5); }
  std::string line;
  char buf[512];
  while (line.find('\n') == std::string::npos && line.size() < 8192) {
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    line.append(buf, static_cast<size_t>(n));
  }
  auto nl = line.find('\n');
  if (nl == std::string::npos) return false;
  line.resize(nl);
  if (!sched_error.empty()) {
    fail(sched_error);
    ::_exit(1);
  }
  size_t room = std::strlen(slot);
  if (line.size() != room) {
    fail("pooled: config path of " + std::to_string(line.size()) + " bytes, expected " +
         std::to_string(room));
    ::_exit(1);
  }
  std::memcpy(slot, line.data(), room);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace berth;
  bool foreground = argc == 3 && std::strcmp(argv[1], "--foreground") == 0;
  bool pooled = foreground && std::strncmp(argv[2], monitor::kPooledArgPrefix.data(),
                                           monitor::kPooledArgPrefix.size()) == 0;
  if ((argc != 2 && !foreground) || (argv[argc - 1][0] == '-' && !pooled))
    return fail("usage: berth-monitor [--foreground] CONFIG_PATH");
  ensure_malloc_tunables(argv);
  if (pooled && !await_config_path(argv[2])) ::_exit(0);
  const char* config_path = argv[argc - 1];
  auto text = read_file(config_path);
  if (!text) return fail(text.error().message);
  auto j = parse_json(*text, config_path);
  if (!j) return fail(j.error().message);
  auto cfg = monitor::decode_config(*j);
  if (!cfg) return fail(cfg.error().message);

  int ready[2];
  if (foreground) {
    // The report goes to the spawner's pipe on stderr, which is /dev/null
    // below like the other standard fds.
    ready[0] = -1;
    ready[1] = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (ready[1] < 0) return fail("dup stderr: " + std::string(std::strerror(errno)));
  } else if (::pipe2(ready, O_CLOEXEC) != 0) {
    return fail("pipe: " + std::string(std::strerror(errno)));
  }
  pid_t child = foreground ? 0 : ::fork();
  if (child < 0) return fail("fork: " + std::string(std::strerror(errno)));
  if (child > 0) {
    ::close(ready[1]);
    std::string msg;
    char buf[512];
    ssize_t n;
    // One line. Not "until EOF": processes the child forks while creating
    // the container hold the pipe until they exec.
    while (msg.find('\n') == std::string::npos && (n = ::read(ready[0], buf, sizeof buf)) != 0) {
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      msg.append(buf, static_cast<size_t>(n));
    }
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    if (msg == "ok") return 0;
    if (msg.empty()) msg = "the monitor died during setup";
    return fail(msg);
  }

  if (ready[0] >= 0) ::close(ready[0]);
  ::setsid();
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    for (int i = 0; i < 3; ++i) ::dup2(null, i);
    if (null > 2) ::close(null);
  }
  ::umask(022);
  if (::chdir("/") != 0) {
  }
  monitor::Monitor m(std::move(*cfg));
  auto report = [&](std::string s) {
    s += "\n";
    [[maybe_unused]] auto r = write_all(ready[1], s);
    ::close(ready[1]);
  };
  if (auto r = m.setup(); !r) {
    std::string msg = r.error().message;
    for (char& c : msg)
      if (c == '\n') c = ' ';
    report(foreground ? "berth-monitor: " + msg : msg);
    return 1;
  }
  if (auto r = write_file_atomic(m.config().pid_file, std::to_string(::getpid()), 0644,
                                 Durability::ProcessCrashSafe);
      !r) {
    m.abort();
    report(foreground ? "berth-monitor: " + r.error().message : r.error().message);
    return 1;
  }
  report("ok");
  m.run();
  // Straight out, without destructors: the engine takes the end of the
  // socket connections for the monitor's end, and the kernel closes them
  // only after the process has let go of its memory (do_exit: exit_mm, then
  // exit_files), so by then nothing of it shows as a running berth-monitor.
  ::_exit(0);
}
