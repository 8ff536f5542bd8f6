import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuPercent, memoryUsage } from '../src/stats.js';

test('cpu percent as docker computes it', () => {
  const s = {
    cpu_stats: { cpu_usage: { total_usage: 3e9 }, system_cpu_usage: 120e9, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 2e9 }, system_cpu_usage: 100e9 },
  };
  assert.equal(cpuPercent(s), 10); // 1e9 / 20e9 * 2 * 100
  assert.equal(cpuPercent({ cpu_stats: {}, precpu_stats: {} }), 0);
});

test('memory subtracts inactive file pages (v1 and v2)', () => {
  assert.equal(memoryUsage({ memory_stats: { usage: 1000, limit: 5000, stats: { total_inactive_file: 300 } } }).used, 700);
  assert.equal(memoryUsage({ memory_stats: { usage: 1000, stats: { inactive_file: 100 } } }).used, 900);
  assert.equal(memoryUsage({ memory_stats: { usage: 1000 } }).used, 1000);
});
