// monitor/ctl.h: the built-in runtime library and external runtimes.
#include "monitor/ctl.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "base/file.h"
#include "base/scope_exit.h"
#include "base/strings.h"
#include "cgroups/manager.h"
#include "monitor/spawn_internal.h"
#include "oci/spec_codec.h"
#include "runtime/container.h"
#include "sys/syscalls.h"

extern char** environ;

namespace berth::monitor {
namespace {

// The built-in runtime hands the caller's fds 0-2 to the processes it
// creates: point them at the container's stdio for the call, then back at
// /dev/null (the daemonised monitor's own stdio).
class StdioSwap {
 public:
  explicit StdioSwap(const Stdio& io) {
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    int src[3] = {io.in, io.out, io.err};
    for (int i = 0; i < 3; ++i) ::dup2(src[i] >= 0 ? src[i] : null, i);
    if (null >= 0) ::close(null);
  }
  ~StdioSwap() {
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) return;
    for (int i = 0; i < 3; ++i) ::dup2(null, i);
    ::close(null);
  }
};

Result<oci::Process> decode_process(const Json& j) {
  Json wrapper = {{"ociVersion", oci::kSpecVersion}, {"process", j}};
  oci::Spec s = BERTH_TRY(oci::spec_from_json(wrapper, "exec"));
  if (!s.process) return make_error(Errc::InvalidArgument, "exec: process is required");
  return *s.process;
}

Result<oci::Resources> decode_resources(const Json& j) {
  Json wrapper = {{"ociVersion", oci::kSpecVersion}, {"linux", {{"resources", j}}}};
  oci::Spec s = BERTH_TRY(oci::spec_from_json(wrapper, "update"));
  if (s.linux && s.linux->resources) return *s.linux->resources;
  return oci::Resources{};
}

// The directories that can hold memory.events / memory.oom_control: v1's
// memory hierarchy, or the v2 one. (Probing every v1 hierarchy cost ~18
// failed opens on each container's exit path.)
std::vector<std::string> memory_dirs_of(const std::string& cgroups_path, const std::string& id) {
  std::vector<std::string> out;
  auto layout = cgroups::detect_layout();
  if (!layout) return out;
  auto m = cgroups::make_manager(*layout, cgroups_path, id);
  if (!m) return out;
  for (const auto& [controller, dir] : (*m)->paths())
    if (controller == "memory" || controller.empty()) out.push_back(dir);
  return out;
}

class Builtin final : public Ctl {
 public:
  explicit Builtin(const MonitorConfig& c) : rt_(c.state_root), id_(c.id), bundle_(c.bundle) {}

  void prepare() override {
    if (auto p = rt_.prepare(bundle_)) prepared_ = std::move(*p);
  }
  Result<pid_t> create(const Stdio& io, bool tty, Fd* master) override {
    runtime::CreateOptions o;
    o.bundle = bundle_;
    o.prepared = std::move(prepared_);
    runtime::ContainerRecord rec;
    o.record_out = &rec;
    Fd ours, theirs;
    if (tty) {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return sys_error("socketpair");
      ours.reset(sv[0]);
      theirs.reset(sv[1]);
      o.console_fd = theirs.get();
    }
    {
      StdioSwap swap(io);
      BERTH_TRY(rt_.create(id_, o));
    }
    // The heap that parsing the spec grew goes back on the trim the start
    // schedules, off the start's path (malloc_trim here cost ~0.12 ms).
    if (tty) {
      theirs.reset();
      auto m = sys::recv_fd(ours.get());
      if (!m) {
        [[maybe_unused]] auto r = rt_.remove(id_, true);
        return std::move(m).error().context("receive the container's terminal");
      }
      *master = std::move(*m);
    }
    cgroups_path_ = rec.cgroups_path;
    return static_cast<pid_t>(rec.pid);
  }
  Result<void> start() override { return rt_.start(id_); }
  Result<void> kill(int sig, bool all) override { return rt_.kill(id_, sig, all); }
  Result<void> pause() override { return rt_.pause(id_); }
  Result<void> resume() override { return rt_.resume(id_); }
  Result<void> update(const Json& res) override {
    oci::Resources r = BERTH_TRY(decode_resources(res));
    return rt_.update(id_, r);
  }
  Result<pid_t> exec(const Json& process, const Stdio& io, Fd* master) override {
    runtime::ExecOptions o;
    o.process = BERTH_TRY(decode_process(process));
    o.detach = true;
    pid_t pid = 0;
    o.pid_out = &pid;
    Fd ours, theirs;
    if (o.process.terminal) {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return sys_error("socketpair");
      ours.reset(sv[0]);
      theirs.reset(sv[1]);
      o.console_fd = theirs.get();
    }
    {
      StdioSwap swap(io);
      BERTH_TRY(rt_.exec(id_, o));
    }
    if (o.process.terminal) {
      theirs.reset();
      *master = BERTH_TRY_CTX(sys::recv_fd(ours.get()), "receive the exec's terminal");
    }
    return pid;
  }
  Result<void> remove() override { return rt_.remove(id_, true); }
  // On the exit path, before the "exit" event: from what create() learnt
  // (no state file or mountinfo read).
  std::vector<std::string> memory_cgroup_dirs() override {
    if (cgroups_path_.empty()) return {};  // never created: no cgroup
    auto dirs = runtime::Runtime::memory_cgroup_dirs(cgroups_path_, id_);
    return dirs ? std::move(*dirs) : std::vector<std::string>{};
  }

