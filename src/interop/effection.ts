/**
 * effection interop, the `tsdill/effection` entry: an effection operation run inside a coroutine
 * (`effection_call`), a coroutine run inside an effection scope (`effection_go`), and the wait
 * for effection cleanup that a cancellation left running (`effection_drain`).
 *
 * Cancellation crosses both ways. Closing a coroutine halts the effection task it waits for, and
 * halting an effection task cancels the coroutine it runs; each side's synchronous cleanup has
 * run when the other side's close returns. effection's own cleanup may suspend (a `finally` that
 * sleeps): that part cannot fit in a synchronous `hclose`, so it goes on in effection, counted
 * until it ends; `effection_drain` waits for it, and a failure in it is reported like an
 * exception escaping a coroutine (see `dill_configure`).
 *
 * effection is an optional peer dependency of tsdill: only this entry imports it.
 */
import { action, type Operation, run as effectionRun, type Task } from "effection";
import { checkDeadline } from "../handles/args.js";
import { DillError, dillError, quickError } from "../handles/errors.js";
import { BLOCK, guardOps, type Op } from "../handles/op.js";
import type { CrBase } from "../runtime/cr.js";
import { checkBody, records, release } from "../runtime/coroutine.js";
import {
  canBlock,
  cancel,
  expired,
  flush,
  isOwnCancellation,
  launch,
  park,
  reportFailure,
  suspended,
  wake,
  wakeWithError,
} from "../runtime/sched.js";

// ---- effection inside tsdill -----------------------------------------------------------------
interface EffectionWait {
  cr: CrBase;
  task: Task<unknown> | null;
  /** Settled, or abandoned by the coroutine (cancelled, timed out): it no longer listens. */
  done: boolean;
  /** What the operation threw, if it threw: never mistaken for effection's own "halted". */
  thrown: unknown;
  /** The coroutine's launch site, for reporting a failure in cleanup that outlived the wait. */
  site: string | null;
}

/** Halted tasks whose cleanup has not ended yet, and the coroutines in `effection_drain`. */
let lingering = 0;
const drainers = new Set<CrBase>();

function* guarded<T>(w: EffectionWait, op: () => Operation<T>): Operation<T> {
  try {
    return yield* op();
  } catch (e) {
    // Thrown by the operation, or by its cleanup while it was being halted.
    w.thrown = e;
    throw e;
  }
}

function settled(w: EffectionWait, ok: boolean, value: unknown): void {
  if (w.done) {
    // Abandoned earlier: this is the end of the cleanup that outlived the wait.
    if (!ok && !isHalted(w, value)) reportFailure(value, w.site);
    if (--lingering === 0) wakeDrainers();
    return;
  }
  w.done = true;
  if (ok) {
    wake(w.cr, value);
  } else if (isHalted(w, value)) {
    // Halted by effection (its scope was destroyed), not by this coroutine.
    wakeWithError(
      w.cr,
      new DillError("ECANCELED", "effection_call", "the effection task was halted from effection's side", {
        cause: value,
      }),
    );
  } else {
    wakeWithError(w.cr, value);
  }
  flush();
}

/**
 * True for the rejection of a task that was halted and whose cleanup succeeded: effection makes
 * a plain `Error("halted")` for it. An error the operation threw itself is never taken for one.
 */
function isHalted(w: EffectionWait, e: unknown): boolean {
  return e instanceof Error && e.constructor === Error && e.message === "halted" && e !== w.thrown;
}

/** The wait's unregistration: called whenever it ends, and gives up only when it ended early. */
function abandon(cr: CrBase): void {
  const w = cr.waitObj as EffectionWait;
  if (!w.done) giveUp(w);
}

function giveUp(w: EffectionWait): void {
  w.done = true;
  lingering++;
  // Runs effection's synchronous cleanup now; the task's own Promise reports how it ended.
  w.task!.halt().then(undefined, () => {});
}

function onTaskValue(this: EffectionWait, v: unknown): void {
  settled(this, true, v);
}

function onTaskError(this: EffectionWait, e: unknown): void {
  settled(this, false, e);
}

/**
 * Runs an effection operation inside a coroutine and returns its result. The operation runs as
 * a task in effection's global scope, started at once (its synchronous part runs before this
 * call parks). When the coroutine is cancelled, or the deadline expires, the task is halted
 * before the call fails: its synchronous cleanup (every `finally` up to the first that
 * suspends) has run when `hclose` returns; cleanup that suspends goes on in effection (see
 * {@link effection_drain}). Errors keep their identity: what the operation throws is thrown here,
 * the same object.
 *
 * @param op an effection operation factory, such as a generator function: `function* () { … }`.
 * @param deadline absolute time in ms (`-1` never, `0` fails with `ETIMEDOUT` at once).
 * @returns the operation's return value.
 * @throws `ECANCELED` (the coroutine was cancelled, or effection halted the task from its side),
 * `ETIMEDOUT`, `EINVAL` (not a function, bad deadline), `EPERM` (outside a coroutine), and
 * whatever the operation throws.
 *
 * @example
 * ```ts
 * const v = yield* effection_call(function* () {
 *   yield* sleep(10); // effection's sleep
 *   return 42;
 * }, now() + 1000);
 * ```
 */
