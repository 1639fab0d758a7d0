/**
 * SUFFIX, after libdill's suffix.c: messages over a bytestream, each followed by a delimiter of 1
 * to 32 bytes (`"\r\n"` for a line protocol). A message should not contain the delimiter: the
 * receiver would see two messages, as with libdill.
 *
 * libdill reads one byte per call to find the delimiter. tsdill reads ahead instead when the
 * bytestream lets it (IPC and TCP connections do: they receive what has arrived and take bytes
 * back): it takes what is there into a buffer of the socket's, finds the delimiter with one
 * search and copies the message out. `suffix_detach` hands what was read beyond the last message
 * back to the bytestream, so no byte is lost. Over a bytestream that cannot do both, it reads
 * exactly as far as a delimiter could end, never beyond (for `"\r\n"`, two bytes at a time).
 */
import { checkCount, checkDeadline } from "../handles/args.js";
import { BSOCK_TYPE, type Bytestream, type IoList } from "../handles/bytestream.js";
import { dillError, quickError } from "../handles/errors.js";
import { MSOCK_TYPE, type MessageSocket } from "../handles/msock.js";
import { finished, guardOps, type Op } from "../handles/op.js";
import { checkMem, FreeList, Storage } from "../handles/pool.js";
import { type HandleVfs, handleGet, handleQuery, handleRelease } from "../handles/table.js";
import type { Bsock, SuffixSocket, Unbranded } from "../handles/types.js";
import { canBlock, suspended } from "../runtime/sched.js";
import {
  canReadAhead,
  closeQuietly,
  copyBytes,
  LayerOp,
  ListCursor,
  offsetViews,
  publish,
  claimAndTakeOver,
  view,
} from "./layer.js";

/** Interface id a suffix socket answers in `hquery` (besides `MSOCK_TYPE`): what `suffix_detach` asks for. */
export const SUFFIX_TYPE: unique symbol = Symbol("suffix");

/** The longest delimiter, in bytes (libdill's limit). */
export const SUFFIX_MAX_LEN = 32;
/** Bytes read ahead at most, per socket. */
const READ_AHEAD = 8 * 1024;
/** Messages up to this size are copied before their delimiter and sent in one piece. */
const COALESCE = 16 * 1024;

const EMPTY = new Uint8Array(0);

/** A suffix socket: the protocol's state over the underlying bytestream `u`. */
export class SuffixSock implements HandleVfs, MessageSocket {
  readonly kind = "suffix";
  u = -1;
  ub: Bytestream | null = null;
  /** The delimiter (a copy) and its length. */
  readonly suffix: Buffer = Buffer.alloc(SUFFIX_MAX_LEN);
  k = 0;
  delim: Buffer = this.suffix;
  /** Whether the bytestream lets this socket read ahead. */
  ahead = false;
  outerr = false;
  inerr = false;
  sending = false;
  receiving = false;
  /**
   * Received bytes not yet taken by a message: `rbuf[rpos..rend)`. Views of `rbuf` from each
   * offset a read can start at (below the delimiter's length) are kept in `at`.
   */
  rbuf: Buffer | null = null;
  /** The same bytes as a plain Uint8Array, whose `subarray` is cheaper, to copy messages out of. */
  rplain: Uint8Array = EMPTY;
  rpos = 0;
  rend = 0;
  at: Uint8Array[] = [];
  /** The list element exact reads and large sends use. */
  readonly rIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  readonly outIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  readonly sufIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  out: Buffer = Buffer.allocUnsafe(256);
  readonly cursor = new ListCursor();

  constructor(readonly home: SuffixStorage) {}

  query(type: symbol): unknown {
    return type === MSOCK_TYPE || type === SUFFIX_TYPE ? this : undefined;
  }

