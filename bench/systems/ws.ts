/**
 * WebSocket echo, 1 KiB text messages: a client sends one, the server sends it back, n times. In
 * tsdill, two coroutines of one process over a TCP connection on 127.0.0.1, the handshake done
 * before the clock starts; in the `ws` package, its client and server in one process the same way.
 */
import { once } from "node:events";
import { createRequire } from "node:module";

import lib from "../tsdill.js";
import type { Trials } from "../lib.js";
import { seconds } from "./sockets.js";

const { bundle, bundle_go, bundle_wait, hclose, ipaddr_local, ipaddr_port, mrecv, msend, run } = lib;
const { tcp_accept, tcp_connect, tcp_listen, WS_TEXT, ws_attach_client, ws_attach_server } = lib;

// Loaded at run time, not bundled into the measuring process's script: the package is CommonJS
// and requires Node's modules, which a bundled ES module cannot.
const { WebSocket, WebSocketServer } = createRequire(import.meta.url)("ws") as typeof import("ws");

const SIZE = 1024;

function* echoServer(ls: number, n: number) {
  const [s] = yield* ws_attach_server(yield* tcp_accept(ls, null, -1), WS_TEXT, 256, 256, -1);
  const buf = new Uint8Array(SIZE);
  for (let i = 0; i < n; i++) {
    const k = yield* mrecv(s, buf, SIZE, -1);
    yield* msend(s, buf, k, -1);
  }
  hclose(s);
}

function tsdillEcho(n: number): Promise<number> {
  return run(function* () {
    const addr = ipaddr_local("127.0.0.1", 0, 0);
    const ls = yield* tcp_listen(addr, 16);
    const b = bundle();
    bundle_go(b, echoServer(ls, n));
    const u = yield* tcp_connect(ipaddr_local("127.0.0.1", ipaddr_port(addr), 0), -1);
    const c = yield* ws_attach_client(u, WS_TEXT, "/", "localhost", -1);
    const msg = new Uint8Array(SIZE).fill(0x61);
    const buf = new Uint8Array(SIZE);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      yield* msend(c, msg, SIZE, -1);
      yield* mrecv(c, buf, SIZE, -1);
    }
    const dt = seconds(t0);
    yield* bundle_wait(b, -1);
    for (const h of [b, c, ls]) hclose(h);
    return n / dt;
  });
}

async function wsEcho(n: number): Promise<number> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(wss, "listening");
  wss.on("connection", (s: InstanceType<typeof WebSocket>) =>
    s.on("message", (data: Buffer, binary: boolean) => s.send(data, { binary })),
  );
  const { port } = wss.address() as { port: number };
  const c = new WebSocket(`ws://127.0.0.1:${port}/`);
  await once(c, "open");
  const msg = "a".repeat(SIZE);
  const t0 = process.hrtime.bigint();
  await new Promise<void>((done) => {
    let left = n;
    c.on("message", () => {
      if (--left === 0) done();
      else c.send(msg);
    });
    c.send(msg);
  });
  const dt = seconds(t0);
  c.terminate();
  await new Promise((r) => wss.close(r));
  return n / dt;
}

export const tsdill: Trials = { wsEcho: tsdillEcho };
export const net: Trials = { wsEcho };
