/**
 * One key-value server's state: its options and their defaults, its store, what it counts (the
 * `STATS` answer and the final summary), and the summary itself.
 */
import { now } from "../index.js";
import { Store } from "./store.js";

export interface ServerOptions {
  /** Deadline of one request, from its line to its answer, in ms. */
  requestTimeout: number;
  /** How long a connection may wait between requests before it is closed, in ms (0: forever). */
  idleTimeout: number;
  /** How long the rest of a request line may take once its first byte arrived, in ms (0: no limit of its own). */
  lineTimeout: number;
  /** How long open connections may go on after shutdown begins, in ms. */
  grace: number;
  /** Connections served at once; more are answered `ERR EBUSY` and closed. */
  maxConns: number;
  /** The longest body (`SET`, `ECHO`) accepted, in bytes. */
  maxBody: number;
  /** Keys the store holds at most; a `SET` of one more is answered `ERR ENOMEM`. */
  maxKeys: number;
  /** Bytes (keys and values) the store holds at most; a `SET` past it is answered `ERR ENOMEM`. */
  maxBytes: number;
  /** Print the live tree to stderr every `trace` ms (0: never). */
  trace: number;
  /** The server's name in its summary, its log lines and its trace (`worker 2` under `--workers`). */
  name: string;
}

export const DEFAULT_OPTIONS: ServerOptions = {
  requestTimeout: 5000,
  idleTimeout: 60_000,
  lineTimeout: 10_000,
  grace: 2000,
  maxConns: 4096,
  maxBody: 1 << 20,
  maxKeys: 1_000_000,
  maxBytes: 256 << 20,
  trace: 0,
  name: "server",
};

/** What the server counts. */
export interface ServerCounters {
  accepted: number;
  /** Over `maxConns`: answered `ERR EBUSY`. */
  refused: number;
  /** Out of fds, handles or storage: answered `ERR EMFILE` when possible, else closed at once. */
  dropped: number;
  open: number;
  requests: number;
  errors: number;
  /** Requests whose deadline expired. */
  timeouts: number;
  /** Connections closed for waiting longer than `idleTimeout` between requests. */
  idleTimeouts: number;
  /** Connections closed for a request line slower than `lineTimeout`. */
  lineTimeouts: number;
  /** `SET`s refused because the store was full. */
  nomem: number;
  cancelled: number;
  bytesIn: number;
  bytesOut: number;
  /** Connections that ended with a failure, by errno (`exception` for an error of the server's own code). */
  failures: Record<string, number>;
}

/** One server's state: its options, its store, its counters. */
export class Server {
  readonly store: Store;
  readonly stats: ServerCounters = {
    accepted: 0,
    refused: 0,
    dropped: 0,
    open: 0,
    requests: 0,
    errors: 0,
    timeouts: 0,
    idleTimeouts: 0,
    lineTimeouts: 0,
    nomem: 0,
    cancelled: 0,
    bytesIn: 0,
    bytesOut: 0,
    failures: {},
  };
  /** Shutting down: connections end after their current request. */
  draining = false;
  /** Accepted sockets whose handler has not started yet (closed at shutdown if it never does). */
  readonly unstarted = new Set<number>();
  /** Accepted sockets not closed yet: each holds a file descriptor. */
  live = 0;
  started = now();
  stopped = 0;
  reason = "";
  constructor(readonly opts: ServerOptions) {
    this.store = new Store(opts.maxKeys, opts.maxBytes);
  }

  /** Count a connection that failed with `code`. */
  failed(code: string): void {
    this.stats.failures[code] = (this.stats.failures[code] ?? 0) + 1;
  }
}

function mb(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

/** The `STATS` answer, without its newline. */
export function statsLine(srv: Server): string {
  const st = srv.stats;
  const failed = Object.values(st.failures).reduce((a, b) => a + b, 0);
  return (
    `STATS pid=${process.pid} connections=${st.accepted} open=${st.open} refused=${st.refused} dropped=${st.dropped} failed=${failed}` +
    ` requests=${st.requests} errors=${st.errors} timeouts=${st.timeouts} idle_timeouts=${st.idleTimeouts}` +
    ` line_timeouts=${st.lineTimeouts} nomem=${st.nomem} keys=${srv.store.size} store_bytes=${srv.store.bytes}` +
    ` bytes_in=${st.bytesIn} bytes_out=${st.bytesOut}`
  );
}

/** The server's final summary, one string of lines. */
export function summary(srv: Server): string {
  const st = srv.stats;
  const secs = ((srv.stopped || now()) - srv.started) / 1000;
  const fails = Object.entries(st.failures).map(([k, v]) => `${k} ${v}`);
  return [
    `${srv.opts.name}: stopped${srv.reason ? ` (${srv.reason})` : ""} after ${secs.toFixed(1)} s`,
    `  connections: ${st.accepted} accepted, ${st.refused} refused (EBUSY), ${st.dropped} dropped (EMFILE), ${st.cancelled} cancelled at shutdown${fails.length ? `, failed: ${fails.join(", ")}` : ""}`,
    `  requests: ${st.requests} served, ${st.errors} answered with ERR (${st.timeouts} deadlines expired, ${st.nomem} SETs refused with ENOMEM)`,
    `  timeouts: ${st.idleTimeouts} idle connections closed, ${st.lineTimeouts} request lines too slow`,
    `  store: ${srv.store.size} keys, ${mb(srv.store.bytes)}`,
    `  bytes: ${mb(st.bytesIn)} in, ${mb(st.bytesOut)} out`,
  ].join("\n");
}
