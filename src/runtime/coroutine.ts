/**
 * Coroutines behind handles: `go`, `go_mem` and `hclose` on their handles (libdill's cr.c). In
 * libdill 2 the handle of `go()` is a bundle holding the coroutine; here that bundle of one is
 * the coroutine's own record, which becomes a bundle of more when `bundle_go` adds members.
 */
import { dillError, quickError } from "../handles/errors.js";
import { claim, FreeList } from "../handles/pool.js";
import { type HandleVfs, handleMake } from "../handles/table.js";
import { CrBase } from "./cr.js";
import { BUNDLE_TYPE, closeGroup, failed, leave } from "./group.js";
import { isOwnCancellation, running, scrub, start } from "./sched.js";

/** Interface id a `go()` handle answers in `hquery`, besides `BUNDLE_TYPE`. */
export const COROUTINE_TYPE: unique symbol = Symbol("coroutine");

/** A coroutine body: the generator object made by calling a generator function. */
export type Coroutine = Iterator<unknown, unknown, unknown>;

/**
 * Storage for one coroutine, for `go_mem` and `bundle_go_mem`: make it once, reuse it after the
 * coroutine's handle is closed (or, in a bundle, after the coroutine finished). For `go_mem` it
 * also holds the bundle that the handle is, as libdill's `go_mem` places the bundle in the
 * caller's memory.
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
    return type === BUNDLE_TYPE || type === COROUTINE_TYPE ? this : undefined;
  }
  close(): void {
    if (this.count === 0) {
      // The coroutine has finished and nothing was added: the common case of hclose(go(...)).
      release(this);
      return;
    }
    closeGroup(this, this);
  }
  free(): void {
    release(this);
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
  const cr = running();
  if (cr !== null && cr.cancelled) throw quickError("ECANCELED", fn);
  return body as Coroutine;
}

/** Exit hook of a `go()` coroutine: it leaves the bundle of one that its own record is. */
function goExit(cr: CrBase, value: unknown, threw: boolean): void {
  if (threw && !isOwnCancellation(cr, value)) failed(cr, cr, value);
  leave(cr);
}

function begin(fn: string, body: Coroutine, cr: CoroutineStorage): number {
  let h: number;
  try {
    h = handleMake(cr, fn);
  } catch (e) {
    records.release(cr);
    throw e;
  }
  cr.count = 1;
  start(cr, body, goExit, null);
  return h;
}

/**
 * Launches a coroutine and returns its handle. As in libdill, the coroutine starts at once: it
 * runs inside `go()` until its first blocking call (or its end), then `go()` returns. The handle
 * is a bundle holding the coroutine (libdill 2): `bundle_wait(h, deadline)` waits for it to
 * finish, `bundle_go(h, expr)` adds coroutines to it, and `hclose(h)` cancels what still runs
 * there (its blocking calls fail with `ECANCELED`, its `finally` blocks run) and returns once it
 * has exited. The coroutine's return value is discarded; an exception that escapes it is
 * reported (see `dill_configure`) and rethrown by the next `bundle_wait` on the handle.
 *
 * @param expr a generator object: call the generator function, `go(worker(a, b))`.
 * @returns the handle of the bundle holding the coroutine.
 * @throws `EINVAL` when `expr` is not a generator object; `ECANCELED` when the calling coroutine
 * is cancelled; `ENOMEM` when the storage pool is used up; `EMFILE` when the handle table is full.
 *
 * @example
 * ```ts
 * function* worker(ch: number) {
 *   yield* chsend(ch, 42, -1); // runs inside go() up to here, then waits for the receiver
 * }
 * const [a, b] = chmake();
 * const cr = go(worker(a));
 * const v = yield* chrecv(b, -1); // 42
 * yield* bundle_wait(cr, -1); // worker has returned
 * hclose(cr);
 * ```
 */
export function go(expr: Coroutine): number {
  const body = checkBody("go", expr);
  return begin("go", body, records.take("go"));
}

/**
 * Like {@link go}, with the coroutine's record (and the bundle the handle is) in caller storage:
 * nothing is allocated.
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
  return begin("go_mem", body, claim(mem, CoroutineStorage, "go_mem"));
}