  init(u: number, ub: Bytestream, suffix: Uint8Array, k: number): void {
    this.u = u;
    this.ub = ub;
    this.suffix.set(suffix.subarray(0, k));
    this.k = k;
    this.delim = this.suffix.subarray(0, k);
    this.sufIol.iol_base = this.delim;
    this.sufIol.iol_len = k;
    this.ahead = canReadAhead(ub);
    this.outerr = this.inerr = this.sending = this.receiving = false;
    this.rpos = this.rend = 0;
    // An exact read starts below the delimiter's length and takes at most that many bytes.
    // One byte more than is ever read: the search's sentinel (see `find`).
    const size = (this.ahead ? READ_AHEAD : 2 * SUFFIX_MAX_LEN) + 1;
    if (this.rbuf === null || this.rbuf.length < size) {
      const rbuf = Buffer.allocUnsafeSlow(size);
      this.rbuf = rbuf;
      this.rplain = view(rbuf, 0, size);
      this.at = offsetViews(view(rbuf, 0, size - 1), SUFFIX_MAX_LEN);
    }
  }

  close(): void {
    const u = this.u;
    this.u = -1;
    this.ub = null;
    if (u >= 0) closeQuietly(u);
    suffixStorages.release(this.home);
  }

  /**
   * Where the delimiter starts in `rbuf[from..rend)`, or -1: Buffer's search for its first byte
   * (memchr), then a check of the rest (Buffer's search of a sequence costs more per call). The
   * delimiter's first byte is put at `rend` first, so the search never runs past the bytes read.
   */
  find(from: number): number {
    const rbuf = this.rbuf!;
    const d = this.delim;
    const d0 = d[0]!;
    const k = this.k;
    const end = this.rend;
    rbuf[end] = d0;
    for (;;) {
      const i = rbuf.indexOf(d0, from);
      if (i >= end) return -1;
      if (k === 1) return i;
      if (i + k > end) return -1;
      let j = 1;
      while (j < k && rbuf[i + j] === d[j]) j++;
      if (j === k) return i;
      from = i + 1;
    }
  }

  /**
   * How many bytes an exact read may take without passing a delimiter's end: the delimiter's
   * length less the longest end of `rbuf[0..rend)` that begins it.
   */
  safeRead(): number {
    const rbuf = this.rbuf!;
    const d = this.delim;
    const end = this.rend;
    for (let p = Math.min(end, this.k - 1); p > 0; p--) {
      let i = 0;
      while (i < p && rbuf[end - p + i] === d[i]) i++;
      if (i === p) return this.k - p;
    }
    return this.k;
  }

  msendl(first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    return new SuffixSend(this, first, last, deadline, fn);
  }

  mrecvl(first: IoList | null, _last: IoList | null, deadline: number, fn: string): Op<number> {
    return new SuffixRecv(this, first, deadline, fn);
  }
}

/** One message out: the message and its delimiter in one bytestream send. */
class SuffixSend extends LayerOp<void> {
  private phase = 0;
  private linked: IoList | null = null;
  constructor(
    private readonly p: SuffixSock,
    private readonly first: IoList,
    private readonly last: IoList,
    private readonly deadline: number,
    private readonly fn: string,
  ) {
    super();
  }

  protected step(): IteratorResult<unknown, void> {
    const p = this.p;
    const fn = this.fn;
    if (this.phase === 1) return this.done();
    if (p.sending) throw dillError("EBUSY", fn, "s", "another coroutine is already sending on this socket");
    if (p.outerr) throw quickError("ECONNRESET", fn);
    p.sending = true;
    this.phase = 1;
    let size = 0;
    for (let it: IoList | null = this.first; it !== null; it = it.iol_next) size += it.iol_len;
    const k = p.k;
    if (size <= COALESCE) {
      const need = size + k;
      if (p.out.length < need) p.out = Buffer.allocUnsafe(Math.max(need, p.out.length * 2));
      const out = p.out;
      let off = 0;
      for (let it: IoList | null = this.first; it !== null; it = it.iol_next) {
        const n = it.iol_len;
        copyBytes(out, off, it.iol_base!, 0, n);
        off += n;
      }
      const d = p.delim;
      for (let i = 0; i < k; i++) out[off + i] = d[i]!;
      const iol = p.outIol;
      iol.iol_base = out;
      iol.iol_len = need;
      const r = this.sendOn(p.ub!, iol, iol, this.deadline, fn);
      return r.done ? this.done() : (r as IteratorResult<unknown, void>);
    }
    // Large: the delimiter is linked behind the caller's last element for the send.
    this.linked = this.last;
    this.last.iol_next = p.sufIol;
    const r = this.sendOn(p.ub!, this.first, p.sufIol, this.deadline, fn);
    return r.done ? this.done() : (r as IteratorResult<unknown, void>);
  }

