import { describe, expect, it } from "vitest";
import {
  await_promise,
  bundle,
  bundle_go,
  bundle_wait,
  chmake,
  chrecv,
  chsend,
  dill_await_promise,
  dill_run,
  dill_stats,
  dill_yield,
  go,
  hclose,
  msleep,
  now,
  run,
} from "../src/index.js";
import { codeOf, failure, LONG } from "./expect-dill.js";

/** A Promise with its resolve and reject functions. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("run", () => {
  it("returns a Promise of the root coroutine's return value", async () => {
    const p = run(function* () {
      yield* dill_yield();
      return 42;
    });
    expect(p).toBeInstanceOf(Promise);
    expect(await p).toBe(42);
  });

  it("accepts a generator object as well as a generator function", async () => {
    function* main(x: number) {
      yield* msleep(0);
      return x * 2;
    }
    expect(await dill_run(main(21))).toBe(42);
  });

  it("rejects with the exception that escapes the root", async () => {
    const err = new Error("root failed");
    await expect(
      run(function* () {
        yield* msleep(now() + 1);
        throw err;
      }),
    ).rejects.toBe(err);
  });

  it("rejects with EINVAL for something that is not a generator", async () => {
    await expect(run(42 as never)).rejects.toMatchObject({ code: "EINVAL" });
    await expect(run((() => 42) as never)).rejects.toMatchObject({ code: "EINVAL" });
    expect(dill_stats().coroutines).toBe(0);
  });

  it("runs several roots side by side", async () => {
    const [x, y] = await Promise.all([
      run(function* () {
        for (let i = 0; i < 3; i++) yield* dill_yield();
        return "x";
      }),
      run(function* () {
        yield* msleep(now() + 2);
        return "y";
      }),
    ]);
    expect([x, y]).toEqual(["x", "y"]);
  });

  it("can be awaited from inside another coroutine", async () => {
    const v = await run(function* () {
      const inner = run(function* () {
        yield* msleep(now() + 1);
        return "inner";
      });
      return yield* await_promise(inner, now() + LONG);
    });
    expect(v).toBe("inner");
  });
});

describe("await_promise", () => {
  it("returns the value the Promise resolves with", async () => {
    await run(function* () {
      const d = deferred<string>();
      setTimeout(() => d.resolve("later"), 2);
      expect(yield* dill_await_promise(d.promise, now() + LONG)).toBe("later");
      expect(yield* await_promise(Promise.resolve(undefined), -1)).toBeUndefined();
      expect(yield* await_promise(Promise.resolve({ a: 1 }), -1)).toEqual({ a: 1 });
      expect(dill_stats().timers).toBe(0);
    });
  });

  it("throws the rejection reason as is", async () => {
    await run(function* () {
      const err = new Error("nope");
      try {
        yield* await_promise(Promise.reject(err), now() + LONG);
        expect.fail("await_promise should have thrown");
      } catch (e) {
        expect(e).toBe(err);
      }
      const d = deferred<number>();
      setTimeout(() => d.reject("plain reason"), 2);
      try {
        yield* await_promise(d.promise, -1);
        expect.fail("await_promise should have thrown");
      } catch (e) {
        expect(e).toBe("plain reason");
      }
    });
  });

  it("calls a factory with an AbortSignal that stays unaborted when the Promise settles", async () => {
    await run(function* () {
      let signal: AbortSignal | null = null;
      const v = yield* await_promise((s) => {
        signal = s;
        return Promise.resolve(5);
      }, now() + LONG);
      expect(v).toBe(5);
      expect(signal).toBeInstanceOf(AbortSignal);
      expect(signal!.aborted).toBe(false);
    });
  });

  it("accepts a thenable that settles later", async () => {
    await run(function* () {
      const later: PromiseLike<number> = {
        then(res, rej) {
          return Promise.resolve()
            .then(() => 8)
            .then(res, rej);
        },
      };
      expect(yield* await_promise(later, now() + LONG)).toBe(8);
    });
  });

  it("accepts a thenable that settles synchronously inside then()", async () => {
    await run(function* () {
      const sync: PromiseLike<number> = {
        then(res) {
          res?.(5);
          return this as never;
        },
      };
      const out: unknown[] = [];
      // In its own coroutine: a settlement that is missed must not hang the test.
      const h = go(
        (function* () {
          try {
            out.push(yield* await_promise(sync, -1));
          } catch (e) {
            out.push((e as { code?: string }).code ?? e);
          }
        })(),
      );
      yield* msleep(now() + 10);
      hclose(h);
      expect(out).toEqual([5]);
    });
  });

  it("lets other coroutines run while it waits", async () => {
    await run(function* () {
      const d = deferred<number>();
      const [a, b] = chmake<number>();
      const h = go(
        (function* () {
          const v = yield* chrecv<number>(b, -1);
          d.resolve(v + 1);
        })(),
      );
      const w = go(
        (function* () {
          yield* chsend(a, 1, -1);
        })(),
      );
      expect(yield* await_promise(d.promise, now() + LONG)).toBe(2);
      hclose(h);
      hclose(w);
      hclose(a);
      hclose(b);
    });
  });

  it("resumes every coroutine waiting for the same Promise", async () => {
    await run(function* () {
      const d = deferred<string>();
      const got: string[] = [];
      const bs = bundle();
      for (let i = 0; i < 3; i++) {
        bundle_go(
          bs,
          (function* () {
            got.push(yield* await_promise(d.promise, -1));
          })(),
        );
      }
      yield* dill_yield();
      d.resolve("all");
      yield* bundle_wait(bs, now() + LONG);
      expect(got).toEqual(["all", "all", "all"]);
      hclose(bs);
    });
  });

  it("aborts the factory's AbortSignal and fails with ECANCELED when the coroutine is cancelled", async () => {
    await run(function* () {
      let signal: AbortSignal | null = null;
      const codes: string[] = [];
      const h = go(
        (function* () {
          codes.push(
            yield* codeOf(
              await_promise((s) => {
                signal = s;
                return new Promise<never>(() => {});
              }, -1),
            ),
          );
        })(),
      );
      yield* dill_yield();
      expect(signal!.aborted).toBe(false);
      hclose(h);
      expect(signal!.aborted).toBe(true);
      expect(codes).toEqual(["ECANCELED"]);
    });
  });

  it("aborts the factory's AbortSignal and fails with ETIMEDOUT when the deadline expires", async () => {
    await run(function* () {
      let signal: AbortSignal | null = null;
      let abortedAtThrow: boolean | null = null;
      const e = yield* failure(
        (function* () {
          try {
            yield* await_promise((s) => {
              signal = s;
              return new Promise<never>(() => {});
            }, now() + 10);
          } finally {
            abortedAtThrow = signal!.aborted;
          }
        })(),
      );
      expect(e.code).toBe("ETIMEDOUT");
      expect(e.message).toContain("await_promise");
      expect(abortedAtThrow).toBe(true);
      expect(dill_stats().timers).toBe(0);
    });
  });

  it("fails with ETIMEDOUT at once for deadline 0 or a past deadline, without an unhandled rejection", async () => {
    await run(function* () {
      expect(yield* codeOf(await_promise(new Promise<never>(() => {}), 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(await_promise(Promise.reject(new Error("ignored")), 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(await_promise(new Promise<never>(() => {}), now() - 1))).toBe("ETIMEDOUT");
      expect(yield* codeOf(await_promise(() => new Promise<never>(() => {}), 0))).toBe("ETIMEDOUT");
      // Let the rejected Promise's handlers run: an unhandled rejection would fail the test run.
      yield* msleep(now() + 5);
    });
  });

  it("ignores a settlement that comes after the wait was cancelled, even when the coroutine's storage is reused", async () => {
    await run(function* () {
      const first = deferred<string>();
      const h = go(
        (function* () {
          yield* await_promise(first.promise, -1);
        })(),
      );
      yield* dill_yield();
      hclose(h);
      // A new coroutine, parked on something else (it may well reuse the same record).
      const [a, b] = chmake();
      const got: unknown[] = [];
      const h2 = go(
        (function* () {
          got.push(yield* chrecv(b, -1));
        })(),
      );
      yield* dill_yield();
      first.resolve("too late");
      yield* msleep(now() + 5);
      expect(got).toEqual([]);
      yield* chsend(a, "expected", 0);
      yield* dill_yield();
      expect(got).toEqual(["expected"]);
      hclose(h2);
      hclose(a);
      hclose(b);
    });
  });

  it("ignores a rejection that comes after the deadline expired", async () => {
    await run(function* () {
      const d = deferred<string>();
      expect(yield* codeOf(await_promise(d.promise, now() + 5))).toBe("ETIMEDOUT");
      d.reject(new Error("too late"));
      yield* msleep(now() + 5);
      // Still usable after the stale rejection.
      expect(yield* await_promise(Promise.resolve("fine"), now() + LONG)).toBe("fine");
    });
  });

  it("fails with ECANCELED at once in a cancelled coroutine without calling the factory", async () => {
    await run(function* () {
      const log: string[] = [];
      const h = go(
        (function* () {
          try {
            yield* msleep(-1);
          } finally {
            log.push(
              yield* codeOf(
                await_promise(() => {
                  log.push("factory called");
                  return Promise.resolve(1);
                }, -1),
              ),
            );
          }
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(log).toEqual(["ECANCELED"]);
    });
  });

  it("fails with EINVAL for something that is not a Promise, or a factory that returns none", async () => {
    await run(function* () {
      for (const bad of [42, null, undefined, {}, "p"]) {
        const e = yield* failure(await_promise(bad as never, -1));
        expect(e.code).toBe("EINVAL");
        expect(e.message).toContain("promise");
      }
      expect(yield* codeOf(await_promise((() => 42) as never, -1))).toBe("EINVAL");
    });
  });

  it("fails with EINVAL for a bad deadline", async () => {
    await run(function* () {
      for (const d of [NaN, -2, Infinity, "x"]) {
        const e = yield* failure(await_promise(Promise.resolve(1), d as number));
        expect(e.code).toBe("EINVAL");
        expect(e.message).toContain("deadline");
      }
    });
  });
});
