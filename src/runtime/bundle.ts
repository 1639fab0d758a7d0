/**
 * Bundles: a handle owning a group of coroutines (libdill's `bundle`, `bundle_go`, `bundle_wait`).
 * Members have no handles of their own; a member that returns frees its slot at once. A `go()`
 * handle is a bundle too (of one coroutine, at first): every call here takes either kind.
 */
import { claim, FreeList } from "../handles/pool.js";
import { type HandleVfs, handleMake, handleQuery } from "../handles/table.js";
import type { Bundle, Unbranded } from "../handles/types.js";
import { Group } from "./cr.js";
import { checkBody, type Coroutine, CoroutineStorage, records } from "./coroutine.js";
import { BUNDLE_TYPE, closeGroup, join, memberExit } from "./group.js";
import { start } from "./sched.js";

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
