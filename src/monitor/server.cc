// berth-monitor: setup, the event loop and control requests (children.cc:
// the container's init and execs ending).
#include "monitor/server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/file.h"
#include "base/strings.h"
#include "monitor/memory.h"

namespace berth::monitor {

namespace {
int g_sig_w = -1;
void on_sigchld_signal(int) {
  int saved = errno;
  char b = 1;
  [[maybe_unused]] ssize_t n = ::write(g_sig_w, &b, 1);
  errno = saved;
}

Json ok_reply() { return Json{{"ok", true}}; }
Json err_reply(const Error& e) { return encode_error(e); }
template <typename... A>
Json err_reply(Errc c, fmt::format_string<A...> f, A&&... a) {
  return encode_error(make_error(c, f, std::forward<A>(a)...));
}

bool get_bool(const Json& j, const char* k, bool def) {
  return j.contains(k) && j.at(k).is_boolean() ? j.at(k).get<bool>() : def;
}
std::string get_str(const Json& j, const char* k, const std::string& def = "") {
  return j.contains(k) && j.at(k).is_string() ? j.at(k).get<std::string>() : def;
}
}  // namespace

int64_t mono_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int64_t unix_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Monitor::Monitor(MonitorConfig c) : c_(std::move(c)) {}

Monitor::~Monitor() {
  if (listen_dir_ >= 0) ::close(listen_dir_);
}

// ---- setup / teardown ------------------------------------------------------

Result<void> Monitor::listen_socket() {
  const std::string& path = c_.socket_path;
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  listen_dir_ = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (listen_dir_ < 0) return sys_error(fmt::format("open socket directory {}", dir));
  ::unlinkat(listen_dir_, name.c_str(), 0);
  listen_.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listen_) return sys_error("socket");
  struct sockaddr_un a;
  std::memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  std::string p = fmt::format("/proc/self/fd/{}/{}", listen_dir_, name);
  if (p.size() >= sizeof a.sun_path)
    return make_error(Errc::InvalidArgument, "socket_path: name too long: {}", name);
  std::memcpy(a.sun_path, p.data(), p.size());
  if (::bind(listen_.get(), reinterpret_cast<struct sockaddr*>(&a), sizeof a) != 0)
    return sys_error(fmt::format("bind {}", path));
  ::fchmodat(listen_dir_, name.c_str(), 0600, 0);
  if (::listen(listen_.get(), 64) != 0) return sys_error(fmt::format("listen {}", path));
  return ok();
}

Result<void> Monitor::setup() {
  auto r = setup_impl();
  if (!r) abort();
  return r;
}

void Monitor::abort() {
  teardown_container();
  if (listen_dir_ >= 0) {
    auto slash = c_.socket_path.rfind('/');
    ::unlinkat(listen_dir_, c_.socket_path.substr(slash + 1).c_str(), 0);
  }
}

Result<void> Monitor::setup_impl() {
  ctl_ = Ctl::make(c_);
  int sp[2];
  if (::pipe2(sp, O_CLOEXEC | O_NONBLOCK) != 0) return sys_error("pipe");
  sig_r_.reset(sp[0]);
  g_sig_w = sp[1];
  struct sigaction sa = {};
  sa.sa_handler = on_sigchld_signal;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGCHLD, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return sys_error("epoll_create1");

  if (c_.log_driver == "json-file" || c_.log_driver == "local") {
    logs::RotateOptions ro =
        BERTH_TRY_CTX(logs::parse_log_opts(c_.log_opts, c_.log_driver), "log_opts");
    if (!c_.log_attrs.empty()) ro.attrs = dump_json(Json(c_.log_attrs));
    log_ = BERTH_TRY_CTX(logs::Writer::open(c_.log_path, ro), "open the container log");
  }
  BERTH_TRY(listen_socket());
  BERTH_TRY(mount_rootfs());
  watch(listen_.get(), EPOLLIN, Reg{Kind::Listen, ""});
  watch(sig_r_.get(), EPOLLIN, Reg{Kind::Sigchld, ""});
  if (c_.standby) {
    standby_ = true;
    return ok();
  }
  return create_container();
}

