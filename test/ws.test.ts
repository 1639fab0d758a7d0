/**
 * WebSocket: libdill's own tests/ws.c in tsdill's words, then the `ws` package as the peer both
 * ways over TCP (text and binary, fragmented messages, 16 MB, pings, close codes), WebSocket over
 * other bytestreams, and the storages. Failures, deadlines and cancellation are in
 * ws-errors.test.ts; a browser as the peer in ws-browser.test.ts.
 */
import { describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import {
  await_promise,
  bundle,
  bundle_go,
  bundle_wait,
  hclose,
  hquery,
  type IoList,
  ipaddr_local,
  ipaddr_port,
  ipc_pair,
  isDillError,
  mrecv,
  msend,
  now,
  type Op,
  prefix_attach,
  prefix_detach,
  run,
  tcp_accept,
  tcp_close,
  tcp_connect,
  tcp_listen,
  WS_BINARY,
  WS_NOHTTP,
  WS_TEXT,
  WS_TYPE,
  ws_attach_client,
  ws_attach_client_mem,
  ws_attach_server,
  ws_attach_server_mem,
  ws_detach,
  ws_done,
  ws_recv,
  ws_recvl,
  ws_request_key,
  ws_response_key,
  ws_send,
  ws_sendl,
  ws_status,
  WsStorage,
  bsend,
  brecv,
  tls_attach_client,
  tls_attach_server,
  tls_detach,
} from "../src/index.js";
import { type Certs, certsPerFile } from "./tls-helpers.js";

let certs: Certs;
certsPerFile((x) => (certs = x));

const D = () => now() + 10_000;
const text = (b: Uint8Array, n = b.length) => Buffer.from(b.buffer, b.byteOffset, n).toString("utf8");

function spawnIn(body: Generator<unknown, unknown, unknown>): number {
  const b = bundle();
  bundle_go(b, body);
  return b;
}

function* joined(b: number): Op<void> {
  yield* bundle_wait(b, D());
  hclose(b);
}

function* expectCode(op: Op<unknown>, code: string): Op<void> {
  try {
    yield* op;
  } catch (e) {
    if (isDillError(e) && e.code === code) return;
    throw e;
  }
  throw new Error(`expected ${code}`);
}

describe("libdill's tests/ws.c", () => {
  it("speaks without the HTTP handshake, text, and reports the server's close status and reason", async () => {
    function* client(u: number) {
      const s = yield* ws_attach_client(u, WS_NOHTTP | WS_TEXT, null, null, D());
      yield* msend(s, "ABC", 3, D());
      const buf = new Uint8Array(3);
      expect(yield* mrecv(s, buf, 3, D())).toBe(3);
      expect(text(buf)).toBe("DEF");
      yield* expectCode(mrecv(s, buf, 3, D()), "EPIPE");
      const [n, status] = ws_status(s, buf, 3);
      expect(status).toBe(1000);
      expect(text(buf, n)).toBe("OK");
      hclose(yield* ws_detach(s, 0, null, 0, D()));
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(client(b));
      const [s, resource, host] = yield* ws_attach_server(a, WS_NOHTTP | WS_TEXT, 0, 0, D());
      expect([resource, host]).toEqual(["", ""]);
      const buf = new Uint8Array(3);
      expect(yield* mrecv(s, buf, 3, D())).toBe(3);
      expect(text(buf)).toBe("ABC");
      yield* msend(s, "DEF", 3, D());
      hclose(yield* ws_detach(s, 1000, "OK", 2, D()));
      yield* joined(cr);
    });
  });

  it("does the HTTP handshake, binary, and returns the resource and host the client asked for", async () => {
    function* client(u: number) {
      const s = yield* ws_attach_client(u, WS_BINARY, "/", "www.example.org", D());
      yield* msend(s, "ABC", 3, D());
      const buf = new Uint8Array(3);
      expect(yield* mrecv(s, buf, 3, D())).toBe(3);
      expect(text(buf)).toBe("DEF");
      yield* expectCode(mrecv(s, buf, 3, D()), "EPIPE");
      expect(ws_status(s, buf, 3)).toEqual([0, 1000]);
      hclose(yield* ws_detach(s, 0, null, 0, D()));
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(client(b));
      const [s, resource, host] = yield* ws_attach_server(a, WS_BINARY, 256, 256, D());
      expect(resource).toBe("/");
      expect(host).toBe("www.example.org");
      const buf = new Uint8Array(3);
      expect(yield* mrecv(s, buf, 3, D())).toBe(3);
      expect(text(buf)).toBe("ABC");
      yield* msend(s, "DEF", 3, D());
      hclose(yield* ws_detach(s, 1000, null, 0, D()));
      yield* joined(cr);
    });
  });
});

