#include "cli/run_flags.h"

#include "cli/port_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "api/types/time.h"
#include "base/size.h"
#include "base/strings.h"
#include "cli/kv_file.h"
#include "cli/volume_flags.h"

namespace berth::cli {

Error flag_value_error(std::string_view label, std::string_view value, std::string_view why) {
  return make_error(Errc::InvalidArgument, "invalid argument \"{}\" for \"{}\" flag: {}", value,
                    label, why);
}

bool is_flag_value_error(const Error& e) {
  return e.code == Errc::InvalidArgument && starts_with(e.message, "invalid argument \"");
}

void add_create_flags(FlagSet& f, bool run) {
  f.add_list("attach", 'a', "Attach to STDIN, STDOUT or STDERR");
  f.add_list("cap-add", 0, "Add Linux capabilities");
  f.add_list("cap-drop", 0, "Drop Linux capabilities");
  f.add_string("cgroup-parent", 0, "", "Optional parent cgroup for the container");
  f.add_string("cidfile", 0, "", "Write the container ID to the file");
  f.add_int("cpu-shares", 'c', 0, "CPU shares (relative weight)");
  f.add_string("cpus", 0, "", "Number of CPUs", "decimal");
  f.add_string("cpuset-cpus", 0, "", "CPUs in which to allow execution (0-3, 0,1)");
  f.add_string("cpuset-mems", 0, "", "MEMs in which to allow execution (0-3, 0,1)");
  if (run) {
    f.add_bool("detach", 'd', "Run container in background and print container ID");
    f.add_string("detach-keys", 0, "", "Override the key sequence for detaching a container");
  }
  f.add_list("device", 0, "Add a host device to the container");
  f.add_list("add-host", 0, "Add a custom host-to-IP mapping (host:ip)", "list");
  f.add_list("dns", 0, "Set custom DNS servers");
  f.add_list("dns-option", 0, "Set DNS options");
  f.add_list("dns-search", 0, "Set custom DNS search domains");
  f.add_string("domainname", 0, "", "Container NIS domain name");
  f.add_string("entrypoint", 0, "", "Overwrite the default ENTRYPOINT of the image");
  f.add_list("env", 'e', "Set environment variables");
  f.add_list("env-file", 0, "Read in a file of environment variables");
  f.add_list("group-add", 0, "Add additional groups to join");
  f.add_string("health-cmd", 0, "", "Command to run to check health");
  f.add_string("health-interval", 0, "", "Time between running the check (ms|s|m|h) (default 0s)",
               "duration");
  f.add_string("health-on-failure", 0, "",
               "Action when the container becomes unhealthy (none|kill|restart)");
  f.add_int("health-retries", 0, 0, "Consecutive failures needed to report unhealthy");
  f.add_string("health-start-period", 0, "",
               "Start period for the container to initialize before starting health-retries "
               "countdown (ms|s|m|h) (default 0s)",
               "duration");
  f.add_string("health-start-interval", 0, "",
               "Time between running the check during the start period (ms|s|m|h) (default 0s)",
               "duration");
  f.add_string("health-timeout", 0, "",
               "Maximum time to allow one check to run (ms|s|m|h) (default 0s)", "duration");
  f.add_string("hostname", 'h', "", "Container host name");
  f.add_bool("init", 0,
             "Run an init inside the container that forwards signals and reaps processes");
  f.add_bool("interactive", 'i', "Keep STDIN open even if not attached");
  f.add_list("label", 'l', "Set meta data on a container");
  f.add_list("label-file", 0, "Read in a line delimited file of labels");
  f.add_string("log-driver", 0, "", "Logging driver for the container");
  f.add_list("log-opt", 0, "Log driver options");
  f.add_string("memory", 'm', "", "Memory limit", "bytes");
  f.add_string("memory-reservation", 0, "", "Memory soft limit", "bytes");
  f.add_string("memory-swap", 0, "",
               "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", "bytes");
  f.add_int("memory-swappiness", 0, -1, "Tune container memory swappiness (0 to 100)");
  f.add_string("name", 0, "", "Assign a name to the container");
  f.add_string("network", 0, "", "Connect a container to a network", "network");
  f.add_list("network-alias", 0, "Add network-scoped alias for the container");
  f.add_list("link", 0, "Add link to another container");
  f.add_string("ip", 0, "", "IPv4 address (e.g., 172.30.100.104)");
  f.add_string("ip6", 0, "", "IPv6 address (e.g., 2001:db8::33)");
  f.add_list("link-local-ip", 0, "Container IPv4/IPv6 link-local addresses");
  f.add_list("storage-opt", 0, "Storage driver options for the container");
  f.add_string("mac-address", 0, "", "Container MAC address (e.g., 92:d0:c6:0a:29:33)");
  f.add_list("publish", 'p', "Publish a container's port(s) to the host");
  f.add_bool("publish-all", 'P', "Publish all exposed ports to random ports");
  f.add_list("expose", 0, "Expose a port or a range of ports");
  f.add_bool("no-healthcheck", 0, "Disable any container-specified HEALTHCHECK");
  f.add_bool("oom-kill-disable", 0, "Disable OOM Killer");
  f.add_int("oom-score-adj", 0, 0, "Tune host's OOM preferences (-1000 to 1000)");
  f.add_string("pid", 0, "", "PID namespace to use");
  f.add_string("ipc", 0, "", "IPC mode to use");
  f.add_string("uts", 0, "", "UTS namespace to use");
  f.add_string("userns", 0, "", "User namespace to use");
  f.add_string("cgroupns", 0, "",
               "Cgroup namespace to use (host|private)\n'host':    Run the container in the Docker "
               "host's cgroup namespace\n'private': Run the container in its own private cgroup "
               "namespace\n'':        Use the cgroup namespace as configured by the\n           "
               "default-cgroupns-mode option on the daemon (default)");
  f.add_int("pids-limit", 0, 0, "Tune container pids limit (set -1 for unlimited)");
  f.add_string("platform", 0, "", "Set platform if server is multi-platform capable");
  f.add_bool("privileged", 0, "Give extended privileges to this container");
  f.add_string("pull", 0, "missing",
               "Pull image before running (\"always\", \"missing\", \"never\")");
  f.add_bool("quiet", 'q', "Suppress the pull output");
  f.add_bool("read-only", 0, "Mount the container's root filesystem as read only");
  f.add_string("restart", 0, "no", "Restart policy to apply when a container exits");
  f.add_bool(
      "rm", 0,
      "Automatically remove the container and its associated anonymous volumes when it exits");
  f.add_string("runtime", 0, "", "Runtime to use for this container");
  f.add_list("security-opt", 0, "Security Options");
  f.add_string("shm-size", 0, "", "Size of /dev/shm", "bytes");
  if (run) f.add_bool("sig-proxy", 0, "Proxy received signals to the process", true);
  f.add_string("stop-signal", 0, "", "Signal to stop the container");
  f.add_int("stop-timeout", 0, 0, "Timeout (in seconds) to stop a container");
  f.add_list("sysctl", 0, "Sysctl options", "map");
  f.add_list("tmpfs", 0, "Mount a tmpfs directory");
  f.add_bool("tty", 't', "Allocate a pseudo-TTY");
  f.add_list("ulimit", 0, "Ulimit options", "ulimit");
  f.add_string("user", 'u', "", "Username or UID (format: <name|uid>[:<group|gid>])");
  f.add_list("volume", 'v', "Bind mount a volume");
  f.add_list("mount", 0, "Attach a filesystem mount to the container", "mount");
  f.add_list("volumes-from", 0, "Mount volumes from the specified container(s)");
  f.add_string("workdir", 'w', "", "Working directory inside the container");
  add_resource_flags(f);
  add_platform_flags(f);
}

// --- value parsers ------------------------------------------------------------

Result<int64_t> parse_nano_cpus(std::string_view v) {
  auto bad = [&] {
    return make_error(Errc::InvalidArgument, "failed to parse {} as a rational number", v);
  };
  std::string s(v);
  if (s.empty()) return bad();
  auto slash = s.find('/');
  double value = 0;
  auto parse_dec = [](const std::string& t, double& out) {
    if (t.empty()) return false;
    size_t k = 0;
    if (t[0] == '-' || t[0] == '+') k = 1;
    bool digits = false, dot = false;
    for (; k < t.size(); ++k) {
      if (std::isdigit(static_cast<unsigned char>(t[k]))) {
        digits = true;
      } else if (t[k] == '.' && !dot) {
        dot = true;
      } else {
        return false;
      }
    }
    if (!digits) return false;
    out = std::strtod(t.c_str(), nullptr);
    return true;
  };
  if (slash != std::string::npos) {
    double a = 0, b = 0;
    if (!parse_dec(s.substr(0, slash), a) || !parse_dec(s.substr(slash + 1), b) || b == 0)
      return bad();
    value = a / b;
  } else if (!parse_dec(s, value)) {
    return bad();
  }
  double nano = value * 1e9;
  if (std::abs(nano - std::round(nano)) > 1e-3)
    return make_error(Errc::InvalidArgument, "value is too precise");
  return static_cast<int64_t>(std::llround(nano));
}

Result<Json> parse_ulimit(std::string_view v) {
  static const std::set<std::string> kNames = {
      "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
      "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  auto eq = v.find('=');
  if (eq == std::string_view::npos)
    return make_error(Errc::InvalidArgument, "invalid ulimit argument: {}", v);
  std::string name(v.substr(0, eq));
  if (!kNames.count(name))
    return make_error(Errc::InvalidArgument, "invalid ulimit type: {}", name);
  auto parts = split(v.substr(eq + 1), ':');
  if (parts.size() > 2)
    return make_error(Errc::InvalidArgument,
                      "too many limit value arguments - {}, can only have up to two, `soft[:hard]`",
                      v.substr(eq + 1));
  auto num = [](const std::string& s) -> Result<int64_t> {
    auto n = parse_int(s);
    if (!n)
      return make_error(Errc::InvalidArgument, "strconv.ParseInt: parsing \"{}\": invalid syntax",
                        s);
    return static_cast<int64_t>(*n);
  };
  int64_t soft = BERTH_TRY(num(parts[0]));
  int64_t hard = soft;
  if (parts.size() == 2) hard = BERTH_TRY(num(parts[1]));
  if (soft > hard)
    return make_error(Errc::InvalidArgument,
                      "ulimit soft limit must be less than or equal to hard limit: {} > {}", soft,
                      hard);
  return Json{{"Name", name}, {"Hard", hard}, {"Soft", soft}};
}

Result<std::string> parse_detach_keys(std::string_view v) {
  std::string out;
  for (const auto& key : split(v, ',')) {
    if (key.size() == 1) {
      out += key[0];
      continue;
    }
    bool found = false;
    if (key.size() == 6 && starts_with(key, "ctrl-")) {
      char c = key[5];
      if (c >= 'a' && c <= 'z') {
        out += static_cast<char>(c - 'a' + 1);
        found = true;
      } else if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_') {
        out += static_cast<char>(c == '@' ? 0 : c - '[' + 27);
        found = true;
      }
    }
    if (!found) return make_error(Errc::InvalidArgument, "Unknown character: '{}'", key);
  }
  return out;
}

Result<int64_t> parse_flag_duration(std::string_view v) {
  auto d = api::parse_go_duration(v);
  if (!d) return make_error(Errc::InvalidArgument, "time: invalid duration \"{}\"", v);
  return *d;
}

namespace {

std::optional<std::string> real_env(const std::string& k) {
  const char* v = std::getenv(k.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string normalize_cap(std::string c) {
  for (char& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (c != "ALL" && !starts_with(c, "CAP_")) c = "CAP_" + c;
  return c;
}

Result<std::vector<std::string>> security_opts(const std::vector<std::string>& opts) {
  std::vector<std::string> out;
  for (const auto& o : opts) {
    if (o == "no-new-privileges") {
      out.push_back(o);
      continue;
    }
    auto sep = o.find('=');
    if (sep == std::string::npos) sep = o.find(':');
    if (sep == std::string::npos)
      return make_error(Errc::InvalidArgument, "Invalid --security-opt: \"{}\"", o);
    std::string key = o.substr(0, sep), value = o.substr(sep + 1);
    if (key == "seccomp" && value != "unconfined" && value != "builtin") {
      std::ifstream in(value);
      if (!in)
        return make_error(Errc::InvalidArgument,
                          "opening seccomp profile ({}) failed: open {}: no such file or directory",
                          value, value);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto j = parse_json(text, "seccomp profile");
      if (!j)
        return make_error(Errc::InvalidArgument,
                          "compacting json for seccomp profile ({}) failed: {}", value,
                          j.error().message);
      out.push_back("seccomp=" + dump_json(*j));
      continue;
    }
    out.push_back(o);
  }
  return out;
}

bool sysctl_allowed(const std::string& key) {
  static const std::set<std::string> kExact = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  return kExact.count(key) || starts_with(key, "net.") || starts_with(key, "fs.mqueue.");
}

Result<Json> parse_device(const std::string& v) {
  std::string src, dst, perms = "rwm";
  auto parts = split(v, ':');
  auto valid_mode = [](const std::string& m) {
    if (m.empty() || m.size() > 3) return false;
    for (char c : m)
      if (c != 'r' && c != 'w' && c != 'm') return false;
    return true;
  };
  switch (parts.size()) {
    case 3:
      if (!valid_mode(parts[2]))
        return make_error(Errc::InvalidArgument, "invalid device mode: {}", parts[2]);
      perms = parts[2];
      [[fallthrough]];
    case 2:
      if (parts.size() == 2 && valid_mode(parts[1])) {
        perms = parts[1];
      } else {
        dst = parts[1];
      }
      [[fallthrough]];
    case 1:
      src = parts[0];
      break;
    default:
      return make_error(Errc::InvalidArgument, "invalid device specification: {}", v);
  }
  if (dst.empty()) dst = src;
  if (!dst.empty() && dst[0] != '/')
    return make_error(Errc::InvalidArgument, "invalid device specification: {}", v);
  return Json{{"PathOnHost", src}, {"PathInContainer", dst}, {"CgroupPermissions", perms}};
}

}  // namespace

Json endpoint_ipam(const FlagSet& f) {
  Json ipam = Json::object();
  if (!f.get_string("ip").empty()) ipam["IPv4Address"] = f.get_string("ip");
  if (!f.get_string("ip6").empty()) ipam["IPv6Address"] = f.get_string("ip6");
  if (!f.get_list("link-local-ip").empty()) ipam["LinkLocalIPs"] = f.get_list("link-local-ip");
  return ipam;
}

Result<CreateRequest> build_create_request(const FlagSet& f, const std::vector<std::string>& args,
                                           const EnvLookup& env_in,
                                           std::optional<std::pair<int, int>> console_size) {
  EnvLookup env = env_in ? env_in : EnvLookup(real_env);
  CreateRequest r;
  r.image = args.at(0);
  r.name = f.get_string("name");
  r.platform = f.get_string("platform");
  r.pull = f.get_string("pull");
  r.detach = f.get_bool("detach");
  r.interactive = f.get_bool("interactive");
  r.tty = f.get_bool("tty");
  r.auto_remove = f.get_bool("rm");
  r.sig_proxy = f.get_bool("sig-proxy");
  r.detach_keys = f.get_string("detach-keys");
  r.cidfile = f.get_string("cidfile");

  // Value checks in flag order (docker checks them while parsing).
  auto mem = [&](const char* name, const char* label) -> Result<std::optional<int64_t>> {
    const std::string& v = f.get_string(name);
    if (!f.changed(name)) return std::optional<int64_t>();
    if (std::string(name) == "memory-swap" && v == "-1") return std::optional<int64_t>(-1);
    auto b = parse_ram_in_bytes(v);
    if (!b) return flag_value_error(label, v, b.error().message);
    return std::optional<int64_t>(*b);
  };
  auto dur = [&](const char* name) -> Result<int64_t> {
    if (!f.changed(name)) return int64_t{0};
    auto d = parse_flag_duration(f.get_string(name));
    if (!d)
      return flag_value_error(std::string("--") + name, f.get_string(name), d.error().message);
    return *d;
  };
  int64_t nano_cpus = 0;
  if (f.changed("cpus")) {
    auto n = parse_nano_cpus(f.get_string("cpus"));
    if (!n) return flag_value_error("--cpus", f.get_string("cpus"), n.error().message);
    nano_cpus = *n;
  }
  int64_t hi = BERTH_TRY(dur("health-interval"));
  auto memory = BERTH_TRY(mem("memory", "-m, --memory"));
  auto memory_res = BERTH_TRY(mem("memory-reservation", "--memory-reservation"));
  auto memory_swap = BERTH_TRY(mem("memory-swap", "--memory-swap"));
  int64_t hsp = BERTH_TRY(dur("health-start-period"));
  int64_t hto = BERTH_TRY(dur("health-timeout"));
  int64_t hsi = BERTH_TRY(dur("health-start-interval"));
  auto shm = BERTH_TRY(mem("shm-size", "--shm-size"));
  Json storage_opts = Json::object();
  for (const auto& o : f.get_list("storage-opt")) {
    auto eq = o.find('=');
    if (eq == std::string::npos) return make_error(Errc::InvalidArgument, "invalid storage option");
    storage_opts[o.substr(0, eq)] = o.substr(eq + 1);
  }
  Json sysctls = Json::object();
  for (const auto& s : f.get_list("sysctl")) {
    auto eq = s.find('=');
    std::string key = s.substr(0, eq);
    if (eq == std::string::npos || !sysctl_allowed(key))
      return flag_value_error("--sysctl", s, fmt::format("sysctl '{}' is not allowed", s));
    sysctls[key] = s.substr(eq + 1);
  }
  Json ulimits = Json::array();
  for (const auto& u : f.get_list("ulimit")) {
    auto j = parse_ulimit(u);
    if (!j) return flag_value_error("--ulimit", u, j.error().message);
    ulimits.push_back(*j);
  }

  // Option checks after parsing (docker's parse()).
  if (r.pull != "always" && r.pull != "missing" && r.pull != "never")
    return make_error(Errc::InvalidArgument,
                      "invalid pull option: '{}': must be one of \"always\", \"missing\" or "
                      "\"never\"",
                      r.pull);
  if (!r.detach_keys.empty()) {
    auto k = parse_detach_keys(r.detach_keys);
    if (!k) return k.error();
  }
  for (const auto& a : f.get_list("attach")) {
    std::string l = a;
    for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (l == "stdin")
      r.attach_stdin = true;
    else if (l == "stdout")
      r.attach_stdout = true;
    else if (l == "stderr")
      r.attach_stderr = true;
    else
      return flag_value_error("-a, --attach", a, "valid streams are STDIN, STDOUT and STDERR");
  }
  if (r.detach && !f.get_list("attach").empty())
    return make_error(Errc::InvalidArgument,
                      "conflicting options: cannot specify both --attach and --detach");
  if (f.get_list("attach").empty() && !r.detach) {
    r.attach_stdout = r.attach_stderr = true;
    if (r.interactive) r.attach_stdin = true;
  }
  std::vector<std::string> env_list;
  for (const auto& file : f.get_list("env-file")) {
    auto lines = BERTH_TRY(read_kv_file(file, env));
    env_list.insert(env_list.end(), lines.begin(), lines.end());
  }
  for (const auto& e : f.get_list("env")) {
    auto eq = e.find('=');
    std::string k = e.substr(0, eq);
    if (k.empty())
      return flag_value_error("-e, --env", e, fmt::format("invalid environment variable: {}", e));
    if (eq == std::string::npos) {
      if (auto v = env(k)) {
        env_list.push_back(k + "=" + *v);
        continue;
      }
    }
    env_list.push_back(e);
  }
  Json labels = Json::object();
  auto add_label = [&](const std::string& l) {
    auto eq = l.find('=');
    labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  };
  for (const auto& file : f.get_list("label-file")) {
    auto lines = BERTH_TRY(read_kv_file(file, nullptr));
    for (auto& l : lines) add_label(l);
  }
  for (const auto& l : f.get_list("label")) {
    if (l.empty() || l[0] == '=')
      return flag_value_error("-l, --label", l, fmt::format("invalid label '{}': empty name", l));
    add_label(l);
  }

  // Restart policy.
  Json restart = {{"Name", "no"}, {"MaximumRetryCount", 0}};
  if (f.changed("restart")) {
    std::string p = f.get_string("restart");
    if (!p.empty()) {
      auto colon = p.find(':');
      std::string name = p.substr(0, colon);
      if (name.empty())
        return make_error(Errc::InvalidArgument,
                          "invalid restart policy format: no policy provided before colon");
      restart["Name"] = name;
      if (colon != std::string::npos && colon + 1 < p.size()) {
        auto n = parse_int(p.substr(colon + 1));
        if (!n)
          return make_error(Errc::InvalidArgument,
                            "invalid restart policy format: maximum retry count must be an "
                            "integer");
        restart["MaximumRetryCount"] = *n;
      }
    }
  }
  if (r.auto_remove && restart["Name"] != "no" && restart["Name"] != "")
    return make_error(Errc::InvalidArgument,
                      "conflicting options: cannot specify both --restart and --rm");
  // docker's CLI checks the namespace modes before it sends anything.
  auto joined = [](const std::string& m) { return m.starts_with("container:") && m.size() > 10; };
  for (auto [flag, what, modes, can_join] :
       {std::tuple{"pid", "PID", std::vector<std::string>{"", "host"}, true},
        {"ipc", "IPC", {"", "private", "none", "shareable", "host"}, true},
        {"uts", "UTS", {"", "host"}, false},
        {"userns", "USER", {"", "host"}, false},
        {"cgroupns", "CGROUP", {"", "private", "host"}, false}}) {
    std::string m = f.get_string(flag);
    if (std::find(modes.begin(), modes.end(), m) == modes.end() && !(can_join && joined(m))) {
      return make_error(Errc::InvalidArgument, "--{}: invalid {} mode", flag, what);
    }
  }

  // Health check.
  Json health;
  bool have_health = !f.get_string("health-cmd").empty() || hi != 0 || hto != 0 || hsp != 0 ||
                     hsi != 0 || f.get_int("health-retries") != 0 || f.changed("health-on-failure");
  if (f.get_bool("no-healthcheck")) {
    if (have_health)
      return make_error(Errc::InvalidArgument,
                        "--no-healthcheck conflicts with --health-* options");
    health = {{"Test", Json::array({"NONE"})}};
  } else if (have_health) {
    if (hi < 0) return make_error(Errc::InvalidArgument, "--health-interval cannot be negative");
    if (hto < 0) return make_error(Errc::InvalidArgument, "--health-timeout cannot be negative");
    if (f.get_int("health-retries") < 0)
      return make_error(Errc::InvalidArgument, "--health-retries cannot be negative");
    if (hsp < 0)
      return make_error(Errc::InvalidArgument, "--health-start-period cannot be negative");
    if (hsi < 0)
      return make_error(Errc::InvalidArgument, "--health-start-interval cannot be negative");
    health = Json::object();
    if (!f.get_string("health-cmd").empty())
      health["Test"] = Json::array({"CMD-SHELL", f.get_string("health-cmd")});
    health["Interval"] = hi;
    health["Timeout"] = hto;
    health["StartPeriod"] = hsp;
    health["StartInterval"] = hsi;
    health["Retries"] = f.get_int("health-retries");
    if (f.changed("health-on-failure")) {
      const std::string& a = f.get_string("health-on-failure");
      if (a != "none" && a != "kill" && a != "restart" && !a.empty())
        return make_error(Errc::InvalidArgument,
                          "invalid --health-on-failure value: '{}': must be one of \"none\", "
                          "\"kill\" or \"restart\"",
                          a);
      health["OnFailure"] = a;  // berth extension
    }
  }

  auto sec = BERTH_TRY(security_opts(f.get_list("security-opt")));
  Json devices = Json::array();
  for (const auto& d : f.get_list("device")) {
    auto dj = parse_device(d);
    if (!dj) return flag_value_error("--device", d, dj.error().message);
    devices.push_back(*dj);
  }
  Json tmpfs = Json::object();
  for (const auto& t : f.get_list("tmpfs")) {
    auto colon = t.find(':');
    tmpfs[t.substr(0, colon)] = colon == std::string::npos ? "" : t.substr(colon + 1);
  }
  VolumeFlags vols = BERTH_TRY(parse_volume_flags(f.get_list("volume"), f.get_list("mount")));
  Json log_opts = Json::object();
  for (const auto& o : f.get_list("log-opt")) {
    auto eq = o.find('=');
    log_opts[o.substr(0, eq)] = eq == std::string::npos ? "" : o.substr(eq + 1);
  }
  if (f.get_string("log-driver") == "none" && !f.get_list("log-opt").empty())
    return make_error(Errc::InvalidArgument, "invalid logging opts for driver none");
  const std::string& hostname = f.get_string("hostname");
  if (hostname.size() > 64)
    return make_error(Errc::InvalidArgument,
                      "invalid hostname: \"{}\" (must be 64 characters or less)", hostname);

  // Capabilities: docker's EffectiveCapAddCapDrop.
  std::set<std::string> add_caps, drop_caps;
  for (auto& c : f.get_list("cap-add")) add_caps.insert(normalize_cap(c));
  for (auto& c : f.get_list("cap-drop")) drop_caps.insert(normalize_cap(c));
  Json cap_add = nullptr, cap_drop = nullptr;
  if (add_caps.count("ALL")) {
    cap_add = Json::array({"ALL"});
  } else {
    for (auto& c : add_caps)
      if (!drop_caps.count(c)) {
        if (cap_add.is_null()) cap_add = Json::array();
        cap_add.push_back(c);
      }
  }
  if (drop_caps.count("ALL")) {
    cap_drop = Json::array({"ALL"});
  } else {
    for (auto& c : drop_caps) {
      if (cap_drop.is_null()) cap_drop = Json::array();
      cap_drop.push_back(c);
    }
  }

  // Ports: -p gives PortBindings (and exposes), --expose only exposes.
  Json port_bindings = Json::object();
  Json exposed = Json::object();
  for (const auto& spec : f.get_list("publish")) {
    auto parsed = parse_publish(spec);
    if (!parsed) return parsed.error();
    for (const auto& p : *parsed) {
      if (!port_bindings.contains(p.port)) port_bindings[p.port] = Json::array();
      port_bindings[p.port].push_back({{"HostIp", p.host_ip}, {"HostPort", p.host_port}});
      exposed[p.port] = Json::object();
    }
  }
  for (const auto& spec : f.get_list("expose")) {
    auto parsed = parse_expose(spec);
    if (!parsed) return parsed.error();
    for (const auto& p : *parsed) exposed[p] = Json::object();
  }
  for (const auto& h : f.get_list("add-host")) {
    auto sep = h.find_first_of(":=");
    if (sep == std::string::npos || sep == 0 || sep + 1 == h.size())
      return make_error(Errc::InvalidArgument,
                        "invalid argument \"{}\" for \"--add-host\" flag: bad format for "
                        "add-host: \"{}\"",
                        h, h);
  }
  std::string net = f.get_string("network");
  // docker's client refuses aliases on a network that is not user-defined
  // (without --network the daemon decides).
  bool builtin_net = net == "default" || net == "bridge" || net == "host" || net == "none" ||
                     starts_with(net, "container:");
  if (builtin_net && !f.get_list("network-alias").empty())
    return make_error(Errc::InvalidArgument,
                      "network-scoped aliases are only supported for user-defined networks");
  Json endpoint = Json::object();
  if (Json ipam = endpoint_ipam(f); !ipam.empty()) endpoint["IPAMConfig"] = std::move(ipam);
  if (!f.get_list("network-alias").empty()) endpoint["Aliases"] = f.get_list("network-alias");
  if (!f.get_string("mac-address").empty()) endpoint["MacAddress"] = f.get_string("mac-address");
  Json endpoints = Json::object();
  if (!endpoint.empty()) endpoints[net.empty() ? "default" : net] = endpoint;

  // Config.
  Json cfg = Json::object();
  cfg["Hostname"] = hostname;
  cfg["Domainname"] = f.get_string("domainname");
  cfg["User"] = f.get_string("user");
  cfg["AttachStdin"] = r.attach_stdin;
  cfg["AttachStdout"] = r.attach_stdout;
  cfg["AttachStderr"] = r.attach_stderr;
  cfg["Tty"] = r.tty;
  cfg["OpenStdin"] = r.interactive;
  cfg["StdinOnce"] = r.interactive && r.attach_stdin;
  cfg["Env"] = env_list;
  if (args.size() > 1)
    cfg["Cmd"] = std::vector<std::string>(args.begin() + 1, args.end());
  else
    cfg["Cmd"] = nullptr;
  if (!health.is_null()) cfg["Healthcheck"] = health;
  if (!exposed.empty()) cfg["ExposedPorts"] = exposed;
  cfg["Image"] = r.image;
  cfg["Volumes"] = vols.volumes;
  cfg["WorkingDir"] = f.get_string("workdir");
  if (!f.get_string("entrypoint").empty())
    cfg["Entrypoint"] = Json::array({f.get_string("entrypoint")});
  else if (f.changed("entrypoint"))
    cfg["Entrypoint"] = Json::array({""});
  else
    cfg["Entrypoint"] = nullptr;
  cfg["OnBuild"] = nullptr;
  cfg["Labels"] = labels;
  if (f.changed("stop-signal")) cfg["StopSignal"] = f.get_string("stop-signal");
  if (f.changed("stop-timeout")) cfg["StopTimeout"] = f.get_int("stop-timeout");

  // HostConfig.
  Json hc = Json::object();
  hc["Binds"] = vols.binds;
  hc["ContainerIDFile"] = r.cidfile;
  hc["LogConfig"] = {{"Type", f.get_string("log-driver")}, {"Config", log_opts}};
  hc["NetworkMode"] = f.get_string("network");
  hc["PortBindings"] = port_bindings;
  hc["RestartPolicy"] = restart;
  hc["AutoRemove"] = r.auto_remove;
  hc["VolumesFrom"] =
      f.get_list("volumes-from").empty() ? Json(nullptr) : Json(f.get_list("volumes-from"));
  if (!vols.mounts.is_null()) hc["Mounts"] = vols.mounts;
  if (console_size && r.tty)
    hc["ConsoleSize"] = Json::array({console_size->first, console_size->second});
  else
    hc["ConsoleSize"] = Json::array({0, 0});
  hc["CapAdd"] = cap_add;
  hc["CapDrop"] = cap_drop;
  hc["CgroupnsMode"] = f.get_string("cgroupns");
  hc["Dns"] = f.get_list("dns");
  hc["DnsOptions"] = f.get_list("dns-option");
  hc["DnsSearch"] = f.get_list("dns-search");
  hc["ExtraHosts"] = f.get_list("add-host").empty() ? Json(nullptr) : Json(f.get_list("add-host"));
  hc["GroupAdd"] = f.get_list("group-add").empty() ? Json(nullptr) : Json(f.get_list("group-add"));
  hc["IpcMode"] = f.get_string("ipc");
  hc["Cgroup"] = "";
  hc["Links"] = f.get_list("link").empty() ? Json(nullptr) : Json(f.get_list("link"));
  hc["OomScoreAdj"] = f.get_int("oom-score-adj");
  hc["PidMode"] = f.get_string("pid");
  hc["Privileged"] = f.get_bool("privileged");
  hc["PublishAllPorts"] = f.get_bool("publish-all");
  hc["ReadonlyRootfs"] = f.get_bool("read-only");
  hc["SecurityOpt"] = sec.empty() ? Json(nullptr) : Json(sec);
  if (!tmpfs.empty()) hc["Tmpfs"] = tmpfs;
  hc["UTSMode"] = f.get_string("uts");
  hc["UsernsMode"] = f.get_string("userns");
  hc["ShmSize"] = shm.value_or(0);
  if (!sysctls.empty()) hc["Sysctls"] = sysctls;
  if (!storage_opts.empty()) hc["StorageOpt"] = storage_opts;
  hc["Runtime"] = f.get_string("runtime");
  hc["CpuShares"] = f.get_int("cpu-shares");
  hc["Memory"] = memory.value_or(0);
  hc["NanoCpus"] = nano_cpus;
  hc["CgroupParent"] = f.get_string("cgroup-parent");
  hc["CpusetCpus"] = f.get_string("cpuset-cpus");
  hc["CpusetMems"] = f.get_string("cpuset-mems");
  hc["Devices"] = devices;
  hc["MemoryReservation"] = memory_res.value_or(0);
  hc["MemorySwap"] = memory_swap.value_or(0);
  if (f.get_int("memory-swappiness") != -1) hc["MemorySwappiness"] = f.get_int("memory-swappiness");
  hc["OomKillDisable"] = f.get_bool("oom-kill-disable");
  if (f.changed("pids-limit")) hc["PidsLimit"] = f.get_int("pids-limit");
  hc["Ulimits"] = ulimits;
  if (f.get_bool("init")) hc["Init"] = true;
  BERTH_TRY(add_resource_fields(f, hc));
  BERTH_TRY(add_platform_fields(f, hc));

  r.body = cfg;
  r.body["HostConfig"] = hc;
  r.body["NetworkingConfig"] = {{"EndpointsConfig", endpoints}};
  return r;
}

}  // namespace berth::cli
