#include "cgroups/v1_manager.h"

#include <unistd.h>

#include <algorithm>
#include <set>
#include <thread>

#include "base/log.h"
#include "base/strings.h"
#include "cgroups/convert.h"
#include "cgroups/devices.h"

namespace berth::cgroups {
namespace {

// memory.limit_in_bytes reads back as PAGE_COUNTER_MAX pages when unlimited
// (9223372036854771712 on 4k pages); anything this large means "no limit".
constexpr uint64_t kUnlimitedThreshold = uint64_t{1} << 62;

std::string device_numbers(int64_t major, int64_t minor) {
  return fmt::format("{}:{}", major, minor);
}

}  // namespace

V1Manager::V1Manager(std::map<std::string, std::string> roots, std::string cgroup_path,
                     ManagerOptions opts)
    : roots_(std::move(roots)), path_(std::move(cgroup_path)), fs_(std::move(opts)) {
  for (auto& [controller, root] : roots_) dirs_[controller] = join_path(root, path_);
}

std::vector<std::string> V1Manager::unique_dirs() const {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (auto& [c, d] : dirs_)
    if (seen.insert(d).second) out.push_back(d);
  return out;
}

Result<std::string> V1Manager::need(const std::string& controller, std::string_view what) const {
  auto it = dirs_.find(controller);
  if (it == dirs_.end())
    return make_error(Errc::FailedPrecondition,
                      "{} needs the cgroup v1 \"{}\" controller, which is not mounted", what,
                      controller);
  return it->second;
}

Result<void> V1Manager::create() {
  for (auto& d : unique_dirs()) BERTH_TRY(fs_.mkdir_all(d));
  if (dirs_.count("cpuset")) BERTH_TRY(init_cpuset());
  return ok();
}

Result<void> V1Manager::init_cpuset() {
  std::string dir = roots_.at("cpuset");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  for (auto& part : split(path_, '/', /*skip_empty=*/true)) {
    std::string parent = dir;
    dir += "/" + part;
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      auto cur = BERTH_TRY(fs_.read(dir, file));
      if (!cur.empty()) continue;
      auto from_parent = BERTH_TRY(fs_.read(parent, file));
      BERTH_TRY(fs_.write(dir, file, from_parent));
    }
  }
  return ok();
}

Result<void> V1Manager::add_process(pid_t pid) {
  for (auto& d : unique_dirs()) BERTH_TRY(fs_.write(d, "cgroup.procs", std::to_string(pid)));
  return ok();
}

Result<void> V1Manager::set(const oci::Resources& r) {
  if (!r.unified.empty())
    return make_error(Errc::InvalidArgument,
                      "linux.resources.unified ({} keys) needs cgroup v2; this host uses v1",
                      r.unified.size());
  if (r.cpu && (!r.cpu->cpus.empty() || !r.cpu->mems.empty())) {
    auto dir = BERTH_TRY(need("cpuset", "cpu.cpus/mems"));
    if (!r.cpu->cpus.empty()) BERTH_TRY(fs_.write(dir, "cpuset.cpus", r.cpu->cpus));
    if (!r.cpu->mems.empty()) BERTH_TRY(fs_.write(dir, "cpuset.mems", r.cpu->mems));
  }
  if (!r.devices.empty()) BERTH_TRY(set_devices(r.devices));
  if (r.memory) BERTH_TRY(set_memory(*r.memory));
  if (r.cpu) BERTH_TRY(set_cpu(*r.cpu));
  if (r.pids) {
    auto dir = BERTH_TRY(need("pids", "pids.limit"));
    BERTH_TRY(fs_.write(dir, "pids.max",
                        r.pids->limit > 0 ? std::to_string(r.pids->limit) : std::string("max")));
  }
  if (r.block_io) BERTH_TRY(set_blkio(*r.block_io));
  for (auto& h : r.hugepage_limits) {
    BERTH_TRY(check_hugepage_size(h.page_size));
    auto dir = BERTH_TRY(need("hugetlb", "hugepageLimits"));
    BERTH_TRY(fs_.write(dir, fmt::format("hugetlb.{}.limit_in_bytes", h.page_size),
                        std::to_string(h.limit)));
  }
  if (r.network) {
    if (r.network->class_id) {
      auto dir = BERTH_TRY(need("net_cls", "network.classID"));
      BERTH_TRY(fs_.write(dir, "net_cls.classid", std::to_string(*r.network->class_id)));
    }
    for (auto& [ifname, prio] : r.network->priorities) {
      auto dir = BERTH_TRY(need("net_prio", "network.priorities"));
      BERTH_TRY(fs_.write(dir, "net_prio.ifpriomap", fmt::format("{} {}", ifname, prio)));
    }
  }
  return ok();
}

