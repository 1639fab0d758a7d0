/**
 * TLS failures with libdill's errnos: handles that are no bytestream (EPROTO), certificates and
 * keys that cannot be used and peers that do not speak TLS (EFAULT), the end of the stream
 * (EPIPE), deadlines (ETIMEDOUT) and cancellation (ECANCELED) on every blocking call, calls that
 * collide (EBUSY), and what is left of a socket after each failure.
 */
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
  chmake,
  DillError,
  dill_stats,
  dill_yield,
  hclose,
  hmake,
  type IoList,
  ipc_pair,
  msleep,
  now,
  type Op,
  run,
  tls_attach_client,
  tls_attach_server,
  tls_detach,
  tls_done,
} from "../src/index.js";
import { type Certs, certsPerFile, codeOf, failure } from "./tls-helpers.js";

let c: Certs;
certsPerFile((x) => (c = x));

const D = () => now() + 10_000;

function spawnIn(body: Generator<unknown, unknown, unknown>): number {
  const b = bundle();
  bundle_go(b, body);
  return b;
}

function* joined(b: number): Op<void> {
  yield* bundle_wait(b, D());
  hclose(b);
}

/** A connected pair of TLS sockets over ipc_pair: `[client, server]`. */
function* tlsPair(): Op<[number, number]> {
  const [a, b] = yield* ipc_pair();
  let client = -1;
  const cr = spawnIn(
    (function* () {
      client = yield* tls_attach_client(b, D());
    })(),
  );
  const server = yield* tls_attach_server(a, c.cert, c.key, D());
  yield* joined(cr);
  return [client, server];
}

/** One byte across `a` to `b`: the two still talk. */
function* talks(a: number, b: number): Op<void> {
  yield* bsend(a, "!", 1, D());
  const buf = new Uint8Array(1);
  yield* brecv(b, buf, 1, D());
  expect(buf[0]).toBe(33);
}

/**
 * A bytestream (hmake) over another one that can be made to stall: while `stallSend` is set, a
 * send waits until its deadline and fails with ETIMEDOUT (or is cancelled), like a transport
 * whose peer reads nothing; `stallRecv` does the same to receives.
 */
class Stalling implements Bytestream {
  stallSend = false;
  stallRecv = false;
  constructor(public inner: number) {}
  *bsendl(first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    if (this.stallSend) {
      yield* msleep(deadline);
      throw new DillError("ETIMEDOUT", fn);
    }
    yield* bsendl(this.inner, first, last, deadline);
  }
  *brecvl(first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    if (this.stallRecv) {
      yield* msleep(deadline);
      throw new DillError("ETIMEDOUT", fn);
    }
    yield* brecvl(this.inner, first, last, deadline);
  }
}

function stalling(inner: number): [number, Stalling] {
  const obj = new Stalling(inner);
  return [hmake({ query: (t) => (t === BSOCK_TYPE ? obj : undefined), close: () => hclose(inner) }), obj];
}

/** A TLS pair whose client runs over a {@link Stalling} bytestream: `[client, server, its stalling]`. */
function* stalledPair(): Op<[number, number, Stalling]> {
  const [a, b] = yield* ipc_pair();
  const [hb, st] = stalling(b);
  let client = -1;
  const cr = spawnIn(
    (function* () {
      client = yield* tls_attach_client(hb, D());
    })(),
  );
  const server = yield* tls_attach_server(a, c.cert, c.key, D());
  yield* joined(cr);
  return [client, server, st];
}

describe("attaching TLS to what cannot carry it", () => {
  it("fails with EPROTO on a handle that is no bytestream, and closes it: an attach takes its handle over", async () => {
    await run(function* () {
      for (const server of [false, true]) {
        const [ch0, ch1] = chmake();
        const b = bundle();
        for (const h of [ch0, b] as number[]) {
          // plain numbers: the run-time check is under test
          const e = yield* failure(server ? tls_attach_server(h, c.cert, c.key, D()) : tls_attach_client(h, D()));
          expect(e.code).toBe("EPROTO");
          expect(e.errno).toBe(71);
          expect(e.message).toContain("'s'");
          expect(() => hclose(h)).toThrow(/EBADF/);
        }
        hclose(ch1);
      }
    });
  });

  it("fails with EBADF on a handle that is not open", async () => {
    await run(function* () {
      const [a, b]: number[] = yield* ipc_pair(); // plain numbers: the run-time check is under test
      hclose(a);
      expect(yield* codeOf(tls_attach_client(a, D()))).toBe("EBADF");
      expect(yield* codeOf(tls_detach(a, D()))).toBe("EBADF");
      hclose(b);
    });
  });

  it("fails with ENOTSUP for tls_done and tls_detach on a socket without TLS, which stays usable", async () => {
    await run(function* () {
      const [a, b]: number[] = yield* ipc_pair(); // plain numbers: the run-time check is under test
      expect(yield* codeOf(tls_done(a, D()))).toBe("ENOTSUP");
      expect(yield* codeOf(tls_detach(a, D()))).toBe("ENOTSUP");
      yield* talks(a, b);
      hclose(a);
      hclose(b);
    });
  });
});

