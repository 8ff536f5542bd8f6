// monitor/client.h — what the engine uses to start and talk to a
// berth-monitor (protocol in monitor/protocol.h). The engine includes only
// this header and protocol.h from the monitor module.
// Thread-safety: a MonitorClient / Subscription is used by one thread at a
// time; free functions are thread-safe. No function forks in-process: spawn
// is posix_spawn (safe in the multi-threaded daemon).
// Depends on: base, sys.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "monitor/protocol.h"

namespace berth::monitor {

// Writes `config` to config_path (temp -> fsync -> rename), runs
// `<monitor_binary> --foreground <config_path>` and waits (at most
// `timeout`) for its one-line report: Ok once the container is created and
// the socket listens; else the monitor's message as an Error (code Internal,
// or the Errc the monitor named). Returns the monitor's pid. The monitor is
// then this process's child: a thread of this module reaps it when it exits
// (pidfd), whenever that is, so callers never wait for it. Without pidfds
// (Linux < 5.3) it runs `<monitor_binary> <config_path>` instead, waits for
// the original process to exit, and returns the daemonised monitor's pid
// (read from config.pid_file).
Result<pid_t> spawn(const std::string& monitor_binary, const std::string& config_path,
                    const MonitorConfig& config,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Monitors started ahead of need. Spawning one costs an exec and the
// binary's start-up (~2-4 ms on the 2-vCPU test VM), and `berth run` asks
// for the start as soon as the create answers, before a standby monitor
// spawned at create (engine) has come up. A pooled monitor has done that
// part already: spawn() hands it the config path (protocol.h, "Pooled") and
// starts the next one in the background, so one monitor always waits.
// Contract:
// - spawn() behaves as monitor::spawn() (same config file, same report,
//   same reaping); without an idle monitor, or for a config path of another
//   length, or on kernels without pidfds, it is monitor::spawn().
// - Idle monitors are this process's children, reaped like spawned ones;
//   when this process ends or the pool is destroyed they read EOF and exit,
//   so a crashed daemon leaves none behind. They belong to no container:
//   their command line names no config until they are bound.
// - The first spawn() (or fill()) starts the background thread's work; a
//   failure to start an idle monitor only stops the pool until the next
//   spawn().
// Thread-safety: all methods may be called from any thread.
class MonitorPool {
 public:
  // config_path_len: the length of every config path spawn() will get (the
  // engine's are <data-root>/containers/<64 hex>/monitor.json).
  MonitorPool(std::string monitor_binary, size_t config_path_len);
  ~MonitorPool();
  MonitorPool(const MonitorPool&) = delete;
  MonitorPool& operator=(const MonitorPool&) = delete;

  Result<pid_t> spawn(const std::string& config_path, const MonitorConfig& config,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Starts keeping an idle monitor now (daemon start-up).
  void fill();
  // The idle monitor's pid, 0 when none waits (tests, benchmarks).
  pid_t idle_pid() const;

 private:
  struct Idle;
  struct State;
  std::unique_ptr<State> st_;
};

class MonitorClient {
 public:
  // Unavailable when nothing listens (the monitor is gone).
  static Result<std::unique_ptr<MonitorClient>> connect(const std::string& socket_path);

  Result<StateReply> state();
  struct Started {
    pid_t pid = 0;
    int64_t started_ns = 0;
  };
  Result<Started> start();
  // Creates the container of a standby monitor (protocol.h); on failure the
  // monitor cleans up and exits.
  Result<void> create();
  // Hands `conn` (ownership passes to the monitor; the caller's fd is closed).
  Result<void> attach(Fd conn, bool stdin, bool stdout, bool stderr,
                      const std::string& detach_keys);
  Result<void> resize(const std::string& exec_id, int height, int width);
  Result<void> kill(int signal, bool all);
  Result<void> pause();
  Result<void> resume();
  Result<void> update(const Json& oci_resources);
  Result<void> shutdown();
  // conn: the hijacked client connection, or an invalid Fd when detached.
  Result<pid_t> exec(const std::string& exec_id, const Json& oci_process, bool stdin, bool detach,
                     const std::string& detach_keys, Fd conn);
  Result<ExecState> exec_state(const std::string& exec_id);
  // Hands the listening sockets of IPv6 published ports to the monitor
  // (op "proxy"; listeners[i] serves ports[i]; the caller keeps its fds).
  Result<void> proxy(const std::vector<ProxyTarget>& ports, const std::vector<int>& listeners);

 private:
  explicit MonitorClient(Fd sock) : sock_(std::move(sock)) {}
  Result<Json> call(const Json& request, int pass_fd = -1);
  Result<Json> call_fds(const Json& request, const std::vector<int>& fds);
  Fd sock_;
};

// An event stream ({"op":"subscribe"}).
class Subscription {
 public:
  static Result<std::unique_ptr<Subscription>> open(const std::string& socket_path);
  // The socket, for the engine's epoll loop (readable = an event or EOF).
  int fd() const { return sock_.get(); }
  // Next event; nullopt on timeout; Errc::Unavailable at EOF (monitor gone).
  Result<std::optional<Event>> next(std::chrono::milliseconds timeout);

 private:
  explicit Subscription(Fd sock) : sock_(std::move(sock)) {}
  Fd sock_;
};

// exit.json / health.json readers: NotFound when the file does not exist.
Result<ExitRecord> read_exit_file(const std::string& path);
Result<HealthRecord> read_health_file(const std::string& path);

// Whether a /proc/PID/cmdline text (NUL-separated arguments) is the command
// line of a monitor for this config: `berth-monitor [--foreground]
// CONFIG_PATH`, as spawn() runs it. The one rule monitor_alive() and the
// engine's search for a container's monitors (engine/leftovers.h) share.
bool cmdline_is_monitor_of(std::string_view cmdline, const std::string& config_path);

// Whether a monitor process with this pid is alive (not a zombie) and its
// command line is cmdline_is_monitor_of(config_path): guards against pid reuse
// after a reboot.
bool monitor_alive(pid_t pid, const std::string& config_path);

}  // namespace berth::monitor