Result<void> V1Manager::set_devices(const std::vector<oci::DeviceCgroupRule>& rules) {
  auto dir = BERTH_TRY(need("devices", "linux.resources.devices"));
  auto normalized = BERTH_TRY(normalize_device_rules(rules));
  return fs_.write_each(dir, v1_device_writes(normalized));
}

Result<void> V1Manager::set_memory(const oci::MemoryResources& m) {
  bool any = m.limit || m.reservation || m.swap || m.kernel_tcp || m.swappiness ||
             m.disable_oom_killer || m.use_hierarchy;
  if (!any) {
    if (m.kernel) log_warn("cgroup v1: memory.kernel is deprecated and ignored");
    return ok();
  }
  auto dir = BERTH_TRY(need("memory", "linux.resources.memory"));
  if (m.kernel) log_warn("cgroup v1: memory.kernel is deprecated and ignored");

  if (m.check_before_update.value_or(false) && m.limit && *m.limit > 0) {
    auto usage = parse_uint(BERTH_TRY(fs_.read(dir, "memory.usage_in_bytes")));
    if (usage && *usage > static_cast<uint64_t>(*m.limit))
      return make_error(Errc::FailedPrecondition,
                        "memory.limit {} is below the current usage {} (checkBeforeUpdate)",
                        *m.limit, *usage);
  }

  // memsw (memory+swap) must stay >= the memory limit at every moment or the
  // kernel answers EINVAL. So when the limit goes up, raise memsw first; when
  // it goes down, lower the limit first.
  std::optional<int64_t> swap = m.swap;
  bool have_memsw = fs_.exists(dir, "memory.memsw.limit_in_bytes");
  // An unlimited memory limit with no swap setting means unlimited swap too
  // (otherwise the old memsw would block raising the limit to "unlimited").
  if (!swap && m.limit && *m.limit < 0 && have_memsw) swap = -1;
  if (swap && !have_memsw) {
    if (*swap >= 0)
      return make_error(Errc::FailedPrecondition,
                        "memory.swap {} requested but {}/memory.memsw.limit_in_bytes does not "
                        "exist: swap accounting is disabled (boot with swapaccount=1)",
                        *swap, dir);
    swap.reset();  // "unlimited swap" is what the host gives anyway
  }
  auto write_limit = [&]() -> Result<void> {
    return fs_.write(dir, "memory.limit_in_bytes", v1_limit(*m.limit));
  };
  auto write_swap = [&]() -> Result<void> {
    return fs_.write(dir, "memory.memsw.limit_in_bytes", v1_limit(*swap));
  };
  if (m.limit && swap) {
    if (*m.limit >= 0 && *swap >= 0 && *swap < *m.limit)
      return make_error(Errc::InvalidArgument,
                        "memory.swap {} must be >= memory.limit {} (swap is memory+swap)", *swap,
                        *m.limit);
    // An unreadable current limit is treated as a raise (memsw first).
    bool raising = true;
    if (*m.limit >= 0) {
      auto cur = parse_uint(fs_.read(dir, "memory.limit_in_bytes").value_or(""));
      if (cur) raising = *cur<kUnlimitedThreshold&& static_cast<uint64_t>(*m.limit)> * cur;
    }
    if (raising) {
      BERTH_TRY(write_swap());
      BERTH_TRY(write_limit());
    } else {
      BERTH_TRY(write_limit());
      BERTH_TRY(write_swap());
    }
  } else if (m.limit) {
    BERTH_TRY(write_limit());
  } else if (swap) {
    BERTH_TRY(write_swap());
  }

  if (m.reservation)
    BERTH_TRY(fs_.write(dir, "memory.soft_limit_in_bytes", v1_limit(*m.reservation)));
  if (m.kernel_tcp)
    BERTH_TRY(fs_.write(dir, "memory.kmem.tcp.limit_in_bytes", v1_limit(*m.kernel_tcp)));
  if (m.swappiness) {
    if (*m.swappiness > 100)
      return make_error(Errc::InvalidArgument, "memory.swappiness {} out of range 0..100",
                        *m.swappiness);
    BERTH_TRY(fs_.write(dir, "memory.swappiness", std::to_string(*m.swappiness)));
  }
  if (m.disable_oom_killer)
    BERTH_TRY(fs_.write(dir, "memory.oom_control", *m.disable_oom_killer ? "1" : "0"));
  if (m.use_hierarchy)
    BERTH_TRY(fs_.write(dir, "memory.use_hierarchy", *m.use_hierarchy ? "1" : "0"));
  return ok();
}