// The runtime create; the bundle is read now (a start may have rewritten it
// after a standby monitor came up).
Result<void> Monitor::create_container() {
  if (!c_.health.test.empty()) {
    // The probe runs with the container's process settings (env, user, cwd).
    auto text = BERTH_TRY_CTX(read_file(c_.bundle + "/config.json"), "bundle");
    Json spec = BERTH_TRY(parse_json(text, "config.json"));
    if (!spec.contains("process") || !spec["process"].is_object())
      return make_error(Errc::InvalidArgument, "config.json: process is required");
    Json p = spec["process"];
    p["args"] = c_.health.test;
    p["terminal"] = false;
    p.erase("consoleSize");
    oci_process_ = dump_json(p);
  }

  Proc& init = procs_[""];
  init.key = "";
  init.tty = c_.tty;
  Stdio theirs;
  Fd tin, tout, terr;
  BERTH_TRY(make_stdio(init, c_.open_stdin, c_.tty, &theirs, &tin, &tout, &terr));
  Fd master;
  auto pid = ctl_->create(theirs, c_.tty, &master);
  if (!pid) {
    // The entrypoint cannot be run: docker reports 127/126 as the exit code.
    const std::string& m = pid.error().message;
    if (int code = exec_failure_code(m, 0); code != 0) {
      ExitRecord e;
      e.exit_code = code;
      e.error = m;
      e.finished_ns = unix_ns();
      [[maybe_unused]] auto w = write_file_atomic(c_.exit_file, dump_json(encode_exit(e)), 0644);
    }
    return std::move(pid).error();
  }
  created_ = true;
  init.pid = *pid;
  if (c_.tty) init.master = std::move(master);
  tin.reset();
  tout.reset();
  terr.reset();
  watch_proc(init);
  return ok();
}

Json Monitor::op_create() {
  if (!standby_)
    return err_reply(Errc::FailedPrecondition, "container {} is already created", c_.id);
  standby_ = false;
  if (auto r = create_container(); !r) {
    // Nothing may be left (as after a failed setup); the reply goes out,
    // then the monitor exits.
    teardown_container();
    quit_ = true;
    return err_reply(r.error());
  }
  return ok_reply();
}

// Undoes setup after a failure or for "shutdown": nothing may be left.
void Monitor::teardown_container() {
  // No exit record for a container torn down before it ran.
  bool never_started = phase_ == Phase::Created;
  if (never_started) phase_ = Phase::Exited;
  if (created_) {
    Proc* init = find_proc("");
    if (init && init->pid > 0 && never_started) ::kill(init->pid, SIGKILL);
    if (auto r = ctl_->remove(); !r) {
      // Best effort: the init may already be gone with its state.
    }
    created_ = false;
  }
  on_sigchld();
  unmount_rootfs();
}

// ---- epoll -------------------------------------------------------------------

uint64_t Monitor::watch(int fd, uint32_t events, Reg r) {
  uint64_t tok = next_tok_++;
  struct epoll_event ev = {};
  ev.events = events;
  ev.data.u64 = tok;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  regs_.emplace(tok, std::move(r));
  return tok;
}

