/**
 * Bundles: a handle owning a group of coroutines (libdill's `bundle`, `bundle_go`, `bundle_wait`).
 * Members have no handles of their own; a member that returns frees its slot at once. A `go()`
 * handle is a bundle too (of one coroutine, at first): every call here takes either kind.
 */
import { checkDeadline } from "../handles/args.js";
import { quickError } from "../handles/errors.js";
import { BLOCK, type Op } from "../handles/op.js";
import { claim, FreeList } from "../handles/pool.js";
import { type HandleVfs, handleMake, handleQuery } from "../handles/table.js";
import type { Bundle, Unbranded } from "../handles/types.js";
import { type CrBase, Group } from "./cr.js";
import { checkBody, type Coroutine, CoroutineStorage, records } from "./coroutine.js";
import { BUNDLE_TYPE, closeGroup, join, memberExit } from "./group.js";
import { canBlock, expired, park, start, suspended } from "./sched.js";

export { BUNDLE_TYPE };

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
export class BundleStorage extends Group implements HandleVfs {
  readonly kind = "bundle";
  query(type: symbol): unknown {
    return type === BUNDLE_TYPE ? this : undefined;
  }
  close(): void {
    closeGroup(this, null);
  }
  free(): void {
    this.head = this.tail = null;
    this.failure = undefined;
    this.failed = false;
    bundles.release(this);
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
export function bundle(): Bundle {
  return init(bundles.take("bundle"), "bundle") as Bundle;
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
export function bundle_mem(mem: BundleStorage): Bundle {
  return init(claim(mem, BundleStorage, "bundle_mem"), "bundle_mem") as Bundle;
}

function launchInto(fn: string, bndl: number, body: Coroutine, cr: CoroutineStorage): void {
  let g: Group;
  try {
    g = handleQuery(bndl, BUNDLE_TYPE, fn, "bndl") as Group;
  } catch (e) {
    records.release(cr);
    throw e;
  }
  join(g, cr);
  // Nothing touches `g` after this: the new member may close the bundle while it runs.
  start(cr, body, memberExit, g);
}

/**
 * Launches a coroutine into bundle `bndl`: a handle from `bundle()`, or from `go()`, which is a
 * bundle of one. As with `go`, the coroutine starts at once and runs until its first blocking
 * call (or its end) before `bundle_go` returns. It lives until it returns or the bundle is closed.
 *
 * @throws `EBADF` for a bad handle; `ENOTSUP` when `bndl` is not a bundle; `EINVAL` for a bad
 * `expr`; `ECANCELED` when the caller is cancelled; `ENOMEM` when the storage pool is used up.
 *
 * @example
 * ```ts
 * const b = bundle();
 * bundle_go(b, worker());
 * const cr = go(worker());
 * bundle_go(cr, worker()); // two workers behind one handle now
 * ```
 */
export function bundle_go(bndl: Bundle | Unbranded, expr: Coroutine): void {
  const body = checkBody("bundle_go", expr);
  launchInto("bundle_go", bndl, body, records.take("bundle_go"));
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
export function bundle_go_mem(bndl: Bundle | Unbranded, expr: Coroutine, mem: CoroutineStorage): void {
  const body = checkBody("bundle_go_mem", expr);
  launchInto("bundle_go_mem", bndl, body, claim(mem, CoroutineStorage, "bundle_go_mem"));
}

function unwait(cr: CrBase): void {
  const w = (cr.waitObj as Group).waiters!;
  const i = w.indexOf(cr);
  if (i >= 0) w.splice(i, 1);
}

/** Rethrow, once, the first exception that escaped a member: the owner that waits sees it. */
function surface(g: Group): void {
  if (!g.failed) return;
  const e = g.failure;
  g.failed = false;
  g.failure = undefined;
  throw e;
}

/**
 * Waits until every coroutine in the bundle has finished: on a `go()` handle, until that
 * coroutine (and any added with `bundle_go`) has returned. Returns at once for an empty bundle.
 * When an exception escaped a member since the last `bundle_wait` (it was also reported to the
 * `onUncaught` handler), the first such exception is thrown here, after all members finished.
 *
 * @param bndl the bundle, or a `go()` handle.
 * @param deadline absolute time in ms (`-1` never, `0` do not wait).
 * @throws `EBADF`, `ENOTSUP`, `ECANCELED`, `ETIMEDOUT`, `EINVAL` (bad deadline); a member's
 * escaped exception, as described above.
 *
 * @example
 * ```ts
 * yield* bundle_wait(b, -1);
 * const cr = go(worker());
 * yield* bundle_wait(cr, now() + 1000); // worker() has returned
 * hclose(cr);
 * ```
 */
export function* bundle_wait(bndl: Bundle | Unbranded, deadline: number): Op<void> {
  const cr = canBlock("bundle_wait");
  if (cr === null) return yield* suspended();
  const g = handleQuery(bndl, BUNDLE_TYPE, "bundle_wait", "bndl") as Group;
  checkDeadline("bundle_wait", deadline);
  if (g.count === 0) return surface(g);
  if (expired(deadline)) throw quickError("ETIMEDOUT", "bundle_wait");
  (g.waiters ??= []).push(cr);
  park(cr, "bundle_wait", deadline, unwait, g);
  yield BLOCK;
  surface(g);
}
