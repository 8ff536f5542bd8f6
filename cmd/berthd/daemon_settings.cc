#include "daemon_settings.h"

#include <cstdlib>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "dashboard/security.h"
#include "dashboard/static_files.h"

namespace berthd {

using berth::Errc;
using berth::make_error;
using berth::Result;
namespace dash = berth::dashboard;

berth::engine::ReloadableOptions reloadable_options(const Config& c) {
  berth::engine::ReloadableOptions r;
  r.registry.mirrors = c.mirrors_by_host;
  if (!c.registry_mirrors.empty()) r.registry.mirrors["docker.io"] = c.registry_mirrors;
  r.registry.insecure_registries = c.insecure_registries;
  r.max_concurrent_downloads = c.max_concurrent_downloads;
  r.max_concurrent_uploads = c.max_concurrent_uploads;
  r.debug = c.debug;
  return r;
}

berth::LogLevel log_level_of(const Config& c) {
  if (c.debug || c.log_level == "debug") return berth::LogLevel::Debug;
  if (c.log_level == "warn") return berth::LogLevel::Warn;
  if (c.log_level == "error") return berth::LogLevel::Error;
  return berth::LogLevel::Info;
}

namespace {

dash::SystemctlOptions systemctl_of(const Config& c) {
  dash::SystemctlOptions o;
  o.root = c.systemctl_root;
  return o;
}

std::string describe(const std::map<std::string, std::string>& m) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : m) parts.push_back(k + "=" + v);
  return "{" + berth::join(parts, ",") + "}";
}

}  // namespace

LiveConfig::LiveConfig(Config cfg, std::set<std::string> flags_set, berth::engine::Engine& engine)
    : cfg_(std::move(cfg)),
      flags_set_(std::move(flags_set)),
      engine_(engine),
      autostart_(systemctl_of(cfg_)) {
  if (auto* c = engine_.containers()) c->set_default_log_config(cfg_.log_driver, cfg_.log_opts);
}

Config LiveConfig::snapshot() const {
  std::lock_guard lk(mu_);
  return cfg_;
}

void LiveConfig::reload() {
  std::lock_guard lk(mu_);
  if (auto r = reload_locked(); !r)
    berth::log_error("reload: {} (keeping the current configuration)", r.error().message);
}

Result<void> LiveConfig::reload_locked() {
  Config next = cfg_;
  next.registry_mirrors.clear();
  next.mirrors_by_host.clear();
  next.insecure_registries.clear();
  next.log_driver = "json-file";
  next.log_opts.clear();
  // Keys given as flags keep their flag values; the file supplies the rest.
  for (const auto& k : flags_set_) {
    if (k == "registry-mirrors") next.registry_mirrors = cfg_.registry_mirrors;
    if (k == "insecure-registries") next.insecure_registries = cfg_.insecure_registries;
  }
  BERTH_TRY(load_config_file(next, flags_set_));
  if (next.data_root != cfg_.data_root || next.storage_driver != cfg_.storage_driver)
    berth::log_warn("reload: data-root and storage-driver need a restart; ignored");
  auto changes = engine_.reload(reloadable_options(next));
  if (next.log_level != cfg_.log_level)
    changes.push_back("log-level: " + cfg_.log_level + " -> " + next.log_level);
  // New containers take the new defaults (dockerd needs a restart for its
  // log-driver; nothing here depends on it).
  if (next.log_driver != cfg_.log_driver)
    changes.push_back("log-driver: " + cfg_.log_driver + " -> " + next.log_driver);
  if (next.log_opts != cfg_.log_opts)
    changes.push_back("log-opts: " + describe(cfg_.log_opts) + " -> " + describe(next.log_opts));
  if (next.log_driver != cfg_.log_driver || next.log_opts != cfg_.log_opts) {
    if (auto* c = engine_.containers()) c->set_default_log_config(next.log_driver, next.log_opts);
  }
  berth::log_set_level(log_level_of(next));
  cfg_.registry_mirrors = next.registry_mirrors;
  cfg_.mirrors_by_host = next.mirrors_by_host;
  cfg_.insecure_registries = next.insecure_registries;
  cfg_.max_concurrent_downloads = next.max_concurrent_downloads;
  cfg_.max_concurrent_uploads = next.max_concurrent_uploads;
  cfg_.debug = next.debug;
  cfg_.log_level = next.log_level;
  cfg_.log_driver = next.log_driver;
  cfg_.log_opts = next.log_opts;
  if (changes.empty()) berth::log_info("reload: nothing changed");
  for (const auto& c : changes) berth::log_info("reload: {}", c);
  return berth::ok();
}

dash::Settings LiveConfig::settings_locked() const {
  dash::Settings s;
  s.autostart = autostart_.state();
  s.log_opts = cfg_.log_opts;
  s.registry_mirrors = cfg_.registry_mirrors;
  return s;
}

