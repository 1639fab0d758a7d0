import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHRECV,
  CHSEND,
  type ChooseClause,
  DILL_CHRECV,
  DILL_CHSEND,
  bundle,
  bundle_go,
  bundle_wait,
  chdone,
  chmake,
  choose,
  chrecv,
  chsend,
  dill_choose,
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
import { close, codeOf, failure, LONG } from "./expect-dill.js";

/** A coroutine parked sending `val` on `ch` until someone takes it. */
function* sendOne(ch: number, val: unknown) {
  yield* chsend(ch, val, -1);
}

/** A coroutine parked receiving on `ch`; the value goes to `out`. */
function* recvOne(ch: number, out: unknown[]) {
  out.push(yield* chrecv(ch, -1));
}

describe("choose", () => {
  it("performs the earliest clause in the array when several are ready", async () => {
    await run(function* () {
      const [a1, b1] = chmake();
      const [a2, b2] = chmake();
      const bs = bundle();
      bundle_go(bs, sendOne(a1, "one"));
      bundle_go(bs, sendOne(a2, "two"));
      yield* dill_yield();
      const cls: ChooseClause[] = [
        { op: CHRECV, ch: b2 },
        { op: CHRECV, ch: b1 },
      ];
      expect(yield* choose(cls, 0)).toBe(0);
      expect(cls[0]!.val).toBe("two");
      expect(cls[1]!.val).toBeUndefined();
      const cls2: ChooseClause[] = [
        { op: CHRECV, ch: b2 },
        { op: CHRECV, ch: b1 },
      ];
      expect(yield* choose(cls2, 0)).toBe(1);
      expect(cls2[1]!.val).toBe("one");
      yield* bundle_wait(bs, now() + LONG);
      close(bs, a1, b1, a2, b2);
    });
  });

  it("skips clauses that are not ready for the first that is", async () => {
    await run(function* () {
      const [a1, b1] = chmake();
      const [a2, b2] = chmake();
      const [a3, b3] = chmake();
      const got: unknown[] = [];
      const h = go(recvOne(b3, got));
      yield* dill_yield();
      const i = yield* dill_choose(
        [
          { op: CHRECV, ch: b1 },
          { op: CHSEND, ch: a2, val: "nobody" },
          { op: DILL_CHSEND, ch: a3, val: "taken" },
        ],
        0,
      );
      expect(i).toBe(2);
      yield* dill_yield();
      expect(got).toEqual(["taken"]);
      close(h, a1, b1, a2, b2, a3, b3);
    });
  });

  it("blocks until a clause can complete, stores a received value in that clause's val and returns its index", async () => {
    await run(function* () {
      const [a1, b1] = chmake();
      const [a2, b2] = chmake();
      const h = go(
        (function* () {
          yield* msleep(now() + 5);
          yield* chsend(a2, { payload: 7 }, -1);
        })(),
      );
      const cls: ChooseClause[] = [
        { op: DILL_CHRECV, ch: b1, val: "untouched" },
        { op: CHRECV, ch: b2 },
      ];
      expect(yield* choose(cls, now() + LONG)).toBe(1);
      expect(cls[1]!.val).toEqual({ payload: 7 });
      expect(cls[0]!.val).toBe("untouched");
      expect(dill_stats().timers).toBe(0);
      close(h, a1, b1, a2, b2);
    });
  });

  it("performs a CHSEND clause when a receiver arrives, handing over the clause's val", async () => {
    await run(function* () {
      const [a1, b1] = chmake();
      const [a2, b2] = chmake();
      const got: unknown[] = [];
      const h = go(
        (function* () {
          yield* dill_yield();
          got.push(yield* chrecv(b2, -1));
        })(),
      );
      const i = yield* choose(
        [
          { op: CHSEND, ch: a1, val: "first" },
          { op: CHSEND, ch: a2, val: "second" },
        ],
        -1,
      );
      expect(i).toBe(1);
      yield* dill_yield();
      expect(got).toEqual(["second"]);
      close(h, a1, b1, a2, b2);
    });
  });

  it("unregisters the clauses that did not complete", async () => {
    await run(function* () {
      const [a1, b1] = chmake();
      const [a2, b2] = chmake();
      const h = go(sendOne(a2, "x"));
      const cls: ChooseClause[] = [
        { op: CHRECV, ch: b1 },
        { op: CHSEND, ch: b1, val: "no" },
        { op: CHRECV, ch: b2 },
      ];
      expect(yield* choose(cls, -1)).toBe(2);
      // Nobody waits on the first channel in either direction any more.
      expect(yield* codeOf(chsend(a1, 1, 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(chrecv(a1, 0))).toBe("ETIMEDOUT");
      close(h, a1, b1, a2, b2);
    });
  });

  it("lets two coroutines meet when both are in choose", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const [x, y] = chmake();
      const got: unknown[] = [];
      const h = go(
        (function* () {
          const cls: ChooseClause[] = [
            { op: CHRECV, ch: y },
            { op: CHRECV, ch: b },
          ];
          const i = yield* choose(cls, -1);
          got.push(i, cls[i]!.val);
        })(),
      );
      yield* dill_yield();
      const j = yield* choose(
        [
          { op: CHRECV, ch: a },
          { op: CHSEND, ch: a, val: "met" },
        ],
        now() + LONG,
      );
      expect(j).toBe(1);
      yield* dill_yield();
      expect(got).toEqual([1, "met"]);
      close(h, a, b, x, y);
    });
  });

  describe("deadlines", () => {
    it("0 or a past deadline fail with ETIMEDOUT when no clause is ready, registering nothing", async () => {
      await run(function* () {
        const [a, b] = chmake();
        for (const d of [0, now() - 1]) {
          const e = yield* failure(
            choose(
              [
                { op: CHRECV, ch: b },
                { op: CHSEND, ch: b, val: 1 },
              ],
              d,
            ),
          );
          expect(e.code).toBe("ETIMEDOUT");
          expect(e.index).toBe(-1);
        }
        expect(yield* codeOf(chsend(a, 1, 0))).toBe("ETIMEDOUT");
        expect(yield* codeOf(chrecv(a, 0))).toBe("ETIMEDOUT");
        close(a, b);
      });
    });

    it("a future deadline fails with ETIMEDOUT when nothing completes, and the clauses are unregistered", async () => {
      await run(function* () {
        const [a, b] = chmake();
        const e = yield* failure(
          choose(
            [
              { op: CHRECV, ch: b },
              { op: CHSEND, ch: b, val: 1 },
            ],
            now() + 10,
          ),
        );
        expect(e.code).toBe("ETIMEDOUT");
        expect(e.message).toContain("choose");
        expect(dill_stats().timers).toBe(0);
        expect(yield* codeOf(chsend(a, 1, 0))).toBe("ETIMEDOUT");
        expect(yield* codeOf(chrecv(a, 0))).toBe("ETIMEDOUT");
        close(a, b);
      });
    });

    it("an empty clause list waits for the deadline: ETIMEDOUT for 0 and for a future deadline", async () => {
      await run(function* () {
        expect(yield* codeOf(choose([], 0))).toBe("ETIMEDOUT");
        const d = now() + 10;
        expect(yield* codeOf(choose([], d))).toBe("ETIMEDOUT");
        expect(now()).toBeGreaterThanOrEqual(d);
      });
    });

    it("an empty clause list with deadline -1 waits until cancelled", async () => {
      await run(function* () {
        const codes: string[] = [];
        const h = go(
          (function* () {
            codes.push(yield* codeOf(choose([], -1)));
          })(),
        );
        yield* msleep(now() + 10);
        expect(codes).toEqual([]);
        hclose(h);
        expect(codes).toEqual(["ECANCELED"]);
      });
    });

    it("bad deadlines fail with EINVAL", async () => {
      await run(function* () {
        const [a, b] = chmake();
        for (const d of [NaN, -2, Infinity, "x"]) {
          const e = yield* failure(choose([{ op: CHRECV, ch: b }], d as number));
          expect(e.code).toBe("EINVAL");
          expect(e.message).toContain("deadline");
        }
        close(a, b);
      });
    });
  });

  it("fails with ECANCELED when cancelled while parked and at once afterwards, unregistering its clauses", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const codes: string[] = [];
      const h = go(
        (function* () {
          codes.push(
            yield* codeOf(
              choose(
                [
                  { op: CHRECV, ch: b },
                  { op: CHSEND, ch: b, val: 1 },
                ],
                now() + LONG,
              ),
            ),
          );
          codes.push(yield* codeOf(choose([{ op: CHRECV, ch: b }], 0)));
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(codes).toEqual(["ECANCELED", "ECANCELED"]);
      expect(dill_stats().timers).toBe(0);
      expect(yield* codeOf(chsend(a, 1, 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(chrecv(a, 0))).toBe("ETIMEDOUT");
      close(a, b);
    });
  });

  describe("per-clause errors carry the clause's index", () => {
    it("EBADF for a handle that is not open", async () => {
      await run(function* () {
        const [a, b] = chmake();
        const e = yield* failure(
          choose(
            [
              { op: CHRECV, ch: b },
              { op: CHRECV, ch: 40_404 },
            ],
            -1,
          ),
        );
        expect(e.code).toBe("EBADF");
        expect(e.index).toBe(1);
        expect(e.message).toContain("choose");
        close(a, b);
      });
    });

    it("ENOTSUP for a handle that is not a channel (a bundle, a user object)", async () => {
      await run(function* () {
        const [a, b] = chmake();
        const bn: number = bundle(); // a plain number: the run-time check is under test
        const u = hmake({ query: () => undefined, close: () => {} });
        const e = yield* failure(
          choose(
            [
              { op: CHRECV, ch: b },
              { op: CHSEND, ch: a, val: 1 },
              { op: CHRECV, ch: bn },
            ],
            -1,
          ),
        );
        expect(e.code).toBe("ENOTSUP");
        expect(e.index).toBe(2);
        const e2 = yield* failure(choose([{ op: CHSEND, ch: u, val: 1 }], -1));
        expect(e2.code).toBe("ENOTSUP");
        expect(e2.index).toBe(0);
        close(u, bn, a, b);
      });
    });

    it("EPIPE for a clause on a done direction, for sends and for receives", async () => {
      await run(function* () {
        const [a, b] = chmake();
        const [c, d] = chmake();
        chdone(a);
        const e = yield* failure(
          choose(
            [
              { op: CHRECV, ch: d },
              { op: CHSEND, ch: a, val: 1 },
            ],
            -1,
          ),
        );
        expect(e.code).toBe("EPIPE");
        expect(e.index).toBe(1);
        const e2 = yield* failure(
          choose(
            [
              { op: CHRECV, ch: d },
              { op: CHSEND, ch: c, val: 1 },
              { op: CHRECV, ch: b },
            ],
            0,
          ),
        );
        expect(e2.code).toBe("EPIPE");
        expect(e2.index).toBe(2);
        close(a, b, c, d);
      });
    });

    it("EINVAL for a clause with a bad op or that is not an object", async () => {
      await run(function* () {
        const [a, b] = chmake();
        const e = yield* failure(
          choose(
            [
              { op: CHRECV, ch: b },
              { op: 99 as never, ch: b },
            ],
            -1,
          ),
        );
        expect(e.code).toBe("EINVAL");
        expect(e.index).toBe(1);
        expect(e.message).toContain("op");
        const e2 = yield* failure(choose([{ op: CHRECV, ch: b }, null as never], -1));
        expect(e2.code).toBe("EINVAL");
        expect(e2.index).toBe(1);
        close(a, b);
      });
    });

    it("EPIPE with the clause's index wakes a parked choose when its direction is done", async () => {
      await run(function* () {
        const [a, b] = chmake();
        const [c, d] = chmake();
        const errs: { code: string; index: number }[] = [];
        const h = go(
          (function* () {
            const e = yield* failure(
              choose(
                [
                  { op: CHRECV, ch: b },
                  { op: CHRECV, ch: d },
                ],
                now() + LONG,
              ),
            );
            errs.push({ code: e.code, index: e.index });
          })(),
        );
        yield* dill_yield();
        chdone(c);
        yield* dill_yield();
        expect(errs).toEqual([{ code: "EPIPE", index: 1 }]);
        expect(dill_stats().timers).toBe(0);
        // Its other clause was unregistered.
        expect(yield* codeOf(chsend(a, 1, 0))).toBe("ETIMEDOUT");
        close(h, a, b, c, d);
      });
    });

    it("EPIPE with the clause's index wakes a parked choose when both ends of its channel are closed", async () => {
      await run(function* () {
        const [a, b] = chmake();
        const [c, d] = chmake();
        const errs: { code: string; index: number }[] = [];
        const bs = bundle();
        bundle_go(
          bs,
          (function* () {
            const e = yield* failure(
              choose(
                [
                  { op: CHRECV, ch: b },
                  { op: CHSEND, ch: d, val: 1 },
                ],
                -1,
              ),
            );
            errs.push({ code: e.code, index: e.index });
          })(),
        );
        yield* dill_yield();
        hclose(c);
        hclose(d);
        yield* bundle_wait(bs, now() + LONG);
        expect(errs).toEqual([{ code: "EPIPE", index: 1 }]);
        close(bs, a, b);
      });
    });
  });

  it("fails with EINVAL when clauses is not an array", async () => {
    await run(function* () {
      for (const bad of [null, undefined, {}, 3]) {
        const e = yield* failure(choose(bad as never, 0));
        expect(e.code).toBe("EINVAL");
        expect(e.message).toContain("clauses");
      }
    });
  });
});

describe("libdill's tests/choose.c, ported", () => {
  beforeAll(() => dill_configure({ clock: "virtual" }));
  afterAll(() => dill_configure({ clock: "real" }));

  /** What the coroutines saw: libdill asserts inside them, here the test checks it afterwards. */
  const seen: string[] = [];
  function* sender1(ch: number, val: unknown) {
    yield* chsend(ch, val, -1);
  }
  function* sender2(ch: number, val: unknown) {
    yield* dill_yield();
    yield* chsend(ch, val, -1);
  }
  function* sender3(ch: number, val: unknown, deadline: number) {
    yield* msleep(deadline);
    yield* chsend(ch, val, -1);
  }
  function* receiver1(ch: number, expected: unknown) {
    const v = yield* chrecv(ch, -1);
    seen.push(v === expected ? "ok" : `received ${String(v)}, expected ${String(expected)}`);
  }
  function* receiver2(ch: number, expected: unknown) {
    yield* dill_yield();
    const v = yield* chrecv(ch, -1);
    seen.push(v === expected ? "ok" : `received ${String(v)}, expected ${String(expected)}`);
  }
  function* choosesender(ch: number, val: unknown) {
    seen.push(`choosesender ${yield* choose([{ op: CHSEND, ch, val }], -1)}`);
  }

  it("a non-blocking and a blocking receiver, a non-blocking and a blocking sender", async () => {
    await run(function* () {
      const ch1 = chmake();
      const h1 = go(sender1(ch1[0], 555));
      const cls1: ChooseClause[] = [{ op: CHRECV, ch: ch1[1] }];
      expect(yield* choose(cls1, -1)).toBe(0);
      expect(cls1[0]!.val).toBe(555);
      close(ch1[1], ch1[0], h1);

      const ch2 = chmake();
      const h2 = go(sender2(ch2[0], 666));
      const cls2: ChooseClause[] = [{ op: CHRECV, ch: ch2[1] }];
      expect(yield* choose(cls2, -1)).toBe(0);
      expect(cls2[0]!.val).toBe(666);
      close(ch2[1], ch2[0], h2);

      const ch3 = chmake();
      const h3 = go(receiver1(ch3[0], 777));
      expect(yield* choose([{ op: CHSEND, ch: ch3[1], val: 777 }], -1)).toBe(0);
      close(ch3[1], ch3[0], h3);

      const ch4 = chmake();
      const h4 = go(receiver2(ch4[0], 888));
      expect(yield* choose([{ op: CHSEND, ch: ch4[1], val: 888 }], -1)).toBe(0);
      close(ch4[1], ch4[0], h4);
      expect(seen.splice(0)).toEqual(["ok", "ok"]);
    });
  });

  it("two channels: the one with a sender wins, then the other once its sender comes", async () => {
    await run(function* () {
      const ch5 = chmake();
      const ch6 = chmake();
      const h5a = go(sender1(ch6[0], 555));
      const cls5: ChooseClause[] = [
        { op: CHRECV, ch: ch5[1] },
        { op: CHRECV, ch: ch6[1] },
      ];
      expect(yield* choose(cls5, -1)).toBe(1);
      expect(cls5[1]!.val).toBe(555);
      const h5b = go(sender2(ch5[0], 666));
      expect(yield* choose(cls5, -1)).toBe(0);
      expect(cls5[0]!.val).toBe(666);
      close(h5a, h5b, ch5[1], ch5[0], ch6[1], ch6[0]);
    });
  });

  it("an immediate timeout, and an empty clause list", async () => {
    await run(function* () {
      const ch9 = chmake();
      expect(yield* codeOf(choose([{ op: CHRECV, ch: ch9[0] }], 0))).toBe("ETIMEDOUT");
      close(ch9[1], ch9[0]);
      expect(yield* codeOf(choose([], 0))).toBe("ETIMEDOUT");
    });
  });

  it("two simultaneous senders, and two simultaneous receivers, against choose", async () => {
    await run(function* () {
      const ch10 = chmake();
      const h7 = [go(sender1(ch10[0], 888)), go(sender1(ch10[0], 999))];
      const cls8: ChooseClause[] = [{ op: CHRECV, ch: ch10[1] }];
      expect(yield* choose(cls8, -1)).toBe(0);
      expect(cls8[0]!.val).toBe(888);
      expect(yield* choose(cls8, -1)).toBe(0);
      expect(cls8[0]!.val).toBe(999);
      close(...h7, ch10[1], ch10[0]);

      const ch11 = chmake();
      const h8 = [go(receiver1(ch11[0], 333)), go(receiver1(ch11[0], 444))];
      expect(yield* choose([{ op: CHSEND, ch: ch11[1], val: 333 }], -1)).toBe(0);
      expect(yield* choose([{ op: CHSEND, ch: ch11[1], val: 444 }], -1)).toBe(0);
      close(...h8, ch11[1], ch11[0]);
      expect(seen.splice(0)).toEqual(["ok", "ok"]);
    });
  });

  it("choose against choose, and a large object waited for with bundle_wait on the go() handle", async () => {
    await run(function* () {
      const ch12 = chmake();
      const h9 = go(choosesender(ch12[0], 111));
      const cls10: ChooseClause[] = [{ op: CHRECV, ch: ch12[1] }];
      expect(yield* choose(cls10, -1)).toBe(0);
      expect(cls10[0]!.val).toBe(111);
      close(h9, ch12[1], ch12[0]);

      const ch17 = chmake();
      const large = new Uint8Array(1024);
      const h10 = go(sender1(ch17[0], large));
      const cls14: ChooseClause[] = [{ op: CHRECV, ch: ch17[1] }];
      expect(yield* choose(cls14, -1)).toBe(0);
      expect(cls14[0]!.val).toBe(large);
      close(ch17[1], ch17[0]);
      yield* bundle_wait(h10, -1);
      hclose(h10);
      expect(seen.splice(0)).toEqual(["choosesender 0"]);
    });
  });

  it("a receive on a done channel fires with EPIPE and the clause's index", async () => {
    await run(function* () {
      const ch18 = chmake();
      chdone(ch18[0]);
      const e = yield* failure(choose([{ op: CHRECV, ch: ch18[1] }], -1));
      expect([e.code, e.index]).toEqual(["EPIPE", 0]);
      close(ch18[1], ch18[0]);
    });
  });

  it("a deadline that expires, and one that does not", async () => {
    await run(function* () {
      const ch21 = chmake();
      let start = now();
      expect(yield* codeOf(choose([{ op: CHRECV, ch: ch21[1] }], start + 50))).toBe("ETIMEDOUT");
      expect(now() - start).toBe(50);
      close(ch21[1], ch21[0]);

      const ch22 = chmake();
      start = now();
      const h11 = go(sender3(ch22[0], 4444, start + 50));
      const cls18: ChooseClause[] = [{ op: CHRECV, ch: ch22[1] }];
      expect(yield* choose(cls18, start + 1000)).toBe(0);
      expect(cls18[0]!.val).toBe(4444);
      expect(now() - start).toBe(50);
      close(h11, ch22[0], ch22[1]);
    });
  });

  it("the first channel in the array is prioritized", async () => {
    await run(function* () {
      const ch23 = chmake();
      const ch24 = chmake();
      // Each sender runs inside go() until it parks in chsend: both are waiting before choose.
      const h12 = go(sender1(ch23[0], 0));
      const h13 = go(sender1(ch24[0], 0));
      const cls19: ChooseClause[] = [
        { op: CHRECV, ch: ch24[1] },
        { op: CHRECV, ch: ch23[1] },
      ];
      expect(yield* choose(cls19, -1)).toBe(0);
      yield* chrecv(ch23[1], -1);
      close(h13, h12, ch23[1], ch23[0], ch24[1], ch24[0]);
    });
  });

  it("the same channel twice in one choose is pointless but harmless", async () => {
    await run(function* () {
      const ch25 = chmake();
      const cls20: ChooseClause[] = [
        { op: CHRECV, ch: ch25[1] },
        { op: CHRECV, ch: ch25[1] },
      ];
      expect(yield* codeOf(choose(cls20, now() + 50))).toBe("ETIMEDOUT");
      close(ch25[1], ch25[0]);
    });
  });
});
