import { describe, expect, it } from "vitest";
import {
  BSOCK_TYPE,
  type Bytestream,
  hquery,
  IPC_LISTENER_TYPE,
  IPC_TYPE,
  brecv,
  brecvl,
  bsend,
  bsendl,
  chmake,
  go,
  hclose,
  ipc_done,
  ipc_pair,
  msleep,
  now,
  run,
} from "../src/index.js";
import { codeOf, codeOfCall, expectNoFdLeak, openFds, pattern, iol, sendAll } from "./ipc-helpers.js";

expectNoFdLeak();

function* recvInto(s: number, buf: Uint8Array, out: { code: string }) {
  out.code = yield* codeOf(brecv(s, buf, buf.length, -1));
}

describe("bsend and brecv", () => {
  it("carry bytes and UTF-8 strings, and brecv with a null buffer skips bytes", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* bsend(a, "héllo", 6, -1);
      yield* bsend(a, new Uint8Array([1, 2, 3, 4]), 2, -1);
      yield* bsend(a, "", 0, -1);
      const buf = new Uint8Array(6);
      yield* brecv(b, buf, 6, now() + 1000);
      expect(Buffer.from(buf).toString()).toBe("héllo");
      yield* brecv(b, null, 1, now() + 1000);
      yield* brecv(b, buf, 1, now() + 1000);
      expect(buf[0]).toBe(2);
      hclose(a);
      hclose(b);
    });
  });

  it("fail with EINVAL for a bad length, a missing buffer or a bad deadline", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const buf = new Uint8Array(4);
      expect(yield* codeOf(bsend(a, buf, 5, -1))).toBe("EINVAL");
      expect(yield* codeOf(bsend(a, buf, -1, -1))).toBe("EINVAL");
      expect(yield* codeOf(bsend(a, buf, 1.5, -1))).toBe("EINVAL");
      expect(yield* codeOf(bsend(a, "ab", 3, -1))).toBe("EINVAL");
      expect(yield* codeOf(bsend(a, null as unknown as Uint8Array, 0, -1))).toBe("EINVAL");
      expect(yield* codeOf(bsend(a, buf, 1, -7))).toBe("EINVAL");
      expect(yield* codeOf(brecv(b, undefined as unknown as Uint8Array, 1, -1))).toBe("EINVAL");
      expect(yield* codeOf(brecv(b, buf, 5, -1))).toBe("EINVAL");
      expect(yield* codeOf(brecv(b, buf, 1, Infinity))).toBe("EINVAL");
      // argument errors do not break the socket
      yield* bsend(a, buf, 4, -1);
      yield* brecv(b, buf, 4, now() + 1000);
      hclose(a);
      hclose(b);
    });
  });

  it("fail with EBADF on a closed handle and ENOTSUP on a handle that is not a bytestream", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const [c, d]: number[] = chmake(); // plain numbers: the run-time check is under test
      hclose(a);
      expect(yield* codeOf(bsend(a, "x", 1, -1))).toBe("EBADF");
      expect(yield* codeOf(brecv(a, null, 1, -1))).toBe("EBADF");
      expect(yield* codeOf(bsend(c, "x", 1, -1))).toBe("ENOTSUP");
      expect(yield* codeOf(brecvl(d, iol(null, 1), iol(null, 1), -1))).toBe("ENOTSUP");
      for (const h of [b, c, d]) hclose(h);
    });
  });

  it("fail with EBUSY when a second coroutine sends, or receives, on the same handle", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const r = { code: "" };
      const rcr = go(recvInto(a, new Uint8Array(10), r));
      const w = { code: "", sent: 0 };
      const wcr = go(sendAll(a, new Uint8Array(16 << 20), 16 << 20, -1, w));
      yield* msleep(now() + 20);
      expect(yield* codeOf(brecv(a, null, 1, 0))).toBe("EBUSY");
      expect(yield* codeOf(bsend(a, "x", 1, 0))).toBe("EBUSY");
      hclose(rcr);
      hclose(wcr);
      expect(r.code).toBe("ECANCELED");
      expect(w.code).toBe("ECANCELED");
      hclose(a);
      hclose(b);
    });
  });

  it("wake a coroutine parked on a handle that another coroutine closes with EBADF", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const r = { code: "" };
      const rcr = go(recvInto(b, new Uint8Array(10), r));
      yield* msleep(now() + 10);
      hclose(b);
      yield* msleep(now() + 5);
      expect(r.code).toBe("EBADF");
      hclose(rcr);
      hclose(a);
    });
  });

  it("brecv fails with EPIPE after everything the peer sent before ipc_done was read, and stays so", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* bsend(a, "last words", 10, -1);
      yield* ipc_done(a, -1);
      expect(yield* codeOf(bsend(a, "x", 1, -1))).toBe("EPIPE");
      const buf = new Uint8Array(10);
      yield* brecv(b, buf, 10, now() + 1000);
      expect(Buffer.from(buf).toString()).toBe("last words");
      expect(yield* codeOf(brecv(b, buf, 1, now() + 1000))).toBe("EPIPE");
      expect(yield* codeOf(brecv(b, buf, 1, now() + 1000))).toBe("EPIPE");
      // the other direction still works
      yield* bsend(b, "ok", 2, -1);
      yield* brecv(a, buf, 2, now() + 1000);
      hclose(a);
      hclose(b);
    });
  });

  it("brecv fails with EPIPE when the peer closes in the middle of a message: a part is no message", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* bsend(a, "abc", 3, -1);
      hclose(a);
      expect(yield* codeOf(brecv(b, new Uint8Array(4), 4, now() + 1000))).toBe("EPIPE");
      hclose(b);
    });
  });

  it("fail with ECONNRESET when the peer closed with bytes it never read, and stay failed", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const w = { code: "", sent: 0 };
      const wcr = go(sendAll(a, new Uint8Array(8 << 20), 65536, now() + 5000, w));
      yield* msleep(now() + 50); // b's buffers fill up: the rest stays in the kernel, unread
      hclose(b);
      yield* msleep(now() + 20);
      expect(w.code).toBe("ECONNRESET");
      expect(yield* codeOf(brecv(a, null, 1, now() + 1000))).toBe("ECONNRESET");
      expect(yield* codeOf(bsend(a, "x", 1, -1))).toBe("ECONNRESET");
      hclose(wcr);
      hclose(a);
    });
  });

  it("brecv fails with ETIMEDOUT at its deadline (and at once with 0), after which the socket refuses receives", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const t0 = now();
      expect(yield* codeOf(brecv(b, null, 1, now() + 40))).toBe("ETIMEDOUT");
      expect(now() - t0).toBeGreaterThanOrEqual(35);
      yield* bsend(a, "xy", 2, -1);
      yield* msleep(now() + 10);
      expect(yield* codeOf(brecv(b, null, 1, 0))).toBe("ECONNRESET");
      const [c, d] = yield* ipc_pair();
      expect(yield* codeOf(brecv(d, null, 1, 0))).toBe("ETIMEDOUT");
      for (const h of [a, b, c, d]) hclose(h);
    });
  });

  it("brecv with deadline 0 succeeds when the bytes are already there", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      yield* bsend(a, "xyz", 3, -1);
      yield* msleep(now() + 10);
      const buf = new Uint8Array(3);
      yield* brecv(b, buf, 3, 0);
      expect(Buffer.from(buf).toString()).toBe("xyz");
      hclose(a);
      hclose(b);
    });
  });

  it("bsend fails with ETIMEDOUT when the peer does not read, then refuses to send", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const w = { code: "", sent: 0 };
      yield* sendAll(a, new Uint8Array(32 << 20), 65536, now() + 100, w);
      expect(w.code).toBe("ETIMEDOUT");
      expect(yield* codeOf(bsend(a, "x", 1, -1))).toBe("ECONNRESET");
      hclose(a);
      hclose(b);
    });
  });

  it("brecv and bsend fail with ECANCELED when their coroutine is cancelled", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const r = { code: "" };
      const rcr = go(recvInto(a, new Uint8Array(10), r));
      const w = { code: "", sent: 0 };
      const wcr = go(sendAll(a, new Uint8Array(32 << 20), 1 << 20, -1, w));
      yield* msleep(now() + 20);
      hclose(rcr);
      hclose(wcr);
      expect(r.code).toBe("ECANCELED");
      expect(w.code).toBe("ECANCELED");
      expect(yield* codeOf(brecv(a, null, 1, 0))).toBe("ECONNRESET");
      expect(yield* codeOf(bsend(a, "x", 1, 0))).toBe("ECONNRESET");
      hclose(a);
      hclose(b);
    });
  });

  it("a brecv of 1 MiB cancelled halfway leaves no coroutine, handle or fd behind", async () => {
    const fds = openFds();
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const r = { code: "" };
      const big = new Uint8Array(1 << 20);
      const rcr = go(recvInto(b, big, r));
      yield* bsend(a, pattern(512 << 10), 512 << 10, -1);
      yield* msleep(now() + 20);
      hclose(rcr);
      expect(r.code).toBe("ECANCELED");
      expect(big.subarray(0, 16)).toEqual(new Uint8Array(pattern(16)));
      hclose(a);
      hclose(b);
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(openFds()).toBe(fds);
  });
});

