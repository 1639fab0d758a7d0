/**
 * A coroutine's cancellation as an AbortSignal, for the Promise-based APIs of Node and the web
 * (fetch, fs/promises, timers/promises, streams) that take one.
 *
 * The AbortController lives in the coroutine's record, made on the first call only: coroutines
 * that never ask pay nothing. The scheduler aborts it when it cancels the coroutine and drops it
 * when the coroutine exits.
 */
import { dillError, quickError } from "../handles/errors.js";
import { running } from "./sched.js";

/**
 * Returns an `AbortSignal` that is aborted when the calling coroutine is cancelled (its handle,
 * its bundle or its `run` signal closed it), with a `DillError` `ECANCELED` as its `reason`.
 * Hand it to Promise-based APIs so that their work stops with the coroutine. The same signal is
 * returned for every call in one coroutine; it is made on the first call. A signal asked for in a
 * coroutine that is already cancelled comes back aborted. When the coroutine exits, the signal is
 * left as it is (it is never aborted afterwards) and tsdill keeps no reference to it.
 *
 * @returns the calling coroutine's AbortSignal.
 * @throws `EPERM` outside a coroutine.
 *
 * @example
 * ```ts
 * const res = yield* await_promise(fetch(url, { signal: abort_signal() }), now() + 5000);
 * ```
 */
export function abort_signal(): AbortSignal {
  const cr = running();
  if (cr === null)
    throw dillError(
      "EPERM",
      "abort_signal",
      undefined,
      "abort_signal() is called inside a coroutine: it returns that coroutine's signal",
    );
  let ac = cr.abort;
  if (ac === null) {
    ac = new AbortController();
    cr.abort = ac;
    if (cr.cancelled) ac.abort(quickError("ECANCELED", "abort_signal"));
  }
  return ac.signal;
}