  private unlink(): void {
    if (this.linked !== null) this.linked.iol_next = null;
    this.linked = null;
  }

  private done(): IteratorResult<unknown, void> {
    this.unlink();
    this.p.sending = false;
    return finished(undefined);
  }

  protected failed(): void {
    if (this.phase === 0) return;
    this.unlink();
    this.p.sending = false;
    this.p.outerr = true;
  }
}

/** One message in: search what was read, read more until the delimiter shows, copy the message out. */
class SuffixRecv extends LayerOp<number> {
  /** 0: not begun; 1: searching; 2: a read ahead is under way; 3: an exact read of `want` bytes is. */
  private phase = 0;
  private size = 0;
  private want = 0;
  constructor(
    private readonly p: SuffixSock,
    private readonly first: IoList | null,
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
      if (p.inerr) throw quickError("ECONNRESET", fn);
      p.receiving = true;
      p.cursor.reset(this.first);
      this.phase = 1;
    } else {
      this.read(this.phase === 2 ? (v as number) : this.want);
    }
    const k = p.k;
    const rbuf = p.rbuf!;
    const cur = p.cursor;
    for (;;) {
      const rpos = p.rpos;
      const i = p.find(rpos);
      if (i >= 0) {
        this.put(p.rplain, rpos, i - rpos);
        p.rpos = i + k;
        if (p.rpos === p.rend) {
          p.rpos = p.rend = 0;
        }
        p.receiving = false;
        cur.clear();
        return finished(this.size);
      }
      // No delimiter: all but its length less one are message bytes; keep those at the front.
      const safe = p.rend - (k - 1);
      if (safe > rpos) this.put(p.rplain, rpos, safe - rpos);
      const keep = p.rend - Math.max(safe, rpos);
      if (keep > 0 && p.rend - keep > 0) rbuf.copyWithin(0, p.rend - keep, p.rend);
      p.rpos = 0;
      p.rend = keep;
      let r: IteratorResult<unknown, unknown>;
      if (p.ahead) {
        this.phase = 2;
        r = this.recvSomeOn(p.ub!, p.at[keep]!, rbuf.length - 1 - keep, this.deadline, fn);
        if (!r.done) return r as IteratorResult<unknown, number>;
        this.read(r.value as number);
      } else {
        this.phase = 3;
        const want = p.safeRead();
        this.want = want;
        const iol = p.rIol;
        iol.iol_base = p.at[keep]!;
        iol.iol_len = want;
        r = this.recvOn(p.ub!, iol, iol, this.deadline, fn);
        if (!r.done) return r as IteratorResult<unknown, number>;
        this.read(want);
      }
    }
  }

  /** `n` more bytes are in `rbuf` at `rend`. */
  private read(n: number): void {
    const p = this.p;
    p.rend += n;
    this.phase = 1;
  }

  /** `n` message bytes of `src` from `off` go to the caller's list: `EMSGSIZE` when it is full. */
  private put(src: Uint8Array, off: number, n: number): void {
    if (n === 0) return;
    if (!this.p.cursor.put(src, off, n))
      throw dillError("EMSGSIZE", this.fn, undefined, "the message is longer than the buffer");
    this.size += n;
  }

  protected failed(): void {
    if (this.phase === 0) return;
    const p = this.p;
    p.receiving = false;
    p.inerr = true;
    p.cursor.clear();
  }
}

