/**
 * Bundles: a handle owning a group of coroutines (libdill's `bundle`, `bundle_go`, `bundle_wait`).
 * Members have no handles of their own; a member that returns frees its slot at once.
 */
import { checkDeadline } from "../handles/args.js";
import { quickError } from "../handles/errors.js";
import { BLOCK, type Op } from "../handles/op.js";
import { claim, FreeList, Storage } from "../handles/pool.js";
import { type HandleVfs, handleMake, handleQuery } from "../handles/table.js";
import { type CrBase, DONE } from "./cr.js";
import { checkBody, type Coroutine, CoroutineStorage, records, release } from "./coroutine.js";
import { canBlock, cancel, expired, isOwnCancellation, launch, park, reportUncaught, resume } from "./sched.js";

/** Interface id a bundle handle answers in `hquery`. */
export const BUNDLE_TYPE: unique symbol = Symbol("bundle");

/**
 * Storage for one bundle, for `bundle_mem`. Reusable once the bundle's handle is closed.
 *
 * @example
 * ```ts
 * const mem = new BundleStorage();
 * const b = bundle_mem(mem);
 * bundle_go(b, worker());
 * hclose(b); // mem can serve another bundle_mem now
 * ```
 */
export class BundleStorage extends Storage implements HandleVfs {
  readonly kind = "bundle";
  head: CrBase | null = null;
  tail: CrBase | null = null;
  count = 0;
  closed = false;
  waiters: CrBase[] = [];
  /** The first exception that escaped a member since the last bundle_wait, to surface there. */
  failure: unknown = undefined;
  failed = false;
  query(type: symbol): unknown {
    return type === BUNDLE_TYPE ? this : undefined;
  }
  close(): void {
    this.closed = true;
    for (let c = this.head; c !== null;) {
      const next = c.next;
      if (c.state !== DONE) cancel(c);
      c = next;
    }
    // A member that closed its own bundle is still on the stack: the last exit frees the storage.
    if (this.count === 0) bundles.release(this);
  }
}

const bundles = new FreeList<BundleStorage>(() => new BundleStorage());

function init(b: BundleStorage, fn: string): number {
  b.head = b.tail = null;
  b.count = 0;
  b.closed = false;
  b.failure = undefined;
  b.failed = false;
  try {
    return handleMake(b, fn);
  } catch (e) {
    bundles.release(b);
    throw e;
  }
}

/**
 * Makes an empty bundle. Launch coroutines into it with `bundle_go`; `bundle_wait` waits for them
 * all; `hclose` cancels the ones still running and returns once they have exited.
 *
 * @returns the bundle's handle.
 * @throws `ENOMEM` when the storage pool is used up; `EMFILE` when the handle table is full.
 *
 * @example
 * ```ts
 * const b = bundle();
 * for (let i = 0; i < 10; i++) bundle_go(b, worker(i));
 * yield* bundle_wait(b, now() + 1000);
 * hclose(b);
 * ```
 */
export function bundle(): number {
  return init(bundles.take("bundle"), "bundle");
}

/**
 * Like {@link bundle}, in caller storage.
 *
 * @param mem a `BundleStorage` not in use by an open bundle.
 * @throws `EINVAL` when `mem` is not a `BundleStorage`; `EBUSY` when it is in use; `EMFILE`.
 *
 * @example
 * ```ts
 * const mem = new BundleStorage();
 * const b = bundle_mem(mem);
 * ```
 */
export function bundle_mem(mem: BundleStorage): number {
  return init(claim(mem, BundleStorage, "bundle_mem"), "bundle_mem");
}

function memberExit(cr: CrBase, value: unknown, threw: boolean): void {
  const b = cr.owner as BundleStorage;
  if (threw && !isOwnCancellation(cr, value)) {
    reportUncaught(cr, value);
    if (!b.failed && !b.closed) {
      b.failed = true;
      b.failure = value;
    }
  }
  if (cr.prev !== null) cr.prev.next = cr.next;
  else b.head = cr.next;
  if (cr.next !== null) cr.next.prev = cr.prev;
  else b.tail = cr.prev;
  b.count--;
  release(cr);
  if (b.count === 0) {
    if (b.waiters.length > 0) for (const w of b.waiters.splice(0)) resume(w, undefined);
    if (b.closed) bundles.release(b);
  }
}