describe("the bytestream interface", () => {
  it("is what an IPC socket answers for BSOCK_TYPE; a listener answers IPC_LISTENER_TYPE only", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const bs = hquery(a, BSOCK_TYPE) as Bytestream;
      expect(hquery(a, IPC_TYPE)).toBe(bs);
      const msg = iol(Buffer.from("via interface"), 13);
      yield* bs.bsendl(msg, msg, -1, "bsendl");
      const got = iol(new Uint8Array(13), 13);
      yield* (hquery(b, BSOCK_TYPE) as Bytestream).brecvl(got, got, now() + 1000, "brecvl");
      expect(Buffer.from(got.iol_base!).toString()).toBe("via interface");
      expect(codeOfCall(() => hquery(a, IPC_LISTENER_TYPE))).toBe("ENOTSUP");
      hclose(a);
      hclose(b);
    });
  });
});

describe("backpressure", () => {
  it("a reader that does not read stops the sender, with bounded memory, and nothing is lost once it reads", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const data = pattern(16 << 20, 3);
      const w = { code: "", sent: 0 };
      const wcr = go(sendAll(a, data, 65536, -1, w));
      yield* msleep(now() + 100);
      // the sender is parked: kernel buffers plus tsdill's queue hold far less than 16 MiB
      expect(w.code).toBe("");
      expect(w.sent).toBeLessThan(4 << 20);
      const rss = process.memoryUsage().arrayBuffers;
      yield* msleep(now() + 50);
      expect(process.memoryUsage().arrayBuffers - rss).toBeLessThan(2 << 20);
      const got = new Uint8Array(data.length);
      yield* brecv(b, got, got.length, now() + 10_000);
      expect(Buffer.compare(got, data)).toBe(0);
      expect(w.code).toBe("OK");
      hclose(wcr);
      hclose(a);
      hclose(b);
    });
  });
});

