/**
 * A learner's two commonest mistakes with generators, and the messages that point at their line:
 * a blocking call made without `yield*` (it does nothing), and a bare `yield` instead of `yield*`.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  chmake,
  chrecv,
  chsend,
  choose,
  CHRECV,
  DillError,
  dill_configure,
  dill_stats,
  dill_yield,
  go,
  hclose,
  msleep,
  now,
  run,
  bsend,
  ipc_pair,
} from "../src/index.js";
import * as api from "../src/index.js";
import * as effectionApi from "../src/interop/effection.js";
import { BLOCKING_CALLS, blockingNames, EFFECTION_BLOCKING_CALLS } from "../src/lint/names.js";

/** The line of this file on which `marker` is written (1-based). */
function lineOf(marker: string): number {
  const src = readSelf();
  return src.split("\n").findIndex((l) => l.includes(marker)) + 1;
}

import fs from "node:fs";
function readSelf(): string {
  return fs.readFileSync(new URL(import.meta.url), "utf8");
}

afterEach(() => dill_configure({ checkOps: false, onUncaught: null }));

function* forgetful(ch: number) {
  // eslint-disable-next-line tsdill/no-forgotten-yield -- the mistake under test
  chsend(ch, "lost", -1); // FORGOTTEN-SEND
  yield* msleep(now() + 1);
}

function* forgetsSeveral() {
  // eslint-disable-next-line tsdill/no-forgotten-yield -- the mistake under test
  msleep(now() + 5); // FORGOTTEN-SLEEP
  // eslint-disable-next-line tsdill/no-forgotten-yield -- the mistake under test
  dill_yield(); // FORGOTTEN-YIELD
  yield* dill_yield();
}

