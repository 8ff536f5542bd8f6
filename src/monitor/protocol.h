// monitor/protocol.h — the contract between berthd's engine and
// berth-monitor, the per-container supervisor (see docs/design/containers.md).
//
// Files (paths are chosen by the engine and written into MonitorConfig):
//   <data-root>/containers/<id>/monitor.json   MonitorConfig, written by the engine
//                                               (temp -> fsync -> rename) before spawn
//   <data-root>/containers/<id>/exit.json      ExitRecord, written by the monitor
//                                               (temp -> fsync -> rename) when the
//                                               container's init has exited
//   <data-root>/containers/<id>/health.json    HealthRecord, rewritten after each probe
//   <exec-root>/containers/<id>/monitor.sock   the monitor's socket
//   <exec-root>/containers/<id>/monitor.pid    the monitor's pid (written before "ready")
//
// Lifetime: `berth-monitor --foreground CONFIG_PATH` is spawned by the engine
// (posix_spawn, nothing between fork and exec): it setsid()s, becomes a child
// subreaper, sets up as below and reports one line on stderr ("ok", or
// "berth-monitor: <message>" and exit 1), staying the engine's child, which
// reaps it whenever it exits (monitor::spawn). Without --foreground (the
// engine's fallback on kernels without pidfds) it forks once: the child
// setsid()s, becomes a child subreaper (PR_SET_CHILD_SUBREAPER, so an
// external runtime's init is reparented to it), opens the log, listens on the
// socket and creates the container (runtime create: the init waits for
// start). The original process exits 0 as soon as that is done, or 1 after
// printing one line "berth-monitor: <message>" on stderr when it failed
// (nothing left behind: rootfs unmounted, runtime state deleted). Either way
// the engine never holds zombies. The monitor then waits for a
// "start" request. After the init exits it flushes the log, writes exit.json,
// sends an Exit event to subscribers, deletes the runtime state (the runtime
// removes the cgroup), unmounts the rootfs, sends a Released event (the engine
// may remove the rootfs from then on), waits for attach/exec clients to
// drain (at most 2 s), and exits. A monitor whose container was never
// started waits for "start" or "shutdown" indefinitely (a berthd restart in
// between must not lose it); "shutdown" cleans up as above without exit.json.
// Standby (MonitorConfig::standby): the monitor stops before the runtime
// create (log open, socket listening, rootfs mounted) and reports ready; a
// "create" request then creates the container (the reply says whether that
// worked; after a failure the monitor cleans up and exits). Until then it
// reports "created" and obeys "shutdown". The engine spawns one when a
// container is created, so the start that usually follows skips the spawn.
// Pooled (monitor::MonitorPool): `berth-monitor --foreground --pooled=....`
// is started before any container needs it. It setsid()s, writes "idle" on
// its stderr (the report pipe) and waits on its stdin for one line, a config
// path exactly as long as the placeholder argument (EOF: it exits 0
// quietly). It writes the path over the placeholder, so its command line
// becomes `berth-monitor --foreground CONFIG_PATH`, and goes on as that
// command would.
//
// Wire: SOCK_SEQPACKET unix socket; every message is one packet holding one
// JSON object (at most 64 KiB). A request carries "op"; the reply is
// {"ok":true, ...} or {"ok":false,"code":"<Errc name>","message":"..."}.
// Requests that hand over a connection ("attach", "exec" with a client)
// carry exactly one fd in SCM_RIGHTS. One connection serves requests one at
// a time; "subscribe" turns a connection into an event stream.
// The socket path may exceed sun_path (108 bytes): clients connect through
// /proc/self/fd/<dirfd>/monitor.sock of an O_PATH fd on the directory.
//
// Depends on: base, oci.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace berth::monitor {

inline constexpr size_t kMaxPacket = 64 * 1024;
// File descriptors one request may carry (the kernel's limit is 253).
inline constexpr size_t kMaxPassedFds = 128;
// The placeholder argument of a pooled monitor starts with this (protocol
// comment above); the rest is '.' up to the config path's length.
inline constexpr std::string_view kPooledArgPrefix = "--pooled=";

