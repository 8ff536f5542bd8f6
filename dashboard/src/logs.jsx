// Live container logs. Lines arrive from a follow=1 stream (demuxed unless the container has a
// TTY), go into a ring buffer (search and download work on it) and reach the DOM at most once
// per animation frame, which keeps only the last DOM_CAP matching lines: the page stays
// responsive at 10,000 lines/s.

import { useEffect, useRef, useState } from 'preact/hooks';
import { request } from './api.js';
import { onEvent } from './store.js';
import { Demuxer, LineSplitter, RingBuffer, STDERR, formatLine } from './logs_core.js';

const RING_LINES = 100000;
const DOM_CAP = 2000;
const PER_FRAME = 250;
const PARSE_SLICE = 64 * 1024;
const INITIAL_TAIL = 5000;

class LogPane {
  constructor(box, onStats, onUnfollow) {
    this.box = box;
    this.onStats = onStats;
    this.onUnfollow = onUnfollow;
    this.ring = new RingBuffer(RING_LINES);
    this.pending = [];
    this.raf = 0;
    this.showTs = false;
    this.follow = true;
    this.needle = '';
    this.lastStats = 0;
    this.onScroll = () => {
      const b = this.box;
      const atBottom = b.scrollHeight - b.scrollTop - b.clientHeight < 40;
      if (this.follow && !atBottom) this.onUnfollow();
    };
    box.addEventListener('scroll', this.onScroll, { passive: true });
  }

  destroy() {
    cancelAnimationFrame(this.raf);
    this.box.removeEventListener('scroll', this.onScroll);
  }

  matches(l) {
    return !this.needle || l.text.toLowerCase().includes(this.needle) || l.ts.includes(this.needle);
  }

  add(line) {
    this.ring.push(line);
    this.pending.push(line);
    if (!this.raf) this.raf = requestAnimationFrame(() => this.flush());
  }

  lineNode(l) {
    const div = document.createElement('div');
    div.className = l.stream === STDERR ? 'l e' : 'l';
    if (this.showTs && l.ts) {
      const ts = document.createElement('span');
      ts.className = 'ts';
      ts.textContent = l.ts + ' ';
      div.appendChild(ts);
    }
    div.appendChild(document.createTextNode(l.text));
    return div;
  }

  append(lines) {
    const box = this.box;
    const frag = document.createDocumentFragment();
    for (const l of lines) frag.appendChild(this.lineNode(l));
    box.appendChild(frag);
    let extra = box.childElementCount - DOM_CAP;
    while (extra-- > 0) box.removeChild(box.firstChild);
    if (this.follow) box.scrollTop = box.scrollHeight;
  }

  flush() {
    const t0 = performance.now();
    this.raf = 0;
    // Lines older than the last DOM_CAP pending ones would be removed right away: drop them.
    // The rest reaches the DOM in slices of PER_FRAME so a burst spreads over a few frames.
    let pending = this.needle ? this.pending.filter((l) => this.matches(l)) : this.pending;
    if (pending.length >= DOM_CAP) {
      this.box.textContent = '';
      pending = pending.slice(pending.length - DOM_CAP);
    }
    const shown = pending.slice(0, PER_FRAME);
    this.pending = pending.slice(PER_FRAME);
    if (shown.length) this.append(shown);
    if (this.pending.length) this.raf = requestAnimationFrame(() => this.flush());
    this.box.dataset.totalLines = String(this.ring.total);
    const now = performance.now();
    // The longest frame's work so far, for the browser test's report.
    this.maxFlushMs = Math.max(this.maxFlushMs || 0, now - t0);
    this.box.dataset.maxFlushMs = this.maxFlushMs.toFixed(1);
    if (now - this.lastStats > 250) {
      this.lastStats = now;
      this.onStats({ total: this.ring.total, kept: this.ring.length, shown: this.box.childElementCount });
    }
  }

  // Rebuilds the visible lines from the ring buffer (filter or timestamp toggle changed).
  rerender() {
    this.pending = [];
    this.box.textContent = '';
    this.append(this.ring.lastMatching(DOM_CAP, (l) => this.matches(l)));
    this.onStats({ total: this.ring.total, kept: this.ring.length, shown: this.box.childElementCount });
  }

