import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BundleStorage,
  ChannelStorage,
  bundle,
  bundle_go,
  bundle_wait,
  chdone,
  chmake,
  chmake_mem,
  chrecv,
  chsend,
  dill_chdone,
  dill_chmake,
  dill_chrecv,
  dill_chsend,
  dill_configure,
  dill_stats,
  dill_yield,
  go,
  hclose,
  hmake,
  msleep,
  now,
  run,
} from "../src/index.js";
import { close, codeOf, failure, LONG, thrown } from "./expect-dill.js";

describe("chmake and chmake_mem", () => {
  it("makes one channel with two distinct handles", async () => {
    await run(function* () {
      const [a, b] = chmake();
      expect(a).not.toBe(b);
      expect(dill_stats().handlesByKind).toEqual({ channel: 2 });
      close(a, b);
      const [c, d] = dill_chmake();
      close(c, d);
    });
  });

  it("chmake_mem keeps the channel in caller storage, drawing nothing from the pool", async () => {
    await run(function* () {
      const mem = new ChannelStorage();
      const used = dill_stats().pool.used;
      const [a, b] = chmake_mem(mem);
      expect(dill_stats().pool.used).toBe(used);
      const h = go(
        (function* () {
          yield* chsend(a, "x", -1);
        })(),
      );
      expect(yield* chrecv(b, -1)).toBe("x");
      close(h, a, b);
    });
  });

  it("chmake_mem fails with EBUSY while either handle is open, and accepts the storage again once both are closed", async () => {
    await run(function* () {
      const mem = new ChannelStorage();
      const [a, b] = chmake_mem(mem);
      const e = thrown(() => chmake_mem(mem));
      expect(e.code).toBe("EBUSY");
      expect(e.message).toContain("chmake_mem");
      expect(e.message).toContain("mem");
      hclose(a);
      expect(thrown(() => chmake_mem(mem)).code).toBe("EBUSY");
      hclose(b);
      const [c, d] = chmake_mem(mem);
      // The reused channel starts afresh: not done, nobody parked.
      const h = go(
        (function* () {
          yield* chsend(c, 1, -1);
        })(),
      );
      expect(yield* chrecv(d, now() + LONG)).toBe(1);
      close(h, c, d);
    });
  });

  it("chmake_mem fails with EINVAL for storage of another class", async () => {
    await run(function* () {
      const e = thrown(() => chmake_mem(new BundleStorage() as never));
      expect(e.code).toBe("EINVAL");
      expect(e.message).toContain("mem");
      expect(dill_stats().handles).toBe(0);
    });
  });

  it("a channel made after chdone and close starts afresh from the pool", async () => {
    await run(function* () {
      for (let i = 0; i < 3; i++) {
        const [a, b] = chmake();
        chdone(a);
        chdone(b);
        close(a, b);
      }
      const [a, b] = chmake();
      const h = go(
        (function* () {
          yield* chsend(a, "fresh", -1);
        })(),
      );
      expect(yield* chrecv(b, now() + LONG)).toBe("fresh");
      close(h, a, b);
    });
  });

  it("chmake fails with ENOMEM when the pool is used up and EMFILE when the table cannot hold both handles, leaking nothing", async () => {
    await run(function* () {
      const prevPool = dill_stats().pool.capacity;
      const prevHandles = dill_stats().maxHandles;
      dill_configure({ pool: dill_stats().pool.used });
      try {
        expect(thrown(() => chmake()).code).toBe("ENOMEM");
        expect(dill_stats().handles).toBe(0);
      } finally {
        dill_configure({ pool: prevPool });
      }
      dill_configure({ handles: 1 });
      try {
        const used = dill_stats().pool.used;
        const e = thrown(() => chmake());
        expect(e.code).toBe("EMFILE");
        expect(e.message).toContain("chmake");
        expect(dill_stats().handles).toBe(0);
        expect(dill_stats().pool.used).toBe(used);
        const mem = new ChannelStorage();
        expect(thrown(() => chmake_mem(mem)).code).toBe("EMFILE");
        dill_configure({ handles: 2 });
        const [a, b] = chmake_mem(mem); // the failed call left the storage free
        close(a, b);
      } finally {
        dill_configure({ handles: prevHandles });
      }
    });
  });
});