// A mount(2) the monitor performs on <bundle>/rootfs before creating the
// container and undoes after it exits (the rootfs overlay from the image's
// snapshotter).
struct RootfsMount {
  std::string type;    // "overlay" | "bind"
  std::string source;  // "overlay" | a directory
  std::vector<std::string> options;
};

struct HealthConfig {
  // Argv run inside the container with exec semantics ("CMD-SHELL x" is
  // resolved by the engine to {"/bin/sh","-c","x"}); empty = no health check.
  std::vector<std::string> test;
  int64_t interval_ns = 30'000'000'000;
  int64_t timeout_ns = 30'000'000'000;
  int64_t start_period_ns = 0;
  int64_t start_interval_ns = 5'000'000'000;
  int retries = 3;
  std::string on_failure = "none";  // "none" | "kill" | "restart" (berth extension)
};

struct MonitorConfig {
  std::string id;      // container id (64 hex)
  std::string bundle;  // directory with config.json; rootfs at <bundle>/rootfs
  std::vector<RootfsMount> rootfs_mounts;
  // The writable layer is discarded when the container ends (--rm): an
  // overlay rootfs is mounted with overlay's "volatile" option (no syncs to
  // the upper filesystem, so no syncfs at unmount either; kernels without
  // it get a plain mount). See Monitor::mount_rootfs for the marker it leaves.
  bool volatile_rootfs = false;
  std::string state_root;  // runtime state root (<exec-root>/runtime)
  // "" = the built-in runtime library; else a runc-compatible binary
  // (runc, crun, berth-runtime) run as `<runtime> <args> --root <state_root> ...`.
  std::string runtime;
  std::vector<std::string> runtime_args;
  std::string socket_path;
  std::string pid_file;   // the monitor's own pid
  std::string exit_file;  // ExitRecord
  std::string health_file;
  std::string log_driver = "json-file";  // "json-file" | "local" | "none"
  std::string log_path;                  // the log file (both drivers write json-file lines)
  std::map<std::string, std::string> log_opts;
  // The "attrs" of every log entry (logs::log_attributes; berthd computes them).
  std::map<std::string, std::string> log_attrs;
  bool tty = false;
  bool open_stdin = false;
  bool stdin_once = false;
  HealthConfig health;
  bool standby = false;  // wait for "create" before creating the container
};
Json encode_config(const MonitorConfig& c);
Result<MonitorConfig> decode_config(const Json& j);  // InvalidArgument naming the field

struct ExitRecord {
  int exit_code = 0;       // 128+signal when killed; -1 when it never started
  int64_t started_ns = 0;  // unix ns
  int64_t finished_ns = 0;
  bool oom_killed = false;
  std::string error;  // why start failed, when it did ("exec: \"x\": executable file not found...")
  // True when the monitor killed the container because it turned unhealthy
  // with on_failure "restart": the engine restarts it whatever the policy.
  bool health_restart = false;
};
Json encode_exit(const ExitRecord& e);
Result<ExitRecord> decode_exit(const Json& j);

struct HealthLog {
  int64_t start_ns = 0, end_ns = 0;
  int exit_code = 0;
  std::string output;  // at most 4 KiB, as docker keeps
};
struct HealthRecord {
  std::string status = "starting";  // "starting" | "healthy" | "unhealthy"
  int failing_streak = 0;
  std::vector<HealthLog> log;  // last 5
};
Json encode_health(const HealthRecord& h);
Result<HealthRecord> decode_health(const Json& j);

// ---- requests -----------------------------------------------------------

// {"op":"state"} -> StateReply
struct StateReply {
  std::string status;  // "created" | "running" | "paused" | "exited"
  pid_t pid = 0;       // container init (host pid), 0 before start / after exit
  int64_t started_ns = 0;
  std::optional<ExitRecord> exit;
  std::optional<HealthRecord> health;
};
Json encode_state(const StateReply& s);
Result<StateReply> decode_state(const Json& j);

