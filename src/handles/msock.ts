/**
 * The generic message calls, after libdill's msock.c: `msend`, `mrecv`, `msendl`, `mrecvl`.
 *
 * A message socket sends and receives whole messages: what one `msend` sends, one `mrecv`
 * receives, however the bytes travel. The calls know no protocol. They check their arguments, ask
 * the handle for its message interface ({@link MSOCK_TYPE}) and run the interface's `msendl` /
 * `mrecvl` op. The protocols (prefix, suffix, term, and whatever a user makes with `hmake`) plug
 * in by answering `MSOCK_TYPE` in their `query`. Each call is one small object, no generator.
 */
import { checkDeadline } from "./args.js";
import { checkBuf, checkList, type IoList } from "./bytestream.js";
import { dillError } from "./errors.js";
import { finished, notRunByYield, type Op } from "./op.js";
import { handleQuery } from "./table.js";
import type { Msock, Unbranded } from "./types.js";

/** Interface id of a message socket: what `msend`, `mrecv`, `msendl` and `mrecvl` ask a handle for. */
export const MSOCK_TYPE: unique symbol = Symbol("message socket");

/**
 * What a message socket handle answers for {@link MSOCK_TYPE} (libdill's `struct msock_vfs`).
 * Both calls get a checked list and the name of the public call, for error messages.
 *
 * `msendl` sends the bytes of `first`..`last` as one message, or fails. `mrecvl` receives one
 * message into `first`..`last` and evaluates to its size; `first = last = null` receives one
 * message and drops it (its size is still the result). A message longer than the list is
 * `EMSGSIZE`. Both must leave the list as it was when they end, whatever the outcome.
 *
 * @example
 * ```ts
 * // A message socket over a channel: each message is one value.
 * const ms: MessageSocket = {
 *   *msendl(first, _last, deadline) {
 *     yield* chsend(tx, Buffer.from(first.iol_base!.subarray(0, first.iol_len)), deadline);
 *   },
 *   *mrecvl(first, _last, deadline) {
 *     const m = yield* chrecv<Buffer>(rx, deadline);
 *     if (first !== null) first.iol_base?.set(m);
 *     return m.length;
 *   },
 * };
 * const s = hmake({ query: (t) => (t === MSOCK_TYPE ? ms : undefined), close() {} });
 * ```
 */
export interface MessageSocket {
  /** Sends the checked list `first`..`last` as one message, or fails; `fn` names the public call. */
  msendl(first: IoList, last: IoList, deadline: number, fn: string): Op<void>;
  /** Receives one message into the checked list (or drops it when both are null); its size. */
  mrecvl(first: IoList | null, last: IoList | null, deadline: number, fn: string): Op<number>;
}

const SEND = 0;
const RECV = 1;
const SENDL = 2;
const RECVL = 3;
const NAMES = ["msend", "mrecv", "msendl", "mrecvl"] as const;

/**
 * A message call as one small object. Its first `next()` checks the arguments and starts the
 * interface's op, which it then drives. For `msend` and `mrecv` the object is itself the
 * one-element iolist.
 */
class MsgCall implements Op<unknown>, Iterator<unknown, unknown, unknown>, IoList {
  iol_base: Uint8Array | null = null;
  iol_len: number;
  iol_next: IoList | null = null;
  iol_rsvd = 0;
  private inner: Iterator<unknown, unknown, unknown> | null = null;
  private started = false;
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
  next(v?: unknown): IteratorResult<unknown, unknown> {
    if (this.started) {
      const it = this.inner;
      return it === null ? finished(v) : it.next(v);
    }
    this.started = true;
    const kind = this.kind;
    const fn = NAMES[kind]!;
    if (arguments.length === 0) throw notRunByYield(fn);
    const m = handleQuery(this.s, MSOCK_TYPE, fn, "s") as MessageSocket;
    const recv = kind === RECV || kind === RECVL;
    let first: IoList | null;
    let last: IoList | null;
    if (kind === SEND || kind === RECV) {
      const buf = this.buf;
      const bytes = (typeof buf === "string" && !recv ? Buffer.from(buf, "utf8") : buf) as Uint8Array | null;
      checkBuf(fn, bytes, this.iol_len, recv);
      this.iol_base = bytes;
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the call is its own one-buffer list
      first = last = this;
    } else {
      first = this.first;
      last = this.last;
      if (recv && first === null && last === null) {
        // Both null: receive one message and drop it.
      } else if (recv && (first === null || last === null)) {
        throw dillError(
          "EINVAL",
          fn,
          first === null ? "first" : "last",
          "first and last must both be null or both be set",
        );
      } else {
        checkList(fn, first!, last!, recv);
      }
    }
    const deadline = this.deadline;
    checkDeadline(fn, deadline);
    const op = recv ? m.mrecvl(first, last, deadline, fn) : m.msendl(first!, last!, deadline, fn);
    const it = op[Symbol.iterator]();
    this.inner = it;
    return it.next(v);
  }
  throw(e?: unknown): IteratorResult<unknown, unknown> {
    const it = this.inner;
    if (it === null || it.throw === undefined) throw e;
    return it.throw(e);
  }
  return(v?: unknown): IteratorResult<unknown, unknown> {
    const it = this.inner;
    if (it !== null && it.return !== undefined) return it.return(v);
    return finished(v);
  }
}

