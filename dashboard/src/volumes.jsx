// Volumes (size from /system/df, users from the containers' Mounts; create, delete) and the
// networks list.

import { useEffect, useState } from 'preact/hooks';
import { api, containerName, shortId } from './api.js';
import { refresh, useStore } from './store.js';
import { ActionButton, Empty, ErrorLine, notify } from './ui.jsx';
import { bytes } from './format.js';
import { NAME_RE } from './run_spec.js';

export function VolumesPage() {
  const volumes = useStore('volumes');
  const usage = useStore('volumeUsage');
  const containers = useStore('containers');
  const errors = useStore('errors');
  const [name, setName] = useState('');
  const [err, setErr] = useState('');
  useEffect(() => {
    refresh('volumes');
    refresh('containers');
  }, []);
  const users = {};
  for (const c of containers || []) {
    for (const m of c.Mounts || []) {
      if (m.Type === 'volume' && m.Name) (users[m.Name] = users[m.Name] || []).push(containerName(c));
    }
  }
  const create = async (e) => {
    e.preventDefault();
    setErr('');
    const n = name.trim();
    if (n && !NAME_RE.test(n)) return setErr('a volume name must match [a-zA-Z0-9][a-zA-Z0-9_.-]*');
    try {
      const v = await api('/volumes/create', { method: 'POST', body: n ? { Name: n } : {} });
      setName('');
      notify(`volume ${v.Name} created`, 'info');
      refresh('volumes');
    } catch (e2) {
      setErr(e2.message);
    }
  };
  return (
    <section>
      <div class="page-head">
        <h1>Volumes</h1>
        <span class="muted">{volumes ? `${volumes.length} volumes` : ''}</span>
      </div>
      <form class="card inline" onSubmit={create}>
        <input placeholder="new volume name (empty: generated)" aria-label="Volume name" value={name} onInput={(e) => setName(e.target.value)} />
        <button class="primary">Create volume</button>
      </form>
      <ErrorLine text={err || errors.volumes} />
      {volumes && !volumes.length && <Empty>No volumes.</Empty>}
      {volumes && volumes.length > 0 && (
        <table class="list" data-testid="volumes">
          <thead>
            <tr>
              <th>Name</th>
              <th>Driver</th>
              <th>Size</th>
              <th>Used by</th>
              <th>Mountpoint</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {volumes.map((v) => {
              const u = usage[v.Name] || {};
              const by = users[v.Name] || [];
              return (
                <tr key={v.Name} data-name={v.Name}>
                  <td data-label="Name" class="wrap strong">
                    {v.Name.length > 40 ? shortId(v.Name) + '…' : v.Name}
                  </td>
                  <td data-label="Driver">{v.Driver}</td>
                  <td data-label="Size" class="num">
                    {u.Size >= 0 ? bytes(u.Size) : '—'}
                  </td>
                  <td data-label="Used by">
                    {by.length ? by.map((n) => <a href={`#/containers/${encodeURIComponent(n)}`}>{n} </a>) : <span class="muted">—</span>}
                  </td>
                  <td data-label="Mountpoint" class="mono small wrap">
                    {v.Mountpoint}
                  </td>
                  <td class="actions-cell">
                    <ActionButton
                      class="danger"
                      confirm={`Delete volume ${v.Name} and its data?`}
                      confirmLabel="Delete"
                      run={() => api(`/volumes/${encodeURIComponent(v.Name)}`, { method: 'DELETE' }).then(() => refresh('volumes'))}
                    >
                      Delete
                    </ActionButton>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function NetworksPage() {
  const networks = useStore('networks');
  const errors = useStore('errors');
  useEffect(() => {
    refresh('networks');
  }, []);
  return (
    <section>
      <div class="page-head">
        <h1>Networks</h1>
        <span class="muted">{networks ? `${networks.length} networks` : ''}</span>
      </div>
      <ErrorLine text={errors.networks} />
      {networks && (
        <table class="list" data-testid="networks">
          <thead>
            <tr>
              <th>Name</th>
              <th>ID</th>
              <th>Driver</th>
              <th>Subnet</th>
              <th>Gateway</th>
              <th>Internal</th>
            </tr>
          </thead>
          <tbody>
            {networks.map((n) => {
              const cfg = (n.IPAM && n.IPAM.Config && n.IPAM.Config[0]) || {};
              return (
                <tr key={n.Id}>
                  <td data-label="Name" class="strong">
                    {n.Name}
                  </td>
                  <td data-label="ID" class="mono">
                    {shortId(n.Id)}
                  </td>
                  <td data-label="Driver">{n.Driver}</td>
                  <td data-label="Subnet" class="mono">
                    {cfg.Subnet || '—'}
                  </td>
                  <td data-label="Gateway" class="mono">
                    {cfg.Gateway || '—'}
                  </td>
                  <td data-label="Internal">{n.Internal ? 'yes' : 'no'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
