/**
 * prefix_attach, prefix_attach_mem, prefix_detach and the message calls over them: libdill's
 * tests/prefix.c, the wire format, every transport (TCP, IPC, ipc_pair, a user's bytestream),
 * every errno for real, deadlines and cancellation, storages, detaching without losing a byte.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  BSOCK_TYPE,
  brecv,
  bsend,
  bundle_wait,
  dill_yield,
  msleep,
  chmake,
  dill_stats,
  hclose,
  hquery,
  ipaddr_local,
  ipc_accept,
  ipc_connect,
  ipc_listen,
  ipc_pair,
  MSOCK_TYPE,
  mrecv,
  mrecvl,
  msend,
  msendl,
  now,
  PREFIX_BIG_ENDIAN,
  PREFIX_LITTLE_ENDIAN,
  prefix_attach,
  prefix_attach_mem,
  prefix_detach,
  PrefixStorage,
  run,
  tcp_accept,
  tcp_connect,
  tcp_listen,
  type Op,
} from "../src/index.js";
import {
  codeOf,
  codeOfCall,
  exhaustPool,
  expectNoFdLeak,
  fillHandleTable,
  pattern,
  tempDirPerFile,
} from "./ipc-helpers.js";
import { el, pythonPeer, recvText, spawn, userPair } from "./msg-helpers.js";

expectNoFdLeak();
let dir = "";
tempDirPerFile((d) => (dir = d));

describe("prefix, as libdill's tests/prefix.c", () => {
  it("exchanges messages over TCP with an 8-byte size field and detaches both ends", async () => {
    await run(function* () {
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 10);
      const client = spawn(
        (function* () {
          const s = yield* tcp_connect(addr, now() + 5000);
          const cs = prefix_attach(s, 8, 0);
          yield* msend(cs, "ABC", 3, -1);
          expect(yield* recvText(cs, -1, 3)).toBe("GHI");
          yield* msend(cs, "DEF", 3, -1);
          const ts = prefix_detach(cs);
          hclose(ts);
        })(),
      );
      const as = yield* tcp_accept(ls, null, now() + 5000);
      const cs = prefix_attach(as, 8, 0);
      expect(yield* recvText(cs, -1, 16)).toBe("ABC");
      yield* msend(cs, "GHI", 3, -1);
      expect(yield* recvText(cs, -1, 16)).toBe("DEF");
      hclose(prefix_detach(cs));
      yield* bundle_wait(client, -1);
      hclose(client);
      hclose(ls);
    });
  });

  it("frames little-endian over ipc_pair, one end in caller storage, and drops a message with mrecvl(null, null)", async () => {
    await run(function* () {
      const [h0, h1] = yield* ipc_pair();
      const s0 = prefix_attach(h0, 3, PREFIX_LITTLE_ENDIAN);
      const mem = new PrefixStorage();
      const s1 = prefix_attach_mem(h1, 3, PREFIX_LITTLE_ENDIAN, mem);
      yield* msend(s0, "First", 5, -1);
      yield* msend(s0, "Second", 6, -1);
      yield* msend(s0, "Third", 5, -1);
      expect(yield* recvText(s1, -1, 16)).toBe("First");
      expect(yield* mrecvl(s1, null, null, -1)).toBe(6);
      expect(yield* recvText(s1, -1, 16)).toBe("Third");
      yield* msend(s1, "Red", 3, -1);
      yield* msend(s1, "Blue", 4, -1);
      const ts1 = prefix_detach(s1);
      expect(mem.inUse).toBe(false);
      expect(yield* recvText(s0, -1, 16)).toBe("Red");
      expect(yield* recvText(s0, -1, 16)).toBe("Blue");
      const ts0 = prefix_detach(s0);
      hclose(ts1);
      hclose(ts0);
    });
  });
});

describe("prefix's wire format", () => {
  it("puts the size before the message, most significant byte first by default", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s = prefix_attach(a, 4, PREFIX_BIG_ENDIAN);
      const msg = pattern(300);
      yield* msend(s, msg, 300, -1);
      const raw = new Uint8Array(304);
      yield* brecv(b, raw, 304, now() + 1000);
      expect([...raw.subarray(0, 4)]).toEqual([0, 0, 1, 44]);
      expect(Buffer.compare(raw.subarray(4), msg)).toBe(0);
      hclose(s);
      hclose(b);
    });
  });

  it("puts the least significant byte first with PREFIX_LITTLE_ENDIAN, and reads sizes the same way", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s = prefix_attach(a, 2, PREFIX_LITTLE_ENDIAN);
      yield* msend(s, pattern(258), 258, -1);
      const raw = new Uint8Array(260);
      yield* brecv(b, raw, 260, now() + 1000);
      expect([...raw.subarray(0, 2)]).toEqual([2, 1]);
      // A size field of 1,0 little-endian is one byte.
      yield* bsend(b, new Uint8Array([1, 0, 0x41]), 3, -1);
      expect(yield* recvText(s, now() + 1000)).toBe("A");
      hclose(s);
      hclose(b);
    });
  });

  it("sends a message longer than its copy buffer as header plus list, and an empty message as its header alone", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s0 = prefix_attach(a, 4, 0);
      const s1 = prefix_attach(b, 4, 0);
      const big = pattern(200_000, 7);
      const tail = pattern(1000, 9);
      const second = el(tail, 1000);
      const first = el(big, big.length, second);
      const sender = spawn(
        (function* () {
          yield* msendl(s0, first, second, now() + 5000);
          yield* msend(s0, new Uint8Array(0), 0, now() + 5000);
        })(),
      );
      const got = new Uint8Array(201_000);
      expect(yield* mrecv(s1, got, got.length, now() + 5000)).toBe(201_000);
      expect(Buffer.compare(got.subarray(0, 200_000), big)).toBe(0);
      expect(Buffer.compare(got.subarray(200_000), tail)).toBe(0);
      expect(yield* mrecv(s1, got, got.length, now() + 5000)).toBe(0);
      yield* bundle_wait(sender, now() + 5000);
      hclose(sender);
      expect(first.iol_next).toBe(second);
      expect(second.iol_next).toBeNull();
      hclose(s0);
      hclose(s1);
    });
  });

  it("receives into a list of buffers with skipped parts, and leaves the list as it was", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s0 = prefix_attach(a, 2, 0);
      const s1 = prefix_attach(b, 2, 0);
      yield* msend(s0, "0123456789", 10, -1);
      const x = new Uint8Array(3);
      const z = new Uint8Array(20);
      const c = el(z, 20);
      const skip = el(null, 4, c);
      const first = el(x, 3, skip);
      expect(yield* mrecvl(s1, first, c, now() + 1000)).toBe(10);
      expect(Buffer.from(x).toString()).toBe("012");
      expect(Buffer.from(z.subarray(0, 3)).toString()).toBe("789");
      expect([first.iol_len, skip.iol_len, c.iol_len]).toEqual([3, 4, 20]);
      expect([first.iol_next, skip.iol_next, c.iol_next]).toEqual([skip, c, null]);
      hclose(s0);
      hclose(s1);
    });
  });
});

describe("prefix over every bytestream", () => {
  it("runs over IPC connections from ipc_listen and ipc_connect", async () => {
    await run(function* () {
      const addr = path.join(dir, "prefix.ipc");
      const ls = yield* ipc_listen(addr, 10);
      const c = yield* ipc_connect(addr, now() + 5000);
      const s = yield* ipc_accept(ls, now() + 5000);
      const p0 = prefix_attach(c, 4, 0);
      const p1 = prefix_attach(s, 4, 0);
      for (let i = 0; i < 100; i++) {
        yield* msend(p0, `message ${i}`, `message ${i}`.length, -1);
        expect(yield* recvText(p1, now() + 1000)).toBe(`message ${i}`);
      }
      hclose(p0);
      hclose(p1);
      hclose(ls);
    });
  });

  it("runs over a user's bytestream made with hmake, which has neither start calls nor read-ahead", async () => {
    await run(function* () {
      const [a, b] = userPair();
      const s0 = prefix_attach(a, 4, 0);
      const s1 = prefix_attach(b, 4, PREFIX_BIG_ENDIAN);
      const sender = spawn(
        (function* () {
          yield* msend(s0, "over channels", 13, -1);
          yield* msend(s0, pattern(5000), 5000, -1);
        })(),
      );
      expect(yield* recvText(s1, now() + 1000)).toBe("over channels");
      const big = new Uint8Array(6000);
      expect(yield* mrecv(s1, big, 6000, now() + 1000)).toBe(5000);
      expect(Buffer.compare(big.subarray(0, 5000), pattern(5000))).toBe(0);
      yield* bundle_wait(sender, now() + 1000);
      hclose(sender);
      const u = prefix_detach(s1);
      expect(hquery(u, BSOCK_TYPE)).toBeTruthy(); // the user's bytestream again, not a message socket
      expect(codeOfCall(() => hquery(u, MSOCK_TYPE))).toBe("ENOTSUP");
      hclose(u);
      hclose(s0);
    });
  });
});

describe("prefix with a foreign peer", () => {
  for (const [hdrlen, order, flags] of [
    [4, "big", PREFIX_BIG_ENDIAN],
    [2, "little", PREFIX_LITTLE_ENDIAN],
  ] as const) {
    it(`talks to a python3 program framing with a ${hdrlen}-byte ${order}-endian size, and detaches onto its raw bytes`, async () => {
      const addr = path.join(dir, `py-prefix-${hdrlen}.ipc`);
      let peer: ReturnType<typeof pythonPeer> | null = null;
      await run(function* () {
        const ls = yield* ipc_listen(addr, 10);
        peer = pythonPeer(["prefix", addr, String(hdrlen), order]);
        const c = yield* ipc_accept(ls, now() + 10_000);
        hclose(ls);
        const s = prefix_attach(c, hdrlen, flags);
        for (const m of ["hello", "", "x", "a".repeat(300), "b".repeat(40_000)]) {
          yield* msend(s, m, m.length, now() + 10_000);
          expect(yield* recvText(s, now() + 10_000, 50_000)).toBe("re:" + [...m].reverse().join(""));
        }
        yield* msend(s, "burst 200", 9, -1);
        for (let i = 0; i < 200; i++) expect(yield* recvText(s, now() + 10_000)).toBe(`line ${i}`);
        yield* msend(s, "bye", 3, -1);
        expect(yield* recvText(s, now() + 10_000)).toBe("done");
        const raw = prefix_detach(s);
        const tail = new Uint8Array(8);
        yield* brecv(raw, tail, 8, now() + 10_000);
        expect(Buffer.from(tail).toString()).toBe("RAW-TAIL");
        expect(yield* codeOf(brecv(raw, tail, 1, now() + 10_000))).toBe("EPIPE");
        hclose(raw);
      });
      expect(await peer!.done).toEqual({ code: 0, stderr: "" });
    });
  }
});

describe("prefix's errors, for real", () => {
  it("takes s over (its number no longer names the stream), and hclose of the prefix socket closes the stream too", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s = prefix_attach(a, 4, 0);
      expect(codeOfCall(() => hquery(a, BSOCK_TYPE))).not.toBe("OK");
      expect(hquery(s, MSOCK_TYPE)).toBeTruthy();
      expect(dill_stats().handlesByKind).toEqual({ ipc: 2, prefix: 1 });
      hclose(s);
      expect(dill_stats().handlesByKind).toEqual({ ipc: 1 });
      const one = new Uint8Array(1);
      expect(yield* codeOf(brecv(b, one, 1, now() + 1000))).toBe("EPIPE");
      hclose(b);
    });
  });

  it("fails with EPROTO over a handle that is no bytestream, and closes it", async () => {
    await run(function* () {
      const [c0, c1]: number[] = chmake(); // plain numbers: the run-time check is under test
      expect(codeOfCall(() => prefix_attach(c0, 4, 0))).toBe("EPROTO");
      expect(codeOfCall(() => hclose(c0))).toBe("EBADF");
      const [a, b] = yield* ipc_pair();
      const m: number = prefix_attach(a, 4, 0);
      expect(codeOfCall(() => prefix_attach(m, 4, 0))).toBe("EPROTO"); // a message socket is no bytestream
      expect(codeOfCall(() => hclose(m))).toBe("EBADF");
      hclose(c1);
      hclose(b);
    });
  });

  it("closes s when its arguments are bad, as libdill does, and leaves an invalid handle alone", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      expect(codeOfCall(() => prefix_attach(a, 0, 0))).toBe("EINVAL");
      expect(codeOfCall(() => hclose(a))).toBe("EBADF");
      expect(codeOfCall(() => prefix_attach(12345, 4, 0))).toBe("EBADF");
      hclose(b);
    });
  });

  it("fails with EMSGSIZE when a message is longer than the buffer; receiving is then over (ECONNRESET) and detaching closes all", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s0 = prefix_attach(a, 4, 0);
      const s1 = prefix_attach(b, 4, 0);
      yield* msend(s0, "0123456789", 10, -1);
      yield* msend(s0, "ok", 2, -1);
      const small = new Uint8Array(9);
      expect(yield* codeOf(mrecv(s1, small, 9, now() + 1000))).toBe("EMSGSIZE");
      expect(yield* codeOf(mrecv(s1, small, 9, now() + 1000))).toBe("ECONNRESET");
      yield* msend(s1, "still sends", 11, -1); // only receiving is over
      expect(yield* recvText(s0, now() + 1000)).toBe("still sends");
      expect(codeOfCall(() => prefix_detach(s1))).toBe("ECONNRESET");
      expect(codeOfCall(() => hclose(s1))).toBe("EBADF");
      expect(dill_stats().handlesByKind).toEqual({ ipc: 1, prefix: 1 });
      hclose(s0);
    });
  });

  it("fails with EMSGSIZE when a message does not fit the size field, and can still send", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s0 = prefix_attach(a, 1, 0);
      const s1 = prefix_attach(b, 1, 0);
      expect(yield* codeOf(msend(s0, pattern(256), 256, -1))).toBe("EMSGSIZE");
      yield* msend(s0, pattern(255), 255, -1);
      const got = new Uint8Array(255);
      expect(yield* mrecv(s1, got, 255, now() + 1000)).toBe(255);
      hclose(s0);
      hclose(s1);
    });
  });

  it("fails with EPIPE once the peer closed and every message was read, also in the middle of one", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s1 = prefix_attach(b, 4, 0);
      yield* bsend(a, new Uint8Array([0, 0, 0, 1, 65, 0, 0, 0, 9, 66]), 10, -1);
      hclose(a);
      expect(yield* recvText(s1, now() + 1000)).toBe("A");
      expect(yield* codeOf(mrecv(s1, new Uint8Array(20), 20, now() + 1000))).toBe("EPIPE");
      expect(yield* codeOf(mrecv(s1, new Uint8Array(20), 20, now() + 1000))).toBe("ECONNRESET");
      hclose(s1);
    });
  });
});

describe("prefix's deadlines, cancellation and concurrent use", () => {
  it("fails a receive with ETIMEDOUT at its deadline, and with deadline 0 when no message is there; receiving is then over", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s0 = prefix_attach(a, 4, 0);
      const s1 = prefix_attach(b, 4, 0);
      yield* msend(s0, "now", 3, -1);
      yield* dill_yield();
      yield* msleep(now() + 5);
      expect(yield* recvText(s1, 0)).toBe("now"); // already there: deadline 0 is enough
      expect(yield* codeOf(mrecv(s1, new Uint8Array(4), 4, 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(mrecv(s1, new Uint8Array(4), 4, now() + 20))).toBe("ECONNRESET");
      const [c, d] = yield* ipc_pair();
      const s2 = prefix_attach(c, 4, 0);
      const t0 = now();
      expect(yield* codeOf(mrecv(s2, new Uint8Array(4), 4, now() + 30))).toBe("ETIMEDOUT");
      expect(now() - t0).toBeGreaterThanOrEqual(29);
      for (const h of [s0, s1, s2, d]) hclose(h);
    });
  });

  it("fails a send with ETIMEDOUT when the peer does not read, and sending is then over", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s0 = prefix_attach(a, 4, 0);
      const big = new Uint8Array(16 << 20);
      expect(yield* codeOf(msend(s0, big, big.length, now() + 50))).toBe("ETIMEDOUT");
      expect(yield* codeOf(msend(s0, "x", 1, -1))).toBe("ECONNRESET");
      expect(codeOfCall(() => prefix_detach(s0))).toBe("ECONNRESET");
      hclose(b);
    });
  });

  it("fails a parked receive and a parked send with ECANCELED when their coroutine is cancelled", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const [c, d] = yield* ipc_pair();
      const s0 = prefix_attach(c, 4, 0);
      const s1 = prefix_attach(b, 4, 0);
      const out = { recv: "", send: "", after: "" };
      const r = spawn(
        (function* () {
          out.recv = yield* codeOf(mrecv(s1, new Uint8Array(8), 8, -1));
          out.after = yield* codeOf(msend(s1, "x", 1, -1));
        })(),
      );
      const big = new Uint8Array(16 << 20);
      const w = spawn(
        (function* () {
          out.send = yield* codeOf(msend(s0, big, big.length, -1));
        })(),
      );
      yield* dill_yield();
      yield* msleep(now() + 10);
      hclose(r);
      hclose(w);
      expect(out).toEqual({ recv: "ECANCELED", send: "ECANCELED", after: "ECANCELED" });
      expect(yield* codeOf(mrecv(s1, new Uint8Array(8), 8, 0))).toBe("ECONNRESET");
      expect(yield* codeOf(msend(s0, "x", 1, 0))).toBe("ECONNRESET");
      for (const h of [a, d, s0, s1]) hclose(h);
    });
  });

  it("refuses a second receiver and a second sender with EBUSY, and the first ones go on unharmed", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s0 = prefix_attach(a, 4, 0);
      const s1 = prefix_attach(b, 4, 0);
      const big = pattern(8 << 20);
      const got = new Uint8Array(big.length);
      const sizes: number[] = [];
      const r = spawn(
        (function* () {
          sizes.push(yield* mrecv(s1, got, got.length, now() + 10_000));
        })(),
      );
      const w = spawn(
        (function* () {
          yield* msend(s0, big, big.length, now() + 10_000);
        })(),
      );
      yield* dill_yield();
      expect(yield* codeOf(mrecv(s1, new Uint8Array(8), 8, -1))).toBe("EBUSY");
      expect(yield* codeOf(msend(s0, "x", 1, -1))).toBe("EBUSY");
      expect(codeOfCall(() => prefix_detach(s1))).toBe("EBUSY");
      expect(codeOfCall(() => prefix_detach(s0))).toBe("EBUSY");
      yield* bundle_wait(w, now() + 10_000);
      yield* bundle_wait(r, now() + 10_000);
      expect(sizes).toEqual([big.length]);
      expect(Buffer.compare(got, big)).toBe(0);
      hclose(r);
      hclose(w);
      hclose(prefix_detach(s0));
      hclose(prefix_detach(s1));
    });
  });
});

describe("prefix's storages and limits", () => {
  it("keeps a socket in caller storage: EBUSY while in use, free again after hclose or prefix_detach", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const mem = new PrefixStorage();
      const poolBefore = dill_stats().pool.used;
      const s = prefix_attach_mem(a, 4, 0, mem);
      expect(dill_stats().pool.used).toBe(poolBefore);
      expect(mem.inUse).toBe(true);
      expect(codeOfCall(() => prefix_attach_mem(b, 4, 0, mem))).toBe("EBUSY");
      expect(codeOfCall(() => hclose(b))).toBe("EBADF"); // the failed attach closed b
      const u = prefix_detach(s);
      expect(mem.inUse).toBe(false);
      const s2 = prefix_attach_mem(u, 2, PREFIX_LITTLE_ENDIAN, mem);
      hclose(s2);
      expect(mem.inUse).toBe(false);
    });
  });

  it("fails with ENOMEM when the pool is used up, closing s, and works again once there is room", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const restore = exhaustPool();
      try {
        expect(codeOfCall(() => prefix_attach(a, 4, 0))).toBe("ENOMEM");
      } finally {
        restore();
      }
      expect(codeOfCall(() => hclose(a))).toBe("EBADF");
      hclose(prefix_attach(b, 4, 0));
    });
  });

  it("fails with EMFILE when the handle table is full, closing s and leaving nothing behind", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const before = dill_stats().handles;
      const pool = dill_stats().pool.used;
      const restore = fillHandleTable();
      try {
        expect(codeOfCall(() => prefix_attach(a, 4, 0))).toBe("EMFILE");
      } finally {
        restore();
      }
      expect(dill_stats().handles).toBe(before - 1);
      expect(dill_stats().pool.used).toBe(pool); // the prefix storage went back
      // One free slot is enough: s moves to it, and the prefix socket takes the number s had.
      const restore1 = fillHandleTable(1);
      try {
        hclose(prefix_attach(b, 4, 0));
      } finally {
        restore1();
      }
    });
  });

  it("detaches right after the last message: the bytes behind it, sent in the same write, are the stream's", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s1 = prefix_attach(b, 2, 0);
      yield* bsend(a, Buffer.from([0, 3, 65, 66, 67, 0, 2, 68, 69, 120, 121, 122]), 12, -1);
      yield* dill_yield();
      yield* msleep(now() + 5); // all of it has arrived in one piece
      expect(yield* recvText(s1, now() + 1000)).toBe("ABC");
      expect(yield* recvText(s1, now() + 1000)).toBe("DE");
      const raw = prefix_detach(s1);
      const rest = new Uint8Array(3);
      yield* brecv(raw, rest, 3, now() + 1000);
      expect(Buffer.from(rest).toString()).toBe("xyz");
      const again = prefix_attach(raw, 1, 0);
      yield* bsend(a, Buffer.from([1, 70]), 2, -1);
      expect(yield* recvText(again, now() + 1000)).toBe("F");
      hclose(again);
      hclose(a);
    });
  });
});

describe("prefix reads every message however the stream is cut", () => {
  const streams: [string, () => Op<[number, number]>][] = [
    ["ipc_pair (read ahead)", ipc_pair],
    [
      "a user's bytestream that reads ahead through ops",
      function* () {
        return userPair(true);
      },
    ],
    [
      "a user's bytestream without read-ahead",
      function* () {
        return userPair(false);
      },
    ],
  ];
  for (const [name, make] of streams) {
    it(`over ${name}: sizes from 0 to beyond the read-ahead buffer, headers split across reads, then raw bytes`, async () => {
      await run(function* () {
        const [a, b] = yield* make();
        const sizes = [0, 1, 3, 64, 255, 8190, 8191, 8192, 20_000, 2, 0, 70_000, 5];
        const parts: Buffer[] = [];
        for (const [i, n] of sizes.entries())
          parts.push(Buffer.from([0, n >> 16, (n >> 8) & 255, n & 255]), pattern(n, i + 1));
        parts.push(Buffer.from("TAIL"));
        const wire = Buffer.concat(parts);
        const w = spawn(
          (function* () {
            // Pieces of 1, 2, 3 ... 700 bytes, so that headers and messages are cut everywhere.
            for (let off = 0, k = 1; off < wire.length; k = (k % 700) + 1) {
              const n = Math.min(k, wire.length - off);
              yield* bsend(a, wire.subarray(off, off + n), n, -1);
              off += n;
            }
          })(),
        );
        const s = prefix_attach(b, 4, 0);
        const buf = new Uint8Array(80_000);
        for (const [i, n] of sizes.entries()) {
          expect(yield* mrecv(s, buf, buf.length, now() + 10_000)).toBe(n);
          expect(Buffer.compare(buf.subarray(0, n), pattern(n, i + 1))).toBe(0);
        }
        const raw = prefix_detach(s);
        const tail = new Uint8Array(4);
        yield* brecv(raw, tail, 4, now() + 10_000);
        expect(Buffer.from(tail).toString()).toBe("TAIL");
        yield* bundle_wait(w, now() + 10_000);
        hclose(w);
        hclose(raw);
        hclose(a);
      });
    });
  }
});
