import { describe, expect, it } from "vitest";
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
        const bn = bundle();
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