describe("certificates and keys", () => {
  const cases: [string, (c: Certs) => [string, string], string, string][] = [
    ["a certificate file that does not exist", (c) => [`${c.dir}/missing.pem`, c.key], "cert", "ENOENT"],
    ["a key file that does not exist", (c) => [c.cert, `${c.dir}/missing.pem`], "pkey", "ENOENT"],
    ["a certificate file that holds no PEM", (c) => [c.junk, c.key], "cert", "no PEM certificate"],
    ["a key file that holds no PEM", (c) => [c.cert, c.junk], "pkey", "no usable PEM private key"],
    ["a key file given as the certificate", (c) => [c.key, c.key], "cert", "no PEM certificate"],
    ["the key of another certificate", (c) => [c.cert, c.otherKey], "pkey", "does not belong"],
    ["a directory as the certificate", (c) => [c.dir, c.key], "cert", "EISDIR"],
  ];
  it.each(cases)(
    "fails with EFAULT for %s, before the handshake, and closes the socket",
    async (_w, files, arg, why) => {
      await run(function* () {
        const [a, b] = yield* ipc_pair();
        let code = "";
        const cr = spawnIn(
          (function* () {
            code = yield* codeOf(tls_attach_client(b, D()));
          })(),
        );
        const [cert, key] = files(c);
        const e = yield* failure(tls_attach_server(a, cert, key, D()));
        expect(e.code).toBe("EFAULT");
        expect(e.errno).toBe(14);
        expect(e.message).toContain(`'${arg}'`);
        expect(e.message).toContain(why);
        // `a` was taken over and closed, its ClientHello unread: the client's handshake meets the
        // end of the stream, or its reset.
        yield* joined(cr);
        expect(["EPIPE", "ECONNRESET"]).toContain(code);
        expect(dill_stats().handlesByKind).toEqual({});
      });
    },
  );

  it("loads the files again when they change", async () => {
    const fs = await import("node:fs");
    const cert = `${c.dir}/rotating.pem`;
    const key = `${c.dir}/rotating-key.pem`;
    await run(function* () {
      for (const [cf, kf, ok] of [
        [c.cert, c.key, true],
        [c.otherCert, c.key, false], // the certificate changed, the key did not: they no longer match
        [c.otherCert, c.otherKey, true],
      ] as const) {
        fs.copyFileSync(cf, cert);
        fs.copyFileSync(kf, key);
        const [a, b] = yield* ipc_pair();
        if (ok) {
          let client = -1;
          const cr = spawnIn(
            (function* () {
              client = yield* tls_attach_client(b, D());
            })(),
          );
          const s = yield* tls_attach_server(a, cert, key, D());
          yield* joined(cr);
          yield* talks(client, s);
          hclose(s);
          hclose(client);
        } else {
          expect(yield* codeOf(tls_attach_server(a, cert, key, D()))).toBe("EFAULT");
          hclose(b);
        }
      }
    });
  });
});

