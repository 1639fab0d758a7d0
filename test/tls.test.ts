/**
 * TLS between tsdill peers: libdill's own tests/tls.c in tsdill's words, then TLS over every kind
 * of bytestream (IPC, TCP, ipc_pair, a user's hmake bytestream, TLS itself), bulk data both ways,
 * the half-close and detach semantics, and the storages. Failures, deadlines and cancellation are
 * in tls-errors.test.ts; openssl as the peer in tls-external.test.ts.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  BSOCK_TYPE,
  type Bytestream,
  brecv,
  brecvl,
  bsend,
  bsendl,
  bundle,
  bundle_go,
  bundle_wait,
  dill_configure,
  dill_stats,
  hclose,
  hmake,
  hquery,
  type IoList,
  ipaddr_local,
  ipaddr_port,
  msleep,
  ipc_accept,
  ipc_close,
  ipc_connect,
  ipc_listen,
  ipc_pair,
  now,
  type Op,
  run,
  tcp_accept,
  tcp_close,
  tcp_connect,
  tcp_listen,
  TLS_TYPE,
  tls_attach_client,
  tls_attach_client_mem,
  tls_attach_server,
  tls_attach_server_mem,
  tls_detach,
  tls_done,
  TlsStorage,
} from "../src/index.js";
import { type Certs, certsPerFile, codeOf, pattern, sha256 } from "./tls-helpers.js";

let c: Certs;
certsPerFile((x) => (c = x));

const D = () => now() + 10_000;

/** Launch `body` into a fresh bundle; the bundle's handle. */
function spawnIn(body: Generator<unknown, unknown, unknown>): number {
  const b = bundle();
  bundle_go(b, body);
  return b;
}

function* joined(b: number): Op<void> {
  yield* bundle_wait(b, D());
  hclose(b);
}

const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");

describe("libdill's tests/tls.c", () => {
  it("exchanges data with an explicit half-close on each side, then both detach", async () => {
    function* client(u: number) {
      const s = yield* tls_attach_client(u, D());
      yield* bsend(s, "ABC", 3, D());
      yield* tls_done(s, D());
      const buf = new Uint8Array(3);
      yield* brecv(s, buf, 3, D());
      expect(text(buf)).toBe("DEF");
      hclose(yield* tls_detach(s, D()));
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(client(b));
      const s = yield* tls_attach_server(a, c.cert, c.key, D());
      const buf = new Uint8Array(3);
      yield* brecv(s, buf, 3, D());
      expect(text(buf)).toBe("ABC");
      // The client's tls_done: everything it sent has arrived, then EPIPE.
      expect(yield* codeOf(brecv(s, buf, 3, D()))).toBe("EPIPE");
      yield* bsend(s, "DEF", 3, D());
      yield* tls_done(s, D());
      hclose(yield* tls_detach(s, D()));
      yield* joined(cr);
    });
  });

  it("detaches after a TLS exchange, and the plain bytes after it arrive on the underlying socket", async () => {
    function* client(u: number) {
      const s = yield* tls_attach_client(u, D());
      yield* bsend(s, "ABC", 3, D());
      const raw = yield* tls_detach(s, D());
      yield* bsend(raw, "DEF", 3, D());
      yield* ipc_close(raw, D());
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(client(b));
      const s = yield* tls_attach_server(a, c.cert, c.key, D());
      const buf = new Uint8Array(3);
      yield* brecv(s, buf, 3, D());
      expect(text(buf)).toBe("ABC");
      const raw = yield* tls_detach(s, D());
      yield* brecv(raw, buf, 3, D());
      expect(text(buf)).toBe("DEF");
      yield* ipc_close(raw, D());
      yield* joined(cr);
    });
  });

  it("carries 257 sends of 2777 bytes as 2777 receives of 257 bytes, every byte in order", async () => {
    function* client(u: number) {
      const s = yield* tls_attach_client(u, D());
      const b = new Uint8Array(2777);
      let x = 0;
      for (let i = 0; i < 257; i++) {
        for (let j = 0; j < b.length; j++) b[j] = x++ & 0xff;
        yield* bsend(s, b, b.length, D());
      }
      hclose(yield* tls_detach(s, D()));
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(client(b));
      const s = yield* tls_attach_server(a, c.cert, c.key, D());
      const buf = new Uint8Array(257);
      let x = 0;
      let bad = 0;
      for (let i = 0; i < 2777; i++) {
        yield* brecv(s, buf, buf.length, D());
        for (let j = 0; j < buf.length; j++) if (buf[j] !== (x++ & 0xff)) bad++;
      }
      expect(bad).toBe(0);
      hclose(yield* tls_detach(s, D()));
      yield* joined(cr);
    });
  });
});

