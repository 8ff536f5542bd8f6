// cli/cmd_container.h — what the container commands (cmd_container*.cc,
// cmd_run*.cc, cmd_exec*.cc, cmd_cp.cc, cmd_stats.cc) share: their
// registration, a second API connection for long waits, docker's
// wait-before-start, and the attach/exec stream with terminal handling.
// Depends on: cli/context, cli/terminal.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/client/engine_client.h"
#include "base/json.h"
#include "cli/context.h"
#include "cli/terminal.h"

namespace berth::cli {

void add_container_commands(std::vector<Command>& cmds);       // cmd_container.cc
void add_container_more_commands(std::vector<Command>& cmds);  // cmd_container_more.cc
void add_run_commands(std::vector<Command>& cmds);             // cmd_run.cc
void add_exec_commands(std::vector<Command>& cmds);            // cmd_exec.cc
void add_cp_commands(std::vector<Command>& cmds);              // cmd_cp.cc
void add_stats_commands(std::vector<Command>& cmds);           // cmd_stats.cc

// A new connection to the same daemon (waits and per-container streams run
// beside the main one).
Result<std::unique_ptr<api::client::EngineClient>> new_client(const Context& ctx);

// GET /containers/{name}/json, parsed.
Result<Json> inspect_container(api::client::EngineClient& c, const std::string& name);

// POST /containers/{id}/wait?condition=... sent now; result() reads the
// answer {"StatusCode": N, "Error": {"Message": ...}} later (blocking).
class PendingWait {
 public:
  static Result<PendingWait> start(const Context& ctx, const std::string& id,
                                   const std::string& condition);
  Result<int64_t> result();

 private:
  std::unique_ptr<api::client::EngineClient> client_;
};

// Everything about streaming one attach/exec connection to this terminal.
struct AttachSession {
  bool tty = false;
  bool stdin = false;       // send local stdin
  std::string detach_keys;  // bytes; "" = none
  bool sig_proxy = false;   // forward signals with `kill_fn`
  bool resize = false;      // follow the terminal size with `resize_fn`
  std::function<void(int rows, int cols)> resize_fn;
  std::function<void(int sig)> kill_fn;
};
// Raw mode on a terminal stdin (with tty && stdin), SIGWINCH/SIGxxx handling,
// then pump_stream until the output ends or the user detaches.
Result<StreamEnd> run_attach_session(int conn, std::string buffered, const AttachSession& s);

// docker's container-command error printing for run/create/start:
// "berth: <msg>\n\nRun 'berth <cmd> --help' for more information\n".
void print_run_error(Context& ctx, const std::string& cmd, const std::string& msg);

// "SIGKILL", "KILL", "9" -> 9; 0 when unknown.
int signal_number(const std::string& name);
std::string signal_name(int sig);

}  // namespace berth::cli
