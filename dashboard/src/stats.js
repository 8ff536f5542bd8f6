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

// Bytes received and sent over all of the container's interfaces, summed as the docker CLI's
// NET I/O column does; a sample without "networks" (no interface but lo) counts 0.
export function netIO(s) {
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks || {})) {
    rx += n.rx_bytes || 0;
    tx += n.tx_bytes || 0;
  }
  return { rx, tx };
}

// Bytes per second between two samples' netIO totals (their "read" times); 0 when the counters
// went back (a restarted container has new interfaces) or no time passed.
export function netRate(prev, cur) {
  if (!prev) return 0;
  const dt = (Date.parse(cur.read) - Date.parse(prev.read)) / 1000;
  const d = cur.rx + cur.tx - (prev.rx + prev.tx);
  return dt > 0 && d >= 0 ? d / dt : 0;
}
