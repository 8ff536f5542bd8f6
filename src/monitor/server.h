// monitor/server.h — berth-monitor's event loop (protocol in
// monitor/protocol.h). Internal to the monitor binary; the engine uses
// monitor/client.h.
//
// One thread, one epoll set. Every registered fd has a token; the token maps
// to what the fd is (Reg). Objects are removed by dropping their tokens, so
// an event already returned by epoll_wait for a closed fd finds nothing.
// Children (container init, exec'd processes, health probes, orphans
// reparented to this subreaper) are reaped from a SIGCHLD self-pipe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "logs/json_file.h"
#include "monitor/ctl.h"
#include "monitor/detach_keys.h"
#include "monitor/protocol.h"
#include "monitor/proxy.h"

namespace berth::monitor {

int64_t mono_ms();
int64_t unix_ns();

class Monitor {
 public:
  explicit Monitor(MonitorConfig c);
  ~Monitor();
  // In the daemonised child: opens the log, listens, mounts the rootfs and
  // creates the container (a standby monitor stops before the create, which
  // a "create" request does later). On failure everything done is undone.
  Result<void> setup();
  // Serves until the container has exited and clients drained (or shutdown).
  void run();
  // Undoes a successful setup() (the monitor cannot report "ready").
  void abort();
  const MonitorConfig& config() const { return c_; }

 private:
  enum class Kind { Listen, Sigchld, Conn, Client, ProcOut, ProcErr, ProcPty, ProcIn, Proxy };
  struct Reg {
    Kind kind;
    std::string proc;  // the process's key ("" = the container) for Proc*
  };
  // A control connection (requests, or an event stream after "subscribe").
  struct Conn {
    Fd fd;
    bool subscriber = false;
  };
  // An attach/exec stream connection.
  struct Client {
    Fd fd;
    std::string proc;  // "" = the container, else an exec id
    bool in = false, out = true, err = true;
    bool raw = false;      // TTY: unframed
    bool in_eof = false;   // client finished sending
    bool closing = false;  // close once `pending` is written
    std::string pending;
    DetachMatcher detach;
    uint32_t events = 0;
  };
  // The container's init or one exec'd process, with its stdio.
  struct Proc {
    std::string key;
    pid_t pid = 0;
    bool tty = false;
    bool running = false;
    std::optional<int> exit_code;
    Fd master, out, err, in;  // our ends (master for a TTY)
    uint64_t master_tok = 0, out_tok = 0, err_tok = 0, in_tok = 0;
    uint32_t master_events = 0;
    std::string in_pending;
    bool in_close_after = false;  // close stdin once in_pending is written
    int64_t exited_ms = 0;
    // Health probe
    bool probe = false;
    std::string output;
    int64_t start_ns = 0;
    int64_t deadline_ms = 0;
    bool timed_out = false;
  };
  enum class Phase { Created, Running, Draining, Exited };

  // epoll
  uint64_t watch(int fd, uint32_t events, Reg r);
  void rewatch(uint64_t tok, int fd, uint32_t events);
  void unwatch(uint64_t tok, int fd);
  void dispatch(uint64_t tok, uint32_t events);
  int next_timeout_ms();
  bool prepare_due() const;
  void schedule_trim();
  void on_timers();

  // control connections (server.cc)
  void on_accept();
  void on_conn(uint64_t tok, uint32_t events);
  Json handle(uint64_t tok, const Json& req, std::vector<Fd> passed);
  Json op_start();
  Json op_attach(const Json& req, Fd conn);
  Json op_resize(const Json& req);
  Json op_exec(const Json& req, Fd conn);
  Json op_exec_state(const Json& req);
  Json op_state();
  Json op_shutdown();
  Json op_create();  // standby -> created (protocol.h)
  Json op_proxy(const Json& req, std::vector<Fd> listeners);
  void stop_proxy();
  void send_event(const Event& e);
  void send_packet(int fd, const Json& j);

  // stdio (io.cc)
  Result<void> make_stdio(Proc& p, bool want_stdin, bool tty, Stdio* theirs, Fd* tin, Fd* tout,
                          Fd* terr);
  void watch_proc(Proc& p);
  void on_proc_out(const std::string& key, Kind k, uint32_t events);
  void on_proc_in(const std::string& key);
  void deliver(Proc& p, int stream, std::string_view data);
  void proc_input(Proc& p, std::string_view data);
  void proc_close_stdin(Proc& p);
  void update_master(Proc& p);
  bool proc_io_done(const Proc& p) const;
  void close_proc_io(Proc& p);
  uint64_t add_client(Fd fd, const std::string& proc, bool in, bool out, bool err, bool raw,
                      std::string detach_seq);
  void on_client(uint64_t tok, uint32_t events);
  void client_send(uint64_t tok, Client& c, std::string_view data);
  void client_update(uint64_t tok, Client& c);
  void drop_client(uint64_t tok);
  void close_clients_of(const std::string& proc);
  Proc* find_proc(const std::string& key);

  // children (server.cc)
  void on_sigchld();
  void on_init_exit(int status);
  void finish_exit();
  void on_exec_exit(Proc& p, int status);

  // health (health.cc)
  void health_schedule(bool first);
  void health_probe();
  void health_result(Proc& p);
  void write_health();

  // setup / teardown (server.cc)
  Result<void> setup_impl();
  Result<void> create_container();
  Result<void> mount_rootfs();
  void unmount_rootfs();
  Result<void> listen_socket();
  void teardown_container();

  MonitorConfig c_;
  std::unique_ptr<Ctl> ctl_;
  std::unique_ptr<logs::Writer> log_;
  Fd epoll_, listen_, sig_r_;
  int listen_dir_ = -1;
  uint64_t next_tok_ = 1;
  std::map<uint64_t, Reg> regs_;
  std::map<uint64_t, Conn> conns_;
  std::map<uint64_t, Client> clients_;
  std::map<std::string, Proc> procs_;  // "" = the container's init
  Phase phase_ = Phase::Created;
  bool paused_ = false;
  bool quit_ = false;
  size_t mounted_ = 0;
  bool created_ = false;
  bool standby_ = false;          // set up, waiting for "create" (MonitorConfig::standby)
  bool bundle_prepared_ = false;  // standby: Ctl::prepare() done (or tried)
  int64_t started_ns_ = 0;
  int64_t drain_deadline_ms_ = 0;  // Draining: finish even if output has not ended
  int64_t quit_deadline_ms_ = 0;   // Exited: stop waiting for clients
  ExitRecord exit_;
  std::string oci_process_;  // the container's process JSON (health probes)
  // health
  HealthRecord health_;
  int64_t next_probe_ms_ = 0;
  int probe_seq_ = 0;
  bool health_restart_ = false;
  // A runtime call ran: give its memory back once things are quiet (see
  // schedule_trim); 0 = nothing to give back.
  int64_t trim_at_ms_ = 0;
  std::optional<int> forced_exit_code_;  // start failed: docker's 126/127
  // IPv6 published ports (op "proxy"); closed when the init exits.
  std::unique_ptr<Proxy> proxy_;
  uint64_t proxy_tok_ = 0;
};

}  // namespace berth::monitor