/** Both directions at once, `size` bytes each way in `chunk`-byte calls, checksummed on arrival. */
function* duplex(s: number, size: number, chunk: number, seed: number, peerSeed: number) {
  const out = pattern(size, seed);
  const sender = spawnIn(
    (function* () {
      for (let off = 0; off < size; off += chunk) {
        const n = Math.min(chunk, size - off);
        yield* bsend(s, out.subarray(off, off + n), n, D());
      }
    })(),
  );
  const got = Buffer.alloc(size);
  for (let off = 0; off < size; off += chunk) {
    const n = Math.min(chunk, size - off);
    yield* brecv(s, got.subarray(off, off + n), n, D());
  }
  yield* joined(sender);
  expect(sha256(got)).toBe(sha256(pattern(size, peerSeed)));
}

const MB = 1024 * 1024;

describe("TLS over the transports", () => {
  it("runs between a tsdill client and server over IPC, 4 MB each way at once, checksummed", async () => {
    const addr = path.join(c.dir, "bulk.ipc");
    function* client() {
      const u = yield* ipc_connect(addr, D());
      const s = yield* tls_attach_client(u, D());
      yield* duplex(s, 4 * MB, 64 * 1024, 1, 2);
      yield* ipc_close(yield* tls_detach(s, D()), D());
    }
    await run(function* () {
      const ls = yield* ipc_listen(addr, 1);
      const cr = spawnIn(client());
      const u = yield* ipc_accept(ls, D());
      const s = yield* tls_attach_server(u, c.cert, c.key, D());
      yield* duplex(s, 4 * MB, 10_000, 2, 1);
      yield* ipc_close(yield* tls_detach(s, D()), D());
      yield* joined(cr);
      hclose(ls);
    });
  });

  it("runs between a tsdill client and server over TCP, 4 MB each way at once, checksummed", async () => {
    await run(function* () {
      // tcp_listen fills in the port the system chose.
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 1);
      expect(ipaddr_port(addr)).toBeGreaterThan(0);
      function* client() {
        const u = yield* tcp_connect(addr, D());
        const s = yield* tls_attach_client(u, D());
        yield* duplex(s, 4 * MB, 16 * 1024 + 1, 3, 4);
        yield* tcp_close(yield* tls_detach(s, D()), D());
      }
      const cr = spawnIn(client());
      const u = yield* tcp_accept(ls, null, D());
      const s = yield* tls_attach_server(u, c.cert, c.key, D());
      yield* duplex(s, 4 * MB, 100_000, 4, 3);
      yield* tcp_close(yield* tls_detach(s, D()), D());
      yield* joined(cr);
      hclose(ls);
    });
  });
});

/**
 * A bytestream of the user's own (hmake) that passes everything to another bytestream and counts
 * the bytes: TLS knows it only through BSOCK_TYPE.
 */
class Counting implements Bytestream {
  sent = 0;
  received = 0;
  constructor(readonly inner: number) {}
  *bsendl(first: IoList, last: IoList, deadline: number): Op<void> {
    for (let it: IoList | null = first; it !== null; it = it.iol_next) this.sent += it.iol_len;
    yield* bsendl(this.inner, first, last, deadline);
  }
  *brecvl(first: IoList, last: IoList, deadline: number): Op<void> {
    yield* brecvl(this.inner, first, last, deadline);
    for (let it: IoList | null = first; it !== null; it = it.iol_next) this.received += it.iol_len;
  }
}

