/**
 * The handle table, after libdill's handle.c.
 *
 * Handles are small non-negative integers, like file descriptors. Each slot holds the object's
 * virtual-function table ({@link HandleVfs}). Free slots form a FIFO list threaded through `next`:
 * a freed number goes to the back and is handed out again only after the numbers freed before it,
 * and the table grows (doubling, from 256 slots) while {@link ROTATION} or fewer are free, so
 * that even near its size a number is not reused at once. A handle closed twice by mistake thus
 * fails with `EBADF` instead of closing whatever was opened right after it. Checking a handle is
 * one array read and one compare, and `hquery` caches its last answer per slot, as libdill does.
 *
 * The table is bounded: when `capacity` slots are in use, making a handle fails with `EMFILE`.
 */
import { dillError } from "./errors.js";

/**
 * What an object must implement to live behind a handle (libdill's `struct hvfs`).
 *
 * @example
 * ```ts
 * const COUNTER = Symbol("counter");
 * const h = hmake({
 *   query: (type) => (type === COUNTER ? counter : undefined),
 *   close: () => { counter.closed = true; },
 * });
 * ```
 */
export interface HandleVfs {
  /**
   * The object's answer for an interface `type` (an opaque unique symbol), or `undefined` (or
   * `null`) when it does not implement it. The answer must be stable for a given type.
   */
  query(type: symbol): unknown;
  /** Frees the object's resources at once. Must not block; may not throw for expected cases. */
  close(): void;
  /** A short name of the object's kind ("coroutine", "channel", "ipc"…), shown by `dill_stats`. */
  readonly kind?: string;
}

/** Default bound on the number of open handles (configurable with `dill_configure`). */
export const DEFAULT_MAX_HANDLES = 1 << 20;

/**
 * The table grows while this many slots or fewer are free (libdill keeps 8), so that freed
 * numbers go round a queue of at least that many before they are handed out again.
 */
export const ROTATION = 8;

const IN_USE = -2;
const END = -1;
/** Slots made at the first handle. */
const INITIAL = 256;

// Parallel arrays: one record per slot would be one more object per handle for the GC to walk.
const objs: (HandleVfs | null)[] = [];
const next: number[] = [];
const cacheType: (symbol | null)[] = [];
const cacheVal: unknown[] = [];
/** Launch number of the coroutine that made each handle (0: made outside any), for `dill_tree`. */
const owners: number[] = [];
let ownerOf: () => number = noOwner;
/**
 * Told of every handle released (closed, or moved away by `hown` or an attach), while the trace
 * recorder is on; null otherwise, so that a release then costs one test.
 */
let onRelease: ReleaseHook | null = null;
/** The free list, oldest first: handed out from `first`, freed slots appended at `last`. */
let first = END;
let last = END;
let open = 0;
let capacity = DEFAULT_MAX_HANDLES;

/** Append free slot `h` to the back of the free list. */
function enqueueFree(h: number): void {
  next[h] = END;
  if (last === END) first = h;
  else next[last] = h;
  last = h;
}

/** Add free slots: double the table (at least {@link INITIAL} slots), up to the capacity. */
function grow(): void {
  const n = objs.length;
  const size = Math.min(Math.max(INITIAL, n * 2), capacity);
  for (let h = n; h < size; h++) {
    objs.push(null);
    next.push(END);
    cacheType.push(null);
    cacheVal.push(undefined);
    owners.push(0);
    enqueueFree(h);
  }
}

/** Put `vfs` behind a fresh handle. `fn` names the public call, for the `EMFILE` message. */
export function handleMake(vfs: HandleVfs, fn: string): number {
  if (objs.length - open <= ROTATION && objs.length < capacity) grow();
  const h = first;
  if (h === END) throw dillError("EMFILE", fn, undefined, `the handle table is full (${capacity} handles open)`);
  first = next[h]!;
  if (first === END) last = END;
  objs[h] = vfs;
  owners[h] = ownerOf();
  next[h] = IN_USE;
  cacheType[h] = null;
  cacheVal[h] = undefined;
  open++;
  return h;
}

/**
 * The object behind `h`, or `EBADF`. Only numbers index the table: a string such as `"3"` or
 * `"length"` would otherwise reach a slot, or a property of the array itself.
 */
