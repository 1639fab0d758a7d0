/**
 * The fixed-capacity storage pool behind every plain (non-`_mem`) constructor.
 *
 * libdill's `_mem` calls take caller-provided storage; the plain calls malloc it. tsdill keeps the
 * same split: `_mem` calls take a storage object the caller made (no allocation on that path),
 * the plain calls take one from this pool. The pool has one capacity shared by every kind of
 * storage; when it is used up the plain calls fail with `ENOMEM`. Released storage is kept on a
 * per-class free list and reused, so a server in steady state allocates nothing.
 */
import { dillError } from "./errors.js";

/**
 * Base class of every storage (`CoroutineStorage`, `BundleStorage`, `ChannelStorage`, the IPC
 * storages): the in-use mark that makes reuse while in use `EBUSY`.
 *
 * @example
 * ```ts
 * const mem = new ChannelStorage();
 * mem.inUse; // false: chmake_mem(mem) may take it
 * ```
 */
export abstract class Storage {
  /** True from the constructor call that took it until its handle is closed. */
  inUse = false;
  /** True when the storage came from the pool (and goes back to it when released). */
  pooled = false;
}

/** Default number of storages the pool hands out at once (configurable). */
export const DEFAULT_POOL_CAPACITY = 1 << 20;

let capacity = DEFAULT_POOL_CAPACITY;
let used = 0;

/** A free list of one storage class, drawing on the shared capacity. */
export class FreeList<T extends Storage> {
  private readonly free: T[] = [];
  constructor(private readonly make: () => T) {}

  /** A storage for a plain constructor, marked in use; `ENOMEM` when the pool is used up. */
  take(fn: string): T {
    if (used >= capacity)
      throw dillError("ENOMEM", fn, undefined, `the storage pool is used up (${capacity} storages in use)`);
    used++;
    const s = this.free.length > 0 ? this.free.pop()! : this.make();
    s.inUse = true;
    s.pooled = true;
    return s;
  }

  /**
   * Mark a storage free again once its handle is closed: caller storage becomes reusable by a
   * `_mem` call, pooled storage goes back to this list.
   */
  release(s: T): void {
    s.inUse = false;
    if (s.pooled) {
      s.pooled = false;
      used--;
      this.free.push(s);
    }
  }
}

/**
 * Claim caller storage for a `_mem` constructor: `EINVAL` when it is not an instance of the
 * expected class, `EBUSY` when it is still in use by an open handle.
 */
export function claim<T extends Storage>(mem: T, cls: abstract new (...a: never[]) => T, fn: string): T {
  checkMem(fn, mem, cls);
  mem.inUse = true;
  mem.pooled = false;
  return mem;
}

/**
 * `EINVAL` unless `mem` is an instance of `cls`, or `EBUSY` when it is in use: for a call that
 * checks its storage before its other arguments and claims it later.
 */
export function checkMem(fn: string, mem: unknown, cls: abstract new (...a: never[]) => Storage): void {
  if (!(mem instanceof cls)) throw dillError("EINVAL", fn, "mem", `mem must be a ${cls.name}`);
  if (mem.inUse) throw dillError("EBUSY", fn, "mem", `this ${cls.name} is still in use by an open handle`);
}

/** Storages of the pool in use now. */
export function poolUsed(): number {
  return used;
}

/** The pool's capacity. */
export function poolCapacity(): number {
  return capacity;
}

/** Throw what {@link setPoolCapacity} would throw for `n`, changing nothing. */
export function checkPoolCapacity(n: number, fn: string): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw dillError("EINVAL", fn, "pool", `pool must be a non-negative integer, got ${String(n)}`);
  if (n < used) throw dillError("EBUSY", fn, "pool", `${used} storages are in use, more than ${n}`);
}

/** Change the pool's capacity; it cannot drop below what is in use. */
export function setPoolCapacity(n: number, fn: string): void {
  checkPoolCapacity(n, fn);
  capacity = n;
}
