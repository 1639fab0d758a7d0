/**
 * The key-value server behind `tsdill serve` and the demo: one coroutine accepts connections,
 * each connection is served by its own coroutine in a bundle, every request runs under a deadline,
 * and shutdown is structured: stop accepting, give open connections a grace period with
 * `bundle_wait` (cut short by a second stop request), then cancel the rest by closing the
 * bundle. The protocol is in docs/server.md.
 */
import {
  await_promise,
  bundle,
  bundle_go,
  bundle_wait,
  chmake,
  chrecv,
  chsend,
  go,
  hclose,
  hown,
  ipc_accept,
  isDillError,
  msleep,
  now,
} from "../index.js";
import { handler, refuse } from "./connection.js";
import { FdBudget } from "./fdlimit.js";
import type { Server } from "./state.js";
import { tracer } from "./trace.js";

/** What ends the serving: a first stop request, and a repeat that cuts the grace period short. */
export interface StopRequests {
  readonly promise: PromiseLike<string>;
  readonly again: PromiseLike<string>;
}

function* acceptLoop(ls: number, conns: number, srv: Server, fds: FdBudget) {
  const st = srv.stats;
  for (;;) {
    let s: number;
    try {
      s = yield* ipc_accept(ls, -1);
    } catch (e) {
      if (!isDillError(e) || e.code === "ECANCELED" || e.code === "EBADF") throw e;
      // Out of fds, handles or storage (EMFILE, ENFILE, ENOMEM): the connection is gone. Count it,
      // breathe, go on.
      st.dropped++;
      yield* msleep(now() + 10);
      continue;
    }
    st.accepted++;
    srv.live++;
    const why = fds.full(srv.live) ? "EMFILE" : st.open >= srv.opts.maxConns ? "EBUSY" : null;
    // Counted before the coroutine is launched: it may run, and end, inside bundle_go.
    if (why === null) st.open++;
    else if (why === "EBUSY") st.refused++;
    else st.dropped++;
    srv.unstarted.add(s);
    try {
      bundle_go(conns, why === null ? handler(s, srv) : refuse(s, srv, why));
    } catch (e) {
      // No storage or handle left for a coroutine: drop this connection, keep accepting.
      if (!isDillError(e) || e.code === "ECANCELED") throw e;
      if (why === null) st.open--;
      else if (why === "EBUSY") st.refused--;
      if (why !== "EMFILE") st.dropped++;
      srv.unstarted.delete(s);
      srv.live--;
      hclose(s);
    }
  }
}

/** The grace period: until every connection ended or `deadline`; then says so on `done`. */
function* graceWait(conns: number, deadline: number, done: number) {
  try {
    yield* bundle_wait(conns, deadline);
  } catch (e) {
    if (isDillError(e, "ECANCELED")) throw e;
    // ETIMEDOUT: the grace period is over; what is still running is cancelled by the caller.
  }
  yield* chsend(done, "", -1);
}

/** A repeated stop request during the grace period: says so on `done`. */
function* cutShort(again: PromiseLike<string>, done: number) {
  const why = yield* await_promise(again, -1);
  yield* chsend(done, why, -1);
}

/**
 * Serve on listener `ls` until `stop.promise` settles (with the reason, e.g. "SIGINT"), then shut
 * down: close the listener (which removes the socket file it bound), let open connections finish
 * within the grace period (or until `stop.again` settles), cancel the rest. Every coroutine and
 * handle is closed on return.
 */
export function* serveListener(ls: number, srv: Server, stop: StopRequests): Generator<unknown, void, unknown> {
  ls = hown(ls); // the listener is this coroutine's from now on
  const fds = new FdBudget();
  const conns = bundle();
  const acceptor = go(acceptLoop(ls, conns, srv, fds));
  const trace = srv.opts.trace > 0 ? go(tracer(srv.opts.trace, srv.opts.name)) : -1;
  try {
    srv.reason = yield* await_promise(stop.promise, -1);
    hclose(acceptor);
    hclose(ls);
    ls = -1;
    srv.draining = true;
    const [tx, rx] = chmake();
    const waiters = bundle();
    try {
      bundle_go(waiters, graceWait(conns, now() + srv.opts.grace, tx));
      bundle_go(waiters, cutShort(stop.again, tx));
      const cut = (yield* chrecv(rx, -1)) as string;
      if (cut !== "") srv.reason += `, grace period cut short by ${cut}`;
    } finally {
      hclose(waiters);
      hclose(tx);
      hclose(rx);
    }
  } finally {
    if (ls >= 0) hclose(acceptor);
    if (ls >= 0) hclose(ls);
    hclose(conns); // cancels what outlived the grace period
    for (const s of srv.unstarted) hclose(s); // accepted, but cancelled before their handler ran
    srv.stats.cancelled += srv.unstarted.size;
    srv.live -= srv.unstarted.size;
    srv.unstarted.clear();
    if (trace >= 0) hclose(trace);
    srv.stopped = now();
  }
}