describe("peers that do not speak TLS", () => {
  it("fails the server with EFAULT when the client sends something else, and closes the socket", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* bsend(b, "GET / HTTP/1.1\r\n\r\n", 18, D());
      const e = yield* failure(tls_attach_server(a, c.cert, c.key, D()));
      expect(e.code).toBe("EFAULT");
      expect(e.message).toContain("TLS failed");
      // `a` was taken over and closed (OpenSSL sends no alert to what looks like HTTP).
      expect(dill_stats().handlesByKind).toEqual({ ipc: 1 });
      expect(yield* codeOf(brecv(b, null, 1, D()))).toBe("EPIPE");
      hclose(b);
    });
  });

  it("fails the client with EFAULT when the server answers with something else", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(
        (function* () {
          const hello = new Uint8Array(5);
          yield* brecv(b, hello, 5, D());
          expect(hello[0]).toBe(22); // a handshake record
          yield* bsend(b, "HTTP/1.1 400 Bad Request\r\n\r\n", 28, D());
        })(),
      );
      expect(yield* codeOf(tls_attach_client(a, D()))).toBe("EFAULT");
      yield* joined(cr);
      hclose(b);
    });
  });

  it("fails with EFAULT on a record header announcing more than TLS allows", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* bsend(b, new Uint8Array([22, 3, 1, 0xff, 0xff]), 5, D());
      expect(yield* codeOf(tls_attach_server(a, c.cert, c.key, D()))).toBe("EFAULT");
      hclose(b);
    });
  });

  it("fails with EPIPE when the peer closes the stream in the middle of the handshake", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const cr = spawnIn(
        (function* () {
          const hello = new Uint8Array(5);
          yield* brecv(b, hello, 5, D());
          hclose(b);
        })(),
      );
      expect(yield* codeOf(tls_attach_client(a, D()))).toBe("EPIPE");
      yield* joined(cr);
    });
  });

  it("fails a receive with EFAULT when a record was tampered with, then ECONNRESET, and tls_detach closes everything", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      // The server side reads through a bytestream that flips a bit of the next body it reads.
      let tamper = false;
      const obj: Bytestream = {
        *bsendl(first, last, deadline) {
          yield* bsendl(a, first, last, deadline);
        },
        *brecvl(first, last, deadline) {
          yield* brecvl(a, first, last, deadline);
          if (tamper && first.iol_len > 5) {
            first.iol_base![2]! ^= 1;
            tamper = false;
          }
        },
      };
      const ha = hmake({ query: (t) => (t === BSOCK_TYPE ? obj : undefined), close: () => hclose(a) });
      let client = -1;
      const cr = spawnIn(
        (function* () {
          client = yield* tls_attach_client(b, D());
        })(),
      );
      const s = yield* tls_attach_server(ha, c.cert, c.key, D());
      yield* joined(cr);
      tamper = true;
      yield* bsend(client, "hello", 5, D());
      const buf = new Uint8Array(5);
      const e = yield* failure(brecv(s, buf, 5, D()));
      expect(e.code).toBe("EFAULT");
      expect(yield* codeOf(brecv(s, buf, 5, D()))).toBe("ECONNRESET");
      expect(yield* codeOf(tls_detach(s, D()))).toBe("ECONNRESET");
      // The TLS socket and the bytestream under it are gone; only the client is left.
      expect(dill_stats().handlesByKind).toEqual({ tls: 1, ipc: 1 });
      hclose(client);
    });
  });
});

describe("errors of the bytestream underneath", () => {
  it("pass through with their errno and what they said, under the name of the TLS call", async () => {
    await run(function* () {
      const [client, s, st] = yield* stalledPair();
      // The client's bytestream breaks with an error of its own.
      st.inner = -1;
      const e = yield* failure(bsend(client, "x", 1, D()));
      expect(e.code).toBe("EBADF");
      expect(e.syscall).toBe("bsend");
      expect(e.message).toContain("-1 is not an open handle");
      expect(yield* codeOf(bsend(client, "x", 1, D()))).toBe("ECONNRESET");
      hclose(client);
      hclose(s);
    });
  });
});

