/**
 * The generic bytestream calls, after libdill's bsock.c: `bsend`, `brecv`, `bsendl`, `brecvl`.
 *
 * They know no transport. They check their arguments, ask the handle for its bytestream interface
 * ({@link BSOCK_TYPE}) and run the interface's `bsendl`/`brecvl` op (or, on the hot path, its
 * `startSend`/`startRecv`). A transport (IPC and TCP connections) plugs in by answering `BSOCK_TYPE` in
 * its `query`. Each call is one small object, no generator: the arguments are checked when the
 * call is run with `yield*`, as for every blocking call.
 */
import { checkCount, checkDeadline } from "./args.js";
import { dillError } from "./errors.js";
import { finished, notRunByYield, type Op } from "./op.js";
import { handleQuery } from "./table.js";
import type { Bsock, Unbranded } from "./types.js";

/** Interface id of a bytestream: what `bsend`, `brecv`, `bsendl` and `brecvl` ask a handle for. */
export const BSOCK_TYPE: unique symbol = Symbol("bytestream");

/**
 * One element of a scatter/gather list (libdill's `struct iolist`): `iol_len` bytes of
 * `iol_base`, then the next element. A message made of several buffers is sent or received as
 * one with `bsendl`/`brecvl`. `iol_base = null` on receive skips `iol_len` bytes. `iol_rsvd`
 * must be 0.
 *
 * @example
 * ```ts
 * const body: IoList = { iol_base: payload, iol_len: payload.length, iol_next: null, iol_rsvd: 0 };
 * const head: IoList = { iol_base: header, iol_len: 4, iol_next: body, iol_rsvd: 0 };
 * yield* bsendl(s, head, body, -1);
 * ```
 */
export interface IoList {
  /** The buffer; on receive, `null` skips `iol_len` bytes of the stream. */
  iol_base: Uint8Array | null;
  /** How many bytes of `iol_base` to send or fill, from its start. */
  iol_len: number;
  /** The next element, or `null` for the last one. */
  iol_next: IoList | null;
  /** Reserved: must be 0 (the list checks use it while they walk). */
  iol_rsvd: number;
}

/**
 * What a bytestream handle answers for {@link BSOCK_TYPE}. Both calls get a checked list
 * (`first` to `last`, no loop, lengths within their buffers, `iol_base` set for sends) and the
 * name of the public call for error messages. They send, resp. receive, every byte or fail.
 *
 * A transport may also offer `startSend`/`startRecv`, the same calls without an op object: they
 * run in the calling coroutine and return `finished(undefined)` when the call completed, or
 * `parked()` after parking the coroutine (which is then resumed with `undefined` or thrown an
 * error). The generic calls use them when present.
 */
export interface Bytestream {
  /** Sends every byte of the checked list `first`..`last`, or fails; `fn` names the public call. */
  bsendl(first: IoList, last: IoList, deadline: number, fn: string): Op<void>;
  /** Fills the checked list `first`..`last` exactly, or fails; `fn` names the public call. */
  brecvl(first: IoList, last: IoList, deadline: number, fn: string): Op<void>;
  /** `bsendl` without an op object, run in the calling coroutine (optional). */
  startSend?(first: IoList, last: IoList, deadline: number, fn: string): IteratorResult<unknown, void>;
  /** `brecvl` without an op object, run in the calling coroutine (optional). */
  startRecv?(first: IoList, last: IoList, deadline: number, fn: string): IteratorResult<unknown, void>;
  /**
   * Receives at least one and at most `len` bytes into `buf`: what has arrived, or else the first
   * bytes to arrive; evaluates to their count (optional). With `unrecv` it lets a protocol on top
   * read ahead (a delimiter search takes what is there instead of one byte at a time).
   */
  brecvsome?(buf: Uint8Array, len: number, deadline: number, fn: string): Op<number>;
  /** `brecvsome` without an op object, run in the calling coroutine (optional). */
  startRecvSome?(buf: Uint8Array, len: number, deadline: number, fn: string): IteratorResult<unknown, number>;
  /**
   * Puts `bytes` back in front of the inbound stream, copied: the next receive gets them first
   * (optional). A protocol that read ahead hands back what it did not use when it is detached, so
   * that no byte is lost to the next protocol or the user.
   */
  unrecv?(bytes: Uint8Array): void;
}