describe("the keys", () => {
  it("computes RFC 6455's example accept key", () => {
    expect(ws_response_key("dGhlIHNhbXBsZSBub25jZQ==")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("makes fresh request keys that a server accepts", () => {
    const a = ws_request_key();
    const b = ws_request_key();
    expect(a).not.toBe(b);
    expect(Buffer.from(a, "base64").length).toBe(16);
    expect(ws_response_key(a)).toHaveLength(28);
  });
});

describe("between tsdill peers", () => {
  it("sends text and binary messages on one socket with ws_send and tells them apart with ws_recv", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      function* client() {
        const s = yield* ws_attach_client(b, WS_BINARY, "/x", "h", D());
        yield* ws_send(s, WS_TEXT, "héllo", 6, D());
        yield* ws_send(s, WS_BINARY, new Uint8Array([0, 1, 2]), 3, D());
        const x: IoList = { iol_base: Buffer.from("de"), iol_len: 2, iol_next: null, iol_rsvd: 0 };
        const y: IoList = { iol_base: Buffer.from("abc"), iol_len: 3, iol_next: x, iol_rsvd: 0 };
        yield* ws_sendl(s, WS_TEXT, y, x, D());
        yield* msend(s, "", 0, D());
        hclose(yield* ws_detach(s, 1000, null, 0, D()));
      }
      const cr = spawnIn(client());
      const [s] = yield* ws_attach_server(a, WS_TEXT, 256, 256, D());
      const buf = new Uint8Array(16);
      const [n1, f1] = yield* ws_recv(s, buf, 16, D());
      expect([text(buf, n1), f1]).toEqual(["héllo", WS_TEXT]);
      const [n2, f2] = yield* ws_recv(s, buf, 16, D());
      expect([n2, f2, [...buf.subarray(0, 3)]]).toEqual([3, WS_BINARY, [0, 1, 2]]);
      const p: IoList = { iol_base: new Uint8Array(10), iol_len: 10, iol_next: null, iol_rsvd: 0 };
      const q: IoList = { iol_base: new Uint8Array(2), iol_len: 2, iol_next: p, iol_rsvd: 0 };
      const [n3, f3] = yield* ws_recvl(s, q, p, D());
      expect([n3, f3, text(q.iol_base!) + text(p.iol_base!, 3)]).toEqual([5, WS_TEXT, "abcde"]);
      // msend on a binary socket: mrecv on this text socket refuses it.
      yield* expectCode(mrecv(s, buf, 16, D()), "EPROTO");
      yield* expectCode(mrecv(s, buf, 16, D()), "EPIPE");
      hclose(yield* ws_detach(s, 0, null, 0, D()));
      yield* joined(cr);
    });
  });

  it("runs over TCP, and over another protocol's bytestream, and hands the stream back where it ended", async () => {
    await run(function* () {
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 1);
      function* client() {
        const u = yield* tcp_connect(addr, D());
        const s = yield* ws_attach_client(u, WS_BINARY, "/", "localhost", D());
        yield* msend(s, "ping", 4, D());
        const u2 = yield* ws_detach(s, 1000, null, 0, D());
        // Plain bytes follow the close frames on the same connection.
        yield* bsend(u2, "after", 5, D());
        yield* tcp_close(u2, D());
      }
      const cr = spawnIn(client());
      const u = yield* tcp_accept(ls, null, D());
      const [s] = yield* ws_attach_server(u, WS_BINARY, 256, 256, D());
      expect(hquery(s, WS_TYPE)).toBeTruthy();
      const buf = new Uint8Array(5);
      expect(yield* mrecv(s, buf, 5, D())).toBe(4);
      const u2 = yield* ws_detach(s, 1000, null, 0, D());
      yield* brecv(u2, buf, 5, D());
      expect(text(buf)).toBe("after");
      yield* tcp_close(u2, D());
      yield* joined(cr);
      hclose(ls);
    });
  });

  it("runs over TLS over IPC (wss:// without a network), and both detach back to the plain stream", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(
        (function* () {
          const t = yield* tls_attach_client(b, D());
          const s = yield* ws_attach_client(t, WS_TEXT, "/secure", "localhost", D());
          yield* msend(s, "over TLS", 8, D());
          const t2 = yield* ws_detach(s, 1000, null, 0, D());
          hclose(yield* tls_detach(t2, D()));
        })(),
      );
      const t = yield* tls_attach_server(a, certs.cert, certs.key, D());
      const [s, resource] = yield* ws_attach_server(t, WS_TEXT, 256, 256, D());
      expect(resource).toBe("/secure");
      const buf = new Uint8Array(16);
      expect(text(buf, yield* mrecv(s, buf, 16, D()))).toBe("over TLS");
      const t2 = yield* ws_detach(s, 1000, null, 0, D());
      hclose(yield* tls_detach(t2, D()));
      yield* joined(cr);
    });
  });

  it("uses caller storage with the _mem attaches, reusable once closed", async () => {
    await run(function* () {
      const ma = new WsStorage();
      const mb = new WsStorage();
      for (let i = 0; i < 2; i++) {
        const [a, b] = yield* ipc_pair();
        const cr = spawnIn(
          (function* () {
            const s = yield* ws_attach_client_mem(b, WS_TEXT, "/", "h", mb, D());
            yield* msend(s, "x", 1, D());
            hclose(s);
          })(),
        );
        const [s] = yield* ws_attach_server_mem(a, WS_TEXT, 8, 8, ma, D());
        expect(ma.inUse).toBe(true);
        expect(yield* mrecv(s, null, 1, D())).toBe(1);
        yield* joined(cr);
        hclose(s);
        expect(ma.inUse || mb.inUse).toBe(false);
      }
    });
  });

  it("attaches over a prefix socket's bytestream after prefix_detach, and detaches back", async () => {
    await run(function* () {
      const [a0, b0] = yield* ipc_pair();
      const a = prefix_detach(prefix_attach(a0, 4, 0));
      const b = prefix_detach(prefix_attach(b0, 4, 0));
      const cr = spawnIn(
        (function* () {
          const s = yield* ws_attach_client(b, WS_NOHTTP, null, null, D());
          yield* msend(s, new Uint8Array(70_000), 70_000, D());
          hclose(yield* ws_detach(s, 1000, null, 0, D()));
        })(),
      );
      const [s] = yield* ws_attach_server(a, WS_NOHTTP, 0, 0, D());
      expect(yield* mrecv(s, new Uint8Array(70_000), 70_000, D())).toBe(70_000);
      hclose(yield* ws_detach(s, 1000, null, 0, D()));
      yield* joined(cr);
    });
  });
});

