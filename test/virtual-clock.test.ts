/**
 * The virtual clock, `dill_configure({ clock: "virtual" })`: time stands still while coroutines
 * run and jumps to the earliest deadline when every coroutine waits. Deadlines keep the meaning
 * and the order they have on the real clock.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  await_promise,
  bundle,
  bundle_go,
  bundle_wait,
  chmake,
  choose,
  CHRECV,
  chrecv,
  chsend,
  dill_configure,
  dill_stats,
  dill_yield,
  go,
  hclose,
  msleep,
  now,
  run,
} from "../src/index.js";
import { close, codeOf, thrown } from "./expect-dill.js";

const HOUR = 3_600_000;

afterEach(() => {
  dill_configure({ clock: "real" });
});

function* sleeper(at: number, id: number, log: number[]) {
  yield* msleep(at);
  log.push(id);
}

/** Launch sleepers with the given offsets (ms from now) into one bundle; the ids in wake-up order. */
function* wakeOrder(offsets: number[]) {
  const log: number[] = [];
  const b = bundle();
  const t0 = now();
  offsets.forEach((d, id) => bundle_go(b, sleeper(t0 + d, id, log)));
  yield* bundle_wait(b, -1);
  hclose(b);
  return log;
}

describe("the virtual clock", () => {
  it("is off by default and reported by dill_stats", () => {
    expect(dill_stats().clock).toBe("real");
    dill_configure({ clock: "virtual" });
    expect(dill_stats().clock).toBe("virtual");
  });

  it("jumps straight to the deadline of a sleep when nothing else can run", async () => {
    dill_configure({ clock: "virtual" });
    await run(function* () {
      const t0 = now();
      yield* msleep(t0 + HOUR); // would take an hour on the real clock
      expect(now()).toBe(t0 + HOUR);
      yield* msleep(now() + 1);
      expect(now()).toBe(t0 + HOUR + 1);
    });
  });

  it("stands still while any coroutine is ready to run", async () => {
    dill_configure({ clock: "virtual" });
    await run(function* () {
      const t0 = now();
      const log: number[] = [];
      const cr = go(sleeper(t0 + 1, 1, log));
      for (let i = 0; i < 1000; i++) {
        yield* dill_yield();
        expect(now()).toBe(t0);
      }
      expect(log).toEqual([]);
      yield* msleep(t0 + 2);
      expect(log).toEqual([1]);
      hclose(cr);
    });
  });

  it("wakes sleepers in deadline order, and equal deadlines in the order they were set", async () => {
    dill_configure({ clock: "virtual" });
    const order = await run(wakeOrder([30, 10, 20, 10, 0, 30, 5, 10]));
    expect(order).toEqual([4, 6, 1, 3, 7, 2, 0, 5]);
  });

  it("wakes sleepers in the same order as the real clock does", async () => {
    // Deadlines far enough ahead (20 ms or more) that every sleeper parks before the first is due.
    const offsets = [3, 1, 2, 1, 0, 3, 2, 1, 0, 4, 4, 2].map((d) => 20 + 5 * d);
    const real = await run(wakeOrder(offsets));
    dill_configure({ clock: "virtual" });
    const virtual = await run(wakeOrder(offsets));
    expect(virtual).toEqual(real);
  });

  it("fails a channel operation with ETIMEDOUT exactly at its deadline, never before", async () => {
    dill_configure({ clock: "virtual" });
    await run(function* () {
      const [a, b] = chmake();
      let t = now();
      expect(yield* codeOf(chrecv(a, t + 50))).toBe("ETIMEDOUT");
      expect(now()).toBe(t + 50);
      t = now();
      expect(yield* codeOf(chsend(b, 1, t + 7))).toBe("ETIMEDOUT");
      expect(now()).toBe(t + 7);
      t = now();
      expect(yield* codeOf(choose([{ op: CHRECV, ch: a }], t + 1000))).toBe("ETIMEDOUT");
      expect(now()).toBe(t + 1000);
      close(a, b);
    });
  });

  it("rounds a deadline with a fraction of a millisecond up: it never fires early", async () => {
    dill_configure({ clock: "virtual" });
    await run(function* () {
      const d = now() + 2.5;
      yield* msleep(d);
      expect(now()).toBe(Math.ceil(d));
    });
  });

  it("times out bundle_wait at its deadline and lets the members run on", async () => {
    dill_configure({ clock: "virtual" });
    await run(function* () {
      const log: number[] = [];
      const b = bundle();
      const t0 = now();
      bundle_go(b, sleeper(t0 + 100, 1, log));
      expect(yield* codeOf(bundle_wait(b, t0 + 40))).toBe("ETIMEDOUT");
      expect(now()).toBe(t0 + 40);
      yield* bundle_wait(b, -1);
      expect(now()).toBe(t0 + 100);
      expect(log).toEqual([1]);
      hclose(b);
    });
  });

  it("completes a wait whose peer comes before the deadline, at the peer's time", async () => {
    dill_configure({ clock: "virtual" });
    await run(function* () {
      const [a, b] = chmake();
      const t0 = now();
      const cr = go(
        (function* () {
          yield* msleep(t0 + 30);
          yield* chsend(a, "late but in time", -1);
        })(),
      );
      expect(yield* chrecv(b, t0 + 31)).toBe("late but in time");
      expect(now()).toBe(t0 + 30);
      hclose(cr);
      close(a, b);
    });
  });

  it("keeps 0 as do-not-block and -1 as never", async () => {
    dill_configure({ clock: "virtual" });
    await run(function* () {
      const [a, b] = chmake();
      const t0 = now();
      expect(yield* codeOf(chrecv(a, 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(chrecv(a, t0 - 5))).toBe("ETIMEDOUT"); // a past deadline is 0
      expect(yield* codeOf(chsend(b, 1, 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(choose([{ op: CHRECV, ch: a }], 0))).toBe("ETIMEDOUT");
      expect(yield* codeOf(await_promise(new Promise(() => {}), 0))).toBe("ETIMEDOUT");
      const busy = bundle();
      bundle_go(busy, sleeper(t0 + 10, 0, []));
      expect(yield* codeOf(bundle_wait(busy, 0))).toBe("ETIMEDOUT");
      hclose(busy);
      yield* msleep(0); // lets others run once, like dill_yield
      expect(now()).toBe(t0);
      // A day passes in the sender; the receiver with -1 waits for it, however long.
      const cr = go(
        (function* () {
          yield* msleep(now() + 24 * HOUR);
          yield* chsend(b, "tomorrow", -1);
        })(),
      );
      expect(yield* chrecv(a, -1)).toBe("tomorrow");
      expect(now()).toBe(t0 + 24 * HOUR);
      hclose(cr);
      close(a, b);
    });
  });

  it("cancels a coroutine sleeping with -1 at once, without moving time", async () => {
    dill_configure({ clock: "virtual" });
    await run(function* () {
      let code = "";
      const cr = go(
        (function* () {
          try {
            yield* msleep(-1);
          } catch (e) {
            code = (e as { code: string }).code;
          }
        })(),
      );
      yield* msleep(now() + HOUR);
      const t = now();
      hclose(cr);
      expect(code).toBe("ECANCELED");
      expect(now()).toBe(t);
    });
  });

  it("lets a Promise settled by the program complete before time moves", async () => {
    dill_configure({ clock: "virtual" });
    await run(function* () {
      const t0 = now();
      expect(yield* await_promise(Promise.resolve(5), t0 + 10)).toBe(5);
      expect(
        yield* await_promise(
          Promise.resolve().then(() => 6),
          t0 + 10,
        ),
      ).toBe(6);
      expect(now()).toBe(t0);
    });
  });

  it("does not wait for the outside world: a wait for a slower Promise times out at its virtual deadline", async () => {
    dill_configure({ clock: "virtual" });
    await run(function* () {
      const t0 = now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const slow = new Promise((r) => {
        timer = setTimeout(r, 50);
      });
      expect(yield* codeOf(await_promise(slow, t0 + 10_000))).toBe("ETIMEDOUT");
      expect(now()).toBe(t0 + 10_000);
      clearTimeout(timer);
    });
  });

  it("refuses to switch clocks while a deadline is pending, and allows it once none is", async () => {
    await run(function* () {
      const cr = go(sleeper(now() + HOUR, 0, []));
      yield* dill_yield(); // the sleeper parks with its deadline
      const e = thrown(() => dill_configure({ clock: "virtual" }));
      expect(e.code).toBe("EBUSY");
      expect(e.message).toMatch(/deadline/);
      expect(dill_stats().clock).toBe("real");
      hclose(cr);
      dill_configure({ clock: "virtual" });
      expect(dill_stats().clock).toBe("virtual");
    });
  });

  it("rejects a clock that is neither real nor virtual with EINVAL", () => {
    const e = thrown(() => dill_configure({ clock: "fake" as "real" }));
    expect(e.code).toBe("EINVAL");
    expect(dill_stats().clock).toBe("real");
  });

  it("never goes backwards, even across switches to the real clock and back", async () => {
    dill_configure({ clock: "virtual" });
    const t1 = await run(function* () {
      yield* msleep(now() + 10 * HOUR);
      return now();
    });
    dill_configure({ clock: "real" });
    dill_configure({ clock: "virtual" });
    expect(now()).toBeGreaterThanOrEqual(t1);
  });
});
