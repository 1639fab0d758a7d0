import { action, createScope, type Operation, run as effectionRun, sleep, spawn, suspend } from "effection";
import { afterEach, describe, expect, it } from "vitest";
import {
  abort_signal,
  chmake,
  chrecv,
  DillError,
  dill_configure,
  dill_stats,
  dill_yield,
  go,
  hclose,
  msleep,
  now,
  type Op,
  run,
} from "../src/index.js";
import {
  dill_effection_call,
  dill_effection_drain,
  dill_effection_go,
  effection_call,
  effection_drain,
  effection_go,
} from "../src/interop/effection.js";
import { codeOf, failure, LONG } from "./expect-dill.js";

/** A coroutine body made of one blocking call. */
function* body<T>(op: Op<T>): Generator<unknown, T, unknown> {
  return yield* op;
}

class Custom extends Error {
  readonly extra = 7;
}

/** Collect reported exceptions instead of printing them, for the current test. */
function collectUncaught(): unknown[] {
  const seen: unknown[] = [];
  dill_configure({ onUncaught: (e) => seen.push(e) });
  return seen;
}

afterEach(() => {
  dill_configure({ onUncaught: null });
});

describe("effection_call: an effection operation inside a coroutine", () => {
  it("returns the operation's value", async () => {
    const v = await run(function* () {
      return yield* effection_call(function* () {
        yield* sleep(2);
        return 42;
      }, now() + LONG);
    });
    expect(v).toBe(42);
    expect(dill_effection_call).toBe(effection_call);
  });

  it("throws the operation's error as the same object, subclass and all", async () => {
    const err = new Custom("from effection");
    await run(function* () {
      try {
        yield* effection_call(function* () {
          yield* sleep(1);
          throw err;
        }, now() + LONG);
        expect.fail("effection_call should have thrown");
      } catch (e) {
        expect(e).toBe(err);
        expect((e as Custom).extra).toBe(7);
      }
    });
  });

  it("passes a DillError raised on the effection side through with its errno", async () => {
    await run(function* () {
      const [a, b] = chmake();
      const e = yield* failure(
        effection_call(function* () {
          // A coroutine inside the operation inside a coroutine: the DillError crosses twice.
          return yield* effection_go(body(chrecv(a, now() + 5)));
        }, now() + LONG),
      );
      expect(e).toBeInstanceOf(DillError);
      expect(e.code).toBe("ETIMEDOUT");
      expect(e.errno).toBe(110);
      hclose(a);
      hclose(b);
    });
  });

  it("halts the task when the coroutine is closed: the effection finally blocks have run when hclose returns", async () => {
    await run(function* () {
      const log: string[] = [];
      const h = go(
        (function* () {
          try {
            yield* effection_call(function* () {
              yield* spawn(function* () {
                try {
                  yield* suspend();
                } finally {
                  log.push("effection child finally");
                }
              });
              try {
                yield* suspend();
              } finally {
                log.push("effection finally");
              }
            }, -1);
          } catch (e) {
            log.push(`coroutine: ${(e as DillError).code}`);
            throw e;
          } finally {
            log.push("coroutine finally");
          }
        })(),
      );
      yield* msleep(now() + 5);
      expect(log).toEqual([]);
      hclose(h);
      expect(log).toEqual([
        "effection finally",
        "effection child finally",
        "coroutine: ECANCELED",
        "coroutine finally",
      ]);
      yield* effection_drain(now() + LONG);
    });
  });

  it("halts the task at the deadline before failing with ETIMEDOUT", async () => {
    await run(function* () {
      const log: string[] = [];
      try {
        yield* effection_call(function* () {
          try {
            yield* suspend();
          } finally {
            log.push("effection finally");
          }
        }, now() + 10);
      } catch (e) {
        log.push((e as DillError).code);
      }
      expect(log).toEqual(["effection finally", "ETIMEDOUT"]);
      expect(yield* codeOf(effection_call(suspend, 0))).toBe("ETIMEDOUT");
      yield* effection_drain(now() + LONG);
    });
  });

  it("lets cleanup that suspends go on in effection, and effection_drain waits for it", async () => {
    await run(function* () {
      const log: string[] = [];
      const h = go(
        (function* () {
          yield* effection_call(function* () {
            try {
              yield* suspend();
            } finally {
              log.push("cleanup started");
              yield* sleep(20);
              log.push("cleanup ended");
            }
          }, -1);
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(log).toEqual(["cleanup started"]);
      expect(yield* codeOf(dill_effection_drain(0))).toBe("ETIMEDOUT");
      yield* effection_drain(now() + LONG);
      expect(log).toEqual(["cleanup started", "cleanup ended"]);
      // Nothing is left to wait for.
      yield* effection_drain(0);
    });
  });

  it("reports a failure in cleanup that outlived the wait through the uncaught handler", async () => {
    const seen = collectUncaught();
    const err = new Custom("cleanup failed");
    const before = dill_stats().uncaught;
    await run(function* () {
      const h = go(
        (function* () {
          yield* effection_call(function* () {
            try {
              yield* suspend();
            } finally {
              yield* sleep(2);
              throw err;
            }
          }, -1);
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(seen).toEqual([]);
      yield* effection_drain(now() + LONG);
    });
    expect(seen).toEqual([err]);
    expect(dill_stats().uncaught).toBe(before + 1);
  });

  it("throws the error of a task the operation waited for and that was halted, as the operation saw it", async () => {
    await run(function* () {
      let seen: unknown = null;
      try {
        yield* effection_call(function* () {
          // A task of another scope, halted while the operation waits for it.
          const scope = createScope();
          const [inner, destroy] = scope as unknown as [typeof scope, () => Promise<void>];
          const task = inner.run(suspend);
          yield* action<void>((resolve) => {
            void destroy().then(resolve);
            return () => {};
          });
          try {
            yield* task;
          } catch (e) {
            seen = e;
            throw e;
          }
        }, now() + LONG);
        expect.fail("effection_call should have thrown");
      } catch (e) {
        expect(e).toBe(seen);
        expect((e as Error).message).toBe("halted");
      }
    });
  });

  it("halts the task when run's AbortSignal cancels the root coroutine waiting for it", async () => {
    const ac = new AbortController();
    const log: string[] = [];
    const p = run(
      function* () {
        yield* effection_call(function* () {
          try {
            yield* suspend();
          } finally {
            log.push("effection finally");
          }
        }, -1);
      },
      { signal: ac.signal },
    );
    await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    expect(log).toEqual(["effection finally"]);
    await expect(p).rejects.toMatchObject({ code: "ECANCELED" });
    await run(body(effection_drain(now() + LONG)));
  });

  it("fails at once with ECANCELED in a cancelled coroutine, EINVAL for a bad argument, EPERM outside one", async () => {
    await run(function* () {
      const codes: string[] = [];
      const h = go(
        (function* () {
          try {
            yield* msleep(-1);
          } finally {
            codes.push(yield* codeOf(effection_call(function* () {}, -1)));
          }
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(codes).toEqual(["ECANCELED"]);
      expect(yield* codeOf(effection_call(42 as never, -1))).toBe("EINVAL");
      expect(yield* codeOf(effection_call(function* () {}, NaN))).toBe("EINVAL");
    });
    expect(() =>
      effection_call(function* () {}, -1)
        [Symbol.iterator]()
        .next(undefined),
    ).toThrow(expect.objectContaining({ code: "EPERM" }));
  });
});

describe("effection_go: a coroutine inside effection", () => {
  it("returns the coroutine's value to the effection operation", async () => {
    const v = await effectionRun(function* () {
      const a = yield* effection_go(
        (function* () {
          yield* msleep(now() + 2);
          return "from tsdill";
        })(),
      );
      const b = yield* dill_effection_go(
        (function* () {
          return 5;
        })(),
      );
      return `${a} ${b}`;
    });
    expect(v).toBe("from tsdill 5");
  });

  it("throws what the coroutine throws, the same object: a DillError keeps its code, a subclass its class", async () => {
    const err = new Custom("from tsdill");
    await effectionRun(function* () {
      try {
        yield* effection_go(
          (function* () {
            yield* dill_yield();
            throw err;
          })(),
        );
        expect.fail("effection_go should have thrown");
      } catch (e) {
        expect(e).toBe(err);
      }
      try {
        yield* effection_go(body(msleep(NaN)));
        expect.fail("effection_go should have thrown");
      } catch (e) {
        expect(e).toBeInstanceOf(DillError);
        expect((e as DillError).code).toBe("EINVAL");
      }
    });
  });

  it("cancels the coroutine when the task is halted: its blocking call fails with ECANCELED and its finally has run when the halt starts", async () => {
    const log: string[] = [];
    await effectionRun(function* () {
      const task = yield* spawn(() =>
        effection_go(
          (function* () {
            try {
              yield* msleep(-1);
            } catch (e) {
              log.push((e as DillError).code);
              throw e;
            } finally {
              log.push("coroutine finally");
            }
          })(),
        ),
      );
      yield* sleep(5);
      expect(dill_stats().coroutines).toBe(1);
      const halted = task.halt().then(() => log.push("halted"));
      expect(log).toEqual(["ECANCELED", "coroutine finally"]);
      yield* action<void>((resolve) => {
        void halted.then(() => resolve());
        return () => {};
      });
    });
    expect(log).toEqual(["ECANCELED", "coroutine finally", "halted"]);
  });

  it("carries cancellation through a coroutine into a nested effection task", async () => {
    const log: string[] = [];
    const task = effectionRun(function* () {
      yield* effection_go(
        (function* () {
          try {
            yield* effection_call(function* () {
              try {
                yield* suspend();
              } finally {
                log.push("inner effection finally");
              }
            }, -1);
          } finally {
            log.push("coroutine finally");
          }
        })(),
      );
    });
    await new Promise((r) => setTimeout(r, 5));
    await task.halt();
    expect(log).toEqual(["inner effection finally", "coroutine finally"]);
    await run(body(effection_drain(now() + LONG)));
  });

  it("reports an exception other than its cancellation that escapes a halted coroutine", async () => {
    const seen = collectUncaught();
    const err = new Custom("cleanup failed");
    const task = effectionRun(function* () {
      yield* effection_go(
        (function* () {
          try {
            yield* msleep(-1);
          } finally {
            throw err;
          }
        })(),
      );
    });
    await new Promise((r) => setTimeout(r, 5));
    await task.halt();
    expect(seen).toEqual([err]);
  });

  it("aborts the coroutine's abort_signal when the task is halted", async () => {
    let signal: AbortSignal | null = null;
    const task = effectionRun(function* () {
      yield* effection_go(
        (function* () {
          signal = abort_signal();
          yield* msleep(-1);
        })(),
      );
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(signal!.aborted).toBe(false);
    await task.halt();
    expect(signal!.aborted).toBe(true);
    expect((signal!.reason as DillError).code).toBe("ECANCELED");
  });

  it("fails with EINVAL for something that is not a generator object", async () => {
    await expect(effectionRun(() => effection_go((() => 1) as never))).rejects.toMatchObject({ code: "EINVAL" });
  });

  it("runs its coroutine beside the others of the process, counted by dill_stats", async () => {
    function* waitForever(): Operation<void> {
      yield* effection_go(body(msleep(-1)));
    }
    const task = effectionRun(waitForever);
    await new Promise((r) => setTimeout(r, 2));
    expect(dill_stats().coroutines).toBe(1);
    expect(dill_stats().timers).toBe(0);
    await task.halt();
    expect(dill_stats().coroutines).toBe(0);
  });
});
