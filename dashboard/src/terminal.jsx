// The exec terminal (loaded on demand: xterm.js is the biggest dependency). Creates a TTY exec
// running sh, attaches over the websocket /api/exec/{id}/start/ws (raw bytes both ways) and
// forwards size changes to /exec/{id}/resize.

import { useEffect, useRef, useState } from 'preact/hooks';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { api } from './api.js';
import { ErrorLine } from './ui.jsx';

export default function TerminalView({ id }) {
  const hostRef = useRef(null);
  const [status, setStatus] = useState('starting');
  const [err, setErr] = useState('');
  const [session, setSession] = useState(0);

  useEffect(() => {
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: { background: '#0f1419', foreground: '#e6e1cf' },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(hostRef.current);
    fit.fit();
    let ws = null;
    let execId = null;
    let closed = false;
    let resizeTimer;
    const resize = () => {
      if (!execId) return;
      api(`/exec/${execId}/resize`, { method: 'POST', base: '/api', query: { h: term.rows, w: term.cols } }).catch(() => {});
    };
    const onWindowResize = () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => fit.fit(), 100);
    };
    window.addEventListener('resize', onWindowResize);
    term.onResize(resize);
    (async () => {
      try {
        const ex = await api(`/containers/${id}/exec`, {
          method: 'POST',
          base: '/api',
          body: {
            AttachStdin: true,
            AttachStdout: true,
            AttachStderr: true,
            Tty: true,
            Cmd: ['sh'],
            Env: [`COLUMNS=${term.cols}`, `LINES=${term.rows}`, 'TERM=xterm-256color'],
          },
        });
        if (closed) return;
        execId = ex.Id;
        const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
        ws = new WebSocket(`${proto}//${window.location.host}/api/exec/${execId}/start/ws`);
        ws.binaryType = 'arraybuffer';
        const enc = new TextEncoder();
        ws.onopen = () => {
          setStatus('connected');
          resize();
          term.focus();
        };
        ws.onmessage = (m) => term.write(typeof m.data === 'string' ? m.data : new Uint8Array(m.data));
        ws.onclose = () => {
          if (!closed) setStatus('closed');
        };
        ws.onerror = () => {
          if (!closed) setErr('the terminal connection failed');
        };
        term.onData((d) => ws.readyState === WebSocket.OPEN && ws.send(enc.encode(d)));
        term.onBinary((d) => {
          if (ws.readyState !== WebSocket.OPEN) return;
          const b = new Uint8Array(d.length);
          for (let i = 0; i < d.length; i++) b[i] = d.charCodeAt(i) & 0xff;
          ws.send(b);
        });
      } catch (e) {
        setErr(e.message);
        setStatus('failed');
      }
    })();
    return () => {
      closed = true;
      window.removeEventListener('resize', onWindowResize);
      if (ws) ws.close();
      term.dispose();
    };
  }, [id, session]);

  return (
    <div class="terminal">
      <div class="toolbar">
        <span class="muted small" data-testid="term-status">
          sh · {status}
        </span>
        {(status === 'closed' || status === 'failed') && (
          <button
            onClick={() => {
              setErr('');
              setStatus('starting');
              setSession((n) => n + 1);
            }}
          >
            New session
          </button>
        )}
      </div>
      <ErrorLine text={err} />
      <div class="term-host" ref={hostRef} data-testid="terminal" />
    </div>
  );
}
