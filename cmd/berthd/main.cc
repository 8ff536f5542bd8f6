// berthd: the berth daemon. Parses flags and daemon.json, takes the data-root
// lock, opens the stores, builds the engine and the API server, then waits for
// signals: SIGHUP reloads the reloadable keys, SIGTERM/SIGINT stop cleanly.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "api/server/router.h"
#include "base/fd.h"
#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "config.h"
#include "daemon_settings.h"
#include "engine/engine.h"
#include "engine/local_containers.h"
#include "engine/network_manager.h"
#include "http/server.h"
#include "image/local_service.h"
#include "store/metadata/metadata.h"
#include "sys/systemd.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.1.0"
#endif

using berth::Errc;
using berth::make_error;
using berth::Result;

namespace {

// flock on <data-root>/berthd.lock (held for the process lifetime) with our pid
// inside, so a second daemon can name the holder.
Result<berth::Fd> lock_data_root(const std::string& data_root) {
  std::string path = data_root + "/berthd.lock";
  berth::Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return berth::sys_error("open " + path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return berth::sys_error("flock " + path);
    auto holder = berth::read_file(path);
    std::string pid = holder ? std::string(berth::trim(*holder)) : "?";
    return make_error(Errc::Conflict,
                      "another berthd (pid {}) is using data root {}; stop it first or pass "
                      "another --data-root",
                      pid.empty() ? "?" : pid, data_root);
  }
  if (::ftruncate(fd.get(), 0) != 0) return berth::sys_error("truncate " + path);
  std::string pid = std::to_string(::getpid()) + "\n";
  BERTH_TRY(berth::write_all(fd.get(), pid));
  return fd;
}

Result<std::vector<berth::http::Listener>> listeners_of(const berthd::Config& c) {
  std::vector<berth::http::Listener> out;
  // The socket's group comes from /etc/group itself (fgetgrent), as dockerd
  // reads it: getgrnam would load NSS modules (libnss_systemd...) into an
  // otherwise idle daemon for a local group only.
  int gid = -1;
  if (FILE* f = std::fopen("/etc/group", "re")) {
    while (struct group* g = ::fgetgrent(f)) {
      if (std::strcmp(g->gr_name, "berth") == 0) {
        gid = static_cast<int>(g->gr_gid);
        break;
      }
    }
    std::fclose(f);
  }
  std::vector<std::string> hosts;
  for (const auto& h : c.hosts) {
    if (h != "fd://") {
      hosts.push_back(h);
      continue;
    }
    // "fd://" alone: every socket systemd passed (socket activation), as
    // dockerd does; "fd://N" names one.
    auto fds = berth::sys::take_listen_fds();
    if (!fds) return fds.error().context("-H fd://");
    if (fds->empty())
      return make_error(Errc::InvalidArgument,
                        "-H fd://: no sockets were passed by systemd (LISTEN_FDS/LISTEN_PID unset "
                        "or not for this process)");
    for (int fd : *fds) hosts.push_back("fd://" + std::to_string(fd));
  }
  for (const auto& h : hosts) {
    berth::http::Listener l;
    l.address = h;
    if (berth::starts_with(h, "unix://")) {
      l.mode = 0660;
      l.gid = gid;
    } else if (berth::starts_with(h, "tcp://")) {
      if (c.tls_verify) {
        if (c.tls_ca.empty() || c.tls_cert.empty() || c.tls_key.empty())
          return make_error(Errc::InvalidArgument,
                            "--tlsverify needs --tlscacert, --tlscert and --tlskey");
        l.tls = berth::http::TlsConfig{c.tls_cert, c.tls_key, c.tls_ca};
      } else if (c.insecure_tcp) {
        berth::log_warn(
            "listening on {} without TLS (--insecure-tcp): anyone who can reach it controls "
            "this host as root",
            h);
      } else {
        return make_error(Errc::InvalidArgument,
                          "-H {}: tcp listeners need --tlsverify with --tlscacert/--tlscert/"
                          "--tlskey (or --insecure-tcp to accept the risk)",
                          h);
      }
    } else if (!berth::starts_with(h, "fd://")) {
      return make_error(Errc::InvalidArgument, "-H {}: expected unix://, tcp:// or fd://", h);
    }
    out.push_back(std::move(l));
  }
  return out;
}

// A daemon started from a shell would keep the shell's soft limit on open
// files (often 1024): berthd holds a few fds per running container and its
// monitors (which inherit the limit) two per relayed connection. dockerd's
// Go runtime raises its soft limit to the hard one; so does berthd.
// Containers are not affected: their limits come from their spec.
void raise_nofile_limit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0)
    berth::log_warn("raising the open-files limit to {}: {}", rl.rlim_max, std::strerror(errno));
}