describe("deadlines", () => {
  it("times out tls_attach_client and tls_attach_server when the peer is silent, closing the socket", async () => {
    await run(function* () {
      for (const server of [false, true]) {
        const [a, b] = yield* ipc_pair();
        const t0 = now();
        const d = now() + 50;
        expect(yield* codeOf(server ? tls_attach_server(a, c.cert, c.key, d) : tls_attach_client(a, d))).toBe(
          "ETIMEDOUT",
        );
        expect(now()).toBeGreaterThanOrEqual(t0 + 50);
        // `a` is closed: `b` reads what the client had sent, then the end of the stream.
        while ((yield* codeOf(brecv(b, null, 1, D()))) === "OK");
        expect(yield* codeOf(brecv(b, null, 1, D()))).toBe("EPIPE");
        hclose(b);
      }
    });
  });

  it("times out an attach with deadline 0 at once: a handshake always waits for the peer", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      expect(yield* codeOf(tls_attach_client(a, 0))).toBe("ETIMEDOUT");
      hclose(b);
    });
  });

  it("times out a receive when nothing comes; the receiving side is then over (ECONNRESET), sending is not", async () => {
    await run(function* () {
      const [client, s] = yield* tlsPair();
      const buf = new Uint8Array(1);
      expect(yield* codeOf(brecv(s, buf, 1, now() + 30))).toBe("ETIMEDOUT");
      expect(yield* codeOf(brecv(s, buf, 1, 0))).toBe("ECONNRESET");
      yield* talks(s, client);
      expect(yield* codeOf(tls_detach(s, D()))).toBe("ECONNRESET");
      hclose(client);
    });
  });

  it("completes a receive with deadline 0 from what is already decrypted, and times out when it needs more", async () => {
    await run(function* () {
      const [client, s] = yield* tlsPair();
      yield* bsend(client, "abcdef", 6, D());
      const buf = new Uint8Array(3);
      yield* brecv(s, buf, 3, D()); // decrypts the record of six bytes
      yield* brecv(s, buf, 3, 0); // the other three are there already
      expect(Buffer.from(buf).toString()).toBe("def");
      expect(yield* codeOf(brecv(s, buf, 1, 0))).toBe("ETIMEDOUT");
      hclose(s);
      hclose(client);
    });
  });

  it("times out a send when the peer reads nothing; sending is then over (ECONNRESET)", async () => {
    await run(function* () {
      const [client, s] = yield* tlsPair();
      const big = new Uint8Array(1 << 20);
      let code = "OK";
      for (let i = 0; i < 64 && code === "OK"; i++) code = yield* codeOf(bsend(s, big, big.length, now() + 50));
      expect(code).toBe("ETIMEDOUT");
      expect(yield* codeOf(bsend(s, "x", 1, D()))).toBe("ECONNRESET");
      expect(yield* codeOf(tls_done(s, D()))).toBe("ECONNRESET");
      hclose(s);
      hclose(client);
    });
  });

  it("times out tls_done when its close_notify cannot go out", async () => {
    await run(function* () {
      const [client, s, st] = yield* stalledPair();
      st.stallSend = true;
      expect(yield* codeOf(tls_done(client, now() + 30))).toBe("ETIMEDOUT");
      expect(yield* codeOf(bsend(client, "x", 1, D()))).toBe("ECONNRESET");
      hclose(client);
      hclose(s);
    });
  });

  it("times out tls_detach when the peer never sends its close_notify, and closes everything", async () => {
    await run(function* () {
      const [client, s] = yield* tlsPair();
      expect(yield* codeOf(tls_detach(s, now() + 30))).toBe("ETIMEDOUT");
      expect(dill_stats().handlesByKind).toEqual({ tls: 1, ipc: 1 });
      // The client gets the server's close_notify (EPIPE), then its own detach finds the stream ended.
      expect(yield* codeOf(brecv(client, null, 1, D()))).toBe("EPIPE");
      hclose(client);
    });
  });
});

/**
 * Run `body` in a coroutine until it is parked in its blocking call (a few scheduling rounds),
 * cancel it with hclose, and return the code its call failed with.
 */
function* cancelled(body: (out: { code: string }) => Op<void>): Op<string> {
  const out = { code: "not run" };
  const b = spawnIn(
    (function* () {
      try {
        yield* body(out);
      } catch (e) {
        out.code = e instanceof DillError ? e.code : String(e);
        throw e;
      }
    })(),
  );
  for (let i = 0; i < 20; i++) yield* dill_yield();
  yield* msleep(now() + 20);
  hclose(b);
  return out.code;
}

