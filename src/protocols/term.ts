/**
 * TERM, after libdill's term.c: an orderly end over any message socket. Each side closes its
 * sending direction by sending an agreed terminal message (`term_done`); a receive that gets the
 * terminal message fails with `EPIPE`. `term_detach` sends it if that was not done, drops what
 * still comes until the peer's terminal message, and returns the message socket underneath: both
 * peers then agree on where they are in the stream, and it can carry another protocol.
 *
 * A receive checks whether the message is the terminal one. When the caller's first buffer can
 * hold the terminal message, the message is received there and compared; otherwise its first
 * bytes go to a buffer of the socket's (libdill's way) and are copied to the caller's list after.
 */
import { checkCount, checkDeadline } from "../handles/args.js";
import type { IoList } from "../handles/bytestream.js";
import { dillError, quickError } from "../handles/errors.js";
import { MSOCK_TYPE, type MessageSocket } from "../handles/msock.js";
import { finished, guardOps, type Op } from "../handles/op.js";
import { checkMem, FreeList, Storage } from "../handles/pool.js";
import { type HandleVfs, handleGet, handleQuery, handleRelease } from "../handles/table.js";
import type { Msock, TermSocket, Unbranded } from "../handles/types.js";
import { canBlock, suspended } from "../runtime/sched.js";
import { closeQuietly, LayerOp, ListCursor, publish, claimAndTakeOver } from "./layer.js";

/** Interface id a term socket answers in `hquery` (besides `MSOCK_TYPE`). */
export const TERM_TYPE: unique symbol = Symbol("term");

/** The longest terminal message, in bytes (libdill's limit). */
export const TERM_MAX_LEN = 32;

/** A term socket: the protocol's state over the underlying message socket `u`. */
export class TermSock implements HandleVfs, MessageSocket {
  readonly kind = "term";
  u = -1;
  um: MessageSocket | null = null;
  /** The terminal message (a copy) and its length. */
  readonly term = new Uint8Array(TERM_MAX_LEN);
  len = 0;
  /** The terminal message was sent resp. received. */
  outdone = false;
  indone = false;
  /** A received message did not fit the caller's list (it was consumed): receiving is over. */
  inerr = false;
  sending = false;
  receiving = false;
  /** The list element the terminal message is sent from. */
  readonly termIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  /** For receives into a list whose first buffer is too short: the first bytes, and the rest of the list. */
  readonly head = new Uint8Array(TERM_MAX_LEN);
  readonly headIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  readonly restIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  readonly cursor = new ListCursor();

  constructor(readonly home: TermStorage) {}

  query(type: symbol): unknown {
    return type === MSOCK_TYPE || type === TERM_TYPE ? this : undefined;
  }

  init(u: number, um: MessageSocket, buf: Uint8Array | null, len: number): void {
    this.u = u;
    this.um = um;
    if (buf !== null && len > 0) this.term.set(buf.subarray(0, len));
    this.len = len;
    this.termIol.iol_base = this.term;
    this.termIol.iol_len = len;
    this.headIol.iol_base = this.head;
    this.headIol.iol_len = len;
    this.outdone = this.indone = this.inerr = this.sending = this.receiving = false;
  }

  close(): void {
    const u = this.u;
    this.u = -1;
    this.um = null;
    if (u >= 0) closeQuietly(u);
    termStorages.release(this.home);
  }

  /** True when `buf[0..len)` is the terminal message. */
  isTerm(buf: Uint8Array): boolean {
    const t = this.term;
    for (let i = 0; i < this.len; i++) if (buf[i] !== t[i]) return false;
    return true;
  }

  msendl(first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    return new TermSend(this, first, last, deadline, fn);
  }

  mrecvl(first: IoList | null, last: IoList | null, deadline: number, fn: string): Op<number> {
    return new TermRecv(this, first, last, deadline, fn);
  }
}

/** A message out, unless the terminal message was sent. */
class TermSend extends LayerOp<void> {
  private phase = 0;
  constructor(
    private readonly p: TermSock,
    private readonly first: IoList,
    private readonly last: IoList,
    private readonly deadline: number,
    private readonly fn: string,
  ) {
    super();
  }

