/**
 * tsdill and effection side by side: an effection operation run inside a tsdill coroutine, and a
 * tsdill coroutine run as an effection operation, with cancellation crossing both ways.
 *
 * The `tsdill/effection` entry provides both directions: `effection_call(op, deadline)` inside a
 * coroutine, `effection_go(body)` inside effection code.
 *
 * Run: npx tsx examples/effection.ts   (effection is a dev dependency of tsdill)
 */
import { type Operation, run as effectionRun, sleep, spawn, suspend } from "effection";
import { DillError, dill_stats, msleep, now, run } from "tsdill";
import { effection_call, effection_drain, effection_go } from "tsdill/effection";

// ---- effection inside tsdill ------------------------------------------------------------------
function* effectionWork(): Operation<number> {
  yield* sleep(10);
  return 42;
}

function* effectionForever(): Operation<void> {
  try {
    yield* suspend();
  } finally {
    console.log("  effection: the task was halted, its finally ran");
  }
}

await run(function* () {
  console.log("effection inside tsdill");
  const v = yield* effection_call(effectionWork, now() + 1000);
  console.log(`  the effection operation returned ${v}`);
  try {
    yield* effection_call(effectionForever, now() + 20);
  } catch (e) {
    console.log(`  tsdill: the wait failed with ${(e as DillError).code}`);
  }
  // The halted task's cleanup did not suspend, so there is nothing left to wait for; with a
  // finally that sleeps, this is where the program would wait for it.
  yield* effection_drain(now() + 1000);
});

// ---- tsdill inside effection ------------------------------------------------------------------
function* dillWork(): Generator<unknown, string, unknown> {
  yield* msleep(now() + 10);
  return "done in tsdill";
}

function* dillForever(): Generator<unknown, void, unknown> {
  try {
    yield* msleep(-1);
  } catch (e) {
    console.log(`  tsdill: the coroutine's msleep failed with ${(e as DillError).code}`);
    throw e;
  } finally {
    console.log("  tsdill: the coroutine's finally ran");
  }
}

await effectionRun(function* () {
  console.log("tsdill inside effection");
  const v = yield* effection_go(dillWork());
  console.log(`  the coroutine returned "${v}"`);
  const task = yield* spawn(() => effection_go(dillForever()));
  yield* sleep(10);
  yield* task.halt();
  console.log("  effection: halted the task that ran the coroutine");
});

const s = dill_stats();
console.log(`left open: ${s.coroutines} coroutines, ${s.handles} handles`);
