#include "cgroups/v2_manager.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "base/fd.h"
#include "base/log.h"
#include "base/strings.h"
#include "cgroups/convert.h"
#include "cgroups/devices.h"
#include "cgroups/devices_bpf.h"

namespace berth::cgroups {
namespace {

constexpr const char* kWantedControllers[] = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids"};

}  // namespace

V2Manager::V2Manager(std::string unified_root, std::string cgroup_path, ManagerOptions opts)
    : root_(std::move(unified_root)),
      path_(std::move(cgroup_path)),
      dir_(join_path(root_, path_)),
      fs_(std::move(opts)) {}

Result<void> V2Manager::enable_controllers(const std::string& dir) {
  auto available = split(BERTH_TRY(fs_.read(dir, "cgroup.controllers")), ' ', true);
  auto enabled = split(fs_.read(dir, "cgroup.subtree_control").value_or(""), ' ', true);
  std::vector<std::string> todo;
  for (const char* c : kWantedControllers) {
    bool offered = std::find(available.begin(), available.end(), c) != available.end();
    bool on = std::find(enabled.begin(), enabled.end(), c) != enabled.end();
    if (offered && !on) todo.push_back(std::string("+") + c);
  }
  if (todo.empty()) return ok();
  if (fs_.write(dir, "cgroup.subtree_control", join(todo, " "))) return ok();
  // One refused controller fails the whole write; enable what we can.
  for (auto& c : todo) {
    auto r = fs_.write(dir, "cgroup.subtree_control", c);
    if (!r) log_warn("cgroup v2: cannot enable {} in {}: {}", c, dir, r.error().message);
  }
  return ok();
}

Result<void> V2Manager::create() {
  if (::access(root_.c_str(), F_OK) != 0) return sys_error(fmt::format("cgroup v2 root {}", root_));
  BERTH_TRY(fs_.mkdir_all(dir_));
  std::string dir = join_path(root_, "");
  auto parts = split(path_, '/', /*skip_empty=*/true);
  // Controllers flow down: each ancestor (root included, leaf excluded)
  // must list them in its subtree_control for the child to get the files.
  for (size_t i = 0; i < parts.size(); ++i) {
    BERTH_TRY(enable_controllers(dir));
    dir = (dir == "/" ? "" : dir) + "/" + parts[i];
  }
  return ok();
}

Result<void> V2Manager::add_process(pid_t pid) {
  return fs_.write(dir_, "cgroup.procs", std::to_string(pid));
}

Result<void> V2Manager::write_knob(std::string_view file, std::string_view value,
                                   std::string_view field) {
  if (!fs_.exists(dir_, file))
    return make_error(Errc::FailedPrecondition,
                      "{} is set but {}/{} does not exist (controller not enabled for this "
                      "cgroup?)",
                      field, dir_, file);
  return fs_.write(dir_, file, value);
}

Result<void> V2Manager::set(const oci::Resources& r) {
  // Validate everything cheap first so a bad key does not leave half a config.
  for (auto& [key, value] : r.unified) BERTH_TRY(check_unified_key(key));
  for (auto& h : r.hugepage_limits) BERTH_TRY(check_hugepage_size(h.page_size));
  if (r.cpu && (r.cpu->realtime_runtime || r.cpu->realtime_period))
    return make_error(Errc::NotImplemented,
                      "cpu.realtimeRuntime/realtimePeriod are not supported on cgroup v2");

  if (r.cpu && !r.cpu->cpus.empty()) BERTH_TRY(write_knob("cpuset.cpus", r.cpu->cpus, "cpu.cpus"));
  if (r.cpu && !r.cpu->mems.empty()) BERTH_TRY(write_knob("cpuset.mems", r.cpu->mems, "cpu.mems"));
  if (!r.devices.empty()) BERTH_TRY(set_devices(r.devices));
  if (r.memory) BERTH_TRY(set_memory(*r.memory));
  if (r.cpu) BERTH_TRY(set_cpu(*r.cpu));
  if (r.pids)
    BERTH_TRY(write_knob("pids.max",
                         r.pids->limit > 0 ? std::to_string(r.pids->limit) : std::string("max"),
                         "pids.limit"));
  if (r.block_io) BERTH_TRY(set_io(*r.block_io));
  for (auto& h : r.hugepage_limits)
    BERTH_TRY(write_knob(fmt::format("hugetlb.{}.max", h.page_size), std::to_string(h.limit),
                         "hugepageLimits"));
  if (r.network && (r.network->class_id || !r.network->priorities.empty()))
    log_warn("cgroup v2 has no net_cls/net_prio: linux.resources.network ignored");
  for (auto& [key, value] : r.unified)
    BERTH_TRY(write_knob(key, value, fmt::format("unified[{:?}]", key)));
  return ok();
}

Result<void> V2Manager::set_memory(const oci::MemoryResources& m) {
  if (m.check_before_update.value_or(false) && m.limit && *m.limit > 0 &&
      fs_.exists(dir_, "memory.current")) {
    auto usage = parse_uint(BERTH_TRY(fs_.read(dir_, "memory.current")));
    if (usage && *usage > static_cast<uint64_t>(*m.limit))
      return make_error(Errc::FailedPrecondition,
                        "memory.limit {} is below the current usage {} (checkBeforeUpdate)",
                        *m.limit, *usage);
  }
  auto swap = BERTH_TRY(v2_swap_max(m.limit, m.swap));
  if (m.limit) BERTH_TRY(write_knob("memory.max", v2_limit(*m.limit), "memory.limit"));
  if (swap) {
    if (!fs_.exists(dir_, "memory.swap.max")) {
      if (*swap != "max")
        return make_error(Errc::FailedPrecondition,
                          "memory.swap is set but {}/memory.swap.max does not exist: swap "
                          "accounting is disabled on this host",
                          dir_);
    } else {
      BERTH_TRY(fs_.write(dir_, "memory.swap.max", *swap));
    }
  }
  if (m.reservation)
    BERTH_TRY(write_knob("memory.low", v2_limit(*m.reservation), "memory.reservation"));
  if (m.swappiness) log_warn("cgroup v2 has no memory.swappiness: ignored");
  if (m.disable_oom_killer.value_or(false))
    log_warn("cgroup v2 cannot disable the OOM killer: disableOOMKiller ignored");
  if (m.kernel || m.kernel_tcp) log_warn("cgroup v2 has no kernel memory limits: ignored");
  return ok();
}

Result<void> V2Manager::set_cpu(const oci::CpuResources& c) {
  if (c.shares) {
    uint64_t weight = shares_to_weight(*c.shares);
    if (weight) BERTH_TRY(write_knob("cpu.weight", std::to_string(weight), "cpu.shares"));
  }
  if (c.quota || c.period) {
    // cpu.max holds both numbers: keep the half that was not asked for.
    CpuMax cur;
    if (!(c.quota && c.period) && fs_.exists(dir_, "cpu.max"))
      cur = BERTH_TRY(parse_cpu_max(BERTH_TRY(fs_.read(dir_, "cpu.max"))));
    std::optional<int64_t> quota = c.quota ? c.quota : cur.quota;
    uint64_t period = c.period ? *c.period : cur.period;
    BERTH_TRY(write_knob("cpu.max", cpu_max_line(quota, period), "cpu.quota/period"));
  }
  if (c.burst) BERTH_TRY(write_knob("cpu.max.burst", std::to_string(*c.burst), "cpu.burst"));
  if (c.idle) BERTH_TRY(write_knob("cpu.idle", std::to_string(*c.idle), "cpu.idle"));
  return ok();
}

Result<void> V2Manager::set_io(const oci::BlockIoResources& b) {
  // With BFQ the kernel exposes io.bfq.weight (1..1000, the blkio range
  // unchanged); otherwise io.weight (1..10000) gets the converted value.
  bool bfq = fs_.exists(dir_, "io.bfq.weight");
  auto weight_value = [&](uint64_t w) {
    return bfq ? std::to_string(w) : std::to_string(blkio_weight_to_io_weight(w));
  };
  const char* weight_file = bfq ? "io.bfq.weight" : "io.weight";
  if (b.weight) BERTH_TRY(write_knob(weight_file, weight_value(*b.weight), "blockIO.weight"));
  if (b.leaf_weight) log_warn("cgroup v2 has no leaf weights: blockIO.leafWeight ignored");
  for (auto& wd : b.weight_device) {
    if (wd.weight)
      BERTH_TRY(write_knob(weight_file,
                           fmt::format("{}:{} {}", wd.major, wd.minor, weight_value(*wd.weight)),
                           "blockIO.weightDevice"));
  }
  auto throttle = [&](const std::vector<oci::ThrottleDevice>& list, const char* key,
                      const char* field) -> Result<void> {
    for (auto& t : list) {
      // v1 used 0 to remove a limit; v2 spells that "max".
      std::string v = t.rate ? std::to_string(t.rate) : std::string("max");
      BERTH_TRY(write_knob("io.max", fmt::format("{}:{} {}={}", t.major, t.minor, key, v), field));
    }
    return ok();
  };
  BERTH_TRY(throttle(b.throttle_read_bps_device, "rbps", "blockIO.throttleReadBpsDevice"));
  BERTH_TRY(throttle(b.throttle_write_bps_device, "wbps", "blockIO.throttleWriteBpsDevice"));
  BERTH_TRY(throttle(b.throttle_read_iops_device, "riops", "blockIO.throttleReadIOPSDevice"));
  BERTH_TRY(throttle(b.throttle_write_iops_device, "wiops", "blockIO.throttleWriteIOPSDevice"));
  return ok();
}

Result<void> V2Manager::set_devices(const std::vector<oci::DeviceCgroupRule>& rules) {
  auto normalized = BERTH_TRY(normalize_device_rules(rules));
  auto program = build_device_program(normalized);
  if (fs_.options().fixture_tree) return ok();  // a temp dir cannot take a BPF program
  Fd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_error(fmt::format("open cgroup {}", dir_));
  auto r = attach_device_program(dir.get(), program);
  if (!r) return r.error().context(fmt::format("device rules for {}", dir_));
  return ok();
}

Result<void> V2Manager::wait_frozen(bool want,
                                    const std::chrono::steady_clock::time_point& deadline) {
  for (int attempt = 0;; ++attempt) {
    auto state = BERTH_TRY(freezer_state());
    if (state == (want ? FreezerState::Frozen : FreezerState::Thawed)) return ok();
    if (std::chrono::steady_clock::now() >= deadline)
      return make_error(
          Errc::DeadlineExceeded, "{} {}: cgroup.events not \"frozen {}\" after {} ms",
          want ? "freeze" : "thaw", dir_, want ? 1 : 0, fs_.options().freeze_timeout.count());
    std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 10 ? 1 : 10));
  }
}

