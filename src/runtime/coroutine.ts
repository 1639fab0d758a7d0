/**
 * Coroutines behind handles: `go`, `go_mem` and `hclose` on a coroutine handle (libdill's cr.c).
 */
import { dillError, quickError } from "../handles/errors.js";
import { claim, FreeList } from "../handles/pool.js";
import { type HandleVfs, handleMake } from "../handles/table.js";
import { CrBase, DONE } from "./cr.js";
import { cancel, current, isOwnCancellation, launch, reportUncaught, scrub } from "./sched.js";

/** Interface id a coroutine handle answers in `hquery`. */
export const COROUTINE_TYPE: unique symbol = Symbol("coroutine");

/** A coroutine body: the generator object made by calling a generator function. */
export type Coroutine = Iterator<unknown, unknown, unknown>;

/**
 * Storage for one coroutine, for `go_mem` and `bundle_go_mem`: make it once, reuse it after the
 * coroutine's handle is closed (or, in a bundle, after the coroutine finished).
 *
 * @example
 * ```ts
 * const mem = new CoroutineStorage();
 * for (const job of jobs) {
 *   const cr = go_mem(work(job), mem); // no allocation for the coroutine's record
 *   yield* msleep(now() + 10);
 *   hclose(cr); // mem is free again
 * }
 * ```
 */
export class CoroutineStorage extends CrBase implements HandleVfs {
  readonly kind = "coroutine";
  query(type: symbol): unknown {
    return type === COROUTINE_TYPE ? this : undefined;
  }
  close(): void {
    if (this.state === DONE) {
      release(this);
      return;
    }
    // Released by goExit once it has run to completion.
    this.detached = true;
    cancel(this);
  }
}

/** The pool of coroutine records used by `go`, `bundle_go` and `run`. */
export const records = new FreeList<CoroutineStorage>(() => new CoroutineStorage());

/** Give a finished coroutine's record back to its storage. */
export function release(cr: CrBase): void {
  scrub(cr);
  records.release(cr as CoroutineStorage);
}

/** Validate a coroutine body; `fn` names the call. Also refuses to launch from a cancelled coroutine. */
export function checkBody(fn: string, body: unknown, arg = "expr"): Coroutine {
  if (
    body === null ||
    typeof body !== "object" ||
    typeof (body as Coroutine).next !== "function" ||
    typeof (body as Coroutine).throw !== "function"
  ) {
    const hint = typeof body === "function" ? "; call the generator function: go(worker(args)), not go(worker)" : "";
    throw dillError("EINVAL", fn, arg, `${arg} must be a generator object${hint}`);
  }
  if (current !== null && current.cancelled) throw quickError("ECANCELED", fn);
  return body as Coroutine;
}

function goExit(cr: CrBase, value: unknown, threw: boolean): void {
  if (threw && !isOwnCancellation(cr, value)) reportUncaught(cr, value);
  if (cr.detached) release(cr);
}

function start(fn: string, body: Coroutine, cr: CoroutineStorage): number {
  let h: number;
  try {
    h = handleMake(cr, fn);
  } catch (e) {
    records.release(cr);
    throw e;
  }
  launch(cr, body, goExit, null);
  return h;
}

/**
 * Launches a coroutine and returns its handle at once; the coroutine starts running at the next
 * scheduling point. Closing the handle cancels the coroutine (its blocking calls fail with
 * `ECANCELED`, its `finally` blocks run) and returns once it has exited. The return value of the
 * coroutine is discarded; an exception that escapes it is reported (see `dill_configure`).
 *
 * @param expr a generator object: call the generator function, `go(worker(a, b))`.
 * @returns the coroutine's handle.
 * @throws `EINVAL` when `expr` is not a generator object; `ECANCELED` when the calling coroutine
 * is cancelled; `ENOMEM` when the storage pool is used up; `EMFILE` when the handle table is full.
 *
 * @example
 * ```ts
 * function* worker(ch: number) {
 *   yield* chsend(ch, 42, -1);
 * }
 * const [a, b] = chmake();
 * const cr = go(worker(a));
 * const v = yield* chrecv(b, -1); // 42
 * hclose(cr);
 * ```
 */
export function go(expr: Coroutine): number {
  const body = checkBody("go", expr);
  return start("go", body, records.take("go"));
}

/**
 * Like {@link go}, with the coroutine's record in caller storage: nothing is allocated.
 *
 * @param mem a `CoroutineStorage`, not in use by another open coroutine handle.
 * @throws as `go`, plus `EINVAL` for a `mem` that is not a `CoroutineStorage` and `EBUSY` for one in use.
 *
 * @example
 * ```ts
 * const mem = new CoroutineStorage();
 * const cr = go_mem(worker(), mem);
 * hclose(cr); // mem can be used again
 * ```
 */
export function go_mem(expr: Coroutine, mem: CoroutineStorage): number {
  const body = checkBody("go_mem", expr);
  return start("go_mem", body, claim(mem, CoroutineStorage, "go_mem"));
}