void Monitor::rewatch(uint64_t tok, int fd, uint32_t events) {
  struct epoll_event ev = {};
  ev.events = events;
  ev.data.u64 = tok;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void Monitor::unwatch(uint64_t tok, int fd) {
  if (fd >= 0) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  regs_.erase(tok);
}

void Monitor::dispatch(uint64_t tok, uint32_t events) {
  auto it = regs_.find(tok);
  if (it == regs_.end()) return;
  Kind k = it->second.kind;
  switch (k) {
    case Kind::Listen:
      on_accept();
      break;
    case Kind::Sigchld:
      on_sigchld();
      break;
    case Kind::Conn:
      on_conn(tok, events);
      break;
    case Kind::Client:
      on_client(tok, events);
      break;
    case Kind::ProcOut:
    case Kind::ProcErr:
    case Kind::ProcPty: {
      std::string key = it->second.proc;
      on_proc_out(key, k, events);
      break;
    }
    case Kind::ProcIn: {
      std::string key = it->second.proc;
      on_proc_in(key);
      break;
    }
    case Kind::Proxy:
      if (proxy_) proxy_->pump();
      break;
  }
}

int Monitor::next_timeout_ms() {
  int64_t now = mono_ms();
  int64_t next = -1;
  auto consider = [&](int64_t t) {
    if (t <= 0) return;
    if (next < 0 || t < next) next = t;
  };
  if (phase_ == Phase::Draining) consider(drain_deadline_ms_);
  if (phase_ == Phase::Exited) consider(quit_deadline_ms_);
  if (phase_ == Phase::Running) consider(next_probe_ms_);
  consider(trim_at_ms_);
  for (auto& [k, p] : procs_) {
    if (p.running && p.probe) consider(p.deadline_ms);
    if (!p.running && p.exited_ms > 0 && !k.empty()) consider(p.exited_ms + 1000);
  }
  if (next < 0) return -1;
  return next <= now ? 0 : static_cast<int>(std::min<int64_t>(next - now, 60000));
}

// A standby reads and checks its bundle while it waits for "create", so the
// start does not. Only once berthd has subscribed and nothing else is
// pending: before that, berthd waits for this monitor (its standby spawn
// ends with the subscription), and a start arriving meanwhile would be
// answered later, not sooner.
bool Monitor::prepare_due() const {
  if (!standby_ || bundle_prepared_) return false;
  for (const auto& [t, c] : conns_)
    if (c.subscriber) return true;
  return false;
}

// Trimming reads /proc/self/smaps and returns pages: ~0.25 ms of CPU that,
// done at once, competes with what a start or exec has just set going (the
// container's first instructions, berthd answering its client) on hosts
// with few CPUs. A container that exits within the delay is never trimmed
// at all: its monitor ends soon after.
void Monitor::schedule_trim() {
  constexpr int64_t kTrimDelayMs = 50;
  if (trim_at_ms_ == 0) trim_at_ms_ = mono_ms() + kTrimDelayMs;
}

void Monitor::on_timers() {
  int64_t now = mono_ms();
  if (phase_ == Phase::Draining && now >= drain_deadline_ms_) finish_exit();
  if (phase_ == Phase::Running && next_probe_ms_ > 0 && now >= next_probe_ms_) health_probe();
  for (auto& [k, p] : procs_) {
    if (p.running && p.probe && p.deadline_ms > 0 && now >= p.deadline_ms && !p.timed_out) {
      p.timed_out = true;
      ::kill(p.pid, SIGKILL);
    }
    // An exec whose output is still held open by its own children: stop
    // waiting a second after it exited.
    if (!k.empty() && !p.running && p.exited_ms > 0 && now >= p.exited_ms + 1000) {
      close_proc_io(p);
      close_clients_of(k);
      p.exited_ms = 0;
    }
  }
}

void Monitor::run() {
  struct epoll_event evs[16];
  // Setup's pages go back once things are quiet, not now: berthd's
  // subscription and its start (or create) are answered first.
  schedule_trim();
  while (!quit_) {
    if (trim_at_ms_ > 0 && mono_ms() >= trim_at_ms_) {
      trim_at_ms_ = 0;
      release_memory();
    }
    if (phase_ == Phase::Exited) {
      bool pending = false;
      for (auto& [t, c] : clients_)
        if (!c.pending.empty()) pending = true;
      if (!pending || mono_ms() >= quit_deadline_ms_) break;
    }
    bool prepare = prepare_due();
    int n = ::epoll_wait(epoll_.get(), evs, 16, prepare ? 0 : next_timeout_ms());
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) dispatch(evs[i].data.u64, evs[i].events);
    if (n == 0 && prepare) {
      bundle_prepared_ = true;
      ctl_->prepare();
    }
    on_timers();
  }
  // Clients and subscribers see EOF when the process exits (main: _exit).
  if (log_) {
    [[maybe_unused]] auto r = log_->flush();
    log_->settle();
  }
  if (listen_dir_ >= 0) {
    auto slash = c_.socket_path.rfind('/');
    ::unlinkat(listen_dir_, c_.socket_path.substr(slash + 1).c_str(), 0);
  }
  ::unlink(c_.pid_file.c_str());
}