function stream(s: number, fn: string): Bytestream {
  return handleQuery(s, BSOCK_TYPE, fn, "s") as Bytestream;
}

export function checkBuf(fn: string, buf: unknown, len: number, recv: boolean): void {
  checkCount(fn, "len", len);
  if (buf === null && recv) return;
  if (!(buf instanceof Uint8Array))
    throw dillError(
      "EINVAL",
      fn,
      "buf",
      recv ? "buf must be a Uint8Array or null" : "buf must be a Uint8Array or a string",
    );
  if (len > buf.length)
    throw dillError("EINVAL", fn, "len", `len ${len} is larger than the buffer (${buf.length} bytes)`);
}

/**
 * Check an iolist the way libdill does: `last.iol_next` is null, `last` is reached from `first`,
 * no element is visited twice, every `iol_rsvd` is 0, each length fits its buffer. Elements are
 * marked through `iol_rsvd` while walking and unmarked afterwards, so the list is the same after
 * the call as before, whatever the outcome.
 */
export function checkList(fn: string, first: IoList, last: IoList, recv: boolean): void {
  if (first === null || typeof first !== "object")
    throw dillError("EINVAL", fn, "first", "first must be an iolist element");
  if (last === null || typeof last !== "object")
    throw dillError("EINVAL", fn, "last", "last must be an iolist element");
  if (last.iol_next !== null) throw dillError("EINVAL", fn, "last", "last.iol_next must be null");
  let why: string | null = null;
  let marked = 0;
  let it: IoList | null = first;
  for (; it !== null; it = it.iol_next) {
    if (typeof it !== "object") {
      why = "iol_next must be an iolist element or null";
      break;
    }
    if (it.iol_rsvd !== 0) {
      why = it.iol_rsvd === 1 && marked > 0 ? "the list loops" : "iol_rsvd must be 0";
      break;
    }
    if (it.iol_next === null && it !== last) {
      why = "last is not an element of the list starting at first";
      break;
    }
    const len = it.iol_len;
    if (!Number.isSafeInteger(len) || len < 0) {
      why = `iol_len must be a non-negative integer, got ${String(len)}`;
      break;
    }
    const base = it.iol_base;
    if (base === null ? !recv : !(base instanceof Uint8Array)) {
      why = recv ? "iol_base must be a Uint8Array or null" : "iol_base must be a Uint8Array";
      break;
    }
    if (base !== null && len > base.length) {
      why = `iol_len ${len} is larger than iol_base (${base.length} bytes)`;
      break;
    }
    it.iol_rsvd = 1;
    marked++;
  }
  for (let u: IoList | null = first; marked > 0; u = u!.iol_next, marked--) u!.iol_rsvd = 0;
  if (why !== null) throw dillError("EINVAL", fn, "first", why);
}

/** An op that runs a transport's `startSend`/`startRecv` once (see {@link Bytestream}). */
class StartCall implements Op<void>, Iterator<unknown, void, unknown> {
  private started = false;
  constructor(
    private readonly b: Bytestream,
    private readonly recv: boolean,
    private readonly first: IoList,
    private readonly last: IoList,
    private readonly deadline: number,
    private readonly fn: string,
  ) {}
  [Symbol.iterator](): this {
    return this;
  }
  next(): IteratorResult<unknown, void> {
    if (this.started) return finished(undefined);
    this.started = true;
    const b = this.b;
    return this.recv
      ? b.startRecv!(this.first, this.last, this.deadline, this.fn)
      : b.startSend!(this.first, this.last, this.deadline, this.fn);
  }
  throw(e?: unknown): IteratorResult<unknown, void> {
    throw e;
  }
  return(): IteratorResult<unknown, void> {
    return finished(undefined);
  }
}

