// berth-runtime commands: each parses nothing itself (main.cc owns the
// flags) and maps one runc command onto berth::runtime::Runtime.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/container.h"

namespace berth::cli_runtime {

struct ExecFlags {
  std::string process_file;
  bool tty = false, detach = false, no_new_privs = false;
  std::string cwd, user, console_socket, pid_file;
  int preserve_fds = 0;
  std::vector<std::string> env, caps, additional_gids;
  std::vector<std::string> args;  // after the container id
};

struct UpdateFlags {
  std::string resources_file;
  std::optional<std::string> memory, memory_reservation, memory_swap, cpuset_cpus, cpuset_mems;
  std::optional<uint64_t> cpu_shares, cpu_period, blkio_weight;
  std::optional<int64_t> cpu_quota, pids_limit;
};

Result<int> cmd_spec(const std::string& bundle, bool rootless);
Result<int> cmd_state(runtime::Runtime& rt, const std::string& id);
Result<int> cmd_list(runtime::Runtime& rt, const std::string& format, bool quiet);
Result<int> cmd_kill(runtime::Runtime& rt, const std::string& id, const std::string& sig, bool all);
Result<int> cmd_ps(runtime::Runtime& rt, const std::string& id, const std::string& format,
                   const std::vector<std::string>& ps_args);
Result<int> cmd_exec(runtime::Runtime& rt, const std::string& id, const ExecFlags& f);
Result<int> cmd_update(runtime::Runtime& rt, const std::string& id, const UpdateFlags& f);
Result<int> cmd_features();

// "512m", "1g", "1024" -> bytes (binary units, as runc/docker parse them).
Result<int64_t> parse_bytes(const std::string& s);

}  // namespace berth::cli_runtime
