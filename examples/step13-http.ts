// Step 13: an HTTP server over TCP. Keep-alive connections, a deadline for every request, and
// the shutdown of step 11: stop accepting, drain with a deadline, cancel the rest.
import {
  brecv,
  bsend,
  bundle,
  bundle_go,
  bundle_wait,
  chmake,
  chrecv,
  chsend,
  DillError,
  dill_stats,
  go,
  hclose,
  http_attach,
  http_detach,
  http_done,
  http_recvfield,
  http_recvrequest,
  http_recvstatus,
  http_sendfield,
  http_sendrequest,
  http_sendstatus,
  type IpAddr,
  ipaddr_local,
  isDillError,
  msleep,
  now,
  type Op,
  run,
  tcp_accept,
  tcp_close,
  tcp_connect,
  tcp_listen,
} from "tsdill";

/** The header's fields up to the empty line, names in lower case. */
function* recvFields(s: number, deadline: number): Op<Map<string, string>> {
  const fields = new Map<string, string>();
  for (;;) {
    try {
      const [name, value] = yield* http_recvfield(s, 64, 1024, deadline);
      fields.set(name.toLowerCase(), value);
    } catch (e) {
      if (isDillError(e, "EPIPE")) return fields; // the empty line
      throw e;
    }
  }
}

let connections = 0; // open connections
let inProgress = 0; // requests being answered
let draining = false; // set by main when the server shuts down

/** What the server answers: a status, a reason and a body, for a request. */
function* answer(resource: string, started: number): Op<[number, string, string]> {
  if (resource === "/hello") return [200, "OK", "hello"];
  if (resource === "/slow") {
    yield* chsend(started, null, -1); // tell main that a request is in progress
    yield* msleep(now() + 200); // some work
    return [200, "OK", "done"];
  }
  return [404, "Not Found", "not found"];
}

/** Serves one connection: one request after the other, until the client or the server ends it. */
function* serveConn(conn: number, started: number) {
  connections++;
  let s = conn; // the handle this coroutine owns: the connection, or HTTP over it
  try {
    for (;;) {
      s = http_attach(s);
      // An idle keep-alive connection waits at most 10 s for its next request.
      const [, resource] = yield* http_recvrequest(s, 16, 256, now() + 10_000);
      const deadline = now() + 500; // the rest of the request and the whole answer
      inProgress++;
      try {
        yield* recvFields(s, deadline);
        const [status, reason, body] = yield* answer(resource, started);
        const close = draining; // once shutting down, each connection ends after its answer
        yield* http_sendstatus(s, status, reason, deadline);
        yield* http_sendfield(s, "Content-Length", String(body.length), deadline);
        yield* http_sendfield(s, "Connection", close ? "close" : "keep-alive", deadline);
        yield* http_done(s, deadline);
        s = yield* http_detach(s, deadline); // the TCP connection, at the next request
        yield* bsend(s, body, body.length, deadline);
        if (close) {
          const c = s;
          s = -1;
          yield* tcp_close(c, deadline);
          return;
        }
      } finally {
        inProgress--;
      }
    }
  } catch (e) {
    if (isDillError(e, "EPIPE")) return; // the client closed its connection between requests
    if (isDillError(e, "ETIMEDOUT")) {
      console.log("server: a request missed its deadline (ETIMEDOUT); connection closed");
      return;
    }
    if (isDillError(e, "ECANCELED")) console.log("server: an idle connection was closed at shutdown");
    throw e; // a cancellation ends the coroutine as cancelled; anything else is a bug to report
  } finally {
    if (s >= 0) hclose(s);
    connections--;
  }
}

function* acceptLoop(ls: number, conns: number, started: number) {
  for (;;) bundle_go(conns, serveConn(yield* tcp_accept(ls, null, -1), started));
}

