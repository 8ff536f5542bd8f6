// spec_merge: docker's merge of the image config into the container config,
// the process environment and the cgroups path.
#include <algorithm>

#include "base/strings.h"
#include "engine/spec_builder.h"

namespace berth::engine {
namespace {

std::string env_key(const std::string& kv) { return kv.substr(0, kv.find('=')); }

bool has_key(const std::vector<std::string>& env, const std::string& key) {
  return std::any_of(env.begin(), env.end(),
                     [&](const std::string& e) { return env_key(e) == key; });
}

std::vector<std::string> json_strings(const Json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const Json& e : j)
    if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

int64_t json_int(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return 0;
  return it->get<int64_t>();
}

HealthcheckConfig image_healthcheck(const Json& hc) {
  HealthcheckConfig h;
  if (auto it = hc.find("Test"); it != hc.end()) h.test = json_strings(*it);
  h.interval_ns = json_int(hc, "Interval");
  h.timeout_ns = json_int(hc, "Timeout");
  h.start_period_ns = json_int(hc, "StartPeriod");
  h.start_interval_ns = json_int(hc, "StartInterval");
  h.retries = static_cast<int>(json_int(hc, "Retries"));
  return h;
}

}  // namespace

Result<void> merge_image_config(ContainerConfig& c, const oci::ContainerConfig& image,
                                const Json* raw_config) {
  if (c.user.empty()) c.user = image.user;
  if (c.env.empty()) {
    c.env = image.env;
  } else {
    for (const std::string& ie : image.env) {
      if (!has_key(c.env, env_key(ie))) c.env.push_back(ie);
    }
  }
  for (const std::string& p : image.exposed_ports) {
    if (std::find(c.exposed_ports.begin(), c.exposed_ports.end(), p) == c.exposed_ports.end()) {
      c.exposed_ports.push_back(p);
    }
  }
  for (const std::string& v : image.volumes) {
    if (std::find(c.volumes.begin(), c.volumes.end(), v) == c.volumes.end()) {
      c.volumes.push_back(v);
    }
  }
  for (const auto& [k, v] : image.labels) c.labels.emplace(k, v);  // the container's win
  if (c.working_dir.empty()) c.working_dir = image.working_dir;
  if (c.stop_signal.empty()) c.stop_signal = image.stop_signal;

  // docker: an entrypoint given with the container drops the image's cmd
  // unless a cmd is given too; so does the CLI's `--entrypoint ""` (sent as
  // [""]). Only an empty list (docker-py's entrypoint="") keeps the image's
  // cmd while resetting its entrypoint.
  bool entrypoint_set = c.entrypoint.has_value();
  if (!entrypoint_set || c.entrypoint->empty()) {
    if (!c.cmd || c.cmd->empty()) {
      c.cmd = image.cmd;
      if (raw_config && raw_config->is_object()) {
        auto it = raw_config->find("ArgsEscaped");
        if (it != raw_config->end() && it->is_boolean()) c.args_escaped = it->get<bool>();
      }
    }
    if (!entrypoint_set) c.entrypoint = image.entrypoint;
  }
  if (c.entrypoint && c.entrypoint->size() == 1 && (*c.entrypoint)[0].empty()) {
    c.entrypoint = std::vector<std::string>{};
  }

  if (raw_config && raw_config->is_object()) {
    if (c.shell.empty()) {
      if (auto it = raw_config->find("Shell"); it != raw_config->end()) c.shell = json_strings(*it);
    }
    if (c.on_build.empty()) {
      if (auto it = raw_config->find("OnBuild"); it != raw_config->end()) {
        c.on_build = json_strings(*it);
      }
    }
    auto hit = raw_config->find("Healthcheck");
    if (hit != raw_config->end() && hit->is_object()) {
      fill_healthcheck(c.healthcheck, image_healthcheck(*hit));
    }
  }
  bool no_entrypoint = !c.entrypoint || c.entrypoint->empty();
  bool no_cmd = !c.cmd || c.cmd->empty();
  if (no_entrypoint && no_cmd) {
    return make_error(Errc::InvalidArgument, "No command specified");
  }
  return ok();
}

std::vector<std::string> process_env(const std::vector<std::string>& config_env,
                                     const std::string& hostname, bool tty,
                                     const std::string& home) {
  std::vector<std::string> env;
  if (!has_key(config_env, "PATH")) env.push_back(kDefaultPath);
  if (!hostname.empty()) env.push_back("HOSTNAME=" + hostname);
  if (tty) env.push_back("TERM=xterm");
  // Later entries win in execve's environment only by convention; drop the
  // defaults the config overrides so each key appears once.
  std::vector<std::string> out;
  for (auto& e : env)
    if (!has_key(config_env, env_key(e))) out.push_back(e);
  for (auto& e : config_env) {
    // Keep the last value of a key given twice.
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const std::string& o) { return env_key(o) == env_key(e); });
    if (it != out.end()) {
      *it = e;
    } else {
      out.push_back(e);
    }
  }
  if (!has_key(out, "HOME")) out.push_back("HOME=" + (home.empty() ? std::string("/") : home));
  return out;
}