// {"op":"start"} -> {"ok":true,"pid":N,"started_ns":N}; FailedPrecondition
// when not "created". A start that fails (exec of the entrypoint fails)
// returns the error; exit.json then holds it with exit_code 127/126 as docker
// reports ("exec: \"nope\": executable file not found in $PATH").
//
// {"op":"attach","stdin":b,"stdout":b,"stderr":b,"detach_keys":"ctrl-p,ctrl-q"}
//   + fd: the monitor serves the connection itself (the engine already wrote
//   the HTTP 101/200 header): container output is copied to it (raw with a
//   TTY, docker's multiplexed frames without), bytes read from it go to the
//   container's stdin when "stdin" is set and the container has open_stdin.
//   The detach sequence (docker's --detach-keys syntax, default
//   ctrl-p,ctrl-q; "" = none) ends that attachment only. EOF from the client
//   closes the container's stdin when stdin_once. Allowed before "start"
//   (docker run attaches first), so no output is lost.
//
// {"op":"resize","exec_id":"","height":h,"width":w}: TIOCSWINSZ on the
//   container's (exec_id "") or an exec's pty; FailedPrecondition without a TTY.
// {"op":"kill","signal":N,"all":b}
// {"op":"pause"} / {"op":"resume"}
// {"op":"update","resources":<OCI linux.resources JSON>}
// {"op":"shutdown"}: only for a never-started container: clean up and exit.
//
// {"op":"exec","exec_id":"...","process":<OCI process JSON>,"detach":b,
//  "detach_keys":"..."} [+ fd when not detached]: runs the process in the
//   container (runtime exec), serving the fd as attach does (stdin when
//   process.terminal or the engine says so: "stdin":b). Reply {"ok":true,"pid":N}.
//   Errors: FailedPrecondition "container ... is not running"; the exec's own
//   failure (no such binary) is reported as exit code 126/127 in ExecState.
// {"op":"exec_state","exec_id":"..."} -> ExecState
struct ExecState {
  bool running = false;
  pid_t pid = 0;
  std::optional<int> exit_code;
};
Json encode_exec_state(const ExecState& s);
Result<ExecState> decode_exec_state(const Json& j);

// {"op":"proxy","ports":[{"target_ip":"172.17.0.2","target_port":80},...]}
//   + one socket per port (a listening TCP or a bound UDP socket), in the same
//   order, in SCM_RIGHTS (at
//   most kMaxPassedFds; more ports take more requests): published ports on
//   IPv6 host addresses, which the monitor serves by connecting to the
//   target (monitor/proxy.h) until the container's init exits, when it
//   closes them. Allowed once the container is created, before or after
//   "start"; FailedPrecondition after the exit.
struct ProxyTarget {
  std::string ip;  // IPv4
  uint16_t port = 0;
  bool operator==(const ProxyTarget&) const = default;
};
Json encode_proxy_request(const std::vector<ProxyTarget>& ports);
Result<std::vector<ProxyTarget>> decode_proxy_request(const Json& j);

// {"op":"subscribe"}: the reply {"ok":true} is followed by one packet per
// event until the monitor exits (then EOF). A subscriber that connects after
// the exit gets {"event":"exit",...} at once.
struct Event {
  // "start" | "exit" | "released" | "exec_exit" | "health_status". "released"
  // follows "exit" once the runtime state is deleted and the rootfs unmounted:
  // the monitor then only drains its clients (at most 2 s) and exits.
  std::string event;
  std::optional<ExitRecord> exit;  // "exit"
  std::string exec_id;             // "exec_exit"
  int exit_code = 0;               // "exec_exit"
  std::string health_status;       // "health_status": "healthy" | "unhealthy"
};
Json encode_event(const Event& e);
Result<Event> decode_event(const Json& j);

// {"ok":false,...} <-> Error
Json encode_error(const Error& e);
Error decode_error(const Json& j);

}  // namespace berth::monitor