  protected step(): IteratorResult<unknown, void> {
    const p = this.p;
    if (this.phase === 0) {
      if (p.sending) throw dillError("EBUSY", this.fn, "s", "another coroutine is already sending on this socket");
      if (p.outdone) throw dillError("EPIPE", this.fn, "s", "the terminal message was sent: sending is over");
      p.sending = true;
      this.phase = 1;
      const r = this.run(p.um!.msendl(this.first, this.last, this.deadline, this.fn));
      if (!r.done) return r as IteratorResult<unknown, void>;
    }
    p.sending = false;
    return finished(undefined);
  }

  protected failed(): void {
    if (this.phase !== 0) this.p.sending = false;
  }
}

/** A message in; the terminal message is `EPIPE`. */
class TermRecv extends LayerOp<number> {
  private phase = 0;
  /** Received straight into the caller's first buffer (else into the socket's `head`). */
  private direct = false;
  constructor(
    private readonly p: TermSock,
    private readonly first: IoList | null,
    private readonly last: IoList | null,
    private readonly deadline: number,
    private readonly fn: string,
  ) {
    super();
  }

  protected step(v: unknown): IteratorResult<unknown, number> {
    const p = this.p;
    const fn = this.fn;
    if (this.phase === 0) {
      if (p.receiving) throw dillError("EBUSY", fn, "s", "another coroutine is already receiving on this socket");
      if (p.indone) throw dillError("EPIPE", fn, "s", "the peer's terminal message was received");
      if (p.inerr) throw quickError("ECONNRESET", fn);
      p.receiving = true;
      this.phase = 1;
      const len = p.len;
      const first = this.first;
      let r: IteratorResult<unknown, unknown>;
      if (len === 0 || (first !== null && first.iol_base !== null && first.iol_len >= len)) {
        this.direct = true;
        r = this.run(p.um!.mrecvl(first, this.last, this.deadline, fn));
      } else {
        // The first `len` bytes go to `head`, the rest to the caller's list past its first `len` bytes.
        const head = p.headIol;
        const rest = this.rest(first, len);
        head.iol_next = rest;
        // The list ends at `head` (the caller's is shorter than `len`), at the cut element (when
        // it was the caller's last), or at the caller's last element.
        const last = rest === null ? head : rest.iol_next === null ? rest : this.last!;
        r = this.run(p.um!.mrecvl(head, last, this.deadline, fn));
      }
      if (!r.done) return r as IteratorResult<unknown, number>;
      v = r.value;
    }
    return this.done(v as number);
  }

  /**
   * The list to receive into after the first `len` bytes of the caller's `first`..: its remainder
   * (the element where they end, cut at that point, then the rest as it is), or null when the
   * caller's list is shorter. With no list (the message is dropped), an endless skip.
   */
  private rest(first: IoList | null, len: number): IoList | null {
    const r = this.p.restIol;
    if (first === null) {
      r.iol_base = null;
      r.iol_len = Number.MAX_SAFE_INTEGER;
      r.iol_next = null;
      return r;
    }
    let skip = len;
    for (let it: IoList | null = first; it !== null; it = it.iol_next) {
      if (it.iol_len > skip) {
        const base = it.iol_base;
        r.iol_base = base === null ? null : base.subarray(skip);
        r.iol_len = it.iol_len - skip;
        r.iol_next = it.iol_next;
        return r;
      }
      skip -= it.iol_len;
    }
    return null;
  }

  private done(size: number): IteratorResult<unknown, number> {
    const p = this.p;
    const len = p.len;
    p.receiving = false;
    p.headIol.iol_next = null;
    p.restIol.iol_next = null;
    p.restIol.iol_base = null;
    if (size === len && (len === 0 || p.isTerm(this.direct ? this.first!.iol_base! : p.head))) {
      p.indone = true;
      // The normal end of a stream (HTTP meets it once per header): no stack trace to make.
      throw quickError("EPIPE", this.fn);
    }
    if (!this.direct) {
      const cur = p.cursor;
      cur.reset(this.first);
      const ok = cur.put(p.head, 0, Math.min(size, len));
      cur.clear();
      if (!ok) {
        p.inerr = true;
        throw dillError("EMSGSIZE", this.fn, undefined, `a message of ${size} bytes does not fit the buffer`);
      }
    }
    return finished(size);
  }

