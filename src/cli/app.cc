#include "cli/app.h"

#include <fmt/format.h>

#include <unistd.h>
#include <algorithm>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"
#include "cli/cmd_container.h"
#include "cli/context.h"
#include "cli/run_flags.h"
#include "cli/version.h"

namespace berth::cli {
namespace {

std::vector<Command> all_commands() {
  std::vector<Command> cmds;
  cmds.reserve(128);
  add_image_commands(cmds);
  add_registry_commands(cmds);
  add_archive_commands(cmds);
  add_system_commands(cmds);
  add_doctor_commands(cmds);
  add_container_commands(cmds);
  add_container_more_commands(cmds);
  add_run_commands(cmds);
  add_exec_commands(cmds);
  add_cp_commands(cmds);
  add_stats_commands(cmds);
  add_network_commands(cmds);
  add_volume_commands(cmds);
  add_build_commands(cmds);
  // A later registration of the same path replaces an earlier one.
  std::vector<Command> out;
  out.reserve(cmds.size());
  for (size_t i = 0; i < cmds.size(); ++i) {
    bool replaced = false;
    for (size_t k = i + 1; k < cmds.size() && !replaced; ++k)
      replaced = std::string_view(cmds[k].path) == cmds[i].path;
    if (!replaced) out.push_back(std::move(cmds[i]));
  }
  return out;
}

// docker's SetInterspersed(false): flags end at the first positional
// argument (the image / container), the rest belongs to the command.
bool stops_at_first_arg(std::string_view path) {
  return path == "container run" || path == "container create" || path == "container exec" ||
         path == "container top";
}

void global_flags(FlagSet& g) {
  g.add_string("config", 0, "", "Location of client config files", "string");
  g.add_string("context", 'c', "", "Name of the context to use (only \"default\")", "string");
  g.add_bool("debug", 'D', "Enable debug mode");
  g.add_string("host", 'H', "", "Daemon socket to connect to", "list");
  g.add_string("log-level", 'l', "info",
               "Set the logging level (\"debug\", \"info\", \"warn\", \"error\", \"fatal\")");
  g.add_bool("tls", 0, "Use TLS; implied by --tlsverify");
  g.add_string("tlscacert", 0, "", "Trust certs signed only by this CA", "string");
  g.add_string("tlscert", 0, "", "Path to TLS certificate file", "string");
  g.add_string("tlskey", 0, "", "Path to TLS key file", "string");
  g.add_bool("tlsverify", 0, "Use TLS and verify the remote");
  g.add_bool("version", 'v', "Print version information and quit");
}

struct Group {
  const char* name;
  const char* description;
};
constexpr Group kGroups[] = {{"builder", "Manage builds"}, {"container", "Manage containers"},
                             {"image", "Manage images"},   {"network", "Manage networks"},
                             {"system", "Manage berth"},   {"volume", "Manage volumes"}};

std::string main_usage(const std::vector<Command>& cmds, const FlagSet& g) {
  std::string out =
      "\nUsage:  berth [OPTIONS] COMMAND\n\nA Docker-compatible container engine\n\n"
      "Management Commands:\n";
  for (const Group& gr : kGroups) out += fmt::format("  {:<11} {}\n", gr.name, gr.description);
  out += "\nCommands:\n";
  std::vector<std::pair<std::string, std::string>> top;
  for (const auto& c : cmds) {
    if (!std::strchr(c.path, ' ')) top.emplace_back(c.path, c.description);
    for (const char* a : c.aliases)
      if (a && !std::strchr(a, ' ')) top.emplace_back(a, c.description);
  }
  std::sort(top.begin(), top.end());
  for (auto& [n, d] : top) out += fmt::format("  {:<11} {}\n", n, d);
  out += "\nGlobal Options:\n" + g.usage();
  out += "\nRun 'berth COMMAND --help' for more information on a command.\n";
  return out;
}

std::string group_usage(const std::string& group, const std::vector<Command>& cmds) {
  std::string desc;
  for (const Group& gr : kGroups)
    if (group == gr.name) desc = gr.description;
  std::string out = fmt::format("\nUsage:  berth {} COMMAND\n\n{}\n\nCommands:\n", group, desc);
  std::vector<std::pair<std::string, std::string>> sub;  // sorted, as docker lists them
  for (const auto& c : cmds)
    if (starts_with(c.path, group + " "))
      sub.emplace_back(c.path + group.size() + 1, c.description);
  std::sort(sub.begin(), sub.end());
  for (auto& [n, d] : sub) out += fmt::format("  {:<11} {}\n", n, d);
  out += fmt::format("\nRun 'berth {} COMMAND --help' for more information on a command.\n", group);
  return out;
}

std::string command_help(const std::string& invoked, const Command& c, const FlagSet& f) {
  std::string out = fmt::format("\nUsage:  berth {} {}\n\n{}\n", invoked, c.usage, c.description);
  if (c.aliases[0]) {
    std::vector<std::string> names{std::string("berth ") + c.path};
    for (const char* a : c.aliases)
      if (a) names.push_back(std::string("berth ") + a);
    out += "\nAliases:\n  " + join(names, ", ") + "\n";
  }
  std::string opts = f.usage();
  if (!opts.empty()) out += "\nOptions:\n" + opts;
  return out;
}

std::string usage_hint(const std::string& invoked, const Command& c) {
  return fmt::format("\nUsage:  berth {} {}\n\nRun 'berth {} --help' for more information\n",
                     invoked, c.usage, invoked);
}

}  // namespace

int run_app(const std::vector<std::string>& args) {
  FlagSet g;
  global_flags(g);
  auto rest = g.parse(args, false);
  const std::vector<Command> cmds = all_commands();
  if (!rest) {
    std::fprintf(stderr,
                 "%s\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\nRun 'berth --help' for more "
                 "information\n",
                 rest.error().message.c_str());
    return 125;
  }
  if (g.get_bool("version")) {
    std::printf("berth version %s, build %s\n", kBerthVersion, kBerthGitCommit);
    return 0;
  }
  if (rest->empty() || g.help_requested()) {
    std::fputs(main_usage(cmds, g).c_str(), stdout);
    return 0;
  }
  if (!g.get_string("context").empty() && g.get_string("context") != "default") {
    std::fprintf(stderr, "context \"%s\" does not exist (berth has only \"default\")\n",
                 g.get_string("context").c_str());
    return 1;
  }
  GlobalOptions opts;
  opts.host = g.get_string("host");
  opts.config_dir = g.get_string("config");
  opts.debug = g.get_bool("debug");
  opts.log_level = g.get_string("log-level");
  // docker's TLS settings: flags, else $DOCKER_TLS_VERIFY with the
  // ca.pem/cert.pem/key.pem of $DOCKER_CERT_PATH (or the config dir).
  const char* tls_env = std::getenv("DOCKER_TLS_VERIFY");
  opts.tls = g.get_bool("tls") || g.get_bool("tlsverify") || (tls_env && *tls_env);
  opts.tls_ca = g.get_string("tlscacert");
  opts.tls_cert = g.get_string("tlscert");
  opts.tls_key = g.get_string("tlskey");
  if (opts.tls) {
    const char* cert_env = std::getenv("DOCKER_CERT_PATH");
    std::string dir = cert_env && *cert_env      ? cert_env
                      : !opts.config_dir.empty() ? opts.config_dir
                                                 : ConfigFile::default_dir();
    auto pick = [&](std::string& v, const char* file) {
      std::string p = dir + "/" + file;
      if (v.empty() && ::access(p.c_str(), R_OK) == 0) v = p;
    };
    pick(opts.tls_ca, "ca.pem");
    pick(opts.tls_cert, "cert.pem");
    pick(opts.tls_key, "key.pem");
  }
  if (opts.debug) log_set_level(LogLevel::Debug);

  // Resolve "images" / "image ls" / "system df".
  std::vector<std::string> words = *rest;
  std::string invoked = words[0];
  size_t consumed = 1;
  bool is_group = false;
  for (const Group& gr : kGroups)
    if (invoked == gr.name) is_group = true;
  if (is_group) {
    if (words.size() < 2 || words[1] == "--help" || words[1] == "-h") {
      std::fputs(group_usage(invoked, cmds).c_str(), stdout);
      return 0;
    }
    invoked += " " + words[1];
    consumed = 2;
  }
  const Command* cmd = nullptr;
  for (const auto& c : cmds) {
    if (invoked == c.path) cmd = &c;
    for (const char* a : c.aliases)
      if (a && invoked == a) cmd = &c;
  }
  if (!cmd) {
    std::string scope = is_group ? "berth " + words[0] : std::string("berth");
    std::fprintf(stderr,
                 "berth: unknown command: berth %s\n\nRun '%s --help' for more information\n",
                 invoked.c_str(), scope.c_str());
    return 1;
  }
  FlagSet f;
  cmd->flags(f);
  std::vector<std::string> cargs(words.begin() + static_cast<long>(consumed), words.end());
  auto pos = f.parse(cargs, !stops_at_first_arg(cmd->path));
  if (!pos) {
    std::fprintf(stderr, "%s\n%s", pos.error().message.c_str(), usage_hint(invoked, *cmd).c_str());
    return 125;
  }
  if (f.help_requested()) {
    std::fputs(command_help(invoked, *cmd, f).c_str(), stdout);
    return 0;
  }
  int n = static_cast<int>(pos->size());
  std::string count_error;
  auto plural = [](int k) { return k == 1 ? "argument" : "arguments"; };
  if (cmd->min_args == cmd->max_args && n != cmd->min_args) {
    count_error = cmd->min_args == 0
                      ? "accepts no arguments"
                      : fmt::format("requires {} {}", cmd->min_args, plural(cmd->min_args));
  } else if (n < cmd->min_args) {
    count_error = fmt::format("requires at least {} {}", cmd->min_args, plural(cmd->min_args));
  } else if (cmd->max_args >= 0 && n > cmd->max_args) {
    count_error = fmt::format("requires at most {} {}", cmd->max_args, plural(cmd->max_args));
  }
  if (!count_error.empty()) {
    std::fprintf(stderr, "berth: 'berth %s' %s\n%s", invoked.c_str(), count_error.c_str(),
                 usage_hint(invoked, *cmd).c_str());
    return 1;
  }
  Context ctx(opts);
  auto r = cmd->run(ctx, f, *pos);
  ctx.flush();
  if (!r && is_flag_value_error(r.error())) {
    // A flag value rejected by the command (sizes, CPUs...): docker reports
    // these while parsing flags, with the usage and status 125.
    std::fprintf(stderr, "%s\n%s", r.error().message.c_str(), usage_hint(invoked, *cmd).c_str());
    return 125;
  }
  if (!r) {
    std::string msg = r.error().message;
    std::fprintf(stderr, "%s\n", msg.c_str());
    return 1;
  }
  return *r;
}

}  // namespace berth::cli
