#include "api/types/containers.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cmath>

#include "api/types/auth.h"
#include "api/types/time.h"

namespace berth::api {

std::string human_duration(int64_t ns) {
  double secs_f = static_cast<double>(ns) / 1e9;
  int64_t seconds = static_cast<int64_t>(secs_f);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return fmt::format("{} seconds", seconds);
  int64_t minutes = static_cast<int64_t>(secs_f / 60);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return fmt::format("{} minutes", minutes);
  int64_t hours = static_cast<int64_t>(std::llround(secs_f / 3600));
  if (hours == 1) return "About an hour";
  if (hours < 48) return fmt::format("{} hours", hours);
  if (hours < 24 * 7 * 2) return fmt::format("{} days", hours / 24);
  if (hours < 24 * 30 * 2) return fmt::format("{} weeks", hours / 24 / 7);
  if (hours < 24 * 365 * 2) return fmt::format("{} months", hours / 24 / 30);
  return fmt::format("{} years", static_cast<int64_t>(secs_f / 3600) / 24 / 365);
}

std::string state_status_text(const ContainerState& s, int64_t now_ns) {
  const std::string& st = s.status;
  if (st == "running" || st == "paused" || st == "restarting") {
    if (st == "paused") return fmt::format("Up {} (Paused)", human_duration(now_ns - s.started_ns));
    if (st == "restarting")
      return fmt::format("Restarting ({}) {} ago", s.exit_code,
                         human_duration(now_ns - s.finished_ns));
    if (!s.health_status.empty()) {
      std::string h = s.health_status == "starting" ? "health: starting" : s.health_status;
      return fmt::format("Up {} ({})", human_duration(now_ns - s.started_ns), h);
    }
    return fmt::format("Up {}", human_duration(now_ns - s.started_ns));
  }
  if (st == "removing") return "Removal In Progress";
  if (st == "dead") return "Dead";
  if (s.started_ns <= 0) return "Created";
  if (s.finished_ns <= 0) return "";
  return fmt::format("Exited ({}) {} ago", s.exit_code, human_duration(now_ns - s.finished_ns));
}

OrderedJson encode_wait_response(int status_code, const std::string& error) {
  OrderedJson j = OrderedJson::object();
  j["Error"] = error.empty() ? OrderedJson(nullptr) : OrderedJson{{"Message", error}};
  j["StatusCode"] = status_code;
  return j;
}

OrderedJson encode_exec_inspect(const ExecInspect& e) {
  OrderedJson args = OrderedJson::array();
  for (size_t i = 1; i < e.cmd.size(); ++i) args.push_back(e.cmd[i]);
  OrderedJson j = OrderedJson::object();
  j["ID"] = e.id;
  j["Running"] = e.running;
  j["ExitCode"] = e.exit_code ? OrderedJson(*e.exit_code) : OrderedJson(nullptr);
  j["ProcessConfig"] = {{"tty", e.tty},
                        {"entrypoint", e.cmd.empty() ? std::string() : e.cmd[0]},
                        {"arguments", args},
                        {"privileged", e.privileged}};
  // omitempty in docker's ExecProcessConfig.
  if (!e.user.empty()) j["ProcessConfig"]["user"] = e.user;
  j["OpenStdin"] = e.open_stdin;
  j["OpenStderr"] = e.open_stderr;
  j["OpenStdout"] = e.open_stdout;
  j["CanRemove"] = e.can_remove;
  j["ContainerID"] = e.container_id;
  j["DetachKeys"] = e.detach_keys;
  j["Pid"] = e.pid;
  return j;
}

OrderedJson encode_top(const std::vector<std::string>& titles,
                       const std::vector<std::vector<std::string>>& processes) {
  OrderedJson p = OrderedJson::array();
  for (const auto& row : processes) p.push_back(OrderedJson(row));
  return {{"Processes", p}, {"Titles", OrderedJson(titles)}};
}

OrderedJson encode_changes(const std::vector<ChangeItem>& changes) {
  if (changes.empty()) return nullptr;
  OrderedJson a = OrderedJson::array();
  for (const auto& c : changes) a.push_back({{"Path", c.path}, {"Kind", c.kind}});
  return a;
}

namespace {

OrderedJson cpu_stats(uint64_t total, uint64_t kernel, uint64_t user,
                      const std::vector<uint64_t>& percpu, uint64_t system, uint32_t online,
                      const StatsSample* throttling) {
  OrderedJson usage = {{"total_usage", total}};
  if (!percpu.empty()) usage["percpu_usage"] = OrderedJson(percpu);
  usage["usage_in_kernelmode"] = kernel;
  usage["usage_in_usermode"] = user;
  OrderedJson j = {{"cpu_usage", usage}};
  if (system) j["system_cpu_usage"] = system;
  if (online) j["online_cpus"] = online;
  OrderedJson t = {{"periods", 0}, {"throttled_periods", 0}, {"throttled_time", 0}};
  if (throttling)
    t = {{"periods", throttling->throttling_periods},
         {"throttled_periods", throttling->throttled_periods},
         {"throttled_time", throttling->throttled_time}};
  j["throttling_data"] = t;
  return j;
}

}  // namespace

OrderedJson encode_stats(const StatsSample& s, ApiVersion v) {
  (void)v;
  OrderedJson j = OrderedJson::object();
  j["name"] = s.name;
  j["id"] = s.id;
  j["read"] = format_rfc3339_nano(s.read_ns);
  j["preread"] = format_rfc3339_nano(s.preread_ns);
  OrderedJson pids = OrderedJson::object();
  if (s.pids_current) pids["current"] = s.pids_current;
  if (s.pids_limit) pids["limit"] = s.pids_limit;
  j["pids_stats"] = pids;
  OrderedJson io = OrderedJson::array();
  for (const auto& e : s.io_service_bytes)
    io.push_back({{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
  // Empty lists, not null, as dockerd sends them on cgroup v1: clients walk
  // them without a null check.
  j["blkio_stats"] = {{"io_service_bytes_recursive", io},
                      {"io_serviced_recursive", OrderedJson::array()},
                      {"io_queue_recursive", OrderedJson::array()},
                      {"io_service_time_recursive", OrderedJson::array()},
                      {"io_wait_time_recursive", OrderedJson::array()},
                      {"io_merged_recursive", OrderedJson::array()},
                      {"io_time_recursive", OrderedJson::array()},
                      {"sectors_recursive", OrderedJson::array()}};
  j["num_procs"] = 0;
  j["storage_stats"] = OrderedJson::object();
  j["cpu_stats"] =
      cpu_stats(s.cpu_total, s.cpu_kernel, s.cpu_user, s.percpu, s.system_cpu, s.online_cpus, &s);
  j["precpu_stats"] = cpu_stats(s.pre_cpu_total, s.pre_cpu_kernel, s.pre_cpu_user, s.pre_percpu,
                                s.pre_system_cpu, s.pre_online_cpus, nullptr);
  OrderedJson mem = OrderedJson::object();
  if (s.memory_usage) mem["usage"] = s.memory_usage;
  if (s.memory_max_usage) mem["max_usage"] = s.memory_max_usage;
  if (!s.memory_stats.empty()) {
    OrderedJson st = OrderedJson::object();
    for (const auto& [k, val] : s.memory_stats) st[k] = val;
    mem["stats"] = st;
  }
  if (s.memory_limit) mem["limit"] = s.memory_limit;
  j["memory_stats"] = mem;
  if (!s.networks.empty()) {
    OrderedJson nets = OrderedJson::object();
    for (const auto& n : s.networks)
      nets[n.name] = {{"rx_bytes", n.rx_bytes},   {"rx_packets", n.rx_packets},
                      {"rx_errors", n.rx_errors}, {"rx_dropped", n.rx_dropped},
                      {"tx_bytes", n.tx_bytes},   {"tx_packets", n.tx_packets},
                      {"tx_errors", n.tx_errors}, {"tx_dropped", n.tx_dropped}};
    sort_members(nets);  // a map in docker's types
    j["networks"] = nets;
  }
  return j;
}

OrderedJson encode_container_prune(const std::vector<std::string>& deleted,
                                   int64_t space_reclaimed) {
  return {{"ContainersDeleted", deleted.empty() ? OrderedJson(nullptr) : OrderedJson(deleted)},
          {"SpaceReclaimed", space_reclaimed}};
}

std::string encode_path_stat_header(const PathStat& s) {
  OrderedJson j = {{"name", s.name},
                   {"size", s.size},
                   {"mode", s.mode},
                   {"mtime", format_rfc3339_nano(s.mtime_ns)},
                   {"linkTarget", s.link_target}};
  std::string text = dump_json(j);
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

Result<PathStat> decode_path_stat_header(std::string_view header) {
  auto raw = base64_decode_lenient(header);
  if (!raw)
    return make_error(Errc::InvalidArgument, "invalid X-Docker-Container-Path-Stat header: {}",
                      raw.error().message);
  auto j = parse_json(*raw, "X-Docker-Container-Path-Stat header");
  if (!j) return j.error();
  if (!j->is_object())
    return make_error(Errc::InvalidArgument,
                      "invalid X-Docker-Container-Path-Stat header: not a JSON object");
  PathStat s;
  auto str = [&](const char* k) -> std::string {
    auto it = j->find(k);
    return it != j->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  s.name = str("name");
  s.link_target = str("linkTarget");
  if (auto it = j->find("size"); it != j->end() && it->is_number_integer())
    s.size = it->get<int64_t>();
  if (auto it = j->find("mode"); it != j->end() && it->is_number_integer())
    s.mode = static_cast<uint32_t>(it->get<uint64_t>());
  if (auto m = str("mtime"); !m.empty() && m != "0001-01-01T00:00:00Z")
    if (auto t = parse_timestamp(m, 0, "mtime")) s.mtime_ns = *t;
  return s;
}

std::string frame_stream(int stream, std::string_view data) {
  std::string out;
  constexpr size_t kMax = 0xffffffffu;
  out.reserve(data.size() + 8);
  do {
    size_t n = std::min(data.size(), kMax);
    char hdr[8] = {static_cast<char>(stream),
                   0,
                   0,
                   0,
                   static_cast<char>((n >> 24) & 0xff),
                   static_cast<char>((n >> 16) & 0xff),
                   static_cast<char>((n >> 8) & 0xff),
                   static_cast<char>(n & 0xff)};
    out.append(hdr, 8);
    out.append(data.substr(0, n));
    data.remove_prefix(n);
  } while (!data.empty());
  return out;
}

const char* stream_content_type(bool tty, ApiVersion v) {
  if (!tty && v >= ApiVersion{1, 42}) return kMultiplexedStream;
  return kRawStream;
}

}  // namespace berth::api
