import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUNDLE_TYPE,
  BundleStorage,
  ChannelStorage,
  CoroutineStorage,
  bundle,
  bundle_go,
  bundle_go_mem,
  bundle_mem,
  bundle_wait,
  chmake,
  chrecv,
  chsend,
  dill_bundle,
  dill_bundle_go,
  dill_bundle_wait,
  dill_configure,
  dill_stats,
  dill_yield,
  go,
  hclose,
  hquery,
  msleep,
  now,
  run,
} from "../src/index.js";
import { close, codeOf, failure, LONG, thrown } from "./expect-dill.js";

function* forever(log?: string[], name = "finally") {
  try {
    yield* msleep(-1);
  } finally {
    log?.push(name);
  }
}

function* noop() {}

describe("bundle and bundle_mem", () => {
  it("makes an empty bundle behind a handle that answers BUNDLE_TYPE", async () => {
    await run(function* () {
      const b = bundle();
      expect(hquery(b, BUNDLE_TYPE)).toBe(hquery(b, BUNDLE_TYPE));
      expect(dill_stats().handlesByKind).toEqual({ bundle: 1 });
      hclose(b);
      const b2 = dill_bundle();
      hclose(b2);
    });
  });

  it("bundle_mem keeps the bundle in caller storage, drawing nothing from the pool", async () => {
    await run(function* () {
      const mem = new BundleStorage();
      const used = dill_stats().pool.used;
      const b = bundle_mem(mem);
      expect(dill_stats().pool.used).toBe(used);
      bundle_go(b, forever());
      yield* dill_yield();
      hclose(b);
    });
  });

  it("bundle_mem fails with EBUSY while the storage is in use and accepts it again after hclose", async () => {
    await run(function* () {
      const mem = new BundleStorage();
      const b = bundle_mem(mem);
      const e = thrown(() => bundle_mem(mem));
      expect(e.code).toBe("EBUSY");
      expect(e.message).toContain("bundle_mem");
      expect(e.message).toContain("mem");
      hclose(b);
      const b2 = bundle_mem(mem);
      bundle_go(b2, noop());
      yield* bundle_wait(b2, now() + LONG);
      hclose(b2);
    });
  });

  it("bundle_mem fails with EINVAL for storage of another class", async () => {
    await run(function* () {
      const e = thrown(() => bundle_mem(new ChannelStorage() as never));
      expect(e.code).toBe("EINVAL");
      expect(e.message).toContain("mem");
    });
  });

  it("bundle fails with ENOMEM when the pool is used up and EMFILE when the handle table is full", async () => {
    await run(function* () {
      const prevPool = dill_stats().pool.capacity;
      const prevHandles = dill_stats().maxHandles;
      dill_configure({ pool: dill_stats().pool.used });
      try {
        expect(thrown(() => bundle()).code).toBe("ENOMEM");
        expect(dill_stats().handles).toBe(0);
        const mem = new BundleStorage();
        const b = bundle_mem(mem); // caller storage still works
        hclose(b);
      } finally {
        dill_configure({ pool: prevPool });
      }
      dill_configure({ handles: 1 });
      let b = -1;
      try {
        b = bundle();
        const used = dill_stats().pool.used;
        expect(thrown(() => bundle()).code).toBe("EMFILE");
        expect(dill_stats().pool.used).toBe(used);
      } finally {
        if (b >= 0) hclose(b);
        dill_configure({ handles: prevHandles });
      }
    });
  });
});