describe("bsendl and brecvl", () => {
  it("send a fragmented message and receive it into other fragments, skipping null ones", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s3 = iol(Buffer.from("ghij"), 4);
      const s2 = iol(Buffer.from("XXdef"), 3, s3);
      const empty = iol(new Uint8Array(0), 0, s2);
      const s1 = iol(Buffer.from("abc"), 3, empty);
      yield* bsendl(a, s1, s3, -1);
      const r3 = iol(new Uint8Array(4), 4);
      const r2 = iol(null, 2, r3);
      const r1 = iol(new Uint8Array(4), 4, r2);
      yield* brecvl(b, r1, r3, now() + 1000);
      expect(Buffer.from(r1.iol_base!).toString()).toBe("abcX");
      expect(Buffer.from(r3.iol_base!).toString()).toBe("ghij");
      hclose(a);
      hclose(b);
    });
  });

  it("fail with ETIMEDOUT at the deadline and ECANCELED when cancelled, like bsend and brecv", async () => {
    function* recvl(s: number, out: { code: string }) {
      const b = iol(new Uint8Array(8), 8);
      const a = iol(new Uint8Array(8), 8, b);
      out.code = yield* codeOf(brecvl(s, a, b, -1));
    }
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const l2 = iol(new Uint8Array(4), 4);
      const l1 = iol(null, 4, l2);
      expect(yield* codeOf(brecvl(a, l1, l2, now() + 30))).toBe("ETIMEDOUT");
      const big = iol(new Uint8Array(32 << 20), 32 << 20);
      const head = iol(new Uint8Array(4), 4, big);
      expect(yield* codeOf(bsendl(a, head, big, now() + 50))).toBe("ETIMEDOUT");
      const [c, d] = yield* ipc_pair();
      const out = { code: "" };
      const cr = go(recvl(d, out));
      yield* msleep(now() + 10);
      hclose(cr);
      expect(out.code).toBe("ECANCELED");
      for (const h of [a, b, c, d]) hclose(h);
    });
  });

  it("fail with EINVAL for a malformed list and leave the list unchanged", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const buf = new Uint8Array(8);
      // last.iol_next not null
      const l2 = iol(buf, 1);
      const l1 = iol(buf, 1, l2);
      expect(yield* codeOf(bsendl(a, l2, l1, -1))).toBe("EINVAL");
      // last is not in the list
      const other = iol(buf, 1);
      expect(yield* codeOf(bsendl(a, l1, other, -1))).toBe("EINVAL");
      // a loop
      const x3 = iol(buf, 1);
      const x2 = iol(buf, 1, x3);
      const x1 = iol(buf, 1, x2);
      x3.iol_next = x1;
      const end = iol(buf, 1);
      expect(yield* codeOf(brecvl(b, x1, end, -1))).toBe("EINVAL");
      expect([x1.iol_rsvd, x2.iol_rsvd, x3.iol_rsvd]).toEqual([0, 0, 0]);
      expect(x3.iol_next).toBe(x1);
      // iol_rsvd set
      const r2 = iol(buf, 1);
      const r1 = iol(buf, 1, r2);
      r2.iol_rsvd = 7;
      expect(yield* codeOf(bsendl(a, r1, r2, -1))).toBe("EINVAL");
      expect([r1.iol_rsvd, r2.iol_rsvd]).toEqual([0, 7]);
      // a missing buffer on send, a length past the buffer
      expect(yield* codeOf(bsendl(a, iol(null, 1), iol(null, 1), -1))).toBe("EINVAL");
      const big = iol(buf, 9);
      expect(yield* codeOf(brecvl(b, big, big, -1))).toBe("EINVAL");
      // a good list is the same after a successful call
      const g2 = iol(buf, 2);
      const g1 = iol(buf, 3, g2);
      const before = JSON.stringify([g1.iol_len, g1.iol_rsvd, g2.iol_len, g2.iol_rsvd]);
      yield* bsendl(a, g1, g2, -1);
      yield* brecvl(b, g1, g2, now() + 1000);
      expect(JSON.stringify([g1.iol_len, g1.iol_rsvd, g2.iol_len, g2.iol_rsvd])).toBe(before);
      expect(g1.iol_next).toBe(g2);
      hclose(a);
      hclose(b);
    });
  });
});
