// A WebSocket echo server for browsers: http://127.0.0.1:8080/ serves a page whose script opens a
// WebSocket to /echo and shows what comes back. Each connection is a coroutine in the server's
// bundle; it reads the HTTP request itself (lines, through the SUFFIX protocol), serves the page,
// or answers the upgrade with ws_response_key and attaches WebSocket with WS_NOHTTP.
//
//   node --import tsx examples/ws-echo.ts [port]        serve until Ctrl-C (port 0: any free one)
//   node --import tsx examples/ws-echo.ts --clients 3   serve, run 3 tsdill clients and a page fetch, exit
import {
  brecv,
  bsend,
  bundle,
  bundle_go,
  bundle_wait,
  dill_stats,
  hclose,
  ipaddr_local,
  ipaddr_port,
  isDillError,
  mrecv,
  now,
  type Op,
  run,
  suffix_attach,
  suffix_detach,
  tcp_accept,
  tcp_close,
  tcp_connect,
  tcp_listen,
  WS_BINARY,
  WS_NOHTTP,
  WS_TEXT,
  ws_attach_client,
  ws_attach_server,
  ws_detach,
  ws_recv,
  ws_response_key,
  ws_send,
} from "tsdill";

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>tsdill WebSocket echo</title></head>
<body><h1>tsdill WebSocket echo</h1><ul id="log"></ul>
<script>
  const log = (t) => document.getElementById("log").insertAdjacentHTML("beforeend", "<li>" + t + "</li>");
  const ws = new WebSocket("ws://" + location.host + "/echo");
  ws.onopen = () => ws.send("hello from the browser");
  ws.onmessage = (m) => {
    log("echo: " + m.data);
    if (m.data === "hello from the browser") ws.send("the browser got its echo back");
    else ws.close(1000, "done");
  };