  setOptions({ showTs, needle, follow }) {
    const redraw = showTs !== this.showTs || needle !== this.needle;
    this.showTs = showTs;
    this.needle = needle;
    this.follow = follow;
    if (redraw) this.rerender();
    else if (follow) this.box.scrollTop = this.box.scrollHeight;
  }

  text() {
    const out = [];
    for (const l of this.ring.toArray()) if (this.matches(l)) out.push(formatLine(l, this.showTs));
    return out.join('\n') + (out.length ? '\n' : '');
  }
}

export function LogsView({ id, name, tty }) {
  const boxRef = useRef(null);
  const paneRef = useRef(null);
  const [follow, setFollow] = useState(true);
  const [showTs, setShowTs] = useState(false);
  const [filter, setFilter] = useState('');
  const [status, setStatus] = useState('connecting');
  const [counts, setCounts] = useState({ total: 0, kept: 0, shown: 0 });

  useEffect(() => {
    const pane = new LogPane(boxRef.current, setCounts, () => setFollow(false));
    paneRef.current = pane;
    let ctl = null;
    let closed = false;
    const open = async (query) => {
      if (ctl) ctl.abort();
      const my = (ctl = new AbortController());
      setStatus('streaming');
      const split = new LineSplitter((l) => pane.add(l), true);
      const demux = new Demuxer(tty, (s, bytes) => split.push(s, bytes));
      try {
        const res = await request(`/containers/${id}/logs`, {
          query: { follow: 1, stdout: 1, stderr: 1, timestamps: 1, ...query },
          signal: my.signal,
        });
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          // A big read (a burst) is parsed in slices with a yield between them, so frames
          // keep being drawn while it is split into lines.
          for (let off = 0; off < value.length; off += PARSE_SLICE) {
            if (off) await new Promise((r) => setTimeout(r, 0));
            const t0 = performance.now();
            demux.push(value.subarray(off, off + PARSE_SLICE));
            pane.maxParseMs = Math.max(pane.maxParseMs || 0, performance.now() - t0);
          }
          pane.box.dataset.maxParseMs = pane.maxParseMs.toFixed(1);
        }
        split.flush();
        if (!closed && ctl === my) setStatus('ended');
      } catch (e) {
        if (e.name === 'AbortError') return;
        split.flush();
        if (!closed) setStatus(`error: ${e.message}`);
      }
    };
    open({ tail: INITIAL_TAIL });
    // A restarted container gets a new stream: lines since the restart.
    const off = onEvent((ev) => {
      if (ev.Type === 'container' && ev.Actor && ev.Actor.ID === id && (ev.Action === 'start' || ev.status === 'start')) {
        open({ since: Math.floor(Date.now() / 1000) - 1 });
      }
    });
    return () => {
      closed = true;
      off();
      if (ctl) ctl.abort();
      pane.destroy();
    };
  }, [id, tty]);

  useEffect(() => {
    if (paneRef.current) paneRef.current.setOptions({ showTs, needle: filter.trim().toLowerCase(), follow });
  }, [showTs, filter, follow]);

  const download = () => {
    const blob = new Blob([paneRef.current.text()], { type: 'text/plain' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${name}-logs.txt`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };

  return (
    <div class="logs">
      <div class="toolbar">
        <input type="search" placeholder="Filter lines…" aria-label="Filter log lines" value={filter} onInput={(e) => setFilter(e.target.value)} />
        <label class="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <label class="check">
          <input type="checkbox" checked={showTs} onChange={(e) => setShowTs(e.target.checked)} /> Timestamps
        </label>
        <button onClick={download} title={`the last ${RING_LINES} lines received (filtered when a filter is set)`}>
          Download .txt
        </button>
        <span class="muted small" data-testid="log-status">
          {status} · {counts.total} lines{counts.total > counts.kept ? ` (last ${counts.kept} kept)` : ''}
        </span>
      </div>
      <div class="logbox mono" ref={boxRef} data-testid="logbox" tabIndex={0} />
    </div>
  );
}
