/**
 * WebSocket's failures: every errno of every call, a peer that breaks the protocol (written here
 * byte by byte on the other end of an ipc_pair), deadlines and cancellation on every blocking call.
 */
import { describe, expect, it } from "vitest";
import {
  BSOCK_TYPE,
  type Bytestream,
  chmake,
  chrecv,
  hmake,
  brecv,
  bsend,
  bundle,
  bundle_go,
  bundle_wait,
  dill_configure,
  dill_stats,
  hclose,
  ipc_pair,
  isDillError,
  mrecv,
  msend,
  msleep,
  now,
  type Op,
  run,
  WS_BINARY,
  WS_NOHTTP,
  WS_TEXT,
  ws_attach_client,
  ws_attach_server,
  ws_detach,
  ws_done,
  ws_attach_client_mem,
  ws_attach_server_mem,
  ws_recv,
  ws_sendl,
  WsStorage,
  ws_recvl,
  ws_request_key,
  ws_response_key,
  ws_send,
  ws_status,
} from "../src/index.js";

const D = () => now() + 10_000;

function* code(op: Op<unknown>): Op<string> {
  try {
    yield* op;
  } catch (e) {
    if (isDillError(e)) return e.code;
    throw e;
  }
  return "none";
}

/** A frame as a peer writes it: `b0` (FIN, opcode), the payload, masked when `mask` is set. */
function frame(b0: number, payload: Uint8Array | string, mask: boolean): Uint8Array {
  const p = typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload);
  const n = p.length;
  const head: number[] = [b0];
  const m = mask ? 0x80 : 0;
  if (n < 126) head.push(m | n);
  else if (n < 65536) head.push(m | 126, n >> 8, n & 0xff);
  else head.push(m | 127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  const key = [0x11, 0x22, 0x33, 0x44];
  if (mask) {
    head.push(...key);
    for (let i = 0; i < n; i++) p[i]! ^= key[i & 3]!;
  }
  return Buffer.concat([Buffer.from(head), p]);
}

/**
 * A WebSocket without HTTP on one end of a pair, the raw bytestream on the other; `server` says
 * which side the WebSocket is (the raw end then masks its frames as a client must).
 */
function* rawPair(server: boolean, flags = WS_BINARY): Op<[number, number]> {
  const [a, b] = yield* ipc_pair();
  const s = server
    ? (yield* ws_attach_server(a, flags | WS_NOHTTP, 0, 0, D()))[0]
    : yield* ws_attach_client(a, flags | WS_NOHTTP, null, null, D());
  return [s, b];
}

function* send(raw: number, bytes: Uint8Array): Op<void> {
  yield* bsend(raw, bytes, bytes.length, D());
}

