// The dashboard's only way to the daemon: the Docker Engine API under /api/ on the page's own
// origin. Every request carries X-Berth-Dashboard (berthd's CSRF check) and same-origin
// credentials (the login cookie when the dashboard listens beyond loopback).

export const V = '/api/v1.47';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let onAuthRequired = () => {};
export function setAuthHandler(fn) {
  onAuthRequired = fn;
}

export function qs(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === false) continue;
    parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v === true ? '1' : String(v)));
  }
  return parts.length ? '?' + parts.join('&') : '';
}

async function errorOf(res) {
  let text = '';
  try {
    text = await res.text();
  } catch (e) {
    text = '';
  }
  let message = '';
  try {
    const j = JSON.parse(text);
    message = (j && (j.message || (j.errorDetail && j.errorDetail.message))) || '';
  } catch (e) {
    message = text.trim();
  }
  return new ApiError(res.status, message || `${res.status} ${res.statusText}`);
}

// request(path, {method, body, query, signal, base}) → Response (ok) or throws ApiError with
// the daemon's {"message"} text. path is relative to /api/v1.47 unless base is given.
export async function request(path, opts = {}) {
  const { method = 'GET', body, query, signal, base = V } = opts;
  const headers = { 'X-Berth-Dashboard': '1' };
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(base + path + qs(query), {
      method,
      headers,
      body: payload,
      signal,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `cannot reach berthd: ${e.message}`);
  }
  if (!res.ok && res.status !== 304) {
    const err = await errorOf(res);
    if (res.status === 401) onAuthRequired(err.message);
    throw err;
  }
  return res;
}

// api(path, opts) → parsed JSON, text, or null (204/304/empty body).
export async function api(path, opts) {
  const res = await request(path, opts);
  if (res.status === 204 || res.status === 304) return null;
  const text = await res.text();
  if (!text) return null;
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json') || /^[[{"]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch (e) {
      return text;
    }
  }
  return text;
}

// Calls onLine(obj) for every JSON line of a streaming body (events, stats, pull progress).
// Resolves when the body ends; rejects on network errors or abort.
export async function readJsonLines(res, onLine) {
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
  buf += dec.decode();
  if (buf.trim()) onLine(JSON.parse(buf));
}

export function shortId(id) {
  return (id || '').replace(/^sha256:/, '').slice(0, 12);
}

export function containerName(c) {
  const n = (c.Names && c.Names[0]) || c.Name || '';
  return n.replace(/^\//, '') || shortId(c.Id);
}
