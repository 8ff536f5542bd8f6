import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuPercent, memoryUsage, netIO, netRate } from '../src/stats.js';

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

test('network bytes summed over interfaces, and their rate', () => {
  const s = { networks: { eth0: { rx_bytes: 100, tx_bytes: 40 }, eth1: { rx_bytes: 5, tx_bytes: 1 } } };
  assert.deepEqual(netIO(s), { rx: 105, tx: 41 });
  assert.deepEqual(netIO({}), { rx: 0, tx: 0 });
  const a = { read: '2026-12-04T10:00:00Z', rx: 100, tx: 50 };
  const b = { read: '2026-12-04T10:00:02Z', rx: 400, tx: 150 };
  assert.equal(netRate(a, b), 200);
  assert.equal(netRate(null, b), 0);
  assert.equal(netRate(b, a), 0); // time and counters went back: no negative rate
  assert.equal(netRate(a, { ...a }), 0);
});
