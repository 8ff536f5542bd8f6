// runtime/container.h — the OCI runtime library's public API: the runc
// operations over one state root. berth-runtime's commands and (later) the
// per-container monitor call these.
//
// Process model: create() forks a short-lived stage-1 child that joins or
// creates the namespaces and clones the container init with CLONE_PARENT
// (so init is the caller's child), then exits. The init sets up the rootfs,
// reports "created" over a SEQPACKET socket and waits on <state>/exec.fifo
// until start() writes to it. Not thread-safe: call from a single-threaded
// process (fork is used).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/json.h"
#include "base/result.h"
#include "oci/spec.h"
#include "runtime/state.h"

namespace berth::runtime {

// A bundle's config.json read, checked and its seccomp program compiled
// ahead of create() (Runtime::prepare; a standby monitor does it while it
// waits). Opaque; defined in lifecycle.cc.
struct PreparedBundle;

struct CreateOptions {
  std::string bundle;          // directory holding config.json
  std::string pid_file;        // written with the init's pid
  std::string console_socket;  // unix socket receiving the pty master
  bool no_pivot = false;
  // Set by run(): a socket end on which the caller receives the pty master
  // itself (foreground terminal without --console-socket).
  int console_fd = -1;
  int preserve_fds = 0;  // fds 3 .. 3+N-1 of the caller reach the container
  // From prepare() of the same bundle. create() uses (and empties) it only
  // if config.json is still the very file it read, unchanged: same device
  // and inode (its open fd keeps the inode from being reused), size, mtime
  // and ctime. Otherwise create() loads the bundle as without it. (A rewrite
  // in place of the same size within the filesystem's timestamp tick of
  // the read goes unseen; berthd replaces config.json by rename.)
  std::shared_ptr<PreparedBundle> prepared;
  // When set, receives the record saved for the container (the init's pid,
  // the caller's child; its cgroups path ...), saving a load after create().
  ContainerRecord* record_out = nullptr;
};

struct ExecOptions {
  oci::Process process;  // fully resolved (from --process or flags + spec defaults)
  bool detach = false;
  std::string pid_file;
  std::string console_socket;
  int preserve_fds = 0;
  // Like CreateOptions::console_fd: a socket end on which the caller
  // receives the pty master itself (process.terminal, detached, no path).
  int console_fd = -1;
  // When set, receives the exec'd process's pid (the caller's child).
  pid_t* pid_out = nullptr;
};

struct ContainerInfo {
  ContainerRecord record;
  Status status = Status::Stopped;
};

class Runtime {
 public:
  explicit Runtime(std::string root) : store_(std::move(root)) {}

  Result<void> create(const std::string& id, const CreateOptions& opts);
  // What create() reads and checks of a bundle, done ahead (CreateOptions::
  // prepared). Errors are the ones create() would report for the bundle.
  Result<std::shared_ptr<PreparedBundle>> prepare(const std::string& bundle) const;
  Result<void> start(const std::string& id);
  // create + start; in the foreground waits and returns the exit code
  // (128+signal when killed), then deletes the container.
  Result<int> run(const std::string& id, const CreateOptions& opts, bool detach);
  Result<ContainerInfo> info(const std::string& id) const;
  // OCI state JSON plus runc's extra keys (rootfs, created, owner).
  Result<Json> state_json(const std::string& id) const;
  Result<std::vector<ContainerInfo>> list() const;
  Result<void> kill(const std::string& id, int sig, bool all);
  Result<void> remove(const std::string& id, bool force);
  Result<void> pause(const std::string& id);
  Result<void> resume(const std::string& id);
  Result<std::vector<pid_t>> pids(const std::string& id) const;
  // Merges `r` into the stored resources and applies them to the cgroup.
  Result<void> update(const std::string& id, const oci::Resources& r);
  // Foreground: returns the process's exit code; detached: 0.
  Result<int> exec(const std::string& id, const ExecOptions& opts);
  // The cgroup directories of the memory controller (v1's memory hierarchy,
  // or the v2 one) for a container's cgroups path (ContainerRecord::
  // cgroups_path), for OOM checks. Uses the layout this process found at its
  // first cgroup operation (no mountinfo read after that).
  static Result<std::vector<std::string>> memory_cgroup_dirs(const std::string& cgroups_path,
                                                             const std::string& id);
  // The spec of a container, for building exec defaults.
  Result<oci::Spec> spec(const std::string& id) const { return store_.load_spec(id); }

  const StateStore& store() const { return store_; }

 private:
  // create(); when `terminal_end` is given and process.terminal is set with
  // no console socket, the pty master is sent to a socketpair whose other
  // end is returned there (a foreground `run` serves the terminal itself).
  Result<void> create_impl(const std::string& id, const CreateOptions& opts, Fd* terminal_end);

  StateStore store_;
};

// exit status as a shell reports it: code, or 128+signal.
int exit_code_from_status(int wait_status);

}  // namespace berth::runtime
