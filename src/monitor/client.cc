// monitor/client.h: spawning a monitor and talking to it.
#include "monitor/client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

#include "base/file.h"
#include "base/strings.h"
#include "monitor/spawn_internal.h"

extern char** environ;

namespace berth::monitor {
namespace {

using internal::Clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Reaps monitors that run as this process's children (spawned with
// --foreground) when they exit, whenever that is: one thread waiting on their
// pidfds. It and its epoll live until the process ends (never destroyed, so
// no exit-time ordering). No other code waits for those pids.
class ChildReaper {
 public:
  static ChildReaper* get() {
    static ChildReaper* r = [] {
      auto* x = new ChildReaper();
      // pidfds came with Linux 5.3: without them, monitors fork as before.
      if (int probe = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)); probe >= 0)
        ::close(probe);
      else
        x->ep_.reset();
      if (!x->ep_) return x;
      try {
        std::thread([x] { x->loop(); }).detach();
      } catch (const std::system_error&) {
        x->ep_.reset();
      }
      return x;
    }();
    return r->ep_ ? r : nullptr;
  }
  // Takes over the waiting for `pid`; false (nothing taken) without pidfds.
  bool add(pid_t pid) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) return false;
    {
      std::lock_guard lk(mu_);
      pids_[fd] = pid;
    }
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      std::lock_guard lk(mu_);
      pids_.erase(fd);
      ::close(fd);
      return false;
    }
    return true;
  }

 private:
  ChildReaper() : ep_(::epoll_create1(EPOLL_CLOEXEC)) {}
  void loop() {
    struct epoll_event evs[16];
    while (true) {
      int n = ::epoll_wait(ep_.get(), evs, 16, -1);
      for (int i = 0; i < n; ++i) {
        int fd = evs[i].data.fd;
        pid_t pid = 0;
        {
          std::lock_guard lk(mu_);
          auto it = pids_.find(fd);
          if (it == pids_.end()) continue;
          pid = it->second;
          pids_.erase(it);
        }
        ::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
        int st = 0;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        ::close(fd);
      }
    }
  }
  Fd ep_;
  std::mutex mu_;
  std::map<int, pid_t> pids_;
};

// Connects a SOCK_SEQPACKET socket to `path`, through /proc/self/fd of an
// O_PATH fd on the directory when the path does not fit sun_path.
Result<Fd> connect_seqpacket(const std::string& path) {
  Fd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!sock) return sys_error("socket");
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  std::string target = path;
  Fd dir;
  if (path.size() >= sizeof addr.sun_path) {
    auto slash = path.rfind('/');
    std::string d = slash == std::string::npos ? "." : path.substr(0, slash);
    if (d.empty()) d = "/";
    dir.reset(::open(d.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir) {
      if (errno == ENOENT)
        return make_error(Errc::Unavailable, "monitor socket {}: no such directory", path);
      return sys_error(fmt::format("open {}", d));
    }
    target = fmt::format("/proc/self/fd/{}/{}", dir.get(), path.substr(slash + 1));
    if (target.size() >= sizeof addr.sun_path)
      return make_error(Errc::InvalidArgument, "monitor socket name too long: {}", path);
  }
  std::memcpy(addr.sun_path, target.data(), target.size());
  while (::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == EINTR) continue;
    if (errno == ENOENT || errno == ECONNREFUSED)
      return make_error(Errc::Unavailable, "monitor is not running ({}: {})", path,
                        std::strerror(errno));
    return sys_error(fmt::format("connect {}", path));
  }
  // A wedged monitor must not hang the engine forever.
  struct timeval tv = {30, 0};
  ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return sock;
}

Result<void> send_packet(int sock, const std::string& data, const std::vector<int>& fds) {
  if (fds.size() > kMaxPassedFds)
    return make_error(Errc::InvalidArgument, "{} fds for one monitor request (at most {})",
                      fds.size(), kMaxPassedFds);
  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  if (!fds.empty()) {
    std::memset(ctrl, 0, sizeof ctrl);
    msg.msg_control = ctrl;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  while (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET)
      return make_error(Errc::Unavailable, "monitor closed the connection");
    if (errno == EAGAIN) return make_error(Errc::DeadlineExceeded, "monitor does not answer");
    return sys_error("send to monitor");
  }
  return ok();
}

