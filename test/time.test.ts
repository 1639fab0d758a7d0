import { describe, expect, it } from "vitest";
import {
  await_promise,
  bundle,
  bundle_go,
  bundle_wait,
  chmake,
  chrecv,
  chsend,
  dill_msleep,
  dill_now,
  dill_stats,
  dill_yield,
  go,
  hclose,
  msleep,
  now,
  run,
} from "../src/index.js";
import { codeOf, failure, LONG, shuffled } from "./expect-dill.js";

const BAD_DEADLINES: unknown[] = [NaN, -2, -1.5, Infinity, -Infinity, "x", undefined, {}];
const NON_NUMBER_DEADLINES: [string, unknown][] = [
  ["null", null],
  ['"5"', "5"],
  ["true", true],
  ["[]", []],
];

describe("now", () => {
  it("never returns 0 or -1, and is a finite number of milliseconds", async () => {
    await run(function* () {
      for (let i = 0; i < 1000; i++) {
        const t = now();
        expect(Number.isFinite(t)).toBe(true);
        expect(t).not.toBe(0);
        expect(t).not.toBe(-1);
        expect(t).toBeGreaterThan(0);
      }
      expect(typeof dill_now()).toBe("number");
    });
  });

  it("is monotonic: it never goes backwards, across calls and across sleeps", async () => {
    await run(function* () {
      let prev = now();
      for (let i = 0; i < 10_000; i++) {
        const t = now();
        expect(t).toBeGreaterThanOrEqual(prev);
        prev = t;
      }
      for (let i = 0; i < 3; i++) {
        const d = now() + 3;
        yield* msleep(d);
        const t = now();
        expect(t).toBeGreaterThanOrEqual(d);
        expect(t).toBeGreaterThan(prev);
        prev = t;
      }
    });
  });
});

