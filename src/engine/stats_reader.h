// engine/stats_reader.h — one docker stats sample from a container's cgroup.
//
// Reads the cgroup files directly (both layouts; cgroups::Layout says where
// the hierarchies are, so tests point it at a fixture tree):
//  v2: cpu.stat (usage/user/system_usec, nr_periods, nr_throttled,
//      throttled_usec), memory.current, memory.peak, memory.max,
//      memory.stat, pids.current, pids.max, io.stat (rbytes/wbytes).
//  v1: cpuacct.usage, cpuacct.usage_percpu, cpuacct.stat, cpu.stat,
//      memory.usage_in_bytes, memory.max_usage_in_bytes,
//      memory.limit_in_bytes, memory.stat, pids.current, pids.max,
//      blkio.throttle.io_service_bytes.
// Both: /proc/<net_pid>/net/dev for the interfaces other than lo.
// A missing controller or file reads as 0 (docker does the same), but a
// missing cgroup directory is NotFound (the container is not running).
// Unlimited memory reports the host's MemTotal as the limit, as docker does.
// system_cpu is the sum of /proc/stat's "cpu" line in ns; online_cpus counts
// its "cpuN" lines. The pre_* fields are left zero: the caller chains
// samples with carry_previous.
// Depends on: base, cgroups (Layout), engine/containers.h.
#pragma once

#include <string>

#include "base/result.h"
#include "cgroups/manager.h"
#include "engine/containers.h"

namespace berth::engine {

struct StatsPaths {
  cgroups::Layout layout;
  std::string cgroups_path;         // container_cgroups_path(): "/berth/<id>"
  std::string proc_root = "/proc";  // for stat and meminfo
  // A process in the container's network namespace (its init): its
  // <proc_root>/<pid>/net/dev gives `networks`; 0 leaves them empty (the
  // host's namespace, or no process).
  int net_pid = 0;
};

// read_ns is the current wall-clock time.
Result<StatsSample> read_stats(const StatsPaths& p);

// Copies prev's current values into cur's pre_* fields (and preread_ns).
void carry_previous(StatsSample& cur, const StatsSample& prev);

}  // namespace berth::engine
