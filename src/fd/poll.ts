/**
 * Readiness of file descriptors, without blocking Node's event loop: `fdin`, `fdout`, `fdclean`.
 *
 * A descriptor being waited for is registered, for the union of what its waiters want, in the
 * native part's epoll instance (one libuv poll handle watches it for the whole process); a
 * readiness event wakes the coroutine parked on that direction (one per direction, as in libdill: a second one is EBUSY) and the scheduler runs it in
 * the same callback. A wait first asks the kernel (poll with no timeout), so a descriptor that is
 * ready costs no registration and no event-loop turn, and a deadline of 0 is answered at once.
 *
 * Other layers watch descriptors of their own through {@link watchFd} (a listener instead of
 * coroutines): the IPC connection's descriptor reader does.
 */
import { checkDeadline } from "../handles/args.js";
import { dillError, errnoName, type ErrnoCode, quickError } from "../handles/errors.js";
import { BLOCK, guardOps, type Op } from "../handles/op.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, expired, flush, park, suspended, wake, wakeWithError } from "../runtime/sched.js";
import { native, type Native, READABLE, WRITABLE } from "./native.js";

/** Who is told when a watched descriptor is ready: `events` (READABLE, WRITABLE) or a negated errno. */
export interface FdListener {
  fdReady(events: number, status: number): void;
}

/** The poll state of a descriptor that coroutines wait on (fdin, fdout), and the events asked for. */
class Watch implements FdListener {
  inCr: CrBase | null = null;
  outCr: CrBase | null = null;
  mask = 0;
  constructor(readonly fd: number) {}

  /** Wake the waiters the events (or the failure) are for, then poll for what is still wanted. */
  fdReady(events: number, status: number): void {
    const code = status < 0 ? nativeCode(status) : null;
    const i = this.inCr;
    if (i !== null && (code !== null || (events & READABLE) !== 0)) {
      this.inCr = null;
      if (code === null) wake(i, undefined);
      else wakeWithError(i, quickError(code, "fdin"));
    }
    const o = this.outCr;
    if (o !== null && (code !== null || (events & WRITABLE) !== 0)) {
      this.outCr = null;
      if (code === null) wake(o, undefined);
      else wakeWithError(o, quickError(code, "fdout"));
    }
    rearm(this);
    flush();
  }
}

/**
 * Who is told of each watched descriptor: coroutines' {@link Watch}, or another layer's listener
 * (which keeps its own state: nothing is allocated here for it but the map entry).
 */
const watches = new Map<number, FdListener>();
let dispatching: Native | null = null;

/** The errno name of a negated errno from the native part. */
export function nativeCode(rc: number): ErrnoCode {
  return errnoName(-rc) ?? "EIO";
}

function nativeFor(fn: string): Native {
  const n = native(fn);
  if (dispatching === null && startPolling(n) < 0)
    throw dillError("ENOTSUP", fn, undefined, "tsdill's native part serves one thread, and another thread started it");
  return n;
}

/**
 * Hand the native part the dispatcher (it opens its epoll descriptor then, once per process).
 * Returns 0 or a negated errno.
 */
export function startPolling(n: Native): number {
  const rc = n.init(dispatch);
  if (rc === 0) dispatching = n;
  return rc;
}

function dispatch(fd: number, status: number, events: number): void {
  const w = watches.get(fd);
  if (w !== undefined) w.fdReady(events, status);
}

/** Ask the native part for the events the waiters of `w` still want (none: stop polling). */
function rearm(w: Watch): void {
  const mask = (w.inCr !== null ? READABLE : 0) | (w.outCr !== null ? WRITABLE : 0);
  if (mask === w.mask) return;
  w.mask = mask;
  if (mask === 0) dispatching!.pollStop(w.fd);
  else dispatching!.pollStart(w.fd, mask);
}

function unblockIn(cr: CrBase): void {
  const w = cr.waitObj as Watch;
  if (w.inCr !== cr) return;
  w.inCr = null;
  rearm(w);
}

function unblockOut(cr: CrBase): void {
  const w = cr.waitObj as Watch;
  if (w.outCr !== cr) return;
  w.outCr = null;
  rearm(w);
}

function checkFd(fn: string, fd: number): void {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff)
    throw dillError("EBADF", fn, "fd", `fd must be a file descriptor (a non-negative integer), got ${String(fd)}`);
}

