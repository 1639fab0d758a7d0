import { describe, expect, it } from "vitest";
import {
  BundleStorage,
  CHRECV,
  CoroutineStorage,
  await_promise,
  bundle,
  bundle_wait,
  chmake,
  choose,
  chrecv,
  chsend,
  dill_configure,
  dill_go,
  dill_stats,
  dill_yield,
  go,
  go_mem,
  hclose,
  msleep,
  now,
  run,
} from "../src/index.js";
import { codeOf, failure, thrown } from "./expect-dill.js";

function* forever(log?: string[]) {
  try {
    yield* msleep(-1);
  } finally {
    log?.push("finally");
  }
}

function* noop() {}

describe("go", () => {
  it("returns a handle at once and starts the coroutine at the next scheduling point, not inside go()", async () => {
    await run(function* () {
      const log: string[] = [];
      const h = go(
        (function* () {
          log.push("ran");
        })(),
      );
      expect(Number.isInteger(h) && h >= 0).toBe(true);
      expect(log).toEqual([]);
      yield* dill_yield();
      expect(log).toEqual(["ran"]);
      hclose(h);
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
      yield* dill_yield();
      yield* dill_yield();
      expect(codes).toEqual(["EINVAL"]);
      hclose(h);
    });
  });

  it("is also exported as dill_go", async () => {
    await run(function* () {
      const h = dill_go(noop());
      yield* dill_yield();
      hclose(h);
    });
  });

  it("passes the coroutine's arguments as in C: go(worker(a, b))", async () => {
    await run(function* () {
      const [a, b] = chmake();
      function* add(ch: number, x: number, y: number) {
        yield* chsend(ch, x + y, -1);
      }
      const h = go(add(a, 2, 3));
      expect(yield* chrecv<number>(b, -1)).toBe(5);
      hclose(h);
      hclose(a);
      hclose(b);
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
      const after = dill_stats();
      expect(after.handles).toBe(before.handles);
      expect(after.pool.used).toBe(before.pool.used);
      expect(after.coroutines).toBe(before.coroutines);
    });
  });

  it("fails with ECANCELED when called from a cancelled coroutine", async () => {
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
      yield* dill_yield();
      hclose(h);
      expect(codes).toEqual(["ECANCELED"]);
      yield* dill_yield();
      expect(launched).toBe(0);
    });
  });

  it("fails with EMFILE when the handle table is full, and leaks nothing", async () => {
    await run(function* () {
      const prev = dill_stats().maxHandles;
      const open = dill_stats().handles;
      dill_configure({ handles: open + 2 });
      const hs: number[] = [];
      try {
        hs.push(go(forever()));
        hs.push(go(forever()));
        const pool = dill_stats().pool.used;
        const e = thrown(() => go(forever()));
        expect(e.code).toBe("EMFILE");
        expect(e.message).toContain("go");
        expect(dill_stats().pool.used).toBe(pool);
        expect(dill_stats().coroutines).toBe(3);
      } finally {
        for (const h of hs) hclose(h);
        dill_configure({ handles: prev });
      }
      expect(dill_stats().maxHandles).toBe(prev);
      // With room again, go works.
      const h = go(noop());
      hclose(h);
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
        const mem = new CoroutineStorage();
        hs.push(go_mem(forever(), mem));
      } finally {
        for (const h of hs) hclose(h);
        dill_configure({ pool: prev });
      }
      expect(dill_stats().pool.capacity).toBe(prev);
    });
  });
});