describe("a peer that breaks RFC 6455", () => {
  const cases: [string, boolean, Uint8Array, string][] = [
    ["an unmasked frame from the client", true, frame(0x82, "x", false), "EPROTO"],
    ["a masked frame from the server", false, frame(0x82, "x", true), "EPROTO"],
    ["reserved bits set", true, frame(0xc2, "x", true), "EPROTO"],
    ["an unknown data opcode", true, frame(0x83, "x", true), "EPROTO"],
    ["an unknown control opcode", true, frame(0x8b, "x", true), "EPROTO"],
    ["a continuation frame outside a message", true, frame(0x80, "x", true), "EPROTO"],
    ["a fragmented control frame", true, frame(0x09, "x", true), "EPROTO"],
    ["a control frame over 125 bytes", true, frame(0x89, "x".repeat(126), true), "EPROTO"],
    ["a close frame of one byte", true, frame(0x88, "x", true), "EPROTO"],
    ["a close status below 1000", true, frame(0x88, Buffer.from([0x03, 0xe7]), true), "EPROTO"],
    ["a close status above 4999", true, frame(0x88, Buffer.from([0x13, 0x88]), true), "EPROTO"],
    [
      "a new message inside a fragmented one",
      true,
      Buffer.concat([frame(0x02, "a", true), frame(0x82, "b", true)]),
      "EPROTO",
    ],
    ["a 64-bit length with its top bit set", false, Buffer.from([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1]), "EPROTO"],
    ["a message longer than the buffer", true, frame(0x82, "0123456789", true), "EMSGSIZE"],
    [
      "fragments that add up to more than the buffer",
      true,
      Buffer.concat([frame(0x02, "01234", true), frame(0x80, "56789", true)]),
      "EMSGSIZE",
    ],
  ];
  for (const [what, server, bytes, errno] of cases) {
    it(`fails the receive with ${errno} on ${what}, and every later one with ECONNRESET`, async () => {
      await run(function* () {
        const [s, raw] = yield* rawPair(server);
        yield* send(raw, bytes);
        const buf = new Uint8Array(8);
        expect(yield* code(mrecv(s, buf, 8, D()))).toBe(errno);
        expect(yield* code(mrecv(s, buf, 8, D()))).toBe("ECONNRESET");
        expect(yield* code(ws_detach(s, 1000, null, 0, D()))).toBe("ECONNRESET");
        hclose(raw);
      });
    });
  }

  it("refuses on mrecv a message of the other type with EPROTO, and goes on", async () => {
    await run(function* () {
      const [s, raw] = yield* rawPair(true, WS_TEXT);
      yield* send(raw, frame(0x82, "bin", true));
      yield* send(raw, frame(0x81, "txt", true));
      const buf = new Uint8Array(8);
      expect(yield* code(mrecv(s, buf, 8, D()))).toBe("EPROTO");
      expect(yield* mrecv(s, buf, 8, D())).toBe(3);
      hclose(s);
      hclose(raw);
    });
  });

  it("answers a ping between the fragments of a message, which arrives whole", async () => {
    await run(function* () {
      const [s, raw] = yield* rawPair(true);
      yield* send(raw, Buffer.concat([frame(0x02, "ab", true), frame(0x89, "PING", true), frame(0x80, "cd", true)]));
      const buf = new Uint8Array(8);
      expect(yield* ws_recv(s, buf, 8, D())).toEqual([4, WS_BINARY]);
      const pong = new Uint8Array(6);
      yield* brecv(raw, pong, 6, D());
      expect([...pong]).toEqual([0x8a, 4, ...Buffer.from("PING")]);
      hclose(s);
      hclose(raw);
    });
  });
});