int fail(const berth::Error& e) {
  std::fprintf(stderr, "berthd: %s\n", e.message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"berthd: the berth daemon (Docker Engine API)", "berthd"};
  app.set_version_flag("-v,--version", std::string("berthd version ") + BERTH_VERSION);
  berthd::Config cfg;
  std::vector<CLI::Option*> file_keys;  // flags that daemon.json may also set
  auto key = [&](CLI::Option* o, const char* json_key) {
    o->description(o->get_description());
    file_keys.push_back(o);
    o->group("Options");
    (void)json_key;
    return o;
  };
  std::map<std::string, CLI::Option*> by_key;
  by_key["data-root"] =
      key(app.add_option("--data-root", cfg.data_root, "persistent state"), "data-root");
  by_key["exec-root"] =
      key(app.add_option("--exec-root", cfg.exec_root, "runtime state"), "exec-root");
  by_key["hosts"] =
      key(app.add_option("-H,--host", cfg.hosts, "listen address (repeatable)"), "hosts");
  app.add_flag("--tlsverify", cfg.tls_verify, "require TLS client certificates on tcp://");
  app.add_option("--tlscacert", cfg.tls_ca, "CA for client certificates");
  app.add_option("--tlscert", cfg.tls_cert, "server certificate");
  app.add_option("--tlskey", cfg.tls_key, "server key");
  app.add_flag("--insecure-tcp", cfg.insecure_tcp, "allow tcp:// without TLS (logs a warning)");
  auto* cf = app.add_option("--config-file", cfg.config_file, "daemon.json");
  by_key["debug"] = key(app.add_flag("-D,--debug", cfg.debug, "debug logging"), "debug");
  by_key["log-level"] = key(app.add_option("-l,--log-level", cfg.log_level, "debug|info|warn|error")
                                ->check(CLI::IsMember({"debug", "info", "warn", "error"})),
                            "log-level");
  app.add_option("--log-format", cfg.log_format, "text|json")
      ->check(CLI::IsMember({"text", "json"}));
  by_key["registry-mirrors"] =
      key(app.add_option("--registry-mirror", cfg.registry_mirrors, "docker.io mirror"), "");
  by_key["insecure-registries"] =
      key(app.add_option("--insecure-registry", cfg.insecure_registries, "http registry"), "");
  by_key["max-concurrent-downloads"] =
      key(app.add_option("--max-concurrent-downloads", cfg.max_concurrent_downloads)
              ->check(CLI::Range(1, 64)),
          "");
  by_key["max-concurrent-uploads"] =
      key(app.add_option("--max-concurrent-uploads", cfg.max_concurrent_uploads)
              ->check(CLI::Range(1, 64)),
          "");
  by_key["storage-driver"] =
      key(app.add_option("-s,--storage-driver", cfg.storage_driver, "overlayfs|copy"), "");
  by_key["default-runtime"] = key(
      app.add_option("--default-runtime", cfg.default_runtime, "runtime for new containers"), "");
  by_key["runtimes"] = key(app.add_option("--add-runtime", cfg.add_runtime,
                                          "a container runtime NAME=PATH (repeatable)"),
                           "");
  by_key["live-restore"] =
      key(app.add_flag("--live-restore", cfg.live_restore, "accepted; always on"), "");
  by_key["bip"] = key(app.add_option("--bip", cfg.bip, "default bridge gateway/prefix"), "");
  by_key["ip"] = key(app.add_option("--ip", cfg.default_bind_ip,
                                    "default address of published ports (0.0.0.0 or 127.0.0.1)"),
                     "");
  by_key["bridge"] =
      key(app.add_option("-b,--bridge", cfg.bridge, "device of the default bridge network"), "");
  by_key["mtu"] = key(
      app.add_option("--mtu", cfg.mtu, "MTU of container interfaces")->check(CLI::Range(68, 65535)),
      "");
  by_key["netns-pool"] =
      key(app.add_option("--netns-pool", cfg.netns_pool,
                         "network namespaces kept ready per bridge network (0: none)")
              ->check(CLI::Range(0, 16)),
          "");
  by_key["standby-monitors"] = key(
      app.add_option("--standby-monitors", cfg.standby_monitors,
                     "start monitors ahead of need: one idle, and a created container's before its "
                     "start (true|false)"),
      "");
  by_key["dns"] =
      key(app.add_option("--dns", cfg.dns, "upstream resolvers of the embedded DNS"), "");
  by_key["dashboard"] = key(app.add_option("--dashboard", cfg.dashboard,
                                           "web dashboard listener tcp://HOST:PORT, or none"),
                            "");
  by_key["dashboard-dir"] = key(
      app.add_option("--dashboard-dir", cfg.dashboard_dir, "directory of the dashboard's files"),
      "");
  by_key["systemctl-root"] = key(app.add_option("--systemctl-root", cfg.systemctl_root,
                                                "--root for systemctl (autostart setting)"),
                                 "");
  CLI11_PARSE(app, argc, argv);
  cfg.dashboard_explicit = by_key["dashboard"]->count() > 0;
  for (const auto& a : cfg.add_runtime) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == a.size())
      return fail(make_error(Errc::InvalidArgument, "--add-runtime {}: expected NAME=PATH", a));
    cfg.runtimes[a.substr(0, eq)] = {a.substr(eq + 1), {}};
  }
  cfg.config_file_explicit = cf->count() > 0;

  std::set<std::string> flags_set;
  for (const auto& [k, o] : by_key)
    if (o->count() > 0) flags_set.insert(k);
  if (auto r = berthd::load_config_file(cfg, flags_set); !r) return fail(r.error());
  if (cfg.hosts.empty()) cfg.hosts.push_back("unix://" + cfg.exec_root + "/berth.sock");
  berth::log_set_format(cfg.log_format == "json" ? berth::LogFormat::Json : berth::LogFormat::Text);
  berth::log_set_level(berthd::log_level_of(cfg));
  raise_nofile_limit();

  // Signals are handled by sigwait in this thread: block them before any
  // thread starts so every thread inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  std::filesystem::create_directories(cfg.data_root, ec);
  if (ec) return fail(make_error(Errc::Io, "create data root {}: {}", cfg.data_root, ec.message()));
  ::chmod(cfg.data_root.c_str(), 0711);
  std::filesystem::create_directories(cfg.exec_root, ec);
  if (ec) return fail(make_error(Errc::Io, "create exec root {}: {}", cfg.exec_root, ec.message()));
  auto lock = lock_data_root(cfg.data_root);
  if (!lock) return fail(lock.error());
  std::string pid_file = cfg.exec_root + "/berthd.pid";
  if (auto r = berth::write_file_atomic(pid_file, std::to_string(::getpid()) + "\n", 0644,
                                        berth::Durability::ProcessCrashSafe);
      !r)
    return fail(r.error());

  auto listeners = listeners_of(cfg);
  if (!listeners) return fail(listeners.error());
  auto meta = berth::metadata::MetadataStore::open(cfg.data_root + "/metadata.db");
  if (!meta) return fail(meta.error().context("open metadata store"));
  std::shared_ptr<berth::metadata::MetadataStore> shared_meta = std::move(*meta);
  auto reload = berthd::reloadable_options(cfg);
  berth::image::LocalOptions lo;
  lo.data_root = cfg.data_root;
  lo.storage_driver = cfg.storage_driver;
  lo.registry = reload.registry;
  lo.max_concurrent_downloads = cfg.max_concurrent_downloads;
  lo.max_concurrent_uploads = cfg.max_concurrent_uploads;
  auto images = berth::image::open_local_image_service(lo, shared_meta);
  if (!images) return fail(images.error().context("open image store"));
  if (auto freed = (*images)->gc(); freed) {
    if (*freed > 0) berth::log_info("gc: freed {} bytes at startup", *freed);
  } else {
    berth::log_warn("gc at startup failed: {}", freed.error().message);
  }
  berth::engine::EngineOptions eo;
  eo.data_root = cfg.data_root;
  eo.exec_root = cfg.exec_root;
  eo.version = BERTH_VERSION;
  eo.reloadable = reload;
  auto engine = berth::engine::Engine::create(eo, std::move(*images));
  if (!engine) return fail(engine.error());
  {
    auto volumes =
        berth::engine::VolumeService::open(cfg.data_root, shared_meta, (*engine)->events());
    if (!volumes) return fail(volumes.error().context("open volumes"));
    (*engine)->set_volumes(std::move(*volumes));
  }
  {
    // Containers get their own connection to the same database (WAL).
    auto cmeta = berth::metadata::MetadataStore::open(cfg.data_root + "/metadata.db");
    if (!cmeta) return fail(cmeta.error().context("open metadata store"));
    berth::engine::ContainerServiceOptions co;
    co.data_root = cfg.data_root;
    co.exec_root = cfg.exec_root;
    std::string self_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    // Beside berthd; in a build tree each binary has its own cmd/<name>/ dir.
    auto beside = [&](const std::string& name) {
      std::string p = self_dir + "/" + name;
      std::string tree = self_dir + "/../" + name + "/" + name;
      return std::filesystem::exists(p, ec) || !std::filesystem::exists(tree, ec) ? p : tree;
    };
    co.monitor_binary = beside("berth-monitor");
    co.init_binary = beside("berth-init");
    if (const char* m = std::getenv("BERTH_MONITOR_BINARY")) co.monitor_binary = m;
    if (const char* m = std::getenv("BERTH_INIT_BINARY")) co.init_binary = m;
    for (const auto& [name, rt] : cfg.runtimes) {
      co.runtimes[name] = rt.path;
      co.runtime_args[name] = rt.args;
    }
    if (!cfg.default_runtime.empty() && cfg.default_runtime != "berth" &&
        !co.runtimes.contains(cfg.default_runtime))
      return fail(make_error(Errc::InvalidArgument, "default-runtime \"{}\" is not a known runtime",
                             cfg.default_runtime));
    co.default_runtime = cfg.default_runtime;
    co.standby_monitors = cfg.standby_monitors;
    co.pooled_monitors = cfg.standby_monitors;
    auto nmeta = berth::metadata::MetadataStore::open(cfg.data_root + "/metadata.db");
    if (!nmeta) return fail(nmeta.error().context("open metadata store"));
    berth::engine::NetworkManagerOptions no;
    no.exec_root = cfg.exec_root;
    no.bridge_name = cfg.bridge;
    no.bip = cfg.bip;
    for (const auto& p : cfg.address_pools) no.pools.push_back({p.base, p.size});
    no.default_bind_ip = cfg.default_bind_ip;
    no.mtu = cfg.mtu;
    no.netns_pool = static_cast<size_t>(cfg.netns_pool);
    no.dns_upstreams = cfg.dns;
    if (const char* t = std::getenv("BERTH_NFT_TABLE")) no.nft_table = t;
    auto networks = berth::engine::NetworkManager::open(no, std::move(*nmeta), (*engine)->events());
    if (!networks) return fail(networks.error().context("networks"));
    co.networks = networks->get();
    (*engine)->set_networks(std::move(*networks));
    co.volumes = (*engine)->volumes();
    auto containers = berth::engine::open_container_service(co, (*engine)->images(),
                                                            std::move(*cmeta), (*engine)->events());
    if (!containers) return fail(containers.error().context("restore containers"));
    (*engine)->set_containers(std::move(*containers));
  }
  berth::api::server::Router router(**engine,
                                    {std::string("Berth/") + BERTH_VERSION + " (linux)", false});
  berthd::LiveConfig live(cfg, flags_set, **engine);
  std::string exe_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  // The dashboard first: a configured address that cannot be bound stops
  // berthd before its API socket answers.
  auto dashboard = berthd::start_dashboard(cfg, exe_dir, router.handler(), live.settings_hooks());
  if (!dashboard) return fail(dashboard.error());
  auto server = berth::http::Server::start(*listeners, router.handler());
  if (!server) return fail(server.error().context("listen"));
  berth::log_info("berthd {} listening on {} (data root {}, storage driver {})", BERTH_VERSION,
                  berth::join((*server)->addresses(), ", "), cfg.data_root,
                  (*engine)->images().storage_driver());
  // Type=notify units wait for this (a no-op without $NOTIFY_SOCKET).
  if (auto r = berth::sys::notify("READY=1"); !r)
    berth::log_warn("sd_notify: {}", r.error().message);

  while (true) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGHUP) {
      [[maybe_unused]] auto n1 = berth::sys::notify("RELOADING=1");
      live.reload();
      [[maybe_unused]] auto n2 = berth::sys::notify("READY=1");
      continue;
    }
    berth::log_info("received signal {}, shutting down", sig);
    break;
  }
  [[maybe_unused]] auto n3 = berth::sys::notify("STOPPING=1");
  if (dashboard->server) dashboard->server->stop();
  (*server)->stop();
  dashboard->server.reset();
  dashboard->dashboard.reset();
  server->reset();
  engine->reset();
  shared_meta.reset();
  ::unlink(pid_file.c_str());
  berth::log_info("berthd stopped");
  return 0;
}
