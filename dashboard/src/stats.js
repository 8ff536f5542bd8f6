// CPU and memory from one /containers/{id}/stats sample, computed as the docker CLI does
// (cli/command/container/stats_helpers.go's formulas, reimplemented).

export function cpuPercent(s) {
  const cpu = s.cpu_stats || {};
  const pre = s.precpu_stats || {};
  const total = (cpu.cpu_usage && cpu.cpu_usage.total_usage) || 0;
  const preTotal = (pre.cpu_usage && pre.cpu_usage.total_usage) || 0;
  const cpuDelta = total - preTotal;
  const sysDelta = (cpu.system_cpu_usage || 0) - (pre.system_cpu_usage || 0);
  let online = cpu.online_cpus || 0;
  if (!online) online = (cpu.cpu_usage && cpu.cpu_usage.percpu_usage && cpu.cpu_usage.percpu_usage.length) || 1;
  if (sysDelta > 0 && cpuDelta >= 0) return (cpuDelta / sysDelta) * online * 100;
  return 0;
}

// Memory in use without the page cache the kernel can drop: cgroup v1 subtracts
// total_inactive_file, v2 inactive_file (docker >= 19.03); older daemons report "cache".
export function memoryUsage(s) {
  const m = s.memory_stats || {};
  const usage = m.usage || 0;
  const st = m.stats || {};
  let cache = 0;
  if (st.total_inactive_file !== undefined && st.total_inactive_file < usage) cache = st.total_inactive_file;
  else if (st.inactive_file !== undefined && st.inactive_file < usage) cache = st.inactive_file;
  return { used: usage - cache, limit: m.limit || 0 };
}