describe("the handshake with a peer that is not WebSocket", () => {
  /** Run the client handshake against `answer`; the errno it fails with. */
  function* clientAgainst(answer: (key: string) => string): Op<string> {
    const [a, b] = yield* ipc_pair();
    const b2 = bundle();
    bundle_go(
      b2,
      (function* () {
        const req = new Uint8Array(4096);
        let n = 0;
        while (!Buffer.from(req.subarray(0, n)).toString().endsWith("\r\n\r\n")) {
          yield* brecv(b, req.subarray(n), 1, D());
          n++;
        }
        const key = /Sec-WebSocket-Key: (\S+)/.exec(Buffer.from(req.subarray(0, n)).toString())![1]!;
        const out = Buffer.from(answer(key));
        yield* bsend(b, out, out.length, D());
        yield* msleep(now() + 50);
        hclose(b);
      })(),
    );
    const c = yield* code(ws_attach_client(a, WS_BINARY, "/", "h", D()));
    yield* bundle_wait(b2, D());
    hclose(b2);
    return c;
  }
  const ok = (k: string) => `Sec-WebSocket-Accept: ${ws_response_key(k)}\r\n`;
  const cases: [string, (k: string) => string, string][] = [
    ["a status other than 101", () => "HTTP/1.1 404 Not Found\r\n\r\n", "EPROTO"],
    ["no status line", () => "hello\r\n\r\n", "EPROTO"],
    [
      "a wrong accept key",
      () => "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n",
      "EPROTO",
    ],
    ["no Upgrade field", (k) => `HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n${ok(k)}\r\n`, "EPROTO"],
    ["no Connection field", (k) => `HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n${ok(k)}\r\n`, "EPROTO"],
    [
      "an extension that was not offered",
      (k) =>
        `HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${ok(k)}Sec-WebSocket-Extensions: x\r\n\r\n`,
      "EPROTO",
    ],
    ["a malformed field", () => "HTTP/1.1 101 OK\r\nno colon here\r\n\r\n", "EPROTO"],
    ["a line longer than 8192 bytes", () => "HTTP/1.1 101 " + "x".repeat(9000) + "\r\n\r\n", "EMSGSIZE"],
    ["the end of the stream", () => "HTTP/1.1 101 OK\r\n", "EPIPE"],
  ];
  for (const [what, answer, errno] of cases)
    it(`fails the client's attach with ${errno} on ${what}, closing the socket`, async () => {
      await run(function* () {
        expect(yield* clientAgainst(answer)).toBe(errno);
      });
    });

  /** Run the server handshake on `request`; the errno it fails with. */
  function* serverOn(request: string, resourcelen = 256, hostlen = 256): Op<string> {
    const [a, b] = yield* ipc_pair();
    const req = Buffer.from(request);
    yield* bsend(b, req, req.length, D());
    hclose(b); // the request, then the end of the stream
    return yield* code(ws_attach_server(a, WS_BINARY, resourcelen, hostlen, D()));
  }
  const key = ws_request_key();
  const good = (extra = "", skip = "") =>
    "GET /r HTTP/1.1\r\n" +
    ["Host: h", "Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Key: ${key}`, "Sec-WebSocket-Version: 13"]
      .filter((l) => !l.startsWith(skip) || skip === "")
      .map((l) => l + "\r\n")
      .join("") +
    extra +
    "\r\n";
  it("succeeds on a good request (the base of the rows below)", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const req = Buffer.from(good());
      yield* bsend(b, req, req.length, D());
      const [s, resource, host] = yield* ws_attach_server(a, WS_BINARY, 3, 2, D());
      expect([resource, host]).toEqual(["/r", "h"]);
      hclose(s);
      hclose(b);
    });
  });
  const rows: [string, () => Op<string>, string][] = [
    ["a POST", () => serverOn(good().replace("GET", "POST")), "EPROTO"],
    ["HTTP/1.0", () => serverOn(good().replace("HTTP/1.1", "HTTP/1.0")), "EPROTO"],
    ["no Upgrade", () => serverOn(good("", "Upgrade")), "EPROTO"],
    ["no Connection", () => serverOn(good("", "Connection")), "EPROTO"],
    ["no key", () => serverOn(good("", "Sec-WebSocket-Key")), "EPROTO"],
    ["no version", () => serverOn(good("", "Sec-WebSocket-Version")), "EPROTO"],
    ["version 8", () => serverOn(good().replace("Version: 13", "Version: 8")), "EPROTO"],
    ["a key that is not 16 bytes", () => serverOn(good().replace(key, "c2hvcnQ=")), "EPROTO"],
    ["two Host fields", () => serverOn(good("Host: x\r\n")), "EPROTO"],
    ["a resource longer than resourcelen - 1", () => serverOn(good(), 2), "EMSGSIZE"],
    ["a host longer than hostlen - 1", () => serverOn(good(), 256, 1), "EMSGSIZE"],
    ["the end of the stream", () => serverOn("GET / HTTP/1.1\r\n"), "EPIPE"],
  ];
  for (const [what, call, errno] of rows)
    it(`fails the server's attach with ${errno} on ${what}`, async () => {
      await run(function* () {
        expect(yield* call()).toBe(errno);
      });
    });
});

