// dashboard/autostart.h — "start berthd at boot": the berthd.service unit's
// state through systemctl (enable / disable / is-enabled).
//
// `root` is passed as --root=DIR: systemctl then edits the unit symlinks of
// that tree without talking to a running systemd (tests, image builds, and
// hosts where systemd is installed but not PID 1). Without `root`, autostart
// is supported only when systemd is running (/run/systemd/system exists, as
// sd_booted(3) checks).
// Thread-safety: calls may run concurrently; each spawns its own systemctl.
// Depends on: base.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "dashboard/settings.h"

namespace berth::dashboard {

struct SystemctlOptions {
  std::string binary = "systemctl";  // looked up in PATH when not absolute
  std::string root;                  // --root=DIR ("" = the running system)
  std::string unit = "berthd.service";
  std::string booted_marker = "/run/systemd/system";
};

struct CommandOutput {
  int status = -1;     // exit status; 128+N when killed by signal N
  std::string output;  // stdout and stderr together
};

// Runs argv (argv[0] looked up in PATH) with stdin from /dev/null and
// returns its exit status and output. posix_spawn: safe in a threaded daemon.
Result<CommandOutput> run_command(const std::vector<std::string>& argv);

class Autostart {
 public:
  explicit Autostart(SystemctlOptions o) : o_(std::move(o)) {}
  // Reads `systemctl is-enabled UNIT`. Never fails: problems land in
  // supported/detail.
  AutostartState state() const;
  // enable|disable, then state(). FailedPrecondition when unsupported;
  // Internal with systemctl's words when it fails.
  Result<AutostartState> set_enabled(bool on) const;

 private:
  std::vector<std::string> argv(const std::string& verb) const;
  // "" when supported, else why not.
  std::string unsupported_reason() const;
  SystemctlOptions o_;
};

}  // namespace berth::dashboard