describe("chsend and chrecv", () => {
  it("meet when the receiver waits first", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const got: unknown[] = [];
      const h = go(
        (function* () {
          got.push(yield* chrecv(b, -1));
        })(),
      );
      yield* dill_yield();
      yield* dill_chsend(a, 42, 0); // the receiver is parked: no wait needed
      yield* dill_yield();
      expect(got).toEqual([42]);
      close(h, a, b);
    });
  });

  it("meet when the sender waits first", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const log: string[] = [];
      const h = go(
        (function* () {
          yield* chsend(a, "hello", -1);
          log.push("sent");
        })(),
      );
      yield* dill_yield();
      expect(log).toEqual([]); // nothing is stored: the send waits for a receiver
      expect(yield* dill_chrecv(b, 0)).toBe("hello");
      yield* dill_yield();
      expect(log).toEqual(["sent"]);
      close(h, a, b);
    });
  });

  it("work in both directions: what is sent on one end is received on the other", async () => {
    await run(function* () {
      const [a, b] = chmake<number>();
      const h = go(
        (function* () {
          const x = yield* chrecv<number>(b, -1);
          yield* chsend(b, x * 2, -1);
          const y = yield* chrecv<number>(b, -1);
          yield* chsend(b, y * 2, -1);
        })(),
      );
      yield* chsend(a, 1, now() + LONG);
      expect(yield* chrecv(a, now() + LONG)).toBe(2);
      yield* chsend(a, 5, now() + LONG);
      expect(yield* chrecv(a, now() + LONG)).toBe(10);
      close(h, a, b);
    });
  });

  it("never lets an end receive what it sent itself", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const h = go(
        (function* () {
          yield* chsend(a, "mine", -1);
        })(),
      );
      yield* dill_yield();
      expect(yield* codeOf(chrecv(a, 0))).toBe("ETIMEDOUT");
      expect(yield* chrecv(b, 0)).toBe("mine");
      close(h, a, b);
    });
  });

  it("pass any value, by identity: objects, undefined, null", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const obj = { deep: [1, 2, 3] };
      const values: unknown[] = [obj, undefined, null, 0, "", Symbol.iterator];
      const h = go(
        (function* () {
          for (const v of values) yield* chsend(a, v, -1);
        })(),
      );
      for (const v of values) expect(yield* chrecv(b, now() + LONG)).toBe(v);
      close(h, a, b);
    });
  });

  it("calls made ahead and run later each keep their own arguments, even though a coroutine reuses its call objects", async () => {
    await run(function* () {
      const [a, b] = chmake<number>();
      const [c, d] = chmake<number>();
      const peer = go(
        (function* () {
          yield* chsend(b, 1, -1);
          yield* chsend(d, 2, -1);
          yield* chsend(b, 3, -1);
        })(),
      );
      const first = chrecv<number>(a, -1);
      const second = chrecv<number>(c, -1);
      expect(yield* first).toBe(1);
      expect(yield* second).toBe(2);
      expect(yield* chrecv<number>(a, -1)).toBe(3);
      // Sends made ahead, one after the other, deliver their own values.
      const s1 = chsend(a, 10, -1);
      const s2 = chsend(a, 20, -1);
      const got: number[] = [];
      const sink = go(
        (function* () {
          got.push(yield* chrecv<number>(b, -1));
          got.push(yield* chrecv<number>(b, -1));
        })(),
      );
      yield* s1;
      yield* s2;
      yield* bundle_wait(sink, -1);
      expect(got).toEqual([10, 20]);
      close(peer, sink, a, b, c, d);
    });
  });

  it("a call made in one coroutine and run in another is that one's call, whatever its maker does meanwhile", async () => {
    await run(function* () {
      const [a, b] = chmake<number>();
      const box: { op: ReturnType<typeof chrecv<number>> | null } = { op: null };
      let got = -1;
      const taker = go(
        (function* () {
          yield* dill_yield();
          got = yield* box.op!; // parks on a, in this coroutine
        })(),
      );
      box.op = chrecv<number>(a, -1);
      yield* dill_yield(); // taker parks in the call made here
      // The maker's next receive must not re-arm the object the taker is parked in.
      const [c, d] = chmake<number>();
      const helper = go(
        (function* () {
          yield* chsend(d, 5, -1);
        })(),
      );
      const later = chrecv<number>(c, -1); // made now, run after the taker has resumed
      yield* chsend(b, 7, -1);
      yield* bundle_wait(taker, -1);
      expect(got).toBe(7);
      expect(yield* later).toBe(5);
      close(taker, helper, a, b, c, d);
    });
  });

  it("serve parked senders and parked receivers in arrival order", async () => {
    await run(function* () {
      const [a, b] = chmake<number>();
      const bs = bundle();
      for (let i = 0; i < 5; i++) {
        bundle_go(
          bs,
          (function* () {
            yield* chsend(a, i, -1);
          })(),
        );
      }
      yield* dill_yield();
      const got: number[] = [];
      for (let i = 0; i < 5; i++) got.push(yield* chrecv<number>(b, 0));
      expect(got).toEqual([0, 1, 2, 3, 4]);
      const order: number[] = [];
      for (let i = 0; i < 5; i++) {
        bundle_go(
          bs,
          (function* () {
            order.push((yield* chrecv<number>(a, -1)) * 10 + i);
          })(),
        );
      }
      yield* dill_yield();
      for (let i = 0; i < 5; i++) yield* chsend(b, i, 0);
      yield* bundle_wait(bs, now() + LONG);
      expect(order).toEqual([0, 11, 22, 33, 44]);
      close(bs, a, b);
    });
  });

  describe("deadlines", () => {
    it("0 and a past deadline succeed when the peer already waits, and fail with ETIMEDOUT otherwise", async () => {
      await run(function* () {
        const [a, b] = chmake();
        for (const d of [0, now() - 1, 1]) {
          expect(yield* codeOf(chsend(a, 1, d))).toBe("ETIMEDOUT");
          expect(yield* codeOf(chrecv(b, d))).toBe("ETIMEDOUT");
          const h = go(
            (function* () {
              yield* chsend(a, "v", -1);
              yield* chrecv(a, -1);
            })(),
          );
          yield* dill_yield();
          expect(yield* chrecv(b, d)).toBe("v");
          yield* dill_yield();
          yield* chsend(b, "w", d);
          hclose(h);
        }
        expect(dill_stats().timers).toBe(0);
        close(a, b);
      });
    });

    it("-1 waits as long as it takes", async () => {
      await run(function* () {
        const [a, b] = chmake();
        const h = go(
          (function* () {
            yield* msleep(now() + 20);
            yield* chsend(a, "late", -1);
          })(),
        );
        expect(yield* chrecv(b, -1)).toBe("late");
        close(h, a, b);
      });
    });

    it("a future deadline succeeds when the peer comes in time, and its deadline is then forgotten", async () => {
      await run(function* () {
        const [a, b] = chmake();
        const h = go(
          (function* () {
            yield* msleep(now() + 5);
            yield* chsend(a, "in time", now() + LONG);
          })(),
        );
        expect(yield* chrecv(b, now() + LONG)).toBe("in time");
        expect(dill_stats().timers).toBe(0);
        close(h, a, b);
      });
    });

    it("a future deadline fails with ETIMEDOUT when nobody comes, and the timed-out call is no longer registered", async () => {
      await run(function* () {
        const [a, b] = chmake();
        const e = yield* failure(chrecv(b, now() + 10));
        expect(e.code).toBe("ETIMEDOUT");
        expect(e.message).toContain("chrecv");
        expect(yield* codeOf(chsend(a, 1, 0))).toBe("ETIMEDOUT");
        const e2 = yield* failure(chsend(a, "lost", now() + 10));
        expect(e2.code).toBe("ETIMEDOUT");
        expect(e2.message).toContain("chsend");
        expect(yield* codeOf(chrecv(b, 0))).toBe("ETIMEDOUT");
        expect(dill_stats().timers).toBe(0);
        close(a, b);
      });
    });

    it("bad deadlines fail with EINVAL naming the deadline", async () => {
      await run(function* () {
        const [a, b] = chmake();
        for (const d of [NaN, -2, Infinity, "x"]) {
          for (const op of [chsend(a, 1, d as number), chrecv(b, d as number)]) {
            const e = yield* failure(op);
            expect(e.code).toBe("EINVAL");
            expect(e.message).toContain("deadline");
          }
        }
        close(a, b);
      });
    });
  });

  it("fail with EBADF for a handle that is not open", async () => {
    await run(function* () {
      const [a, b] = chmake();
      close(a, b);
      for (const h of [a, -1, 31_337]) {
        const e = yield* failure(chsend(h, 1, 0));
        expect(e.code).toBe("EBADF");
        expect(e.message).toContain("chsend");
        expect(e.message).toContain("ch");
        const e2 = yield* failure(chrecv(h, 0));
        expect(e2.code).toBe("EBADF");
        expect(e2.message).toContain("chrecv");
      }
      expect(thrown(() => chdone(a)).code).toBe("EBADF");
    });
  });

  it("fail with ENOTSUP for a handle that is not a channel: a bundle, a coroutine, a user object", async () => {
    await run(function* () {
      const b = bundle();
      const cr = go(msleep(-1) as never);
      const u = hmake({ query: () => undefined, close: () => {} });
      for (const h of [b, cr, u]) {
        const e = yield* failure(chsend(h, 1, -1));
        expect(e.code).toBe("ENOTSUP");
        expect(e.message).toContain("chsend");
        expect(yield* codeOf(chrecv(h, -1))).toBe("ENOTSUP");
        expect(thrown(() => chdone(h)).code).toBe("ENOTSUP");
      }
      close(u, cr, b);
    });
  });

  it("fail with ECANCELED when cancelled while parked, and at once in a cancelled coroutine", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const codes: string[] = [];
      const hs = [
        go(
          (function* () {
            codes.push(`recv:${yield* codeOf(chrecv(b, -1))}`);
            codes.push(`recv-after:${yield* codeOf(chrecv(b, 0))}`);
          })(),
        ),
        go(
          (function* () {
            codes.push(`send:${yield* codeOf(chsend(b, 1, now() + LONG))}`);
            codes.push(`send-after:${yield* codeOf(chsend(b, 1, -1))}`);
          })(),
        ),
      ];
      yield* dill_yield();
      for (const h of hs) hclose(h);
      expect(codes).toEqual(["recv:ECANCELED", "recv-after:ECANCELED", "send:ECANCELED", "send-after:ECANCELED"]);
      expect(dill_stats().timers).toBe(0);
      // Neither cancelled call is left registered.
      expect(yield* codeOf(chsend(a, 1, 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(chrecv(a, 0))).toBe("ETIMEDOUT");
      close(a, b);
    });
  });
});

