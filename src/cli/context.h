// cli/context.h — what every berth command gets: output streams, terminal
// facts, global options, the config file and a lazily connected API client.
// Depends on: api/client, cli/config_file.
#pragma once

#include <array>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/client/engine_client.h"
#include "base/result.h"
#include "cli/config_file.h"
#include "cli/flags.h"

namespace berth::cli {

struct GlobalOptions {
  std::string host;        // -H / --host ("" = $DOCKER_HOST or the default)
  std::string config_dir;  // --config ("" = $DOCKER_CONFIG or ~/.docker)
  bool debug = false;      // -D
  std::string log_level;
  // --tlsverify / --tlscacert / --tlscert / --tlskey (tcp:// hosts)
  bool tls = false;
  std::string tls_ca, tls_cert, tls_key;
};

class Context {
 public:
  explicit Context(GlobalOptions g);
  // For tests: a ready client.
  Context(GlobalOptions g, std::unique_ptr<api::client::EngineClient> client);

  Result<api::client::EngineClient*> client();
  Result<ConfigFile> config() const;
  // X-Registry-Auth for a registry domain from the config file ("" on none).
  std::string registry_auth(const std::string& domain) const;

  void out(std::string_view s);
  void err(std::string_view s);
  void flush();

  const GlobalOptions& global() const { return g_; }
  // The API version the client settled on ("" when none yet).
  std::string known_api_version() const {
    return client_ ? client_->known_api_version() : std::string();
  }
  bool out_is_terminal() const { return out_tty_; }
  bool in_is_terminal() const { return in_tty_; }
  int terminal_width() const { return width_; }
  int64_t now_unix() const;

  // Tests redirect output here instead of stdout/stderr.
  std::function<void(std::string_view)> out_sink, err_sink;
  bool out_tty_ = false, in_tty_ = false;
  int width_ = 80;

 private:
  GlobalOptions g_;
  std::unique_ptr<api::client::EngineClient> client_;
};

// A command's outcome besides errors: its exit status (docker's StatusError).
// String literals only: every command is registered on every run of the CLI,
// so a registration costs no allocation.
struct Command {
  const char* path;                    // "image ls"
  std::array<const char*, 3> aliases;  // "images", "image list"; unused: nullptr
  const char* usage;                   // "[OPTIONS] [REPOSITORY[:TAG]]"
  const char* description;
  int min_args = 0;
  int max_args = -1;  // -1: no limit
  std::function<void(FlagSet&)> flags;
  std::function<Result<int>(Context&, const FlagSet&, const std::vector<std::string>&)> run;
};

// docker's command.PromptForConfirmation: prints `message` + " [y/N] " and
// reads one line of stdin; true only for "y" / "Y".
bool confirm(Context& ctx, const std::string& message);

void add_image_commands(std::vector<Command>& cmds);     // cmd_images.cc
void add_registry_commands(std::vector<Command>& cmds);  // cmd_registry.cc
void add_archive_commands(std::vector<Command>& cmds);   // cmd_archive.cc
void add_system_commands(std::vector<Command>& cmds);    // cmd_system.cc
void add_doctor_commands(std::vector<Command>& cmds);    // cmd_doctor.cc
void add_network_commands(std::vector<Command>& cmds);   // cmd_network.cc
void add_volume_commands(std::vector<Command>& cmds);    // cmd_volume.cc
void add_build_commands(std::vector<Command>& cmds);     // cmd_build.cc

// Parses `KEY=VALUE` filter flags into docker's filters JSON
// ({"key":{"value":true}}); "" when there are none. InvalidArgument
// "bad format of filter (expected name=value)" like docker.
Result<std::string> filters_json(
    const std::vector<std::string>& filters,
    const std::vector<std::pair<std::string, std::string>>& extra = {});

// Streams progress messages to the output like docker (TTY aware).
api::client::MessageFn progress_printer(Context& ctx, bool quiet);

}  // namespace berth::cli