// One packet; Unavailable at EOF.
Result<Json> recv_packet(int sock) {
  std::string buf(kMaxPacket, '\0');
  ssize_t n;
  while ((n = ::recv(sock, buf.data(), buf.size(), 0)) < 0) {
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return make_error(Errc::DeadlineExceeded, "monitor does not answer");
    if (errno == ECONNRESET) return make_error(Errc::Unavailable, "monitor closed the connection");
    return sys_error("receive from monitor");
  }
  if (n == 0) return make_error(Errc::Unavailable, "monitor closed the connection");
  buf.resize(static_cast<size_t>(n));
  return parse_json(buf, "monitor reply");
}

Result<Json> check_reply(Json reply) {
  if (!reply.is_object() || !reply.contains("ok") || !reply.at("ok").is_boolean())
    return make_error(Errc::Internal, "monitor reply without \"ok\"");
  if (!reply.at("ok").get<bool>()) return decode_error(reply);
  return reply;
}

}  // namespace

namespace internal {

bool can_reap_later() { return ChildReaper::get() != nullptr; }

bool reap_later(pid_t pid) {
  ChildReaper* r = ChildReaper::get();
  return r && r->add(pid);
}

SpawnSetup::SpawnSetup(int in, int out, int err) {
  posix_spawn_file_actions_init(&fa);
  const int fds[3] = {in, out, err};
  for (int target = 0; target < 3; ++target) {
    if (fds[target] >= 0)
      posix_spawn_file_actions_adddup2(&fa, fds[target], target);
    else
      posix_spawn_file_actions_addopen(&fa, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY,
                                       0);
  }
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

SpawnSetup::~SpawnSetup() {
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
}

Result<pid_t> spawn_monitor_process(const std::string& binary, std::vector<std::string> args,
                                    int stdin_fd, int stderr_fd) {
  SpawnSetup setup(stdin_fd, -1, stderr_fd);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  std::string tunables = "GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0";
  for (char** e = environ; e && *e; ++e) {
    if (starts_with(*e, "GLIBC_TUNABLES=")) {
      tunables = std::string(*e) + ":glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0";
      continue;
    }
    env.emplace_back(*e);
  }
  env.push_back(tunables);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, binary.c_str(), &setup.fa, &setup.attr, argv.data(), envp.data());
  if (rc != 0) return sys_error(fmt::format("spawn {}", binary), rc);
  return pid;
}

std::string read_report(int fd, Clock::time_point deadline, bool stop_at_newline, bool* timed_out) {
  std::string out;
  *timed_out = false;
  while (true) {
    struct pollfd pfd = {fd, POLLIN, 0};
    int r = ::poll(&pfd, 1, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      *timed_out = true;
      break;
    }
    char buf[1024];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < 4096) out.append(buf, static_cast<size_t>(n));
    // A foreground monitor reports one line and goes on (the processes it
    // clones may hold the pipe until they exec).
    if (stop_at_newline && out.find('\n') != std::string::npos) break;
  }
  return out;
}

std::string report_message(const std::string& out) {
  std::string line(trim(out));
  if (auto nl = line.find('\n'); nl != std::string::npos) line = line.substr(0, nl);
  constexpr std::string_view prefix = "berth-monitor: ";
  if (starts_with(line, prefix)) line = line.substr(prefix.size());
  return line;
}

Result<void> write_config(const std::string& config_path, const MonitorConfig& config) {
  BERTH_TRY_CTX(write_file_atomic(config_path, dump_json(encode_config(config), 2), 0600,
                                  Durability::ProcessCrashSafe),
                "write monitor config");
  return {};
}

