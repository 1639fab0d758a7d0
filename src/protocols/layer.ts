/**
 * What every protocol of this folder is made of, after the shape of libdill's prefix.c, suffix.c
 * and term.c: taking the underlying handle over when attaching, handing it back when detaching,
 * and the op object a protocol's send or receive runs as.
 *
 * A protocol attaches over any handle that offers the interface it needs (a bytestream for
 * prefix and suffix, a message socket for term), whatever is under it: an IPC or TCP connection,
 * an `ipc_pair` end, a user's `hmake` object, another protocol. It only ever calls that interface.
 *
 * - `*_attach` takes `s` over in every case, as libdill does: on success the protocol owns it (it
 *   moves to a new handle number, as with `hown`, so the caller's number is no longer valid); on
 *   failure it is closed, unless it was not a handle at all (`EBADF`).
 * - `*_detach` frees the protocol's handle and returns the underlying one, after handing back
 *   any bytes the protocol read ahead (the bytestream's `unrecv`), so that the next protocol or
 *   the user reads exactly where this one stopped. When the protocol cannot be detached cleanly
 *   (a send or receive failed, its closing handshake failed) both are closed.
 * - `hclose` on the protocol's handle closes the underlying handle too.
 */
import type { Bytestream, IoList } from "../handles/bytestream.js";
import { dillError, isDillError } from "../handles/errors.js";
import { finished, type Op } from "../handles/op.js";
import { claim, type FreeList, type Storage } from "../handles/pool.js";
import { type HandleVfs, handleGet, handleMake, handleRelease } from "../handles/table.js";

/** Close `h` if it is still open; what its close does is final, nothing to report. */
export function closeQuietly(h: number): void {
  try {
    handleRelease(h, "hclose").close();
  } catch (e) {
    if (!isDillError(e, "EBADF")) throw e;
  }
}

/**
 * The start of every `*_attach`: `s` must be an open handle (`EBADF`, and nothing is closed).
 * Then `check` runs the call's argument checks; when one fails, `s` is closed and its error
 * thrown, since an attach takes its handle over whatever happens.
 */
export function attachChecks(s: number, fn: string, check: () => void): void {
  handleGet(s, fn, "s");
  try {
    check();
  } catch (e) {
    closeQuietly(s);
    throw e;
  }
}

/**
 * Take `s` over for a protocol that needs its interface `need`: `EPROTO` (and `s` closed) when
 * the object behind it does not offer it. `s` moves to a new handle number, which is returned
 * with the interface; the old number is invalid from now on. `what` names the interface in the
 * message ("a bytestream").
 */
export function takeOver(s: number, need: symbol, fn: string, what: string): [number, unknown] {
  const vfs = handleGet(s, fn, "s");
  const iface = vfs.query(need);
  if (iface === undefined || iface === null) {
    closeQuietly(s);
    throw dillError("EPROTO", fn, "s", `handle ${s} (${vfs.kind ?? "user"}) is not ${what}`);
  }
  let u: number;
  try {
    u = handleMake(vfs, fn);
  } catch (e) {
    closeQuietly(s);
    throw e;
  }
  handleRelease(s, fn);
  return [u, iface];
}

/**
 * The middle of every `*_attach`, after its checks: the protocol's storage (`mem`, or one from
 * `list`), then `s` taken over for its interface `need` (see {@link takeOver}). Nothing is left
 * behind on failure: without a storage `s` is closed, and when `s` cannot be taken over (it is
 * then closed) the storage goes back.
 */
export function claimAndTakeOver<T extends Storage>(
  s: number,
  mem: T | undefined,
  list: FreeList<T>,
  cls: abstract new (...a: never[]) => T,
  need: symbol,
  what: string,
  fn: string,
): [T, number, unknown] {
  let st: T;
  try {
    st = mem === undefined ? list.take(fn) : claim(mem, cls, fn);
  } catch (e) {
    closeQuietly(s);
    throw e;
  }
  try {
    const [u, iface] = takeOver(s, need, fn, what);
    return [st, u, iface];
  } catch (e) {
    list.release(st);
    throw e;
  }
}

/** Put the protocol object `vfs` behind a new handle, or close it (and what is under it) when that fails. */
export function publish(vfs: HandleVfs, fn: string): number {
  try {
    return handleMake(vfs, fn);
  } catch (e) {
    vfs.close();
    throw e;
  }
}

/** What a protocol op passes to a sub-call's start when it is abandoned (the coroutine was stopped). */
const ABANDONED = Symbol("abandoned");

/**
 * A protocol's send or receive as one small object that `yield*` drives: a hand-written state
 * machine instead of a generator, so that a message costs no generator frame and no closure.
 *
 * The subclass writes `step(v)`: it runs from its current phase, with `v` the result of the
 * sub-call that just finished (undefined on the first call), starts the next sub-call with
 * {@link LayerOp.recvOn}, {@link LayerOp.sendOn}, {@link LayerOp.recvSomeOn} or {@link LayerOp.run},
 * and returns that sub-call's result when it did not finish at once (the coroutine is parked
 * in it; `step` is called again with its value when it completes), or `finished(result)` at
 * the end. `failed(e)` runs once when the op fails (a sub-call failed, a check in `step` threw,
 * the deadline expired, the coroutine was cancelled or stopped): it marks the direction failed
 * and puts back whatever the op had changed.
 *
 * A sub-call on an interface that has start methods (`startRecv`…) runs without any op object;
 * on one that has only ops (a user's `hmake` bytestream, another protocol), its iterator is kept
 * and driven from here.
 */
export abstract class LayerOp<T> implements Op<T>, Iterator<unknown, T, unknown> {
  private inner: Iterator<unknown, unknown, unknown> | null = null;