describe("bundle_go and bundle_go_mem", () => {
  it("launches coroutines into the bundle; each starts at once and runs until it first blocks before bundle_go returns", async () => {
    await run(function* () {
      const log: string[] = [];
      const b = dill_bundle();
      for (let i = 0; i < 3; i++) {
        dill_bundle_go(
          b,
          (function* () {
            log.push(`start ${i}`);
            yield* dill_yield();
            log.push(`end ${i}`);
          })(),
        );
        log.push(`launched ${i}`);
      }
      expect(log).toEqual(["start 0", "launched 0", "start 1", "launched 1", "start 2", "launched 2"]);
      yield* dill_bundle_wait(b, now() + LONG);
      expect(log.slice(6)).toEqual(["end 0", "end 1", "end 2"]);
      hclose(b);
    });
  });

  it("lets a member close its own bundle while it starts: bundle_go returns, the others are cancelled", async () => {
    await run(function* () {
      const log: string[] = [];
      const b = bundle();
      bundle_go(b, forever(log, "first"));
      bundle_go(
        b,
        (function* (own: number) {
          hclose(own); // inside bundle_go: this member is on the stack, marked cancelled
          log.push("closed its bundle");
          log.push(yield* codeOf(msleep(-1)));
        })(b),
      );
      log.push("bundle_go returned");
      expect(log).toEqual(["first", "closed its bundle", "ECANCELED", "bundle_go returned"]);
      expect(thrown(() => hclose(b)).code).toBe("EBADF");
      expect(dill_stats().coroutines).toBe(1);
      expect(dill_stats().pool.used).toBe(1);
    });
  });

  it("takes a go() handle as a bundle: its members join the coroutine go() launched", async () => {
    await run(function* () {
      const log: number[] = [];
      const h = go(noop());
      for (let i = 0; i < 3; i++) {
        dill_bundle_go(
          h,
          (function* () {
            yield* dill_yield();
            log.push(i);
          })(),
        );
      }
      yield* dill_bundle_wait(h, now() + LONG);
      expect(log).toEqual([0, 1, 2]);
      hclose(h);
    });
  });

  it("members have no handles of their own", async () => {
    await run(function* () {
      const b = bundle();
      for (let i = 0; i < 5; i++) bundle_go(b, forever());
      yield* dill_yield();
      expect(dill_stats().handlesByKind).toEqual({ bundle: 1 });
      expect(dill_stats().coroutines).toBe(6);
      hclose(b);
    });
  });

  it("frees a member's slot as soon as it returns: pool use drops while the bundle stays open", async () => {
    await run(function* () {
      const b = bundle();
      const withBundle = dill_stats().pool.used;
      const [x, y] = chmake();
      const withChannel = dill_stats().pool.used;
      bundle_go(
        b,
        (function* () {
          yield* chrecv(x, -1);
        })(),
      );
      expect(dill_stats().pool.used).toBe(withChannel + 1);
      yield* chsend(y, 1, now() + LONG);
      yield* dill_yield();
      expect(dill_stats().pool.used).toBe(withChannel);
      expect(dill_stats().coroutines).toBe(1);
      hclose(x);
      hclose(y);
      expect(dill_stats().pool.used).toBe(withBundle);
      hclose(b);
    });
  });

  it("fails with EBADF for a bad handle and ENOTSUP for a handle that is not a bundle", async () => {
    await run(function* () {
      const used = dill_stats().pool.used;
      const e = thrown(() => bundle_go(4242, noop()));
      expect(e.code).toBe("EBADF");
      expect(e.message).toContain("bundle_go");
      const [a, c]: number[] = chmake(); // plain numbers: the run-time check is under test
      const e2 = thrown(() => bundle_go(a, noop()));
      expect(e2.code).toBe("ENOTSUP");
      expect(thrown(() => bundle_go_mem(a, noop(), new CoroutineStorage())).code).toBe("ENOTSUP");
      hclose(a);
      hclose(c);
      expect(dill_stats().pool.used).toBe(used);
      expect(dill_stats().coroutines).toBe(1);
    });
  });

  it("fails with EBADF on a bundle that was closed", async () => {
    await run(function* () {
      const b = bundle();
      hclose(b);
      expect(thrown(() => bundle_go(b, noop())).code).toBe("EBADF");
    });
  });

  it("fails with EINVAL naming expr for something that is not a generator object", async () => {
    await run(function* () {
      const b = bundle();
      const e = thrown(() => bundle_go(b, noop as never));
      expect(e.code).toBe("EINVAL");
      expect(e.message).toContain("expr");
      yield* bundle_wait(b, 0);
      hclose(b);
    });
  });

  it("fails with ECANCELED when called from a cancelled coroutine", async () => {
    await run(function* () {
      const b = bundle();
      const codes: string[] = [];
      const h = go(
        (function* () {
          try {
            yield* msleep(-1);
          } finally {
            codes.push(thrown(() => bundle_go(b, noop())).code);
            codes.push(thrown(() => bundle_go_mem(b, noop(), new CoroutineStorage())).code);
          }
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(codes).toEqual(["ECANCELED", "ECANCELED"]);
      yield* bundle_wait(b, 0); // nothing was launched
      hclose(b);
    });
  });

  it("fails with ENOMEM when the pool is used up; bundle_go_mem still works", async () => {
    await run(function* () {
      const prev = dill_stats().pool.capacity;
      const b = bundle();
      dill_configure({ pool: dill_stats().pool.used });
      try {
        expect(thrown(() => bundle_go(b, noop())).code).toBe("ENOMEM");
        const mem = new CoroutineStorage();
        bundle_go_mem(b, noop(), mem);
        yield* bundle_wait(b, now() + LONG);
      } finally {
        dill_configure({ pool: prev });
      }
      hclose(b);
    });
  });

  it("bundle_go_mem fails with EBUSY while the storage runs a member and accepts it once that member finished", async () => {
    await run(function* () {
      const b = bundle();
      const mem = new CoroutineStorage();
      const [x, y] = chmake();
      bundle_go_mem(
        b,
        (function* () {
          yield* chrecv(x, -1);
        })(),
        mem,
      );
      const e = thrown(() => bundle_go_mem(b, noop(), mem));
      expect(e.code).toBe("EBUSY");
      expect(e.message).toContain("bundle_go_mem");
      yield* chsend(y, 1, now() + LONG);
      yield* bundle_wait(b, now() + LONG);
      const log: string[] = [];
      bundle_go_mem(
        b,
        (function* () {
          log.push("again");
        })(),
        mem,
      );
      yield* bundle_wait(b, now() + LONG);
      expect(log).toEqual(["again"]);
      hclose(b);
      hclose(x);
      hclose(y);
    });
  });

  it("bundle_go_mem leaves the storage free when it fails on a bad bundle handle", async () => {
    await run(function* () {
      const mem = new CoroutineStorage();
      expect(thrown(() => bundle_go_mem(8888, noop(), mem)).code).toBe("EBADF");
      const b = bundle();
      bundle_go_mem(b, noop(), mem);
      yield* bundle_wait(b, now() + LONG);
      hclose(b);
    });
  });

  it("bundle_go_mem fails with EINVAL for storage of another class", async () => {
    await run(function* () {
      const b = bundle();
      const e = thrown(() => bundle_go_mem(b, noop(), new BundleStorage() as never));
      expect(e.code).toBe("EINVAL");
      expect(e.message).toContain("mem");
      hclose(b);
    });
  });

  it("reports an exception escaping a member and keeps the other members running", async () => {
    const reported: unknown[] = [];
    dill_configure({ onUncaught: (e) => reported.push(e) });
    try {
      await run(function* () {
        const boom = new Error("member failed");
        const b = bundle();
        const log: string[] = [];
        bundle_go(b, forever(log, "survivor"));
        bundle_go(
          b,
          (function* () {
            throw boom;
          })(),
        );
        yield* dill_yield();
        expect(reported).toEqual([boom]);
        expect(dill_stats().coroutines).toBe(2);
        hclose(b);
        expect(log).toEqual(["survivor"]);
      });
    } finally {
      dill_configure({ onUncaught: null });
    }
  });
});

describe("bundle_wait", () => {
  it("throws, once, the first exception that escaped a member, after all members finished", async () => {
    const reported: unknown[] = [];
    dill_configure({ onUncaught: (e) => reported.push(e) });
    try {
      await run(function* () {
        const first = new Error("first failure");
        const second = new Error("second failure");
        const log: string[] = [];
        const b = bundle();
        bundle_go(
          b,
          (function* () {
            yield* msleep(now() + 5);
            throw first;
          })(),
        );
        bundle_go(
          b,
          (function* () {
            yield* msleep(now() + 10);
            throw second;
          })(),
        );
        bundle_go(
          b,
          (function* () {
            yield* msleep(now() + 20);
            log.push("slow member finished");
          })(),
        );
        let caught: unknown;
        try {
          yield* bundle_wait(b, -1);
        } catch (e) {
          caught = e;
        }
        expect(caught).toBe(first);
        expect(log).toEqual(["slow member finished"]);
        expect(reported).toEqual([first, second]);
        // Surfaced once: the next wait on the (now empty) bundle succeeds.
        yield* bundle_wait(b, 0);
        hclose(b);
      });
    } finally {
      dill_configure({ onUncaught: null });
    }
  });

  it("returns at once for an empty bundle, whatever the deadline", async () => {
    await run(function* () {
      const b = bundle();
      yield* bundle_wait(b, 0);
      yield* bundle_wait(b, -1);
      yield* bundle_wait(b, now() - 1000);
      yield* bundle_wait(b, now() + LONG);
      hclose(b);
    });
  });

  it("waits until every member has finished", async () => {
    await run(function* () {
      const b = bundle();
      const done: number[] = [];
      for (let i = 0; i < 5; i++) {
        bundle_go(
          b,
          (function* () {
            for (let k = 0; k < i; k++) yield* dill_yield();
            done.push(i);
          })(),
        );
      }
      yield* bundle_wait(b, now() + LONG);
      expect(done.sort()).toEqual([0, 1, 2, 3, 4]);
      expect(dill_stats().coroutines).toBe(1);
      hclose(b);
    });
  });

  it("waits for members that sleep", async () => {
    await run(function* () {
      const b = bundle();
      let woke = 0;
      for (let i = 1; i <= 3; i++) {
        bundle_go(
          b,
          (function* () {
            yield* msleep(now() + i * 5);
            woke++;
          })(),
        );
      }
      yield* bundle_wait(b, -1);
      expect(woke).toBe(3);
      hclose(b);
    });
  });

  it("wakes every coroutine waiting on the same bundle", async () => {
    await run(function* () {
      const b = bundle();
      const [x, y] = chmake();
      bundle_go(
        b,
        (function* () {
          yield* chrecv(x, -1);
        })(),
      );
      const w = bundle();
      let woken = 0;
      for (let i = 0; i < 3; i++) {
        bundle_go(
          w,
          (function* () {
            yield* bundle_wait(b, now() + LONG);
            woken++;
          })(),
        );
      }
      yield* dill_yield();
      expect(woken).toBe(0);
      yield* chsend(y, 1, now() + LONG);
      yield* bundle_wait(w, now() + LONG);
      expect(woken).toBe(3);
      hclose(w);
      hclose(b);
      hclose(x);
      hclose(y);
    });
  });

  it("surfaces, once and after every member finished, the first exception that escaped a member", async () => {
    const reported: unknown[] = [];
    dill_configure({ onUncaught: (e) => reported.push(e) });
    try {
      await run(function* () {
        const first = new Error("first");
        const second = new Error("second");
        const b = bundle();
        const [x, y] = chmake();
        let slowDone = false;
        bundle_go(
          b,
          (function* () {
            throw first;
          })(),
        );
        bundle_go(
          b,
          (function* () {
            yield* dill_yield();
            throw second;
          })(),
        );
        bundle_go(
          b,
          (function* () {
            yield* chrecv(x, -1);
            slowDone = true;
          })(),
        );
        const waiter = go(
          (function* () {
            yield* msleep(now() + 5);
            yield* chsend(y, 1, -1);
          })(),
        );
        let caught: unknown = null;
        try {
          yield* bundle_wait(b, now() + LONG);
        } catch (e) {
          caught = e;
        }
        expect(caught).toBe(first);
        expect(slowDone).toBe(true);
        expect(reported).toEqual([first, second]);
        // Surfaced once: the next wait returns normally.
        yield* bundle_wait(b, 0);
        close(waiter, b, x, y);
      });
    } finally {
      dill_configure({ onUncaught: null });
    }
  });

  it("fails with ETIMEDOUT for deadline 0 and for a deadline in the past while members run", async () => {
    await run(function* () {
      const b = bundle();
      bundle_go(b, forever());
      expect(yield* codeOf(bundle_wait(b, 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(bundle_wait(b, now() - 1))).toBe("ETIMEDOUT");
      yield* dill_yield();
      expect(yield* codeOf(bundle_wait(b, 0))).toBe("ETIMEDOUT");
      hclose(b);
    });
  });

  it("fails with ETIMEDOUT when the deadline expires, and leaves the members running", async () => {
    await run(function* () {
      const b = bundle();
      const log: string[] = [];
      bundle_go(b, forever(log));
      const e = yield* failure(bundle_wait(b, now() + 10));
      expect(e.code).toBe("ETIMEDOUT");
      expect(e.message).toContain("bundle_wait");
      expect(log).toEqual([]);
      expect(dill_stats().coroutines).toBe(2);
      expect(dill_stats().timers).toBe(0);
      hclose(b);
      expect(log).toEqual(["finally"]);
    });
  });

  it("fails with ECANCELED when the waiting coroutine is cancelled", async () => {
    await run(function* () {
      const b = bundle();
      bundle_go(b, forever());
      const codes: string[] = [];
      const h = go(
        (function* () {
          codes.push(yield* codeOf(bundle_wait(b, -1)));
          codes.push(yield* codeOf(bundle_wait(b, -1)));
        })(),
      );
      yield* dill_yield();
      hclose(h);
      expect(codes).toEqual(["ECANCELED", "ECANCELED"]);
      expect(dill_stats().coroutines).toBe(2);
      hclose(b);
    });
  });

  it("fails with EBADF for a bad handle and ENOTSUP for a handle that is not a bundle", async () => {
    await run(function* () {
      const e = yield* failure(bundle_wait(777, -1));
      expect(e.code).toBe("EBADF");
      expect(e.message).toContain("bundle_wait");
      const [a, c]: number[] = chmake(); // plain numbers: the run-time check is under test
      const e2 = yield* failure(bundle_wait(a, -1));
      expect(e2.code).toBe("ENOTSUP");
      expect(e2.message).toContain("bundle_wait");
      hclose(a);
      hclose(c);
      const b = bundle();
      hclose(b);
      expect(yield* codeOf(bundle_wait(b, 0))).toBe("EBADF");
    });
  });

  it("fails with EINVAL for a bad deadline", async () => {
    await run(function* () {
      const b = bundle();
      bundle_go(b, forever());
      for (const d of [NaN, -2, Infinity, "x"]) {
        const e = yield* failure(bundle_wait(b, d as number));
        expect(e.code).toBe("EINVAL");
        expect(e.message).toContain("deadline");
      }
      hclose(b);
    });
  });
});

describe("hclose on a bundle", () => {
  it("cancels every member and returns only after all of them have exited", async () => {
    await run(function* () {
      const b = bundle();
      const log: string[] = [];
      const [x, y] = chmake();
      bundle_go(b, forever(log, "sleeper"));
      bundle_go(
        b,
        (function* () {
          try {
            yield* chrecv(x, -1);
          } catch (e) {
            log.push(`receiver:${(e as { code: string }).code}`);
          }
        })(),
      );
      bundle_go(
        b,
        (function* () {
          try {
            for (;;) yield* dill_yield();
          } finally {
            log.push("yielder");
          }
        })(),
      );
      yield* dill_yield();
      expect(dill_stats().coroutines).toBe(4);
      hclose(b);
      expect(log.sort()).toEqual(["receiver:ECANCELED", "sleeper", "yielder"]);
      expect(dill_stats().coroutines).toBe(1);
      hclose(x);
      hclose(y);
    });
  });

  it("has run every member up to its first blocking call: closing right after bundle_go cancels them there", async () => {
    await run(function* () {
      const b = bundle();
      const log: string[] = [];
      for (let i = 0; i < 3; i++) {
        bundle_go(
          b,
          (function* () {
            log.push(`ran ${i}`);
            try {
              yield* msleep(-1);
            } catch (e) {
              log.push(`${i}: ${(e as { code: string }).code}`);
            }
          })(),
        );
      }
      hclose(b);
      expect(log).toEqual(["ran 0", "ran 1", "ran 2", "0: ECANCELED", "1: ECANCELED", "2: ECANCELED"]);
      expect(dill_stats().coroutines).toBe(1);
    });
  });

  it("just frees a bundle whose members have all finished", async () => {
    await run(function* () {
      const b = bundle();
      bundle_go(b, noop());
      yield* bundle_wait(b, now() + LONG);
      hclose(b);
      expect(thrown(() => hclose(b)).code).toBe("EBADF");
    });
  });

  it("makes the members' later blocking calls fail with ECANCELED during their cleanup", async () => {
    await run(function* () {
      const b = bundle();
      const codes: string[] = [];
      bundle_go(
        b,
        (function* () {
          try {
            yield* msleep(-1);
          } finally {
            codes.push(yield* codeOf(msleep(now() + LONG)));
          }
        })(),
      );
      yield* dill_yield();
      hclose(b);
      expect(codes).toEqual(["ECANCELED"]);
    });
  });

  it("lets a member close its own bundle: the others are cancelled at once, the closer at its next blocking call", async () => {
    await run(function* () {
      const b = bundle();
      const log: string[] = [];
      const [x, y] = chmake();
      bundle_go(b, forever(log, "other"));
      bundle_go(
        b,
        (function* () {
          yield* chrecv(x, -1);
          hclose(b);
          log.push("closed");
          log.push(`closer:${yield* codeOf(msleep(now() + LONG))}`);
        })(),
      );
      yield* dill_yield();
      yield* chsend(y, 1, now() + LONG);
      yield* dill_yield();
      yield* dill_yield();
      expect(log).toEqual(["other", "closed", "closer:ECANCELED"]);
      expect(dill_stats().coroutines).toBe(1);
      expect(thrown(() => hclose(b)).code).toBe("EBADF");
      hclose(x);
      hclose(y);
    });
  });

  it("wakes a coroutine waiting in bundle_wait on it once the members are gone", async () => {
    await run(function* () {
      const b = bundle();
      bundle_go(b, forever());
      const log: string[] = [];
      const h = go(
        (function* () {
          yield* bundle_wait(b, now() + LONG);
          log.push("waited");
        })(),
      );
      yield* dill_yield();
      hclose(b);
      yield* dill_yield();
      expect(log).toEqual(["waited"]);
      hclose(h);
    });
  });
});

describe("libdill scenarios", () => {
  it("cancels 10,000 coroutines blocked on channels by closing their bundle", async () => {
    const N = 10_000;
    await run(function* () {
      const [a, c] = chmake();
      const b = bundle();
      let cancelled = 0;
      for (let i = 0; i < N; i++) {
        bundle_go(
          b,
          (function* () {
            try {
              // Receivers and senders on the same end never meet each other.
              if (i % 2 === 0) yield* chrecv(a, -1);
              else yield* chsend(a, i, -1);
            } catch (e) {
              if ((e as { code: string }).code === "ECANCELED") cancelled++;
            }
          })(),
        );
      }
      yield* dill_yield();
      expect(dill_stats().coroutines).toBe(N + 1);
      hclose(b);
      expect(cancelled).toBe(N);
      expect(dill_stats().coroutines).toBe(1);
      // Nobody is left parked on either direction.
      expect(yield* codeOf(chsend(c, 1, 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(chrecv(c, 0))).toBe("ETIMEDOUT");
      hclose(a);
      hclose(c);
    });
  });

  it("runs 10,000 short-lived members and waits for them all", async () => {
    const N = 10_000;
    await run(function* () {
      const b = bundle();
      let n = 0;
      for (let i = 0; i < N; i++) {
        bundle_go(
          b,
          (function* () {
            yield* dill_yield();
            n++;
          })(),
        );
      }
      yield* bundle_wait(b, -1);
      expect(n).toBe(N);
      hclose(b);
    });
  });
});

describe("libdill's tests/bundle.c, ported", () => {
  beforeAll(() => dill_configure({ clock: "virtual" }));
  afterAll(() => dill_configure({ clock: "real" }));

  /** What each worker2 got from its sleep (libdill asserts ECANCELED inside the coroutine). */
  const codes: string[] = [];
  function* worker1() {}
  function* worker2() {
    codes.push(yield* codeOf(msleep(now() + 100_000)));
  }
  function* worker3(delay: number) {
    yield* msleep(now() + delay);
  }

  it("closes empty bundles, bundles of finished and of sleeping members, and bundle_go_mem members", async () => {
    await run(function* () {
      hclose(bundle());

      const h2 = bundle();
      bundle_go(h2, worker1());
      hclose(h2);

      const h3 = bundle();
      bundle_go(h3, worker1());
      yield* msleep(now() + 100);
      hclose(h3);

      const h4 = bundle();
      bundle_go(h4, worker2());
      yield* msleep(now() + 100);
      hclose(h4);

      const h5 = bundle();
      bundle_go(h5, worker3(50));
      bundle_go(h5, worker3(50));
      yield* msleep(now() + 100);
      hclose(h5);

      const h6 = bundle();
      bundle_go(h6, worker2());
      bundle_go(h6, worker2());
      yield* msleep(now() + 100);
      hclose(h6);

      const h7 = bundle();
      bundle_go_mem(h7, worker1(), new CoroutineStorage());
      hclose(h7);
      expect(dill_stats().coroutines).toBe(1);
      expect(codes.splice(0)).toEqual(["ECANCELED", "ECANCELED", "ECANCELED"]);
    });
  });

  it("makes a bundle with go() and launches a second coroutine into it with bundle_go", async () => {
    await run(function* () {
      const h8 = go(worker1());
      bundle_go(h8, worker1());
      yield* msleep(now() + 100);
      hclose(h8);
    });
  });

  it("waits on an empty bundle, on a go() handle, and on a bundle of two; launches again after the wait", async () => {
    await run(function* () {
      const h9 = bundle();
      yield* bundle_wait(h9, -1);
      hclose(h9);

      const h10 = go(worker3(50));
      const t10 = now();
      yield* bundle_wait(h10, -1);
      expect(now() - t10).toBe(50);
      hclose(h10);

      const h11 = bundle();
      bundle_go(h11, worker3(50));
      bundle_go(h11, worker3(100));
      const t11 = now();
      yield* bundle_wait(h11, -1);
      expect(now() - t11).toBe(100);
      bundle_go(h11, worker1());
      hclose(h11);
    });
  });

  it("waits on a go() handle with a deadline: in time, and ETIMEDOUT", async () => {
    await run(function* () {
      const h12 = go(worker3(50));
      yield* bundle_wait(h12, now() + 1000);
      hclose(h12);
      const h13 = go(worker2());
      expect(yield* codeOf(bundle_wait(h13, now() + 50))).toBe("ETIMEDOUT");
      hclose(h13);
      expect(codes.splice(0)).toEqual(["ECANCELED"]);
    });
  });
});
