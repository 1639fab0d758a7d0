/**
 * Channels (libdill's chan.c): unbuffered, bidirectional rendezvous between coroutines.
 *
 * `chmake` makes one channel with two handles. Each handle has an inbound half-channel; sending
 * on a handle delivers into the other handle's half, so what is sent on one end is received on
 * the other. A half-channel keeps two lists of parked clauses: receivers waiting for a value and
 * senders waiting for a receiver. Nothing is ever stored: a send completes when a receiver takes
 * the value.
 */
import { checkDeadline } from "../handles/args.js";
import { dillError, quickError } from "../handles/errors.js";
import { FastOp, finished, type Op, parked } from "../handles/op.js";
import { claim, FreeList, Storage } from "../handles/pool.js";
import { type HandleVfs, handleMake, handleQuery, handleRelease } from "../handles/table.js";
import type { Chan, Unbranded } from "../handles/types.js";
import type { CrBase } from "./cr.js";
import { canBlock, expired, interrupt, park, resume } from "./sched.js";
import { recordWaitHandle, tracing } from "./trace.js";

/** Interface id a channel handle answers in `hquery`. */
export const CHAN_TYPE: unique symbol = Symbol("channel");

/** One parked send or receive of one coroutine, linked into a half-channel's list. */
export class Clause {
  cr: CrBase | null = null;
  hc: HalfChan | null = null;
  send = false;
  val: unknown = undefined;
  /** Index in a `choose` call, or -1 for plain chsend/chrecv. */
  idx = -1;
  /** The user's `choose` clause, which receives the value. */
  user: { val?: unknown } | null = null;
  prev: Clause | null = null;
  next: Clause | null = null;
}

/** The inbound half of one channel end: what the handle receives. */
export class HalfChan implements HandleVfs {
  readonly kind = "channel";
  /** Parked receivers on this half. */
  rhead: Clause | null = null;
  rtail: Clause | null = null;
  /** Parked senders into this half. */
  shead: Clause | null = null;
  stail: Clause | null = null;
  /** Set by `chdone` on the other end: nothing more will be sent into this half. */
  done = false;
  closed = false;
  other: HalfChan;
  constructor(
    readonly storage: ChannelStorage,
    other: HalfChan | null,
  ) {
    this.other = other ?? this;
  }
  query(type: symbol): unknown {
    return type === CHAN_TYPE ? this : undefined;
  }
  close(): void {
    if (!this.other.closed) {
      this.closed = true;
      return;
    }
    terminate(this);
    terminate(this.other);
    channels.release(this.storage);
  }
}

/**
 * Storage for one channel (both ends), for `chmake_mem`. Reusable once both handles are closed.
 *
 * @example
 * ```ts
 * const mem = new ChannelStorage();
 * const [a, b] = chmake_mem(mem);
 * hclose(a);
 * hclose(b); // mem can serve another chmake_mem now
 * ```
 */
export class ChannelStorage extends Storage {
  readonly a: HalfChan;
  readonly b: HalfChan;
  constructor() {
    super();
    this.a = new HalfChan(this, null);
    this.b = new HalfChan(this, this.a);
    this.a.other = this.b;
  }
}

const channels = new FreeList<ChannelStorage>(() => new ChannelStorage());

// ---- clause lists ------------------------------------------------------------------------------
/** The `i`th reusable clause of `cr`. */
export function clauseOf(cr: CrBase, i: number): Clause {
  const cs = cr.clauses as Clause[];
  let c = cs[i];
  if (c === undefined) {
    c = new Clause();
    cs.push(c);
  }
  c.cr = cr;
  return c;
}

/** Link a prepared clause into its half-channel's list. */
export function link(c: Clause): void {
  const hc = c.hc!;
  c.next = null;
  if (c.send) {
    c.prev = hc.stail;
    if (hc.stail !== null) hc.stail.next = c;
    else hc.shead = c;
    hc.stail = c;
  } else {
    c.prev = hc.rtail;
    if (hc.rtail !== null) hc.rtail.next = c;
    else hc.rhead = c;
    hc.rtail = c;
  }
}