// ---- control connections ---------------------------------------------------------

void Monitor::on_accept() {
  while (true) {
    int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    uint64_t tok = watch(fd, EPOLLIN, Reg{Kind::Conn, ""});
    conns_[tok].fd.reset(fd);
  }
}

void Monitor::send_packet(int fd, const Json& j) {
  std::string s = dump_json(j);
  // Replies and events are small; a full socket buffer means a client that
  // does not read: the packet is dropped rather than blocking the loop.
  [[maybe_unused]] ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void Monitor::send_event(const Event& e) {
  Json j = encode_event(e);
  for (auto& [t, c] : conns_)
    if (c.subscriber) send_packet(c.fd.get(), j);
}

void Monitor::on_conn(uint64_t tok, uint32_t events) {
  auto it = conns_.find(tok);
  if (it == conns_.end()) return;
  int fd = it->second.fd.get();
  static char buf[kMaxPacket];
  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  struct iovec iov = {buf, sizeof buf};
  alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  std::vector<Fd> passed;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int f;
      std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
      passed.emplace_back(f);
    }
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  (void)events;
  if (n <= 0) {
    unwatch(tok, fd);
    conns_.erase(it);
    return;
  }
  if (it->second.subscriber) return;  // subscribers send nothing more
  Json reply;
  auto req = parse_json(std::string_view(buf, static_cast<size_t>(n)), "request");
  if (!req) {
    reply = err_reply(req.error());
  } else if (!req->is_object() || !req->contains("op") || !(*req)["op"].is_string()) {
    reply = err_reply(Errc::InvalidArgument, "request: \"op\" is required");
  } else {
    reply = handle(tok, *req, std::move(passed));
  }
  auto again = conns_.find(tok);
  if (again == conns_.end()) return;
  send_packet(again->second.fd.get(), reply);
  if (again->second.subscriber && phase_ == Phase::Exited) {
    Event e;
    e.event = "exit";
    e.exit = exit_;
    send_packet(again->second.fd.get(), encode_event(e));
  }
}

Json Monitor::handle(uint64_t tok, const Json& req, std::vector<Fd> passed) {
  // attach and exec take one connection, proxy its listeners, other ops
  // none. Whatever a request does not take is closed.
  auto first = [&passed] { return passed.empty() ? Fd() : std::move(passed.front()); };
  std::string op = req["op"].get<std::string>();
  bool gone = phase_ == Phase::Exited || phase_ == Phase::Draining;
  if (op == "state") return op_state();
  if (op == "subscribe") {
    conns_[tok].subscriber = true;
    return ok_reply();
  }
  if (op == "shutdown") return op_shutdown();
  if (op == "create") return op_create();
  if (standby_)
    return err_reply(Errc::FailedPrecondition, "container {} is not created yet", c_.id);
  if (op == "start") return op_start();
  if (op == "proxy") return op_proxy(req, std::move(passed));
  if (op == "attach") return op_attach(req, first());
  if (op == "exec") return op_exec(req, first());
  if (op == "exec_state") return op_exec_state(req);
  if (op == "resize") return op_resize(req);
  if (op == "kill" || op == "pause" || op == "resume" || op == "update") {
    if (gone) return err_reply(Errc::FailedPrecondition, "container {} is not running", c_.id);
    Result<void> r;
    if (op == "kill") {
      int sig = req.contains("signal") && req["signal"].is_number_integer()
                    ? req["signal"].get<int>()
                    : SIGKILL;
      if (sig <= 0 || sig >= 65) return err_reply(Errc::InvalidArgument, "invalid signal {}", sig);
      r = ctl_->kill(sig, get_bool(req, "all", false));
    } else if (op == "pause") {
      if (phase_ != Phase::Running)
        return err_reply(Errc::FailedPrecondition, "container {} is not running", c_.id);
      r = ctl_->pause();
      if (r) paused_ = true;
    } else if (op == "resume") {
      if (!paused_) return err_reply(Errc::FailedPrecondition, "container {} is not paused", c_.id);
      r = ctl_->resume();
      if (r) paused_ = false;
    } else {
      if (!req.contains("resources") || !req["resources"].is_object())
        return err_reply(Errc::InvalidArgument, "update: resources: expected an object");
      r = ctl_->update(req["resources"]);
    }
    if (!r) return err_reply(r.error());
    return ok_reply();
  }
  return err_reply(Errc::InvalidArgument, "unknown op {:?}", op);
}

