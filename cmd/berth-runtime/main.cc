// berth-runtime: a runc-compatible OCI runtime over berth's runtime library.
// Parses runc's command line, runs one command, maps errors to runc's exit
// status (1) and message style ("berth-runtime: <message>").
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "base/log.h"
#include "cmd/berth-runtime/commands.h"
#include "runtime/container.h"
#include "runtime/self_protect.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.0.0"
#endif

using berth::Result;
namespace rt = berth::runtime;
namespace cr = berth::cli_runtime;

namespace {

int report(const berth::Error& e, bool log_to_file) {
  if (log_to_file) berth::log_error("{}", e.message);
  std::fprintf(stderr, "berth-runtime: %s\n", e.message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"berth-runtime: run OCI containers (runc-compatible)", "berth-runtime"};
  app.require_subcommand(1);
  app.set_version_flag("-v,--version",
                       std::string("berth-runtime version ") + BERTH_VERSION + "\nspec: 1.1.0");
  std::string root = "/run/berth-runtime", log_file, log_format = "text";
  bool debug = false, systemd_cgroup = false;
  app.add_option("--root", root, "state directory");
  app.add_option("--log", log_file, "log file (default stderr)");
  app.add_option("--log-format", log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", debug, "debug logging");
  app.add_flag("--systemd-cgroup", systemd_cgroup, "use systemd for cgroups (unsupported)");

  std::string id, bundle = ".", pid_file, console_socket, signal = "SIGTERM", format = "table";
  bool no_pivot = false, detach = false, force = false, all = false, quiet = false,
       rootless = false;
  int preserve_fds = 0;
  bool ignored_flag = false;
  std::vector<std::string> ps_args;
  auto add_create_flags = [&](CLI::App* c) {
    c->add_option("-b,--bundle", bundle, "bundle directory");
    c->add_option("--pid-file", pid_file, "write the init pid here");
    c->add_option("--console-socket", console_socket, "unix socket receiving the pty master");
    c->add_flag("--no-pivot", no_pivot, "use MS_MOVE+chroot instead of pivot_root");
    c->add_flag("--no-new-keyring", ignored_flag, "accepted for runc compatibility");
    c->add_option("--preserve-fds", preserve_fds, "pass fds 3..3+N-1 to the container")
        ->check(CLI::NonNegativeNumber);
  };
  auto* spec = app.add_subcommand("spec", "write a default config.json");
  spec->add_option("-b,--bundle", bundle);
  spec->add_flag("--rootless", rootless);
  auto* create = app.add_subcommand("create", "create a container");
  add_create_flags(create);
  create->add_option("container-id", id)->required();
  auto* run = app.add_subcommand("run", "create and start a container");
  add_create_flags(run);
  run->add_flag("-d,--detach", detach);
  run->add_flag("--keep", ignored_flag, "accepted for runc compatibility");
  run->add_option("container-id", id)->required();
  auto* start = app.add_subcommand("start", "start a created container");
  start->add_option("container-id", id)->required();
  auto* state = app.add_subcommand("state", "print the state of a container");
  state->add_option("container-id", id)->required();
  auto* list = app.add_subcommand("list", "list containers");
  list->alias("ls");
  list->add_option("-f,--format", format)->check(CLI::IsMember({"table", "json"}));
  list->add_flag("-q,--quiet", quiet);
  auto* kill = app.add_subcommand("kill", "send a signal to the container's init");
  kill->add_flag("-a,--all", all);
  kill->add_option("container-id", id)->required();
  kill->add_option("signal", signal);
  auto* del = app.add_subcommand("delete", "delete a container");
  del->add_flag("-f,--force", force);
  del->add_option("container-id", id)->required();
  auto* pause = app.add_subcommand("pause", "freeze every process of a container");
  pause->add_option("container-id", id)->required();
  auto* resume = app.add_subcommand("resume", "thaw a paused container");
  resume->add_option("container-id", id)->required();
  auto* ps = app.add_subcommand("ps", "processes of a container");
  ps->add_option("-f,--format", format)->check(CLI::IsMember({"table", "json"}));
  ps->add_option("container-id", id)->required();
  ps->add_option("ps-args", ps_args);
  ps->allow_extras();
  auto* features = app.add_subcommand("features", "print the runtime's features (JSON)");

  cr::ExecFlags ef;
  auto* exec = app.add_subcommand("exec", "run a process in a running container");
  exec->add_option("-p,--process", ef.process_file, "process.json");
  exec->add_flag("-t,--tty", ef.tty);
  exec->add_flag("-d,--detach", ef.detach);
  exec->add_option("--cwd", ef.cwd);
  exec->add_option("-e,--env", ef.env)->take_last()->allow_extra_args(false);
  exec->add_option("-u,--user", ef.user, "UID[:GID]");
  exec->add_option("-g,--additional-gids", ef.additional_gids)->allow_extra_args(false);
  exec->add_option("-c,--cap", ef.caps)->allow_extra_args(false);
  exec->add_flag("--no-new-privs", ef.no_new_privs);
  exec->add_option("--console-socket", ef.console_socket);
  exec->add_option("--pid-file", ef.pid_file);
  exec->add_option("--preserve-fds", preserve_fds)->check(CLI::NonNegativeNumber);
  exec->add_option("container-id", id)->required();
  exec->add_option("command", ef.args);
  exec->positionals_at_end();
  exec->prefix_command();

  cr::UpdateFlags uf;
  auto* update = app.add_subcommand("update", "change a running container's resources");
  update->add_option("-r,--resources", uf.resources_file, "resources JSON file (- for stdin)");
  update->add_option("--memory", uf.memory);
  update->add_option("--memory-reservation", uf.memory_reservation);
  update->add_option("--memory-swap", uf.memory_swap);
  update->add_option("--cpu-shares", uf.cpu_shares);
  update->add_option("--cpu-quota", uf.cpu_quota);
  update->add_option("--cpu-period", uf.cpu_period);
  update->add_option("--cpuset-cpus", uf.cpuset_cpus);
  update->add_option("--cpuset-mems", uf.cpuset_mems);
  update->add_option("--pids-limit", uf.pids_limit);
  update->add_option("--blkio-weight", uf.blkio_weight);
  update->add_option("container-id", id)->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // exec's prefix_command leaves "ID CMD..." unparsed.
  if (*exec) {
    auto rest = exec->remaining();
    if (id.empty() && !rest.empty()) {
      id = rest.front();
      rest.erase(rest.begin());
    }
    ef.args.insert(ef.args.end(), rest.begin(), rest.end());
    if (id.empty())
      return report(
          berth::make_error(berth::Errc::InvalidArgument, "exec: container id is required"), false);
  }

  berth::log_set_level(debug ? berth::LogLevel::Debug : berth::LogLevel::Warn);
  berth::log_set_format(log_format == "json" ? berth::LogFormat::Json : berth::LogFormat::Text);
  bool log_to_file = false;
  if (!log_file.empty()) {
    if (auto r = berth::log_set_file(log_file); !r) return report(r.error(), false);
    log_to_file = true;
  }
  if (systemd_cgroup)
    return report(berth::make_error(berth::Errc::NotImplemented,
                                    "--systemd-cgroup is not supported (no systemd on this "
                                    "host); use cgroupfs paths"),
                  log_to_file);

  if (*create || *run || *exec) {
    if (auto r = rt::ensure_protected_self(argv); !r) return report(r.error(), log_to_file);
  }

  rt::Runtime runtime(root);
  rt::CreateOptions co{bundle, pid_file, console_socket, no_pivot, -1, preserve_fds, nullptr};
  ef.preserve_fds = preserve_fds;
  Result<int> res = 0;
  if (*spec)
    res = cr::cmd_spec(bundle, rootless);
  else if (*create)
    res = runtime.create(id, co).transform([] { return 0; });
  else if (*run)
    res = runtime.run(id, co, detach);
  else if (*start)
    res = runtime.start(id).transform([] { return 0; });
  else if (*state)
    res = cr::cmd_state(runtime, id);
  else if (*list)
    res = cr::cmd_list(runtime, format, quiet);
  else if (*kill)
    res = cr::cmd_kill(runtime, id, signal, all);
  else if (*del)
    res = runtime.remove(id, force).transform([] { return 0; });
  else if (*pause)
    res = runtime.pause(id).transform([] { return 0; });
  else if (*resume)
    res = runtime.resume(id).transform([] { return 0; });
  else if (*ps) {
    auto extra = ps->remaining();
    ps_args.insert(ps_args.end(), extra.begin(), extra.end());
    res = cr::cmd_ps(runtime, id, format, ps_args);
  } else if (*exec)
    res = cr::cmd_exec(runtime, id, ef);
  else if (*update)
    res = cr::cmd_update(runtime, id, uf);
  else if (*features)
    res = cr::cmd_features();
  if (!res) return report(res.error(), log_to_file);
  return *res;
}