function unlink(c: Clause): void {
  const hc = c.hc!;
  if (c.prev !== null) c.prev.next = c.next;
  else if (c.send) hc.shead = c.next;
  else hc.rhead = c.next;
  if (c.next !== null) c.next.prev = c.prev;
  else if (c.send) hc.stail = c.prev;
  else hc.rtail = c.prev;
  c.prev = c.next = null;
  c.hc = null;
  c.val = undefined;
  c.user = null;
}

/** Unblock hook of a coroutine parked in chsend/chrecv/choose: unlink all of its clauses. */
export function unlinkAll(cr: CrBase): void {
  const cs = cr.clauses as Clause[];
  for (let i = 0; i < cr.nclauses; i++) unlink(cs[i]!);
  cr.nclauses = 0;
}

/** Hand `val` to the parked receiver `c` and wake it. */
export function deliver(c: Clause, val: unknown): void {
  const cr = c.cr!;
  if (c.user !== null) {
    c.user.val = val;
    resume(cr, c.idx);
  } else {
    resume(cr, val);
  }
}

/** Take the value of the parked sender `c` and wake it. */
export function take(c: Clause): unknown {
  const val = c.val;
  resume(c.cr!, c.user !== null ? c.idx : undefined);
  return val;
}

/** Fail every clause parked on `hc` with EPIPE (a choose clause gets its index in the error). */
function terminate(hc: HalfChan): void {
  for (let c = hc.rhead ?? hc.shead; c !== null; c = hc.rhead ?? hc.shead) {
    const e = quickError("EPIPE", c.cr!.waitOp);
    e.index = c.idx;
    interrupt(c.cr!, e);
  }
}

/** The half-channel behind handle `ch`. */
export function half(ch: number, fn: string): HalfChan {
  return handleQuery(ch, CHAN_TYPE, fn, "ch") as HalfChan;
}

// ---- the calls ---------------------------------------------------------------------------------
function make(s: ChannelStorage, fn: string): [number, number] {
  s.a.done = s.b.done = false;
  s.a.closed = s.b.closed = false;
  let h0: number;
  try {
    h0 = handleMake(s.a, fn);
  } catch (e) {
    channels.release(s);
    throw e;
  }
  try {
    return [h0, handleMake(s.b, fn)];
  } catch (e) {
    handleRelease(h0, fn);
    channels.release(s);
    throw e;
  }
}

/**
 * Makes an unbuffered bidirectional channel. What is sent on one handle is received on the other.
 *
 * @returns the two handles `[ch0, ch1]`; close both with `hclose`.
 * @throws `ENOMEM` when the storage pool is used up; `EMFILE` when the handle table is full.
 *
 * @example
 * ```ts
 * const [a, b] = chmake();
 * go(producer(a));
 * const v = yield* chrecv(b, -1);
 * ```
 */
export function chmake<T = unknown>(): [Chan<T>, Chan<T>] {
  return make(channels.take("chmake"), "chmake") as [Chan<T>, Chan<T>];
}

/**
 * Like {@link chmake}, in caller storage.
 *
 * @throws `EINVAL` when `mem` is not a `ChannelStorage`; `EBUSY` while one of its handles is open.
 *
 * @example
 * ```ts
 * const mem = new ChannelStorage();
 * const [a, b] = chmake_mem(mem);
 * ```
 */
export function chmake_mem<T = unknown>(mem: ChannelStorage): [Chan<T>, Chan<T>] {
  return make(claim(mem, ChannelStorage, "chmake_mem"), "chmake_mem") as [Chan<T>, Chan<T>];
}

