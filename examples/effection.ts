/**
 * tsdill and effection side by side: an effection operation run inside a tsdill coroutine, and a
 * tsdill coroutine run as an effection operation, with cancellation crossing both ways.
 *
 * Neither direction needs special support: `await_promise` hands an AbortSignal to whatever it
 * waits for, and effection's `action` has a teardown function that can close a handle.
 *
 * Run: npx tsx examples/effection.ts   (effection is a dev dependency of tsdill)
 */
import { action, type Operation, run as effectionRun, sleep, spawn, suspend } from "effection";
import { await_promise, DillError, dill_stats, go, hclose, msleep, now, run } from "../src/index.js";

/**
 * Run an effection operation inside a coroutine. Cancelling the coroutine, or the deadline,
 * halts the effection task (and everything it spawned) before the call fails.
 */
function fromEffection<T>(op: () => Operation<T>, deadline: number) {
  return await_promise((signal) => {
    const task = effectionRun(op);
    // halt() returns a Future, which only runs once it is awaited: hence then().
    signal.addEventListener("abort", () => task.halt().then(undefined, () => {}), { once: true });
    return task;
  }, deadline);
}

/**
 * Run a coroutine as an effection operation. Halting the effection task closes the coroutine's
 * handle: its blocking call fails with ECANCELED and its finally blocks run.
 */
function toEffection<T>(body: Generator<unknown, T, unknown>): Operation<T> {
  return action<T>((resolve, reject) => {
    const h = go(forward(body, resolve, reject));
    return () => hclose(h);
  });
}

/**
 * Run `body` and settle the effection action with its outcome. The action is settled from a
 * microtask, not from inside the coroutine: effection may continue its own code synchronously
 * when settled (including the teardown that closes this very coroutine, and further `go` calls),
 * and that code must not run as part of this coroutine.
 */
function* forward<T>(body: Generator<unknown, T, unknown>, resolve: (v: T) => void, reject: (e: Error) => void) {
  try {
    const v = yield* body;
    queueMicrotask(() => resolve(v));
  } catch (e) {
    queueMicrotask(() => reject(e as Error));
  }
}

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
  const v = yield* fromEffection(effectionWork, now() + 1000);
  console.log(`  the effection operation returned ${v}`);
  try {
    yield* fromEffection(effectionForever, now() + 20);
  } catch (e) {
    console.log(`  tsdill: the wait failed with ${(e as DillError).code}`);
  }
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
  const v = yield* toEffection(dillWork());
  console.log(`  the coroutine returned "${v}"`);
  const task = yield* spawn(() => toEffection(dillForever()));
  yield* sleep(10);
  yield* task.halt();
  console.log("  effection: halted the task that ran the coroutine");
});

const s = dill_stats();
console.log(`left open: ${s.coroutines} coroutines, ${s.handles} handles`);
