/**
 * Cancellation that holds at any depth: a chain of coroutines each closing the next in its
 * `finally`, however long, and a coroutine that catches ECANCELED and keeps making blocking calls.
 */
import { describe, expect, it } from "vitest";
import {
  brecv,
  bundle,
  bundle_go,
  chmake,
  chrecv,
  chsend,
  DillError,
  dill_configure,
  dill_stats,
  dill_yield,
  await_promise,
  go,
  hclose,
  ipc_pair,
  msleep,
  now,
  run,
} from "../src/index.js";
import { close } from "./expect-dill.js";

/** The bound of docs/go.md: steps nested on the JavaScript stack before tsdill queues or defers. */
const NESTING = 64;
/** The bound of docs/go.md: blocking calls refused after cancellation before a coroutine is stopped. */
const REFUSALS = 10_000;

interface Chain {
  /** finally blocks run, in the order they ran (by level, 0 = the root). */
  finals: number[];
  /** For each level, whether the level below had finished when its hclose returned. */
  closedBelow: boolean[];
  exited: Set<number>;
}

/** A chain of `n` coroutines, each launching the next and closing it in its finally block. */
function* link(c: Chain, level: number, n: number, ready: number): Generator<unknown, void, unknown> {
  const next = level + 1 < n ? go(link(c, level + 1, n, ready)) : -1;
  if (next < 0) yield* chsend(ready, "built", -1);
  try {
    yield* msleep(-1);
  } finally {
    if (next >= 0) {
      hclose(next);
      c.closedBelow[level] = c.exited.has(level + 1);
    }
    c.finals.push(level);
    c.exited.add(level);
  }
}

describe("hclose of a deep chain of coroutines", () => {
  it("runs every finally block of a 100,000-deep chain and leaves nothing alive when it returns", async () => {
    const N = 100_000;
    await run(function* () {
      const c: Chain = { finals: [], closedBelow: [], exited: new Set() };
      const [a, b] = chmake();
      const before = dill_stats();
      const root = go(link(c, 0, N, a));
      expect(yield* chrecv(b, -1)).toBe("built");
      expect(dill_stats().coroutines).toBe(before.coroutines + N);
      hclose(root);
      const after = dill_stats();
      expect(c.finals.length).toBe(N);
      expect(new Set(c.finals).size).toBe(N);
      expect(after.coroutines).toBe(before.coroutines);
      expect(after.handles).toBe(before.handles);
      expect(after.pool.used).toBe(before.pool.used);
      expect(after.uncaught).toBe(before.uncaught);
      close(a, b);
    });
  });

  it("bends in one documented way past 64 nested levels: the hclose there returns before its subtree finished", async () => {
    const N = 3 * NESTING;
    await run(function* () {
      const c: Chain = { finals: [], closedBelow: [], exited: new Set() };
      const [a, b] = chmake();
      const root = go(link(c, 0, N, a));
      yield* chrecv(b, -1);
      hclose(root); // from the root coroutine at depth 1: the root's finally runs at depth 2
      expect(c.finals.length).toBe(N);
      // Level k's finally runs at depth k + 2: its hclose finishes level k + 1 in place while that
      // stays below 64 levels; deeper, level k + 1 is finished right after level k's finally.
      const inPlace = c.closedBelow.map((x, k) => [k, x] as const);
      expect(inPlace.filter(([k]) => k + 3 < NESTING).every(([, x]) => x)).toBe(true);
      expect(inPlace.filter(([, x]) => !x).length).toBeGreaterThan(0);
      // Whatever the depth, every level below has finished when the outermost hclose returns,
      // and no finally block was skipped.
      expect([...c.finals].sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, k) => k));
      expect(dill_stats().coroutines).toBe(1);
      close(a, b);
    });
  });

  it("holds for a chain of bundles, each member closing the bundle of the next in its finally block", async () => {
    const N = 20_000;
    await run(function* () {
      let finals = 0;
      const [a, b] = chmake();
      function* member(level: number): Generator<unknown, void, unknown> {
        let inner = -1;
        if (level < N) {
          inner = bundle();
          bundle_go(inner, member(level + 1));
        } else {
          yield* chsend(a, "built", -1);
        }
        try {
          yield* msleep(-1);
        } finally {
          if (inner >= 0) hclose(inner);
          finals++;
        }
      }
      const outer = bundle();
      bundle_go(outer, member(1));
      yield* chrecv(b, -1);
      hclose(outer);
      expect(finals).toBe(N);
      expect(dill_stats().coroutines).toBe(1);
      expect(dill_stats().handles).toBe(2);
      close(a, b);
    });
  });

  it("finishes a coroutine cancelled while it runs that then parks in a call it had already entered", async () => {
    await run(function* () {
      const log: string[] = [];
      const self = { h: -1 };
      self.h = go(
        (function* () {
          yield* dill_yield();
          try {
            // A thenable whose then() closes the coroutine's own handle: await_promise has passed
            // its cancellation check and parks all the same.
            yield* await_promise({ then: () => hclose(self.h) } as unknown as PromiseLike<void>, -1);
          } catch (e) {
            log.push((e as DillError).code);
          } finally {
            log.push("finally");
          }
        })(),
      );
      yield* dill_yield();
      expect(log).toEqual(["ECANCELED", "finally"]);
      expect(dill_stats().coroutines).toBe(1);
    });
  });
});

