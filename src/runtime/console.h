// runtime/console.h — terminals for process.terminal.
//
// The container side opens a pty from its own devpts, sends the master over
// the console socket (SCM_RIGHTS, as runc's --console-socket protocol) and
// makes the slave its controlling terminal and stdio. When the caller gave
// no console socket (`run`/`exec` in the foreground), the runtime receives
// the master itself and copies bytes between its stdio and the pty.
#pragma once

#include <sys/types.h>

#include <optional>

#include "base/fd.h"
#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

// In the container, after pivot_root. console_sock is borrowed.
Result<void> setup_console(int console_sock, const std::optional<oci::ConsoleSize>& size,
                           bool bind_dev_console);

// Copies stdin -> master and master -> stdout until the pty hangs up, with
// the host terminal in raw mode when stdin is one. Returns when `pid` has
// exited and the output is drained.
void proxy_tty(int master);

}  // namespace berth::runtime