  protected failed(): void {
    if (this.phase === 0) return;
    const p = this.p;
    p.receiving = false;
    p.headIol.iol_next = null;
    p.restIol.iol_next = null;
    p.restIol.iol_base = null;
  }
}

/**
 * Storage for one term socket (libdill's `struct term_storage`), for `term_attach_mem`. It is in
 * use until the socket is closed or detached.
 *
 * @example
 * ```ts
 * const mem = new TermStorage();
 * const s = term_attach_mem(msgsock, "STOP", 4, mem);
 * ```
 */
export class TermStorage extends Storage {
  /** The term socket living in this storage. */
  readonly sock: TermSock = new TermSock(this);
}

const termStorages = new FreeList<TermStorage>(() => new TermStorage());

function termBytes(fn: string, buf: Uint8Array | string | null, len: number): Uint8Array | null {
  const bytes = typeof buf === "string" ? Buffer.from(buf, "utf8") : buf;
  if (bytes !== null && !(bytes instanceof Uint8Array))
    throw dillError("EINVAL", fn, "buf", "buf must be a Uint8Array, a string or null");
  checkCount(fn, "len", len);
  if (len > TERM_MAX_LEN)
    throw dillError("EINVAL", fn, "len", `the terminal message is at most ${TERM_MAX_LEN} bytes, got ${len}`);
  if (len > 0 && bytes === null) throw dillError("EINVAL", fn, "buf", "buf is null but len is not 0");
  if (bytes !== null && len > bytes.length)
    throw dillError("EINVAL", fn, "len", `len ${len} is larger than buf (${bytes.length} bytes)`);
  return bytes;
}

function attach(
  s: number,
  buf: Uint8Array | string | null,
  len: number,
  mem: TermStorage | undefined,
  fn: string,
): number {
  // attachChecks, written out: no closure per attach (HTTP attaches once per request).
  handleGet(s, fn, "s");
  let bytes: Uint8Array | null;
  try {
    bytes = termBytes(fn, buf, len);
    if (mem !== undefined) checkMem(fn, mem, TermStorage);
  } catch (e) {
    closeQuietly(s);
    throw e;
  }
  const [st, u, um] = claimAndTakeOver(s, mem, termStorages, TermStorage, MSOCK_TYPE, "a message socket", fn);
  st.sock.init(u, um as MessageSocket, bytes, len);
  return publish(st.sock, fn);
}

/**
 * Starts the TERM protocol over a message socket, with `buf` as the terminal message (which may
 * be empty: then an empty message ends the stream). The call takes `s` over in every case: on
 * success `s` belongs to the new socket (`term_detach` gives it back), on failure it is closed.
 *
 * @param s a message socket handle (a prefix or suffix socket, a user's).
 * @param buf the terminal message (a string is taken as UTF-8), or `null` when `len` is 0.
 * @param len its length in bytes, 0 to 32.
 * @returns the handle of the term socket.
 * @throws `EBADF` (`s` is not a handle), `EINVAL` (bad `buf` or `len`), `EPROTO` (`s` is not a
 * message socket), `EMFILE` (the handle table is full), `ENOMEM` (the storage pool is used up).
 *
 * @example
 * ```ts
 * const s = term_attach(prefix_attach(conn, 4, 0), "STOP", 4);
 * ```
 */
export function term_attach<U extends Msock | Unbranded = Unbranded>(
  s: U,
  buf: Uint8Array | string | null,
  len: number,
): TermSocket<U> {
  return attach(s, buf, len, undefined, "term_attach") as TermSocket<U>;
}

/**
 * {@link term_attach} with the socket in storage the caller provides: nothing is allocated.
 *
 * @param s a message socket handle.
 * @param buf the terminal message, or `null` when `len` is 0.
 * @param len its length in bytes, 0 to 32.
 * @param mem a `TermStorage` not in use; it is in use until the socket is closed or detached.
 * @returns the handle of the term socket.
 * @throws as `term_attach`; `EINVAL` also when `mem` is not a `TermStorage`, `EBUSY` when it is in use.
 *
 * @example
 * ```ts
 * const mem = new TermStorage();
 * const s = term_attach_mem(msgsock, "", 0, mem);
 * ```
 */
export function term_attach_mem<U extends Msock | Unbranded = Unbranded>(
  s: U,
  buf: Uint8Array | string | null,
  len: number,
  mem: TermStorage,
): TermSocket<U> {
  return attach(s, buf, len, mem ?? (null as never), "term_attach_mem") as TermSocket<U>;
}