/**
 * Sends one message of `len` bytes of `buf`: returns once all of it is handed on, or fails. There
 * is no partial send. After a failure (the deadline included) the socket refuses to send.
 *
 * @param s a message socket handle (a prefix, suffix or term socket, or a user's).
 * @param buf the message; a string is sent as UTF-8 (then `len` counts its UTF-8 bytes).
 * @param len how many bytes of `buf` the message has, from its start.
 * @param deadline absolute time in ms on the `now()` clock; `-1` never, `0` only if it can be
 * done without waiting.
 * @throws `EBADF`, `ENOTSUP` (not a message socket), `EINVAL` (bad `buf`, `len` or deadline),
 * `EBUSY` (another coroutine is sending on `s`), `EMSGSIZE` (too long for the protocol),
 * `EPIPE` (sending was closed, e.g. after `term_done`), `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const s = prefix_attach(conn, 4, PREFIX_BIG_ENDIAN);
 * yield* msend(s, "hello", 5, now() + 1000);
 * ```
 */
export function msend(s: Msock | Unbranded, buf: Uint8Array | string, len: number, deadline: number): Op<void> {
  return new MsgCall(SEND, s, buf, len, null, null, deadline) as Op<void>;
}

/**
 * Receives one message into `buf` and evaluates to its size. Either the whole message arrives or
 * none of it: a message longer than `len` is `EMSGSIZE`. `buf = null` receives a message of at
 * most `len` bytes and drops it.
 *
 * @param s a message socket handle.
 * @param buf where the message goes (from its start), or `null` to drop it.
 * @param len the most bytes the message may have (at most `buf.length`).
 * @param deadline absolute time in ms; `-1` never, `0` only if the message is already there.
 * @returns the size of the message, in bytes.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL`, `EBUSY` (another coroutine is receiving on `s`),
 * `EMSGSIZE` (the message does not fit), `EPIPE` (the peer closed: no more messages),
 * `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const buf = new Uint8Array(256);
 * const n = yield* mrecv(s, buf, buf.length, now() + 1000);
 * console.log(Buffer.from(buf.subarray(0, n)).toString());
 * ```
 */
export function mrecv(s: Msock | Unbranded, buf: Uint8Array | null, len: number, deadline: number): Op<number> {
  return new MsgCall(RECV, s, buf, len, null, null, deadline) as Op<number>;
}

/**
 * Sends the buffers of the list `first`..`last` as one message, like {@link msend}. The list is
 * left as it was.
 *
 * @param s a message socket handle.
 * @param first the first element.
 * @param last the last element (`last.iol_next` must be null).
 * @param deadline absolute time in ms; `-1` never, `0` only if it can be done without waiting.
 * @throws as `msend`; `EINVAL` also for a malformed list (`last.iol_next` not null, `last` not
 * in the list, a loop, an `iol_rsvd` other than 0, a missing `iol_base`).
 *
 * @example
 * ```ts
 * const body: IoList = { iol_base: payload, iol_len: payload.length, iol_next: null, iol_rsvd: 0 };
 * const head: IoList = { iol_base: header, iol_len: header.length, iol_next: body, iol_rsvd: 0 };
 * yield* msendl(s, head, body, -1); // one message: header then payload
 * ```
 */
export function msendl(s: Msock | Unbranded, first: IoList, last: IoList, deadline: number): Op<void> {
  return new MsgCall(SENDL, s, null, 0, first, last, deadline) as Op<void>;
}

/**
 * Receives one message into the buffers of the list `first`..`last`, in order, and evaluates to
 * its size; an element with `iol_base = null` skips `iol_len` bytes of the message. With
 * `first = last = null` the message is received and dropped, and its size still returned. The
 * list is left as it was.
 *
 * @param s a message socket handle.
 * @param first the first element, or `null` (with `last`) to drop the message.
 * @param last the last element (`last.iol_next` must be null), or `null`.
 * @param deadline absolute time in ms; `-1` never, `0` only if the message is already there.
 * @returns the size of the message, in bytes.
 * @throws as `mrecv`; `EINVAL` also for a malformed list, or when only one of `first` and
 * `last` is null.
 *
 * @example
 * ```ts
 * const body: IoList = { iol_base: new Uint8Array(252), iol_len: 252, iol_next: null, iol_rsvd: 0 };
 * const head: IoList = { iol_base: new Uint8Array(4), iol_len: 4, iol_next: body, iol_rsvd: 0 };
 * const n = yield* mrecvl(s, head, body, now() + 1000);
 * const dropped = yield* mrecvl(s, null, null, now() + 1000); // the next message's size
 * ```
 */
export function mrecvl(s: Msock | Unbranded, first: IoList | null, last: IoList | null, deadline: number): Op<number> {
  return new MsgCall(RECVL, s, null, 0, first, last, deadline) as Op<number>;
}
