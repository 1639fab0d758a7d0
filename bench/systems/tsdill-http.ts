/**
 * The HTTP workload in tsdill: a server over TCP, one coroutine per connection, `http_attach`
 * per request (keep-alive: the connection comes back from `http_detach` at the next request),
 * the answer's header with `http_sendstatus` and `http_sendfield`, its body with `bsend`. It
 * sends the header fields Node's `http` sends for the same answer (`net-http.ts`), to the same
 * load (`http-load.ts`), and keeps the promise of its `Keep-Alive: timeout=5` as Node's server
 * does (its `keepAliveTimeout`): each request has 5 s from the end of the last answer, a deadline
 * on every call of the request.
 */
import lib from "../tsdill.js";
import type { Trials } from "../lib.js";
import { BODY, httpLoad } from "./http-load.js";

const { await_promise, bsend, bundle, bundle_go, hclose, http_attach, http_detach, http_done } = lib;
const { http_recvfield, http_recvrequest, http_sendfield, http_sendstatus, ipaddr_local, ipaddr_port } = lib;
const { isDillError, now, run, tcp_accept, tcp_listen } = lib;

const body = Buffer.from(BODY);
const length = String(body.length);
/** How long a kept-alive connection waits for its next request, in ms (Node's keepAliveTimeout). */
const KEEP_ALIVE = 5000;
/** The Date field, as Node caches it: made again at most once a second. */
let date = "";
let dateAt = 0;
function today(): string {
  const t = Date.now();
  if (t - dateAt >= 1000) {
    date = new Date(t).toUTCString();
    dateAt = t;
  }
  return date;
}

function* serve(conn: number) {
  let s = conn;
  try {
    for (;;) {
      const d = now() + KEEP_ALIVE;
      s = http_attach(s);
      yield* http_recvrequest(s, 16, 1024, d);
      try {
        for (;;) yield* http_recvfield(s, 256, 1024, d);
      } catch (e) {
        if (!isDillError(e, "EPIPE")) throw e; // the end of the header
      }
      yield* http_sendstatus(s, 200, "OK", d);
      yield* http_sendfield(s, "Content-Type", "text/plain", d);
      yield* http_sendfield(s, "Content-Length", length, d);
      yield* http_sendfield(s, "Date", today(), d);
      yield* http_sendfield(s, "Connection", "keep-alive", d);
      yield* http_sendfield(s, "Keep-Alive", "timeout=5", d);
      yield* http_done(s, d);
      s = yield* http_detach(s, d);
      yield* bsend(s, body, body.length, d);
    }
  } catch (e) {
    // The client left, or kept its connection idle past the keep-alive time.
    if (!isDillError(e, "EPIPE") && !isDillError(e, "ECONNRESET") && !isDillError(e, "ETIMEDOUT")) throw e;
  } finally {
    hclose(s);
  }
}

function* acceptLoop(ls: number, conns: number) {
  for (;;) bundle_go(conns, serve(yield* tcp_accept(ls, null, -1)));
}

function httpServe(n: number): Promise<number> {
  return run(function* () {
    const addr = ipaddr_local("127.0.0.1", 0, 0);
    const ls = yield* tcp_listen(addr, 128);
    const conns = bundle();
    bundle_go(conns, acceptLoop(ls, conns));
    try {
      return yield* await_promise(httpLoad(ipaddr_port(addr), n), -1);
    } finally {
      hclose(conns);
      hclose(ls);
    }
  });
}

export const trials: Trials = { httpServe };