/**
 * Storage for one suffix socket (libdill's `struct suffix_storage`), for `suffix_attach_mem`.
 * It is in use until the socket is closed or detached.
 *
 * @example
 * ```ts
 * const mem = new SuffixStorage();
 * const s = suffix_attach_mem(conn, "\r\n", 2, mem);
 * ```
 */
export class SuffixStorage extends Storage {
  /** The suffix socket living in this storage. */
  readonly sock: SuffixSock = new SuffixSock(this);
}

const suffixStorages = new FreeList<SuffixStorage>(() => new SuffixStorage());

/** The delimiter as bytes, checked: `EINVAL` unless it is 1 to 32 bytes of a Uint8Array or string. */
function delimiter(fn: string, suffix: Uint8Array | string, suffixlen: number): Uint8Array {
  const bytes = typeof suffix === "string" ? Buffer.from(suffix, "utf8") : suffix;
  if (!(bytes instanceof Uint8Array))
    throw dillError("EINVAL", fn, "suffix", "suffix must be a Uint8Array or a string");
  checkCount(fn, "suffixlen", suffixlen);
  if (suffixlen < 1 || suffixlen > SUFFIX_MAX_LEN)
    throw dillError("EINVAL", fn, "suffixlen", `suffixlen must be 1 to ${SUFFIX_MAX_LEN}, got ${suffixlen}`);
  if (suffixlen > bytes.length)
    throw dillError("EINVAL", fn, "suffixlen", `suffixlen ${suffixlen} is larger than suffix (${bytes.length} bytes)`);
  return bytes;
}

function attach(
  s: number,
  suffix: Uint8Array | string,
  suffixlen: number,
  mem: SuffixStorage | undefined,
  fn: string,
): number {
  // attachChecks, written out: no closure per attach (HTTP attaches once per request).
  handleGet(s, fn, "s");
  let bytes: Uint8Array;
  try {
    bytes = delimiter(fn, suffix, suffixlen);
    if (mem !== undefined) checkMem(fn, mem, SuffixStorage);
  } catch (e) {
    closeQuietly(s);
    throw e;
  }
  const [st, u, ub] = claimAndTakeOver(s, mem, suffixStorages, SuffixStorage, BSOCK_TYPE, "a bytestream", fn);
  st.sock.init(u, ub as Bytestream, bytes, suffixlen);
  return publish(st.sock, fn);
}

/**
 * Starts the SUFFIX protocol over a bytestream: each message goes as its bytes, then the
 * delimiter `suffix`. The result is a message socket (`msend`, `mrecv`…). The call takes `s`
 * over in every case: on success `s` belongs to the new socket (its number is no longer valid;
 * `suffix_detach` gives the bytestream back), on failure it is closed.
 *
 * @param s a bytestream handle: an IPC or TCP connection, an `ipc_pair` end, a user's.
 * @param suffix the delimiter; a string is taken as UTF-8.
 * @param suffixlen its length in bytes, 1 to 32.
 * @returns the handle of the suffix socket.
 * @throws `EBADF` (`s` is not a handle), `EINVAL` (bad `suffix` or `suffixlen`), `EPROTO` (`s` is
 * not a bytestream), `EMFILE` (the handle table is full), `ENOMEM` (the storage pool is used up).
 *
 * @example
 * ```ts
 * const s = suffix_attach(conn, "\r\n", 2);
 * yield* msend(s, "HELLO", 5, -1); // HELLO\r\n on the wire
 * ```
 */
export function suffix_attach<U extends Bsock | Unbranded = Unbranded>(
  s: U,
  suffix: Uint8Array | string,
  suffixlen: number,
): SuffixSocket<U> {
  return attach(s, suffix, suffixlen, undefined, "suffix_attach") as SuffixSocket<U>;
}