function termOf(s: number, deadline: number, fn: string): TermSock {
  const p = handleQuery(s, TERM_TYPE, fn, "s") as TermSock;
  checkDeadline(fn, deadline);
  return p;
}

/** Send the terminal message on `p`'s underlying socket; sending is over once it went. */
function* sendTerm(p: TermSock, deadline: number, fn: string): Op<void> {
  if (p.sending) throw dillError("EBUSY", fn, "s", "another coroutine is sending on this socket");
  p.sending = true;
  try {
    yield* p.um!.msendl(p.termIol, p.termIol, deadline, fn);
  } finally {
    p.sending = false;
  }
  p.outdone = true;
}

/**
 * Sends the terminal message: the peer's receives fail with `EPIPE` once it gets there, and this
 * side can send no more (`msend` fails with `EPIPE`). Receiving goes on.
 *
 * @param s a term socket handle.
 * @param deadline absolute time in ms; `-1` never, `0` only if it can be sent without waiting.
 * @throws `EBADF`, `ENOTSUP` (not a term socket), `EINVAL` (deadline), `EPIPE` (it was sent
 * before), `EBUSY` (a coroutine is sending on `s`), and what the underlying send fails with:
 * `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * yield* term_done(s, now() + 1000);
 * ```
 */
export function* term_done(s: TermSocket | Unbranded, deadline: number): Op<void> {
  const fn = "term_done";
  const p = termOf(s, deadline, fn);
  if (p.outdone) throw dillError("EPIPE", fn, "s", "the terminal message was already sent");
  yield* sendTerm(p, deadline, fn);
}

/** The list a drained message is dropped into. */
const NONE: IoList | null = null;

/**
 * Ends the TERM protocol in order and returns the underlying message socket: sends the terminal
 * message unless `term_done` did, then receives and drops messages until the peer's terminal
 * message. Both peers then stand at the same place of the stream. On failure both `s` and the
 * socket under it are closed.
 *
 * @param s a term socket handle.
 * @param deadline absolute time in ms for the whole handshake; `-1` never.
 * @returns the handle of the underlying message socket.
 * @throws `EBADF`, `ENOTSUP` (not a term socket), `EINVAL` (deadline), `EBUSY` (a coroutine is
 * sending or receiving on `s`): `s` is left as it was; `ECONNRESET`, `ETIMEDOUT`, `ECANCELED`,
 * `EMSGSIZE`: all is closed.
 *
 * @example
 * ```ts
 * const ms = yield* term_detach(s, now() + 1000);
 * const conn2 = prefix_detach(ms);
 * ```
 */
export function* term_detach<U = number>(s: TermSocket<U> | Unbranded, deadline: number): Op<U> {
  const fn = "term_detach";
  const p = termOf(s, deadline, fn);
  if (p.sending || p.receiving) throw dillError("EBUSY", fn, "s", "a coroutine is sending or receiving on this socket");
  handleRelease(s, fn);
  let cr;
  try {
    cr = canBlock(fn);
    if (cr !== null && !p.outdone) yield* sendTerm(p, deadline, fn);
  } catch (e) {
    p.close();
    throw e;
  }
  if (cr === null) {
    // A coroutine that ignores its cancellation is being stopped: nothing is handed back.
    p.close();
    return (yield* suspended()) as U;
  }
  try {
    while (!p.indone) yield* new TermRecv(p, NONE, NONE, deadline, fn);
  } catch (e) {
    // The peer's terminal message ends the draining; so does the end of the stream under it, as
    // in libdill (the socket underneath then reports its failure itself).
    if (!(p.indone || isEpipe(e))) {
      p.close();
      throw e;
    }
  }
  return termDetachNow(p) as U;
}

/**
 * The end of `term_detach` once both terminal messages went by (`p`'s handle released): frees
 * the storage and returns the handle of the message socket underneath. HTTP's detach calls it
 * directly.
 */
export function termDetachNow(p: TermSock): number {
  const u = p.u;
  p.u = -1;
  p.um = null;
  termStorages.release(p.home);
  return u;
}

function isEpipe(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === "EPIPE";
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ term_done, term_detach });
