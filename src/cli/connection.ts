/**
 * One connection of the key-value server: its coroutine reads requests until the client closes
 * or quits, waits too long, the server drains, or the connection fails. Whatever happens to one
 * connection is counted and stays with it: no error escapes a connection's coroutine, so one
 * client can never make the server's shutdown fail.
 */
import { DillError, hclose, hown, ipc_close, ipc_done, isDillError, msleep, now, type Op } from "../index.js";
import { type Conn, MAX_LINE, Replier, request } from "./protocol.js";
import { LineReader } from "./reader.js";
import type { Server } from "./state.js";

/** Full stack traces logged for errors of the server's own code; later ones are only counted. */
const LOGGED = 10;
let logged = 0;

/**
 * Count a connection's failure. A `DillError` is the connection's (`ECONNRESET`, `EPIPE`...); any
 * other error is a fault of the server's code, logged with its stack to stderr (the first few).
 */
function failed(srv: Server, e: unknown): void {
  if (e instanceof DillError) {
    if (e.code === "ECANCELED") srv.stats.cancelled++;
    else srv.failed(e.code);
    return;
  }
  srv.failed("exception");
  if (logged < LOGGED) {
    logged++;
    const what = e instanceof Error ? (e.stack ?? String(e)) : String(e);
    console.error(`${srv.opts.name}: a connection failed, the server goes on: ${what}`);
    if (logged === LOGGED) console.error(`${srv.opts.name}: further failures of this kind are counted, not logged`);
  }
}

/** How long a connection the server gave up on is held, unread, after its answer; in ms. */
const LINGER = 250;

/**
 * The end of a connection the server gave up on (a line too long or too slow, a deadline, a
 * body too big): its answer was sent, the sending side is ended so that the client sees the end
 * of the stream after it, and the socket is held for a moment without reading. A client still
 * sending meanwhile can read the answer; closing at once would make its next send fail (EPIPE),
 * and a client then often never reads what had arrived. What it sent is not read.
 */
function* linger(s: number): Op<void> {
  try {
    yield* ipc_done(s, now() + LINGER);
    yield* msleep(now() + LINGER);
  } catch (e) {
    // A client gone already, or the shutdown: the socket is closed all the same.
    if (!isDillError(e)) throw e;
  } finally {
    hclose(s);
  }
}

/** The deadline of the wait for the next request's first byte. */
function idleDeadline(srv: Server): number {
  return srv.opts.idleTimeout > 0 ? now() + srv.opts.idleTimeout : -1;
}

/** One connection: requests until the client closes or quits, the server drains, or it fails. */
export function* handler(accepted: number, srv: Server) {
  srv.unstarted.delete(accepted);
  const s = hown(accepted); // this coroutine owns the connection now (dill_tree shows it here)
  let open = true;
  /** False once the server has given up on the stream (a line too long or too slow, a deadline): see linger. */
  let graceful = true;
  let served = true;
  const o = srv.opts;
  const c: Conn = {
    s,
    rd: new LineReader(s, MAX_LINE),
    out: new Replier(s, srv),
    scratch: new Uint8Array(4096),
    hard: false,
  };
  try {
    while (!srv.draining) {
      let line: string;
      try {
        line = yield* c.rd.line(idleDeadline(srv), o.lineTimeout > 0 ? o.lineTimeout : -1);
      } catch (e) {
        if (isDillError(e, "EPIPE")) break; // the client is done
        graceful = false;
        if (isDillError(e, "EMSGSIZE")) {
          yield* c.out.error("EMSGSIZE", `a request line is at most ${MAX_LINE} bytes`, now() + 1000);
          break;
        }
        if (!isDillError(e, "ETIMEDOUT")) throw e;
        // A slow line (slowloris) or an idle client: say which, and close.
        const slow = c.rd.buffered > 0 && o.lineTimeout > 0;
        if (slow) srv.stats.lineTimeouts++;
        else srv.stats.idleTimeouts++;
        yield* c.out.error(
          "ETIMEDOUT",
          slow
            ? `the request line did not end within ${o.lineTimeout} ms`
            : `no request for ${o.idleTimeout} ms, closing`,
          now() + 1000,
        );
        break;
      }
      srv.stats.bytesIn += line.length + 1;
      if (line === "") continue; // the newline after a body typed by hand, or a blank line
      srv.stats.requests++;
      const deadline = now() + o.requestTimeout;
      let keep: boolean;
      try {
        keep = yield* request(c, srv, line, deadline);
      } catch (e) {
        if (!isDillError(e, "ETIMEDOUT")) throw e;
        // A body or an answer that did not make it in time: the stream is out of step, close.
        graceful = false;
        srv.stats.timeouts++;
        yield* c.out.error("ETIMEDOUT", `the request deadline (${o.requestTimeout} ms) expired`, now() + 1000);
        break;
      }
      if (!keep) {
        graceful = !c.hard;
        break;
      }
    }
    open = false;
    if (graceful) yield* ipc_close(s, now() + 1000);
    else {
      // Not served any more: it no longer counts against --max-conns (its fd is still counted).
      srv.stats.open--;
      served = false;
      yield* linger(s);
    }
  } catch (e) {
    failed(srv, e);
    if (open && !(e instanceof DillError)) {
      // The server's own fault: tell the client, if it still listens, before closing.
      try {
        yield* c.out.error("EIO", "the server failed on this connection", now() + 1000);
      } catch {
        // it does not
      }
    }
  } finally {
    if (open) hclose(s);
    if (served) srv.stats.open--;
    srv.live--;
  }
}

/** How long a refused connection may take to read its answer and close, in ms. */
const REFUSE_LINGER = 250;

/**
 * A connection the server cannot serve (over `--max-conns`, or out of fds): say why and close.
 * Over `--max-conns` the close is graceful for a moment (the request the client may already
 * have sent is read and dropped), so that the client can read the answer instead of failing to
 * send with EPIPE; out of fds, the connection is closed at once, its fd being needed.
 */
export function* refuse(accepted: number, srv: Server, code: "EBUSY" | "EMFILE") {
  srv.unstarted.delete(accepted);
  const s = hown(accepted);
  let open = true;
  try {
    yield* new Replier(s, srv).error(
      code,
      code === "EBUSY"
        ? `the server is at its limit of ${srv.opts.maxConns} connections`
        : "the server is out of file descriptors",
      now() + 1000,
    );
    if (code === "EBUSY") {
      open = false;
      try {
        yield* ipc_close(s, now() + REFUSE_LINGER);
      } catch (e) {
        // A client that does not close in time, or resets: it has had its answer.
        if (!isDillError(e) || e.code === "ECANCELED") throw e;
      }
    }
  } catch (e) {
    failed(srv, e);
  } finally {
    if (open) hclose(s);
    srv.live--;
  }
}