Json Monitor::op_state() {
  StateReply s;
  const Proc* init = find_proc("");
  switch (phase_) {
    case Phase::Created:
      s.status = "created";
      break;
    case Phase::Running:
      s.status = paused_ ? "paused" : "running";
      s.pid = init ? init->pid : 0;
      break;
    case Phase::Draining:
    case Phase::Exited:
      s.status = "exited";
      s.exit = exit_;
      break;
  }
  s.started_ns = started_ns_;
  if (!c_.health.test.empty() && started_ns_ > 0) s.health = health_;
  return encode_state(s);
}

Json Monitor::op_start() {
  if (phase_ != Phase::Created)
    return err_reply(Errc::FailedPrecondition, "container {} is not in the created state", c_.id);
  Proc* init = find_proc("");
  init->running = true;
  started_ns_ = unix_ns();
  exit_.started_ns = started_ns_;
  phase_ = Phase::Running;
  schedule_trim();
  auto r = ctl_->start();
  if (!r) {
    exit_.error = r.error().message;
    forced_exit_code_ = exec_failure_code(exit_.error, 128);
    ::kill(init->pid, SIGKILL);
    on_sigchld();
    return err_reply(r.error());
  }
  pid_t pid = init->pid;
  Event e;
  e.event = "start";
  send_event(e);
  if (!c_.health.test.empty()) {
    health_ = HealthRecord{};
    write_health();
    health_schedule(true);
  }
  // A container that exited at once is reported after its start.
  on_sigchld();
  return Json{{"ok", true}, {"pid", pid}, {"started_ns", started_ns_}};
}

Json Monitor::op_attach(const Json& req, Fd conn) {
  if (!conn) return err_reply(Errc::InvalidArgument, "attach: a connection fd is required");
  if (phase_ == Phase::Exited || phase_ == Phase::Draining)
    return err_reply(Errc::FailedPrecondition, "container {} is not running", c_.id);
  auto seq = parse_detach_keys(get_str(req, "detach_keys", std::string(kDefaultDetachKeys)));
  if (!seq) return err_reply(seq.error());
  bool in = get_bool(req, "stdin", false) && c_.open_stdin;
  add_client(std::move(conn), "", in, get_bool(req, "stdout", true), get_bool(req, "stderr", true),
             c_.tty, std::move(*seq));
  return ok_reply();
}

Json Monitor::op_resize(const Json& req) {
  std::string id = get_str(req, "exec_id");
  Proc* p = find_proc(id);
  if (!p || (id.empty() && phase_ != Phase::Running && phase_ != Phase::Created))
    return err_reply(Errc::NotFound, "no such process {:?}", id);
  if (!p->tty || !p->master)
    return err_reply(Errc::FailedPrecondition, "the process has no terminal");
  struct winsize ws = {};
  if (!req.contains("height") || !req["height"].is_number_integer() || !req.contains("width") ||
      !req["width"].is_number_integer())
    return err_reply(Errc::InvalidArgument, "resize: height and width are required");
  int h = req["height"].get<int>(), w = req["width"].get<int>();
  if (h < 0 || w < 0 || h > 65535 || w > 65535)
    return err_reply(Errc::InvalidArgument, "resize: {}x{} out of range", h, w);
  ws.ws_row = static_cast<unsigned short>(h);
  ws.ws_col = static_cast<unsigned short>(w);
  if (::ioctl(p->master.get(), TIOCSWINSZ, &ws) != 0) return err_reply(sys_error("TIOCSWINSZ"));
  return ok_reply();
}