export function* effection_call<T>(op: () => Operation<T>, deadline: number): Op<T> {
  const cr = canBlock("effection_call");
  if (cr === null) return yield* suspended();
  checkDeadline("effection_call", deadline);
  if (typeof op !== "function")
    throw dillError(
      "EINVAL",
      "effection_call",
      "op",
      "op must be a function returning an effection Operation, e.g. function* () { … }",
    );
  // The result can only be observed asynchronously: nothing can complete without waiting.
  if (expired(deadline)) throw quickError("ETIMEDOUT", "effection_call");
  const w: EffectionWait = { cr, task: null, done: false, thrown: undefined, site: cr.site };
  const task = effectionRun(() => guarded(w, op));
  w.task = task;
  task.then(onTaskValue.bind(w), onTaskError.bind(w));
  if (cr.cancelled) {
    // The operation's synchronous start closed this very coroutine.
    giveUp(w);
    throw quickError("ECANCELED", "effection_call");
  }
  park(cr, "effection_call", deadline, abandon, w);
  return (yield BLOCK) as T;
}

// ---- waiting for cleanup that outlived a wait --------------------------------------------------
const DRAINING = { draining: true };

function undrain(cr: CrBase): void {
  drainers.delete(cr);
}

function wakeDrainers(): void {
  if (drainers.size === 0) return;
  for (const cr of [...drainers]) wake(cr, undefined);
  flush();
}

/**
 * Waits until every effection task that tsdill halted (because the coroutine waiting for it in
 * `effection_call` was cancelled or timed out) has finished its cleanup. `hclose` runs effection's
 * synchronous cleanup at once; a `finally` that suspends (sleeps, awaits a shutdown) goes on in
 * effection, and this is the call that waits for it, as `ipc_close` is the orderly counterpart
 * of `hclose` for sockets. Failures in that cleanup are not thrown here: they are reported as
 * exceptions escaping a coroutine (see `dill_configure`'s `onUncaught`), the moment they happen.
 *
 * @param deadline absolute time in ms (`-1` never, `0` checks without waiting).
 * @throws `ETIMEDOUT` (cleanup still running at the deadline), `ECANCELED`, `EINVAL` (bad
 * deadline), `EPERM` (outside a coroutine).
 *
 * @example
 * ```ts
 * hclose(worker); // the worker was in effection_call: its task is halted
 * yield* effection_drain(now() + 1000); // the task's suspended finally blocks have ended
 * ```
 */
export function* effection_drain(deadline: number): Op<void> {
  const cr = canBlock("effection_drain");
  if (cr === null) return yield* suspended();
  checkDeadline("effection_drain", deadline);
  if (lingering === 0) return;
  if (expired(deadline)) throw quickError("ETIMEDOUT", "effection_drain");
  drainers.add(cr);
  park(cr, "effection_drain", deadline, undrain, DRAINING);
  yield BLOCK;
}

// ---- tsdill inside effection -----------------------------------------------------------------
interface GoLink {
  cr: CrBase | null;
  /** The action still waits for the coroutine: effection has not torn it down. */
  live: boolean;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  ok: boolean;
  value: unknown;
  site: string | null;
}

function goExit(cr: CrBase, value: unknown, threw: boolean): void {
  const g = cr.owner as GoLink;
  const own = threw && isOwnCancellation(cr, value);
  g.cr = null;
  release(cr);
  if (!g.live) {
    // Torn down by effection (halted): its cancellation is expected, anything else is reported.
    if (threw && !own) reportFailure(value, g.site);
    return;
  }
  g.ok = !threw;
  g.value = value;
  // Settle from a microtask, not from here: effection continues its own code synchronously when
  // an action settles, and that code must not run as part of a coroutine's exit.
  queueMicrotask(() => deliver(g));
}

function deliver(g: GoLink): void {
  if (g.live) {
    if (g.ok) g.resolve(g.value);
    else g.reject(g.value as Error);
  } else if (!g.ok) {
    reportFailure(g.value, g.site);
  }
}

/**
 * An effection operation that runs a generator as a tsdill coroutine and returns what it
 * returns: `const v = yield* effection_go(worker(a, b))` inside effection code. The coroutine
 * starts at the next scheduling point (not inside the call, as `go` starts one). Halting the effection task cancels it: its
 * blocking call fails with `ECANCELED` and its `finally` blocks run before the halt goes on.
 * An exception escaping the coroutine is thrown by the operation, the same object (a
 * `DillError` keeps its `code`). Like `go(expr)`, it runs `expr` once: evaluate the operation
 * once per generator object.
 *
 * @param expr a generator object: call the generator function, `effection_go(worker(a, b))`.
 * @returns an effection Operation of the coroutine's return value.
 * @throws (from the operation) `EINVAL` when `expr` is not a generator object, `ENOMEM` when
 * the storage pool is used up, and whatever the coroutine throws.
 *
 * @example
 * ```ts
 * await effectionRun(function* () {
 *   const v = yield* effection_go(function* () {
 *     yield* msleep(now() + 10);
 *     return "from tsdill";
 *   }());
 * });
 * ```
 */
export function effection_go<T>(expr: Iterator<unknown, T, unknown>): Operation<T> {
  return action<T>((resolve, reject) => {
    const body = checkBody("effection_go", expr);
    const cr = records.take("effection_go");
    const g: GoLink = {
      cr,
      live: true,
      resolve: resolve as (v: unknown) => void,
      reject,
      ok: false,
      value: undefined,
      site: null,
    };
    launch(cr, body, goExit, g);
    g.site = cr.site;
    return () => {
      g.live = false;
      if (g.cr !== null) cancel(g.cr);
    };
  }, "effection_go");
}

// libdill-style prefixed names.
export {
  effection_call as dill_effection_call,
  effection_drain as dill_effection_drain,
  effection_go as dill_effection_go,
};

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined)
  guardOps({ effection_call, effection_drain });
