// One container: header with its actions, then tabs for logs, terminal, stats, inspect and
// changed files. The terminal code (xterm.js) is loaded only when its tab opens.

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, shortId } from './api.js';
import { onEvent } from './store.js';
import { ErrorLine } from './ui.jsx';
import { ContainerActions, PortLinks, StateBadge } from './containers.jsx';
import { LogsView } from './logs.jsx';
import { StatsView } from './stats_view.jsx';

const TABS = [
  ['logs', 'Logs'],
  ['terminal', 'Terminal'],
  ['stats', 'Stats'],
  ['inspect', 'Inspect'],
  ['changes', 'Changes'],
];

// The same shape as a /containers/json row, from an inspect answer (for the shared widgets).
function summaryOf(d) {
  const ports = [];
  for (const [key, binds] of Object.entries((d.NetworkSettings && d.NetworkSettings.Ports) || {})) {
    const [priv, type] = key.split('/');
    for (const b of binds || []) ports.push({ PrivatePort: Number(priv), PublicPort: Number(b.HostPort), Type: type });
  }
  return { Id: d.Id, Names: [d.Name], State: d.State.Status, Status: d.State.Status, Ports: ports };
}

function Lazy({ load, props }) {
  const [mod, setMod] = useState(null);
  const [err, setErr] = useState('');
  useEffect(() => {
    load()
      .then((m) => setMod(() => m.default))
      .catch((e) => setErr(`cannot load the terminal: ${e.message}`));
  }, []);
  if (err) return <ErrorLine text={err} />;
  if (!mod) return <p class="loading">Loading terminal…</p>;
  const C = mod;
  return <C {...props} />;
}

function InspectView({ data }) {
  return <pre class="json" data-testid="inspect">{JSON.stringify(data, null, 2)}</pre>;
}

const KINDS = { 0: 'C', 1: 'A', 2: 'D' };
const KIND_TITLE = { 0: 'changed', 1: 'added', 2: 'deleted' };

function ChangesView({ id }) {
  const [rows, setRows] = useState(null);
  const [err, setErr] = useState('');
  const load = () =>
    api(`/containers/${id}/changes`)
      .then((r) => {
        setRows(r || []);
        setErr('');
      })
      .catch((e) => setErr(e.message));
  useEffect(() => {
    load();
  }, [id]);
  return (
    <div>
      <div class="toolbar">
        <button onClick={load}>Reload</button>
        <span class="muted">{rows ? `${rows.length} paths` : ''}</span>
      </div>
      <ErrorLine text={err} />
      {rows && rows.length === 0 && <p class="empty">No files changed in the container's writable layer.</p>}
      {rows && rows.length > 0 && (
        <ul class="changes" data-testid="changes">
          {rows.map((r) => (
            <li key={r.Path}>
              <span class={`kind k${r.Kind}`} title={KIND_TITLE[r.Kind]}>
                {KINDS[r.Kind] || '?'}
              </span>
              <span class="mono">{r.Path}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ContainerDetail({ id, tab }) {
  const [data, setData] = useState(null);
  const [err, setErr] = useState('');
  const [gone, setGone] = useState(false);
  const fullId = useRef('');
  const load = () =>
    api(`/containers/${encodeURIComponent(id)}/json`)
      .then((d) => {
        fullId.current = d.Id;
        setData(d);
        setErr('');
      })
      .catch((e) => {
        if (e.status === 404) setGone(true);
        setErr(e.message);
      });
  useEffect(() => {
    setData(null);
    setGone(false);
    fullId.current = '';
    load();
    let t;
    const off = onEvent((ev) => {
      if (ev.Type !== 'container') return;
      const a = ev.Actor || {};
      const name = (a.Attributes && a.Attributes.name) || '';
      if (a.ID === fullId.current || name === id || (a.ID || '').startsWith(id)) {
        clearTimeout(t);
        t = setTimeout(load, 100);
      }
    });
    return () => {
      off();
      clearTimeout(t);
    };
  }, [id]);
  const name = data ? data.Name.replace(/^\//, '') : id;
  const base = `#/containers/${encodeURIComponent(id)}`;
  return (
    <section class="detail">
      <div class="page-head">
        <a href="#/containers" class="back" aria-label="Back to containers">
          ←
        </a>
        <h1>{name}</h1>
        {data && <StateBadge state={data.State.Status} status={data.State.Status} />}
        <span class="spacer" />
        {data && <ContainerActions c={summaryOf(data)} onRemoved={() => (window.location.hash = '#/containers')} />}
      </div>
      <ErrorLine text={err} />
      {gone && (
        <p>
          <a href="#/containers">Back to the list</a>
        </p>
      )}
      {data && (
        <>
          <dl class="facts">
            <dt>ID</dt>
            <dd class="mono">{shortId(data.Id)}</dd>
            <dt>Image</dt>
            <dd class="wrap">{data.Config.Image}</dd>
            <dt>Ports</dt>
            <dd>
              <PortLinks c={summaryOf(data)} />
            </dd>
            <dt>Started</dt>
            <dd>{data.State.Running ? new Date(data.State.StartedAt).toLocaleString() : `exited (${data.State.ExitCode})`}</dd>
          </dl>
          <nav class="tabs" role="tablist">
            {TABS.map(([k, label]) => (
              <a href={`${base}/${k}`} role="tab" aria-selected={tab === k} class={tab === k ? 'active' : ''}>
                {label}
              </a>
            ))}
          </nav>
          <div class="tab-body">
            {tab === 'logs' && <LogsView key={data.Id} id={data.Id} name={name} tty={!!data.Config.Tty} />}
            {tab === 'terminal' &&
              (data.State.Running ? (
                <Lazy key={data.Id} load={() => import('./terminal.jsx')} props={{ id: data.Id }} />
              ) : (
                <p class="empty">The container is not running: start it to open a terminal.</p>
              ))}
            {tab === 'stats' &&
              (data.State.Running ? <StatsView key={data.Id} id={data.Id} /> : <p class="empty">Live stats need a running container.</p>)}
            {tab === 'inspect' && <InspectView data={data} />}
            {tab === 'changes' && <ChangesView id={data.Id} />}
          </div>
        </>
      )}
    </section>
  );
}
