// stats_reader: docker stats values from cgroup v1/v2 files and /proc.
#include "engine/stats_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "base/file.h"
#include "base/strings.h"

namespace berth::engine {
namespace {

std::optional<std::string> read_opt(const std::string& path) {
  auto r = read_file(path);
  if (!r) return std::nullopt;
  return std::move(*r);
}

uint64_t read_u64(const std::string& path) {
  auto t = read_opt(path);
  if (!t) return 0;
  return parse_uint(trim(*t)).value_or(0);
}

// "key value" lines.
std::map<std::string, uint64_t> read_kv(const std::string& path) {
  std::map<std::string, uint64_t> out;
  auto t = read_opt(path);
  if (!t) return out;
  for (auto& line : split(*t, '\n', true)) {
    auto f = split(line, ' ', true);
    if (f.size() != 2) continue;
    if (auto v = parse_uint(f[1])) out[f[0]] = *v;
  }
  return out;
}

uint64_t get(const std::map<std::string, uint64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

uint64_t mem_total(const std::string& proc_root) {
  auto t = read_opt(proc_root + "/meminfo");
  if (!t) return 0;
  for (auto& line : split(*t, '\n', true)) {
    if (!starts_with(line, "MemTotal:")) continue;
    auto f = split(line, ' ', true);
    if (f.size() >= 2) return parse_uint(f[1]).value_or(0) * 1024;
  }
  return 0;
}

// /proc/stat: the "cpu" line in ns, and the number of "cpuN" lines.
void read_proc_stat(const std::string& proc_root, StatsSample& s) {
  auto t = read_opt(proc_root + "/stat");
  if (!t) return;
  long hz = ::sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;
  uint32_t cpus = 0;
  for (auto& line : split(*t, '\n', true)) {
    if (starts_with(line, "cpu ")) {
      auto f = split(line, ' ', true);
      uint64_t ticks = 0;
      // user nice system idle iowait irq softirq (docker's sum).
      for (size_t i = 1; i < f.size() && i <= 7; ++i) ticks += parse_uint(f[i]).value_or(0);
      s.system_cpu = ticks * (1'000'000'000ull / static_cast<uint64_t>(hz));
    } else if (starts_with(line, "cpu")) {
      ++cpus;
    }
  }
  s.online_cpus = cpus;
}

// /proc/<pid>/net/dev: two header lines, then "name: rx(8 fields) tx(8
// fields)"; a long number may follow the colon without a space, and a name
// never holds one. lo is left out, as docker lists only endpoints.
void read_net_dev(const std::string& path, StatsSample& s) {
  auto t = read_opt(path);
  if (!t) return;
  for (auto& line : split(*t, '\n', true)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name(trim(std::string_view(line).substr(0, colon)));
    auto f = split(std::string_view(line).substr(colon + 1), ' ', true);
    if (name.empty() || name == "lo" || f.size() < 16) continue;
    auto n = [&](size_t i) { return parse_uint(f[i]).value_or(0); };
    s.networks.push_back({name, n(0), n(1), n(2), n(3), n(8), n(9), n(10), n(11)});
  }
}

// blkio.throttle.io_service_bytes lines: "8:0 Read 1234".
void read_v1_blkio(const std::string& path, StatsSample& s) {
  auto t = read_opt(path);
  if (!t) return;
  for (auto& line : split(*t, '\n', true)) {
    auto f = split(line, ' ', true);
    if (f.size() != 3) continue;
    auto mm = split(f[0], ':');
    if (mm.size() != 2) continue;
    StatsSample::BlkioEntry e;
    e.major = parse_uint(mm[0]).value_or(0);
    e.minor = parse_uint(mm[1]).value_or(0);
    e.op = f[1];
    for (auto& c : e.op) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    e.value = parse_uint(f[2]).value_or(0);
    s.io_service_bytes.push_back(std::move(e));
  }
}

// io.stat lines: "8:0 rbytes=1 wbytes=2 rios=3 ...". docker reports them as
// read/write io_service_bytes entries.
void read_v2_io(const std::string& path, StatsSample& s) {
  auto t = read_opt(path);
  if (!t) return;
  for (auto& line : split(*t, '\n', true)) {
    auto f = split(line, ' ', true);
    if (f.size() < 2) continue;
    auto mm = split(f[0], ':');
    if (mm.size() != 2) continue;
    uint64_t major = parse_uint(mm[0]).value_or(0), minor = parse_uint(mm[1]).value_or(0);
    for (size_t i = 1; i < f.size(); ++i) {
      auto kv = split(f[i], '=');
      if (kv.size() != 2) continue;
      std::string op;
      if (kv[0] == "rbytes") op = "read";
      if (kv[0] == "wbytes") op = "write";
      if (op.empty()) continue;
      s.io_service_bytes.push_back({major, minor, op, parse_uint(kv[1]).value_or(0)});
    }
  }
}

Result<void> read_v2(const StatsPaths& p, StatsSample& s) {
  std::string dir = p.layout.unified_root + p.cgroups_path;
  if (!is_dir(dir)) return make_error(Errc::NotFound, "cgroup {} not found", dir);
  auto cpu = read_kv(dir + "/cpu.stat");
  s.cpu_total = get(cpu, "usage_usec") * 1000;
  s.cpu_user = get(cpu, "user_usec") * 1000;
  s.cpu_kernel = get(cpu, "system_usec") * 1000;
  s.throttling_periods = get(cpu, "nr_periods");
  s.throttled_periods = get(cpu, "nr_throttled");
  s.throttled_time = get(cpu, "throttled_usec") * 1000;
  s.memory_usage = read_u64(dir + "/memory.current");
  s.memory_max_usage = read_u64(dir + "/memory.peak");
  auto max = read_opt(dir + "/memory.max");
  if (max && trim(*max) != "max") s.memory_limit = parse_uint(trim(*max)).value_or(0);
  s.memory_stats = read_kv(dir + "/memory.stat");
  s.pids_current = read_u64(dir + "/pids.current");
  auto pmax = read_opt(dir + "/pids.max");
  if (pmax && trim(*pmax) != "max") s.pids_limit = parse_uint(trim(*pmax)).value_or(0);
  read_v2_io(dir + "/io.stat", s);
  return ok();
}

std::string v1_dir(const StatsPaths& p, const std::string& controller) {
  auto it = p.layout.v1_roots.find(controller);
  if (it == p.layout.v1_roots.end()) return "";
  return it->second + p.cgroups_path;
}

Result<void> read_v1(const StatsPaths& p, StatsSample& s) {
  std::string cpuacct = v1_dir(p, "cpuacct");
  std::string memory = v1_dir(p, "memory");
  std::string pids = v1_dir(p, "pids");
  std::string cpu = v1_dir(p, "cpu");
  std::string blkio = v1_dir(p, "blkio");
  bool any = false;
  for (auto* d : {&cpuacct, &memory, &pids, &cpu}) {
    if (!d->empty() && is_dir(*d)) any = true;
  }
  if (!any) return make_error(Errc::NotFound, "cgroup {} not found", p.cgroups_path);
  if (!cpuacct.empty()) {
    s.cpu_total = read_u64(cpuacct + "/cpuacct.usage");
    if (auto t = read_opt(cpuacct + "/cpuacct.usage_percpu")) {
      for (auto& v : split(*t, ' ', true)) {
        if (auto n = parse_uint(trim(v))) s.percpu.push_back(*n);
      }
    }
    // cpuacct.stat is in USER_HZ ticks.
    long hz = ::sysconf(_SC_CLK_TCK);
    if (hz <= 0) hz = 100;
    auto st = read_kv(cpuacct + "/cpuacct.stat");
    uint64_t ns_per_tick = 1'000'000'000ull / static_cast<uint64_t>(hz);
    s.cpu_user = get(st, "user") * ns_per_tick;
    s.cpu_kernel = get(st, "system") * ns_per_tick;
  }
  if (!cpu.empty()) {
    auto st = read_kv(cpu + "/cpu.stat");
    s.throttling_periods = get(st, "nr_periods");
    s.throttled_periods = get(st, "nr_throttled");
    s.throttled_time = get(st, "throttled_time");
  }
  if (!memory.empty()) {
    s.memory_usage = read_u64(memory + "/memory.usage_in_bytes");
    s.memory_max_usage = read_u64(memory + "/memory.max_usage_in_bytes");
    uint64_t limit = read_u64(memory + "/memory.limit_in_bytes");
    // v1 writes "no limit" as a page-rounded LLONG_MAX.
    if (limit < (1ull << 62)) s.memory_limit = limit;
    s.memory_stats = read_kv(memory + "/memory.stat");
  }
  if (!pids.empty()) {
    s.pids_current = read_u64(pids + "/pids.current");
    auto pmax = read_opt(pids + "/pids.max");
    if (pmax && trim(*pmax) != "max") s.pids_limit = parse_uint(trim(*pmax)).value_or(0);
  }
  if (!blkio.empty()) read_v1_blkio(blkio + "/blkio.throttle.io_service_bytes", s);
  return ok();
}

}  // namespace

Result<StatsSample> read_stats(const StatsPaths& p) {
  StatsSample s;
  s.read_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  if (p.layout.version == cgroups::Version::V2) {
    BERTH_TRY(read_v2(p, s));
  } else {
    BERTH_TRY(read_v1(p, s));
  }
  read_proc_stat(p.proc_root, s);
  if (p.net_pid > 0) read_net_dev(p.proc_root + "/" + std::to_string(p.net_pid) + "/net/dev", s);
  if (s.online_cpus == 0) s.online_cpus = static_cast<uint32_t>(s.percpu.size());
  if (s.memory_limit == 0) s.memory_limit = mem_total(p.proc_root);
  return s;
}

void carry_previous(StatsSample& cur, const StatsSample& prev) {
  cur.preread_ns = prev.read_ns;
  cur.pre_cpu_total = prev.cpu_total;
  cur.pre_cpu_kernel = prev.cpu_kernel;
  cur.pre_cpu_user = prev.cpu_user;
  cur.pre_system_cpu = prev.system_cpu;
  cur.pre_percpu = prev.percpu;
  cur.pre_online_cpus = prev.online_cpus;
}

}  // namespace berth::engine
