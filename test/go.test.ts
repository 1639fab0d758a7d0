import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUNDLE_TYPE,
  BundleStorage,
  CHRECV,
  COROUTINE_TYPE,
  CoroutineStorage,
  await_promise,
  bundle,
  bundle_go,
  bundle_go_mem,
  bundle_wait,
  chmake,
  choose,
  chrecv,
  chsend,
  dill_configure,
  dill_go,
  dill_go_mem,
  dill_stats,
  dill_yield,
  go,
  go_mem,
  hclose,
  hquery,
  msleep,
  now,
  run,
  type Op,
} from "../src/index.js";
import { close, codeOf, failure, thrown } from "./expect-dill.js";

function* forever(log?: string[], name = "finally") {
  try {
    yield* msleep(-1);
  } finally {
    log?.push(name);
  }
}

function* noop() {}

/** Collect what escapes coroutines while `body` runs. */
async function reporting(body: (reported: unknown[]) => Promise<void>): Promise<void> {
  const reported: unknown[] = [];
  dill_configure({ onUncaught: (e) => reported.push(e) });
  try {
    await body(reported);
  } finally {
    dill_configure({ onUncaught: null });
  }
}

describe("go starts the coroutine at once (child-first, as libdill)", () => {
  it("runs the new coroutine inside go() until its first blocking call, then returns its handle", async () => {
    await run(function* () {
      const log: string[] = [];
      const h = go(
        (function* () {
          log.push("child starts");
          yield* msleep(now() + 20);
          log.push("child resumes");
        })(),
      );
      log.push("go returned");
      expect(Number.isInteger(h) && h >= 0).toBe(true);
      expect(log).toEqual(["child starts", "go returned"]);
      yield* bundle_wait(h, -1);
      expect(log).toEqual(["child starts", "go returned", "child resumes"]);
      hclose(h);
    });
  });

  it("runs a coroutine that never blocks to its end inside go()", async () => {
    await run(function* () {
      let done = false;
      const before = dill_stats().coroutines;
      const h = go(
        (function* () {
          done = true;
        })(),
      );
      expect(done).toBe(true);
      expect(dill_stats().coroutines).toBe(before); // finished already; only the handle is left
      expect(dill_stats().handlesByKind).toEqual({ coroutine: 1 });
      hclose(h);
    });
  });

  it("resumes the launcher as soon as the new coroutine first blocks, before the coroutines that were ready", async () => {
    await run(function* () {
      const log: string[] = [];
      const [a, b] = chmake();
      const other = go(
        (function* () {
          yield* chrecv(a, -1);
          log.push("other runs");
        })(),
      );
      yield* chsend(b, 1, -1); // `other` is ready now, not run yet
      const child = go(
        (function* () {
          log.push("child runs");
          yield* dill_yield();
          log.push("child runs again");
        })(),
      );
      log.push("launcher continues");
      yield* dill_yield();
      // libdill would have let `other` run before the launcher; tsdill resumes the launcher first.
      expect(log).toEqual(["child runs", "launcher continues", "other runs", "child runs again"]);
      close(other, child, a, b);
    });
  });

  it("starts coroutines launched by a starting coroutine at once too: the innermost runs first", async () => {
    await run(function* () {
      const log: string[] = [];
      function* level(n: number): Generator<unknown, void, unknown> {
        log.push(`start ${n}`);
        const h = n < 3 ? go(level(n + 1)) : -1;
        log.push(`launched ${n}`);
        try {
          yield* msleep(-1);
        } finally {
          if (h >= 0) hclose(h);
        }
      }
      const h = go(level(1));
      expect(log).toEqual(["start 1", "start 2", "start 3", "launched 3", "launched 2", "launched 1"]);
      hclose(h);
    });
  });

  it("queues launches nested deeper than 64 levels, so that no chain of launches can overflow the stack", async () => {
    const N = 20_000;
    await run(function* () {
      // nested[k]: level k started inside its launcher's go() call.
      const nested: boolean[] = [];
      let launching = -1;
      let started = 0;
      const [a, b] = chmake();
      function* level(n: number): Generator<unknown, void, unknown> {
        nested[n] = launching === n - 1;
        started++;
        let h = -1;
        if (n < N) {
          launching = n;
          h = go(level(n + 1));
          launching = -1;
        } else {
          yield* chsend(a, "deepest", -1);
        }
        try {
          yield* msleep(-1);
        } finally {
          if (h >= 0) hclose(h);
        }
      }
      launching = 0;
      const h = go(level(1));
      launching = -1;
      expect(yield* chrecv(b, -1)).toBe("deepest");
      expect(started).toBe(N);
      // The root runs at depth 1; levels 1 to 63 start inside go(), level 64 is queued, and so on.
      expect(nested.slice(1, 64).every((x) => x)).toBe(true);
      expect(nested[64]).toBe(false);
      expect(nested.slice(65, 127).every((x) => x)).toBe(true);
      expect(nested.filter((x) => x === false).length).toBeGreaterThanOrEqual(Math.floor(N / 64));
      hclose(h);
      expect(dill_stats().coroutines).toBe(1);
      close(a, b);
    });
  });

  it("runs the coroutine at once outside any coroutine too; the event loop drives it from its first blocking call", async () => {
    const log: string[] = [];
    const h = go(
      (function* () {
        log.push("started");
        try {
          yield* msleep(now() + 5);
          log.push("woke");
          yield* msleep(-1);
        } finally {
          log.push("finally");
        }
      })(),
    );
    expect(log).toEqual(["started"]);
    while (log.length < 2) await new Promise((r) => setTimeout(r, 2));
    hclose(h);
    expect(log).toEqual(["started", "woke", "finally"]);
  });

  it("reports an exception the new coroutine throws before it blocks; go() returns the handle, bundle_wait rethrows it", async () => {
    await reporting(async (reported) => {
      await run(function* () {
        const boom = new Error("boom at start");
        const h = go(
          (function* () {
            throw boom;
          })(),
        );
        expect(reported).toEqual([boom]);
        let caught: unknown = null;
        try {
          yield* bundle_wait(h, 0);
        } catch (e) {
          caught = e;
        }
        expect(caught).toBe(boom);
        hclose(h);
      });
    });
  });

  it("lets the new coroutine close its launcher's handle: go() returns, and the launcher's next blocking call fails", async () => {
    await run(function* () {
      const log: string[] = [];
      const parent = { h: -1 };
      function* child() {
        hclose(parent.h); // the launcher is on the stack, inside go(): it is marked cancelled
        log.push("child closed its parent");
        yield* msleep(-1);
      }
      function* launcher() {
        let c = -1;
        try {
          yield* dill_yield();
          c = go(child());
          log.push(`go returned a handle: ${c >= 0}`);
          log.push(`next call: ${yield* codeOf(msleep(now() + 1000))}`);
        } finally {
          if (c >= 0) hclose(c);
          log.push("launcher finally");
        }
      }
      parent.h = go(launcher());
      yield* dill_yield();
      yield* dill_yield();
      expect(log).toEqual([
        "child closed its parent",
        "go returned a handle: true",
        "next call: ECANCELED",
        "launcher finally",
      ]);
      expect(thrown(() => hclose(parent.h)).code).toBe("EBADF");
      expect(dill_stats().coroutines).toBe(1);
    });
  });

  it("throws EINVAL into a coroutine that yields a value instead of making a blocking call with yield*", async () => {
    await run(function* () {
      const codes: string[] = [];
      const h = go(
        (function* () {
          try {
            yield 5;
          } catch (e) {
            codes.push((e as { code: string }).code);
          }
        })(),
      );
      expect(codes).toEqual([]); // the stray yield suspended it inside go(); the error comes next turn
      yield* dill_yield();
      expect(codes).toEqual(["EINVAL"]);
      hclose(h);
    });
  });

  it("is also exported as dill_go and dill_go_mem", async () => {
    await run(function* () {
      hclose(dill_go(noop()));
      hclose(dill_go_mem(noop(), new CoroutineStorage()));
    });
  });

  it("passes the coroutine's arguments as in C: go(worker(a, b))", async () => {
    await run(function* () {
      const [a, b] = chmake<number>();
      function* add(ch: number, x: number, y: number) {
        yield* chsend(ch, x + y, -1);
      }
      const h = go(add(a, 2, 3));
      expect(yield* chrecv<number>(b, -1)).toBe(5);
      close(h, a, b);
    });
  });

  it("fails with EINVAL naming the argument when given a generator function instead of a generator object", async () => {
    await run(function* () {
      const before = dill_stats();
      for (const bad of [noop, 42, null, undefined, {}, "x", [1, 2]]) {
        const e = thrown(() => go(bad as never));
        expect(e.code).toBe("EINVAL");
        expect(e.message).toContain("go");
        expect(e.message).toContain("expr");
      }
      expect(thrown(() => go(noop as never)).message).toContain("not go(worker)");
      const after = dill_stats();
      expect(after.handles).toBe(before.handles);
      expect(after.pool.used).toBe(before.pool.used);
      expect(after.coroutines).toBe(before.coroutines);
    });
  });

  it("fails with ECANCELED when called from a cancelled coroutine, running nothing", async () => {
    await run(function* () {
      const codes: string[] = [];
      let launched = 0;
      const h = go(
        (function* () {
          try {
            yield* msleep(-1);
          } finally {
            try {
              go(
                (function* () {
                  launched++;
                })(),
              );
            } catch (e) {
              codes.push((e as { code: string }).code);
            }
          }
        })(),
      );
      hclose(h);
      expect(codes).toEqual(["ECANCELED"]);
      expect(launched).toBe(0);
    });
  });

  it("fails with EMFILE when the handle table is full, and leaks nothing", async () => {
    await run(function* () {
      const prev = dill_stats().maxHandles;
      const hs: number[] = [];
      // Freed numbers go round the table: bound it just above a number open now.
      hs.push(go(forever()));
      dill_configure({ handles: hs[0]! + 2 });
      try {
        for (let room = hs[0]! + 2 - dill_stats().handles; room > 0; room--) hs.push(go(forever()));
        const pool = dill_stats().pool.used;
        const coroutines = dill_stats().coroutines;
        const e = thrown(() => go(forever()));
        expect(e.code).toBe("EMFILE");
        expect(e.message).toContain("go");
        expect(dill_stats().pool.used).toBe(pool);
        expect(dill_stats().coroutines).toBe(coroutines);
      } finally {
        for (const h of hs) hclose(h);
        dill_configure({ handles: prev });
      }
      expect(dill_stats().maxHandles).toBe(prev);
      hclose(go(noop()));
    });
  });

  it("fails with ENOMEM when the storage pool is used up, and leaks nothing", async () => {
    await run(function* () {
      const prev = dill_stats().pool.capacity;
      const used = dill_stats().pool.used;
      dill_configure({ pool: used + 1 });
      const hs: number[] = [];
      try {
        hs.push(go(forever()));
        const handles = dill_stats().handles;
        const e = thrown(() => go(forever()));
        expect(e.code).toBe("ENOMEM");
        expect(e.message).toContain("go");
        expect(dill_stats().handles).toBe(handles);
        // go_mem does not draw on the pool.
        hs.push(go_mem(forever(), new CoroutineStorage()));
      } finally {
        for (const h of hs) hclose(h);
        dill_configure({ pool: prev });
      }
      expect(dill_stats().pool.capacity).toBe(prev);
    });
  });
});

