/**
 * The key-value server behind `tsdill serve` and the demo: one coroutine accepts connections,
 * each connection is served by its own coroutine in a bundle, every request runs under a deadline,
 * and shutdown is structured: stop accepting, give open connections a grace period with
 * `bundle_wait`, then cancel the rest by closing the bundle. The protocol is in docs/server.md.
 */
import {
  await_promise,
  bsend,
  bsendl,
  bundle,
  bundle_go,
  bundle_wait,
  DillError,
  dill_print_tree,
  go,
  hclose,
  hown,
  type IoList,
  ipc_accept,
  ipc_close,
  isDillError,
  msleep,
  now,
  type Op,
} from "../index.js";
import { LineReader } from "./reader.js";

/** The longest request line accepted, without its `\n`. */
export const MAX_LINE = 1024;
/** The longest key accepted. */
export const MAX_KEY = 250;

export interface ServerOptions {
  /** Deadline of one request, from its line to its answer, in ms. */
  requestTimeout: number;
  /** How long open connections may go on after shutdown begins, in ms. */
  grace: number;
  /** Connections served at once; more are answered `ERR EBUSY` and closed. */
  maxConns: number;
  /** The longest body (`SET`, `ECHO`) accepted, in bytes. */
  maxBody: number;
  /** Print the live tree to stderr every `trace` ms (0: never). */
  trace: number;
}

export const DEFAULT_OPTIONS: ServerOptions = {
  requestTimeout: 5000,
  grace: 2000,
  maxConns: 4096,
  maxBody: 1 << 20,
  trace: 0,
};

/** What the server counts (the `STATS` answer and the final summary). */
export interface ServerCounters {
  accepted: number;
  refused: number;
  open: number;
  requests: number;
  errors: number;
  timeouts: number;
  cancelled: number;
  bytesIn: number;
  bytesOut: number;
  /** Connections that ended with a failure, by errno. */
  failures: Record<string, number>;
}

/** One server's state: its options, its store, its counters. */
export class Server {
  readonly store = new Map<string, Uint8Array>();
  readonly stats: ServerCounters = {
    accepted: 0,
    refused: 0,
    open: 0,
    requests: 0,
    errors: 0,
    timeouts: 0,
    cancelled: 0,
    bytesIn: 0,
    bytesOut: 0,
    failures: {},
  };
  /** Shutting down: connections end after their current request. */
  draining = false;
  /** Accepted sockets whose handler has not started yet (closed at shutdown if it never does). */
  readonly unstarted = new Set<number>();
  started = now();
  stopped = 0;
  reason = "";
  constructor(readonly opts: ServerOptions) {}
}

const enc = new TextEncoder();

const NEWLINE = new Uint8Array([10]);

/** One connection's answers: a text head, optionally followed by a body and `\n`, sent as one message. */
class Replier {
  private readonly tail: IoList = { iol_base: NEWLINE, iol_len: 1, iol_next: null, iol_rsvd: 0 };
  private readonly body: IoList = { iol_base: null, iol_len: 0, iol_next: this.tail, iol_rsvd: 0 };
  private readonly head: IoList = { iol_base: null, iol_len: 0, iol_next: this.body, iol_rsvd: 0 };
  constructor(
    private readonly s: number,
    private readonly srv: Server,
  ) {}
  *text(line: string, deadline: number): Op<void> {
    const b = enc.encode(line);
    this.srv.stats.bytesOut += b.length;
    yield* bsend(this.s, b, b.length, deadline);
  }
  *withBody(line: string, data: Uint8Array, len: number, deadline: number): Op<void> {
    const h = enc.encode(line);
    this.head.iol_base = h;
    this.head.iol_len = h.length;
    this.body.iol_base = data;
    this.body.iol_len = len;
    this.srv.stats.bytesOut += h.length + len + 1;
    try {
      yield* bsendl(this.s, this.head, this.tail, deadline);
    } finally {
      this.head.iol_base = this.body.iol_base = null;
    }
  }
  *error(code: string, why: string, deadline: number): Op<void> {
    this.srv.stats.errors++;
    yield* this.text(`ERR ${code} ${why}\n`, deadline);
  }
}

/** A request's length argument: a non-negative integer, or null. */
function length(arg: string | undefined): number | null {
  if (arg === undefined || !/^\d{1,10}$/.test(arg)) return null;
  return Number(arg);
}

function badKey(key: string | undefined): string | null {
  if (key === undefined || key === "") return "a key is required";
  if (Buffer.byteLength(key) > MAX_KEY) return `keys are at most ${MAX_KEY} bytes`;
  return null;
}

/** Per-connection state of a handler. */
interface Conn {
  s: number;
  rd: LineReader;
  out: Replier;
  /** Reused buffer for ECHO bodies. */
  scratch: Uint8Array;
}

