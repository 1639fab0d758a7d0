/**
 * Promise interop: `run()` gives the outside world a Promise of a coroutine's result, and
 * `await_promise` lets a coroutine wait for a Promise, cancellably.
 */
import { checkDeadline } from "../handles/args.js";
import { DillError, dillError, quickError } from "../handles/errors.js";
import { BLOCK, type Op } from "../handles/op.js";
import type { CrBase } from "./cr.js";
import { checkBody, records, release } from "./coroutine.js";
import { watchDeadlocks } from "./deadlock.js";
import {
  canBlock,
  cancel,
  expired,
  flush,
  isOwnCancellation,
  launch,
  park,
  suspended,
  wake,
  wakeWithError,
} from "./sched.js";

interface Root {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  /** The AbortSignal given to run, or null; its listener is removed when the root exits. */
  signal: AbortSignal | null;
  onAbort: (() => void) | null;
  /** Set when the program deadlocked: the root was cancelled, and run() rejects with this. */
  deadlock: DillError | null;
}

/** Options of {@link run}. */
export interface RunOptions {
  /**
   * Cancels the root coroutine when aborted, as `hclose` cancels any other: its blocking calls
   * fail with `ECANCELED`, its `finally` blocks run, and `run`'s Promise rejects with `ECANCELED`.
   */
  signal?: AbortSignal;
}

/** The error `run` rejects with when its signal cancelled the root (or was aborted before). */
function aborted(signal: AbortSignal): DillError {
  return new DillError("ECANCELED", "run", "the root coroutine was cancelled by run's AbortSignal", {
    cause: signal.reason,
  });
}

/** The root coroutines of run() still running, for `dill_tree`. */
export const roots = new Set<CrBase>();

function rootExit(cr: CrBase, value: unknown, threw: boolean): void {
  const root = cr.owner as Root;
  roots.delete(cr);
  const cancelled = cr.cancelled;
  const own = threw && isOwnCancellation(cr, value);
  release(cr);
  if (root.deadlock !== null && (!threw || own)) {
    root.signal?.removeEventListener("abort", root.onAbort!);
    root.reject(root.deadlock);
    return;
  }
  const signal = root.signal;
  if (signal !== null) {
    signal.removeEventListener("abort", root.onAbort!);
    // Cancelled by the signal: a return value is discarded, as libdill discards a cancelled
    // coroutine's; an exception other than the cancellation itself still rejects as is.
    if (cancelled && signal.aborted && (!threw || own)) {
      root.reject(aborted(signal));
      return;
    }
  }
  if (threw) root.reject(value);
  else root.resolve(value);
}

/** The program deadlocked: cancel the root, whose run() then rejects with `err` (see deadlock.ts). */
function failDeadlocked(cr: CrBase, err: DillError): void {
  const root = cr.owner as Root;
  if (root.deadlock !== null) return;
  root.deadlock = err;
  cancel(cr);
}

function checkOptions(options: RunOptions | undefined): AbortSignal | null {
  if (options === undefined) return null;
  if (options === null || typeof options !== "object")
    throw dillError("EINVAL", "run", "options", "options must be an object such as { signal }");
  const signal = options.signal;
  if (signal === undefined) return null;
  if (!(signal instanceof AbortSignal))
    throw dillError("EINVAL", "run", "options.signal", "options.signal must be an AbortSignal");
  return signal;
}

/**
 * Runs `main` as a root coroutine and returns a Promise of its return value; the Promise rejects
 * with the exception that escapes `main`. Coroutines `main` launches are its to close: what is
 * still open when it returns stays open (see `dill_stats`).
 *
 * With `options.signal`, aborting the signal cancels the root coroutine: its blocking calls fail
 * with `ECANCELED`, its `finally` blocks run, and the Promise rejects with a `DillError`
 * `ECANCELED` whose `cause` is the signal's `reason`. A signal already aborted rejects the same
 * way without starting `main`.
 *
 * @param main a generator function (called with no arguments) or a generator object.
 * @param options `{ signal }`: an AbortSignal that cancels the root coroutine.
 *
 * @example
 * ```ts
 * const answer = await run(function* () {
 *   yield* msleep(now() + 10);
 *   return 42;
 * });
 * await run(main, { signal: AbortSignal.timeout(1000) }); // rejects with ECANCELED after 1 s
 * ```
 */
export function run<T>(
  main: (() => Iterator<unknown, T, unknown>) | Iterator<unknown, T, unknown>,
  options?: RunOptions,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const signal = checkOptions(options);
    if (signal !== null && signal.aborted) {
      if (typeof main !== "function") (main as Partial<Iterator<unknown>> | null)?.return?.();
      throw aborted(signal);
    }
    const body = checkBody("run", typeof main === "function" ? main() : main, "main");
    const cr = records.take("run");
    const root: Root = { resolve, reject, signal, onAbort: null, deadlock: null };
    launch(cr, body, rootExit, root);
    roots.add(cr);
    watchDeadlocks(roots, failDeadlocked);
    if (signal !== null) {
      root.onAbort = () => cancel(cr);
      signal.addEventListener("abort", root.onAbort, { once: true });
    }
  });
}

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