function join(fn: string, bndl: number, body: Coroutine, cr: CoroutineStorage): void {
  let b: BundleStorage;
  try {
    b = handleQuery(bndl, BUNDLE_TYPE, fn, "bndl") as BundleStorage;
  } catch (e) {
    records.release(cr);
    throw e;
  }
  cr.prev = b.tail;
  cr.next = null;
  if (b.tail !== null) b.tail.next = cr;
  else b.head = cr;
  b.tail = cr;
  b.count++;
  launch(cr, body, memberExit, b);
}

/**
 * Launches a coroutine into bundle `bndl`. It starts at the next scheduling point and lives
 * until it returns or the bundle is closed.
 *
 * @throws `EBADF` for a bad handle; `ENOTSUP` when `bndl` is not a bundle; `EINVAL` for a bad
 * `expr`; `ECANCELED` when the caller is cancelled; `ENOMEM` when the storage pool is used up.
 *
 * @example
 * ```ts
 * const b = bundle();
 * bundle_go(b, worker());
 * ```
 */
export function bundle_go(bndl: number, expr: Coroutine): void {
  const body = checkBody("bundle_go", expr);
  join("bundle_go", bndl, body, records.take("bundle_go"));
}

/**
 * Like {@link bundle_go}, with the coroutine's record in caller storage (free again once the
 * coroutine has finished).
 *
 * @throws as `bundle_go`, plus `EINVAL` for a `mem` that is not a `CoroutineStorage`, `EBUSY` for one in use.
 *
 * @example
 * ```ts
 * const mem = new CoroutineStorage();
 * bundle_go_mem(b, worker(), mem);
 * ```
 */
export function bundle_go_mem(bndl: number, expr: Coroutine, mem: CoroutineStorage): void {
  const body = checkBody("bundle_go_mem", expr);
  join("bundle_go_mem", bndl, body, claim(mem, CoroutineStorage, "bundle_go_mem"));
}

function unwait(cr: CrBase): void {
  const w = (cr.waitObj as BundleStorage).waiters;
  const i = w.indexOf(cr);
  if (i >= 0) w.splice(i, 1);
}

/** Rethrow, once, the first exception that escaped a member: the owner that waits sees it. */
function surface(b: BundleStorage): void {
  if (!b.failed) return;
  const e = b.failure;
  b.failed = false;
  b.failure = undefined;
  throw e;
}

/**
 * Waits until every coroutine in the bundle has finished. Returns at once for an empty bundle.
 * When an exception escaped a member since the last `bundle_wait` (it was also reported to the
 * `onUncaught` handler), the first such exception is thrown here, after all members finished.
 *
 * @param bndl the bundle.
 * @param deadline absolute time in ms (`-1` never, `0` do not wait).
 * @throws `EBADF`, `ENOTSUP`, `ECANCELED`, `ETIMEDOUT`, `EINVAL` (bad deadline); a member's
 * escaped exception, as described above.
 *
 * @example
 * ```ts
 * yield* bundle_wait(b, -1);
 * ```
 */
export function* bundle_wait(bndl: number, deadline: number): Op<void> {
  const cr = canBlock("bundle_wait");
  const b = handleQuery(bndl, BUNDLE_TYPE, "bundle_wait", "bndl") as BundleStorage;
  checkDeadline("bundle_wait", deadline);
  if (b.count === 0) return surface(b);
  if (expired(deadline)) throw quickError("ETIMEDOUT", "bundle_wait");
  b.waiters.push(cr);
  park(cr, "bundle_wait", deadline, unwait, b);
  yield BLOCK;
  surface(b);
}