function counting(inner: number): [number, Counting] {
  const obj = new Counting(inner);
  const h = hmake({ query: (t) => (t === BSOCK_TYPE ? obj : undefined), close: () => hclose(inner) });
  return [h, obj];
}

describe("TLS over any bytestream", () => {
  it("runs over a user's hmake bytestream, which carries only ciphertext", async () => {
    const secret = Buffer.from("attack at dawn, attack at dawn");
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const [ha, ca] = counting(a);
      const [hb, cb] = counting(b);
      const cr = spawnIn(
        (function* () {
          const s = yield* tls_attach_client(hb, D());
          yield* bsend(s, secret, secret.length, D());
          hclose(yield* tls_detach(s, D()));
        })(),
      );
      const s = yield* tls_attach_server(ha, c.cert, c.key, D());
      const buf = Buffer.alloc(secret.length);
      yield* brecv(s, buf, buf.length, D());
      expect(buf.equals(secret)).toBe(true);
      hclose(yield* tls_detach(s, D()));
      yield* joined(cr);
      // Everything each side sent, the other received, exactly: no byte read past the end of TLS.
      expect(ca.sent).toBe(cb.received);
      expect(cb.sent).toBe(ca.received);
      expect(cb.sent).toBeGreaterThan(secret.length);
    });
  });

  it("runs over TLS itself, and each layer detaches back to the one below", async () => {
    function* client(u: number) {
      const outer = yield* tls_attach_client(u, D());
      const inner = yield* tls_attach_client(outer, D());
      yield* bsend(inner, "inner", 5, D());
      const o = yield* tls_detach(inner, D());
      yield* bsend(o, "outer", 5, D());
      const raw = yield* tls_detach(o, D());
      yield* bsend(raw, "plain", 5, D());
      yield* ipc_close(raw, D());
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(client(b));
      const outer = yield* tls_attach_server(a, c.cert, c.key, D());
      expect(hquery(outer, TLS_TYPE)).toBeTruthy();
      const inner = yield* tls_attach_server(outer, c.cert, c.key, D());
      const buf = new Uint8Array(5);
      yield* brecv(inner, buf, 5, D());
      expect(text(buf)).toBe("inner");
      const o = yield* tls_detach(inner, D());
      yield* brecv(o, buf, 5, D());
      expect(text(buf)).toBe("outer");
      const raw = yield* tls_detach(o, D());
      yield* brecv(raw, buf, 5, D());
      expect(text(buf)).toBe("plain");
      yield* ipc_close(raw, D());
      yield* joined(cr);
    });
  });

  it("attaches again on a socket it was detached from, three sessions in a row", async () => {
    function* client(u: number) {
      for (let i = 0; i < 3; i++) {
        const s = yield* tls_attach_client(u, D());
        yield* bsend(s, `round ${i}`, 7, D());
        u = yield* tls_detach(s, D());
      }
      yield* ipc_close(u, D());
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(client(b));
      let u = a;
      const buf = new Uint8Array(7);
      for (let i = 0; i < 3; i++) {
        const s = yield* tls_attach_server(u, c.cert, c.key, D());
        yield* brecv(s, buf, 7, D());
        expect(text(buf)).toBe(`round ${i}`);
        u = yield* tls_detach(s, D());
      }
      yield* ipc_close(u, D());
      yield* joined(cr);
    });
  });
});

