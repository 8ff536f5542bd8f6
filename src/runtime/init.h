// runtime/init.h — the code that runs as the container's first process
// (inside its namespaces, before execve of process.args) and as an exec'd
// process joining a running container.
#pragma once

#include <map>
#include <string>

#include "oci/spec.h"
#include "runtime/rootfs.h"
#include "runtime/seccomp.h"
#include "runtime/sync.h"

namespace berth::runtime {

struct InitArgs {
  const oci::Spec* spec = nullptr;
  RootfsContext rootfs;
  int fifo_fd = -1;     // <state>/exec.fifo, opened O_RDWR by the runtime (host root)
  int console_fd = -1;  // socket receiving the pty master (terminal only)
  bool new_uts = false;
  int preserve_fds = 0;
  // linux.seccomp compiled by the runtime before the clone (or null).
  const CompiledSeccomp* seccomp = nullptr;
  // Whether the init pauses between the rootfs's mounts and pivot_root for
  // the runtime's prestart and createRuntime hooks, and receives the state
  // its own createContainer and startContainer hooks read
  // (needs_prestart_pause).
  bool prestart_pause = true;
};

// True when the spec has a prestart, createRuntime, createContainer or
// startContainer hook: the hooks that need the prestart pause or its state.
bool needs_prestart_pause(const oci::Spec& spec);

// Protocol on `chan` (see lifecycle.cc): with a.prestart_pause, -> "prestart",
// <- "prestart-done <state json>"; then -> "created"; any failure -> "error
// <message>". Then waits for a byte on the exec fifo, runs startContainer
// hooks and execs. (Without hooks there is no pause: each exchange is two
// wake-ups across processes.)
[[noreturn]] void container_init(SyncChannel& chan, const InitArgs& a);

struct ExecArgs {
  const oci::Process* process = nullptr;
  const oci::Spec* spec = nullptr;
  int console_fd = -1;
  int preserve_fds = 0;
};

// Joined the container already (spawn did). Reports "error <message>" or
// nothing: a successful execve closes the channel (CLOEXEC).
[[noreturn]] void exec_init(SyncChannel& chan, const ExecArgs& a);

}  // namespace berth::runtime
