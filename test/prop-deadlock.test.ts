/**
 * Property-based test of deadlock detection: random programs (test/prop/program.ts) run under the
 * virtual clock without a horizon, so that each either finishes or gets stuck for good. A run
 * reported deadlocked must really be stuck, judged from the program's own event log at the moment
 * of the report; a run that is stuck must be reported (it would otherwise never end).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DillError, dill_configure, run } from "../src/index.js";
import { type Event, HARNESS, harness, Run } from "./prop/interpreter.js";
import { programs } from "./prop/program.js";

const SEED = Number(process.env.TSDILL_PROP_SEED ?? 20261202);
const RUNS = Number(process.env.TSDILL_PROP_RUNS ?? 400);

let current: Run | null = null;
beforeAll(() => dill_configure({ clock: "virtual", onUncaught: (e) => current?.errors.push(e) }));
afterAll(() => dill_configure({ clock: "real", onUncaught: null }));

type Call = Extract<Event, { k: "call" }>;

/** What in `events` (the log up to the report) shows that the program could still progress. */
function progress(events: Event[]): string[] {
  const live = new Set<number>();
  const pending = new Map<number, Call>();
  const done = new Set<string>();
  const closed = new Set<number>();
  const exited = new Set<number>();
  for (const e of events) {
    if (e.k === "start") live.add(e.cr);
    else if (e.k === "exit") {
      live.delete(e.cr);
      exited.add(e.cr);
    } else if (e.k === "call") pending.set(e.cr, e);
    else if (e.k === "ret") pending.delete(e.cr);
    else if (e.k === "chdone" && e.err === null) done.add(`${e.ch}/${e.end}`);
    else if (e.k === "chclose") closed.add(e.ch);
  }
  const out: string[] = [];
  // Each blocked arm as [channel, end, send?, coroutine].
  const arms: [number, number, boolean, number][] = [];
  for (const cr of live) {
    const c = pending.get(cr);
    if (c === undefined) {
      out.push(`cr${cr} was not in a blocking call`);
      continue;
    }
    if (c.dl !== -1) out.push(`cr${cr} was in ${c.op} with deadline ${c.dl}, which would have fired`);
    if (c.op === "dill_yield") out.push(`cr${cr} was yielding`);
    if (c.op === "chsend" || c.op === "chrecv") arms.push([c.ch!, c.end!, c.op === "chsend", cr]);
    if (c.op === "choose") for (const a of c.arms!) arms.push([a.ch, a.end, a.send, cr]);
    if (c.op === "bundle_wait" && c.covers!.every((x) => exited.has(x)))
      out.push(`cr${cr} waited for a bundle whose coroutines had all finished`);
  }
  for (const [ch, end, send, cr] of arms) {
    if (closed.has(ch)) out.push(`cr${cr} waited on channel c${ch}, which was closed`);
    // A send from an end that called chdone, or a receive whose other end did, fails with EPIPE.
    if (done.has(`${ch}/${send ? end : 1 - end}`)) out.push(`cr${cr} waited on c${ch}, done in that direction`);
    for (const [ch2, end2, send2, cr2] of arms) {
      if (ch2 === ch && end2 !== end && send2 !== send && cr2 !== cr)
        out.push(`cr${cr} and cr${cr2} could meet on c${ch}`);
    }
  }
  return out;
}

/** Run `r` to its end; how it ended, and the violations of the deadlock guarantees. */
async function verdict(r: Run): Promise<{ stuck: boolean; bad: string[] }> {
  current = r;
  let stuck = false;
  const guard = new Promise<"hung">((res) => setTimeout(() => res("hung"), 5000).unref());
  const ended = run(harness(r, true)).then(
    () => "finished" as const,
    (e: unknown) => {
      if (e instanceof DillError && e.code === "EDEADLK") {
        stuck = true;
        return "deadlocked" as const;
      }
      throw e;
    },
  );
  const how = await Promise.race([ended, guard]);
  current = null;
  if (how === "hung") return { stuck, bad: ["the program could never progress, and no deadlock was reported"] };
  if (!stuck) return { stuck, bad: r.errors.map(String) };
  // The harness's cleanup after the report starts with its first close: judge what came before.
  const cut = r.events.findIndex((e) => (e.k === "close" || e.k === "chclose") && e.cr === HARNESS);
  return { stuck, bad: progress(cut < 0 ? r.events : r.events.slice(0, cut)) };
}

describe("deadlock detection, on random programs under the virtual clock", () => {
  it("reports a program exactly when it can never progress again", async () => {
    let deadlocked = 0;
    const out = await fc.check(
      fc.asyncProperty(programs, async (p) => {
        const { stuck, bad } = await verdict(new Run(p));
        if (bad.length > 0) throw new Error(`${p.toString()}\n${bad.join("\n")}`);
        if (stuck) deadlocked++;
        return true;
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    if (out.failed) throw new Error(fc.defaultReportMessage(out) ?? "the property failed");
    console.log(`prop-deadlock: seed ${SEED}, ${RUNS} programs, ${deadlocked} of them deadlocked`);
    // Both outcomes are common: the property says something about each.
    expect(deadlocked).toBeGreaterThan(RUNS / 10);
    expect(deadlocked).toBeLessThan(RUNS - RUNS / 10);
  }, 120_000);
});
