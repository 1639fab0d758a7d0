/**
 * The load generator behind `tsdill load` and the demo: N client coroutines in a bundle, each with
 * its own connection, each making M requests one after the other and timing them. Requests are
 * `ECHO` with a payload of random size; with `verify`, every payload starts with a header (client,
 * sequence number, length, CRC-32 of the rest) and every answer is checked: a missing answer is
 * lost, an answer repeating an earlier sequence number is duplicated, a bad header or checksum is
 * corrupted.
 */
import { crc32 } from "node:zlib";
import {
  bsendl,
  bundle,
  bundle_go,
  bundle_wait,
  DillError,
  go,
  hclose,
  type IoList,
  ipc_close,
  ipc_connect,
  msleep,
  now,
  type Op,
} from "../index.js";
import { LineReader } from "./reader.js";

export interface LoadOptions {
  socket: string;
  clients: number;
  requests: number;
  /** Payload sizes, inclusive. */
  size: [number, number];
  verify: boolean;
  /** Deadline of each request, ms. */
  timeout: number;
  /** Called every `progressEvery` ms with the progress so far (null: no progress). */
  progress: ((p: LoadProgress) => void) | null;
  progressEvery: number;
}

export interface LoadProgress {
  done: number;
  total: number;
  errors: number;
  elapsed: number;
}

export interface LoadSummary {
  clients: number;
  requestsPerClient: number;
  requests: number;
  ok: number;
  /** Requests sent (or being sent) and not answered right. */
  failed: number;
  /** Requests never sent: their client could not connect, or its connection failed before them. */
  notSent: number;
  /** Clients that could not connect. */
  connectFailed: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  bytesSent: number;
  bytesReceived: number;
  errors: Record<string, number>;
  verify: { checked: number; lost: number; duplicated: number; corrupted: number } | null;
}

const HEADER = 16;
const POOL = 256 * 1024;

class Load {
  readonly lat: Float64Array;
  n = 0;
  sent = 0;
  received = 0;
  errors: Record<string, number> = {};
  failed = 0;
  notSent = 0;
  connectFailed = 0;
  checked = 0;
  lost = 0;
  duplicated = 0;
  corrupted = 0;
  /** Random bytes payloads are cut from. */
  readonly pool = new Uint8Array(POOL);
  constructor(readonly o: LoadOptions) {
    this.lat = new Float64Array(o.clients * o.requests);
    for (let i = 0; i < POOL; i += 4) {
      const r = (Math.random() * 0x100000000) >>> 0;
      this.pool[i] = r;
      this.pool[i + 1] = r >>> 8;
      this.pool[i + 2] = r >>> 16;
      this.pool[i + 3] = r >>> 24;
    }
  }
  error(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }
}