Json Monitor::op_exec(const Json& req, Fd conn) {
  std::string id = get_str(req, "exec_id");
  if (id.empty()) return err_reply(Errc::InvalidArgument, "exec: exec_id is required");
  if (procs_.count(id)) return err_reply(Errc::AlreadyExists, "exec {} already exists", id);
  if (phase_ != Phase::Running)
    return err_reply(Errc::FailedPrecondition, "container {} is not running", c_.id);
  if (paused_)
    return err_reply(Errc::FailedPrecondition,
                     "container {} is paused, unpause the container before exec", c_.id);
  if (!req.contains("process") || !req["process"].is_object())
    return err_reply(Errc::InvalidArgument, "exec: process: expected an object");
  bool detach = get_bool(req, "detach", false);
  bool tty = get_bool(req["process"], "terminal", false);
  bool want_in = get_bool(req, "stdin", false) && conn && !detach;
  auto seq = parse_detach_keys(get_str(req, "detach_keys", std::string(kDefaultDetachKeys)));
  if (!seq) return err_reply(seq.error());
  Proc& p = procs_[id];
  p.key = id;
  p.tty = tty;
  Stdio theirs;
  Fd tin, tout, terr;
  if (auto r = make_stdio(p, want_in, tty, &theirs, &tin, &tout, &terr); !r) {
    procs_.erase(id);
    return err_reply(r.error());
  }
  if (detach || !conn) {
    // Nobody reads a detached exec's output: it goes nowhere, as docker's.
    tout.reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    terr.reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    theirs.out = tout.get();
    theirs.err = terr.get();
    p.out.reset();
    p.err.reset();
  }
  Fd master;
  schedule_trim();
  // Reaping waits until the pid is recorded: a process that exited at once
  // must not be taken for an orphan.
  auto pid = ctl_->exec(req["process"], theirs, &master);
  tin.reset();
  tout.reset();
  terr.reset();
  if (!pid) {
    const std::string& m = pid.error().message;
    bool exec_failed = m.find("exec failed") != std::string::npos || !c_.runtime.empty() ||
                       exec_failure_code(m, 0) != 0;
    if (!exec_failed) {
      procs_.erase(id);
      return err_reply(pid.error());
    }
    // The process could not be started: docker's 126/127, reported to the
    // client on its stream and as the exec's exit code.
    p.exit_code = exec_failure_code(m, 126);
    p.running = false;
    close_proc_io(p);
    if (conn && !detach) {
      uint64_t t = add_client(std::move(conn), id, false, true, true, tty, "");
      auto& c = clients_[t];
      std::string text = fmt::format("OCI runtime exec failed: {}\r\n", m);
      client_send(t, c, tty ? text : logs::frame(2, text));
      c.closing = true;
      client_update(t, c);
    }
    Event e;
    e.event = "exec_exit";
    e.exec_id = id;
    e.exit_code = *p.exit_code;
    send_event(e);
    return Json{{"ok", true}, {"pid", 0}};
  }
  p.pid = *pid;
  p.running = true;
  if (tty) p.master = std::move(master);
  watch_proc(p);
  if (conn && !detach) add_client(std::move(conn), id, want_in, true, true, tty, std::move(*seq));
  pid_t started = p.pid;
  on_sigchld();
  return Json{{"ok", true}, {"pid", started}};
}

Json Monitor::op_exec_state(const Json& req) {
  std::string id = get_str(req, "exec_id");
  Proc* p = id.empty() ? nullptr : find_proc(id);
  if (!p || p->probe) return err_reply(Errc::NotFound, "no such exec {:?}", id);
  ExecState s;
  s.running = p->running;
  s.pid = p->pid;
  s.exit_code = p->exit_code;
  return encode_exec_state(s);
}

Json Monitor::op_shutdown() {
  if (phase_ != Phase::Created)
    return err_reply(Errc::FailedPrecondition,
                     "container {} was started: stop it instead of shutting down its monitor",
                     c_.id);
  teardown_container();
  quit_ = true;
  return ok_reply();
}

}  // namespace berth::monitor