/**
 * Answer one request. Returns false when the connection must close afterwards (QUIT, an
 * oversized body). A failure of the connection itself is thrown.
 */
function* request(c: Conn, srv: Server, line: string, deadline: number): Op<boolean> {
  const words = line.split(" ");
  const cmd = words[0]!.toUpperCase();
  const out = c.out;
  switch (cmd) {
    case "PING":
      yield* out.text("PONG\n", deadline);
      return true;
    case "SET":
    case "ECHO": {
      const isSet = cmd === "SET";
      const why = isSet ? badKey(words[1]) : null;
      const len = length(words[isSet ? 2 : 1]);
      if (why !== null || len === null || words.length !== (isSet ? 3 : 2)) {
        yield* out.error(
          "EINVAL",
          why ?? (isSet ? "usage: SET key len, then len bytes" : "usage: ECHO len, then len bytes"),
          deadline,
        );
        return true;
      }
      if (len > srv.opts.maxBody) {
        yield* out.error("EMSGSIZE", `a body is at most ${srv.opts.maxBody} bytes`, deadline);
        return false;
      }
      let data: Uint8Array;
      if (isSet) {
        data = new Uint8Array(len);
      } else {
        if (c.scratch.length < len) c.scratch = new Uint8Array(Math.max(len, c.scratch.length * 2));
        data = c.scratch;
      }
      yield* c.rd.exact(data, len, deadline);
      srv.stats.bytesIn += len;
      if (isSet) {
        srv.store.set(words[1]!, data);
        yield* out.text("OK\n", deadline);
      } else {
        yield* out.withBody(`ECHO ${len}\n`, data, len, deadline);
      }
      return true;
    }
    case "GET":
    case "DEL": {
      const why = badKey(words[1]);
      if (why !== null || words.length !== 2) {
        yield* out.error("EINVAL", why ?? `usage: ${cmd} key`, deadline);
        return true;
      }
      const v = srv.store.get(words[1]!);
      if (v === undefined) yield* out.text("NOTFOUND\n", deadline);
      else if (cmd === "GET") yield* out.withBody(`VALUE ${v.length}\n`, v, v.length, deadline);
      else {
        srv.store.delete(words[1]!);
        yield* out.text("OK\n", deadline);
      }
      return true;
    }
    case "SLEEP": {
      const ms = length(words[1]);
      if (ms === null || words.length !== 2) {
        yield* out.error("EINVAL", "usage: SLEEP ms", deadline);
        return true;
      }
      const until = now() + ms;
      if (until <= deadline) {
        yield* msleep(until);
        yield* out.text("OK\n", deadline);
        return true;
      }
      // The work would outlive the request's deadline: it is cut short at the deadline.
      yield* msleep(deadline);
      srv.stats.timeouts++;
      yield* out.error("ETIMEDOUT", `the request deadline (${srv.opts.requestTimeout} ms) expired`, now() + 1000);
      return true;
    }
    case "STATS": {
      const st = srv.stats;
      yield* out.text(
        `STATS connections=${st.accepted} open=${st.open} requests=${st.requests} errors=${st.errors} timeouts=${st.timeouts} keys=${srv.store.size} bytes_in=${st.bytesIn} bytes_out=${st.bytesOut}\n`,
        deadline,
      );
      return true;
    }
    case "QUIT":
      yield* out.text("BYE\n", deadline);
      return false;
    default:
      yield* out.error("EINVAL", `unknown command "${words[0]!.slice(0, 32)}"`, deadline);
      return true;
  }
}

function failed(srv: Server, e: unknown): void {
  if (!(e instanceof DillError)) throw e;
  if (e.code === "ECANCELED") srv.stats.cancelled++;
  else srv.stats.failures[e.code] = (srv.stats.failures[e.code] ?? 0) + 1;
}

/** One connection: requests until the client closes or quits, the server drains, or it fails. */
function* handler(accepted: number, srv: Server) {
  srv.unstarted.delete(accepted);
  const s = hown(accepted); // this coroutine owns the connection now (dill_tree shows it here)
  let open = true;
  const c: Conn = { s, rd: new LineReader(s, MAX_LINE), out: new Replier(s, srv), scratch: new Uint8Array(4096) };
  try {
    while (!srv.draining) {
      let line: string;
      try {
        line = yield* c.rd.line(-1);
      } catch (e) {
        if (isDillError(e, "EPIPE")) break; // the client is done
        if (!isDillError(e, "EMSGSIZE")) throw e;
        yield* c.out.error("EMSGSIZE", `a request line is at most ${MAX_LINE} bytes`, now() + 1000);
        break;
      }
      srv.stats.bytesIn += line.length + 1;
      if (line === "") continue; // the newline after a body typed by hand, or a blank line
      srv.stats.requests++;
      const deadline = now() + srv.opts.requestTimeout;
      let keep: boolean;
      try {
        keep = yield* request(c, srv, line, deadline);
      } catch (e) {
        if (!isDillError(e, "ETIMEDOUT")) throw e;
        // A body or an answer that did not make it in time: the stream is out of step, close.
        srv.stats.timeouts++;
        yield* c.out.error("ETIMEDOUT", `the request deadline (${srv.opts.requestTimeout} ms) expired`, now() + 1000);
        break;
      }
      if (!keep) break;
    }
    open = false;
    yield* ipc_close(s, now() + 1000);
  } catch (e) {
    failed(srv, e);
  } finally {
    if (open) hclose(s);
    srv.stats.open--;
  }
}

