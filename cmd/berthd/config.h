// cmd/berthd/config.h — berthd's settings from flags and daemon.json, merged
// as dockerd does: a key set both by a flag and in the file is an error, an
// unknown key in the file is an error naming it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace berthd {

struct Config {
  std::string data_root = "/var/lib/berth";
  std::string exec_root = "/run/berth";
  std::vector<std::string> hosts;
  bool tls_verify = false;
  std::string tls_ca, tls_cert, tls_key;
  bool insecure_tcp = false;
  std::string config_file = "/etc/berth/daemon.json";
  bool config_file_explicit = false;
  bool debug = false;
  std::string log_level = "info";
  std::string log_format = "text";
  std::vector<std::string> registry_mirrors;  // docker.io mirrors
  std::map<std::string, std::vector<std::string>> mirrors_by_host;
  std::vector<std::string> insecure_registries;
  int max_concurrent_downloads = 3;
  int max_concurrent_uploads = 5;
  std::string storage_driver;
  // Container runtimes: name -> {path, runtimeArgs} (docker's "runtimes").
  struct Runtime {
    std::string path;
    std::vector<std::string> args;
  };
  std::map<std::string, Runtime> runtimes;
  std::string default_runtime;           // "" = the built-in runtime
  bool live_restore = true;              // accepted; berthd always restores
  std::vector<std::string> add_runtime;  // --add-runtime name=path
  // Networking (docker's keys): the default bridge's gateway/prefix
  // ("bip"), the pools user networks are carved from, the default address
  // of published ports ("ip": 0.0.0.0 like docker, or 127.0.0.1), the MTU,
  // the upstream resolvers of the embedded DNS, the bridge device name.
  std::string bip;
  struct Pool {
    std::string base;
    int size = 24;
  };
  std::vector<Pool> address_pools;
  std::string default_bind_ip = "0.0.0.0";
  int mtu = 1500;
  int netns_pool = 2;            // ready namespaces per recently used bridge network
  bool standby_monitors = true;  // engine/local_containers.h spawn_standby
  std::vector<std::string> dns;
  std::string bridge = "berth0";
  // The log driver and options of new containers that name none (docker's
  // "log-driver", "json-file" or "local", and "log-opts").
  std::string log_driver = "json-file";
  std::map<std::string, std::string> log_opts;
  // The web dashboard's listener ("none" = off; docs/design/dashboard.md),
  // the directory of its files ("" = searched), and the --root systemctl
  // gets for the autostart setting ("" = the running system).
  std::string dashboard = "tcp://127.0.0.1:9000";
  bool dashboard_explicit = false;  // set by flag or file: a bind failure is fatal
  std::string dashboard_dir;
  std::string systemctl_root;
};

// The rules of a container's --log-opt for `driver` ("json-file" or
// "local"), for daemon.json's "log-opts"; InvalidArgument names the option
// ("max-size: invalid size").
berth::Result<void> check_log_opts(const std::map<std::string, std::string>& opts,
                                   const std::string& driver);

// Applies daemon.json text onto cfg. `flags_set` holds the daemon.json key
// names that were given as flags. InvalidArgument names the file and key.
berth::Result<void> apply_config_file(Config& cfg, std::string_view text, const std::string& path,
                                      const std::set<std::string>& flags_set);
// Reads the file (missing is fine unless it was named explicitly).
berth::Result<void> load_config_file(Config& cfg, const std::set<std::string>& flags_set);

}  // namespace berthd