export function handleGet(h: number, fn: string, arg = "h"): HandleVfs {
  const v = typeof h === "number" ? objs[h] : undefined;
  if (v === undefined || v === null) throw badHandle(h, fn, arg);
  return v;
}

function badHandle(h: unknown, fn: string, arg: string): Error {
  const shown = typeof h === "string" ? `"${h}"` : String(h);
  return dillError(
    "EBADF",
    fn,
    arg,
    `${shown} is not an open handle${typeof h === "number" ? "" : " (handles are numbers)"}`,
  );
}

/**
 * The object's interface `type` behind handle `h`: `EBADF` for a bad handle, `ENOTSUP` when the
 * object does not implement `type`. `fn`/`arg` name the public call and argument for the message.
 */
export function handleQuery(h: number, type: symbol, fn: string, arg = "h"): unknown {
  if (typeof h !== "number") throw badHandle(h, fn, arg);
  if (cacheType[h] === type) return cacheVal[h];
  const v = objs[h];
  if (v === undefined || v === null) throw badHandle(h, fn, arg);
  const r = v.query(type);
  if (r === undefined || r === null) {
    throw dillError(
      "ENOTSUP",
      fn,
      arg,
      `handle ${h} (${v.kind ?? "user"}) does not support ${type.description ?? "this interface"}`,
    );
  }
  cacheType[h] = type;
  cacheVal[h] = r;
  return r;
}

/**
 * Free slot `h` (without calling `close`) and return the object that was there. `fn` is the call
 * that gives the handle up: `hclose`, `ipc_close`, `hown`, `prefix_attach`…
 */
export function handleRelease(h: number, fn: string): HandleVfs {
  const v = handleGet(h, fn);
  objs[h] = null;
  cacheType[h] = null;
  cacheVal[h] = undefined;
  enqueueFree(h);
  open--;
  if (onRelease !== null) onRelease(h, v, fn, ownerOf());
  return v;
}

/** Called with handle `h` just released by call `fn`, its object, and the running coroutine's launch number (0: none). */
export type ReleaseHook = (h: number, vfs: HandleVfs, fn: string, by: number) => void;

/** Set (or, with null, remove) the hook told of every handle released (the trace recorder's). */
export function setReleaseHook(hook: ReleaseHook | null): void {
  onRelease = hook;
}

function noOwner(): number {
  return 0;
}

/** Set how the table learns who is making a handle (the runtime installs the running coroutine's id). */
export function setOwnerSource(fn: () => number): void {
  ownerOf = fn;
}

/** Every open handle with its object and the launch number of the coroutine that made it. */
export function handleEach(visit: (h: number, vfs: HandleVfs, owner: number) => void): void {
  for (let i = 0; i < objs.length; i++) {
    const v = objs[i];
    if (v) visit(i, v, owners[i]!);
  }
}

/** Number of open handles. */
export function handleCount(): number {
  return open;
}

/** Open handles grouped by their object's kind. */
export function handleKinds(): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < objs.length; i++) {
    const v = objs[i];
    if (v) {
      const k = v.kind ?? "user";
      out[k] = (out[k] ?? 0) + 1;
    }
  }
  return out;
}

/** The current bound on open handles. */
export function handleCapacity(): number {
  return capacity;
}

/** Throw what {@link setHandleCapacity} would throw for `n`, changing nothing. */
export function checkHandleCapacity(n: number, fn: string): void {
  if (!Number.isSafeInteger(n) || n < 1)
    throw dillError("EINVAL", fn, "handles", `handles must be a positive integer, got ${String(n)}`);
  // Shrinking is only possible over slots that are free.
  for (let i = objs.length - 1; i >= n; i--) {
    if (objs[i]) throw dillError("EBUSY", fn, "handles", `handle ${i} is open, above the requested bound ${n}`);
  }
}

/**
 * Change the bound on open handles. It cannot drop below an open handle's number, since handle
 * numbers already handed out must stay valid.
 */
export function setHandleCapacity(n: number, fn: string): void {
  checkHandleCapacity(n, fn);
  if (n < objs.length) {
    // Trim the free slots at the end.
    objs.length = n;
    next.length = n;
    cacheType.length = n;
    cacheVal.length = n;
    owners.length = n;
    // Rebuild the free list from the remaining free slots, lowest first.
    first = last = END;
    for (let i = 0; i < n; i++) if (!objs[i]) enqueueFree(i);
  }
  capacity = n;
}