/** A tsdill TCP listener on a free port: its handle and the port. */
function* listener(): Op<[number, number]> {
  const addr = ipaddr_local("127.0.0.1", 0, 0);
  const ls = yield* tcp_listen(addr, 8);
  return [ls, ipaddr_port(addr)];
}

/** Waits for the `ws` client to open, from a coroutine. */
function opened(c: WebSocket): Promise<void> {
  return new Promise((res, rej) => {
    c.once("open", () => res());
    c.once("error", rej);
  });
}

describe("the ws package as the client, tsdill as the server", () => {
  it("echoes text and binary messages, fragmented ones whole, and a 16 MB one", async () => {
    const MB16 = 16 * 1024 * 1024;
    const big = Buffer.alloc(MB16);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    await run(function* () {
      const [ls, port] = yield* listener();
      const c = new WebSocket(`ws://127.0.0.1:${port}/echo?x=1`);
      const got: { data: Buffer; binary: boolean }[] = [];
      let wake: (() => void) | null = null;
      c.on("message", (data: Buffer, binary: boolean) => {
        got.push({ data, binary });
        wake?.();
      });
      const closed = new Promise<[number, string]>((res) =>
        c.on("close", (code, reason) => res([code, String(reason)])),
      );
      const u = yield* tcp_accept(ls, null, D());
      const [s, resource, host] = yield* ws_attach_server(u, WS_BINARY, 256, 256, D());
      expect(resource).toBe("/echo?x=1");
      expect(host).toBe(`127.0.0.1:${port}`);
      yield* await_promise(opened(c), D());
      c.send("hello, ünïcode");
      c.send(Buffer.from([1, 2, 3]));
      // Fragments: ws's `fin: false` sends continuation frames.
      c.send("frag-", { fin: false });
      c.send("ment", { fin: false });
      c.send("ed", { fin: true });
      c.send(big);
      const buf = new Uint8Array(MB16);
      for (let i = 0; i < 4; i++) {
        const [n, flags] = yield* ws_recv(s, buf, buf.length, D());
        yield* ws_send(s, flags, buf, n, D());
      }
      while (got.length < 4) yield* await_promise(new Promise<void>((r) => (wake = r)), D());
      expect(got[0]).toEqual({ data: Buffer.from("hello, ünïcode"), binary: false });
      expect(got[1]).toEqual({ data: Buffer.from([1, 2, 3]), binary: true });
      expect(got[2]!.data.toString()).toBe("frag-mented");
      expect(got[2]!.binary).toBe(false);
      expect(got[3]!.data.equals(big)).toBe(true);
      hclose(yield* ws_detach(s, 4000, "done here", 9, D()));
      expect(yield* await_promise(closed, D())).toEqual([4000, "done here"]);
      hclose(ls);
    });
  });

  it("answers the client's pings, and reports the close code and reason the client sent", async () => {
    await run(function* () {
      const [ls, port] = yield* listener();
      const c = new WebSocket(`ws://127.0.0.1:${port}/`);
      const pong = new Promise<string>((res) => c.on("pong", (d) => res(String(d))));
      const closed = new Promise<number>((res) => c.on("close", (code) => res(code)));
      const u = yield* tcp_accept(ls, null, D());
      const [s] = yield* ws_attach_server(u, WS_TEXT, 256, 256, D());
      yield* await_promise(opened(c), D());
      c.ping("are you there");
      c.send("after the ping");
      const buf = new Uint8Array(64);
      const n = yield* mrecv(s, buf, 64, D());
      expect(text(buf, n)).toBe("after the ping");
      expect(yield* await_promise(pong, D())).toBe("are you there");
      c.close(4321, "going away now");
      yield* expectCode(mrecv(s, buf, 64, D()), "EPIPE");
      const [rn, status] = ws_status(s, buf, 64);
      expect([status, text(buf, rn)]).toEqual([4321, "going away now"]);
      yield* expectCode(mrecv(s, buf, 64, D()), "EPIPE");
      hclose(yield* ws_detach(s, 4321, null, 0, D()));
      expect(yield* await_promise(closed, D())).toBe(4321);
      hclose(ls);
    });
  });
});