describe("hclose on a coroutine", () => {
  it("delivers ECANCELED in the blocked call", async () => {
    await run(function* () {
      const codes: string[] = [];
      const [a, b] = chmake();
      const h = go(
        (function* () {
          codes.push(yield* codeOf(chrecv(a, -1)));
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(codes).toEqual(["ECANCELED"]);
      hclose(a);
      hclose(b);
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
      yield* dill_yield();
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
      hclose(bn);
      hclose(a);
      hclose(b);
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
      yield* dill_yield();
      hclose(h);
      expect(log).toEqual(["inner", "outer"]);
    });
  });

  it("returns only after the coroutine has exited, with no tick passing", async () => {
    await run(function* () {
      const log: string[] = [];
      const before = dill_stats().coroutines;
      const h = go(forever(log));
      yield* dill_yield();
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
      yield* dill_yield();
      expect(dill_stats().timers).toBe(1);
      hclose(h);
      expect(dill_stats().timers).toBe(0);
    });
  });

  it("cancels a coroutine that was woken but has not run yet: it gets its result, then its next blocking call fails", async () => {
    await run(function* () {
      const log: string[] = [];
      const [a, b] = chmake();
      const h = go(
        (function* () {
          log.push(`got:${yield* chrecv<number>(a, -1)}`);
          log.push(`next:${yield* codeOf(msleep(0))}`);
        })(),
      );
      yield* dill_yield();
      yield* chsend(b, 7, 0); // the receiver is parked: the send completes at once
      hclose(h);
      expect(log).toEqual(["got:7", "next:ECANCELED"]);
      hclose(a);
      hclose(b);
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
      yield* dill_yield();
      yield* dill_yield();
      hclose(h);
      expect(spins).toBeGreaterThan(0);
      expect(log).toEqual(["ECANCELED"]);
    });
  });

  it("waits for the coroutines a cancelled coroutine closes in its cleanup (structured cancellation)", async () => {
    await run(function* () {
      const log: string[] = [];
      function* child() {
        try {
          yield* msleep(-1);
        } finally {
          log.push("child");
        }
      }
      function* parent() {
        const c = go(child());
        try {
          yield* msleep(-1);
        } finally {
          hclose(c);
          log.push("parent");
        }
      }
      const h = go(parent());
      yield* dill_yield();
      yield* dill_yield();
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
      yield* dill_yield();
      expect(finished).toBe(true);
      expect(dill_stats().coroutines).toBe(1); // only this root
      expect(dill_stats().handlesByKind.coroutine).toBe(1); // the handle lives until closed
      hclose(h);
      expect(dill_stats().handlesByKind.coroutine).toBeUndefined();
      expect(thrown(() => hclose(h)).code).toBe("EBADF");
    });
  });

  it("never runs a coroutine closed before it had a chance to run", async () => {
    await run(function* () {
      let ran = false;
      const h = go(
        (function* () {
          ran = true;
          yield* msleep(-1);
        })(),
      );
      hclose(h);
      yield* dill_yield();
      yield* msleep(now() + 5);
      expect(ran).toBe(false);
      expect(dill_stats().coroutines).toBe(1);
    });
  });

  it("calls return() of a hand-written iterator closed before it ran, and drops a generator unstarted", async () => {
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
      hclose(go(iter));
      expect(calls).toEqual(["return"]);
      let ran = false;
      const gen = (function* () {
        ran = true;
      })();
      hclose(go(gen));
      yield* dill_yield();
      expect(ran).toBe(false);
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

  it("works from outside any coroutine too", async () => {
    const log: string[] = [];
    const h = go(forever(log));
    await new Promise((r) => setImmediate(r));
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
      yield* dill_yield();
      expect(log).toEqual(["still running", "ECANCELED"]);
      expect(dill_stats().coroutines).toBe(1);
      expect(dill_stats().pool.used).toBe(1);
      expect(thrown(() => hclose(self.h)).code).toBe("EBADF");
    });
  });

  it("cancels a chain of 1,000 coroutines, each closing the next in its cleanup, before hclose returns", async () => {
    const N = 1000;
    await run(function* () {
      let exited = 0;
      function* node(depth: number): Generator<unknown, void, unknown> {
        const child = depth > 0 ? go(node(depth - 1)) : -1;
        try {
          yield* msleep(-1);
        } finally {
          if (child >= 0) hclose(child);
          exited++;
        }
      }
      const h = go(node(N - 1));
      while (dill_stats().coroutines < N + 1) yield* dill_yield();
      yield* dill_yield();
      hclose(h);
      expect(exited).toBe(N);
      expect(dill_stats().coroutines).toBe(1);
    });
  });

  it("names the interrupted call in the ECANCELED message", async () => {
    await run(function* () {
      const errs: string[] = [];
      const [a, b] = chmake();
      const h = go(
        (function* () {
          const e = yield* failure(chrecv(a, -1));
          errs.push(e.message);
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(errs).toHaveLength(1);
      expect(errs[0]).toContain("chrecv");
      hclose(a);
      hclose(b);
    });
  });

  describe("exceptions escaping coroutines", () => {
    it("reports an exception escaping a non-root coroutine to the onUncaught handler, not swallowing it", async () => {
      const reported: unknown[] = [];
      dill_configure({ onUncaught: (e) => reported.push(e) });
      try {
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
          yield* dill_yield();
          expect(reported).toEqual([boom]);
          expect(dill_stats().uncaught).toBe(before + 1);
          hclose(h);
        });
      } finally {
        dill_configure({ onUncaught: null });
      }
    });

    it("reports an exception thrown from a cancelled coroutine's cleanup", async () => {
      const reported: unknown[] = [];
      dill_configure({ onUncaught: (e) => reported.push(e) });
      try {
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
          yield* dill_yield();
          hclose(h);
          expect(reported).toEqual([oops]);
        });
      } finally {
        dill_configure({ onUncaught: null });
      }
    });

    it("does not report a coroutine's own cancellation", async () => {
      const reported: unknown[] = [];
      dill_configure({ onUncaught: (e) => reported.push(e) });
      try {
        await run(function* () {
          const h = go(forever());
          yield* dill_yield();
          hclose(h);
          yield* dill_yield();
          expect(reported).toEqual([]);
        });
      } finally {
        dill_configure({ onUncaught: null });
      }
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
        hclose(h);
        hclose(a);
        hclose(b);
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
        yield* dill_yield();
        expect(dill_stats().coroutines).toBe(1);
        expect(thrown(() => go_mem(noop(), mem)).code).toBe("EBUSY");
        hclose(h);
      });
    });

    it("makes the storage reusable after hclose", async () => {
      await run(function* () {
        const mem = new CoroutineStorage();
        const log: string[] = [];
        for (let i = 0; i < 3; i++) {
          const h = go_mem(forever(log), mem);
          yield* dill_yield();
          hclose(h);
        }
        const h = go_mem(
          (function* () {
            log.push("last");
          })(),
          mem,
        );
        yield* dill_yield();
        hclose(h);
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
        yield* dill_yield();
        hclose(h);
        expect(codes).toEqual(["ECANCELED"]);
        // The storage was not taken by the failed call.
        const h2 = go_mem(noop(), mem);
        hclose(h2);
      });
    });

    it("reports EMFILE when the handle table is full and leaves the storage free", async () => {
      await run(function* () {
        const prev = dill_stats().maxHandles;
        dill_configure({ handles: dill_stats().handles + 1 });
        const mem = new CoroutineStorage();
        let h = -1;
        try {
          h = go(forever());
          expect(thrown(() => go_mem(noop(), mem)).code).toBe("EMFILE");
        } finally {
          if (h >= 0) hclose(h);
          dill_configure({ handles: prev });
        }
        const h2 = go_mem(noop(), mem);
        hclose(h2);
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
        const [leftmost, first] = chmake();
        chans.push(leftmost, first);
        let left = first;
        for (let i = 0; i < N; i++) {
          const [l, r] = chmake();
          chans.push(l, r);
          hs.push(go(whisper(left, l)));
          left = r;
        }
        yield* chsend(left, 1, -1);
        const v = yield* chrecv<number>(leftmost, -1);
        for (const h of hs) hclose(h);
        for (const c of chans) hclose(c);
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
        yield* dill_yield();
        expect(dill_stats().coroutines).toBe(N + 1);
        for (const h of hs) hclose(h);
        expect(cancelled).toBe(N);
        expect(dill_stats().coroutines).toBe(1);
        // Nothing is left parked on the channel: a send finds no receiver.
        expect(yield* codeOf(chsend(b, 1, 0))).toBe("ETIMEDOUT");
        hclose(a);
        hclose(b);
      });
    });
  });
});