describe("msleep", () => {
  it("sleeps until the deadline: it never wakes before it", async () => {
    await run(function* () {
      for (const ms of [1, 10, 25]) {
        const d = now() + ms;
        yield* dill_msleep(d);
        expect(now()).toBeGreaterThanOrEqual(d);
      }
      expect(dill_stats().timers).toBe(0);
    });
  });

  it("honours a deadline with a fraction of a millisecond", async () => {
    await run(function* () {
      const d = now() + 2.5;
      yield* msleep(d);
      expect(now()).toBeGreaterThanOrEqual(Math.floor(d));
      expect(dill_stats().timers).toBe(0);
    });
  });

  it("with deadline 0 or in the past returns without waiting, letting other ready coroutines run first", async () => {
    await run(function* () {
      for (const d of [0, now() - 1, 1]) {
        const log: string[] = [];
        const h = go(
          (function* () {
            log.push("other");
          })(),
        );
        yield* msleep(d);
        log.push("back");
        expect(log).toEqual(["other", "back"]);
        expect(dill_stats().timers).toBe(0);
        hclose(h);
      }
    });
  });

  it("with deadline -1 sleeps until cancelled, then fails with ECANCELED", async () => {
    await run(function* () {
      const codes: string[] = [];
      const h = go(
        (function* () {
          codes.push(yield* codeOf(msleep(-1)));
        })(),
      );
      yield* msleep(now() + 20);
      expect(codes).toEqual([]);
      expect(dill_stats().timers).toBe(0); // no deadline, nothing in the timer heap
      hclose(h);
      expect(codes).toEqual(["ECANCELED"]);
    });
  });

  it("fails with ECANCELED when the sleeping coroutine is cancelled, and forgets its deadline", async () => {
    await run(function* () {
      const codes: string[] = [];
      const h = go(
        (function* () {
          codes.push(yield* codeOf(msleep(now() + LONG)));
          codes.push(yield* codeOf(msleep(now() + LONG)));
        })(),
      );
      yield* dill_yield();
      expect(dill_stats().timers).toBe(1);
      hclose(h);
      expect(codes).toEqual(["ECANCELED", "ECANCELED"]);
      expect(dill_stats().timers).toBe(0);
    });
  });

  it("fails with EINVAL naming the deadline for NaN, -2, Infinity, a string and other non-deadlines", async () => {
    await run(function* () {
      for (const d of BAD_DEADLINES) {
        const e = yield* failure(msleep(d as number));
        expect(e.code, `msleep(${String(d)})`).toBe("EINVAL");
        expect(e.message).toContain("msleep");
        expect(e.message).toContain("deadline");
      }
      expect(dill_stats().timers).toBe(0);
    });
  });

  it("fails with EINVAL for a deadline that is not a number, even one that coerces to a number", async () => {
    await run(function* () {
      // Each call runs in its own coroutine: a deadline wrongly taken as valid must not hang the test.
      const results: Record<string, string> = {};
      const hs: number[] = [];
      for (const [label, d] of NON_NUMBER_DEADLINES) {
        hs.push(
          go(
            (function* () {
              try {
                yield* msleep(d as number);
                results[label] = "returned";
              } catch (e) {
                results[label] = (e as { code: string }).code;
              }
            })(),
          ),
        );
      }
      yield* dill_yield();
      yield* dill_yield();
      for (const [label] of NON_NUMBER_DEADLINES) results[label] ??= "still sleeping";
      for (const h of hs) hclose(h);
      expect(results).toEqual(Object.fromEntries(NON_NUMBER_DEADLINES.map(([label]) => [label, "EINVAL"])));
    });
  });

  it("wakes a nearer deadline registered after a farther one without waiting for the farther", async () => {
    await run(function* () {
      const h = go(
        (function* () {
          yield* msleep(now() + LONG);
        })(),
      );
      yield* dill_yield();
      const d = now() + 10;
      yield* msleep(d);
      expect(now()).toBeGreaterThanOrEqual(d);
      hclose(h);
    });
  });

  it("still wakes the other sleepers when the earliest one is cancelled", async () => {
    await run(function* () {
      const woke: string[] = [];
      const early = go(
        (function* () {
          yield* msleep(now() + 5);
          woke.push("early");
        })(),
      );
      const b = bundle();
      bundle_go(
        b,
        (function* () {
          yield* msleep(now() + 15);
          woke.push("late");
        })(),
      );
      yield* dill_yield();
      hclose(early);
      yield* bundle_wait(b, now() + LONG);
      expect(woke).toEqual(["late"]);
      hclose(b);
    });
  });

  it("keeps a deadline further away than Node's longest timer (about 24.8 days) without waking early", async () => {
    await run(function* () {
      const log: string[] = [];
      const h = go(
        (function* () {
          yield* msleep(now() + 30 * 24 * 3600 * 1000);
          log.push("woke");
        })(),
      );
      yield* dill_yield();
      yield* msleep(now() + 20);
      expect(log).toEqual([]);
      expect(dill_stats().timers).toBe(1);
      hclose(h);
    });
  });

  it("wakes sleepers in the order of their deadlines, not of their calls", async () => {
    await run(function* () {
      const order: number[] = [];
      const b = bundle();
      const base = now() + 100; // ample time for all six to register first
      for (const off of [30, 10, 50, 0, 40, 20]) {
        bundle_go(
          b,
          (function* () {
            yield* msleep(base + off);
            order.push(off);
          })(),
        );
      }
      yield* bundle_wait(b, now() + LONG);
      expect(order).toEqual([0, 10, 20, 30, 40, 50]);
      hclose(b);
    });
  });
});

describe("the Node timer behind deadlines", () => {
  function* sender(ch: number, v: number) {
    yield* chsend(ch, v, -1);
  }
  const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

  it("does not keep the process alive once the last wait with a deadline has ended early", async () => {
    const before = timeouts();
    await run(function* () {
      const [a, b] = chmake();
      for (let i = 0; i < 100; i++) {
        const h = go(sender(a, i));
        expect(yield* chrecv(b, now() + LONG)).toBe(i);
        hclose(h);
        expect(dill_stats().timers).toBe(0);
        expect(timeouts()).toBe(before);
      }
      hclose(a);
      hclose(b);
    });
    expect(timeouts()).toBe(before);
  });

  it("still times out a later wait, whether its deadline is before or after the one the timer was armed for", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const h = go(sender(a, 1));
      expect(yield* chrecv(b, now() + 40)).toBe(1); // ends at once: the timer stays armed for +40
      hclose(h);
      let t = now();
      expect(yield* codeOf(chrecv(b, now() + 100))).toBe("ETIMEDOUT"); // after it
      expect(now() - t).toBeGreaterThanOrEqual(100);
      const h2 = go(sender(a, 2));
      expect(yield* chrecv(b, now() + LONG)).toBe(2);
      hclose(h2);
      t = now();
      expect(yield* codeOf(chrecv(b, now() + 20))).toBe("ETIMEDOUT"); // before it
      expect(now() - t).toBeGreaterThanOrEqual(20);
      expect(now() - t).toBeLessThan(LONG / 2);
      hclose(a);
      hclose(b);
    });
  });
});