Result<void> V2Manager::freeze() {
  if (!fs_.exists(dir_, "cgroup.freeze"))
    return make_error(Errc::NotImplemented, "{}/cgroup.freeze missing: kernel < 5.2?", dir_);
  auto deadline = std::chrono::steady_clock::now() + fs_.options().freeze_timeout;
  BERTH_TRY(fs_.write(dir_, "cgroup.freeze", "1"));
  auto r = wait_frozen(true, deadline);
  if (!r) {
    auto undo = fs_.write(dir_, "cgroup.freeze", "0");
    if (!undo) log_warn("thaw {} after failed freeze: {}", dir_, undo.error().message);
  }
  return r;
}

Result<void> V2Manager::thaw() {
  if (!fs_.exists(dir_, "cgroup.freeze"))
    return make_error(Errc::NotImplemented, "{}/cgroup.freeze missing: kernel < 5.2?", dir_);
  auto deadline = std::chrono::steady_clock::now() + fs_.options().freeze_timeout;
  BERTH_TRY(fs_.write(dir_, "cgroup.freeze", "0"));
  return wait_frozen(false, deadline);
}

Result<FreezerState> V2Manager::freezer_state() {
  if (!fs_.exists(dir_, "cgroup.freeze")) {
    if (::access(dir_.c_str(), F_OK) != 0) return sys_error(fmt::format("cgroup {}", dir_));
    return FreezerState::Thawed;
  }
  auto want = BERTH_TRY(fs_.read(dir_, "cgroup.freeze"));
  auto events = BERTH_TRY(fs_.read(dir_, "cgroup.events"));
  return parse_v2_freezer_state(want, events);
}