describe("a coroutine that catches ECANCELED and keeps blocking", () => {
  /** Runs `body` with onUncaught collecting, returns what was reported. */
  async function collecting(body: () => Generator<unknown, void, unknown>, trace = false): Promise<unknown[]> {
    const reported: { error: unknown; site: string | null }[] = [];
    dill_configure({ onUncaught: (error, info) => reported.push({ error, site: info.site }), traceLaunch: trace });
    try {
      await run(body);
    } finally {
      dill_configure({ onUncaught: null, traceLaunch: false });
    }
    return reported;
  }

  function* stubborn(count: { calls: number; finals: string[] }) {
    try {
      try {
        for (;;) {
          try {
            count.calls++;
            yield* msleep(now() + 1000);
          } catch {
            // ignores ECANCELED and tries again
          }
        }
      } finally {
        count.finals.push("inner");
      }
    } finally {
      count.finals.push("outer");
    }
  }

  it("is stopped after a bounded number of refused calls: hclose returns, its finally blocks run, nothing leaks", async () => {
    const count = { calls: 0, finals: [] as string[] };
    const reported = await collecting(function* () {
      const before = dill_stats();
      const h = go(stubborn(count));
      hclose(h);
      expect(count.calls).toBe(REFUSALS + 2); // the first call parked; then REFUSALS refused; the next suspended
      expect(count.finals).toEqual(["inner", "outer"]);
      const after = dill_stats();
      expect(after.coroutines).toBe(before.coroutines);
      expect(after.handles).toBe(before.handles);
      expect(after.timers).toBe(0);
      expect(after.pool.used).toBe(before.pool.used);
    });
    expect(reported).toHaveLength(1);
    const { error, site } = reported[0] as { error: DillError; site: string | null };
    expect(error).toBeInstanceOf(DillError);
    expect(error.code).toBe("ECANCELED");
    expect(error.message).toMatch(/coroutine \d+ \(stubborn\) ignored its cancellation/);
    expect(error.message).toContain("msleep");
    expect(site).toBeNull();
  });

  it("names the launch site under traceLaunch", async () => {
    const count = { calls: 0, finals: [] as string[] };
    const reported = await collecting(function* () {
      hclose(go(stubborn(count)));
    }, true);
    expect(reported).toHaveLength(1);
    expect((reported[0] as { site: string }).site).toContain("cancel.test.ts");
  });

  it("runs finally blocks that keep blocking too, stopping them again", async () => {
    let rounds = 0;
    let reached = false;
    const reported = await collecting(function* () {
      const h = go(
        (function* stubbornCleanup() {
          try {
            yield* msleep(-1);
          } finally {
            try {
              for (;;) {
                try {
                  rounds++;
                  yield* dill_yield();
                } catch {
                  // and again
                }
              }
            } finally {
              reached = true;
            }
          }
        })(),
      );
      hclose(h);
      expect(dill_stats().coroutines).toBe(1);
    });
    expect(rounds).toBe(REFUSALS + 1);
    expect(reached).toBe(true);
    expect(reported).toHaveLength(1);
    expect((reported[0] as { error: Error }).error.message).toContain("stubbornCleanup");
  });

  it("is stopped the same way when its loop is on socket calls", async () => {
    let calls = 0;
    const reported = await collecting(function* () {
      const [s0, s1] = yield* ipc_pair();
      const h = go(
        (function* () {
          const buf = new Uint8Array(1);
          for (;;) {
            try {
              calls++;
              yield* brecv(s0, buf, 1, -1);
            } catch {
              // ECANCELED, then ECONNRESET-free ECANCELED again: ignored
            }
          }
        })(),
      );
      hclose(h);
      expect(calls).toBe(REFUSALS + 2);
      close(s0, s1);
    });
    expect(reported).toHaveLength(1);
  });

  it("is stopped the same way when it answers cancellation with bare yields", async () => {
    let yields = 0;
    const reported = await collecting(function* () {
      const h = go(
        (function* () {
          try {
            yield* msleep(-1);
          } catch {
            for (;;) {
              try {
                yields++;
                yield 1;
              } catch {
                // EINVAL each time: ignored
              }
            }
          }
        })(),
      );
      hclose(h);
      expect(dill_stats().coroutines).toBe(1);
    });
    expect(yields).toBe(REFUSALS + 1);
    expect(reported).toHaveLength(1);
  });
});