describe("chdone", () => {
  it("makes sends on that end and receives on the other end fail with EPIPE", async () => {
    await run(function* () {
      const [a, b] = chmake();
      dill_chdone(a);
      const e = yield* failure(chsend(a, 1, -1));
      expect(e.code).toBe("EPIPE");
      expect(e.message).toContain("chsend");
      const e2 = yield* failure(chrecv(b, -1));
      expect(e2.code).toBe("EPIPE");
      expect(e2.message).toContain("chrecv");
      // Again and again: the direction stays closed.
      expect(yield* codeOf(chsend(a, 1, 0))).toBe("EPIPE");
      expect(yield* codeOf(chrecv(b, now() + LONG))).toBe("EPIPE");
      close(a, b);
    });
  });

  it("leaves the other direction working", async () => {
    await run(function* () {
      const [a, b] = chmake();
      chdone(a);
      const h = go(
        (function* () {
          yield* chsend(b, "reverse", -1);
        })(),
      );
      expect(yield* chrecv(a, now() + LONG)).toBe("reverse");
      // The other end can still be done independently, once.
      chdone(b);
      expect(yield* codeOf(chrecv(a, 0))).toBe("EPIPE");
      expect(yield* codeOf(chsend(b, 1, 0))).toBe("EPIPE");
      close(h, a, b);
    });
  });

  it("fails with EPIPE when called a second time on the same end", async () => {
    await run(function* () {
      const [a, b] = chmake();
      chdone(a);
      const e = thrown(() => chdone(a));
      expect(e.code).toBe("EPIPE");
      expect(e.message).toContain("chdone");
      close(a, b);
    });
  });

  it("wakes the receivers parked on the other end with EPIPE", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const codes: string[] = [];
      const bs = bundle();
      for (let i = 0; i < 3; i++) {
        bundle_go(
          bs,
          (function* () {
            codes.push(yield* codeOf(chrecv(b, now() + LONG)));
          })(),
        );
      }
      yield* dill_yield();
      chdone(a);
      yield* bundle_wait(bs, now() + LONG);
      expect(codes).toEqual(["EPIPE", "EPIPE", "EPIPE"]);
      expect(dill_stats().timers).toBe(0);
      close(bs, a, b);
    });
  });

  it("wakes the senders parked on that end with EPIPE", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const codes: string[] = [];
      const bs = bundle();
      for (let i = 0; i < 3; i++) {
        bundle_go(
          bs,
          (function* () {
            codes.push(yield* codeOf(chsend(a, i, -1)));
          })(),
        );
      }
      yield* dill_yield();
      chdone(a);
      yield* bundle_wait(bs, now() + LONG);
      expect(codes).toEqual(["EPIPE", "EPIPE", "EPIPE"]);
      close(bs, a, b);
    });
  });

  it("does not disturb coroutines parked on the other direction", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const got: unknown[] = [];
      const h = go(
        (function* () {
          got.push(yield* chrecv(a, -1)); // waits for the b -> a direction
        })(),
      );
      yield* dill_yield();
      chdone(a); // closes a -> b only
      yield* dill_yield();
      expect(got).toEqual([]);
      yield* chsend(b, "still open", 0);
      yield* dill_yield();
      expect(got).toEqual(["still open"]);
      close(h, a, b);
    });
  });
});