/** One GET on the connection `u`: the connection back (at the next answer), the status and the body. */
function* get(u: number, resource: string): Op<[number, number, string, string]> {
  const s = http_attach(u);
  yield* http_sendrequest(s, "GET", resource, -1);
  yield* http_sendfield(s, "Host", "127.0.0.1", -1);
  yield* http_done(s, -1);
  const [status] = yield* http_recvstatus(s, 64, -1);
  const fields = yield* recvFields(s, -1);
  const conn = yield* http_detach(s, -1);
  const body = new Uint8Array(Number(fields.get("content-length")));
  yield* brecv(conn, body, body.length, -1);
  return [conn, status, Buffer.from(body).toString(), fields.get("connection") ?? ""];
}

/** Waits on `u` until the server closes it, and says how. */
function* untilClosed(u: number): Op<string> {
  try {
    yield* brecv(u, null, 1, -1);
    return "sent something unexpected";
  } catch (e) {
    if (!(e instanceof DillError)) throw e;
    return `the server closed the connection (${e.code})`;
  } finally {
    hclose(u);
  }
}

function* keepAliveClient(addr: IpAddr, out: string[]) {
  let u = yield* tcp_connect(addr, -1);
  for (const resource of ["/hello", "/missing"]) {
    const [conn, status, body] = yield* get(u, resource);
    u = conn;
    out.push(`keep-alive: GET ${resource} -> ${status} ${body}`);
  }
  out.push(`keep-alive: idle; ${yield* untilClosed(u)}`); // it never sends a third request
}

function* stalledClient(addr: IpAddr, out: string[]) {
  const u = yield* tcp_connect(addr, -1);
  const line = "GET /hello HTTP/1.1\r\n"; // and then nothing: the rest of the header never comes
  yield* bsend(u, line, line.length, -1);
  out.push(`stalled: ${yield* untilClosed(u)}`);
}

function* slowClient(addr: IpAddr, out: string[]) {
  const [u, status, body, connection] = yield* get(yield* tcp_connect(addr, -1), "/slow");
  out.push(`slow: GET /slow -> ${status} ${body} (Connection: ${connection}); ${yield* untilClosed(u)}`);
}

await run(function* main() {
  const addr = ipaddr_local("127.0.0.1", 0, 0);
  const ls = yield* tcp_listen(addr, 64); // the system picks the port, written into addr
  const conns = bundle(); // owned by main, as in step 11
  const [started, startedIn] = chmake();
  const acceptor = go(acceptLoop(ls, conns, started));

  const clients = bundle();
  const keepAlive: string[] = [];
  const stalled: string[] = [];
  const slow: string[] = [];
  bundle_go(clients, keepAliveClient(addr, keepAlive));
  const early = bundle();
  bundle_go(early, stalledClient(addr, stalled));
  yield* bundle_wait(early, -1); // the stalled request's deadline has passed
  hclose(early);
  bundle_go(clients, slowClient(addr, slow));
  yield* chrecv(startedIn, -1);
  console.log(`shutting down with ${inProgress} request in progress`);

  // 1. Stop accepting.
  hclose(acceptor);
  hclose(ls);
  try {
    hclose(yield* tcp_connect(addr, now() + 1000));
  } catch (e) {
    if (!isDillError(e, "ECONNREFUSED")) throw e;
    console.log("a late client cannot connect any more (ECONNREFUSED)");
  }

  // 2. Drain: requests in progress finish, and their connections end after the answer.
  draining = true;
  try {
    yield* bundle_wait(conns, now() + 400);
    console.log("all connections finished in time");
  } catch (e) {
    if (!isDillError(e, "ETIMEDOUT")) throw e;
    console.log(`drain deadline passed with ${connections} idle connection left; closing it`);
  }

  // 3. Cancel the rest: an idle connection has nothing in progress to lose.
  hclose(conns);
  console.log(`connections left after hclose: ${connections}`);

  yield* bundle_wait(clients, -1);
  hclose(clients);
  for (const line of [...keepAlive, ...slow, ...stalled]) console.log(`client: ${line}`);
  hclose(started);
  hclose(startedIn);
});
const s = dill_stats();
console.log(`left open: ${s.coroutines} coroutines, ${s.handles} handles`);
