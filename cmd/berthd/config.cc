#include "config.h"

#include "base/file.h"
#include "logs/json_file.h"

namespace berthd {

using berth::Errc;
using berth::Json;
using berth::make_error;
using berth::Result;

namespace {

Result<std::vector<std::string>> strings(const Json& v, const std::string& path, const char* key) {
  if (!v.is_array())
    return make_error(Errc::InvalidArgument, "{}: {} must be an array of strings", path, key);
  std::vector<std::string> out;
  for (const auto& s : v) {
    if (!s.is_string())
      return make_error(Errc::InvalidArgument, "{}: {} must be an array of strings", path, key);
    out.push_back(s.get<std::string>());
  }
  return out;
}

}  // namespace

Result<void> check_log_opts(const std::map<std::string, std::string>& opts,
                            const std::string& driver) {
  // One key at a time first, so that the message names the option.
  for (const auto& [k, v] : opts) {
    if (auto r = berth::logs::parse_log_opts({{k, v}}, driver); !r) {
      const std::string& m = r.error().message;
      if (m.find(k) != std::string::npos) return r.error();
      return make_error(Errc::InvalidArgument, "{}: {}", k, m);
    }
  }
  BERTH_TRY(berth::logs::parse_log_opts(opts, driver));
  return berth::ok();
}

Result<void> apply_config_file(Config& cfg, std::string_view text, const std::string& path,
                               const std::set<std::string>& flags_set) {
  auto j = BERTH_TRY(berth::parse_json(text, path));
  if (!j.is_object()) return make_error(Errc::InvalidArgument, "{}: expected a JSON object", path);
  std::vector<std::string> conflicts;
  for (const auto& [key, v] : j.items()) {
    if (flags_set.count(key)) {
      conflicts.push_back(key);
      continue;
    }
    auto want = [&](bool ok, const char* what) -> Result<void> {
      if (!ok) return make_error(Errc::InvalidArgument, "{}: {} must be {}", path, key, what);
      return berth::ok();
    };
    if (key == "registry-mirrors") {
      cfg.registry_mirrors = BERTH_TRY(strings(v, path, "registry-mirrors"));
    } else if (key == "registry-mirrors-by-host") {
      BERTH_TRY(want(v.is_object(), "an object of host -> [urls]"));
      cfg.mirrors_by_host.clear();
      for (const auto& [host, urls] : v.items())
        cfg.mirrors_by_host[host] =
            BERTH_TRY(strings(urls, path, "registry-mirrors-by-host entries"));
    } else if (key == "insecure-registries") {
      cfg.insecure_registries = BERTH_TRY(strings(v, path, "insecure-registries"));
    } else if (key == "max-concurrent-downloads" || key == "max-concurrent-uploads") {
      BERTH_TRY(want(v.is_number_integer() && v.get<long long>() >= 1 && v.get<long long>() <= 64,
                     "an integer from 1 to 64"));
      (key == "max-concurrent-downloads" ? cfg.max_concurrent_downloads
                                         : cfg.max_concurrent_uploads) = v.get<int>();
    } else if (key == "data-root") {
      BERTH_TRY(want(v.is_string(), "a string"));
      cfg.data_root = v.get<std::string>();
    } else if (key == "exec-root") {
      BERTH_TRY(want(v.is_string(), "a string"));
      cfg.exec_root = v.get<std::string>();
    } else if (key == "debug") {
      BERTH_TRY(want(v.is_boolean(), "true or false"));
      cfg.debug = v.get<bool>();
    } else if (key == "log-level") {
      BERTH_TRY(want(v.is_string(), "a string"));
      cfg.log_level = v.get<std::string>();
      if (cfg.log_level != "debug" && cfg.log_level != "info" && cfg.log_level != "warn" &&
          cfg.log_level != "error")
        return make_error(Errc::InvalidArgument, "{}: log-level: unknown level \"{}\"", path,
                          cfg.log_level);
    } else if (key == "storage-driver") {
      BERTH_TRY(want(v.is_string(), "a string"));
      cfg.storage_driver = v.get<std::string>();
    } else if (key == "runtimes") {
      BERTH_TRY(
          want(v.is_object(), "an object of name -> {\"path\": ..., \"runtimeArgs\": [...]}"));
      for (const auto& [name, rt] : v.items()) {
        if (!rt.is_object() || !rt.contains("path") || !rt["path"].is_string() ||
            rt["path"].get<std::string>().empty()) {
          return make_error(Errc::InvalidArgument, "{}: runtimes: \"{}\" needs a \"path\" string",
                            path, name);
        }
        Config::Runtime r;
        r.path = rt["path"].get<std::string>();
        if (rt.contains("runtimeArgs")) {
          r.args = BERTH_TRY(strings(rt["runtimeArgs"], path, "runtimeArgs"));
        }
        for (const auto& [k2, unused] : rt.items()) {
          (void)unused;
          if (k2 != "path" && k2 != "runtimeArgs") {
            return make_error(Errc::InvalidArgument, "{}: runtimes: \"{}\": unknown key \"{}\"",
                              path, name, k2);
          }
        }
        cfg.runtimes[name] = r;
      }
    } else if (key == "default-runtime") {
      BERTH_TRY(want(v.is_string(), "a string"));
      cfg.default_runtime = v.get<std::string>();
    } else if (key == "live-restore") {
      BERTH_TRY(want(v.is_boolean(), "true or false"));
      cfg.live_restore = v.get<bool>();
    } else if (key == "hosts") {
      cfg.hosts = BERTH_TRY(strings(v, path, "hosts"));
    } else if (key == "bip" || key == "ip" || key == "bridge") {
      BERTH_TRY(want(v.is_string(), "a string"));
      (key == "bip"  ? cfg.bip
       : key == "ip" ? cfg.default_bind_ip
                     : cfg.bridge) = v.get<std::string>();
    } else if (key == "mtu") {
      BERTH_TRY(
          want(v.is_number_integer() && v.get<long long>() >= 68 && v.get<long long>() <= 65535,
               "an integer from 68 to 65535"));
      cfg.mtu = v.get<int>();
    } else if (key == "netns-pool") {
      BERTH_TRY(want(v.is_number_integer() && v.get<long long>() >= 0 && v.get<long long>() <= 16,
                     "an integer from 0 to 16"));
      cfg.netns_pool = v.get<int>();
    } else if (key == "standby-monitors") {
      BERTH_TRY(want(v.is_boolean(), "true or false"));
      cfg.standby_monitors = v.get<bool>();
    } else if (key == "dns") {
      cfg.dns = BERTH_TRY(strings(v, path, "dns"));
    } else if (key == "default-address-pools") {
      BERTH_TRY(want(v.is_array(), "an array of {\"base\": CIDR, \"size\": N}"));
      cfg.address_pools.clear();
      for (const auto& p : v) {
        if (!p.is_object() || !p.contains("base") || !p["base"].is_string() ||
            !p.contains("size") || !p["size"].is_number_integer() || p["size"].get<int>() < 1 ||
            p["size"].get<int>() > 30) {
          return make_error(Errc::InvalidArgument,
                            "{}: default-address-pools: each entry needs \"base\" (a CIDR) and "
                            "\"size\" (1-30)",
                            path);
        }
        cfg.address_pools.push_back({p["base"].get<std::string>(), p["size"].get<int>()});
      }
    } else if (key == "log-opts") {
      BERTH_TRY(want(v.is_object(), "an object of option -> string"));
      std::map<std::string, std::string> opts;
      for (const auto& [k2, v2] : v.items()) {
        if (!v2.is_string())
          return make_error(Errc::InvalidArgument, "{}: log-opts: {} must be a string", path, k2);
        opts[k2] = v2.get<std::string>();
      }
      // Checked below, against the file's log-driver.
      cfg.log_opts = std::move(opts);
    } else if (key == "log-driver") {
      BERTH_TRY(want(
          v.is_string() && (v.get<std::string>() == "json-file" || v.get<std::string>() == "local"),
          "\"json-file\" or \"local\" (the log drivers berthd has)"));
      cfg.log_driver = v.get<std::string>();
    } else if (key == "dashboard" || key == "dashboard-dir" || key == "systemctl-root") {
      BERTH_TRY(want(v.is_string(), "a string"));
      (key == "dashboard"       ? cfg.dashboard
       : key == "dashboard-dir" ? cfg.dashboard_dir
                                : cfg.systemctl_root) = v.get<std::string>();
      if (key == "dashboard") cfg.dashboard_explicit = true;
    } else {
      return make_error(Errc::InvalidArgument,
                        "{}: unknown configuration key \"{}\" (berthd knows registry-mirrors, "
                        "registry-mirrors-by-host, insecure-registries, max-concurrent-downloads, "
                        "max-concurrent-uploads, data-root, exec-root, debug, log-level, "
                        "storage-driver, hosts, runtimes, default-runtime, live-restore, bip, ip, "
                        "bridge, mtu, netns-pool, standby-monitors, dns, default-address-pools, "
                        "log-driver, "
                        "log-opts, dashboard, dashboard-dir, systemctl-root)",
                        path, key);
    }
  }
  if (auto r = check_log_opts(cfg.log_opts, cfg.log_driver); !r)
    return make_error(Errc::InvalidArgument, "{}: log-opts: {}", path, r.error().message);
  if (!conflicts.empty()) {
    std::string list;
    for (const auto& c : conflicts) list += (list.empty() ? "" : ", ") + c;
    return make_error(Errc::InvalidArgument,
                      "the following directives are specified both as a flag and in the "
                      "configuration file: {} (file {})",
                      list, path);
  }
  return berth::ok();
}

Result<void> load_config_file(Config& cfg, const std::set<std::string>& flags_set) {
  auto text = berth::read_file(cfg.config_file);
  if (!text) {
    if (text.error().code == Errc::NotFound && !cfg.config_file_explicit) return berth::ok();
    return text.error().context("config file " + cfg.config_file);
  }
  return apply_config_file(cfg, *text, cfg.config_file, flags_set);
}

}  // namespace berthd