/**
 * Sends `val` through the channel: completes when a coroutine on the other end receives it.
 *
 * @param ch a channel handle.
 * @param val any value.
 * @param deadline absolute time in ms (`-1` never, `0` only if a receiver is already waiting).
 * @throws `EBADF`, `ENOTSUP` (not a channel), `EINVAL` (deadline), `EPIPE` (`chdone` was called on
 * this end), `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * yield* chsend(ch, { id: 1 }, now() + 1000);
 * ```
 */
export function chsend<T>(ch: Chan<T> | Unbranded, val: NoInfer<T>, deadline: number): Op<void> {
  return new ChSend(ch, val, deadline);
}

class ChSend extends FastOp<void> {
  constructor(
    private readonly ch: number,
    private readonly val: unknown,
    private readonly deadline: number,
  ) {
    super();
  }
  next(v?: unknown): IteratorResult<unknown, void> {
    if (this.begun) return finished(v as undefined);
    this.begun = true;
    const cr = canBlock("chsend");
    if (cr === null) return parked();
    const hc = half(this.ch, "chsend").other;
    const deadline = this.deadline;
    checkDeadline("chsend", deadline);
    if (hc.done) throw quickError("EPIPE", "chsend");
    const r = hc.rhead;
    if (r !== null) {
      deliver(r, this.val);
      return finished(undefined);
    }
    if (expired(deadline)) throw quickError("ETIMEDOUT", "chsend");
    const c = clauseOf(cr, 0);
    c.hc = hc;
    c.send = true;
    c.val = this.val;
    c.idx = -1;
    c.user = null;
    link(c);
    cr.nclauses = 1;
    if (tracing) recordWaitHandle(this.ch);
    park(cr, "chsend", deadline, unlinkAll, null);
    return parked();
  }
}

/**
 * Receives a value from the channel: completes when a coroutine on the other end sends one.
 *
 * @param ch a channel handle.
 * @param deadline absolute time in ms (`-1` never, `0` only if a sender is already waiting).
 * @returns the value sent.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL`, `EPIPE` (the other end called `chdone`), `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const msg = yield* chrecv(ch, -1);
 * ```
 */
export function chrecv<T = unknown>(ch: Chan<T> | Unbranded, deadline: number): Op<T> {
  return new ChRecv<T>(ch, deadline);
}

class ChRecv<T> extends FastOp<T> {
  constructor(
    private readonly ch: number,
    private readonly deadline: number,
  ) {
    super();
  }
  next(v?: unknown): IteratorResult<unknown, T> {
    if (this.begun) return finished(v as T);
    this.begun = true;
    const cr = canBlock("chrecv");
    if (cr === null) return parked();
    const hc = half(this.ch, "chrecv");
    const deadline = this.deadline;
    checkDeadline("chrecv", deadline);
    if (hc.done) throw quickError("EPIPE", "chrecv");
    const s = hc.shead;
    if (s !== null) return finished(take(s) as T);
    if (expired(deadline)) throw quickError("ETIMEDOUT", "chrecv");
    const c = clauseOf(cr, 0);
    c.hc = hc;
    c.send = false;
    c.idx = -1;
    c.user = null;
    link(c);
    cr.nclauses = 1;
    if (tracing) recordWaitHandle(this.ch);
    park(cr, "chrecv", deadline, unlinkAll, null);
    return parked();
  }
}

/**
 * Closes the sending direction of this end: sends on `ch` and receives on the other end fail
 * with `EPIPE` from now on, and coroutines parked on that direction are woken with `EPIPE`.
 * Receiving on `ch` (the reverse direction) keeps working.
 *
 * @throws `EBADF`, `ENOTSUP`, `EPIPE` when called a second time.
 *
 * @example
 * ```ts
 * for (const x of items) yield* chsend(ch, x, -1);
 * chdone(ch); // the receiver's chrecv now fails with EPIPE: end of stream
 * ```
 */
export function chdone(ch: Chan<unknown> | Unbranded): void {
  const hc = half(ch, "chdone").other;
  if (hc.done) throw dillError("EPIPE", "chdone", "ch", "chdone was already called on this channel end");
  hc.done = true;
  terminate(hc);
}
