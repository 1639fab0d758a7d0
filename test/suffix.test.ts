/**
 * suffix_attach, suffix_attach_mem, suffix_detach and the message calls over them: libdill's
 * tests/suffix.c, a python3 peer, delimiters split across reads in every way (read ahead over IPC
 * and over a user's bytestream, exact reads over one that cannot read ahead), every errno for
 * real, deadlines and cancellation, storages, and detaching without losing read-ahead bytes.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  BSOCK_TYPE,
  brecv,
  bsend,
  bundle_wait,
  dill_stats,
  dill_yield,
  hclose,
  ipaddr_local,
  ipc_accept,
  ipc_listen,
  ipc_pair,
  mrecv,
  mrecvl,
  msend,
  msendl,
  msleep,
  now,
  run,
  suffix_attach,
  suffix_attach_mem,
  suffix_detach,
  SuffixStorage,
  tcp_accept,
  tcp_connect,
  tcp_listen,
  type IoList,
  type Op,
} from "../src/index.js";
import { codeOf, codeOfCall, exhaustPool, expectNoFdLeak, pattern, tempDirPerFile } from "./ipc-helpers.js";
import { el, pythonPeer, recvText, spawn, userPair } from "./msg-helpers.js";

expectNoFdLeak();
let dir = "";
tempDirPerFile((d) => (dir = d));

describe("suffix, as libdill's tests/suffix.c", () => {
  it("exchanges CRLF-delimited messages over TCP and detaches both ends", async () => {
    await run(function* () {
      const addr = ipaddr_local("127.0.0.1", 0, 0);
      const ls = yield* tcp_listen(addr, 10);
      const client = spawn(
        (function* () {
          const s = yield* tcp_connect(addr, now() + 5000);
          const cs = suffix_attach(s, "\r\n", 2);
          yield* msend(cs, "ABC", 3, -1);
          expect(yield* recvText(cs, -1, 3)).toBe("GHI");
          yield* msend(cs, "DEF", 3, -1);
          hclose(yield* suffix_detach(cs, -1));
        })(),
      );
      const as = yield* tcp_accept(ls, null, now() + 5000);
      const cs = suffix_attach(as, "\r\n", 2);
      expect(yield* recvText(cs, -1, 16)).toBe("ABC");
      yield* msend(cs, "GHI", 3, -1);
      expect(yield* recvText(cs, -1, 16)).toBe("DEF");
      hclose(yield* suffix_detach(cs, -1));
      yield* bundle_wait(client, -1);
      hclose(client);
      hclose(ls);
    });
  });

  it("frames with a 10-byte delimiter over ipc_pair, one end in caller storage, and drops a message into an endless skip", async () => {
    await run(function* () {
      const [h0, h1] = yield* ipc_pair();
      const s0 = suffix_attach(h0, "1234567890", 10);
      const mem = new SuffixStorage();
      const s1 = suffix_attach_mem(h1, "1234567890", 10, mem);
      yield* msend(s0, "First", 5, -1);
      yield* msend(s0, "Second", 6, -1);
      yield* msend(s0, "Third", 5, -1);
      expect(yield* recvText(s1, -1, 16)).toBe("First");
      const skip = el(null, Number.MAX_SAFE_INTEGER);
      expect(yield* mrecvl(s1, skip, skip, -1)).toBe(6);
      expect(yield* recvText(s1, -1, 16)).toBe("Third");
      yield* msend(s1, "Red", 3, -1);
      yield* msend(s1, "Blue", 4, -1);
      const ts1 = yield* suffix_detach(s1, -1);
      expect(mem.inUse).toBe(false);
      expect(yield* recvText(s0, -1, 16)).toBe("Red");
      expect(yield* recvText(s0, -1, 16)).toBe("Blue");
      const ts0 = yield* suffix_detach(s0, -1);
      hclose(ts1);
      hclose(ts0);
    });
  });
});

/** A small deterministic generator of numbers in [0, n). */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/**
 * Messages over the alphabet of `delim` and one other letter, each one such that message +
 * delimiter holds the delimiter only at its end (else the receiver would rightly cut it
 * earlier), and the stream of all of them.
 */
function messages(delim: string, count: number, seed: number): { msgs: string[]; wire: Buffer } {
  const next = rng(seed);
  const letters = [...new Set(delim + "z")];
  const msgs: string[] = [];
  while (msgs.length < count) {
    const len = next(4) === 0 ? next(3000) : next(40);
    let m = "";
    for (let i = 0; i < len; i++) m += letters[next(letters.length)];
    if ((m + delim).indexOf(delim) === m.length) msgs.push(m);
  }
  return { msgs, wire: Buffer.from(msgs.map((m) => m + delim).join("")) };
}

