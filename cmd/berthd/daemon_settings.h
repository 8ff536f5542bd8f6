// cmd/berthd/daemon_settings.h — the parts of berthd's configuration that
// change while it runs: SIGHUP's reload of daemon.json, the dashboard's
// settings page (which writes daemon.json and reloads through the same
// path), and the dashboard listener itself.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "base/log.h"
#include "base/result.h"
#include "config.h"
#include "dashboard/autostart.h"
#include "dashboard/dashboard.h"
#include "engine/engine.h"
#include "http/server.h"

namespace berthd {

// The engine's reloadable options and the log level a configuration asks for.
berth::engine::ReloadableOptions reloadable_options(const Config& c);
berth::LogLevel log_level_of(const Config& c);

// The running configuration and what applies it. reload() and the settings
// hooks may run concurrently (main thread on SIGHUP, connection threads):
// every method takes the mutex.
class LiveConfig {
 public:
  LiveConfig(Config cfg, std::set<std::string> flags_set, berth::engine::Engine& engine);
  // Re-reads daemon.json and applies the reloadable keys (registry mirrors,
  // insecure registries, concurrency, debug, log level, log-opts). A bad
  // file is logged and changes nothing.
  void reload();
  berth::dashboard::SettingsHooks settings_hooks();
  Config snapshot() const;

 private:
  berth::Result<void> reload_locked();
  berth::dashboard::Settings settings_locked() const;
  berth::Result<berth::dashboard::Settings> apply(const berth::dashboard::SettingsPatch& p);

  mutable std::mutex mu_;
  Config cfg_;
  std::set<std::string> flags_set_;
  berth::engine::Engine& engine_;
  berth::dashboard::Autostart autostart_;
};

// The dashboard listener and its handler (null server: "none").
struct DashboardServer {
  std::unique_ptr<berth::dashboard::Dashboard> dashboard;
  std::unique_ptr<berth::http::Server> server;
};

// Binds cfg.dashboard and serves the dashboard there, forwarding /api to
// `api`. Files: --dashboard-dir, else $BERTH_DASHBOARD_DIR, else beside
// `exe_dir` (installed or build tree); none found is logged, not fatal.
// A listener that is not loopback gets a token (<data-root>/dashboard.token).
// A bind failure is an error when the address was configured, a warning for
// the default one (another program may hold port 9000).
berth::Result<DashboardServer> start_dashboard(const Config& cfg, const std::string& exe_dir,
                                               berth::http::Handler api,
                                               berth::dashboard::SettingsHooks hooks);

}  // namespace berthd
