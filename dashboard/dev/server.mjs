// Development server: serves a built dist/ (gzip siblings when the client accepts them) and
// forwards /api/* to berthd's unix socket with the /api prefix removed — HTTP and websocket
// upgrades alike, byte for byte. It enforces the dashboard contract's CSRF header on /api
// requests so a fetch that forgets it fails here as it would against berthd.
// Nothing is answered locally: routes berthd lacks answer berthd's 404.
//   node dev/server.mjs [--dist DIR] [--socket /run/berth/berth.sock] [--listen 127.0.0.1:9000]

import http from 'node:http';
import net from 'node:net';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const opt = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const dist = resolve(opt('--dist', join(here, '..', 'dist')));
const socketPath = opt('--socket', process.env.BERTH_SOCKET || '/run/berth/berth.sock');
const [host, port] = opt('--listen', '127.0.0.1:9000').split(':');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
};

function csp(req) {
  const h = req.headers.host || `${host}:${port}`;
  return `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws://${h}; frame-ancestors 'none'`;
}

function serveStatic(req, res) {
  let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (p === '/' || !extname(p)) p = '/index.html'; // client-side routes fall back to the app
  const file = normalize(join(dist, p));
  if (!file.startsWith(dist + '/') || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    return res.end('not found\n');
  }
  const headers = {
    'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
    'Content-Security-Policy': csp(req),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': p.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    Vary: 'Accept-Encoding',
  };
  let path = file;
  if (/\bgzip\b/.test(req.headers['accept-encoding'] || '') && existsSync(file + '.gz')) {
    path = file + '.gz';
    headers['Content-Encoding'] = 'gzip';
  }
  headers['Content-Length'] = statSync(path).size;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') return res.end();
  createReadStream(path).pipe(res);
}

function proxy(req, res) {
  if (req.headers['x-berth-dashboard'] !== '1') {
    res.writeHead(403, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ message: 'missing X-Berth-Dashboard header' }) + '\n');
  }
  const headers = { ...req.headers, host: 'localhost' };
  const up = http.request({ socketPath, path: req.url.slice(4) || '/', method: req.method, headers }, (ur) => {
    res.writeHead(ur.statusCode, ur.headers);
    ur.pipe(res);
  });
  up.on('error', (e) => {
    if (res.headersSent) return res.destroy();
    res.writeHead(502, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message: `dev proxy: berthd at ${socketPath}: ${e.message}` }) + '\n');
  });
  res.on('close', () => up.destroy());
  req.pipe(up);
}

const server = http.createServer((req, res) => {
  if (req.url === '/api' || req.url.startsWith('/api/')) return proxy(req, res);
  serveStatic(req, res);
});

// Websockets: replay the upgrade request on the unix socket and splice the two sockets.
server.on('upgrade', (req, sock, head) => {
  if (!req.url.startsWith('/api/')) return sock.destroy();
  const origin = req.headers.origin || '';
  if (origin && origin !== `http://${req.headers.host}`) return sock.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  const up = net.connect(socketPath, () => {
    let head0 = `${req.method} ${req.url.slice(4)} HTTP/1.1\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) head0 += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    up.write(head0 + '\r\n');
    if (head && head.length) up.write(head);
    sock.pipe(up).pipe(sock);
  });
  up.on('error', () => sock.destroy());
  sock.on('error', () => up.destroy());
});

server.listen(Number(port), host, () => {
  console.log(`dashboard dev server: http://${host}:${server.address().port}/ (dist ${dist}, berthd ${socketPath})`);
});
