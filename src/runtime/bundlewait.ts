/**
 * `bundle_wait`: waiting for a bundle's coroutines to finish. A module of its own, beside
 * bundle.ts, so that a program that makes bundles and never waits for one (`run` does) leaves it
 * out of a bundler's output.
 */
import { checkDeadline } from "../handles/args.js";
import { quickError } from "../handles/errors.js";
import { BLOCK, guardOps, type Op } from "../handles/op.js";
import { handleQuery } from "../handles/table.js";
import type { Bundle, Unbranded } from "../handles/types.js";
import type { CrBase, Group } from "./cr.js";
import { BUNDLE_TYPE } from "./group.js";
import { canBlock, expired, park, suspended } from "./sched.js";

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

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ bundle_wait });
