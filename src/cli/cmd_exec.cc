// exec.
#include <fmt/format.h>
#include <unistd.h>

#include "base/strings.h"
#include "cli/cmd_container.h"
#include "cli/kv_file.h"
#include "cli/run_flags.h"

namespace berth::cli {
namespace {

using api::client::EngineClient;

Result<int> run_exec(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  bool tty = f.get_bool("tty"), in = f.get_bool("interactive"), detach = f.get_bool("detach");
  if (!f.get_string("detach-keys").empty()) {
    auto k = parse_detach_keys(f.get_string("detach-keys"));
    if (!k) return k.error();
  }
  std::vector<std::string> env;
  for (const auto& file : f.get_list("env-file")) {
    auto lines =
        BERTH_TRY(read_kv_file(file, [](const std::string& k) -> std::optional<std::string> {
          const char* v = std::getenv(k.c_str());
          if (!v) return std::nullopt;
          return std::string(v);
        }));
    env.insert(env.end(), lines.begin(), lines.end());
  }
  for (const auto& e : f.get_list("env")) {
    auto eq = e.find('=');
    if (eq == std::string::npos) {
      if (const char* v = std::getenv(e.c_str())) {
        env.push_back(e + "=" + v);
        continue;
      }
    }
    env.push_back(e);
  }
  if (in && tty && !detach && !ctx.in_is_terminal()) {
    ctx.err("the input device is not a TTY\n");
    return 1;
  }
  EngineClient* c = BERTH_TRY(ctx.client());
  Json body = {{"User", f.get_string("user")},
               {"Privileged", f.get_bool("privileged")},
               {"Tty", tty},
               {"AttachStdin", in && !detach},
               {"AttachStdout", !detach},
               {"AttachStderr", !detach},
               {"DetachKeys", f.get_string("detach-keys")},
               {"Env", env},
               {"WorkingDir", f.get_string("workdir")},
               {"Cmd", std::vector<std::string>(args.begin() + 1, args.end())}};
  std::optional<std::pair<int, int>> cs;
  if (tty && ctx.out_is_terminal()) cs = window_size(STDOUT_FILENO);
  if (cs) body["ConsoleSize"] = Json::array({cs->first, cs->second});
  auto r = BERTH_TRY(
      c->call("POST", "/containers/" + http::url_encode(args[0]) + "/exec", {}, dump_json(body)));
  Json j = BERTH_TRY(parse_json(r.body, "exec create response"));
  std::string exec_id = j.value("Id", "");
  if (exec_id.empty()) return make_error(Errc::Internal, "exec create response without Id");
  Json start = {{"Detach", detach}, {"Tty", tty}};
  if (cs) start["ConsoleSize"] = Json::array({cs->first, cs->second});
  if (detach) {
    BERTH_TRY(c->call("POST", "/exec/" + exec_id + "/start", {}, dump_json(start)));
    return 0;
  }
  auto up = BERTH_TRY(c->cli_upgrade("POST", "/exec/" + exec_id + "/start", {}, dump_json(start)));
  AttachSession s;
  s.tty = tty;
  s.stdin = in;
  if (in) {
    auto k = parse_detach_keys(f.get_string("detach-keys").empty() ? kDefaultDetachKeys
                                                                   : f.get_string("detach-keys"));
    if (k) s.detach_keys = *k;
  }
  s.resize = tty && ctx.out_is_terminal();
  s.resize_fn = [c, exec_id](int rows, int cols) {
    (void)c->call("POST", "/exec/" + exec_id + "/resize",
                  {{"h", std::to_string(rows)}, {"w", std::to_string(cols)}});
  };
  auto end = BERTH_TRY(run_attach_session(up.fd.get(), std::move(up.buffered), s));
  if (end == StreamEnd::Detached) return 0;
  auto ins = BERTH_TRY(c->call("GET", "/exec/" + exec_id + "/json"));
  Json ij = BERTH_TRY(parse_json(ins.body, "exec inspect response"));
  if (ij.contains("ExitCode") && ij["ExitCode"].is_number()) return ij["ExitCode"].get<int>();
  return 0;
}

}  // namespace

void add_exec_commands(std::vector<Command>& cmds) {
  cmds.push_back(
      {"container exec",
       {"exec"},
       "[OPTIONS] CONTAINER COMMAND [ARG...]",
       "Execute a command in a running container",
       2,
       -1,
       [](FlagSet& f) {
         f.add_bool("detach", 'd', "Detached mode: run command in the background");
         f.add_string("detach-keys", 0, "", "Override the key sequence for detaching a container");
         f.add_list("env", 'e', "Set environment variables");
         f.add_list("env-file", 0, "Read in a file of environment variables");
         f.add_bool("interactive", 'i', "Keep STDIN open even if not attached");
         f.add_bool("privileged", 0, "Give extended privileges to the command");
         f.add_bool("tty", 't', "Allocate a pseudo-TTY");
         f.add_string("user", 'u', "", "Username or UID (format: \"<name|uid>[:<group|gid>]\")");
         f.add_string("workdir", 'w', "", "Working directory inside the container");
       },
       run_exec});
}

}  // namespace berth::cli
