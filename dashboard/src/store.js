// Shared lists (containers, images, volumes, networks) loaded from the API and refreshed when
// /events reports a change to their kind, instead of polling. A tiny observable store: pages
// read it with useStore(key).

import { useEffect, useState } from 'preact/hooks';
import { api, request, readJsonLines } from './api.js';

const state = {
  containers: null,
  images: null,
  volumes: null,
  volumeUsage: {}, // name → {Size, RefCount} from /system/df
  networks: null,
  errors: {},
  events: 'connecting', // connecting | live | down
  version: null,
};
const subs = new Set();

export function set(patch) {
  Object.assign(state, patch);
  for (const fn of subs) fn();
}

export function getState() {
  return state;
}

export function useStore(key) {
  const [, force] = useState(0);
  useEffect(() => {
    const fn = () => force((n) => n + 1);
    subs.add(fn);
    return () => subs.delete(fn);
  }, []);
  return state[key];
}

function setError(kind, e) {
  set({ errors: { ...state.errors, [kind]: e ? e.message : null } });
}

const loaders = {
  async containers() {
    set({ containers: await api('/containers/json', { query: { all: 1 } }) });
  },
  async images() {
    set({ images: await api('/images/json') });
  },
  async volumes() {
    const [v, df] = await Promise.all([api('/volumes'), api('/system/df').catch(() => null)]);
    const usage = {};
    for (const d of (df && df.Volumes) || []) usage[d.Name] = d.UsageData || {};
    set({ volumes: (v && v.Volumes) || [], volumeUsage: usage });
  },
  async networks() {
    set({ networks: await api('/networks') });
  },
};

const inflight = {};
const again = {};
// Reloads one list; calls while a load runs coalesce into one more load after it.
export async function refresh(kind) {
  if (inflight[kind]) {
    again[kind] = true;
    return inflight[kind];
  }
  inflight[kind] = (async () => {
    try {
      do {
        again[kind] = false;
        try {
          await loaders[kind]();
          setError(kind, null);
        } catch (e) {
          setError(kind, e);
        }
      } while (again[kind]);
    } finally {
      inflight[kind] = null;
    }
  })();
  return inflight[kind];
}

export function refreshAll() {
  return Promise.all(Object.keys(loaders).map(refresh));
}

const timers = {};
function soon(kind) {
  clearTimeout(timers[kind]);
  timers[kind] = setTimeout(() => refresh(kind), 120);
}

// Which lists an event changes. Containers carry their image's in-use mark and volumes'
// users, so container events also refresh volumes (create/destroy) and images (destroy).
function affected(ev) {
  const t = ev.Type;
  const a = ev.Action || ev.status || '';
  if (t === 'container') {
    const k = ['containers'];
    if (/^(create|destroy)$/.test(a)) k.push('volumes', 'images');
    return k;
  }
  if (t === 'image') return ['images'];
  if (t === 'volume') return ['volumes'];
  if (t === 'network') return /^(connect|disconnect)$/.test(a) ? ['networks', 'containers'] : ['networks'];
  return [];
}

const listeners = new Set();
// Other components (a container's detail page) may watch raw events too.
export function onEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

let eventsStarted = false;
// Follows /events for the page's lifetime: fetch + a ReadableStream reader (EventSource cannot
// send the CSRF header), reconnecting with exponential backoff; every (re)connect reloads all
// lists, since events may have been missed while down.
export function startEvents() {
  if (eventsStarted) return;
  eventsStarted = true;
  let delay = 500;
  const loop = async () => {
    for (;;) {
      try {
        set({ events: 'connecting' });
        const res = await request('/events');
        set({ events: 'live' });
        delay = 500;
        refreshAll();
        await readJsonLines(res, (ev) => {
          for (const k of affected(ev)) soon(k);
          for (const fn of listeners) fn(ev);
        });
      } catch (e) {
        if (e.status === 401) {
          set({ events: 'down' });
          return (eventsStarted = false);
        }
      }
      set({ events: 'down' });
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  };
  loop();
}