Result<pid_t> spawn_written(const std::string& monitor_binary, const std::string& config_path,
                            const MonitorConfig& config, std::chrono::milliseconds timeout) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe");
  Fd rd(p[0]), wr(p[1]);
  // In the foreground (where this process can reap it) the monitor runs as
  // our child, with no fork of its own to wait for: ~2.5 ms less per spawn
  // on the 2-vCPU test VM (a fork, and an exit to reap).
  bool reaper = internal::can_reap_later();
  std::vector<std::string> args = {monitor_binary};
  if (reaper) args.push_back("--foreground");
  args.push_back(config_path);
  pid_t pid =
      BERTH_TRY(internal::spawn_monitor_process(monitor_binary, std::move(args), -1, wr.get()));
  wr.reset();

  bool timed_out = false;
  std::string out = internal::read_report(rd.get(), Clock::now() + timeout, reaper, &timed_out);
  int status = 0;
  if (reaper && !timed_out && trim(out) == "ok") {
    if (!internal::reap_later(pid)) {
      // Only when out of fds: the process must not stay a zombie of ours for
      // its whole life.
      int err = errno;
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return sys_error(fmt::format("watching berth-monitor {}", pid), err);
    }
    return pid;
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    // The daemonised half may be stuck in setup: do not leave it behind.
    // (A foreground monitor is `pid` itself.)
    if (auto text = read_file(config.pid_file)) {
      if (auto mp = parse_int(trim(*text));
          mp && *mp > 0 && monitor_alive(static_cast<pid_t>(*mp), config_path))
        ::kill(static_cast<pid_t>(*mp), SIGKILL);
    }
    return make_error(Errc::DeadlineExceeded, "berth-monitor did not report within {} ms",
                      timeout.count());
  }
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return sys_error("wait for berth-monitor");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string line = internal::report_message(out);
    if (line.empty())
      line = WIFSIGNALED(status)
                 ? fmt::format("berth-monitor killed by signal {}", WTERMSIG(status))
                 : fmt::format("berth-monitor exited with status {}", WEXITSTATUS(status));
    return make_error(Errc::Internal, "{}", line);
  }
  std::string text = BERTH_TRY_CTX(read_file(config.pid_file), "monitor pid file");
  auto mp = parse_int(trim(text));
  if (!mp || *mp <= 0)
    return make_error(Errc::Internal, "monitor pid file {}: not a pid", config.pid_file);
  return static_cast<pid_t>(*mp);
}

}  // namespace internal

Result<pid_t> spawn(const std::string& monitor_binary, const std::string& config_path,
                    const MonitorConfig& config, std::chrono::milliseconds timeout) {
  BERTH_TRY(internal::write_config(config_path, config));
  return internal::spawn_written(monitor_binary, config_path, config, timeout);
}

Result<std::unique_ptr<MonitorClient>> MonitorClient::connect(const std::string& socket_path) {
  Fd sock = BERTH_TRY(connect_seqpacket(socket_path));
  return std::unique_ptr<MonitorClient>(new MonitorClient(std::move(sock)));
}

Result<Json> MonitorClient::call(const Json& request, int pass_fd) {
  return call_fds(request, pass_fd >= 0 ? std::vector<int>{pass_fd} : std::vector<int>{});
}

Result<Json> MonitorClient::call_fds(const Json& request, const std::vector<int>& fds) {
  BERTH_TRY(send_packet(sock_.get(), dump_json(request), fds));
  Json reply = BERTH_TRY(recv_packet(sock_.get()));
  return check_reply(std::move(reply));
}

Result<StateReply> MonitorClient::state() {
  Json r = BERTH_TRY(call({{"op", "state"}}));
  return decode_state(r);
}

Result<MonitorClient::Started> MonitorClient::start() {
  Json r = BERTH_TRY(call({{"op", "start"}}));
  Started s;
  if (r.contains("pid") && r["pid"].is_number_integer()) s.pid = r["pid"].get<pid_t>();
  if (r.contains("started_ns") && r["started_ns"].is_number_integer())
    s.started_ns = r["started_ns"].get<int64_t>();
  return s;
}

Result<void> MonitorClient::proxy(const std::vector<ProxyTarget>& ports,
                                  const std::vector<int>& listeners) {
  if (ports.size() != listeners.size())
    return make_error(Errc::InvalidArgument, "proxy: {} ports but {} sockets", ports.size(),
                      listeners.size());
  for (size_t at = 0; at < ports.size(); at += kMaxPassedFds) {
    size_t end = std::min(ports.size(), at + kMaxPassedFds);
    std::vector<ProxyTarget> batch(ports.begin() + at, ports.begin() + end);
    std::vector<int> fds(listeners.begin() + at, listeners.begin() + end);
    BERTH_TRY(call_fds(encode_proxy_request(batch), fds));
  }
  return ok();
}

Result<void> MonitorClient::create() {
  BERTH_TRY(call({{"op", "create"}}));
  return ok();
}

Result<void> MonitorClient::attach(Fd conn, bool stdin, bool stdout, bool stderr,
                                   const std::string& detach_keys) {
  Json req = {{"op", "attach"},
              {"stdin", stdin},
              {"stdout", stdout},
              {"stderr", stderr},
              {"detach_keys", detach_keys}};
  BERTH_TRY(call(req, conn.get()));
  return ok();
}