describe("TLS as a bytestream", () => {
  it("takes iolists both ways, skipping bytes where iol_base is null", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(
        (function* () {
          const s = yield* tls_attach_client(b, D());
          const z: IoList = { iol_base: Buffer.from("world"), iol_len: 5, iol_next: null, iol_rsvd: 0 };
          const y: IoList = { iol_base: Buffer.from("--"), iol_len: 2, iol_next: z, iol_rsvd: 0 };
          const x: IoList = { iol_base: Buffer.from("hello"), iol_len: 5, iol_next: y, iol_rsvd: 0 };
          yield* bsendl(s, x, z, D());
          yield* bsend(s, "!", 1, D());
          hclose(yield* tls_detach(s, D()));
        })(),
      );
      const s = yield* tls_attach_server(a, c.cert, c.key, D());
      const w = new Uint8Array(5);
      const h = new Uint8Array(5);
      const z: IoList = { iol_base: w, iol_len: 5, iol_next: null, iol_rsvd: 0 };
      const y: IoList = { iol_base: null, iol_len: 2, iol_next: z, iol_rsvd: 0 };
      const x: IoList = { iol_base: h, iol_len: 5, iol_next: y, iol_rsvd: 0 };
      yield* brecvl(s, x, z, D());
      expect([text(h), text(w)]).toEqual(["hello", "world"]);
      expect(x.iol_next).toBe(y);
      yield* brecv(s, null, 1, D());
      hclose(yield* tls_detach(s, D()));
      yield* joined(cr);
    });
  });

  it("half-closes with tls_done: no more sends, receiving goes on, the peer reads to EPIPE and still answers", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(
        (function* () {
          const s = yield* tls_attach_client(b, D());
          yield* bsend(s, "question", 8, D());
          yield* tls_done(s, D());
          expect(yield* codeOf(bsend(s, "x", 1, D()))).toBe("EPIPE");
          expect(yield* codeOf(tls_done(s, D()))).toBe("EPIPE");
          const buf = new Uint8Array(6);
          yield* brecv(s, buf, 6, D());
          expect(text(buf)).toBe("answer");
          expect(yield* codeOf(brecv(s, buf, 1, D()))).toBe("EPIPE");
          hclose(yield* tls_detach(s, D()));
        })(),
      );
      const s = yield* tls_attach_server(a, c.cert, c.key, D());
      const q = new Uint8Array(16);
      // Asking for more than was sent: the 8 bytes, then the end of the stream.
      expect(yield* codeOf(brecv(s, q, 16, D()))).toBe("EPIPE");
      // A receive that failed with EPIPE leaves the direction done: EPIPE again, at once.
      expect(yield* codeOf(brecv(s, q, 1, 0))).toBe("EPIPE");
      yield* bsend(s, "answer", 6, D());
      yield* tls_done(s, D());
      hclose(yield* tls_detach(s, D()));
      yield* joined(cr);
    });
  });

  it("answers hquery for BSOCK_TYPE and TLS_TYPE, and dill_stats counts it as tls", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(
        (function* () {
          const s = yield* tls_attach_client(b, D());
          hclose(yield* tls_detach(s, D()));
        })(),
      );
      const s = yield* tls_attach_server(a, c.cert, c.key, D());
      expect(hquery(s, TLS_TYPE)).toBe(hquery(s, BSOCK_TYPE));
      expect(dill_stats().handlesByKind.tls).toBe(1);
      hclose(yield* tls_detach(s, D()));
      yield* joined(cr);
    });
  });
});