 private:
  runtime::Runtime rt_;
  std::string id_, bundle_;
  std::string cgroups_path_;                           // the container's, once created
  std::shared_ptr<runtime::PreparedBundle> prepared_;  // from prepare(), for create()
};

// Runs `argv` with the given stdio (stderr captured when io.err < 0) and
// returns its last stderr line as the error when it fails.
Result<void> run_tool(const std::vector<std::string>& argv, const Stdio& io) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe");
  Fd rd(p[0]), wr(p[1]);
  internal::SpawnSetup setup(io.in, io.out, io.err >= 0 ? io.err : wr.get());
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, cargv[0], &setup.fa, &setup.attr, cargv.data(), environ);
  if (rc != 0) return sys_error(fmt::format("run {}", argv[0]), rc);
  wr.reset();
  std::string err;
  char buf[1024];
  ssize_t n;
  // Read until EOF: the runtime's stderr may also be held by the processes it
  // starts only when io.err was given, and then this pipe is not theirs.
  while ((n = ::read(rd.get(), buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (err.size() < 8192) err.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return sys_error("wait for the runtime");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ok();
  std::string line;
  for (const auto& l : split(err, '\n', true)) {
    if (!trim(l).empty()) line = std::string(trim(l));
  }
  // runc's log lines: time="..." level=error msg="..."
  if (auto m = line.find("msg=\""); m != std::string::npos) {
    line = line.substr(m + 5);
    if (!line.empty() && line.back() == '"') line.pop_back();
  }
  if (line.empty()) line = fmt::format("{} {} failed", argv[0], argv.size() > 3 ? argv[3] : "");
  return make_error(Errc::FailedPrecondition, "{}", line);
}

// A listening socket for --console-socket; bound inside `dir` through
// /proc/self/fd so the directory's path length does not matter.
struct ConsoleSocket {
  Fd dirfd, sock;
  std::string name, arg;
  ~ConsoleSocket() {
    if (dirfd) ::unlinkat(dirfd.get(), name.c_str(), 0);
  }
  Result<void> open(const std::string& dir, const std::string& tag) {
    dirfd.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd) return sys_error(fmt::format("open {}", dir));
    name = fmt::format("console-{}-{}.sock", tag, ::getpid());
    ::unlinkat(dirfd.get(), name.c_str(), 0);
    sock.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) return sys_error("socket");
    struct sockaddr_un a;
    std::memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    std::string p = fmt::format("/proc/self/fd/{}/{}", dirfd.get(), name);
    std::memcpy(a.sun_path, p.data(), p.size());
    if (::bind(sock.get(), reinterpret_cast<struct sockaddr*>(&a), sizeof a) != 0)
      return sys_error("bind console socket");
    if (::listen(sock.get(), 1) != 0) return sys_error("listen console socket");
    arg = fmt::format("/proc/{}/fd/{}/{}", ::getpid(), dirfd.get(), name);
    return ok();
  }
  Result<Fd> receive() {
    struct pollfd pfd = {sock.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 5000) <= 0)
      return make_error(Errc::Internal, "the runtime sent no terminal on the console socket");
    Fd c(::accept4(sock.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!c) return sys_error("accept console socket");
    return sys::recv_fd(c.get());
  }
};

class External final : public Ctl {
 public:
  explicit External(const MonitorConfig& c) : c_(c) {
    auto slash = c.socket_path.rfind('/');
    dir_ = slash == std::string::npos ? "." : c.socket_path.substr(0, slash);
  }

  std::vector<std::string> cmd(std::initializer_list<std::string> rest) const {
    std::vector<std::string> v{c_.runtime};
    v.insert(v.end(), c_.runtime_args.begin(), c_.runtime_args.end());
    v.push_back("--root");
    v.push_back(c_.state_root);
    v.insert(v.end(), rest);
    return v;
  }

