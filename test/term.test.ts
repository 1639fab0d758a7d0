/**
 * term_attach, term_attach_mem, term_done, term_detach: libdill's tests/term.c, term over each
 * message socket (suffix, prefix, a user's), the HTTP-like stack (suffix + term with an empty
 * terminal message, then the raw stream), every errno for real, deadlines and cancellation.
 */
import { describe, expect, it } from "vitest";
import {
  brecv,
  bsend,
  bundle_wait,
  chmake,
  chrecv,
  chsend,
  dill_stats,
  dill_yield,
  hclose,
  hmake,
  type IoList,
  ipc_pair,
  MSOCK_TYPE,
  type MessageSocket,
  mrecv,
  mrecvl,
  msend,
  now,
  prefix_attach,
  prefix_detach,
  run,
  suffix_attach,
  suffix_detach,
  term_attach,
  term_attach_mem,
  term_detach,
  term_done,
  TermStorage,
} from "../src/index.js";
import { codeOf, codeOfCall, exhaustPool, expectNoFdLeak } from "./ipc-helpers.js";
import { el, recvText, spawn } from "./msg-helpers.js";

expectNoFdLeak();

/**
 * Two message sockets of the user's kind, made with hmake from the public API alone: each end
 * has an inbox of messages; a receiver finding it empty waits for a token on a channel, which
 * the sender hands over when it queues a message.
 */
function userMsgPair(): [number, number] {
  interface End {
    inbox: Buffer[];
    waiting: boolean;
    wake: [number, number];
    closed: boolean;
  }
  const ends: End[] = [0, 1].map(() => ({ inbox: [], waiting: false, wake: chmake(), closed: false }));
  const make = (me: End, peer: End): number => {
    const m: MessageSocket = {
      *msendl(first: IoList, _last: IoList, deadline: number) {
        const parts: Buffer[] = [];
        for (let it: IoList | null = first; it !== null; it = it.iol_next)
          parts.push(Buffer.from(it.iol_base!.subarray(0, it.iol_len)));
        peer.inbox.push(Buffer.concat(parts));
        if (peer.waiting) {
          peer.waiting = false;
          yield* chsend(peer.wake[0], 1, deadline);
        }
      },
      *mrecvl(first: IoList | null, _last: IoList | null, deadline: number) {
        while (me.inbox.length === 0) {
          if (peer.closed) throw Object.assign(new Error("closed"), { code: "EPIPE" });
          me.waiting = true;
          yield* chrecv(me.wake[1], deadline);
        }
        const msg = me.inbox.shift()!;
        let off = 0;
        for (let it = first; it !== null && off < msg.length; it = it.iol_next) {
          const n = Math.min(it.iol_len, msg.length - off);
          it.iol_base?.set(msg.subarray(off, off + n));
          off += n;
        }
        return msg.length;
      },
    };
    return hmake({
      kind: "user-msock",
      query: (t) => (t === MSOCK_TYPE ? m : undefined),
      close() {
        me.closed = true;
        hclose(me.wake[0]);
        hclose(me.wake[1]);
      },
    });
  };
  return [make(ends[0]!, ends[1]!), make(ends[1]!, ends[0]!)];
}

/** Two message sockets of the user's kind over one channel: a send waits until the peer receives. */
function rendezvousMsgPair(): [number, number] {
  const [c0, c1] = chmake();
  const make = (ch: number): number => {
    const m: MessageSocket = {
      *msendl(first: IoList, _last: IoList, deadline: number) {
        yield* chsend(ch, Buffer.from(first.iol_base!.subarray(0, first.iol_len)), deadline);
      },
      *mrecvl(_first: IoList | null, _last: IoList | null, deadline: number) {
        return (yield* chrecv<Buffer>(ch, deadline)).length;
      },
    };
    return hmake({ kind: "user-msock", query: (t) => (t === MSOCK_TYPE ? m : undefined), close: () => hclose(ch) });
  };
  return [make(c0), make(c1)];
}