/**
 * The `bsendl`/`brecvl` op of a transport that implements `startSend`/`startRecv`: one small
 * object that calls them when it is run.
 */
export function startedOp(
  b: Bytestream,
  recv: boolean,
  first: IoList,
  last: IoList,
  deadline: number,
  fn: string,
): Op<void> {
  return new StartCall(b, recv, first, last, deadline, fn);
}

const SEND = 0;
const RECV = 1;
const SENDL = 2;
const RECVL = 3;
const NAMES = ["bsend", "brecv", "bsendl", "brecvl"] as const;

/**
 * A bytestream call as one small object, for the hot path. Its first `next()` checks the
 * arguments and starts the call on the transport: through the transport's `startSend` /
 * `startRecv` when it has them (no further object), else by running the op its `bsendl` /
 * `brecvl` returns. For `bsend` and `brecv` the object is itself the one-element iolist.
 */
class StreamCall implements Op<void>, Iterator<unknown, void, unknown>, IoList {
  iol_base: Uint8Array | null = null;
  iol_len: number;
  iol_next: IoList | null = null;
  iol_rsvd = 0;
  private started = false;
  private inner: Iterator<unknown, void, unknown> | null = null;
  constructor(
    private readonly kind: number,
    private readonly s: number,
    private readonly buf: Uint8Array | string | null,
    len: number,
    private readonly first: IoList | null,
    private readonly last: IoList | null,
    private readonly deadline: number,
  ) {
    this.iol_len = len;
  }
  [Symbol.iterator](): this {
    return this;
  }
  next(v?: unknown): IteratorResult<unknown, void> {
    if (this.started) {
      const it = this.inner;
      return it === null ? finished(undefined) : it.next(v);
    }
    this.started = true;
    const kind = this.kind;
    const fn = NAMES[kind]!;
    if (arguments.length === 0) throw notRunByYield(fn);
    const b = stream(this.s, fn);
    const recv = kind === RECV || kind === RECVL;
    let first: IoList;
    let last: IoList;
    if (kind === SEND || kind === RECV) {
      const buf = this.buf;
      // Only a send takes a string: brecv has nowhere to put the bytes of one.
      const bytes = (typeof buf === "string" && !recv ? Buffer.from(buf, "utf8") : buf) as Uint8Array | null;
      checkBuf(fn, bytes, this.iol_len, recv);
      this.iol_base = bytes;
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the op is its own one-buffer list
      first = last = this;
    } else {
      first = this.first!;
      last = this.last!;
      checkList(fn, first, last, recv);
    }
    const deadline = this.deadline;
    checkDeadline(fn, deadline);
    if (recv) {
      if (b.startRecv !== undefined) return b.startRecv(first, last, deadline, fn);
    } else if (b.startSend !== undefined) {
      return b.startSend(first, last, deadline, fn);
    }
    const it = (recv ? b.brecvl(first, last, deadline, fn) : b.bsendl(first, last, deadline, fn))[Symbol.iterator]();
    this.inner = it;
    return it.next(v);
  }
  throw(e?: unknown): IteratorResult<unknown, void> {
    const it = this.inner;
    if (it === null || it.throw === undefined) throw e;
    return it.throw(e);
  }
  return(v?: unknown): IteratorResult<unknown, void> {
    const it = this.inner;
    if (it !== null && it.return !== undefined) return it.return(v as void);
    return finished(undefined);
  }
}