  Result<pid_t> create(const Stdio& io, bool tty, Fd* master) override {
    std::string pid_file = dir_ + "/init.pid";
    auto argv = cmd({"create", "--bundle", c_.bundle, "--pid-file", pid_file});
    ConsoleSocket cs;
    if (tty) {
      BERTH_TRY(cs.open(dir_, "init"));
      argv.push_back("--console-socket");
      argv.push_back(cs.arg);
    }
    argv.push_back(c_.id);
    // A runc-compatible runtime hands its own stdio to the container's
    // init, so without a TTY its stderr must be the container's (and its
    // error message, if any, lands there: the error returned is generic).
    // With a TTY the container's stdio is the pty and stderr is captured.
    Stdio rio = io;
    if (tty) rio.err = -1;
    BERTH_TRY(run_tool(argv, rio));
    if (tty) *master = BERTH_TRY(cs.receive());
    std::string text = BERTH_TRY_CTX(read_file(pid_file), "runtime pid file");
    ::unlink(pid_file.c_str());
    auto pid = parse_int(trim(text));
    if (!pid || *pid <= 0) return make_error(Errc::Internal, "runtime pid file: not a pid");
    return static_cast<pid_t>(*pid);
  }
  Result<void> start() override { return run_tool(cmd({"start", c_.id}), {}); }
  Result<void> kill(int sig, bool all) override {
    auto argv = cmd({"kill"});
    if (all) argv.push_back("--all");
    argv.push_back(c_.id);
    argv.push_back(std::to_string(sig));
    return run_tool(argv, {});
  }
  Result<void> pause() override { return run_tool(cmd({"pause", c_.id}), {}); }
  Result<void> resume() override { return run_tool(cmd({"resume", c_.id}), {}); }
  Result<void> update(const Json& res) override {
    BERTH_TRY(decode_resources(res));
    std::string f = dir_ + "/update.json";
    BERTH_TRY(write_file_atomic(f, dump_json(res), 0600, Durability::ProcessCrashSafe));
    ScopeExit rm([&] { ::unlink(f.c_str()); });
    return run_tool(cmd({"update", "--resources", f, c_.id}), {});
  }
  Result<pid_t> exec(const Json& process, const Stdio& io, Fd* master) override {
    oci::Process p = BERTH_TRY(decode_process(process));
    std::string tag = std::to_string(++seq_);
    std::string pf = dir_ + "/exec-" + tag + ".json", pid_file = dir_ + "/exec-" + tag + ".pid";
    BERTH_TRY(write_file_atomic(pf, dump_json(process), 0600, Durability::ProcessCrashSafe));
    ScopeExit rm([&] {
      ::unlink(pf.c_str());
      ::unlink(pid_file.c_str());
    });
    auto argv = cmd({"exec", "--detach", "--pid-file", pid_file, "--process", pf});
    ConsoleSocket cs;
    if (p.terminal) {
      BERTH_TRY(cs.open(dir_, "exec" + tag));
      argv.push_back("--console-socket");
      argv.push_back(cs.arg);
    }
    argv.push_back(c_.id);
    Stdio rio = io;
    BERTH_TRY(run_tool(argv, p.terminal ? Stdio{} : rio));
    if (p.terminal) *master = BERTH_TRY(cs.receive());
    std::string text = BERTH_TRY_CTX(read_file(pid_file), "runtime pid file");
    auto pid = parse_int(trim(text));
    if (!pid || *pid <= 0) return make_error(Errc::Internal, "runtime pid file: not a pid");
    return static_cast<pid_t>(*pid);
  }
  Result<void> remove() override { return run_tool(cmd({"delete", "--force", c_.id}), {}); }
  std::vector<std::string> memory_cgroup_dirs() override {
    auto text = read_file(c_.bundle + "/config.json");
    if (!text) return {};
    auto spec = oci::parse_spec(*text);
    if (!spec) return {};
    std::string path =
        spec->linux && !spec->linux->cgroups_path.empty() ? spec->linux->cgroups_path : "/" + c_.id;
    return memory_dirs_of(path, c_.id);
  }

 private:
  MonitorConfig c_;
  std::string dir_;
  int seq_ = 0;
};

}  // namespace

std::unique_ptr<Ctl> Ctl::make(const MonitorConfig& c) {
  if (c.runtime.empty()) return std::make_unique<Builtin>(c);
  return std::make_unique<External>(c);
}

int exec_failure_code(const std::string& m, int fallback) {
  if (m.find("executable file not found") != std::string::npos ||
      m.find("no such file or directory") != std::string::npos)
    return 127;
  if (m.find("permission denied") != std::string::npos ||
      m.find("is a directory") != std::string::npos)
    return 126;
  return fallback;
}

bool cgroup_oom_killed(const std::vector<std::string>& dirs) {
  for (const auto& d : dirs) {
    for (const char* f : {"/memory.events", "/memory.oom_control"}) {
      auto text = read_file(d + f);
      if (!text) continue;
      for (const auto& line : split(*text, '\n', true)) {
        auto parts = split(line, ' ', true);
        if (parts.size() == 2 && parts[0] == "oom_kill") {
          auto n = parse_int(parts[1]);
          if (n && *n > 0) return true;
        }
      }
    }
  }
  return false;
}

}  // namespace berth::monitor