describe("term, as libdill's tests/term.c", () => {
  it("ends a CRLF stream with STOP both ways and detaches to the suffix socket", async () => {
    await run(function* () {
      const [p0, p1] = yield* ipc_pair();
      const cr = spawn(
        (function* () {
          let s: number = suffix_attach(p0, "\r\n", 2);
          s = term_attach(s, "STOP", 4);
          yield* msend(s, "ABC", 3, -1);
          expect(yield* recvText(s, -1, 16)).toBe("DEF");
          s = yield* term_detach(s, -1);
          hclose(s);
        })(),
      );
      let s: number = suffix_attach(p1, "\r\n", 2);
      s = term_attach(s, "STOP", 4);
      expect(yield* recvText(s, -1, 16)).toBe("ABC");
      yield* msend(s, "DEF", 3, -1);
      expect(yield* codeOf(mrecv(s, new Uint8Array(16), 16, -1))).toBe("EPIPE");
      s = yield* term_detach(s, -1);
      hclose(s);
      yield* bundle_wait(cr, -1);
      hclose(cr);
    });
  });
});

describe("term over every message socket", () => {
  it("runs over prefix: term_done closes sending, the peer sees EPIPE, both detach down to the raw stream", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const t0 = term_attach(prefix_attach(a, 4, 0), "\xff\xff", 2);
      const t1 = term_attach(prefix_attach(b, 4, 0), "\xff\xff", 2);
      yield* msend(t0, "last words", 10, -1);
      yield* term_done(t0, -1);
      expect(yield* codeOf(msend(t0, "more", 4, -1))).toBe("EPIPE");
      expect(yield* codeOf(term_done(t0, -1))).toBe("EPIPE");
      expect(yield* recvText(t1, now() + 1000)).toBe("last words");
      expect(yield* codeOf(mrecv(t1, new Uint8Array(16), 16, now() + 1000))).toBe("EPIPE");
      expect(yield* codeOf(mrecv(t1, new Uint8Array(16), 16, now() + 1000))).toBe("EPIPE");
      yield* msend(t1, "reply after EPIPE", 17, -1); // t1 can still send
      const w = spawn(
        (function* () {
          const m1 = yield* term_detach(t1, now() + 5000);
          const r1 = prefix_detach(m1);
          yield* bsend(r1, "raw!", 4, -1);
          hclose(r1);
        })(),
      );
      expect(yield* recvText(t0, now() + 1000)).toBe("reply after EPIPE");
      const m0 = yield* term_detach(t0, now() + 5000);
      const r0 = prefix_detach(m0);
      const raw = new Uint8Array(4);
      yield* brecv(r0, raw, 4, now() + 1000);
      expect(Buffer.from(raw).toString()).toBe("raw!");
      yield* bundle_wait(w, now() + 5000);
      hclose(w);
      hclose(r0);
    });
  });

  it("runs over a user's message socket made with hmake, and drains what the peer still sends when it detaches", async () => {
    await run(function* () {
      const [u0, u1] = userMsgPair();
      const t0 = term_attach(u0, "BYE", 3);
      const t1 = term_attach(u1, "BYE", 3);
      const w = spawn(
        (function* () {
          for (let i = 0; i < 5; i++) yield* msend(t1, `m${i}`, 2, -1);
          const u = yield* term_detach(t1, now() + 5000);
          hclose(u);
        })(),
      );
      expect(yield* recvText(t0, now() + 1000)).toBe("m0");
      // m1..m4 and the terminal message are dropped; then the underlying socket is ours again.
      const u = yield* term_detach(t0, now() + 5000);
      expect(dill_stats().handlesByKind["user-msock"]).toBeGreaterThanOrEqual(1);
      yield* bundle_wait(w, now() + 5000);
      hclose(w);
      hclose(u);
    });
  });

  it("makes HTTP's stack: CRLF lines ended by an empty line, then the raw stream with every byte behind it", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const wire = Buffer.concat([
        Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        Buffer.from([0x81, 5]),
        Buffer.from("hello"),
      ]);
      yield* bsend(a, wire, wire.length, -1);
      const h = term_attach(suffix_attach(b, "\r\n", 2), null, 0);
      expect(yield* recvText(h, now() + 1000)).toBe("GET / HTTP/1.1");
      expect(yield* recvText(h, now() + 1000)).toBe("Host: x");
      expect(yield* codeOf(mrecv(h, new Uint8Array(64), 64, now() + 1000))).toBe("EPIPE");
      const w = spawn(
        (function* () {
          const lines = suffix_attach(a, "\r\n", 2);
          const t = term_attach(lines, null, 0);
          yield* term_done(t, -1); // the peer's empty line
          const raw = yield* suffix_detach(yield* term_detach(t, now() + 5000), now() + 5000);
          hclose(raw);
        })(),
      );
      const frames = yield* suffix_detach(yield* term_detach(h, now() + 5000), now() + 5000);
      const frame = new Uint8Array(7);
      yield* brecv(frames, frame, 7, now() + 1000);
      expect([...frame]).toEqual([0x81, 5, ...Buffer.from("hello")]);
      yield* bundle_wait(w, now() + 5000);
      hclose(w);
      hclose(frames);
    });
  });
});