describe("cancellation", () => {
  it("fails tls_attach_client and tls_attach_server with ECANCELED when their coroutine is closed, closing the socket", async () => {
    await run(function* () {
      for (const server of [false, true]) {
        const [a, b] = yield* ipc_pair();
        const code = yield* cancelled(function* () {
          yield* server ? tls_attach_server(a, c.cert, c.key, -1) : tls_attach_client(a, -1);
        });
        expect(code).toBe("ECANCELED");
        while ((yield* codeOf(brecv(b, null, 1, D()))) === "OK");
        hclose(b);
      }
    });
  });

  it("fails a parked receive with ECANCELED; receiving is then over", async () => {
    await run(function* () {
      const [client, s] = yield* tlsPair();
      const code = yield* cancelled(function* () {
        yield* brecv(s, new Uint8Array(1), 1, -1);
      });
      expect(code).toBe("ECANCELED");
      expect(yield* codeOf(brecv(s, null, 1, 0))).toBe("ECONNRESET");
      yield* talks(s, client);
      hclose(s);
      hclose(client);
    });
  });

  it("fails a send blocked on a peer that reads nothing with ECANCELED; sending is then over", async () => {
    await run(function* () {
      const [client, s] = yield* tlsPair();
      const code = yield* cancelled(function* () {
        const big = new Uint8Array(1 << 20);
        for (;;) yield* bsend(s, big, big.length, -1);
      });
      expect(code).toBe("ECANCELED");
      expect(yield* codeOf(bsend(s, "x", 1, D()))).toBe("ECONNRESET");
      hclose(s);
      hclose(client);
    });
  });

  it("fails tls_done and tls_detach with ECANCELED when their coroutine is closed", async () => {
    await run(function* () {
      const [client, s, st] = yield* stalledPair();
      st.stallSend = true;
      expect(
        yield* cancelled(function* () {
          yield* tls_done(client, -1);
        }),
      ).toBe("ECANCELED");
      expect(
        yield* cancelled(function* () {
          yield* tls_detach(s, -1); // waits for a close_notify that never comes
        }),
      ).toBe("ECANCELED");
      // The detach closed the server's TLS socket and its IPC socket; the client's TLS socket is
      // left, over its stalling bytestream, over its IPC socket.
      expect(dill_stats().handlesByKind).toEqual({ tls: 1, user: 1, ipc: 1 });
      hclose(client);
    });
  });

  it("fails at once with ECANCELED in a coroutine already cancelled, as every blocking call does", async () => {
    await run(function* () {
      const [client, s] = yield* tlsPair();
      const [a, b] = yield* ipc_pair();
      const codes: string[] = [];
      const cr = spawnIn(
        (function* () {
          try {
            yield* msleep(-1);
          } finally {
            codes.push(yield* codeOf(brecv(s, null, 1, D())));
            codes.push(yield* codeOf(bsend(s, "x", 1, D())));
            codes.push(yield* codeOf(tls_done(client, D())));
            codes.push(yield* codeOf(tls_attach_client(a, D())));
          }
        })(),
      );
      yield* dill_yield();
      hclose(cr);
      expect(codes).toEqual(["ECANCELED", "ECANCELED", "ECANCELED", "ECANCELED"]);
      // The failed attach closed `a`, as every failed attach closes what it was given.
      expect(() => hclose(a)).toThrow(/EBADF/);
      for (const h of [s, client, b]) hclose(h);
    });
  });
});

describe("calls that collide", () => {
  it("refuses a second receiver and a second sender with EBUSY, and tls_detach while either is busy", async () => {
    await run(function* () {
      const [client, s] = yield* tlsPair();
      const r = spawnIn(
        (function* () {
          yield* brecv(s, new Uint8Array(1), 1, D());
        })(),
      );
      yield* dill_yield();
      expect(yield* codeOf(brecv(s, null, 1, D()))).toBe("EBUSY");
      expect(yield* codeOf(tls_detach(s, D()))).toBe("EBUSY");
      // The receiver was not disturbed.
      yield* bsend(client, "!", 1, D());
      yield* joined(r);
      const w = spawnIn(
        (function* () {
          const big = new Uint8Array(4 << 20);
          yield* bsend(client, big, big.length, D());
        })(),
      );
      yield* dill_yield();
      expect(yield* codeOf(bsend(client, "x", 1, D()))).toBe("EBUSY");
      expect(yield* codeOf(tls_done(client, D()))).toBe("EBUSY");
      yield* brecv(s, null, 4 << 20, D());
      yield* joined(w);
      yield* talks(client, s);
      hclose(s);
      hclose(client);
    });
  });

  it("wakes a coroutine parked on a TLS socket with EBADF when the socket is closed", async () => {
    await run(function* () {
      const [client, s] = yield* tlsPair();
      let code = "";
      const r = spawnIn(
        (function* () {
          code = yield* codeOf(brecv(s, new Uint8Array(1), 1, D()));
        })(),
      );
      yield* dill_yield();
      hclose(s);
      yield* joined(r);
      expect(code).toBe("EBADF");
      // The peer sees the stream end without a close_notify.
      expect(yield* codeOf(brecv(client, null, 1, D()))).toBe("EPIPE");
      hclose(client);
    });
  });
});
