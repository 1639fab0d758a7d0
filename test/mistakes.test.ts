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
} from "../src/index.js";

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
  chsend(ch, "lost", -1); // FORGOTTEN-SEND
  yield* msleep(now() + 1);
}

function* forgetsSeveral() {
  msleep(now() + 5); // FORGOTTEN-SLEEP
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