describe("term's receives", () => {
  it("receives messages shorter than the terminal message into a buffer shorter than it, and tells the terminal message apart", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const t0 = term_attach(prefix_attach(a, 1, 0), "STOP", 4);
      const t1 = term_attach(prefix_attach(b, 1, 0), "STOP", 4);
      for (const m of ["AB", "STO", "STOPS", "STOP"]) yield* msend(t0, m, m.length, -1);
      const two = new Uint8Array(2);
      expect(yield* mrecv(t1, two, 2, now() + 1000)).toBe(2);
      expect(Buffer.from(two).toString()).toBe("AB");
      expect(yield* recvText(t1, now() + 1000, 8)).toBe("STO");
      expect(yield* recvText(t1, now() + 1000, 8)).toBe("STOPS");
      expect(yield* codeOf(mrecv(t1, two, 2, now() + 1000))).toBe("EPIPE");
      hclose(t0);
      hclose(t1);
    });
  });

  it("receives into lists with skipped parts and drops messages, leaving the lists as they were", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const t0 = term_attach(prefix_attach(a, 2, 0), "END", 3);
      const t1 = term_attach(prefix_attach(b, 2, 0), "END", 3);
      yield* msend(t0, "0123456789", 10, -1);
      yield* msend(t0, "dropped", 7, -1);
      const x = new Uint8Array(1);
      const z = new Uint8Array(10);
      const c = el(z, 10);
      const skip = el(null, 2, c);
      const first = el(x, 1, skip);
      expect(yield* mrecvl(t1, first, c, now() + 1000)).toBe(10);
      expect(Buffer.from(x).toString()).toBe("0");
      expect(Buffer.from(z.subarray(0, 7)).toString()).toBe("3456789");
      expect([first.iol_len, skip.iol_len, c.iol_len, first.iol_next, skip.iol_next, c.iol_next]).toEqual([
        1,
        2,
        10,
        skip,
        c,
        null,
      ]);
      expect(yield* mrecvl(t1, null, null, now() + 1000)).toBe(7);
      yield* term_done(t0, -1);
      expect(yield* codeOf(mrecvl(t1, null, null, now() + 1000))).toBe("EPIPE");
      hclose(t0);
      hclose(t1);
    });
  });

  it("fails with EMSGSIZE when a message does not fit a buffer shorter than the terminal message, and receiving is over", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const t0 = term_attach(prefix_attach(a, 1, 0), "STOP", 4);
      const t1 = term_attach(prefix_attach(b, 1, 0), "STOP", 4);
      yield* msend(t0, "ABC", 3, -1);
      expect(yield* codeOf(mrecv(t1, new Uint8Array(2), 2, now() + 1000))).toBe("EMSGSIZE");
      expect(yield* codeOf(mrecv(t1, new Uint8Array(8), 8, now() + 1000))).toBe("ECONNRESET");
      hclose(t0);
      hclose(t1);
    });
  });
});