describe("TLS storages", () => {
  it("keeps a socket in a TlsStorage: in use until detached, EBUSY meanwhile, free again after", async () => {
    const mem = new TlsStorage();
    const smem = new TlsStorage();
    function* client(u: number, n: number) {
      for (let i = 0; i < n; i++) {
        const s = yield* tls_attach_client_mem(u, mem, D());
        expect(mem.inUse).toBe(true);
        yield* bsend(s, "x", 1, D());
        u = yield* tls_detach(s, D());
        expect(mem.inUse).toBe(false);
      }
      hclose(u);
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(client(b, 2));
      let u = a;
      for (let i = 0; i < 2; i++) {
        const s = yield* tls_attach_server_mem(u, c.cert, c.key, smem, D());
        // In use: another attach is refused (and, as every failed attach, closes what it was given).
        const [x, y] = yield* ipc_pair();
        expect(yield* codeOf(tls_attach_server_mem(x, c.cert, c.key, smem, D()))).toBe("EBUSY");
        expect(yield* codeOf(brecv(y, null, 1, D()))).toBe("EPIPE");
        hclose(y);
        yield* brecv(s, null, 1, D());
        u = yield* tls_detach(s, D());
      }
      hclose(u);
      yield* joined(cr);
    });
    expect(dill_stats().pool.used).toBe(0);
  });

  it("fails with ENOMEM when the pool is used up, closing the socket it was given", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const used = dill_stats().pool.used;
      dill_configure({ pool: used });
      try {
        expect(yield* codeOf(tls_attach_client(a, D()))).toBe("ENOMEM");
      } finally {
        dill_configure({ pool: 1 << 20 });
      }
      expect(yield* codeOf(brecv(b, null, 1, D()))).toBe("EPIPE");
      hclose(b);
      // With room in the pool again, TLS works.
      const [x, y] = yield* ipc_pair();
      const cr = spawnIn(
        (function* () {
          const s = yield* tls_attach_client(x, D());
          yield* bsend(s, "ok", 2, D());
          hclose(yield* tls_detach(s, D()));
        })(),
      );
      const s = yield* tls_attach_server(y, c.cert, c.key, D());
      const buf = new Uint8Array(2);
      yield* brecv(s, buf, 2, D());
      expect(text(buf)).toBe("ok");
      hclose(yield* tls_detach(s, D()));
      yield* joined(cr);
    });
  });
});

describe("TLS on a fresh engine", () => {
  it("takes a ClientHello that was waiting before the server attached, in the tick the engine is made", async () => {
    // Node's stream under the engine flows only from the next tick: the record read at once is
    // taken in then, and the handshake waits for it.
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      let client = -1;
      const cr = spawnIn(
        (function* () {
          client = yield* tls_attach_client(b, D());
        })(),
      );
      yield* msleep(now() + 20); // the ClientHello is queued on `a`
      const s = yield* tls_attach_server(a, c.cert, c.key, D());
      yield* joined(cr);
      yield* bsend(client, "ok", 2, D());
      const buf = new Uint8Array(2);
      yield* brecv(s, buf, 2, D());
      expect(text(buf)).toBe("ok");
      hclose(s);
      hclose(client);
    });
  });
});

