/**
 * What every bundle does, whichever object holds it (libdill's `dill_bundle`): members join and
 * leave, a closed group cancels its members and is freed when the last one has exited, waiters
 * are woken when it becomes empty, and the first exception a member lets escape is kept for the
 * next `bundle_wait`. The holders are a `BundleStorage` (`bundle()`) and a coroutine record (the
 * bundle of one that `go()` returns, whose own coroutine is a member outside the member list).
 */
import type { CrBase, Group } from "./cr.js";
import { cancel, isOwnCancellation, reportUncaught, resume, running } from "./sched.js";
import { recordClose, tracing } from "./trace.js";

/** Interface id a bundle handle answers in `hquery`: `bundle()` handles and `go()` handles alike. */
export const BUNDLE_TYPE: unique symbol = Symbol("bundle");

/** Link `cr` at the end of `g`'s members (before it starts). */
export function join(g: Group, cr: CrBase): void {
  cr.prev = g.tail;
  cr.next = null;
  if (g.tail !== null) g.tail.next = cr;
  else g.head = cr;
  g.tail = cr;
  g.count++;
}

/** A member of `g` has finished: one member fewer; wake the waiters when none is left, free a closed group. */
export function leave(g: Group): void {
  if (--g.count !== 0) return;
  const ws = g.waiters;
  if (ws !== null && ws.length > 0) for (const w of ws.splice(0)) resume(w, undefined);
  if (g.closed) g.free();
}

/** An exception escaped a member of `g`: report it, and keep the first for the next `bundle_wait`. */
export function failed(g: Group, cr: CrBase, error: unknown): void {
  reportUncaught(cr, error);
  if (!g.failed && !g.closed) {
    g.failed = true;
    g.failure = error;
  }
}

/** Exit hook of a coroutine launched with `bundle_go`: it leaves its group, its record is freed. */
export function memberExit(cr: CrBase, value: unknown, threw: boolean): void {
  const g = cr.owner as Group;
  if (threw && !isOwnCancellation(cr, value)) failed(g, cr, value);
  if (cr.prev !== null) cr.prev.next = cr.next;
  else g.head = cr.next;
  if (cr.next !== null) cr.next.prev = cr.prev;
  else g.tail = cr.prev;
  cr.free();
  leave(g);
}

/**
 * `hclose` of a group's handle: cancel `self` (the coroutine of a `go()` handle, or null) and then
 * every member, in launch order; the group is freed once the last of them has exited, which is
 * before this returns unless one of them is on the stack (it closed its own bundle) or the
 * cancellation was left to a shallower step (see `cancel`).
 */
export function closeGroup(g: Group, self: CrBase | null): void {
  g.closed = true;
  if (g.count === 0) {
    g.free();
    return;
  }
  g.count++; // held by this call, so that no member's exit frees the group under the loop
  if (tracing) recordClose(g, running(), true);
  if (self !== null) cancel(self);
  let c = g.head;
  while (c !== null) {
    const n = c.next;
    const nid = n === null ? 0 : n.id;
    if (!c.cancelled) cancel(c);
    // `n` may have finished meanwhile (and its record been reused): then start over from the head.
    c = n === null ? null : n.id === nid && n.owner === g ? n : g.head;
  }
  if (tracing) recordClose(g, running(), false);
  leave(g);
}