describe("the calls' own errors", () => {
  it("ws_status is EAGAIN before the close frame, EMSGSIZE for a short buffer", async () => {
    await run(function* () {
      const [s, raw] = yield* rawPair(true);
      expect(() => ws_status(s, null, 0)).toThrow(/EAGAIN/);
      yield* send(raw, frame(0x88, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from("long reason")]), true));
      expect(yield* code(mrecv(s, null, 0, D()))).toBe("EPIPE");
      expect(() => ws_status(s, new Uint8Array(4), 4)).toThrow(/EMSGSIZE/);
      expect(ws_status(s, new Uint8Array(11), 11)).toEqual([11, 1000]);
      hclose(s);
      hclose(raw);
    });
  });

  it("ws_done twice is EPIPE, and so is any send after it", async () => {
    await run(function* () {
      const [s, raw] = yield* rawPair(true);
      yield* ws_done(s, 1000, null, 0, D());
      expect(yield* code(ws_done(s, 1000, null, 0, D()))).toBe("EPIPE");
      expect(yield* code(msend(s, "x", 1, D()))).toBe("EPIPE");
      expect(yield* code(ws_send(s, WS_TEXT, "x", 1, D()))).toBe("EPIPE");
      const close = new Uint8Array(4);
      yield* brecv(raw, close, 4, D());
      expect([...close]).toEqual([0x88, 2, 0x03, 0xe8]);
      hclose(s);
      hclose(raw);
    });
  });

  it("a second receiver or sender while one waits is EBUSY, and so is ws_detach", async () => {
    await run(function* () {
      const [s, raw] = yield* rawPair(true);
      const b = bundle();
      bundle_go(
        b,
        (function* () {
          expect(yield* code(mrecv(s, null, 0, -1))).toBe("ECANCELED");
        })(),
      );
      yield* msleep(now() + 10);
      expect(yield* code(ws_recv(s, null, 0, D()))).toBe("EBUSY");
      expect(yield* code(ws_recvl(s, null, null, D()))).toBe("EBUSY");
      expect(yield* code(ws_detach(s, 0, null, 0, D()))).toBe("EBUSY");
      hclose(b);
      hclose(s);
      hclose(raw);
    });
  });

  it("a send that cannot finish (the peer reads nothing) is EBUSY for others, then ETIMEDOUT, then ECONNRESET", async () => {
    await run(function* () {
      const [s, raw] = yield* rawPair(false);
      const big = new Uint8Array(8 * 1024 * 1024);
      const b = bundle();
      bundle_go(
        b,
        (function* () {
          expect(yield* code(ws_send(s, WS_BINARY, big, big.length, now() + 200))).toBe("ETIMEDOUT");
        })(),
      );
      yield* msleep(now() + 20);
      expect(yield* code(msend(s, "x", 1, D()))).toBe("EBUSY");
      expect(yield* code(ws_done(s, 1000, null, 0, D()))).toBe("EBUSY");
      yield* bundle_wait(b, D());
      hclose(b);
      expect(yield* code(msend(s, "x", 1, D()))).toBe("ECONNRESET");
      hclose(s);
      hclose(raw);
    });
  });
});

describe("deadlines and cancellation", () => {
  /** Each blocking call, made on a socket whose peer never answers. */
  const calls: [string, (s: number) => Op<unknown>][] = [
    ["mrecv", (s) => mrecv(s, null, 0, now() + 30)],
    ["ws_recv", (s) => ws_recv(s, null, 0, now() + 30)],
    ["ws_recvl", (s) => ws_recvl(s, null, null, now() + 30)],
    ["ws_detach", (s) => ws_detach(s, 1000, null, 0, now() + 30)],
  ];
  for (const [name, call] of calls)
    it(`${name} fails with ETIMEDOUT at its deadline, ECANCELED when its coroutine is closed`, async () => {
      await run(function* () {
        const [s, raw] = yield* rawPair(true);
        expect(yield* code(call(s))).toBe("ETIMEDOUT");
        if (name !== "ws_detach") hclose(s);
        const [s2, raw2] = yield* rawPair(true);
        const b = bundle();
        bundle_go(
          b,
          (function* () {
            expect(yield* code(call(s2))).toBe("ECANCELED");
          })(),
        );
        yield* msleep(now() + 5);
        hclose(b);
        if (name !== "ws_detach") hclose(s2);
        hclose(raw);
        hclose(raw2);
      });
    });

  const attaches: [string, (u: number, d: number) => Op<unknown>][] = [
    ["ws_attach_client", (u, d) => ws_attach_client(u, WS_TEXT, "/", "h", d)],
    ["ws_attach_server", (u, d) => ws_attach_server(u, WS_TEXT, 256, 256, d)],
  ];
  for (const [name, call] of attaches)
    it(`${name} fails with ETIMEDOUT when the peer never answers, ECANCELED when cancelled`, async () => {
      await run(function* () {
        const [a, b] = yield* ipc_pair();
        expect(yield* code(call(a, now() + 30))).toBe("ETIMEDOUT");
        const [a2, b2] = yield* ipc_pair();
        const cr = bundle();
        bundle_go(
          cr,
          (function* () {
            expect(yield* code(call(a2, -1))).toBe("ECANCELED");
          })(),
        );
        yield* msleep(now() + 5);
        hclose(cr);
        hclose(b);
        hclose(b2);
      });
    });

  it("sends fail with ETIMEDOUT and ECANCELED too (a peer that reads nothing)", async () => {
    await run(function* () {
      const big = new Uint8Array(8 * 1024 * 1024);
      for (const send of [
        (s: number, d: number) => msend(s, big, big.length, d),
        (s: number, d: number) => ws_send(s, WS_BINARY, big, big.length, d),
      ]) {
        const [s, raw] = yield* rawPair(true);
        expect(yield* code(send(s, now() + 30))).toBe("ETIMEDOUT");
        const [s2, raw2] = yield* rawPair(true);
        const cr = bundle();
        bundle_go(
          cr,
          (function* () {
            expect(yield* code(send(s2, -1))).toBe("ECANCELED");
          })(),
        );
        yield* msleep(now() + 5);
        hclose(cr);
        hclose(s);
        hclose(s2);
        hclose(raw);
        hclose(raw2);
      }
    });
  });

  it("a cancelled coroutine's call fails at once with ECANCELED even with a message waiting", async () => {
    await run(function* () {
      const [s, raw] = yield* rawPair(true);
      yield* send(raw, frame(0x82, "x", true));
      const cr = bundle();
      bundle_go(
        cr,
        (function* () {
          try {
            yield* msleep(-1);
          } finally {
            expect(yield* code(mrecv(s, null, 0, 0))).toBe("ECANCELED");
            expect(yield* code(ws_done(s, 1000, null, 0, 0))).toBe("ECANCELED");
          }
        })(),
      );
      yield* msleep(now() + 5);
      hclose(cr);
      expect(yield* mrecv(s, null, 1, 0)).toBe(1);
      hclose(s);
      hclose(raw);
    });
  });

  it("fails with ENOMEM when the storage pool is used up, closing the bytestream", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      dill_configure({ pool: dill_stats().pool.used });
      try {
        expect(yield* code(ws_attach_server(a, WS_NOHTTP, 0, 0, D()))).toBe("ENOMEM");
      } finally {
        dill_configure({ pool: 1 << 20 });
      }
      hclose(b);
    });
  });
});