/** Send `wire` on the bytestream `s` in pieces of random sizes (1 byte upwards). */
function* sendInPieces(s: number, wire: Buffer, seed: number) {
  const next = rng(seed);
  for (let off = 0; off < wire.length;) {
    const n = Math.min(wire.length - off, next(3) === 0 ? 1 + next(3) : 1 + next(700));
    yield* bsend(s, wire.subarray(off, off + n), n, -1);
    off += n;
    if (next(4) === 0) yield* msleep(now() + 1);
  }
}

describe("suffix finds every delimiter, however the stream is cut", () => {
  const delims = ["\n", "\r\n", "aab", "abab", "1234567890"];
  const streams: [string, () => Op<[number, number]>][] = [
    ["ipc_pair (read ahead, start calls)", ipc_pair],
    [
      "a user's bytestream that reads ahead through ops",
      function* () {
        return userPair(true);
      },
    ],
    [
      "a user's bytestream without read-ahead (exact reads)",
      function* () {
        return userPair(false);
      },
    ],
  ];
  for (const [name, make] of streams) {
    for (const delim of delims) {
      it(`over ${name}, delimiter ${JSON.stringify(delim)}`, async () => {
        await run(function* () {
          const [a, b] = yield* make();
          const { msgs, wire } = messages(delim, 150, delim.length * 7 + name.length);
          const w = spawn(sendInPieces(a, wire, 3));
          const s = suffix_attach(b, delim, Buffer.byteLength(delim));
          const buf = new Uint8Array(4000);
          for (const m of msgs) {
            const n = yield* mrecv(s, buf, buf.length, now() + 10_000);
            expect(Buffer.from(buf.subarray(0, n)).toString()).toBe(m);
          }
          yield* bundle_wait(w, now() + 10_000);
          hclose(w);
          hclose(yield* suffix_detach(s, -1));
          hclose(a);
        });
      });
    }
  }
});

describe("suffix's wire format and lists", () => {
  it("sends the message then the delimiter, in one piece or as a list for a large message", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s = suffix_attach(a, "\r\n", 2);
      yield* msend(s, "hi", 2, -1);
      const raw = new Uint8Array(4);
      yield* brecv(b, raw, 4, now() + 1000);
      expect(Buffer.from(raw).toString()).toBe("hi\r\n");
      const big = Buffer.alloc(100_000, "q");
      const part2 = el(Buffer.from("END"), 3);
      const part1 = el(big, big.length, part2);
      const w = spawn(msendl(s, part1, part2, now() + 5000));
      const got = new Uint8Array(100_005);
      yield* brecv(b, got, got.length, now() + 5000);
      expect(Buffer.from(got.subarray(99_998)).toString()).toBe("qqEND\r\n");
      yield* bundle_wait(w, now() + 5000);
      hclose(w);
      expect(part2.iol_next).toBeNull();
      hclose(s);
      hclose(b);
    });
  });

  it("receives a line longer than its read-ahead buffer, into a list with a skipped part", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s0 = suffix_attach(a, "\n", 1);
      const s1 = suffix_attach(b, "\n", 1);
      const line = Buffer.from(pattern(50_000).toString("hex").slice(0, 50_000));
      const w = spawn(msend(s0, line, line.length, now() + 5000));
      const head = new Uint8Array(10);
      const tail = new Uint8Array(60_000);
      const c: IoList = el(tail, tail.length);
      const skip: IoList = el(null, 5, c);
      const first: IoList = el(head, 10, skip);
      expect(yield* mrecvl(s1, first, c, now() + 5000)).toBe(50_000);
      expect(Buffer.compare(head, line.subarray(0, 10))).toBe(0);
      expect(Buffer.compare(tail.subarray(0, 50_000 - 15), line.subarray(15))).toBe(0);
      expect([first.iol_next, skip.iol_next, c.iol_next]).toEqual([skip, c, null]);
      yield* bundle_wait(w, now() + 5000);
      hclose(w);
      hclose(s0);
      hclose(s1);
    });
  });

  it("receives an empty message between two delimiters", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s = suffix_attach(b, "\r\n", 2);
      yield* bsend(a, "\r\nx\r\n", 5, -1);
      expect(yield* recvText(s, now() + 1000)).toBe("");
      expect(yield* recvText(s, now() + 1000)).toBe("x");
      hclose(s);
      hclose(a);
    });
  });
});