/** Over the connection limit: say so and close. */
function* refuse(accepted: number, srv: Server) {
  srv.unstarted.delete(accepted);
  const s = hown(accepted);
  try {
    yield* new Replier(s, srv).error(
      "EBUSY",
      `the server is at its limit of ${srv.opts.maxConns} connections`,
      now() + 1000,
    );
  } catch (e) {
    failed(srv, e);
  } finally {
    hclose(s);
  }
}

function* acceptLoop(ls: number, conns: number, srv: Server) {
  for (;;) {
    let s: number;
    try {
      s = yield* ipc_accept(ls, -1);
    } catch (e) {
      if (!isDillError(e) || e.code === "ECANCELED" || e.code === "EBADF") throw e;
      // Out of fds or handles for now: count it, breathe, go on.
      failed(srv, e);
      yield* msleep(now() + 10);
      continue;
    }
    srv.stats.accepted++;
    srv.unstarted.add(s);
    const refused = srv.stats.open >= srv.opts.maxConns;
    try {
      bundle_go(conns, refused ? refuse(s, srv) : handler(s, srv));
    } catch (e) {
      // No storage or handle left for a coroutine: drop this connection, keep accepting.
      if (!isDillError(e) || e.code === "ECANCELED") throw e;
      srv.unstarted.delete(s);
      hclose(s);
      failed(srv, e);
      continue;
    }
    if (refused) srv.stats.refused++;
    else srv.stats.open++;
  }
}

function* tracer(every: number) {
  for (;;) {
    yield* msleep(now() + every);
    dill_print_tree(process.stderr);
  }
}

/**
 * Serve on listener `ls` until `stop` settles (with the reason, e.g. "SIGINT"), then shut down:
 * close the listener (which removes the socket file it bound), let open connections finish
 * within the grace period, cancel the rest. Every coroutine and handle is closed on return.
 */
export function* serveListener(ls: number, srv: Server, stop: PromiseLike<string>): Generator<unknown, void, unknown> {
  ls = hown(ls); // the listener is this coroutine's from now on
  const conns = bundle();
  const acceptor = go(acceptLoop(ls, conns, srv));
  const trace = srv.opts.trace > 0 ? go(tracer(srv.opts.trace)) : -1;
  try {
    srv.reason = yield* await_promise(stop, -1);
    hclose(acceptor);
    hclose(ls);
    ls = -1;
    srv.draining = true;
    try {
      yield* bundle_wait(conns, now() + srv.opts.grace);
    } catch (e) {
      if (!isDillError(e, "ETIMEDOUT")) throw e;
    }
  } finally {
    if (ls >= 0) hclose(acceptor);
    if (ls >= 0) hclose(ls);
    hclose(conns); // cancels what outlived the grace period
    for (const s of srv.unstarted) hclose(s); // accepted, but cancelled before their handler ran
    srv.stats.cancelled += srv.unstarted.size;
    srv.unstarted.clear();
    if (trace >= 0) hclose(trace);
    srv.stopped = now();
  }
}

function mb(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

/** The server's final summary, one string of lines. */
export function summary(srv: Server, title = "server"): string {
  const st = srv.stats;
  const secs = ((srv.stopped || now()) - srv.started) / 1000;
  const fails = Object.entries(st.failures).map(([k, v]) => `${k} ${v}`);
  return [
    `${title}: stopped${srv.reason ? ` (${srv.reason})` : ""} after ${secs.toFixed(1)} s`,
    `  connections: ${st.accepted} accepted, ${st.refused} refused, ${st.cancelled} cancelled at shutdown${fails.length ? `, failed: ${fails.join(", ")}` : ""}`,
    `  requests: ${st.requests} served, ${st.errors} answered with ERR (${st.timeouts} deadlines expired)`,
    `  bytes: ${mb(st.bytesIn)} in, ${mb(st.bytesOut)} out`,
  ].join("\n");
}
