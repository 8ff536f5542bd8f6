// engine/commit_config.cc — see commit_config.h.
#include "engine/commit_config.h"

#include <algorithm>

namespace berth::engine {

namespace {

std::string env_key(const std::string& kv) { return kv.substr(0, kv.find('=')); }

void add_missing(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const auto& v : from)
    if (std::find(to.begin(), to.end(), v) == to.end()) to.push_back(v);
}

}  // namespace

ContainerConfig merge_commit_config(ContainerConfig u, const ContainerConfig& c) {
  if (u.user.empty()) u.user = c.user;
  add_missing(u.exposed_ports, c.exposed_ports);
  if (u.env.empty()) {
    u.env = c.env;
  } else {
    for (const auto& ce : c.env) {
      const std::string k = env_key(ce);
      bool set = std::any_of(u.env.begin(), u.env.end(),
                             [&](const std::string& ue) { return env_key(ue) == k; });
      if (!set) u.env.push_back(ce);
    }
  }
  for (const auto& [k, v] : c.labels) u.labels.emplace(k, v);  // the body's value stays
  if (!u.entrypoint || u.entrypoint->empty()) {
    if (!u.cmd || u.cmd->empty()) {
      u.cmd = c.cmd;
      u.args_escaped = c.args_escaped;
    }
    if (!u.entrypoint) u.entrypoint = c.entrypoint;
  }
  if (c.healthcheck) fill_healthcheck(u.healthcheck, *c.healthcheck);
  if (u.working_dir.empty()) u.working_dir = c.working_dir;
  add_missing(u.volumes, c.volumes);
  if (u.stop_signal.empty()) u.stop_signal = c.stop_signal;
  return u;
}

Json image_config_json(const ContainerConfig& cc) {
  Json cfg = Json::object();
  cfg["User"] = cc.user;
  if (!cc.exposed_ports.empty()) {
    Json ports = Json::object();
    for (const auto& p : cc.exposed_ports) ports[p] = Json::object();
    cfg["ExposedPorts"] = ports;
  }
  cfg["Env"] = cc.env;
  if (cc.cmd) cfg["Cmd"] = *cc.cmd;
  if (cc.entrypoint) cfg["Entrypoint"] = *cc.entrypoint;
  if (!cc.volumes.empty()) {
    Json vols = Json::object();
    for (const auto& v : cc.volumes) vols[v] = Json::object();
    cfg["Volumes"] = vols;
  }
  cfg["WorkingDir"] = cc.working_dir;
  cfg["Labels"] = cc.labels;
  if (!cc.stop_signal.empty()) cfg["StopSignal"] = cc.stop_signal;
  if (cc.healthcheck) {
    const auto& h = *cc.healthcheck;
    Json hj = Json::object();
    hj["Test"] = h.test;
    if (h.interval_ns) hj["Interval"] = h.interval_ns;
    if (h.timeout_ns) hj["Timeout"] = h.timeout_ns;
    if (h.start_period_ns) hj["StartPeriod"] = h.start_period_ns;
    if (h.start_interval_ns) hj["StartInterval"] = h.start_interval_ns;
    if (h.retries) hj["Retries"] = h.retries;
    cfg["Healthcheck"] = hj;
  }
  if (!cc.on_build.empty()) cfg["OnBuild"] = cc.on_build;
  if (!cc.shell.empty()) cfg["Shell"] = cc.shell;
  if (cc.args_escaped) cfg["ArgsEscaped"] = true;
  return cfg;
}

}  // namespace berth::engine