</script></body></html>
`;

/** The request line and header fields of an HTTP request, read as lines of the SUFFIX protocol. */
function* readRequest(s: number, deadline: number): Op<{ path: string; fields: Map<string, string> }> {
  const buf = new Uint8Array(8192);
  const line = () => mrecv(s, buf, buf.length, deadline);
  const first = Buffer.from(buf.subarray(0, yield* line())).toString("latin1");
  const fields = new Map<string, string>();
  for (;;) {
    const n = yield* line();
    if (n === 0) break;
    const f = Buffer.from(buf.subarray(0, n)).toString("latin1");
    const colon = f.indexOf(":");
    if (colon > 0) fields.set(f.slice(0, colon).trim().toLowerCase(), f.slice(colon + 1).trim());
  }
  return { path: first.split(" ")[1] ?? "", fields };
}

function* sendText(u: number, text: string, deadline: number): Op<void> {
  const bytes = Buffer.from(text);
  yield* bsend(u, bytes, bytes.length, deadline);
}

/** Echo every message back with its type until the peer closes, then close in order. */
function* echo(u: number): Op<void> {
  const [s] = yield* ws_attach_server(u, WS_TEXT | WS_NOHTTP, 0, 0, -1);
  const buf = new Uint8Array(1024 * 1024);
  try {
    for (;;) {
      const [n, flags] = yield* ws_recv(s, buf, buf.length, -1);
      if (flags === WS_TEXT) console.log(`received: ${Buffer.from(buf.subarray(0, n)).toString()}`);
      yield* ws_send(s, flags, buf, n, now() + 5000);
    }
  } catch (e) {
    if (!isDillError(e, "EPIPE")) {
      hclose(s);
      throw e;
    }
  }
  yield* tcp_close(yield* ws_detach(s, 1000, null, 0, now() + 5000), now() + 5000);
}

/** One connection: the page, the WebSocket, or 404. */
function* connection(c: number) {
  let u = -1;
  try {
    const lines = suffix_attach(c, "\r\n", 2);
    let req;
    try {
      req = yield* readRequest(lines, now() + 10_000);
    } finally {
      u = yield* suffix_detach(lines, now() + 1000); // the bytestream back, with what was read ahead
    }
    const key = req.fields.get("sec-websocket-key");
    if (req.path === "/echo" && req.fields.get("upgrade")?.toLowerCase() === "websocket" && key !== undefined) {
      yield* sendText(
        u,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${ws_response_key(key)}\r\n\r\n`,
        now() + 5000,
      );
      const s = u;
      u = -1; // the WebSocket takes it over
      yield* echo(s);
      return;
    }
    const [status, body] = req.path === "/" ? ["200 OK", PAGE] : ["404 Not Found", "not found\n"];
    const type = req.path === "/" ? "text/html; charset=utf-8" : "text/plain";
    yield* sendText(
      u,
      `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
      now() + 5000,
    );
    const s = u;
    u = -1;
    yield* tcp_close(s, now() + 5000);
  } catch (e) {
    if (!isDillError(e)) throw e; // a broken or slow client ends its connection, not the server
  } finally {
    if (u >= 0) hclose(u);
  }
}

function* server(ls: number) {
  const conns = bundle();
  try {
    for (;;) bundle_go(conns, connection(yield* tcp_accept(ls, null, -1)));
  } finally {
    hclose(conns);
  }
}

/** A tsdill client: text and binary messages, each echoed with its type. */
function* client(port: number, id: number): Op<string> {
  const u = yield* tcp_connect(ipaddr_local("127.0.0.1", port, 0), now() + 5000);
  const s = yield* ws_attach_client(u, WS_TEXT, "/echo", `127.0.0.1:${port}`, now() + 5000);
  const buf = new Uint8Array(64);
  yield* ws_send(s, WS_TEXT, `client ${id}`, `client ${id}`.length, now() + 5000);
  const [n, f] = yield* ws_recv(s, buf, buf.length, now() + 5000);
  const text = Buffer.from(buf.subarray(0, n)).toString();
  yield* ws_send(s, WS_BINARY, new Uint8Array([id, 1, 2]), 3, now() + 5000);
  const [m, g] = yield* ws_recv(s, buf, buf.length, now() + 5000);
  yield* tcp_close(yield* ws_detach(s, 1000, null, 0, now() + 5000), now() + 5000);
  return f === WS_TEXT && text === `client ${id}` && g === WS_BINARY && m === 3 ? "ok" : "wrong echo";
}

/** A plain HTTP GET of the page: its status line. */
function* fetchPage(port: number): Op<string> {
  const u = yield* tcp_connect(ipaddr_local("127.0.0.1", port, 0), now() + 5000);
  yield* sendText(u, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", now() + 5000);
  const head = new Uint8Array(15);
  yield* brecv(u, head, head.length, now() + 5000);
  hclose(u);
  return Buffer.from(head).toString();
}

const clients = process.argv[2] === "--clients" ? Number(process.argv[3]) : 0;
const port = clients > 0 ? 0 : Number(process.argv[2] ?? 8080);

await run(function* main() {
  const addr = ipaddr_local("127.0.0.1", port, 0);
  const ls = yield* tcp_listen(addr, 64);
  console.log(`serving http://127.0.0.1:${ipaddr_port(addr)}/`);
  const srv = bundle();
  bundle_go(srv, server(ls));
  if (clients === 0) {
    yield* bundle_wait(srv, -1); // until the process is stopped
    return;
  }
  const results: string[] = [];
  const cs = bundle();
  for (let i = 1; i <= clients; i++)
    bundle_go(
      cs,
      (function* () {
        results.push(yield* client(ipaddr_port(addr), i));
      })(),
    );
  yield* bundle_wait(cs, now() + 10_000);
  hclose(cs);
  console.log(`page: ${yield* fetchPage(ipaddr_port(addr))}`);
  console.log(`clients: ${results.filter((r) => r === "ok").length} of ${clients} got their echoes`);
  hclose(srv); // cancels the accept loop and every connection still open
  hclose(ls);
});
if (clients > 0) {
  const st = dill_stats();
  console.log(`left open: ${st.coroutines} coroutines, ${Object.keys(st.handlesByKind).length} handles`);
}
