import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Demuxer, LineSplitter, RingBuffer, STDERR, STDOUT } from '../src/logs_core.js';

function frame(stream, text) {
  const payload = new TextEncoder().encode(text);
  const f = new Uint8Array(8 + payload.length);
  f[0] = stream;
  new DataView(f.buffer).setUint32(4, payload.length);
  f.set(payload, 8);
  return f;
}
const concat = (parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

function collect(tty, chunks) {
  const lines = [];
  const split = new LineSplitter((l) => lines.push(l));
  const d = new Demuxer(tty, (s, b) => split.push(s, b));
  for (const c of chunks) d.push(c);
  split.flush();
  return lines;
}

test('demux frames split at every byte boundary', () => {
  const all = concat([
    frame(1, '2024-01-01T00:00:00.000000001Z héllo\n'),
    frame(2, '2024-01-01T00:00:01Z err line\n'),
    frame(1, '2024-01-01T00:00:02Z part'),
    frame(1, 'ial\n'),
  ]);
  for (let cut = 1; cut < all.length; cut++) {
    const lines = collect(false, [all.subarray(0, cut), all.subarray(cut)]);
    assert.deepEqual(
      lines.map((l) => [l.stream, l.ts, l.text]),
      [
        [STDOUT, '2024-01-01T00:00:00.000000001Z', 'héllo'],
        [STDERR, '2024-01-01T00:00:01Z', 'err line'],
        [STDOUT, '2024-01-01T00:00:02Z', 'partial'],
      ],
      `cut at ${cut}`,
    );
  }
});

test('large frame sizes (big-endian u32) and a TTY raw stream', () => {
  const big = 'x'.repeat(70000);
  const lines = collect(false, [frame(1, big + '\n')]);
  assert.equal(lines[0].text.length, 70000);
  const raw = new TextEncoder().encode('a\r\nb\nlast');
  assert.deepEqual(collect(true, [raw]).map((l) => l.text), ['a', 'b', 'last']);
});

test('ring buffer keeps the last N', () => {
  const r = new RingBuffer(3);
  for (let i = 1; i <= 5; i++) r.push(i);
  assert.deepEqual(r.toArray(), [3, 4, 5]);
  assert.equal(r.total, 5);
  assert.deepEqual(r.lastMatching(2, (x) => x % 2 === 1), [3, 5]);
});