Result<void> MonitorClient::resize(const std::string& exec_id, int height, int width) {
  BERTH_TRY(call({{"op", "resize"}, {"exec_id", exec_id}, {"height", height}, {"width", width}}));
  return ok();
}

Result<void> MonitorClient::kill(int signal, bool all) {
  BERTH_TRY(call({{"op", "kill"}, {"signal", signal}, {"all", all}}));
  return ok();
}

Result<void> MonitorClient::pause() {
  BERTH_TRY(call({{"op", "pause"}}));
  return ok();
}

Result<void> MonitorClient::resume() {
  BERTH_TRY(call({{"op", "resume"}}));
  return ok();
}

Result<void> MonitorClient::update(const Json& oci_resources) {
  BERTH_TRY(call({{"op", "update"}, {"resources", oci_resources}}));
  return ok();
}

Result<void> MonitorClient::shutdown() {
  BERTH_TRY(call({{"op", "shutdown"}}));
  return ok();
}

Result<pid_t> MonitorClient::exec(const std::string& exec_id, const Json& oci_process, bool stdin,
                                  bool detach, const std::string& detach_keys, Fd conn) {
  Json req = {{"op", "exec"},   {"exec_id", exec_id}, {"process", oci_process},
              {"stdin", stdin}, {"detach", detach},   {"detach_keys", detach_keys}};
  Json r = BERTH_TRY(call(req, conn.valid() ? conn.get() : -1));
  if (r.contains("pid") && r["pid"].is_number_integer()) return r["pid"].get<pid_t>();
  return 0;
}

Result<ExecState> MonitorClient::exec_state(const std::string& exec_id) {
  Json r = BERTH_TRY(call({{"op", "exec_state"}, {"exec_id", exec_id}}));
  return decode_exec_state(r);
}

Result<std::unique_ptr<Subscription>> Subscription::open(const std::string& socket_path) {
  Fd sock = BERTH_TRY(connect_seqpacket(socket_path));
  BERTH_TRY(send_packet(sock.get(), dump_json({{"op", "subscribe"}}), {}));
  BERTH_TRY(check_reply(BERTH_TRY(recv_packet(sock.get()))));
  // Events are waited for with poll in next(); no receive timeout needed.
  struct timeval tv = {0, 0};
  ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return std::unique_ptr<Subscription>(new Subscription(std::move(sock)));
}

Result<std::optional<Event>> Subscription::next(std::chrono::milliseconds timeout) {
  struct pollfd pfd = {sock_.get(), POLLIN, 0};
  int r;
  while ((r = ::poll(&pfd, 1, static_cast<int>(timeout.count()))) < 0) {
    if (errno != EINTR) return sys_error("poll monitor events");
  }
  if (r == 0) return std::optional<Event>();
  Json j = BERTH_TRY(recv_packet(sock_.get()));
  return std::optional<Event>(BERTH_TRY(decode_event(j)));
}

Result<ExitRecord> read_exit_file(const std::string& path) {
  std::string text = BERTH_TRY(read_file(path));
  Json j = BERTH_TRY(parse_json(text, path));
  return decode_exit(j);
}

Result<HealthRecord> read_health_file(const std::string& path) {
  std::string text = BERTH_TRY(read_file(path));
  Json j = BERTH_TRY(parse_json(text, path));
  return decode_health(j);
}

bool cmdline_is_monitor_of(std::string_view cmdline, const std::string& config_path) {
  auto args = split(cmdline, '\0');
  if (args.size() < 2) return false;
  std::string_view exe = args[0];
  if (auto s = exe.rfind('/'); s != std::string_view::npos) exe = exe.substr(s + 1);
  if (exe != "berth-monitor") return false;
  size_t at = args[1] == "--foreground" ? 2 : 1;
  return args.size() > at && args[at] == config_path;
}

bool monitor_alive(pid_t pid, const std::string& config_path) {
  if (pid <= 0) return false;
  auto cmd = read_file(fmt::format("/proc/{}/cmdline", pid));
  if (!cmd || !cmdline_is_monitor_of(*cmd, config_path)) return false;
  // A zombie is not alive.
  auto stat = read_file(fmt::format("/proc/{}/stat", pid));
  if (!stat) return false;
  auto close = stat->rfind(')');
  return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z';
}

}  // namespace berth::monitor
