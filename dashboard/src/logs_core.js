// Container log plumbing without any DOM: the multiplexed-stream demuxer (docker's 8-byte frame
// header [stream, 0, 0, 0, size big-endian u32]), the line splitter and a ring buffer holding the
// last `capacity` lines for search and download.

export const STDOUT = 1;
export const STDERR = 2;

// Feeds chunks of a non-TTY log body; calls onData(stream, Uint8Array) per frame payload
// (possibly in pieces when a frame spans chunks). A TTY body is raw: pass tty=true.
export class Demuxer {
  constructor(tty, onData) {
    this.tty = tty;
    this.onData = onData;
    this.header = new Uint8Array(8);
    this.headerLen = 0;
    this.remaining = 0;
    this.stream = STDOUT;
  }

  push(chunk) {
    if (this.tty) {
      this.onData(STDOUT, chunk);
      return;
    }
    // Payloads of consecutive frames of one stream are handed over joined: one log line is
    // usually one frame, and one decode per chunk beats one per line.
    let run = [];
    let runLen = 0;
    let runStream = this.stream;
    const emit = () => {
      if (!runLen) return;
      let bytes = run[0];
      if (run.length > 1) {
        bytes = new Uint8Array(runLen);
        let o = 0;
        for (const r of run) {
          bytes.set(r, o);
          o += r.length;
        }
      }
      run = [];
      runLen = 0;
      this.onData(runStream, bytes);
    };
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining === 0) {
        const take = Math.min(8 - this.headerLen, chunk.length - i);
        this.header.set(chunk.subarray(i, i + take), this.headerLen);
        this.headerLen += take;
        i += take;
        if (this.headerLen < 8) break;
        const h = this.header;
        this.stream = h[0] === 2 ? STDERR : STDOUT;
        this.remaining = ((h[4] << 24) >>> 0) + (h[5] << 16) + (h[6] << 8) + h[7];
        this.headerLen = 0;
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - i);
      if (this.stream !== runStream) {
        emit();
        runStream = this.stream;
      }
      run.push(chunk.subarray(i, i + take));
      runLen += take;
      this.remaining -= take;
      i += take;
    }
    emit();
  }
}

// Splits each stream's bytes into lines (UTF-8 decoded across chunk borders); a line with
// timestamps=1 starts with an RFC 3339 time and a space, kept apart in .ts.
export class LineSplitter {
  constructor(onLine, withTimestamps = true) {
    this.onLine = onLine;
    this.withTimestamps = withTimestamps;
    this.partial = { [STDOUT]: '', [STDERR]: '' };
    this.decoders = { [STDOUT]: new TextDecoder(), [STDERR]: new TextDecoder() };
  }

  push(stream, bytes) {
    let text = this.partial[stream] + this.decoders[stream].decode(bytes, { stream: true });
    let start = 0;
    let nl;
    while ((nl = text.indexOf('\n', start)) >= 0) {
      this.emit(stream, text.slice(start, nl));
      start = nl + 1;
    }
    this.partial[stream] = text.slice(start);
  }

  flush() {
    for (const s of [STDOUT, STDERR]) {
      const rest = this.partial[s] + this.decoders[s].decode();
      this.partial[s] = '';
      if (rest) this.emit(s, rest);
    }
  }

  emit(stream, raw) {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    let ts = '';
    if (this.withTimestamps) {
      const sp = line.indexOf(' ');
      if (sp > 0 && /^\d{4}-\d\d-\d\dT/.test(line)) {
        ts = line.slice(0, sp);
        line = line.slice(sp + 1);
      }
    }
    this.onLine({ stream, ts, text: line });
  }
}

export class RingBuffer {
  constructor(capacity) {
    this.capacity = capacity;
    this.items = new Array(capacity);
    this.start = 0;
    this.length = 0;
    this.total = 0; // lines ever pushed (dropped ones included)
  }

  push(item) {
    if (this.length < this.capacity) {
      this.items[(this.start + this.length) % this.capacity] = item;
      this.length++;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
    this.total++;
  }

  at(i) {
    return this.items[(this.start + i) % this.capacity];
  }

  clear() {
    this.items = new Array(this.capacity);
    this.start = 0;
    this.length = 0;
    this.total = 0;
  }

  // The last `n` items for which pred holds, oldest first.
  lastMatching(n, pred) {
    const out = [];
    for (let i = this.length - 1; i >= 0 && out.length < n; i--) {
      const it = this.at(i);
      if (pred(it)) out.push(it);
    }
    return out.reverse();
  }

  toArray() {
    const out = new Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.at(i);
    return out;
  }
}

export function formatLine(l, withTs) {
  return withTs && l.ts ? `${l.ts} ${l.text}` : l.text;
}