Result<void> V1Manager::set_cpu(const oci::CpuResources& c) {
  bool any = c.shares || c.quota || c.period || c.burst || c.realtime_runtime ||
             c.realtime_period || c.idle;
  if (!any) return ok();
  auto dir = BERTH_TRY(need("cpu", "linux.resources.cpu"));
  if (c.shares) BERTH_TRY(fs_.write(dir, "cpu.shares", std::to_string(*c.shares)));
  // The kernel checks quota/period against the parent's bandwidth after each
  // write; period-then-quota works for the usual cases, and when the period
  // write is refused the reverse order is tried.
  auto quota = [&]() -> Result<void> {
    return fs_.write(dir, "cpu.cfs_quota_us", std::to_string(*c.quota > 0 ? *c.quota : -1));
  };
  if (c.period) {
    auto r = fs_.write(dir, "cpu.cfs_period_us", std::to_string(*c.period));
    if (!r) {
      if (!c.quota || r.error().sys_errno != EINVAL) return r.error();
      BERTH_TRY(quota());
      BERTH_TRY(fs_.write(dir, "cpu.cfs_period_us", std::to_string(*c.period)));
    } else if (c.quota) {
      BERTH_TRY(quota());
    }
  } else if (c.quota) {
    BERTH_TRY(quota());
  }
  if (c.burst) BERTH_TRY(fs_.write(dir, "cpu.cfs_burst_us", std::to_string(*c.burst)));
  if (c.realtime_period)
    BERTH_TRY(fs_.write(dir, "cpu.rt_period_us", std::to_string(*c.realtime_period)));
  if (c.realtime_runtime) {
    auto r = fs_.write(dir, "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime));
    // The kernel's EINVAL alone does not say why: a group's real-time
    // runtime comes out of its parent's, which is 0 unless someone set it.
    if (!r && r.error().sys_errno == EINVAL) {
      Error e = r.error();
      e.message += " (more than the parent cgroup's cpu.rt_runtime_us leaves for it)";
      return e;
    }
    BERTH_TRY(r);
  }
  if (c.idle) BERTH_TRY(fs_.write(dir, "cpu.idle", std::to_string(*c.idle)));
  return ok();
}

Result<void> V1Manager::set_blkio(const oci::BlockIoResources& b) {
  bool any = b.weight || b.leaf_weight || !b.weight_device.empty() ||
             !b.throttle_read_bps_device.empty() || !b.throttle_write_bps_device.empty() ||
             !b.throttle_read_iops_device.empty() || !b.throttle_write_iops_device.empty();
  if (!any) return ok();
  auto dir = BERTH_TRY(need("blkio", "linux.resources.blockIO"));
  // CFQ exposed blkio.weight; with BFQ (kernel >= 5.0) it is blkio.bfq.weight.
  auto weight_file = [&](std::string_view what, const char* cfq,
                         const char* bfq) -> Result<std::string> {
    if (fs_.exists(dir, cfq)) return std::string(cfq);
    if (bfq && fs_.exists(dir, bfq)) return std::string(bfq);
    return make_error(Errc::FailedPrecondition,
                      "blockIO.{} is set but {} has neither {} nor {} (no proportional I/O "
                      "scheduler)",
                      what, dir, cfq, bfq ? bfq : "-");
  };
  if (b.weight) {
    auto f = BERTH_TRY(weight_file("weight", "blkio.weight", "blkio.bfq.weight"));
    BERTH_TRY(fs_.write(dir, f, std::to_string(*b.weight)));
  }
  if (b.leaf_weight) {
    auto f = BERTH_TRY(weight_file("leafWeight", "blkio.leaf_weight", nullptr));
    BERTH_TRY(fs_.write(dir, f, std::to_string(*b.leaf_weight)));
  }
  for (auto& wd : b.weight_device) {
    if (wd.weight) {
      auto f =
          BERTH_TRY(weight_file("weightDevice", "blkio.weight_device", "blkio.bfq.weight_device"));
      BERTH_TRY(
          fs_.write(dir, f, fmt::format("{} {}", device_numbers(wd.major, wd.minor), *wd.weight)));
    }
    if (wd.leaf_weight) {
      auto f =
          BERTH_TRY(weight_file("weightDevice.leafWeight", "blkio.leaf_weight_device", nullptr));
      BERTH_TRY(fs_.write(
          dir, f, fmt::format("{} {}", device_numbers(wd.major, wd.minor), *wd.leaf_weight)));
    }
  }
  auto throttle = [&](const std::vector<oci::ThrottleDevice>& list,
                      const char* file) -> Result<void> {
    for (auto& t : list)
      BERTH_TRY(
          fs_.write(dir, file, fmt::format("{} {}", device_numbers(t.major, t.minor), t.rate)));
    return ok();
  };
  BERTH_TRY(throttle(b.throttle_read_bps_device, "blkio.throttle.read_bps_device"));
  BERTH_TRY(throttle(b.throttle_write_bps_device, "blkio.throttle.write_bps_device"));
  BERTH_TRY(throttle(b.throttle_read_iops_device, "blkio.throttle.read_iops_device"));
  BERTH_TRY(throttle(b.throttle_write_iops_device, "blkio.throttle.write_iops_device"));
  return ok();
}

Result<void> V1Manager::freeze() {
  auto dir = BERTH_TRY(need("freezer", "freeze"));
  auto deadline = std::chrono::steady_clock::now() + fs_.options().freeze_timeout;
  for (int attempt = 0;; ++attempt) {
    // Re-writing FROZEN retries tasks the kernel could not freeze yet.
    if (attempt % 10 == 0) BERTH_TRY(fs_.write(dir, "freezer.state", "FROZEN"));
    auto state = BERTH_TRY(parse_v1_freezer_state(BERTH_TRY(fs_.read(dir, "freezer.state"))));
    if (state == FreezerState::Frozen) return ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      auto undo = fs_.write(dir, "freezer.state", "THAWED");
      if (!undo) log_warn("thaw {} after failed freeze: {}", dir, undo.error().message);
      return make_error(Errc::DeadlineExceeded, "freeze {}: still {} after {} ms", dir,
                        state == FreezerState::Freezing ? "FREEZING" : "THAWED",
                        fs_.options().freeze_timeout.count());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 10 ? 1 : 10));
  }
}