describe("the ws package as the server, tsdill as the client", () => {
  it("exchanges text, binary, fragmented and 16 MB messages, masked, and closes with a code", async () => {
    const MB16 = 16 * 1024 * 1024;
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    const serverSaw = new Promise<{ url: string; host: string; code: number; reason: string }>((res) => {
      wss.on("connection", (ws, req) => {
        ws.on("message", (data: Buffer, binary) => {
          if (!binary && data.toString() === "fragment me") {
            ws.send("part one, ", { fin: false });
            ws.send("part two", { fin: true });
          } else ws.send(data, { binary });
        });
        ws.on("close", (code, reason) => res({ url: req.url!, host: req.headers.host!, code, reason: String(reason) }));
      });
    });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    try {
      await run(function* () {
        const addr = ipaddr_local("127.0.0.1", yield_port(wss), 0);
        const u = yield* tcp_connect(addr, D());
        const s = yield* ws_attach_client(u, WS_TEXT, "/chat", "example.test", D());
        const buf = new Uint8Array(MB16);
        yield* msend(s, "hi ✓", 6, D());
        expect(text(buf, yield* mrecv(s, buf, buf.length, D()))).toBe("hi ✓");
        yield* ws_send(s, WS_BINARY, new Uint8Array([9, 8, 7]), 3, D());
        expect(yield* ws_recv(s, buf, buf.length, D())).toEqual([3, WS_BINARY]);
        yield* msend(s, "fragment me", 11, D());
        const [n, f] = yield* ws_recv(s, buf, buf.length, D());
        expect([text(buf, n), f]).toEqual(["part one, part two", WS_TEXT]);
        const big = new Uint8Array(MB16).fill(0x5a);
        big[MB16 - 1] = 1;
        yield* ws_send(s, WS_BINARY, big, MB16, D());
        buf.fill(0);
        expect(yield* ws_recv(s, buf, buf.length, D())).toEqual([MB16, WS_BINARY]);
        expect(Buffer.from(buf).equals(Buffer.from(big))).toBe(true);
        yield* ws_done(s, 1001, "leaving", 7, D());
        yield* expectCode(mrecv(s, buf, 16, D()), "EPIPE");
        expect(ws_status(s, null, 0)).toEqual([7, 1001]);
        yield* tcp_close(yield* ws_detach(s, 0, null, 0, D()), D());
      });
      expect(await serverSaw).toEqual({ url: "/chat", host: "example.test", code: 1001, reason: "leaving" });
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });

  it("answers the server's pings and reports a close without a status as 0", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    const pong = new Promise<string>((res) =>
      wss.on("connection", (ws) => {
        ws.on("pong", (d) => {
          res(String(d));
          ws.close();
        });
        ws.ping("p1");
        ws.send("x");
      }),
    );
    try {
      await run(function* () {
        const u = yield* tcp_connect(ipaddr_local("127.0.0.1", yield_port(wss), 0), D());
        const s = yield* ws_attach_client(u, WS_TEXT, "/", "localhost", D());
        const buf = new Uint8Array(8);
        expect(yield* mrecv(s, buf, 8, D())).toBe(1);
        yield* expectCode(mrecv(s, buf, 8, D()), "EPIPE");
        expect(ws_status(s, null, 0)).toEqual([0, 0]);
        hclose(yield* ws_detach(s, 1000, null, 0, D()));
      });
      expect(await pong).toBe("p1");
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });
});

function yield_port(wss: WebSocketServer): number {
  const a = wss.address();
  return typeof a === "object" && a !== null ? a.port : 0;
}
