// Daemon settings kept by berthd (GET/PUT /api/berth/settings): start at boot, default log
// rotation, registry mirrors. Each section saves on its own and shows the state read back.

import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { ErrorLine, notify } from './ui.jsx';

const SIZE_RE = /^\d+[kmg]?$/i;

function put(patch) {
  return api('/settings', { method: 'PUT', base: '/api/berth', body: patch });
}

export function SettingsPage() {
  const [s, setS] = useState(null);
  const [err, setErr] = useState('');
  const [logOpts, setLogOpts] = useState({ 'max-size': '', 'max-file': '' });
  const [mirrors, setMirrors] = useState('');
  const [busy, setBusy] = useState('');
  const [formErr, setFormErr] = useState({});
  const apply = (st) => {
    setS(st);
    const lo = (st && st.log_opts) || {};
    setLogOpts({ 'max-size': lo['max-size'] || '', 'max-file': lo['max-file'] || '' });
    setMirrors(((st && st.registry_mirrors) || []).join('\n'));
  };
  useEffect(() => {
    api('/settings', { base: '/api/berth' })
      .then(apply)
      .catch((e) => setErr(e.message));
  }, []);
  const save = async (section, patch) => {
    setBusy(section);
    setFormErr({});
    try {
      apply(await put(patch));
      notify('settings saved', 'info');
    } catch (e) {
      setFormErr({ [section]: e.message });
    } finally {
      setBusy('');
    }
  };
  if (err) {
    return (
      <section>
        <div class="page-head">
          <h1>Settings</h1>
        </div>
        <ErrorLine text={err} />
      </section>
    );
  }
  if (!s) return <p class="loading">Loading…</p>;
  const auto = s.autostart || {};
  const badSize = logOpts['max-size'] && !SIZE_RE.test(logOpts['max-size'].trim());
  const badFile = logOpts['max-file'] && !/^[1-9]\d*$/.test(logOpts['max-file'].trim());
  const mirrorList = mirrors
    .split(/\s+/)
    .map((m) => m.trim())
    .filter(Boolean);
  const badMirror = mirrorList.find((m) => !/^https?:\/\/[^\s/]+/.test(m));
  return (
    <section class="settings">
      <div class="page-head">
        <h1>Settings</h1>
      </div>
      <div class="card" data-testid="autostart">
        <h2>Start at boot</h2>
        {auto.supported === false ? (
          <p class="muted">Not available on this host{auto.detail ? `: ${auto.detail}` : ''}.</p>
        ) : (
          <>
            <label class="check">
              <input
                type="checkbox"
                checked={!!auto.enabled}
                disabled={busy === 'autostart'}
                onChange={(e) => save('autostart', { autostart: { enabled: e.target.checked } })}
              />{' '}
              Start berthd when the machine boots
            </label>
            <p class="muted small">
              State: <strong>{auto.state || (auto.enabled ? 'enabled' : 'disabled')}</strong>
              {auto.detail ? ` — ${auto.detail}` : ''}
            </p>
          </>
        )}
        <ErrorLine text={formErr.autostart} />
      </div>
      <form
        class="card"
        data-testid="log-opts"
        onSubmit={(e) => {
          e.preventDefault();
          if (!badSize && !badFile) save('log', { log_opts: { 'max-size': logOpts['max-size'].trim(), 'max-file': logOpts['max-file'].trim() } });
        }}
      >
        <h2>Default log rotation</h2>
        <p class="muted small">For new containers using the json-file log driver.</p>
        <div class="row">
          <label>
            Max size
            <input value={logOpts['max-size']} placeholder="10m" onInput={(e) => setLogOpts({ ...logOpts, 'max-size': e.target.value })} />
          </label>
          <label>
            Max files
            <input value={logOpts['max-file']} inputMode="numeric" placeholder="3" onInput={(e) => setLogOpts({ ...logOpts, 'max-file': e.target.value })} />
          </label>
        </div>
        {badSize && <p class="field-error">max size: a number with an optional k, m or g suffix</p>}
        {badFile && <p class="field-error">max files: a positive integer</p>}
        <ErrorLine text={formErr.log} />
        <button class="primary" disabled={busy === 'log' || badSize || badFile}>
          Save
        </button>
      </form>
      <form
        class="card"
        data-testid="mirrors"
        onSubmit={(e) => {
          e.preventDefault();
          if (!badMirror) save('mirrors', { registry_mirrors: mirrorList });
        }}
      >
        <h2>Registry mirrors</h2>
        <p class="muted small">One URL per line, tried before Docker Hub.</p>
        <textarea rows="4" value={mirrors} placeholder="https://mirror.example.com" onInput={(e) => setMirrors(e.target.value)} />
        {badMirror && <p class="field-error">not an http(s) URL: {badMirror}</p>}
        <ErrorLine text={formErr.mirrors} />
        <button class="primary" disabled={busy === 'mirrors' || !!badMirror}>
          Save
        </button>
      </form>
    </section>
  );
}