function rand(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

const enc = new TextEncoder();

/** One client: connect, M requests, close. */
function* client(id: number, L: Load) {
  const o = L.o;
  let s = -1;
  let done = 0;
  /** Requests sent, or being sent. */
  let attempted = 0;
  let connected = false;
  let inflight = false;
  try {
    s = yield* ipc_connect(o.socket, now() + 10_000);
    connected = true;
    const rd = new LineReader(s, 64);
    const [lo, hi] = o.size;
    const minSize = o.verify ? Math.max(lo, HEADER) : lo;
    const header = new Uint8Array(HEADER);
    const hv = new DataView(header.buffer);
    const body: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
    const hdr: IoList = { iol_base: header, iol_len: HEADER, iol_next: body, iol_rsvd: 0 };
    const line: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
    let reply = new Uint8Array(Math.max(hi, HEADER));
    for (let seq = 0; seq < o.requests; seq++) {
      const size = rand(minSize, Math.max(minSize, hi));
      const text = enc.encode(`ECHO ${size}\n`);
      line.iol_base = text;
      line.iol_len = text.length;
      const off = rand(0, POOL - size);
      const t0 = performance.now();
      const deadline = now() + o.timeout;
      attempted++;
      if (o.verify) {
        const rest = L.pool.subarray(off + HEADER, off + size);
        hv.setUint32(0, id);
        hv.setUint32(4, seq);
        hv.setUint32(8, size);
        hv.setUint32(12, crc32(rest));
        body.iol_base = rest;
        body.iol_len = rest.length;
        line.iol_next = hdr;
        yield* bsendl(s, line, body, deadline);
      } else {
        body.iol_base = L.pool.subarray(off, off + size);
        body.iol_len = size;
        line.iol_next = body;
        yield* bsendl(s, line, body, deadline);
      }
      L.sent += text.length + size;
      inflight = true;
      const head = yield* rd.line(deadline);
      const m = /^ECHO (\d+)$/.exec(head);
      if (m === null) throw new DillError("EPROTO", "load", `unexpected answer "${head.slice(0, 60)}"`);
      const len = Number(m[1]);
      if (reply.length < len + 1) reply = new Uint8Array(len + 1);
      yield* rd.exact(reply, len + 1, deadline);
      if (reply[len] !== 10) throw new DillError("EPROTO", "load", "an answer's body does not end with a newline");
      L.received += head.length + 2 + len;
      L.lat[L.n++] = performance.now() - t0;
      inflight = false;
      done++;
      if (o.verify) {
        L.checked++;
        const v = new DataView(reply.buffer, reply.byteOffset, len);
        const ok =
          len === size &&
          len >= HEADER &&
          v.getUint32(0) === id &&
          v.getUint32(8) === len &&
          v.getUint32(12) === crc32(reply.subarray(HEADER, len));
        if (!ok) L.corrupted++;
        else if (v.getUint32(4) < seq) L.duplicated++;
        else if (v.getUint32(4) > seq) L.lost += v.getUint32(4) - seq;
      }
    }
    const closing = s;
    s = -1; // ipc_close frees the handle even when it fails: never close it twice
    yield* ipc_close(closing, now() + 5000);
  } catch (e) {
    if (!(e instanceof DillError)) throw e;
    if (e.code === "ECANCELED") throw e;
    L.error(e.code);
    if (!connected) L.connectFailed++;
    L.failed += attempted - done;
    L.notSent += o.requests - attempted;
    if (o.verify && inflight) L.lost++; // sent, never answered
  } finally {
    if (s >= 0) hclose(s);
  }
}

function* reporter(L: Load, t0: number) {
  const o = L.o;
  for (;;) {
    yield* msleep(now() + o.progressEvery);
    o.progress!({
      done: L.n,
      total: o.clients * o.requests,
      errors: L.failed + L.notSent,
      elapsed: (performance.now() - t0) / 1000,
    });
  }
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Run the load: every client to its end. Returns the summary. */
export function* runLoad(o: LoadOptions): Op<LoadSummary> {
  const L = new Load(o);
  const t0 = performance.now();
  const b = bundle();
  const rep = o.progress ? go(reporter(L, t0)) : -1;
  try {
    for (let i = 0; i < o.clients; i++) bundle_go(b, client(i, L));
    yield* bundle_wait(b, -1);
  } finally {
    hclose(b);
    if (rep >= 0) hclose(rep);
  }
  const secs = (performance.now() - t0) / 1000;
  const lat = L.lat.slice(0, L.n).sort();
  let sum = 0;
  for (let i = 0; i < lat.length; i++) sum += lat[i]!;
  return {
    clients: o.clients,
    requestsPerClient: o.requests,
    requests: o.clients * o.requests,
    ok: L.n,
    failed: L.failed,
    notSent: L.notSent,
    connectFailed: L.connectFailed,
    seconds: r3(secs),
    requestsPerSecond: Math.round(L.n / secs),
    latencyMs: {
      p50: r3(pct(lat, 50)),
      p90: r3(pct(lat, 90)),
      p99: r3(pct(lat, 99)),
      max: r3(lat.length ? lat[lat.length - 1]! : 0),
      mean: r3(lat.length ? sum / lat.length : 0),
    },
    bytesSent: L.sent,
    bytesReceived: L.received,
    errors: L.errors,
    verify: o.verify ? { checked: L.checked, lost: L.lost, duplicated: L.duplicated, corrupted: L.corrupted } : null,
  };
}

function mb(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

/** What an error of ipc_connect most likely means, for the summary. */
const CONNECT_HINTS: Record<string, string> = {
  ENOENT: "there is no socket file: is the server running, on this --socket?",
  ECONNREFUSED: "nothing listens on the socket file: a server that stopped without removing it?",
  EACCES: "no permission to connect to the socket file",
  ETIMEDOUT: "the server did not accept in time",
};

/** The summary as text lines. */
export function formatLoad(s: LoadSummary, socket: string): string {
  const errs = Object.entries(s.errors).map(([k, v]) => `${k} ${v}`);
  const l = s.latencyMs;
  const lines = [`load: ${s.clients} clients x ${s.requestsPerClient} requests on ${socket}`];
  if (s.connectFailed > 0) {
    const codes = Object.keys(s.errors);
    const hint = codes.length === 1 ? CONNECT_HINTS[codes[0]!] : undefined;
    lines.push(
      `  could not connect: ${s.connectFailed} of ${s.clients} clients${hint ? ` (${codes[0]}: ${hint})` : ""}`,
    );
  }
  lines.push(
    `  requests: ${s.ok} ok, ${s.failed} failed, ${s.notSent} never sent, in ${s.seconds.toFixed(2)} s = ${s.requestsPerSecond} requests/s`,
    s.ok > 0
      ? `  latency ms: p50 ${l.p50.toFixed(2)}  p90 ${l.p90.toFixed(2)}  p99 ${l.p99.toFixed(2)}  max ${l.max.toFixed(2)}`
      : "  latency ms: none measured (no request was answered)",
    `  bytes: ${mb(s.bytesSent)} sent, ${mb(s.bytesReceived)} received`,
    `  errors: ${errs.length ? errs.join(", ") : "none"}`,
  );
  if (s.verify)
    lines.push(
      `  verify: ${s.verify.checked} answers checked, ${s.verify.lost} lost, ${s.verify.duplicated} duplicated, ${s.verify.corrupted} corrupted`,
    );
  return lines.join("\n");
}

/** True when every request succeeded (and, verifying, every answer was right). */
export function clean(s: LoadSummary): boolean {
  return (
    s.failed === 0 &&
    s.notSent === 0 &&
    Object.keys(s.errors).length === 0 &&
    (s.verify === null || (s.verify.lost === 0 && s.verify.duplicated === 0 && s.verify.corrupted === 0))
  );
}