describe("the handle of go() is a bundle of one (libdill 2)", () => {
  it("answers BUNDLE_TYPE, with a stable answer, and COROUTINE_TYPE", async () => {
    await run(function* () {
      const h = go(forever());
      expect(hquery(h, BUNDLE_TYPE)).toBe(hquery(h, BUNDLE_TYPE));
      expect(hquery(h, COROUTINE_TYPE)).toBe(hquery(h, BUNDLE_TYPE));
      bundle_go(h, forever());
      expect(hquery(h, BUNDLE_TYPE)).toBe(hquery(h, COROUTINE_TYPE)); // still the same object
      hclose(h);
      const m = go_mem(noop(), new CoroutineStorage());
      expect(hquery(m, BUNDLE_TYPE)).toBeInstanceOf(CoroutineStorage);
      hclose(m);
    });
  });

  it("bundle_wait waits until the coroutine has returned, and returns at once once it has", async () => {
    await run(function* () {
      const log: string[] = [];
      const h = go(
        (function* () {
          yield* msleep(now() + 10);
          log.push("returned");
        })(),
      );
      yield* bundle_wait(h, -1);
      expect(log).toEqual(["returned"]);
      yield* bundle_wait(h, 0);
      yield* bundle_wait(h, -1);
      hclose(h);
    });
  });

  it("bundle_wait fails with ETIMEDOUT while the coroutine runs, and the coroutine keeps running", async () => {
    await run(function* () {
      const log: string[] = [];
      const h = go(forever(log));
      expect(yield* codeOf(bundle_wait(h, 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(bundle_wait(h, now() + 10))).toBe("ETIMEDOUT");
      expect(log).toEqual([]);
      expect(dill_stats().coroutines).toBe(2);
      hclose(h);
      expect(log).toEqual(["finally"]);
    });
  });

  it("bundle_wait fails with ECANCELED when the waiter is cancelled", async () => {
    await run(function* () {
      const codes: string[] = [];
      const target = go(forever());
      const waiter = go(
        (function* () {
          codes.push(yield* codeOf(bundle_wait(target, -1)));
        })(),
      );
      hclose(waiter);
      expect(codes).toEqual(["ECANCELED"]);
      hclose(target);
    });
  });

  it("bundle_go adds coroutines to it: bundle_wait waits for all, hclose cancels all, in launch order", async () => {
    await run(function* () {
      const log: string[] = [];
      const h = go(forever(log, "first"));
      bundle_go(h, forever(log, "second"));
      bundle_go_mem(h, forever(log, "third"), new CoroutineStorage());
      expect(dill_stats().coroutines).toBe(4);
      expect(dill_stats().handlesByKind).toEqual({ coroutine: 1 });
      expect(yield* codeOf(bundle_wait(h, 0))).toBe("ETIMEDOUT");
      hclose(h);
      expect(log).toEqual(["first", "second", "third"]);
      expect(dill_stats().coroutines).toBe(1);

      const h2 = go(
        (function* () {
          yield* msleep(now() + 5);
        })(),
      );
      bundle_go(
        h2,
        (function* () {
          yield* msleep(now() + 15);
          log.push("added one returned");
        })(),
      );
      yield* bundle_wait(h2, -1);
      expect(log.at(-1)).toBe("added one returned");
      hclose(h2);
    });
  });

  it("bundle_go works on a go() handle whose coroutine has already returned", async () => {
    await run(function* () {
      const log: string[] = [];
      const h = go(noop());
      yield* bundle_wait(h, 0);
      bundle_go(h, forever(log));
      expect(yield* codeOf(bundle_wait(h, 0))).toBe("ETIMEDOUT");
      hclose(h);
      expect(log).toEqual(["finally"]);
      expect(dill_stats().pool.used).toBe(1); // this root only
    });
  });

  it("bundle_wait rethrows, once, an exception that escaped the coroutine; it was reported too", async () => {
    await reporting(async (reported) => {
      await run(function* () {
        const boom = new Error("boom");
        const h = go(
          (function* () {
            yield* msleep(now() + 5);
            throw boom;
          })(),
        );
        let caught: unknown = null;
        try {
          yield* bundle_wait(h, -1);
        } catch (e) {
          caught = e;
        }
        expect(caught).toBe(boom);
        expect(reported).toEqual([boom]);
        yield* bundle_wait(h, -1); // once only
        hclose(h);
      });
    });
  });

  it("frees its storage only when the handle is closed and every member has finished", async () => {
    await run(function* () {
      const mem = new CoroutineStorage();
      const h = go_mem(noop(), mem);
      expect(mem.inUse).toBe(true);
      bundle_go(h, forever());
      hclose(h);
      expect(mem.inUse).toBe(false);
      const h2 = go_mem(forever(), mem);
      hclose(h2);
      expect(mem.inUse).toBe(false);
    });
  });
});

describe("hclose on a coroutine", () => {
  it("has run the coroutine up to its first blocking call, and cancels it there", async () => {
    await run(function* () {
      const log: string[] = [];
      hclose(
        go(
          (function* () {
            log.push("ran");
            try {
              yield* msleep(-1);
            } catch (e) {
              log.push((e as { code: string }).code);
            }
          })(),
        ),
      );
      expect(log).toEqual(["ran", "ECANCELED"]);
    });
  });

  it("delivers ECANCELED in the blocked call, naming it", async () => {
    await run(function* () {
      const errs: string[] = [];
      const [a, b] = chmake();
      const h = go(
        (function* () {
          const e = yield* failure(chrecv(a, -1));
          errs.push(`${e.code} ${e.message}`);
        })(),
      );
      hclose(h);
      expect(errs).toHaveLength(1);
      expect(errs[0]).toMatch(/^ECANCELED chrecv/);
      close(a, b);
    });
  });

  it("fails every later blocking call with ECANCELED at once, so cleanup code cannot block", async () => {
    await run(function* () {
      const log: string[] = [];
      const [a, b] = chmake();
      const bn = bundle();
      let factoryCalled = false;
      const h = go(
        (function* () {
          try {
            yield* msleep(-1);
          } catch (e) {
            log.push(`msleep:${(e as { code: string }).code}`);
          }
          log.push(`msleep0:${yield* codeOf(msleep(0))}`);
          log.push(`msleep+:${yield* codeOf(msleep(now() + 100_000))}`);
          log.push(`yield:${yield* codeOf(dill_yield())}`);
          log.push(`chrecv:${yield* codeOf(chrecv(a, -1))}`);
          log.push(`chsend:${yield* codeOf(chsend(a, 1, 0))}`);
          log.push(`choose:${yield* codeOf(choose([{ op: CHRECV, ch: a }], -1))}`);
          log.push(`bundle_wait:${yield* codeOf(bundle_wait(bn, -1))}`);
          log.push(
            `await_promise:${yield* codeOf(
              await_promise(() => {
                factoryCalled = true;
                return Promise.resolve(1);
              }, -1),
            )}`,
          );
          log.push("end");
        })(),
      );
      hclose(h);
      expect(log).toEqual([
        "msleep:ECANCELED",
        "msleep0:ECANCELED",
        "msleep+:ECANCELED",
        "yield:ECANCELED",
        "chrecv:ECANCELED",
        "chsend:ECANCELED",
        "choose:ECANCELED",
        "bundle_wait:ECANCELED",
        "await_promise:ECANCELED",
        "end",
      ]);
      expect(factoryCalled).toBe(false);
      close(bn, a, b);
    });
  });

  it("runs the coroutine's finally blocks, innermost first, including those of nested calls", async () => {
    await run(function* () {
      const log: string[] = [];
      function* inner() {
        try {
          yield* msleep(-1);
        } finally {
          log.push("inner");
        }
      }
      const h = go(
        (function* () {
          try {
            yield* inner();
          } finally {
            log.push("outer");
          }
        })(),
      );
      hclose(h);
      expect(log).toEqual(["inner", "outer"]);
    });
  });

  it("throws ECANCELED at the parked call itself, through nested generators and an op written by hand", async () => {
    await run(function* () {
      const log: string[] = [];
      const [a, b] = chmake();
      // A hand-written op that passes next() and throw() on to the call it wraps.
      const wrap = <T>(op: Op<T>): Op<T> => ({
        [Symbol.iterator]() {
          const it = op[Symbol.iterator]();
          return {
            next: (v?: unknown) => it.next(v),
            throw: (e?: unknown) => it.throw!(e),
            return: (v?: unknown) => it.return!(v as T),
          };
        },
      });
      function* inner(op: number) {
        try {
          if (op === 0) yield* wrap(chrecv(a, -1));
          else if (op === 1) yield* msleep(-1);
          else yield* choose([{ op: CHRECV, ch: a }], -1);
        } catch (e) {
          log.push(`caught ${(e as { code?: string }).code} ${(e as { syscall?: string }).syscall}`);
          throw e;
        } finally {
          log.push("inner finally");
        }
      }
      function* outer(op: number) {
        try {
          yield* inner(op);
        } catch (e) {
          log.push(`outer ${(e as { code?: string }).code}`);
        }
        // Sticky: the next blocking call fails at once.
        try {
          yield* chrecv(a, -1);
        } catch (e) {
          log.push(`again ${(e as { code?: string }).code}`);
        }
      }
      for (const op of [0, 1, 2]) {
        hclose(go(outer(op)));
        expect(log.splice(0)).toEqual([
          `caught ECANCELED ${["chrecv", "msleep", "choose"][op]}`,
          "inner finally",
          "outer ECANCELED",
          "again ECANCELED",
        ]);
      }
      close(a, b);
    });
  });

  it("returns only after the coroutine has exited, with no tick passing", async () => {
    await run(function* () {
      const log: string[] = [];
      const before = dill_stats().coroutines;
      const h = go(forever(log));
      expect(dill_stats().coroutines).toBe(before + 1);
      hclose(h);
      // Checked synchronously: nothing else could have run in between.
      expect(log).toEqual(["finally"]);
      expect(dill_stats().coroutines).toBe(before);
      expect(dill_stats().handlesByKind.coroutine).toBeUndefined();
    });
  });

  it("removes the deadline of a coroutine cancelled while sleeping", async () => {
    await run(function* () {
      const h = go(
        (function* () {
          yield* msleep(now() + 100_000);
        })(),
      );
      expect(dill_stats().timers).toBe(1);
      hclose(h);
      expect(dill_stats().timers).toBe(0);
    });
  });

  it("cancels a coroutine that was woken but has not run yet: it gets its result, then its next blocking call fails", async () => {
    await run(function* () {
      const log: string[] = [];
      const [a, b] = chmake<number>();
      const h = go(
        (function* () {
          log.push(`got:${yield* chrecv<number>(a, -1)}`);
          log.push(`next:${yield* codeOf(msleep(0))}`);
        })(),
      );
      yield* chsend(b, 7, 0); // the receiver is parked: the send completes at once
      hclose(h);
      expect(log).toEqual(["got:7", "next:ECANCELED"]);
      close(a, b);
    });
  });

  it("cancels a coroutine that is yielding", async () => {
    await run(function* () {
      const log: string[] = [];
      let spins = 0;
      const h = go(
        (function* () {
          try {
            for (;;) {
              spins++;
              yield* dill_yield();
            }
          } catch (e) {
            log.push((e as { code: string }).code);
          }
        })(),
      );
      yield* dill_yield(); // the coroutine runs once more and yields again
      hclose(h); // its dill_yield returns, the loop goes round, and the next dill_yield fails
      expect(spins).toBe(3);
      expect(log).toEqual(["ECANCELED"]);
    });
  });

  it("waits for the coroutines a cancelled coroutine closes in its cleanup (structured cancellation)", async () => {
    await run(function* () {
      const log: string[] = [];
      function* parent() {
        const c = go(forever(log, "child"));
        try {
          yield* msleep(-1);
        } finally {
          hclose(c);
          log.push("parent");
        }
      }
      const h = go(parent());
      hclose(h);
      expect(log).toEqual(["child", "parent"]);
      expect(dill_stats().coroutines).toBe(1);
    });
  });

  it("just frees the handle of a coroutine that has already finished", async () => {
    await run(function* () {
      let finished = false;
      const h = go(
        (function* () {
          finished = true;
          return 42;
        })(),
      );
      expect(finished).toBe(true);
      expect(dill_stats().coroutines).toBe(1); // only this root
      expect(dill_stats().handlesByKind.coroutine).toBe(1); // the handle lives until closed
      hclose(h);
      expect(dill_stats().handlesByKind.coroutine).toBeUndefined();
      expect(thrown(() => hclose(h)).code).toBe("EBADF");
    });
  });

  it("starts a hand-written iterator body at once too: next() runs inside go()", async () => {
    await run(function* () {
      const calls: string[] = [];
      const iter = {
        next: () => {
          calls.push("next");
          return { done: true, value: undefined };
        },
        throw: (e: unknown) => {
          throw e;
        },
        return: () => {
          calls.push("return");
          return { done: true, value: undefined };
        },
      };
      const h = go(iter);
      expect(calls).toEqual(["next"]);
      hclose(h);
      expect(calls).toEqual(["next"]);
    });
  });

  it("fails with EBADF on a handle already closed", async () => {
    await run(function* () {
      const h = go(forever());
      hclose(h);
      const e = thrown(() => hclose(h));
      expect(e.code).toBe("EBADF");
      expect(e.message).toContain("hclose");
    });
  });

  it("works from outside any coroutine too", () => {
    const log: string[] = [];
    const h = go(forever(log));
    hclose(h);
    expect(log).toEqual(["finally"]);
  });

  it("lets a coroutine close its own handle: it is cancelled at its next blocking call and freed when it ends", async () => {
    await run(function* () {
      const log: string[] = [];
      const self = { h: -1 };
      self.h = go(
        (function* () {
          yield* dill_yield();
          hclose(self.h);
          log.push("still running");
          log.push(yield* codeOf(msleep(now() + 100_000)));
        })(),
      );
      yield* dill_yield();
      expect(log).toEqual(["still running", "ECANCELED"]);
      expect(dill_stats().coroutines).toBe(1);
      expect(dill_stats().pool.used).toBe(1);
      expect(thrown(() => hclose(self.h)).code).toBe("EBADF");
    });
  });

  describe("exceptions escaping coroutines", () => {
    it("reports an exception escaping a non-root coroutine to the onUncaught handler, not swallowing it", async () => {
      await reporting(async (reported) => {
        await run(function* () {
          const boom = new Error("boom");
          const before = dill_stats().uncaught;
          const h = go(
            (function* () {
              yield* dill_yield();
              throw boom;
            })(),
          );
          yield* dill_yield();
          expect(reported).toEqual([boom]);
          expect(dill_stats().uncaught).toBe(before + 1);
          hclose(h);
        });
      });
    });

    it("reports an exception thrown from a cancelled coroutine's cleanup", async () => {
      await reporting(async (reported) => {
        await run(function* () {
          const oops = new Error("cleanup failed");
          const h = go(
            (function* () {
              try {
                yield* msleep(-1);
              } finally {
                throw oops;
              }
            })(),
          );
          hclose(h);
          expect(reported).toEqual([oops]);
        });
      });
    });

    it("does not report a coroutine's own cancellation", async () => {
      await reporting(async (reported) => {
        await run(function* () {
          hclose(go(forever()));
          yield* dill_yield();
          expect(reported).toEqual([]);
        });
      });
    });

    it("run() rejects with the exception that escaped the root coroutine", async () => {
      const boom = new Error("root failed");
      await expect(
        run(function* () {
          yield* dill_yield();
          throw boom;
        }),
      ).rejects.toBe(boom);
    });

    it("run() rejects with the DillError a blocking call threw in the root", async () => {
      const p = run(function* () {
        yield* msleep(0);
        yield* chrecv(123456, 0);
      });
      await expect(p).rejects.toMatchObject({ code: "EBADF" });
    });
  });
});

describe("go_mem", () => {
  it("runs the coroutine in caller storage, drawing nothing from the pool", async () => {
    await run(function* () {
      const mem = new CoroutineStorage();
      const used = dill_stats().pool.used;
      const [a, b] = chmake();
      const pooled = dill_stats().pool.used;
      const h = go_mem(
        (function* () {
          yield* chsend(a, "hi", -1);
        })(),
        mem,
      );
      expect(dill_stats().pool.used).toBe(pooled);
      expect(yield* chrecv(b, -1)).toBe("hi");
      close(h, a, b);
      expect(dill_stats().pool.used).toBe(used);
    });
  });

  it("fails with EBUSY while the storage is in use, even after the coroutine finished, until its handle is closed", async () => {
    await run(function* () {
      const mem = new CoroutineStorage();
      const h = go_mem(noop(), mem);
      const e = thrown(() => go_mem(noop(), mem));
      expect(e.code).toBe("EBUSY");
      expect(e.message).toContain("go_mem");
      expect(e.message).toContain("mem");
      expect(dill_stats().coroutines).toBe(1);
      expect(thrown(() => go_mem(noop(), mem)).code).toBe("EBUSY");
      hclose(h);
    });
  });

  it("makes the storage reusable after hclose", async () => {
    await run(function* () {
      const mem = new CoroutineStorage();
      const log: string[] = [];
      for (let i = 0; i < 3; i++) hclose(go_mem(forever(log), mem));
      hclose(
        go_mem(
          (function* () {
            log.push("last");
          })(),
          mem,
        ),
      );
      expect(log).toEqual(["finally", "finally", "finally", "last"]);
    });
  });

  it("fails with EINVAL for storage of the wrong class, and for a non-generator expr", async () => {
    await run(function* () {
      const e = thrown(() => go_mem(noop(), new BundleStorage() as never));
      expect(e.code).toBe("EINVAL");
      expect(e.message).toContain("mem");
      const e2 = thrown(() => go_mem(noop as never, new CoroutineStorage()));
      expect(e2.code).toBe("EINVAL");
      expect(e2.message).toContain("expr");
    });
  });

  it("fails with ECANCELED when called from a cancelled coroutine", async () => {
    await run(function* () {
      const codes: string[] = [];
      const mem = new CoroutineStorage();
      const h = go(
        (function* () {
          try {
            yield* msleep(-1);
          } finally {
            codes.push(thrown(() => go_mem(noop(), mem)).code);
          }
        })(),
      );
      hclose(h);
      expect(codes).toEqual(["ECANCELED"]);
      // The storage was not taken by the failed call.
      hclose(go_mem(noop(), mem));
    });
  });

  it("reports EMFILE when the handle table is full and leaves the storage free", async () => {
    await run(function* () {
      const prev = dill_stats().maxHandles;
      const h = go(forever());
      dill_configure({ handles: h + 1 });
      const hs = [h];
      const mem = new CoroutineStorage();
      try {
        for (let room = h + 1 - dill_stats().handles; room > 0; room--) hs.push(go(forever()));
        expect(thrown(() => go_mem(noop(), mem)).code).toBe("EMFILE");
        expect(mem.inUse).toBe(false);
      } finally {
        for (const x of hs) hclose(x);
        dill_configure({ handles: prev });
      }
      hclose(go_mem(noop(), mem));
    });
  });
});

describe("libdill's tests/go*.c, ported", () => {
  beforeAll(() => dill_configure({ clock: "virtual" }));
  afterAll(() => dill_configure({ clock: "real" }));

  it("go1: coroutines that yield in turn all run; closing them after a sleep", async () => {
    await run(function* () {
      let sum = 0;
      function* worker(count: number, n: number) {
        for (let i = 0; i < count; i++) {
          sum += n;
          yield* dill_yield();
        }
      }
      const cr1 = go(worker(3, 7));
      const cr2 = go(worker(1, 11));
      const cr3 = go(worker(2, 5));
      yield* msleep(now() + 100);
      close(cr1, cr2, cr3);
      expect(sum).toBe(42);
    });
  });

  it("go2: twenty sleeping coroutines are freed after they finished", async () => {
    await run(function* () {
      function* dummy() {
        yield* msleep(now() + 50);
      }
      const hs: number[] = [];
      for (let i = 0; i < 20; i++) hs.push(go(dummy()));
      yield* msleep(now() + 100);
      expect(dill_stats().coroutines).toBe(1);
      close(...hs);
    });
  });

  it("go3: a cancelled coroutine's blocking calls fail with ECANCELED, the first and every later one", async () => {
    await run(function* () {
      let done = 0;
      function* worker() {
        expect(yield* codeOf(msleep(now() + 1000))).toBe("ECANCELED");
        expect(yield* codeOf(msleep(now() + 1000))).toBe("ECANCELED");
        done++;
      }
      const hs = [go(worker()), go(worker()), go(worker())];
      yield* msleep(now() + 30);
      close(...hs);
      expect(done).toBe(3);
    });
  });

  it("go4: a finished coroutine can be closed, and nothing is left running", async () => {
    await run(function* () {
      hclose(go(noop()));
      yield* msleep(now() + 100);
      expect(dill_stats().coroutines).toBe(1);
    });
  });

  it("go5: go_mem with caller storage, five times over", async () => {
    await run(function* () {
      function* dummy() {
        yield* msleep(now() + 50);
      }
      for (let i = 0; i < 5; i++) {
        const mem = new CoroutineStorage();
        const cr = go_mem(dummy(), mem);
        yield* msleep(now() + 100);
        hclose(cr);
        expect(mem.inUse).toBe(false);
      }
    });
  });
});

describe("libdill scenarios", () => {
  it("passes a value along a chain of 10,000 coroutines (whispers)", async () => {
    const N = 10_000;
    const result = await run(function* () {
      function* whisper(left: number, right: number) {
        const v = yield* chrecv<number>(right, -1);
        yield* chsend(left, v + 1, -1);
      }
      const hs: number[] = [];
      const chans: number[] = [];
      const [leftmost, first] = chmake<number>();
      chans.push(leftmost, first);
      let left = first;
      for (let i = 0; i < N; i++) {
        const [l, r] = chmake<number>();
        chans.push(l, r);
        hs.push(go(whisper(left, l)));
        left = r;
      }
      yield* chsend(left, 1, -1);
      const v = yield* chrecv<number>(leftmost, -1);
      close(...hs, ...chans);
      return v;
    });
    expect(result).toBe(N + 1);
  });

  it("cancels 10,000 coroutines blocked on channels through their individual handles", async () => {
    const N = 10_000;
    await run(function* () {
      const [a, b] = chmake();
      let cancelled = 0;
      const hs: number[] = [];
      for (let i = 0; i < N; i++) {
        hs.push(
          go(
            (function* () {
              try {
                yield* chrecv(a, -1);
              } catch (e) {
                if ((e as { code: string }).code === "ECANCELED") cancelled++;
              }
            })(),
          ),
        );
      }
      expect(dill_stats().coroutines).toBe(N + 1);
      close(...hs);
      expect(cancelled).toBe(N);
      expect(dill_stats().coroutines).toBe(1);
      // Nothing is left parked on the channel: a send finds no receiver.
      expect(yield* codeOf(chsend(b, 1, 0))).toBe("ETIMEDOUT");
      close(a, b);
    });
  });
});