Result<std::vector<pid_t>> V2Manager::pids() { return fs_.procs_recursive(dir_); }

Result<Stats> V2Manager::stats() {
  Stats s;
  auto read_u64 = [&](const char* file) -> Result<uint64_t> {
    if (!fs_.exists(dir_, file)) return uint64_t{0};
    auto text = BERTH_TRY(fs_.read(dir_, file));
    if (text == "max") return uint64_t{0};
    auto v = parse_uint(text);
    if (!v) return make_error(Errc::Io, "{}/{}: not a number: {:?}", dir_, file, text);
    return *v;
  };
  s.memory_usage = BERTH_TRY(read_u64("memory.current"));
  s.memory_limit = BERTH_TRY(read_u64("memory.max"));
  s.pids_current = BERTH_TRY(read_u64("pids.current"));
  if (fs_.exists(dir_, "cpu.stat")) {
    for (auto& line : split(BERTH_TRY(fs_.read(dir_, "cpu.stat")), '\n', true)) {
      auto kv = split(trim(line), ' ', true);
      if (kv.size() == 2 && kv[0] == "usage_usec") {
        auto v = parse_uint(kv[1]);
        if (!v) return make_error(Errc::Io, "{}/cpu.stat: bad usage_usec {:?}", dir_, kv[1]);
        s.cpu_usage_ns = *v * 1000;
      }
    }
  }
  return s;
}

Result<void> V2Manager::destroy() {
  if (fs_.try_rmdir(dir_)) return ok();  // an empty leaf: no reads needed
  auto left = BERTH_TRY(pids());
  if (!left.empty())
    return make_error(Errc::Conflict, "cgroup {} still has {} process(es) (first: {})", dir_,
                      left.size(), left.front());
  return fs_.remove_tree(dir_);
}

}  // namespace berth::cgroups