Result<void> V1Manager::thaw() {
  auto dir = BERTH_TRY(need("freezer", "thaw"));
  auto deadline = std::chrono::steady_clock::now() + fs_.options().freeze_timeout;
  BERTH_TRY(fs_.write(dir, "freezer.state", "THAWED"));
  for (int attempt = 0;; ++attempt) {
    auto state = BERTH_TRY(parse_v1_freezer_state(BERTH_TRY(fs_.read(dir, "freezer.state"))));
    if (state == FreezerState::Thawed) return ok();
    if (std::chrono::steady_clock::now() >= deadline)
      return make_error(Errc::DeadlineExceeded, "thaw {}: not THAWED after {} ms", dir,
                        fs_.options().freeze_timeout.count());
    std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 10 ? 1 : 10));
  }
}

Result<FreezerState> V1Manager::freezer_state() {
  auto it = dirs_.find("freezer");
  if (it == dirs_.end()) return FreezerState::Thawed;
  return parse_v1_freezer_state(BERTH_TRY(fs_.read(it->second, "freezer.state")));
}

Result<std::vector<pid_t>> V1Manager::pids() {
  // Every hierarchy holds the same tasks; prefer the ones always present.
  for (const char* c : {"pids", "freezer", "memory", "cpu", "devices"}) {
    auto it = dirs_.find(c);
    if (it != dirs_.end()) return fs_.procs_recursive(it->second);
  }
  if (dirs_.empty()) return std::vector<pid_t>{};
  return fs_.procs_recursive(dirs_.begin()->second);
}

Result<Stats> V1Manager::stats() {
  Stats s;
  auto read_u64 = [&](const char* controller, const char* file) -> Result<uint64_t> {
    auto it = dirs_.find(controller);
    if (it == dirs_.end() || !fs_.exists(it->second, file)) return uint64_t{0};
    auto text = BERTH_TRY(fs_.read(it->second, file));
    auto v = parse_uint(text);
    if (!v) return make_error(Errc::Io, "{}/{}: not a number: {:?}", it->second, file, text);
    return *v;
  };
  s.memory_usage = BERTH_TRY(read_u64("memory", "memory.usage_in_bytes"));
  s.memory_limit = BERTH_TRY(read_u64("memory", "memory.limit_in_bytes"));
  if (s.memory_limit >= kUnlimitedThreshold) s.memory_limit = 0;
  s.cpu_usage_ns = BERTH_TRY(read_u64("cpuacct", "cpuacct.usage"));
  s.pids_current = BERTH_TRY(read_u64("pids", "pids.current"));
  return s;
}

Result<void> V1Manager::destroy() {
  // The usual case, an empty leaf in every hierarchy, takes one rmdir each
  // and no reads (the exit path of every container runs this). A directory
  // the kernel refuses (a process or a child cgroup in it) is left to the
  // full check below. Hierarchies can disagree (a process moved in one
  // only): then the empty ones are gone and the rest is reported, intact,
  // as a Conflict for the caller to kill what remains and try again.
  std::vector<std::string> rest;
  for (auto& d : unique_dirs())
    if (!fs_.try_rmdir(d)) rest.push_back(d);
  for (auto& d : rest) {
    auto left = BERTH_TRY(fs_.procs_recursive(d));
    if (!left.empty())
      return make_error(Errc::Conflict, "cgroup {} still has {} process(es) (first: {})", d,
                        left.size(), left.front());
  }
  for (auto& d : rest) BERTH_TRY(fs_.remove_tree(d));
  return ok();
}

}  // namespace berth::cgroups