describe("suffix with a foreign peer", () => {
  for (const delim of ["\r\n", "\n", "END."]) {
    it(`talks to a python3 program splitting on ${JSON.stringify(delim)}, and detaches onto its raw bytes`, async () => {
      const addr = path.join(dir, `py-suffix-${delim.length}.ipc`);
      let peer: ReturnType<typeof pythonPeer> | null = null;
      await run(function* () {
        const ls = yield* ipc_listen(addr, 10);
        peer = pythonPeer(["suffix", addr, Buffer.from(delim).toString("hex")]);
        const c = yield* ipc_accept(ls, now() + 10_000);
        hclose(ls);
        const s = suffix_attach(c, delim, delim.length);
        for (const m of ["hello", "", "x", "a".repeat(20_000)]) {
          yield* msend(s, m, m.length, now() + 10_000);
          expect(yield* recvText(s, now() + 10_000, 30_000)).toBe("re:" + [...m].reverse().join(""));
        }
        yield* msend(s, "burst 300", 9, -1);
        for (let i = 0; i < 300; i++) expect(yield* recvText(s, now() + 10_000)).toBe(`line ${i}`);
        yield* msend(s, "bye", 3, -1);
        expect(yield* recvText(s, now() + 10_000)).toBe("done");
        // "done" + delimiter + "RAW-TAIL" came in one write: the tail was read ahead, and is handed back.
        const raw = yield* suffix_detach(s, now() + 1000);
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

describe("suffix_detach hands back what was read ahead", () => {
  for (const [name, make] of [
    ["ipc_pair", ipc_pair],
    [
      "a user's bytestream that reads ahead",
      function* () {
        return userPair(true);
      },
    ],
  ] as const) {
    it(`over ${name}: the next reader gets every byte behind the last delimiter, then the end of the stream`, async () => {
      await run(function* () {
        const [a, b] = yield* make();
        const s = suffix_attach(b, "\r\n", 2);
        const w = spawn(
          (function* () {
            const wire = Buffer.from("one\r\ntwo\r\nthree\r\n\r\nBINARY\x00\x01");
            yield* bsend(a, wire, wire.length, -1);
            hclose(a);
          })(),
        );
        expect(yield* recvText(s, now() + 1000)).toBe("one");
        expect(yield* recvText(s, now() + 1000)).toBe("two");
        const u = yield* suffix_detach(s, now() + 1000);
        const again = suffix_attach(u, "\r\n", 2);
        expect(yield* recvText(again, now() + 1000)).toBe("three");
        expect(yield* recvText(again, now() + 1000)).toBe("");
        const raw = yield* suffix_detach(again, now() + 1000);
        const rest = new Uint8Array(8);
        yield* brecv(raw, rest, 8, now() + 1000);
        expect([...rest]).toEqual([...Buffer.from("BINARY\x00\x01")]);
        expect(yield* codeOf(brecv(raw, rest, 1, now() + 1000))).toBe("EPIPE");
        yield* bundle_wait(w, now() + 1000);
        hclose(w);
        hclose(raw);
      });
    });
  }
});

describe("suffix's errors, for real", () => {
  it("fails with EMSGSIZE when a message is longer than the buffer; receiving is then over and detaching closes all", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s = suffix_attach(b, "\n", 1);
      yield* bsend(a, "0123456789\nok\n", 14, -1);
      expect(yield* codeOf(mrecv(s, new Uint8Array(9), 9, now() + 1000))).toBe("EMSGSIZE");
      expect(yield* codeOf(mrecv(s, new Uint8Array(99), 99, now() + 1000))).toBe("ECONNRESET");
      expect(yield* codeOf(suffix_detach(s, -1))).toBe("ECONNRESET");
      expect(dill_stats().handlesByKind).toEqual({ ipc: 1 });
      hclose(a);
    });
  });

  it("fits a message of exactly the buffer's size, whose delimiter comes in a later read", async () => {
    await run(function* () {
      const [a, b] = userPair(true);
      const s = suffix_attach(b, "\r\n", 2);
      const w = spawn(
        (function* () {
          yield* bsend(a, "abc\r", 4, -1);
          yield* bsend(a, "\n", 1, -1);
        })(),
      );
      expect(yield* recvText(s, now() + 1000, 3)).toBe("abc");
      yield* bundle_wait(w, now() + 1000);
      hclose(w);
      hclose(s);
      hclose(a);
    });
  });

  it("fails with EPIPE when the stream ends, also inside a message", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s = suffix_attach(b, "\n", 1);
      yield* bsend(a, "whole\npart", 10, -1);
      hclose(a);
      expect(yield* recvText(s, now() + 1000)).toBe("whole");
      expect(yield* codeOf(mrecv(s, new Uint8Array(99), 99, now() + 1000))).toBe("EPIPE");
      expect(yield* codeOf(mrecv(s, new Uint8Array(99), 99, now() + 1000))).toBe("ECONNRESET");
      hclose(s);
    });
  });

  it("fails with EPROTO over a message socket, closing it, and takes s over when it attaches", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s: number = suffix_attach(a, "\n", 1); // plain numbers: the run-time check is under test
      expect(codeOfCall(() => suffix_attach(s, "\n", 1))).toBe("EPROTO");
      expect(dill_stats().handlesByKind).toEqual({ ipc: 1 });
      expect(codeOfCall(() => suffix_attach(b, "", 0))).toBe("EINVAL");
      expect(dill_stats().handlesByKind).toEqual({});
    });
  });

  it("fails a receive with ETIMEDOUT and a parked one with ECANCELED; a cancelled coroutine cannot detach, and all is closed", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s = suffix_attach(b, "\n", 1);
      yield* bsend(a, "no delimiter yet", 16, -1);
      expect(yield* codeOf(mrecv(s, new Uint8Array(99), 99, now() + 20))).toBe("ETIMEDOUT");
      expect(yield* codeOf(mrecv(s, new Uint8Array(99), 99, now() + 20))).toBe("ECONNRESET");
      hclose(s);
      const [c, d] = yield* ipc_pair();
      const s2 = suffix_attach(d, "\n", 1);
      const out = { recv: "", detach: "" };
      const r = spawn(
        (function* () {
          try {
            out.recv = yield* codeOf(mrecv(s2, new Uint8Array(99), 99, -1));
          } finally {
            out.detach = yield* codeOf(suffix_detach(s2, -1));
          }
        })(),
      );
      yield* dill_yield();
      hclose(r);
      expect(out).toEqual({ recv: "ECANCELED", detach: "ECANCELED" });
      expect(dill_stats().handlesByKind).toEqual({ ipc: 2 });
      hclose(a);
      hclose(c);
    });
  });

  it("fails a send with ETIMEDOUT when the peer does not read, and sending is then over", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s = suffix_attach(a, "\n", 1);
      const big = new Uint8Array(16 << 20);
      expect(yield* codeOf(msend(s, big, big.length, now() + 50))).toBe("ETIMEDOUT");
      expect(yield* codeOf(msend(s, "x", 1, -1))).toBe("ECONNRESET");
      hclose(s);
      hclose(b);
    });
  });

  it("refuses a second receiver and a second sender with EBUSY, and detaching while they run", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const s0 = suffix_attach(a, "\n", 1);
      const s1 = suffix_attach(b, "\n", 1);
      const big = Buffer.alloc(8 << 20, "x");
      const got: string[] = [];
      const r = spawn(
        (function* () {
          got.push(String(yield* mrecv(s1, new Uint8Array(big.length), big.length, now() + 10_000)));
        })(),
      );
      const w = spawn(msend(s0, big, big.length, now() + 10_000));
      yield* dill_yield();
      expect(yield* codeOf(mrecv(s1, new Uint8Array(8), 8, -1))).toBe("EBUSY");
      expect(yield* codeOf(msend(s0, "x", 1, -1))).toBe("EBUSY");
      expect(yield* codeOf(suffix_detach(s1, -1))).toBe("EBUSY");
      yield* bundle_wait(w, now() + 10_000);
      yield* bundle_wait(r, now() + 10_000);
      expect(got).toEqual([String(big.length)]);
      hclose(r);
      hclose(w);
      hclose(yield* suffix_detach(s0, -1));
      hclose(yield* suffix_detach(s1, -1));
    });
  });

  it("keeps a socket in caller storage until it is closed, and fails with ENOMEM, closing s, when the pool is used up", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const mem = new SuffixStorage();
      const s = suffix_attach_mem(a, "\n", 1, mem);
      expect(codeOfCall(() => suffix_attach_mem(b, "\n", 1, mem))).toBe("EBUSY");
      hclose(s);
      expect(mem.inUse).toBe(false);
      const [c, d] = yield* ipc_pair();
      const restore = exhaustPool();
      try {
        expect(codeOfCall(() => suffix_attach(c, "\n", 1))).toBe("ENOMEM");
      } finally {
        restore();
      }
      expect(dill_stats().handlesByKind).toEqual({ ipc: 1 });
      hclose(d);
    });
  });

  it("hands a detached stream on as a bytestream again", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const u = yield* suffix_detach(suffix_attach(a, "\n", 1), -1);
      yield* bsend(u, "raw", 3, -1);
      const got = new Uint8Array(3);
      yield* brecv(b, got, 3, now() + 1000);
      expect(Buffer.from(got).toString()).toBe("raw");
      expect(BSOCK_TYPE).toBeTruthy();
      hclose(u);
      hclose(b);
    });
  });
});
