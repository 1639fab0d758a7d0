/**
 * Promise interop: `run()` gives the outside world a Promise of a coroutine's result
 * (`await_promise`, the other way round, is in awaitpromise.ts).
 */
import { DillError, dillError } from "../handles/errors.js";
import type { CrBase } from "./cr.js";
import { checkBody, records, release } from "./coroutine.js";
import { watchDeadlocks } from "./deadlock.js";
import { cancel, isOwnCancellation, launch } from "./sched.js";

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
