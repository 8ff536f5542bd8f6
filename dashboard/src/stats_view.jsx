// Live CPU, memory and network charts for one running container from its stats stream (one
// JSON sample per second), drawn as SVG polylines over the last WINDOW samples.

import { useEffect, useState } from 'preact/hooks';
import { request, readJsonLines } from './api.js';
import { cpuPercent, memoryUsage, netIO, netRate } from './stats.js';
import { bytes, mib } from './format.js';
import { ErrorLine } from './ui.jsx';

const WINDOW = 90;

export function Chart({ values, max, label, format, testid }) {
  const w = 600;
  const h = 140;
  const top = Math.max(max || 0, ...values, 1e-9);
  const step = w / (WINDOW - 1);
  const x0 = w - (values.length - 1) * step;
  const pts = values.map((v, i) => `${(x0 + i * step).toFixed(1)},${(h - (v / top) * (h - 4) - 2).toFixed(1)}`).join(' ');
  const last = values.length ? values[values.length - 1] : null;
  return (
    <figure class="chart" data-testid={testid}>
      <figcaption>
        <span>{label}</span>
        <strong>{last === null ? '—' : format(last)}</strong>
        <span class="muted small">scale {format(top)}</span>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" role="img" aria-label={label}>
        <line x1="0" y1={h / 2} x2={w} y2={h / 2} class="grid" />
        {values.length > 1 && <polygon points={`${x0},${h} ${pts} ${w},${h}`} class="area" />}
        {values.length > 1 && <polyline points={pts} class="line" />}
      </svg>
    </figure>
  );
}

export function StatsView({ id }) {
  const [samples, setSamples] = useState([]);
  const [err, setErr] = useState('');
  useEffect(() => {
    const ctl = new AbortController();
    (async () => {
      try {
        const res = await request(`/containers/${id}/stats`, { query: { stream: 1 }, signal: ctl.signal });
        await readJsonLines(res, (s) => {
          // The first sample has no previous reading: no CPU figure yet.
          if (!s.precpu_stats || !s.precpu_stats.system_cpu_usage) return;
          const m = memoryUsage(s);
          const n = { ...netIO(s), read: s.read };
          setSamples((old) => {
            const prev = old[old.length - 1];
            const net = netRate(prev && prev.net, n);
            return [...old.slice(-(WINDOW - 1)), { cpu: cpuPercent(s), mem: m.used, limit: m.limit, net: n, rate: net }];
          });
        });
      } catch (e) {
        if (e.name !== 'AbortError') setErr(e.message);
      }
    })();
    return () => ctl.abort();
  }, [id]);
  const last = samples[samples.length - 1];
  const limit = last && last.limit && last.limit < 2 ** 60 ? last.limit : 0;
  return (
    <div class="stats">
      <ErrorLine text={err} />
      {!samples.length && !err && <p class="loading">Waiting for samples…</p>}
      <Chart testid="cpu-chart" label="CPU" values={samples.map((s) => s.cpu)} max={100} format={(v) => `${v.toFixed(1)} %`} />
      <Chart testid="mem-chart" label={`Memory${limit ? ` (limit ${mib(limit)})` : ''}`} values={samples.map((s) => s.mem)} format={mib} />
      <Chart
        testid="net-chart"
        label={`Network${last ? ` (received ${bytes(last.net.rx)}, sent ${bytes(last.net.tx)})` : ''}`}
        values={samples.map((s) => s.rate)}
        format={(v) => `${bytes(Math.round(v))}/s`}
      />
    </div>
  );
}
