/**
 * Property-based tests of the scheduler: random programs of coroutines, bundles, channels,
 * choose, sleeps, waits and cancellations (see test/prop/program.ts), run under the virtual clock
 * and checked against tsdill's guarantees (test/prop/checker.ts). A failing program is shrunk to a
 * small one and printed as pseudo-code, with the trace of the failing run.
 *
 * Reproducible: the seed is fixed unless TSDILL_PROP_SEED is set (a number, or "random");
 * TSDILL_PROP_RUNS sets the number of programs, for longer runs on a quiet machine:
 *   TSDILL_PROP_SEED=random TSDILL_PROP_RUNS=5000 npx vitest run test/prop-scheduler.test.ts
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dill_configure, msleep, now, run } from "../src/index.js";
import { check } from "./prop/checker.js";
import { trace } from "./prop/trace.js";
import { harness, Run } from "./prop/interpreter.js";
import { type Program, programs } from "./prop/program.js";
import { minimize } from "./prop/shrink.js";

const seedEnv = process.env.TSDILL_PROP_SEED;
const SEED =
  seedEnv === undefined
    ? 20261126
    : seedEnv === "random"
      ? (Date.now() ^ (Math.random() * 0x100000000)) | 0
      : Number(seedEnv);
const RUNS = Number(process.env.TSDILL_PROP_RUNS ?? 5000);

let current: Run | null = null;

beforeAll(() => {
  dill_configure({ clock: "virtual", onUncaught: (e) => current?.errors.push(e) });
});

afterAll(() => {
  dill_configure({ clock: "real", onUncaught: null });
});

/** Run one program and return its violations with the trace, or null when it kept every invariant. */
async function verdict(p: Program): Promise<string | null> {
  const r = new Run(p);
  current = r;
  try {
    await run(harness(r));
    const bad = check(r);
    if (bad.length === 0) return null;
    const more = bad.length > 6 ? `\n  … and ${bad.length - 6} more` : "";
    return `${bad
      .slice(0, 6)
      .map((b) => `  - ${b}`)
      .join("\n")}${more}\ntrace (virtual ms since the start):\n${trace(r)}`;
  } finally {
    // Whatever a broken run left behind does nothing more; let its pending deadlines pass.
    r.alive = false;
    current = null;
    await run(function* () {
      yield* msleep(now() + 1_000_000);
    });
  }
}

describe("the scheduler, on random programs under the virtual clock", () => {
  it(
    "keeps structured concurrency, sticky cancellation, exact deadlines and exactly-once delivery, and leaks nothing",
    async () => {
      console.log(`prop-scheduler: seed ${SEED}, ${RUNS} programs (TSDILL_PROP_SEED / TSDILL_PROP_RUNS to change)`);
      const out = await fc.check(
        fc.asyncProperty(programs, async (p) => (await verdict(p)) === null),
        { seed: SEED, numRuns: RUNS },
      );
      if (!out.failed) {
        console.log(`prop-scheduler: ${out.numRuns} programs kept every guarantee`);
        return;
      }
      if (out.counterexample === null) throw new Error(fc.defaultReportMessage(out) ?? "the property failed");
      const small = await minimize(out.counterexample[0], async (p) => (await verdict(p)) !== null);
      throw new Error(
        `a random program broke the scheduler's guarantees (seed ${SEED}, after ${out.numRuns} programs, shrunk ${out.numShrinks} times by fast-check, then by inlining).\n` +
          `Rerun with TSDILL_PROP_SEED=${SEED}.\n\n${small.toString()}\n\nviolations:\n${await verdict(small)}`,
      );
    },
    Math.max(60_000, RUNS * 10), // a run that hangs (time never moves) fails here
  );

  it("generates programs that reach every outcome of every call", async () => {
    // About the generator, not the runtime: a fixed seed, whatever TSDILL_PROP_SEED says.
    const seen = new Set<string>();
    for (const p of fc.sample(programs, { seed: 1, numRuns: 1000 })) {
      const r = new Run(p);
      current = r;
      await run(harness(r));
      current = null;
      expect(r.errors).toEqual([]);
      const ops = new Map<number, string>();
      for (const e of r.events) {
        if (e.k === "call") ops.set(e.call, e.op === "bundle_wait" ? `bundle_wait(${e.on})` : e.op);
        else if (e.k === "ret") seen.add(`${ops.get(e.call)} ${e.err ?? "ok"}`);
        else if (e.k === "launch") seen.add(`launch ${e.err ?? "ok"}`).add(`launch ${e.via} ${e.err ?? "ok"}`);
      }
    }
    const outcomes = ["ok", "ETIMEDOUT", "ECANCELED"].flatMap((o) =>
      ["chsend", "chrecv", "choose", "bundle_wait(bundle)", "bundle_wait(go)"].map((op) => `${op} ${o}`),
    );
    outcomes.push("launch go ok", "launch bundle ok", "launch join ok");
    outcomes.push(
      "chsend EPIPE",
      "chrecv EPIPE",
      "msleep ok",
      "msleep ECANCELED",
      "dill_yield ok",
      "dill_yield ECANCELED",
      "launch ok",
      "launch ECANCELED",
    );
    expect(outcomes.filter((o) => !seen.has(o))).toEqual([]);
  });

  it("runs the same program to the same trace every time", async () => {
    const samples = fc.sample(programs, { seed: SEED, numRuns: 20 });
    for (const p of samples) {
      const a = new Run(p);
      const b = new Run(p);
      await run(harness(a));
      await run(harness(b));
      expect(trace(b, Infinity)).toBe(trace(a, Infinity));
    }
  });
});

describe("the same checks on the real clock", () => {
  it("hold for a few programs run in real time, where deadlines may fire late but never early", async () => {
    dill_configure({ clock: "real" });
    try {
      // Small horizons keep this quick: each program runs for at most its horizon of real time.
      const samples = fc
        .sample(programs, { seed: SEED, numRuns: 60 })
        .filter((p) => p.horizon <= 60)
        .slice(0, 12);
      for (const p of samples) {
        const r = new Run(p);
        current = r;
        await run(harness(r));
        current = null;
        const bad = check(r, false);
        expect(bad, `${p.toString()}\n${trace(r)}`).toEqual([]);
      }
    } finally {
      dill_configure({ clock: "virtual" });
    }
  });
});
