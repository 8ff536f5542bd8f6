#include "cli/context.h"

#include "base/strings.h"

#include <iostream>

#include <sys/ioctl.h>
#include <unistd.h>

#include <ctime>

#include "api/client/auth.h"
#include "cli/progress.h"

namespace berth::cli {

Context::Context(GlobalOptions g) : g_(std::move(g)) {
  out_tty_ = ::isatty(STDOUT_FILENO) == 1;
  in_tty_ = ::isatty(STDIN_FILENO) == 1;
  struct winsize ws {};
  if (out_tty_ && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) width_ = ws.ws_col;
}

Context::Context(GlobalOptions g, std::unique_ptr<api::client::EngineClient> client)
    : g_(std::move(g)), client_(std::move(client)) {}

Result<api::client::EngineClient*> Context::client() {
  if (!client_) {
    api::client::Options o;
    o.host = g_.host;
    if (g_.tls || !g_.tls_ca.empty() || !g_.tls_cert.empty())
      o.tls = http::TlsConfig{g_.tls_cert, g_.tls_key, g_.tls_ca};
    client_ = BERTH_TRY(api::client::EngineClient::connect(o));
  }
  return client_.get();
}

Result<ConfigFile> Context::config() const {
  return ConfigFile::load(g_.config_dir.empty() ? ConfigFile::default_dir() : g_.config_dir);
}

std::string Context::registry_auth(const std::string& domain) const {
  auto cfg = config();
  if (!cfg) return "";
  std::string key = ConfigFile::server_key(domain);
  auto creds = cfg->get(key);
  if (!creds || !*creds) return "";
  api::client::RegistryAuth a;
  a.username = (*creds)->username;
  a.password = (*creds)->password;
  a.identity_token = (*creds)->identity_token;
  a.server_address = key;
  return api::client::encode_registry_auth(a);
}

void Context::out(std::string_view s) {
  if (out_sink) return out_sink(s);
  std::fwrite(s.data(), 1, s.size(), stdout);
}

void Context::err(std::string_view s) {
  if (err_sink) return err_sink(s);
  std::fflush(stdout);
  std::fwrite(s.data(), 1, s.size(), stderr);
}

void Context::flush() { std::fflush(stdout); }

int64_t Context::now_unix() const { return static_cast<int64_t>(std::time(nullptr)); }

Result<std::string> filters_json(const std::vector<std::string>& filters,
                                 const std::vector<std::pair<std::string, std::string>>& extra) {
  Json j = Json::object();
  for (const auto& f : filters) {
    auto eq = f.find('=');
    if (eq == std::string::npos)
      return make_error(Errc::InvalidArgument, "bad format of filter (expected name=value)");
    std::string k = f.substr(0, eq), v = f.substr(eq + 1);
    // docker lowercases the key and trims spaces around both parts.
    for (char& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    j[k][v] = true;
  }
  for (auto& [k, v] : extra) j[k][v] = true;
  if (j.empty()) return std::string();
  return dump_json(j);
}

api::client::MessageFn progress_printer(Context& ctx, bool quiet) {
  auto printer = std::make_shared<ProgressPrinter>(
      [&ctx, quiet](std::string_view s) {
        if (!quiet) {
          ctx.out(s);
          ctx.flush();
        }
      },
      ctx.out_is_terminal(), ctx.terminal_width());
  return [printer, &ctx](const api::client::JsonMessage& m) -> Result<void> {
    printer->display(m, ctx.now_unix());
    return ok();
  };
}

bool confirm(Context& ctx, const std::string& message) {
  ctx.out(message + " [y/N] ");
  ctx.flush();
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  std::string_view a = trim(answer);
  return a == "y" || a == "Y";
}

}  // namespace berth::cli
