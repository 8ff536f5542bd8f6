// The Run dialog's model without any DOM: validation, the /containers/create body and the
// equivalent `berth run` command line.

export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const SECRET_KEY_RE = /pass|secret|token|key|pwd/i;
export const RESTART_POLICIES = ['no', 'always', 'unless-stopped', 'on-failure'];
const MASK = '******';

export function emptyForm(image) {
  return { image, name: '', ports: [], mounts: [], env: [], restart: 'no', maxRetries: '' };
}

// Prefill from an image inspect: one port row per ExposedPorts key (host = container port) and
// one mount row per Config.Volumes path (source empty: an anonymous volume until filled in).
export function formFromImage(image, inspect) {
  const f = emptyForm(image);
  const cfg = (inspect && inspect.Config) || {};
  for (const key of Object.keys(cfg.ExposedPorts || {})) {
    const [port, proto = 'tcp'] = key.split('/');
    f.ports.push({ host: port, container: proto === 'tcp' ? port : `${port}/${proto}` });
  }
  for (const path of Object.keys(cfg.Volumes || {})) f.mounts.push({ source: '', target: path });
  return f;
}

export function isSecretKey(key) {
  return SECRET_KEY_RE.test(key || '');
}

function portNumber(s) {
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : null;
}

// Container side: "80", "80/tcp", "53/udp" → {port, proto} or null.
export function parseContainerPort(s) {
  const m = /^(\d+)(?:\/(tcp|udp))?$/.exec((s || '').trim());
  if (!m) return null;
  const port = portNumber(m[1]);
  return port ? { port, proto: m[2] || 'tcp' } : null;
}

const isBlankRow = (row) => Object.values(row).every((v) => !String(v || '').trim());

// → {} when valid, else {path: message} with paths like "name", "ports.0.host".
export function validate(form) {
  const errors = {};
  const name = (form.name || '').trim();
  if (name && !NAME_RE.test(name)) {
    errors.name = 'a name must match [a-zA-Z0-9][a-zA-Z0-9_.-]*';
  }
  const seenHost = new Map();
  form.ports.forEach((p, i) => {
    if (isBlankRow(p)) return;
    const c = parseContainerPort(p.container);
    if (!c) errors[`ports.${i}.container`] = 'container port: an integer 1–65535, optionally /tcp or /udp';
    const host = portNumber((p.host || '').trim());
    if (!host) {
      errors[`ports.${i}.host`] = 'host port: an integer 1–65535';
      return;
    }
    const key = `${host}/${c ? c.proto : 'tcp'}`;
    if (seenHost.has(key)) errors[`ports.${i}.host`] = `host port ${key} is used twice`;
    seenHost.set(key, i);
  });
  const seenTarget = new Set();
  form.mounts.forEach((m, i) => {
    if (isBlankRow(m)) return;
    const src = (m.source || '').trim();
    const dst = (m.target || '').trim();
    if (src && !src.startsWith('/') && !NAME_RE.test(src)) {
      errors[`mounts.${i}.source`] = 'a bind mount needs an absolute host path; a volume name must match [a-zA-Z0-9][a-zA-Z0-9_.-]*';
    }
    if (!dst.startsWith('/')) errors[`mounts.${i}.target`] = 'the container path must be absolute';
    else if (seenTarget.has(dst)) errors[`mounts.${i}.target`] = `${dst} is mounted twice`;
    seenTarget.add(dst);
  });
  form.env.forEach((e, i) => {
    if (isBlankRow(e)) return;
    const k = e.key || '';
    if (!k.trim()) errors[`env.${i}.key`] = 'the variable needs a name';
    else if (k.includes('=')) errors[`env.${i}.key`] = 'a variable name cannot contain "="';
  });
  if (!RESTART_POLICIES.includes(form.restart)) errors.restart = 'unknown restart policy';
  if (form.restart === 'on-failure' && String(form.maxRetries || '').trim() && !/^\d+$/.test(String(form.maxRetries).trim())) {
    errors.maxRetries = 'maximum retries: a non-negative integer';
  }
  return errors;
}

// → {name, body} for POST /containers/create?name=…; call only when validate() is empty.
export function createRequest(form) {
  const body = { Image: form.image, Env: [], ExposedPorts: {}, HostConfig: { PortBindings: {}, Binds: [] } };
  for (const p of form.ports) {
    if (isBlankRow(p)) continue;
    const c = parseContainerPort(p.container);
    const key = `${c.port}/${c.proto}`;
    body.ExposedPorts[key] = {};
    (body.HostConfig.PortBindings[key] = body.HostConfig.PortBindings[key] || []).push({
      HostIp: '',
      HostPort: String(Number(p.host)),
    });
  }
  const volumes = {};
  for (const m of form.mounts) {
    if (isBlankRow(m)) continue;
    const src = (m.source || '').trim();
    const dst = m.target.trim();
    if (src) body.HostConfig.Binds.push(`${src}:${dst}`);
    else volumes[dst] = {};
  }
  if (Object.keys(volumes).length) body.Volumes = volumes;
  for (const e of form.env) {
    if (isBlankRow(e)) continue;
    body.Env.push(`${e.key}=${e.value || ''}`);
  }
  const policy = { Name: form.restart === 'no' ? 'no' : form.restart };
  if (form.restart === 'on-failure' && String(form.maxRetries || '').trim()) {
    policy.MaximumRetryCount = Number(form.maxRetries);
  }
  body.HostConfig.RestartPolicy = policy;
  return { name: (form.name || '').trim(), body };
}

export function shellQuote(s) {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return "'" + s.replace(/'/g, "'\\''") + "'";
}

// The equivalent CLI invocation; secret values are replaced unless reveal is set.
export function commandLine(form, reveal = false) {
  const args = ['berth', 'run', '-d'];
  const name = (form.name || '').trim();
  if (name) args.push('--name', name);
  for (const p of form.ports) {
    if (isBlankRow(p)) continue;
    args.push('-p', `${(p.host || '').trim()}:${(p.container || '').trim()}`);
  }
  for (const m of form.mounts) {
    if (isBlankRow(m)) continue;
    const src = (m.source || '').trim();
    args.push('-v', src ? `${src}:${(m.target || '').trim()}` : (m.target || '').trim());
  }
  for (const e of form.env) {
    if (isBlankRow(e)) continue;
    const value = !reveal && isSecretKey(e.key) && e.value ? MASK : e.value || '';
    args.push('-e', `${e.key}=${value}`);
  }
  if (form.restart && form.restart !== 'no') {
    const r = form.restart === 'on-failure' && String(form.maxRetries || '').trim() ? `on-failure:${String(form.maxRetries).trim()}` : form.restart;
    args.push('--restart', r);
  }
  args.push(form.image);
  return args.map(shellQuote).join(' ');
}