describe("hclose on channel ends", () => {
  it("closing both ends wakes the coroutines parked on the channel with EPIPE", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const codes: string[] = [];
      const bs = bundle();
      bundle_go(
        bs,
        (function* () {
          codes.push(`recv:${yield* codeOf(chrecv(b, -1))}`);
        })(),
      );
      bundle_go(
        bs,
        (function* () {
          codes.push(`send:${yield* codeOf(chsend(b, 1, now() + LONG))}`);
        })(),
      );
      yield* dill_yield();
      hclose(a);
      hclose(b);
      yield* bundle_wait(bs, now() + LONG);
      expect(codes.sort()).toEqual(["recv:EPIPE", "send:EPIPE"]);
      expect(dill_stats().timers).toBe(0);
      hclose(bs);
    });
  });

  it("closing one end makes it EBADF while the other end stays open", async () => {
    await run(function* () {
      const [a, b] = chmake();
      hclose(a);
      expect(yield* codeOf(chsend(a, 1, 0))).toBe("EBADF");
      expect(yield* codeOf(chsend(b, 1, 0))).toBe("ETIMEDOUT");
      expect(dill_stats().handlesByKind).toEqual({ channel: 1 });
      hclose(b);
    });
  });
});

describe("libdill's tests/chan.c, ported", () => {
  beforeAll(() => dill_configure({ clock: "virtual" }));
  afterAll(() => dill_configure({ clock: "real" }));

  /** What the coroutines saw: libdill asserts inside them, here the test checks it afterwards. */
  const seen: string[] = [];
  function* sender(ch: number, doyield: boolean, val: unknown) {
    if (doyield) yield* dill_yield();
    yield* chsend(ch, val, -1);
    seen.push(`sent ${String(val)}`);
  }
  function* receiver(ch: number, expected: unknown) {
    const v = yield* chrecv(ch, -1);
    seen.push(v === expected ? `received ${String(v)}` : `received ${String(v)}, expected ${String(expected)}`);
  }
  function* receiver2(ch: number) {
    seen.push(`receiver2 ${yield* codeOf(chrecv(ch, -1))}`);
    yield* chsend(ch, 0, -1);
  }
  function* sender2(ch: number) {
    seen.push(`sender2 ${yield* codeOf(chsend(ch, 0, -1))}`);
  }
  function* receiver3(ch: number) {
    seen.push(`receiver3 ${yield* codeOf(chrecv(ch, -1))}`);
  }
  function* cancelled(ch: number) {
    seen.push(`cancel ${yield* codeOf(chrecv(ch, -1))}`);
    seen.push(`cancel ${yield* codeOf(chrecv(ch, -1))}`);
  }

  it("the receiver waits for the sender, and the sender for the receiver", async () => {
    await run(function* () {
      const ch1 = chmake();
      const h1 = go(sender(ch1[0], true, 333));
      expect(yield* chrecv(ch1[1], -1)).toBe(333);
      close(ch1[1], ch1[0], h1);

      const ch2 = chmake();
      const h2 = go(sender(ch2[0], false, 444));
      expect(yield* chrecv(ch2[1], -1)).toBe(444);
      close(ch2[1], ch2[0], h2);
      expect(seen.splice(0)).toEqual(["sent 333", "sent 444"]);
    });
  });

  it("two simultaneous senders are served in the order they came, and so are two receivers", async () => {
    await run(function* () {
      const ch3 = chmake();
      const h3 = [go(sender(ch3[0], false, 888)), go(sender(ch3[0], false, 999))];
      expect(yield* chrecv(ch3[1], -1)).toBe(888);
      yield* dill_yield();
      expect(yield* chrecv(ch3[1], -1)).toBe(999);
      close(ch3[1], ch3[0], ...h3);

      const ch4 = chmake();
      const h4 = [go(receiver(ch4[0], 333)), go(receiver(ch4[0], 444))];
      yield* chsend(ch4[1], 333, -1);
      yield* chsend(ch4[1], 444, -1);
      close(ch4[1], ch4[0], ...h4);
      expect(seen.splice(0)).toEqual(["sent 888", "sent 999", "received 333", "received 444"]);
    });
  });

  it("chdone: receives on the other end fail with EPIPE, every time", async () => {
    await run(function* () {
      const ch8 = chmake();
      chdone(ch8[0]);
      for (let i = 0; i < 3; i++) expect(yield* codeOf(chrecv(ch8[1], -1))).toBe("EPIPE");
      close(ch8[1], ch8[0]);
    });
  });

  it("chdone unblocks every receiver, which can still send back", async () => {
    await run(function* () {
      const ch12 = chmake();
      const h6 = [go(receiver2(ch12[0])), go(receiver2(ch12[0]))];
      chdone(ch12[1]);
      expect(yield* chrecv(ch12[1], -1)).toBe(0);
      expect(yield* chrecv(ch12[1], -1)).toBe(0);
      close(ch12[1], ch12[0], ...h6);
      expect(seen.splice(0)).toEqual(["receiver2 EPIPE", "receiver2 EPIPE"]);
    });
  });

  it("blocked senders get EPIPE once the channel is closed, and so do blocked receivers", async () => {
    await run(function* () {
      const ch15 = chmake();
      const h8 = [go(sender2(ch15[0])), go(sender2(ch15[0])), go(sender2(ch15[0]))];
      yield* msleep(now() + 50);
      chdone(ch15[1]);
      close(ch15[1], ch15[0], ...h8);

      const ch16 = chmake();
      const h9 = [go(receiver3(ch16[0])), go(receiver3(ch16[0]))];
      yield* msleep(now() + 50);
      close(ch16[1], ch16[0], ...h9);
      expect(seen.splice(0)).toEqual([
        "sender2 EPIPE",
        "sender2 EPIPE",
        "sender2 EPIPE",
        "receiver3 EPIPE",
        "receiver3 EPIPE",
      ]);
    });
  });

  it("cancellation: the blocked receive and the next one fail with ECANCELED", async () => {
    await run(function* () {
      const ch17 = chmake();
      const h10 = go(cancelled(ch17[0]));
      hclose(h10);
      close(ch17[1], ch17[0]);
      expect(seen.splice(0)).toEqual(["cancel ECANCELED", "cancel ECANCELED"]);
    });
  });

  it("empty messages, both ways round, and a timed-out receive on caller storage", async () => {
    await run(function* () {
      const ch18 = chmake();
      const h11 = go(sender(ch18[0], true, undefined));
      expect(yield* chrecv(ch18[1], -1)).toBeUndefined();
      close(ch18[1], ch18[0], h11);

      const ch19 = chmake();
      const h12 = go(sender(ch19[0], false, undefined));
      expect(yield* chrecv(ch19[1], -1)).toBeUndefined();
      close(ch19[1], ch19[0], h12);

      const ch20 = chmake_mem(new ChannelStorage());
      const t = now();
      expect(yield* codeOf(chrecv(ch20[0], now() + 50))).toBe("ETIMEDOUT");
      expect(now() - t).toBe(50);
      close(ch20[1], ch20[0]);
      expect(seen.splice(0)).toEqual(["sent undefined", "sent undefined"]);
    });
  });
});