describe("TLS reading ahead", () => {
  it("reads several records at once over IPC, and tls_detach hands back the plain bytes that came right after the peer's close_notify", async () => {
    const secret = pattern(40_000, 7);
    const plain = pattern(300_000, 9);
    function* client(u: number) {
      const s = yield* tls_attach_client(u, D());
      yield* bsend(s, secret, secret.length, D());
      // The server's close_notify is here already: the detach returns at once, and the plain
      // bytes follow the client's close_notify on the stream with nothing in between.
      const raw = yield* tls_detach(s, D());
      yield* bsend(raw, plain, plain.length, D());
      yield* ipc_close(raw, D());
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(client(b));
      const s = yield* tls_attach_server(a, c.cert, c.key, D());
      yield* tls_done(s, D());
      // Everything (records, close_notify, plain bytes) waits on the socket before the first read.
      yield* msleep(now() + 100);
      const buf = Buffer.alloc(secret.length);
      yield* brecv(s, buf, buf.length, D());
      expect(buf.equals(secret)).toBe(true);
      expect(yield* codeOf(brecv(s, buf, 1, D()))).toBe("EPIPE");
      const raw = yield* tls_detach(s, D());
      const got = Buffer.alloc(plain.length);
      yield* brecv(raw, got, got.length, D());
      expect(sha256(got)).toBe(sha256(plain));
      expect(yield* codeOf(brecv(raw, got, 1, D()))).toBe("EPIPE");
      yield* ipc_close(raw, D());
      yield* joined(cr);
    });
  });

  it("hands back the bytes after the close_notify when detaching drops plaintext nobody read", async () => {
    const plain = pattern(70_000, 3);
    function* client(u: number) {
      const s = yield* tls_attach_client(u, D());
      const junk = pattern(200_000, 5);
      yield* bsend(s, junk, junk.length, D());
      const raw = yield* tls_detach(s, D());
      yield* bsend(raw, plain, plain.length, D());
      yield* ipc_close(raw, D());
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(client(b));
      const s = yield* tls_attach_server(a, c.cert, c.key, D());
      yield* tls_done(s, D());
      yield* msleep(now() + 50);
      // Never received: tls_detach drops it, and stops right after the close_notify.
      const raw = yield* tls_detach(s, D());
      const got = Buffer.alloc(plain.length);
      yield* brecv(raw, got, got.length, D());
      expect(got.equals(plain)).toBe(true);
      yield* ipc_close(raw, D());
      yield* joined(cr);
    });
  });

  it("reads exactly up to the end of TLS over a bytestream that cannot take bytes back", async () => {
    // A user's hmake bytestream offers bsendl and brecvl only: TLS reads each record's header,
    // then its body, and nothing after the close_notify.
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const [ha, ca] = counting(a);
      const [hb, cb] = counting(b);
      const cr = spawnIn(
        (function* () {
          const s = yield* tls_attach_client(hb, D());
          const big = pattern(100_000, 2);
          yield* bsend(s, big, big.length, D());
          const raw = yield* tls_detach(s, D());
          yield* bsend(raw, "after", 5, D());
          hclose(raw);
        })(),
      );
      const s = yield* tls_attach_server(ha, c.cert, c.key, D());
      const buf = Buffer.alloc(100_000);
      yield* brecv(s, buf, buf.length, D());
      expect(buf.equals(pattern(100_000, 2))).toBe(true);
      const raw = yield* tls_detach(s, D());
      const five = new Uint8Array(5);
      yield* brecv(raw, five, 5, D());
      expect(text(five)).toBe("after");
      hclose(raw);
      yield* joined(cr);
      expect(ca.received).toBe(cb.sent);
    });
  });
});

describe("TLS closed in the middle of a transfer", () => {
  const fds = () => readdirSync("/proc/self/fd").length;

  it("hclose on both ends while a send is blocked and records wait unread closes everything and leaves no descriptor open", async () => {
    await run(function* () {
      const before = fds();
      for (const transport of ["ipc_pair", "ipc"] as const) {
        let a: number;
        let b: number;
        let ls = -1;
        if (transport === "ipc_pair") [a, b] = yield* ipc_pair();
        else {
          const addr = path.join(c.dir, `mid-${Date.now()}.ipc`);
          ls = yield* ipc_listen(addr, 4);
          const acc = spawnIn(
            (function* () {
              a = yield* ipc_accept(ls, D());
            })(),
          );
          b = yield* ipc_connect(addr, D());
          yield* joined(acc);
        }
        const server = { s: -1 };
        const hs = spawnIn(
          (function* () {
            server.s = yield* tls_attach_server(a!, c.cert, c.key, D());
          })(),
        );
        const s = yield* tls_attach_client(b!, D());
        yield* joined(hs);
        let failed = "";
        const sender = spawnIn(
          (function* () {
            const chunk = pattern(64 * 1024, 1);
            try {
              for (;;) yield* bsend(s, chunk, chunk.length, D());
            } catch (e) {
              failed = (e as { code?: string }).code ?? String(e);
            }
          })(),
        );
        // Part of it received, so that ciphertext is read ahead, decrypted and queued.
        const buf = new Uint8Array(100_000);
        yield* brecv(server.s, buf, buf.length, D());
        hclose(server.s);
        yield* bundle_wait(sender, D());
        hclose(sender);
        expect(["EPIPE", "ECONNRESET"]).toContain(failed);
        hclose(s);
        if (ls >= 0) hclose(ls);
      }
      // Node closes a destroyed socket's descriptor on its next turn.
      yield* msleep(now() + 50);
      expect(fds()).toBe(before);
    });
  });
});