describe("dill_yield", () => {
  it("lets Node's event loop run too: a coroutine that never stops yielding starves neither deadlines nor I/O", async () => {
    function* spinner(count: { n: number }) {
      for (;;) {
        count.n++;
        yield* dill_yield();
      }
    }
    await run(function* () {
      const count = { n: 0 };
      const sp = go(spinner(count));
      yield* msleep(now() + 20); // needs the timer callback, i.e. a turn of Node's event loop
      const spunDuringSleep = count.n;
      // and a Promise settled by a Node timer, another event-loop callback
      const v = yield* await_promise(new Promise((r) => setTimeout(() => r("settled"), 5)), -1);
      hclose(sp);
      expect(spunDuringSleep).toBeGreaterThan(0);
      expect(v).toBe("settled");
      expect(count.n).toBeGreaterThan(spunDuringSleep);
    });
  });

  it("lets the other ready coroutines run, then continues", async () => {
    await run(function* () {
      const log: string[] = [];
      const b = bundle();
      for (const name of ["a", "b"]) {
        bundle_go(
          b,
          (function* () {
            for (let i = 0; i < 3; i++) {
              log.push(`${name}${i}`);
              yield* dill_yield();
            }
          })(),
        );
      }
      yield* bundle_wait(b, now() + LONG);
      expect(log).toEqual(["a0", "b0", "a1", "b1", "a2", "b2"]);
      hclose(b);
    });
  });

  it("returns at once when no other coroutine is ready", async () => {
    await run(function* () {
      for (let i = 0; i < 100; i++) yield* dill_yield();
      expect(dill_stats().ready).toBe(0);
    });
  });

  it("does not starve timers: a coroutine spinning on dill_yield lets a sleeper wake", async () => {
    await run(function* () {
      let spins = 0;
      const h = go(
        (function* () {
          for (;;) {
            spins++;
            yield* dill_yield();
          }
        })(),
      );
      const d = now() + 10;
      yield* msleep(d);
      expect(now()).toBeGreaterThanOrEqual(d);
      expect(spins).toBeGreaterThan(0);
      hclose(h);
    });
  });

  it("does not starve Promise callbacks and I/O: a coroutine spinning on dill_yield lets a setTimeout fire", async () => {
    await run(function* () {
      const h = go(
        (function* () {
          for (;;) yield* dill_yield();
        })(),
      );
      const v = yield* await_promise(new Promise<string>((r) => setTimeout(() => r("fired"), 5)), now() + LONG);
      expect(v).toBe("fired");
      hclose(h);
    });
  });

  it("fails with ECANCELED in a cancelled coroutine, and keeps failing", async () => {
    await run(function* () {
      const codes: string[] = [];
      const h = go(
        (function* () {
          try {
            for (;;) yield* dill_yield();
          } catch (e) {
            codes.push((e as { code: string }).code);
          }
          codes.push(yield* codeOf(dill_yield()));
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(codes).toEqual(["ECANCELED", "ECANCELED"]);
    });
  });
});

describe("libdill scenarios", () => {
  it("wakes 10,000 coroutines sleeping on shuffled deadlines in deadline order", async () => {
    const N = 10_000;
    const SPREAD = 200;
    await run(function* () {
      const offsets = shuffled(Array.from({ length: N }, (_, i) => Math.floor((i * SPREAD) / N)));
      const woke: number[] = [];
      const early: number[] = [];
      let late = 0;
      const b = bundle();
      // Each sleeper registers as it is launched (inside bundle_go); give them ample time to.
      const start = { t0: now() + 300 };
      for (const off of offsets) {
        bundle_go(
          b,
          (function* () {
            const d = start.t0 + off;
            // A deadline already past when the call is made behaves like 0 (wakes at once), so
            // only the sleepers that registered in time take part in the order check.
            const onTime = now() < d;
            if (!onTime) late++;
            yield* msleep(d);
            if (now() < d) early.push(off);
            if (onTime) woke.push(off);
          })(),
        );
      }
      yield* bundle_wait(b, -1);
      expect(early).toEqual([]);
      expect(woke.length + late).toBe(N);
      expect(woke.length).toBeGreaterThan(0);
      for (let i = 1; i < woke.length; i++) {
        if (woke[i]! < woke[i - 1]!) expect.fail(`sleeper ${woke[i]} woke after ${woke[i - 1]}`);
      }
      hclose(b);
    });
  });
});