  [Symbol.iterator](): this {
    return this;
  }

  /** Run from the current phase; `v` is what the last sub-call finished with. */
  protected abstract step(v: unknown): IteratorResult<unknown, T>;
  /** The op failed with `e`: undo its changes, mark its direction. Must not throw. */
  protected abstract failed(e: unknown): void;

  next(v?: unknown): IteratorResult<unknown, T> {
    try {
      const it = this.inner;
      if (it !== null) {
        const r = it.next(v);
        if (!r.done) return r as IteratorResult<unknown, T>;
        this.inner = null;
        return this.step(r.value);
      }
      return this.step(v);
    } catch (e) {
      this.inner = null;
      this.failed(e);
      throw e;
    }
  }

  throw(e?: unknown): IteratorResult<unknown, T> {
    const it = this.inner;
    if (it !== null && it.throw !== undefined) {
      // The sub-call may catch it (a user's op): then it goes on.
      try {
        const r = it.throw(e);
        if (!r.done) return r as IteratorResult<unknown, T>;
        this.inner = null;
        return this.step(r.value);
      } catch (e2) {
        this.inner = null;
        this.failed(e2);
        throw e2;
      }
    }
    this.inner = null;
    this.failed(e);
    throw e;
  }

  return(v?: unknown): IteratorResult<unknown, T> {
    const it = this.inner;
    this.inner = null;
    if (it !== null && it.return !== undefined) it.return(undefined);
    this.failed(ABANDONED);
    return finished(v as T);
  }

  /** Start `op` as the sub-call: its result if it finished at once, else what it yielded (kept going by `next`). */
  protected run(op: Op<unknown>): IteratorResult<unknown, unknown> {
    const it = op[Symbol.iterator]();
    const r = it.next(undefined);
    if (!r.done) this.inner = it;
    return r;
  }

  /** Start receiving exactly the list `first`..`last` from the bytestream `u`. */
  protected recvOn(
    u: Bytestream,
    first: IoList,
    last: IoList,
    deadline: number,
    fn: string,
  ): IteratorResult<unknown, unknown> {
    if (u.startRecv !== undefined) return u.startRecv(first, last, deadline, fn);
    return this.run(u.brecvl(first, last, deadline, fn));
  }

  /** Start sending the list `first`..`last` on the bytestream `u`. */
  protected sendOn(
    u: Bytestream,
    first: IoList,
    last: IoList,
    deadline: number,
    fn: string,
  ): IteratorResult<unknown, unknown> {
    if (u.startSend !== undefined) return u.startSend(first, last, deadline, fn);
    return this.run(u.bsendl(first, last, deadline, fn));
  }

  /** Start receiving 1 to `len` bytes into `buf` from `u` (which offers one of the receive-some calls). */
  protected recvSomeOn(
    u: Bytestream,
    buf: Uint8Array,
    len: number,
    deadline: number,
    fn: string,
  ): IteratorResult<unknown, unknown> {
    if (u.startRecvSome !== undefined) return u.startRecvSome(buf, len, deadline, fn);
    return this.run(u.brecvsome!(buf, len, deadline, fn));
  }
}

/**
 * `n` bytes of `src` from `off`, as a plain view (no copy). Making a view costs about as much as
 * copying a hundred bytes, so the hot paths keep the views they need (see `copyBytes`).
 */
export function view(src: Uint8Array, off: number, n: number): Uint8Array {
  return new Uint8Array(src.buffer, src.byteOffset + off, n);
}

/**
 * Copy `n` bytes of `src` from `srcOff` to `dst` at `dstOff`: a loop for up to 64 bytes (cheaper
 * than making a view), else one `set` of a view. `src` should be a plain Uint8Array: a Buffer's
 * `subarray` makes a Buffer, which costs several times as much.
 */
export function copyBytes(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, n: number): void {
  if (n <= 64) for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i]!;
  else dst.set(srcOff === 0 && n === src.length ? src : src.subarray(srcOff, srcOff + n), dstOff);
}

/** Plain views of `buf` from each offset below `n`, for reads that continue behind kept bytes. */
export function offsetViews(buf: Uint8Array, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(view(buf, i, buf.length - i));
  return out;
}

/** True when `u` lets a protocol read ahead: it can receive what is there and take bytes back. */
export function canReadAhead(u: Bytestream): boolean {
  return typeof u.unrecv === "function" && (typeof u.startRecvSome === "function" || typeof u.brecvsome === "function");
}

/**
 * Copies `n` bytes of `src` from `off` into the list at the cursor (`it`, `ioff`), skipping
 * elements with no buffer; returns false when the list ends first. The cursor lives in `cur`.
 */
export class ListCursor {
  it: IoList | null = null;
  ioff = 0;
  /** Drop everything (the caller gave no list). */
  drop = false;

  reset(first: IoList | null): void {
    this.it = first;
    this.ioff = 0;
    this.drop = first === null;
  }

  /** Copy `src[off..off+n)` to the cursor; false when the list has no room left for all of it. */
  put(src: Uint8Array, off: number, n: number): boolean {
    if (this.drop) return true;
    let it = this.it;
    let ioff = this.ioff;
    while (n > 0) {
      while (it !== null && ioff === it.iol_len) {
        it = it.iol_next;
        ioff = 0;
      }
      if (it === null) {
        this.it = null;
        return false;
      }
      let k = it.iol_len - ioff;
      if (k > n) k = n;
      const base = it.iol_base;
      if (base !== null) copyBytes(base, ioff, src, off, k);
      off += k;
      ioff += k;
      n -= k;
    }
    this.it = it;
    this.ioff = ioff;
    return true;
  }

  /** Forget the list (the receive ended). */
  clear(): void {
    this.it = null;
    this.ioff = 0;
  }
}