describe("a blocking call made without yield*", () => {
  it("is reported at the next scheduling point, naming the call and the line, under checkOps", async () => {
    const seen: unknown[] = [];
    dill_configure({ checkOps: true, onUncaught: (e) => seen.push(e) });
    expect(dill_stats().checkOps).toBe(true);
    await run(function* main() {
      const [a, b] = chmake();
      const cr = go(forgetful(a));
      yield* msleep(now() + 5);
      hclose(cr);
      hclose(a);
      hclose(b);
    });
    expect(seen).toHaveLength(1);
    const e = seen[0] as DillError;
    expect(e).toBeInstanceOf(DillError);
    expect(e.code).toBe("EINVAL");
    expect(e.message).toMatch(
      /^chsend: EINVAL: chsend\(…\) was called but never run: a blocking call does nothing until it is run with yield\*, as in yield\* chsend\(…\) \(at forgetful \(.*mistakes\.test\.ts:(\d+):\d+\)\)$/,
    );
    expect(Number(/mistakes\.test\.ts:(\d+)/.exec(e.message)![1])).toBe(lineOf("FORGOTTEN-SEND"));
    expect(e.stack!.split("\n")[1]).toMatch(/^ {4}at forgetful \(/);
  });

  it("reports every forgotten call of a step, dill_yield and msleep included", async () => {
    const seen: DillError[] = [];
    dill_configure({ checkOps: true, onUncaught: (e) => seen.push(e as DillError) });
    await run(forgetsSeveral);
    expect(seen.map((e) => e.syscall)).toEqual(["msleep", "dill_yield"]);
    expect(seen.map((e) => Number(/mistakes\.test\.ts:(\d+)/.exec(e.message)![1]))).toEqual([
      lineOf("FORGOTTEN-SLEEP"),
      lineOf("FORGOTTEN-YIELD"),
    ]);
  });

  it("reports nothing for calls run with yield*, nor when the check is off", async () => {
    const seen: unknown[] = [];
    dill_configure({ checkOps: true, onUncaught: (e) => seen.push(e) });
    await run(function* main() {
      const [a, b] = chmake();
      const cr = go(
        (function* () {
          yield* chsend(a, 1, -1);
        })(),
      );
      yield* choose([{ op: CHRECV, ch: b }], -1);
      yield* dill_yield();
      yield* msleep(now() + 1);
      hclose(cr);
      hclose(a);
      hclose(b);
    });
    expect(seen).toEqual([]);
    dill_configure({ checkOps: false });
    await run(forgetsSeveral);
    expect(seen).toEqual([]);
  });
});

function* yieldsBare(ch: number) {
  // eslint-disable-next-line tsdill/no-forgotten-yield -- the mistake under test
  yield chrecv(ch, -1) as never; // BARE-YIELD
}

function* yieldsBareValue() {
  yield 42; // BARE-VALUE
}

async function errorOf(main: () => Iterator<unknown, unknown, unknown>): Promise<DillError> {
  try {
    await run(main);
  } catch (e) {
    if (e instanceof DillError) return e;
    throw e;
  }
  throw new Error("run() resolved");
}

describe("a bare yield instead of yield*", () => {
  it("fails with a stack that starts at the coroutine's own line, not in the scheduler", async () => {
    const e = await errorOf(yieldsBareValue);
    expect(e.code).toBe("EINVAL");
    const frames = e.stack!.split("\n").slice(1);
    expect(frames[0]).toMatch(/^ {4}at yieldsBareValue \(.*mistakes\.test\.ts:(\d+):\d+\)$/);
    expect(Number(/mistakes\.test\.ts:(\d+)/.exec(frames[0]!)![1])).toBe(lineOf("BARE-VALUE"));
    expect(e.stack).not.toMatch(/sched\.ts/);
    expect(e.message).toContain("blocking calls are made with yield*");
  });

  it("names the call that was yielded, and its line, under checkOps", async () => {
    dill_configure({ checkOps: true });
    const [a, b] = chmake();
    try {
      const e = await errorOf(() => yieldsBare(b));
      expect(e.message).toMatch(/e\.g\. yield\* chrecv\(…\) \(at yieldsBare \(.*mistakes\.test\.ts:\d+:\d+\)\)$/);
      expect(Number(/mistakes\.test\.ts:(\d+)/.exec(e.message)![1])).toBe(lineOf("BARE-YIELD"));
    } finally {
      hclose(a);
      hclose(b);
    }
  });
});

/**
 * The calls of the hot paths (a channel message, a context switch) that do not check how they are
 * run: the check costs them a few percent. The lint rule covers them, and checkOps a dropped one.
 */
const UNGUARDED = new Set(["chsend", "chrecv", "choose", "msleep", "dill_yield"]);

/** The error a blocking call iterated without yield* throws, as `[code, syscall, message]`. */
function caught(f: () => unknown): [string, string, string] {
  try {
    f();
  } catch (e) {
    const d = e as DillError;
    return [d.code, d.syscall, d.message];
  }
  return ["", "", "nothing thrown"];
}

describe("a blocking call iterated without yield*", () => {
  it("fails when destructured, naming the call and the line, and leaves the coroutine free to go on", async () => {
    await run(function* main() {
      let err: unknown;
      try {
        // eslint-disable-next-line tsdill/no-forgotten-yield -- the mistake under test
        const [a, b] = ipc_pair() as unknown as number[]; // DESTRUCTURED
        hclose(a!);
        hclose(b!);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DillError);
      const e = err as DillError;
      expect([e.code, e.errno, e.syscall]).toEqual(["EINVAL", 22, "ipc_pair"]);
      expect(e.message).toMatch(
        /^ipc_pair: EINVAL: yield\* is missing: ipc_pair\(…\) was iterated \(destructured, spread or looped over\) instead of run; write yield\* ipc_pair\(…\) \(at .*mistakes\.test\.ts:\d+:\d+\)\)$/,
      );
      expect(Number(/mistakes\.test\.ts:(\d+)/.exec(e.message)![1])).toBe(lineOf("// DESTRUCTURED"));
      expect(e.stack!.split("\n")[1]).toContain(`mistakes.test.ts:${lineOf("// DESTRUCTURED")}:`);
      // Nothing was started: the coroutine is not parked anywhere, and the real call works.
      const [a, b] = yield* ipc_pair();
      yield* msleep(now() + 1);
      hclose(a);
      hclose(b);
    });
    expect(dill_stats().handles).toBe(0);
  });

  it("fails when looped over with for…of, or spread, for calls that are small objects too", async () => {
    await run(function* main() {
      const [a, b] = yield* ipc_pair();
      const [c0, c1] = chmake();
      expect(
        caught(() => {
          // eslint-disable-next-line tsdill/no-forgotten-yield -- the mistake under test
          for (const x of bsend(a, "abc", 3, -1)) expect.fail(String(x));
        }).slice(0, 2),
      ).toEqual(["EINVAL", "bsend"]);
      // eslint-disable-next-line tsdill/no-forgotten-yield -- the mistake under test
      expect(caught(() => [...api.ipc_recv_some(b, new Uint8Array(1), 1, -1)])[2]).toMatch(
        /write yield\* ipc_recv_some\(…\)/,
      );
      expect(caught(() => Array.from(api.brecv(b, new Uint8Array(1), 1, -1)))[1]).toBe("brecv");
      // The socket and the channel were not touched: both still work.
      yield* bsend(a, "abc", 3, -1);
      const buf = new Uint8Array(3);
      yield* api.brecv(b, buf, 3, -1);
      expect(Buffer.from(buf).toString()).toBe("abc");
      const h = go((function* () { yield* chsend(c1, 7, -1); })()); // prettier-ignore
      expect(yield* chrecv(c0, -1)).toBe(7);
      hclose(h);
      for (const x of [a, b, c0, c1]) hclose(x);
    });
  });

  it("fails the same way for every blocking call of the API but the channel and time calls, before its arguments are looked at", async () => {
    const table = api as unknown as Record<string, (...a: unknown[]) => Iterable<unknown>>;
    const eff = effectionApi as unknown as Record<string, (...a: unknown[]) => Iterable<unknown>>;
    const names = [...blockingNames()].sort();
    expect(names.length).toBe(2 * (BLOCKING_CALLS.length + EFFECTION_BLOCKING_CALLS.length) - 1);
    const wrong: string[] = [];
    await run(function* main() {
      for (const name of names) {
        if (UNGUARDED.has(name.replace(/^dill_(?!yield)/, ""))) continue;
        const fn = table[name] ?? eff[name];
        if (fn === undefined) {
          wrong.push(`${name}: not exported`);
          continue;
        }
        const own = name === "dill_yield" ? name : name.replace(/^dill_/, "");
        const [code, syscall, message] = caught(() => [...fn()]);
        if (code !== "EINVAL" || syscall !== own || !message.includes(`write yield* ${own}(…)`))
          wrong.push(`${name}: ${code} ${syscall} ${message}`);
      }
    });
    expect(wrong).toEqual([]);
  });

  it("rests on what the language does: yield* passes next() one argument at every step, iteration none", async () => {
    const counts: number[] = [];
    const op = {
      steps: 0,
      [Symbol.iterator]() {
        return this;
      },
      next(...args: unknown[]) {
        counts.push(args.length);
        return this.steps++ < 2 ? { done: false as const, value: 0 } : { done: true as const, value: 5 };
      },
    };
    function* outer() {
      return yield* op;
    }
    const g = outer();
    while (!g.next().done);
    expect(counts).toEqual([1, 1, 1]);
    counts.length = 0;
    op.steps = 0;
    const [x] = op;
    expect([x, counts]).toEqual([0, [0]]);
  });
});