Result<dash::Settings> LiveConfig::apply(const dash::SettingsPatch& p) {
  std::lock_guard lk(mu_);
  // Everything is checked before daemon.json is touched.
  if (p.registry_mirrors && flags_set_.count("registry-mirrors"))
    return make_error(Errc::FailedPrecondition,
                      "registry_mirrors: set by berthd's --registry-mirror flag; change it there");
  if (p.autostart_enabled) {
    auto st = autostart_.state();
    if (!st.supported) return make_error(Errc::FailedPrecondition, "autostart: {}", st.detail);
  }
  if (p.log_opts) {
    if (auto r = check_log_opts(*p.log_opts, cfg_.log_driver); !r)
      return make_error(Errc::InvalidArgument, "log_opts.{}", r.error().message);
  }
  std::string existing;
  if (auto text = berth::read_file(cfg_.config_file); text) {
    existing = std::move(*text);
  } else if (text.error().code != Errc::NotFound) {
    return text.error().context("config file " + cfg_.config_file);
  }
  auto merged = BERTH_TRY(dash::merge_daemon_json(existing, p));
  Config probe = cfg_;
  if (auto r = apply_config_file(probe, merged, cfg_.config_file, flags_set_); !r) {
    return make_error(Errc::InvalidArgument, "settings: {}", r.error().message);
  }
  if (p.log_opts || p.registry_mirrors) {
    BERTH_TRY(dash::write_daemon_json(cfg_.config_file, p));
    BERTH_TRY(reload_locked());
  }
  if (p.autostart_enabled) BERTH_TRY(autostart_.set_enabled(*p.autostart_enabled));
  return settings_locked();
}

dash::SettingsHooks LiveConfig::settings_hooks() {
  dash::SettingsHooks h;
  h.get = [this] {
    std::lock_guard lk(mu_);
    return settings_locked();
  };
  h.apply = [this](const dash::SettingsPatch& p) { return apply(p); };
  return h;
}

Result<DashboardServer> start_dashboard(const Config& cfg, const std::string& exe_dir,
                                        berth::http::Handler api, dash::SettingsHooks hooks) {
  DashboardServer out;
  if (cfg.dashboard == "none" || cfg.dashboard.empty()) return out;
  if (!berth::starts_with(cfg.dashboard, "tcp://"))
    return make_error(Errc::InvalidArgument, "--dashboard {}: expected tcp://HOST:PORT or none",
                      cfg.dashboard);
  const char* env = std::getenv("BERTH_DASHBOARD_DIR");
  auto dir = dash::find_dashboard_dir(cfg.dashboard_dir, env ? env : "", exe_dir);
  if (!dir) {
    berth::log_warn("dashboard: files not installed ({}); serving the API only, / answers 503",
                    cfg.dashboard_dir.empty()
                        ? "looked in $BERTH_DASHBOARD_DIR, " + exe_dir +
                              "/../share/berth/dashboard and " + exe_dir + "/../../dashboard/dist"
                        : "no index.html in " + cfg.dashboard_dir);
  }
  // The handler is installed before the Dashboard exists (the bound port
  // is needed to build it); requests in between get a 503.
  auto ready = std::make_shared<std::atomic<dash::Dashboard*>>(nullptr);
  berth::http::Listener l;
  l.address = cfg.dashboard;
  auto server =
      berth::http::Server::start({l}, [ready](berth::http::Request& q, berth::http::Response& r) {
        if (auto* d = ready->load()) return d->handle(q, r);
        [[maybe_unused]] auto s = r.send(503, {{"Content-Type", "text/plain"}}, "starting\n");
      });
  if (!server) {
    auto e = server.error().context("dashboard " + cfg.dashboard);
    if (cfg.dashboard_explicit) return e;
    berth::log_warn("{} (the dashboard is off; pass --dashboard ADDR or none)", e.message);
    return out;
  }
  std::string bound = (*server)->addresses().at(0);
  std::string host = bound.substr(6, bound.rfind(':') - 6);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  dash::DashboardOptions o;
  o.listen_address = bound;
  o.files_dir = dir.value_or("");
  o.api = std::move(api);
  o.settings = std::move(hooks);
  std::string token_file = cfg.data_root + "/dashboard.token";
  if (!dash::is_loopback_host(host)) {
    o.token = BERTH_TRY_CTX(dash::load_or_create_token(token_file), "dashboard");
  }
  out.dashboard = BERTH_TRY(dash::Dashboard::create(std::move(o)));
  ready->store(out.dashboard.get());
  out.server = std::move(*server);
  std::string url = "http://" + bound.substr(6) + "/";
  if (dash::is_loopback_host(host))
    berth::log_info("dashboard: {}", url);
  else
    berth::log_info("dashboard: {} (login token in {})", url, token_file);
  return out;
}

}  // namespace berthd
