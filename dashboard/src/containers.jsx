// The containers list: state, image, published ports as links, uptime, live CPU and memory,
// and the lifecycle actions.

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, containerName, shortId } from './api.js';
import { refresh, useStore } from './store.js';
import { ActionButton, Empty, ErrorLine } from './ui.jsx';
import { cpuPercent, memoryUsage } from './stats.js';
import { mib } from './format.js';

const POLL_MS = 5000;
const PARALLEL = 3;

// One-shot samples (stream=0: berthd takes two readings one second apart, so precpu is filled)
// for the running containers on screen, every POLL_MS, at most PARALLEL requests at a time.
function useListStats(ids) {
  const [stats, setStats] = useState({});
  const idsRef = useRef(ids);
  idsRef.current = ids;
  useEffect(() => {
    let stopped = false;
    const ctl = new AbortController();
    let timer;
    const cycle = async () => {
      const queue = [...idsRef.current];
      const next = {};
      const worker = async () => {
        while (queue.length && !stopped) {
          const id = queue.shift();
          try {
            const s = await api(`/containers/${id}/stats`, { query: { stream: 0 }, signal: ctl.signal });
            next[id] = { cpu: cpuPercent(s), ...memoryUsage(s) };
          } catch (e) {
            /* the container stopped meanwhile; its row shows no numbers */
          }
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      if (stopped) return;
      setStats(next);
      timer = setTimeout(cycle, POLL_MS);
    };
    cycle();
    return () => {
      stopped = true;
      ctl.abort();
      clearTimeout(timer);
    };
  }, [ids.join(',')]);
  return stats;
}

export function portLinks(c) {
  const seen = new Set();
  const out = [];
  for (const p of c.Ports || []) {
    if (!p.PublicPort) continue;
    const key = `${p.PublicPort}/${p.Type}`;
    if (seen.has(key)) continue; // one per host port (IPv4 and IPv6 rows)
    seen.add(key);
    out.push(p);
  }
  return out;
}

export function PortLinks({ c }) {
  const ports = portLinks(c);
  if (!ports.length) return <span class="muted">—</span>;
  return (
    <span class="ports">
      {ports.map((p) =>
        p.Type === 'tcp' ? (
          <a href={`http://${window.location.hostname}:${p.PublicPort}`} target="_blank" rel="noopener" data-testid="port-link">
            {p.PublicPort}→{p.PrivatePort}
          </a>
        ) : (
          <span>
            {p.PublicPort}→{p.PrivatePort}/{p.Type}
          </span>
        ),
      )}
    </span>
  );
}

export function StateBadge({ state, status }) {
  return (
    <span class={`state ${state}`} data-testid="state" title={status}>
      {state}
    </span>
  );
}

export function lifecycle(id) {
  const post = (verb) => () => api(`/containers/${id}/${verb}`, { method: 'POST' }).then(() => refresh('containers'));
  return {
    start: post('start'),
    stop: post('stop'),
    restart: post('restart'),
    pause: post('pause'),
    unpause: post('unpause'),
    remove: () => api(`/containers/${id}`, { method: 'DELETE', query: { force: 1, v: 1 } }).then(() => refresh('containers')),
  };
}

export function ContainerActions({ c, onRemoved }) {
  const a = lifecycle(c.Id);
  const name = containerName(c);
  const running = c.State === 'running';
  const paused = c.State === 'paused';
  return (
    <span class="row-actions">
      {!running && !paused && <ActionButton run={a.start}>Start</ActionButton>}
      {(running || paused) && <ActionButton run={a.stop}>Stop</ActionButton>}
      {running && <ActionButton run={a.restart}>Restart</ActionButton>}
      {running && <ActionButton run={a.pause}>Pause</ActionButton>}
      {paused && <ActionButton run={a.unpause}>Unpause</ActionButton>}
      <ActionButton
        class="danger"
        run={() => a.remove().then(() => onRemoved && onRemoved())}
        confirm={`Delete container ${name}${running ? ' (it is running: it will be killed)' : ''} and its anonymous volumes?`}
        confirmLabel="Delete"
      >
        Delete
      </ActionButton>
    </span>
  );
}

let markedRendered = false;

export function ContainersPage() {
  const list = useStore('containers');
  const errors = useStore('errors');
  useEffect(() => {
    refresh('containers');
  }, []);
  const running = (list || []).filter((c) => c.State === 'running').map((c) => c.Id);
  const stats = useListStats(running);
  useEffect(() => {
    // Time-to-interactive mark read by the browser test: the first rendered list.
    if (list && !markedRendered) {
      markedRendered = true;
      performance.mark('berth:containers-rendered');
    }
  }, [list]);
  return (
    <section>
      <div class="page-head">
        <h1>Containers</h1>
        <span class="muted">{list ? `${list.length} total, ${running.length} running` : ''}</span>
        <span class="spacer" />
        <a class="button" href="#/images">
          Run from an image…
        </a>
      </div>
      <ErrorLine text={errors.containers} />
      {list && !list.length && <Empty>No containers yet. Pull an image and run it from the Images page.</Empty>}
      {list && list.length > 0 && (
        <table class="list" data-testid="containers">
          <thead>
            <tr>
              <th>Name</th>
              <th>State</th>
              <th>Image</th>
              <th>Ports</th>
              <th>Status</th>
              <th>CPU</th>
              <th>Memory</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((c) => {
              const s = stats[c.Id];
              const name = containerName(c);
              return (
                <tr key={c.Id} data-name={name}>
                  <td data-label="Name">
                    <a href={`#/containers/${encodeURIComponent(name)}`} class="strong">
                      {name}
                    </a>
                    <div class="muted mono small">{shortId(c.Id)}</div>
                  </td>
                  <td data-label="State">
                    <StateBadge state={c.State} status={c.Status} />
                  </td>
                  <td data-label="Image" class="wrap">
                    {c.Image}
                  </td>
                  <td data-label="Ports">
                    <PortLinks c={c} />
                  </td>
                  <td data-label="Status">{c.Status}</td>
                  <td data-label="CPU" class="num">
                    {c.State === 'running' && s ? `${s.cpu.toFixed(1)} %` : '—'}
                  </td>
                  <td data-label="Memory" class="num">
                    {c.State === 'running' && s ? mib(s.used) : '—'}
                  </td>
                  <td class="actions-cell">
                    <ContainerActions c={c} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {!list && !errors.containers && <p class="loading">Loading…</p>}
    </section>
  );
}
