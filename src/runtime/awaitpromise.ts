/**
 * `await_promise`: a coroutine waits for a Promise, cancellably (run() is the other way round,
 * in promise.ts). A module of its own, so that a program that never waits for a Promise leaves it
 * out of a bundler's output.
 */
import { checkDeadline } from "../handles/args.js";
import { dillError, quickError } from "../handles/errors.js";
import { BLOCK, guardOps, type Op } from "../handles/op.js";
import type { CrBase } from "./cr.js";
import { canBlock, expired, flush, park, suspended, wake, wakeWithError } from "./sched.js";

interface PromiseWait {
  cr: CrBase;
  abort: AbortController | null;
  /** Settled, or abandoned (cancelled, timed out): later settlements are ignored. */
  done: boolean;
  /** Parked yet; a thenable may settle inside then(), before the coroutine parks. */
  parked: boolean;
  ok: boolean;
  value: unknown;
}

function settle(w: PromiseWait, ok: boolean, value: unknown): void {
  if (w.done) return;
  w.done = true;
  w.abort = null; // settled: nothing to abort when the wait is unregistered
  if (!w.parked) {
    w.ok = ok;
    w.value = value;
    return;
  }
  if (ok) wake(w.cr, value);
  else wakeWithError(w.cr, value);
  flush();
}

function abandon(cr: CrBase): void {
  const w = cr.waitObj as PromiseWait;
  w.done = true;
  w.abort?.abort(quickError("ECANCELED", "await_promise"));
}

/**
 * Waits for a Promise inside a coroutine. Pass a function to get an `AbortSignal`: it is aborted
 * when the wait ends early (the coroutine is cancelled or the deadline expires), so the producer
 * can stop its work.
 *
 * @param promise a Promise, or a function `(signal) => Promise`.
 * @param deadline absolute time in ms (`-1` never, `0` fails with `ETIMEDOUT` at once).
 * @returns the Promise's value; a rejection is thrown as is.
 * @throws `ECANCELED`, `ETIMEDOUT`, `EINVAL` (not a Promise or function, bad deadline).
 *
 * @example
 * ```ts
 * const res = yield* await_promise((signal) => fetch(url, { signal }), now() + 5000);
 * ```
 */
export function* await_promise<T>(
  promise: PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T>),
  deadline: number,
): Op<T> {
  const cr = canBlock("await_promise");
  if (cr === null) return yield* suspended();
  checkDeadline("await_promise", deadline);
  let abort: AbortController | null = null;
  let p: PromiseLike<T>;
  if (typeof promise === "function") {
    abort = new AbortController();
    if (expired(deadline)) throw quickError("ETIMEDOUT", "await_promise");
    p = promise(abort.signal);
  } else {
    p = promise;
  }
  if (p === null || typeof p !== "object" || typeof p.then !== "function") {
    throw dillError("EINVAL", "await_promise", "promise", "promise must be a Promise or a function returning one");
  }
  if (expired(deadline)) {
    p.then(undefined, () => {}); // nobody will look at it: keep a rejection from going unhandled
    throw quickError("ETIMEDOUT", "await_promise");
  }
  const wait: PromiseWait = { cr, abort, done: false, parked: false, ok: false, value: undefined };
  p.then(
    (v) => settle(wait, true, v),
    (e) => settle(wait, false, e),
  );
  if (wait.done) {
    // A thenable that settled inside then().
    if (wait.ok) return wait.value as T;
    throw wait.value;
  }
  park(cr, "await_promise", deadline, abandon, wait);
  wait.parked = true;
  return (yield BLOCK) as T;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ await_promise });
