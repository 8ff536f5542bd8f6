// Entry point: session check (token login when berthd asks for it), navigation by URL hash,
// the live event feed.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, request, setAuthHandler } from './api.js';
import { startEvents, useStore, getState, set, refresh } from './store.js';
import { Toasts, ConfirmHost } from './ui.jsx';
import { ContainersPage } from './containers.jsx';
import { ContainerDetail } from './container_detail.jsx';
import { ImagesPage } from './images.jsx';
import { VolumesPage, NetworksPage } from './volumes.jsx';
import { SettingsPage } from './settings.jsx';
import './style.css';

function parseHash() {
  const h = (window.location.hash || '').replace(/^#\/?/, '');
  return h.split('/').filter(Boolean).map(decodeURIComponent);
}

function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const on = () => setRoute(parseHash());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

const NAV = [
  ['containers', 'Containers'],
  ['images', 'Images'],
  ['volumes', 'Volumes'],
  ['networks', 'Networks'],
  ['settings', 'Settings'],
];

function Login({ reason, onDone }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(reason || '');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await request('/login', { method: 'POST', body: { token: token.trim() }, base: '' });
      onDone();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form class="card" onSubmit={submit}>
        <h1>berth</h1>
        <p>This dashboard is reachable from the network: enter the access token berthd printed (or the one in its dashboard token file).</p>
        <label>
          Token
          <input type="password" autocomplete="current-password" value={token} onInput={(e) => setToken(e.target.value)} required autofocus />
        </label>
        {error && <p class="error-line" role="alert">{error}</p>}
        <button class="primary" disabled={busy || !token.trim()}>
          Log in
        </button>
      </form>
    </main>
  );
}

function EventsBadge() {
  const s = useStore('events');
  const label = s === 'live' ? 'live' : s === 'connecting' ? 'connecting…' : 'reconnecting…';
  return (
    <span class={`events-badge ${s}`} title="updates from /events">
      {label}
    </span>
  );
}

function Shell() {
  const route = useRoute();
  const page = route[0] || 'containers';
  const version = useStore('version');
  let body;
  if (page === 'containers' && route[1]) body = <ContainerDetail id={route[1]} tab={route[2] || 'logs'} />;
  else if (page === 'images') body = <ImagesPage />;
  else if (page === 'volumes') body = <VolumesPage />;
  else if (page === 'networks') body = <NetworksPage />;
  else if (page === 'settings') body = <SettingsPage />;
  else body = <ContainersPage />;
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href="#/containers">
          berth
        </a>
        <nav>
          {NAV.map(([k, label]) => (
            <a href={`#/${k}`} class={page === k ? 'active' : ''} aria-current={page === k ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        <EventsBadge />
        {version && <span class="version">v{version}</span>}
      </header>
      <main class="content">{body}</main>
    </div>
  );
}

function App() {
  // checking → login(reason) → ready
  const [phase, setPhase] = useState({ name: 'checking' });
  const check = async () => {
    try {
      const s = await api('/session', { base: '/api/berth' });
      if (s && s.login_required && !s.authenticated) return setPhase({ name: 'login' });
    } catch (e) {
      // A berthd without the dashboard's own routes (404) needs no login; a 401 means it does.
      if (e.status === 401) return setPhase({ name: 'login' });
      if (e.status && e.status !== 404) return setPhase({ name: 'login', reason: e.message });
    }
    setPhase({ name: 'ready' });
  };
  useEffect(() => {
    setAuthHandler((msg) => setPhase({ name: 'login', reason: msg }));
    // The first list loads alongside the session check (a 401 switches to the login form).
    if (!window.location.hash || /^#\/?(containers)?$/.test(window.location.hash)) refresh('containers');
    check();
  }, []);
  useEffect(() => {
    if (phase.name !== 'ready') return;
    startEvents();
    if (!getState().version) {
      api('/version')
        .then((v) => {
          set({ version: v && v.Version });
        })
        .catch(() => {});
    }
  }, [phase.name]);
  return (
    <>
      {phase.name === 'checking' && <p class="loading">Connecting to berthd…</p>}
      {phase.name === 'login' && <Login reason={phase.reason} onDone={check} />}
      {phase.name === 'ready' && <Shell />}
      <Toasts />
      <ConfirmHost />
    </>
  );
}

render(<App />, document.getElementById('app'));