/**
 * {@link suffix_attach} with the socket in storage the caller provides: nothing is allocated
 * (the read-ahead buffer is the storage's, kept from one use to the next).
 *
 * @param s a bytestream handle.
 * @param suffix the delimiter; a string is taken as UTF-8.
 * @param suffixlen its length in bytes, 1 to 32.
 * @param mem a `SuffixStorage` not in use; it is in use until the socket is closed or detached.
 * @returns the handle of the suffix socket.
 * @throws as `suffix_attach`; `EINVAL` also when `mem` is not a `SuffixStorage`, `EBUSY` when it
 * is in use.
 *
 * @example
 * ```ts
 * const mem = new SuffixStorage();
 * const s = suffix_attach_mem(conn, "\n", 1, mem);
 * ```
 */
export function suffix_attach_mem<U extends Bsock | Unbranded = Unbranded>(
  s: U,
  suffix: Uint8Array | string,
  suffixlen: number,
  mem: SuffixStorage,
): SuffixSocket<U> {
  return attach(s, suffix, suffixlen, mem ?? (null as never), "suffix_attach_mem") as SuffixSocket<U>;
}

/**
 * Ends the SUFFIX protocol and returns the underlying bytestream, positioned right after the
 * last delimiter received: bytes read ahead beyond it are handed back to the bytestream first.
 * SUFFIX has no closing handshake, so this does not wait. When a send or a receive on `s` had
 * failed, or the calling coroutine is cancelled, both `s` and the bytestream are closed and the
 * call fails.
 *
 * @param s a suffix socket handle.
 * @param deadline absolute time in ms (checked; the call does not wait).
 * @returns the handle of the underlying bytestream.
 * @throws `EBADF`, `ENOTSUP` (not a suffix socket), `EINVAL` (deadline), `EBUSY` (a coroutine is
 * sending or receiving on `s`): `s` is left as it was; `ECONNRESET` (an earlier call failed),
 * `ECANCELED`: all is closed.
 *
 * @example
 * ```ts
 * const conn2 = yield* suffix_detach(s, now() + 1000);
 * yield* ipc_close(conn2, now() + 1000);
 * ```
 */
export function* suffix_detach<U = number>(s: SuffixSocket<U> | Unbranded, deadline: number): Op<U> {
  const fn = "suffix_detach";
  const p = handleQuery(s, SUFFIX_TYPE, fn, "s") as SuffixSock;
  checkDeadline(fn, deadline);
  if (p.sending || p.receiving) throw dillError("EBUSY", fn, "s", "a coroutine is sending or receiving on this socket");
  handleRelease(s, fn);
  let cr;
  try {
    cr = canBlock(fn);
  } catch (e) {
    p.close();
    throw e;
  }
  if (cr === null) {
    // A coroutine that ignores its cancellation is being stopped: nothing is handed back.
    p.close();
    return (yield* suspended()) as U;
  }
  if (p.inerr || p.outerr) {
    p.close();
    throw dillError("ECONNRESET", fn, "s", "an earlier send or receive failed: the stream was closed");
  }
  return suffixDetachNow(p) as U;
}

/**
 * The end of `suffix_detach` once nothing can fail (no send or receive under way or failed, the
 * caller may block, `p`'s handle released): the bytes read ahead go back to the bytestream and
 * the storage is freed. Returns the bytestream's handle. HTTP's detach calls it directly.
 */
export function suffixDetachNow(p: SuffixSock): number {
  const u = p.u;
  if (p.rend > p.rpos) p.ub!.unrecv!(p.rbuf!.subarray(p.rpos, p.rend));
  p.rpos = p.rend = 0;
  p.u = -1;
  p.ub = null;
  suffixStorages.release(p.home);
  return u;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ suffix_detach });