/**
 * A user's bytestream that never moves a byte: each call waits on a channel nobody uses, so it
 * ends only at its deadline or by cancellation, as a stuck peer's would.
 */
function stuckStream(): number {
  const [a, b] = chmake();
  const stuck = function* (_f: unknown, _l: unknown, deadline: number) {
    yield* chrecv(a, deadline);
  };
  const bs: Bytestream = { bsendl: stuck, brecvl: stuck };
  return hmake({
    query: (t) => (t === BSOCK_TYPE ? bs : undefined),
    close() {
      hclose(a);
      hclose(b);
    },
  });
}

describe("deadlines and cancellation over a bytestream that is stuck", () => {
  const calls: [string, (d: number) => Op<unknown>][] = [
    ["ws_attach_client_mem", (d) => ws_attach_client_mem(stuckStream(), WS_TEXT, "/", "h", new WsStorage(), d)],
    ["ws_attach_server_mem", (d) => ws_attach_server_mem(stuckStream(), WS_TEXT, 256, 256, new WsStorage(), d)],
    [
      "ws_done",
      function* (d) {
        const s = yield* ws_attach_client(stuckStream(), WS_NOHTTP, null, null, -1);
        try {
          yield* ws_done(s, 1000, "bye", 3, d);
        } finally {
          hclose(s);
        }
      },
    ],
    [
      "ws_sendl",
      function* (d) {
        const s = yield* ws_attach_client(stuckStream(), WS_NOHTTP, null, null, -1);
        const a = { iol_base: new Uint8Array(3), iol_len: 3, iol_next: null, iol_rsvd: 0 };
        try {
          yield* ws_sendl(s, WS_TEXT, a, a, d);
        } finally {
          hclose(s);
        }
      },
    ],
    [
      "ws_detach (sending its close frame)",
      function* (d) {
        const s = yield* ws_attach_server(stuckStream(), WS_NOHTTP, 0, 0, -1);
        yield* ws_detach(s[0], 1000, null, 0, d);
      },
    ],
  ];
  for (const [name, call] of calls)
    it(`${name} fails with ETIMEDOUT at its deadline and ECANCELED when cancelled, nothing left open`, async () => {
      await run(function* () {
        expect(yield* code(call(now() + 20))).toBe("ETIMEDOUT");
        const b = bundle();
        bundle_go(
          b,
          (function* () {
            expect(yield* code(call(-1))).toBe("ECANCELED");
          })(),
        );
        yield* msleep(now() + 5);
        hclose(b);
      });
    });
});