describe("term's errors, for real", () => {
  it("fails term_detach with ETIMEDOUT when the peer never ends, closing everything", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const t = term_attach(prefix_attach(a, 4, 0), "STOP", 4);
      expect(yield* codeOf(term_detach(t, now() + 30))).toBe("ETIMEDOUT");
      expect(codeOfCall(() => hclose(t))).toBe("EBADF");
      expect(dill_stats().handlesByKind).toEqual({ ipc: 1 });
      hclose(b);
    });
  });

  it("fails term_done with ETIMEDOUT when the terminal message cannot be sent in time, and EBUSY while a send runs", async () => {
    await run(function* () {
      const [u0, u1] = rendezvousMsgPair(); // a message goes only when the peer takes it
      const t = term_attach(u0, "STOP", 4);
      expect(yield* codeOf(term_done(t, now() + 20))).toBe("ETIMEDOUT");
      const out = { code: "" };
      const w = spawn(
        (function* () {
          out.code = yield* codeOf(msend(t, "x", 1, now() + 20));
        })(),
      );
      yield* dill_yield();
      expect(yield* codeOf(term_done(t, now() + 20))).toBe("EBUSY");
      yield* bundle_wait(w, now() + 5000);
      expect(out.code).toBe("ETIMEDOUT");
      hclose(w);
      hclose(t);
      hclose(u1);
    });
  });

  it("fails term_done and term_detach with ECANCELED in a cancelled coroutine, and term_detach closes everything", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const t = term_attach(prefix_attach(a, 4, 0), "STOP", 4);
      const out = { recv: "", done: "", detach: "" };
      const cr = spawn(
        (function* () {
          try {
            out.recv = yield* codeOf(mrecv(t, new Uint8Array(8), 8, -1));
          } finally {
            out.done = yield* codeOf(term_done(t, -1));
            out.detach = yield* codeOf(term_detach(t, -1));
          }
        })(),
      );
      yield* dill_yield();
      hclose(cr);
      expect(out).toEqual({ recv: "ECANCELED", done: "ECANCELED", detach: "ECANCELED" });
      expect(dill_stats().handlesByKind).toEqual({ ipc: 1 });
      hclose(b);
    });
  });

  it("fails with EPROTO over a bytestream, closing it, and with EINVAL for a bad terminal message, closing s", async () => {
    await run(function* () {
      const [a, b]: number[] = yield* ipc_pair(); // plain numbers: the run-time check is under test
      expect(codeOfCall(() => term_attach(a, "STOP", 4))).toBe("EPROTO");
      const m = prefix_attach(b, 4, 0);
      expect(codeOfCall(() => term_attach(m, "x".repeat(33), 33))).toBe("EINVAL");
      expect(dill_stats().handlesByKind).toEqual({});
    });
  });

  it("refuses a second receiver with EBUSY, and term_detach while a coroutine receives, leaving the socket as it was", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const t0 = term_attach(prefix_attach(a, 4, 0), "STOP", 4);
      const t1 = term_attach(prefix_attach(b, 4, 0), "STOP", 4);
      const got = { text: "" };
      const r = spawn(
        (function* () {
          got.text = yield* recvText(t1, now() + 5000);
        })(),
      );
      yield* dill_yield();
      expect(yield* codeOf(mrecv(t1, new Uint8Array(8), 8, -1))).toBe("EBUSY");
      expect(yield* codeOf(term_detach(t1, -1))).toBe("EBUSY");
      yield* msend(t0, "fine", 4, -1);
      yield* bundle_wait(r, now() + 5000);
      expect(got.text).toBe("fine");
      hclose(r);
      hclose(t0);
      hclose(t1);
    });
  });

  it("keeps a socket in caller storage until it is detached, and fails with ENOMEM, closing s, when the pool is used up", async () => {
    await run(function* () {
      const [a, b] = yield* ipc_pair();
      const mem = new TermStorage();
      const t = term_attach_mem(prefix_attach(a, 4, 0), "STOP", 4, mem);
      expect(mem.inUse).toBe(true);
      const p = prefix_attach(b, 4, 0);
      expect(codeOfCall(() => term_attach_mem(p, "STOP", 4, mem))).toBe("EBUSY");
      expect(dill_stats().handlesByKind).toEqual({ ipc: 1, prefix: 1, term: 1 });
      hclose(t);
      expect(mem.inUse).toBe(false);
      const [c, d] = yield* ipc_pair();
      const q = prefix_attach(c, 4, 0);
      const restore = exhaustPool();
      try {
        expect(codeOfCall(() => term_attach(q, "STOP", 4))).toBe("ENOMEM");
      } finally {
        restore();
      }
      expect(dill_stats().handlesByKind).toEqual({ ipc: 1 });
      hclose(d);
    });
  });
});