/**
 * Sends `len` bytes of `buf`: returns once all of them are handed to the system, or fails.
 * There is no partial send. After any failure (the deadline included) the socket refuses to send.
 *
 * @param s a bytestream handle (an IPC or TCP connection).
 * @param buf the bytes; a string is sent as UTF-8 (then `len` counts its UTF-8 bytes).
 * @param len how many bytes of `buf` to send, from its start.
 * @param deadline absolute time in ms on the `now()` clock; `-1` never, `0` only if it can be
 * done without waiting.
 * @throws `EBADF` (not a handle), `ENOTSUP` (not a bytestream), `EINVAL` (bad `buf`, `len` or
 * deadline), `EBUSY` (another coroutine is sending on `s`), `EPIPE` (sending was closed with
 * `ipc_done`), `ECONNRESET` (the connection is broken), `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * yield* bsend(s, "ABC", 3, now() + 1000);
 * yield* bsend(s, new Uint8Array([1, 2, 3]), 3, -1);
 * ```
 */
export function bsend(s: Bsock | Unbranded, buf: Uint8Array | string, len: number, deadline: number): Op<void> {
  return new StreamCall(SEND, s, buf, len, null, null, deadline);
}

/**
 * Receives exactly `len` bytes into `buf`, or fails. `buf = null` reads and discards `len` bytes.
 * After any failure (the deadline included) the socket refuses to receive; bytes of a failed
 * call that had already arrived are lost.
 *
 * @param s a bytestream handle.
 * @param buf where the bytes go (its first `len` bytes), or `null` to skip them.
 * @param len how many bytes to receive.
 * @param deadline absolute time in ms; `-1` never, `0` only if the bytes are already there.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL`, `EBUSY` (another coroutine is receiving on `s`), `EPIPE`
 * (the peer closed its sending side: no more data), `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const buf = new Uint8Array(3);
 * yield* brecv(s, buf, 3, now() + 1000);
 * ```
 */
export function brecv(s: Bsock | Unbranded, buf: Uint8Array | null, len: number, deadline: number): Op<void> {
  return new StreamCall(RECV, s, buf, len, null, null, deadline);
}

/**
 * Sends the buffers of the list `first`..`last` as one message, in order: all of it or nothing
 * more after a failure, like {@link bsend}. The list is left as it was.
 *
 * @param s a bytestream handle.
 * @param first the first element.
 * @param last the last element (`last.iol_next` must be null).
 * @param deadline absolute time in ms; `-1` never, `0` only if it can be done without waiting.
 * @throws as `bsend`; `EINVAL` also when the list is malformed (`last.iol_next` not null, `last`
 * not in the list, a loop, an `iol_rsvd` other than 0, a missing `iol_base`).
 *
 * @example
 * ```ts
 * const b: IoList = { iol_base: body, iol_len: body.length, iol_next: null, iol_rsvd: 0 };
 * const a: IoList = { iol_base: head, iol_len: head.length, iol_next: b, iol_rsvd: 0 };
 * yield* bsendl(s, a, b, -1);
 * ```
 */
export function bsendl(s: Bsock | Unbranded, first: IoList, last: IoList, deadline: number): Op<void> {
  return new StreamCall(SENDL, s, null, 0, first, last, deadline);
}

/**
 * Fills the buffers of the list `first`..`last` in order, exactly, like {@link brecv}; an
 * element with `iol_base = null` skips `iol_len` bytes. The list is left as it was.
 *
 * @param s a bytestream handle.
 * @param first the first element.
 * @param last the last element (`last.iol_next` must be null).
 * @param deadline absolute time in ms; `-1` never, `0` only if the bytes are already there.
 * @throws as `brecv`; `EINVAL` also for a malformed list (see `bsendl`).
 *
 * @example
 * ```ts
 * const body: IoList = { iol_base: new Uint8Array(60), iol_len: 60, iol_next: null, iol_rsvd: 0 };
 * const head: IoList = { iol_base: new Uint8Array(4), iol_len: 4, iol_next: body, iol_rsvd: 0 };
 * yield* brecvl(s, head, body, now() + 1000);
 * ```
 */
export function brecvl(s: Bsock | Unbranded, first: IoList, last: IoList, deadline: number): Op<void> {
  return new StreamCall(RECVL, s, null, 0, first, last, deadline);
}