function* wait(fd: number, deadline: number, out: boolean): Op<void> {
  const fn = out ? "fdout" : "fdin";
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  checkFd(fn, fd);
  checkDeadline(fn, deadline);
  const n = nativeFor(fn);
  const want = out ? WRITABLE : READABLE;
  const w = watches.get(fd);
  if (w !== undefined && (!(w instanceof Watch) || (out ? w.outCr : w.inCr) !== null))
    throw dillError("EBUSY", fn, "fd", `another coroutine is already waiting in ${fn} on fd ${fd}`);
  const now = n.ready(fd, want);
  if (now < 0) {
    const code = nativeCode(now);
    throw dillError(
      code,
      fn,
      "fd",
      code === "ENOTSUP" ? `fd ${fd} is a file or a directory, which cannot be waited for` : undefined,
    );
  }
  if (now !== 0) return;
  if (expired(deadline)) throw quickError("ETIMEDOUT", fn);
  let watch = w as Watch | undefined;
  if (watch === undefined) {
    watch = new Watch(fd);
    watches.set(fd, watch);
  }
  if (out) watch.outCr = cr;
  else watch.inCr = cr;
  const rc = n.pollStart(fd, watch.mask | want);
  if (rc < 0) {
    if (out) watch.outCr = null;
    else watch.inCr = null;
    if (watch.mask === 0) forget(watch);
    const code = nativeCode(rc);
    throw dillError(
      code === "EPERM" || code === "EEXIST" ? "ENOTSUP" : code,
      fn,
      "fd",
      `fd ${fd} cannot be polled (${code})`,
    );
  }
  watch.mask |= want;
  park(cr, fn, deadline, out ? unblockOut : unblockIn, watch);
  yield BLOCK;
}

function forget(w: Watch): void {
  watches.delete(w.fd);
  dispatching!.pollStop(w.fd);
}

/**
 * Waits until a file descriptor can be read from without blocking (libdill's `fdin`): data has
 * arrived, a connection waits to be accepted, or the peer closed (the next read says which).
 * Node's event loop keeps running meanwhile. Call {@link fdclean} before closing `fd`.
 *
 * Needs tsdill's native part; without it the call fails with `ENOTSUP` saying why.
 *
 * @param fd an OS file descriptor (not a handle): a pipe, socket, terminal...
 * @param deadline absolute time in ms (`-1` never, `0` only check).
 * @throws `EBADF` (not an open descriptor), `EBUSY` (another coroutine is in `fdin` on it),
 * `ECANCELED`, `EINVAL` (bad deadline), `ENOTSUP` (a regular file, or no native part), `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * yield* fdin(fd, now() + 1000);
 * const n = readSync(fd, buf);
 * ```
 */
export function* fdin(fd: number, deadline: number): Op<void> {
  return yield* wait(fd, deadline, false);
}

/**
 * Waits until a file descriptor can be written to without blocking (libdill's `fdout`). Node's
 * event loop keeps running meanwhile. Call {@link fdclean} before closing `fd`.
 *
 * Needs tsdill's native part; without it the call fails with `ENOTSUP` saying why.
 *
 * @param fd an OS file descriptor (not a handle).
 * @param deadline absolute time in ms (`-1` never, `0` only check).
 * @throws `EBADF`, `EBUSY` (another coroutine is in `fdout` on it), `ECANCELED`, `EINVAL`,
 * `ENOTSUP`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * yield* fdout(fd, -1);
 * writeSync(fd, "hello");
 * ```
 */
export function* fdout(fd: number, deadline: number): Op<void> {
  return yield* wait(fd, deadline, true);
}

/**
 * Forgets what tsdill keeps about a file descriptor (its poll registration), as libdill's `fdclean`.
 * Call it before closing the descriptor, or before handing it to other code. It never fails and
 * does nothing for a descriptor tsdill never waited on; coroutines still waiting on it are woken
 * with `EBADF`.
 *
 * @param fd an OS file descriptor.
 *
 * @example
 * ```ts
 * fdclean(fd);
 * closeSync(fd);
 * ```
 */
export function fdclean(fd: number): void {
  const w = watches.get(fd);
  if (!(w instanceof Watch)) return;
  const i = w.inCr;
  const o = w.outCr;
  w.inCr = w.outCr = null;
  forget(w);
  if (i !== null) wakeWithError(i, quickError("EBADF", "fdin"));
  if (o !== null) wakeWithError(o, quickError("EBADF", "fdout"));
  if (i !== null || o !== null) flush();
}

/**
 * Poll `fd` for `mask` (READABLE, WRITABLE) and tell `listener`; `0` stops polling for now. The
 * listener keeps track of what it asked for: each call changes the registration. Returns 0 or a
 * negated errno.
 */
export function watchFd(n: Native, fd: number, mask: number, listener: FdListener): number {
  if (dispatching === null) {
    const rc = startPolling(n);
    if (rc < 0) return rc;
  }
  if (watches.get(fd) !== listener) watches.set(fd, listener);
  return mask === 0 ? n.pollStop(fd) : n.pollStart(fd, mask);
}

/** Stop watching `fd` for good (before it is closed). */
export function unwatchFd(fd: number): void {
  if (!watches.delete(fd) || dispatching === null) return;
  dispatching.pollStop(fd);
}

/**
 * Make sure the native part's poller runs (it opens its epoll descriptor then, once per process).
 * Returns 0 or a negated errno.
 */
export function ensurePolling(n: Native): number {
  return dispatching === null ? startPolling(n) : 0;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ fdin, fdout });