std::string container_cgroups_path(const std::string& cgroup_parent, const std::string& id) {
  std::string parent = cgroup_parent.empty() ? "/berth" : cgroup_parent;
  if (parent.front() != '/') parent = "/" + parent;
  while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
  if (parent == "/") return "/" + id;
  return parent + "/" + id;
}

}  // namespace berth::engine

namespace berth::engine {

Result<oci::Process> build_exec_process(const oci::Process& container, const ExecConfig& exec,
                                        const RootfsFileReader& read, int cap_last_cap) {
  if (exec.cmd.empty()) return make_error(Errc::InvalidArgument, "No exec command specified");
  oci::Process p = container;
  p.args = exec.cmd;
  p.terminal = exec.tty;
  p.console_size.reset();
  if (exec.console_size.size() == 2 && exec.console_size[0] > 0 && exec.console_size[1] > 0) {
    p.console_size = oci::ConsoleSize{exec.console_size[0], exec.console_size[1]};
  }
  std::string home;
  if (!exec.user.empty()) {
    ResolvedUser u = BERTH_TRY(resolve_user(exec.user, {}, read));
    p.user.uid = u.uid;
    p.user.gid = u.gid;
    p.user.additional_gids = u.additional_gids;
    home = u.home;
  }
  for (const std::string& e : exec.env) {
    if (e.empty() || e.front() == '=') {
      return make_error(Errc::InvalidArgument, "invalid environment variable: \"{}\"", e);
    }
    auto it = std::find_if(p.env.begin(), p.env.end(),
                           [&](const std::string& o) { return env_key(o) == env_key(e); });
    if (it != p.env.end()) {
      *it = e;
    } else {
      p.env.push_back(e);
    }
  }
  // A different user gets its own HOME unless the exec sets one.
  if (!home.empty() && !has_key(exec.env, "HOME")) {
    for (auto& e : p.env)
      if (env_key(e) == "HOME") e = "HOME=" + home;
  }
  if (!has_key(p.env, "TERM") && exec.tty) p.env.push_back("TERM=xterm");
  if (!exec.working_dir.empty()) {
    if (exec.working_dir.front() != '/') {
      return make_error(Errc::InvalidArgument,
                        "the working directory '{}' is invalid, it needs to be an absolute path",
                        exec.working_dir);
    }
    p.cwd = exec.working_dir;
  }
  if (exec.privileged) {
    auto caps = BERTH_TRY(container_capabilities({}, {}, true, cap_last_cap));
    oci::Capabilities c;
    c.bounding = caps;
    c.effective = caps;
    c.permitted = caps;
    p.capabilities = std::move(c);
  }
  return p;
}

}  // namespace berth::engine
