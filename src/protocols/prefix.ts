/**
 * PREFIX, after libdill's prefix.c: messages over a bytestream, each preceded by its size in a
 * fixed number of bytes (`hdrlen`), most significant byte first (`PREFIX_BIG_ENDIAN`, network
 * order) or last (`PREFIX_LITTLE_ENDIAN`). There is no handshake at either end.
 *
 * A send is one write on the bytestream: a small message is copied behind its header into one
 * buffer kept by the socket, a large one goes as the list header + message. A receive reads
 * ahead when the bytestream lets it (IPC and TCP connections do): what has arrived goes into a
 * buffer of the socket's, and headers and messages are taken from there, so that a message costs
 * one read at most, and several small ones that came together cost one read in all;
 * `prefix_detach` hands what was read beyond the last message back to the bytestream. Otherwise
 * it reads the header, then exactly the message into the caller's list.
 */
import { checkCount } from "../handles/args.js";
import { BSOCK_TYPE, type Bytestream, type IoList } from "../handles/bytestream.js";
import { dillError, quickError } from "../handles/errors.js";
import { MSOCK_TYPE, type MessageSocket } from "../handles/msock.js";
import { finished, type Op } from "../handles/op.js";
import { checkMem, FreeList, Storage } from "../handles/pool.js";
import { type HandleVfs, handleQuery, handleRelease } from "../handles/table.js";
import type { Bsock, PrefixSocket, Unbranded } from "../handles/types.js";
import {
  attachChecks,
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

/** The size field's most significant byte comes first on the wire (network byte order; the default). */
export const PREFIX_BIG_ENDIAN = 0;
/** The size field's least significant byte comes first on the wire. */
export const PREFIX_LITTLE_ENDIAN = 1;

/** Interface id a prefix socket answers in `hquery` (besides `MSOCK_TYPE`): what `prefix_detach` asks for. */
export const PREFIX_TYPE: unique symbol = Symbol("prefix");

/** The largest size field tsdill accepts, in bytes. */
export const PREFIX_MAX_HDRLEN = 64;
/** Messages up to this size are copied behind their header and sent in one piece. */
const COALESCE = 16 * 1024;
/** Bytes read ahead at most, per socket. */
const READ_AHEAD = 8 * 1024;

/** A prefix socket: the protocol's state over the underlying bytestream `u`. */
export class PrefixSock implements HandleVfs, MessageSocket {
  readonly kind = "prefix";
  /** The underlying bytestream's handle (owned) and interface. */
  u = -1;
  ub: Bytestream | null = null;
  hdrlen = 0;
  bigEndian = true;
  /** Sending resp. receiving failed: both are over, as in libdill. */
  outerr = false;
  inerr = false;
  /** A send resp. a receive is in progress (a second one is EBUSY). */
  sending = false;
  receiving = false;
  /** The received header, and the one-element list it is read into. */
  hdr = new Uint8Array(8);
  readonly hdrIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  /** The outgoing header (or header + small message), and its list element. */
  out: Buffer = Buffer.allocUnsafe(256);
  readonly outIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  /** The one-element list a dropped message is skipped with. */
  readonly skipIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  /** The largest message the size field can carry. */
  maxMsg = 0;
  /** Whether the bytestream lets this socket read ahead; what was read, `rbuf[rpos..rend)`. */
  ahead = false;
  rbuf: Uint8Array | null = null;
  /** Views of `rbuf` from each offset a read ahead can start at (below `hdrlen`). */
  at: Uint8Array[] = [];
  rpos = 0;
  rend = 0;
  /** Where a message read ahead goes in the caller's list, and the rest of that list for a long one. */
  readonly cursor = new ListCursor();
  readonly restIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };

  constructor(readonly home: PrefixStorage) {}

  query(type: symbol): unknown {
    return type === MSOCK_TYPE || type === PREFIX_TYPE ? this : undefined;
  }

  init(u: number, ub: Bytestream, hdrlen: number, flags: number): void {
    this.u = u;
    this.ub = ub;
    this.hdrlen = hdrlen;
    this.bigEndian = (flags & PREFIX_LITTLE_ENDIAN) === 0;
    this.outerr = this.inerr = this.sending = this.receiving = false;
    if (this.hdr.length < hdrlen) this.hdr = new Uint8Array(hdrlen);
    this.hdrIol.iol_base = this.hdr;
    this.hdrIol.iol_len = hdrlen;
    this.maxMsg = hdrlen >= 7 ? Number.MAX_SAFE_INTEGER : 256 ** hdrlen - 1;
    this.ahead = canReadAhead(ub);
    this.rpos = this.rend = 0;
    if (this.ahead) {
      if (this.rbuf === null) this.rbuf = new Uint8Array(READ_AHEAD);
      if (this.at.length < hdrlen) this.at = offsetViews(this.rbuf, hdrlen);
    }
  }

  /** hclose: closes the underlying handle too. */
  close(): void {
    const u = this.u;
    this.u = -1;
    this.ub = null;
    if (u >= 0) closeQuietly(u);
    prefixStorages.release(this.home);
  }

  /** Write the size `n` into `buf` at `off` in this socket's byte order. */
  putSize(buf: Uint8Array, off: number, n: number): void {
    const len = this.hdrlen;
    for (let i = 0; i < len; i++) {
      buf[this.bigEndian ? off + len - 1 - i : off + i] = n % 256;
      n = Math.floor(n / 256);
    }
  }

  /** The size in the header at `buf[off..]`, or -1 when it exceeds what a number holds exactly. */
  getSize(buf: Uint8Array, off: number): number {
    const len = this.hdrlen;
    let n = 0;
    for (let i = 0; i < len; i++) {
      n = n * 256 + buf[off + (this.bigEndian ? i : len - 1 - i)]!;
      if (n > Number.MAX_SAFE_INTEGER) return -1;
    }
    return n;
  }

  msendl(first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    return new PrefixSend(this, first, last, deadline, fn);
  }

  mrecvl(first: IoList | null, _last: IoList | null, deadline: number, fn: string): Op<number> {
    return new PrefixRecv(this, first, deadline, fn);
  }
}

/** One message out: header and message in one bytestream send. */
class PrefixSend extends LayerOp<void> {
  private phase = 0;
  private restore: IoList | null = null;
  constructor(
    private readonly p: PrefixSock,
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
    let size = 0;
    for (let it: IoList | null = this.first; it !== null; it = it.iol_next) size += it.iol_len;
    const hdrlen = p.hdrlen;
    if (size > p.maxMsg)
      throw dillError("EMSGSIZE", fn, undefined, `a message of ${size} bytes does not fit a ${hdrlen}-byte size field`);
    p.sending = true;
    this.phase = 1;
    const iol = p.outIol;
    if (size <= COALESCE) {
      const need = hdrlen + size;
      if (p.out.length < need) p.out = Buffer.allocUnsafe(Math.max(need, p.out.length * 2));
      const out = p.out;
      p.putSize(out, 0, size);
      let off = hdrlen;
      for (let it: IoList | null = this.first; it !== null; it = it.iol_next) {
        const n = it.iol_len;
        copyBytes(out, off, it.iol_base!, 0, n);
        off += n;
      }
      iol.iol_base = out;
      iol.iol_len = need;
      iol.iol_next = null;
      const r = this.sendOn(p.ub!, iol, iol, this.deadline, fn);
      return r.done ? this.done() : (r as IteratorResult<unknown, void>);
    }
    p.putSize(p.out, 0, size);
    iol.iol_base = p.out;
    iol.iol_len = hdrlen;
    iol.iol_next = this.first;
    this.restore = iol;
    const r = this.sendOn(p.ub!, iol, this.last, this.deadline, fn);
    return r.done ? this.done() : (r as IteratorResult<unknown, void>);
  }

  private done(): IteratorResult<unknown, void> {
    this.p.sending = false;
    if (this.restore !== null) this.restore.iol_next = null;
    this.restore = null;
    return finished(undefined);
  }

  protected failed(): void {
    if (this.phase === 0) return; // refused before it began (EBUSY, EMSGSIZE...): nothing to undo
    const p = this.p;
    p.sending = false;
    p.outerr = true;
    if (this.restore !== null) this.restore.iol_next = null;
    this.restore = null;
  }
}

/**
 * One message in. Reading ahead: what has arrived is taken into the socket's buffer, the header
 * and the message are taken from there (a message longer than the buffer is received straight
 * into the caller's list once its first part is copied). Reading exactly: the header, then
 * exactly the message into the caller's list.
 */
class PrefixRecv extends LayerOp<number> {
  /** 0: not begun; 1: exact header read; 2: exact message read; 3: a read ahead is under way. */
  private phase = 0;
  /** It passed the checks and holds the receiving direction. */
  private owns = false;
  /** The message's size once its header was read, else -1; how much of it is still to come. */
  private size = -1;
  private left = 0;
  /** The element the message ends in, trimmed for the receive, and what it held before. */
  private cut: IoList | null = null;
  private cutLen = 0;
  private cutNext: IoList | null = null;
  constructor(
    private readonly p: PrefixSock,
    private readonly first: IoList | null,
    private readonly deadline: number,
    private readonly fn: string,
  ) {
    super();
  }

  protected step(v: unknown): IteratorResult<unknown, number> {
    const p = this.p;
    const fn = this.fn;
    switch (this.phase) {
      case 0:
        if (p.receiving) throw dillError("EBUSY", fn, "s", "another coroutine is already receiving on this socket");
        if (p.inerr) throw quickError("ECONNRESET", fn);
        p.receiving = true;
        this.owns = true;
        if (p.ahead) {
          p.cursor.reset(this.first);
          return this.ahead();
        }
        this.phase = 1;
        {
          const r = this.recvOn(p.ub!, p.hdrIol, p.hdrIol, this.deadline, fn);
          if (!r.done) return r as IteratorResult<unknown, number>;
        }
        return this.body(p.getSize(p.hdr, 0));
      case 1:
        return this.body(p.getSize(p.hdr, 0));
      case 3:
        p.rend += v as number;
        return this.ahead();
      default:
        return this.done();
    }
  }

  /** The size is known (exact reads): receive the message into the caller's list, trimmed to it. */
  private body(size: number): IteratorResult<unknown, number> {
    const p = this.p;
    this.setSize(size);
    this.phase = 2;
    if (size === 0) return this.done();
    const first = this.first;
    if (first === null) {
      p.skipIol.iol_len = size;
      const r = this.recvOn(p.ub!, p.skipIol, p.skipIol, this.deadline, this.fn);
      return r.done ? this.done() : (r as IteratorResult<unknown, number>);
    }
    const last = this.trim(first, size);
    const r = this.recvOn(p.ub!, first, last, this.deadline, this.fn);
    return r.done ? this.done() : (r as IteratorResult<unknown, number>);
  }

  /** Take the message from what was read ahead, reading more as needed. */
  private ahead(): IteratorResult<unknown, number> {
    const p = this.p;
    const rbuf = p.rbuf!;
    const hdrlen = p.hdrlen;
    for (;;) {
      const avail = p.rend - p.rpos;
      if (this.size < 0) {
        if (avail >= hdrlen) {
          this.setSize(p.getSize(rbuf, p.rpos));
          p.rpos += hdrlen;
          continue;
        }
      } else {
        const n = this.left < avail ? this.left : avail;
        if (n > 0) {
          p.cursor.put(rbuf, p.rpos, n); // fits: the size was checked against the list
          p.rpos += n;
          this.left -= n;
        }
        if (this.left === 0) {
          if (p.rpos === p.rend) p.rpos = p.rend = 0;
          return this.done();
        }
        if (this.left > rbuf.length) return this.rest();
      }
      // More bytes are needed: keep the unread ones at the front, read behind them.
      const keep = p.rend - p.rpos;
      if (keep > 0 && p.rpos > 0) rbuf.copyWithin(0, p.rpos, p.rend);
      p.rpos = 0;
      p.rend = keep;
      this.phase = 3;
      const r = this.recvSomeOn(p.ub!, p.at[keep]!, rbuf.length - keep, this.deadline, this.fn);
      if (!r.done) return r as IteratorResult<unknown, number>;
      p.rend += r.value as number;
    }
  }

  /** The rest of a long message goes straight into the caller's list, from where the copying stopped. */
  private rest(): IteratorResult<unknown, number> {
    const p = this.p;
    const cur = p.cursor;
    const left = this.left;
    this.phase = 2;
    let first: IoList;
    let last: IoList;
    if (cur.drop) {
      first = last = p.skipIol;
      p.skipIol.iol_len = left;
    } else {
      let it = cur.it!;
      let ioff = cur.ioff;
      while (ioff === it.iol_len) {
        it = it.iol_next!;
        ioff = 0;
      }
      const r = p.restIol;
      r.iol_base = it.iol_base === null ? null : view(it.iol_base, ioff, it.iol_len - ioff);
      r.iol_len = it.iol_len - ioff;
      r.iol_next = it.iol_next;
      first = r;
      last = this.trim(r, left);
    }
    this.left = 0;
    const res = this.recvOn(p.ub!, first, last, this.deadline, this.fn);
    return res.done ? this.done() : (res as IteratorResult<unknown, number>);
  }

  /** The size from the header: `EMSGSIZE` when it is beyond a number or the caller's list. */
  private setSize(size: number): void {
    const fn = this.fn;
    if (size < 0) throw dillError("EMSGSIZE", fn, undefined, "the size field holds more than 2^53 - 1");
    if (this.first !== null) {
      let room = 0;
      for (let it: IoList | null = this.first; it !== null && room < size; it = it.iol_next) room += it.iol_len;
      if (room < size) throw dillError("EMSGSIZE", fn, undefined, `a message of ${size} bytes does not fit the buffer`);
    }
    this.size = size;
    this.left = size;
  }

  /** Cut the list from `first` short after `size` bytes (it holds them); its new last element. */
  private trim(first: IoList, size: number): IoList {
    let rest = size;
    let it: IoList = first;
    while (it.iol_len < rest) {
      rest -= it.iol_len;
      it = it.iol_next!;
    }
    this.cut = it;
    this.cutLen = it.iol_len;
    this.cutNext = it.iol_next;
    it.iol_len = rest;
    it.iol_next = null;
    return it;
  }

  private untrim(): void {
    const c = this.cut;
    if (c !== null) {
      c.iol_len = this.cutLen;
      c.iol_next = this.cutNext;
      this.cut = this.cutNext = null;
    }
  }

  private done(): IteratorResult<unknown, number> {
    this.untrim();
    const p = this.p;
    p.receiving = false;
    p.cursor.clear();
    p.restIol.iol_base = p.restIol.iol_next = null;
    return finished(this.size);
  }

  protected failed(): void {
    if (!this.owns) return; // refused before it began (EBUSY, ECONNRESET): nothing to undo
    this.untrim();
    const p = this.p;
    p.receiving = false;
    p.inerr = true;
    p.cursor.clear();
    p.restIol.iol_base = p.restIol.iol_next = null;
  }
}

/**
 * Storage for one prefix socket (libdill's `struct prefix_storage`), for `prefix_attach_mem`.
 * It is in use until the socket is closed or detached.
 *
 * @example
 * ```ts
 * const mem = new PrefixStorage();
 * const s = prefix_attach_mem(conn, 4, PREFIX_BIG_ENDIAN, mem);
 * ```
 */
export class PrefixStorage extends Storage {
  /** The prefix socket living in this storage. */
  readonly sock: PrefixSock = new PrefixSock(this);
}

const prefixStorages = new FreeList<PrefixStorage>(() => new PrefixStorage());

function checkArgs(fn: string, hdrlen: number, flags: number): void {
  checkCount(fn, "hdrlen", hdrlen);
  if (hdrlen < 1 || hdrlen > PREFIX_MAX_HDRLEN)
    throw dillError("EINVAL", fn, "hdrlen", `hdrlen must be 1 to ${PREFIX_MAX_HDRLEN}, got ${hdrlen}`);
  if (flags !== PREFIX_BIG_ENDIAN && flags !== PREFIX_LITTLE_ENDIAN)
    throw dillError(
      "EINVAL",
      fn,
      "flags",
      `flags must be PREFIX_BIG_ENDIAN (0) or PREFIX_LITTLE_ENDIAN (1), got ${String(flags)}`,
    );
}

function attach(s: number, hdrlen: number, flags: number, mem: PrefixStorage | undefined, fn: string): number {
  attachChecks(s, fn, () => {
    checkArgs(fn, hdrlen, flags);
    if (mem !== undefined) checkMem(fn, mem, PrefixStorage);
  });
  const [st, u, ub] = claimAndTakeOver(s, mem, prefixStorages, PrefixStorage, BSOCK_TYPE, "a bytestream", fn);
  st.sock.init(u, ub as Bytestream, hdrlen, flags);
  return publish(st.sock, fn);
}

/**
 * Starts the PREFIX protocol over a bytestream: each message goes as its size in `hdrlen`
 * bytes, then its bytes. The result is a message socket (`msend`, `mrecv`…). The call takes `s`
 * over in every case: on success `s` belongs to the new socket (its number is no longer valid;
 * `prefix_detach` gives the bytestream back), on failure it is closed.
 *
 * @param s a bytestream handle: an IPC or TCP connection, an `ipc_pair` end, a user's.
 * @param hdrlen the size field's length in bytes, 1 to 64.
 * @param flags `PREFIX_BIG_ENDIAN` (most significant byte first) or `PREFIX_LITTLE_ENDIAN`.
 * @returns the handle of the prefix socket.
 * @throws `EBADF` (`s` is not a handle), `EINVAL` (bad `hdrlen` or `flags`), `EPROTO` (`s` is not a
 * bytestream), `EMFILE` (the handle table is full), `ENOMEM` (the storage pool is used up).
 *
 * @example
 * ```ts
 * const s = prefix_attach(conn, 2, PREFIX_BIG_ENDIAN);
 * yield* msend(s, "ABC", 3, -1);
 * const conn2 = prefix_detach(s);
 * ```
 */
export function prefix_attach<U extends Bsock | Unbranded = Unbranded>(
  s: U,
  hdrlen: number,
  flags: number,
): PrefixSocket<U> {
  return attach(s, hdrlen, flags, undefined, "prefix_attach") as PrefixSocket<U>;
}

/**
 * {@link prefix_attach} with the socket in storage the caller provides: nothing is allocated.
 *
 * @param s a bytestream handle.
 * @param hdrlen the size field's length in bytes, 1 to 64.
 * @param flags `PREFIX_BIG_ENDIAN` or `PREFIX_LITTLE_ENDIAN`.
 * @param mem a `PrefixStorage` not in use; it is in use until the socket is closed or detached.
 * @returns the handle of the prefix socket.
 * @throws as `prefix_attach`; `EINVAL` also when `mem` is not a `PrefixStorage`, `EBUSY` when it
 * is in use.
 *
 * @example
 * ```ts
 * const mem = new PrefixStorage();
 * const s = prefix_attach_mem(conn, 4, PREFIX_LITTLE_ENDIAN, mem);
 * ```
 */
export function prefix_attach_mem<U extends Bsock | Unbranded = Unbranded>(
  s: U,
  hdrlen: number,
  flags: number,
  mem: PrefixStorage,
): PrefixSocket<U> {
  // An absent storage is the plain call's marker: the _mem call must see one to check.
  return attach(s, hdrlen, flags, mem ?? (null as never), "prefix_attach_mem") as PrefixSocket<U>;
}

/**
 * Ends the PREFIX protocol and returns the underlying bytestream, positioned right after the
 * last message received: what was read ahead beyond it is handed back first, nothing is lost. PREFIX has no closing
 * handshake, so this does not wait. When a send or a receive on `s` had failed, the stream is in
 * an unknown place: both `s` and the bytestream are closed and the call fails with `ECONNRESET`.
 *
 * @param s a prefix socket handle.
 * @returns the handle of the underlying bytestream.
 * @throws `EBADF`, `ENOTSUP` (not a prefix socket; `s` is left as it was), `EBUSY` (a coroutine is
 * sending or receiving on `s`; left as it was), `ECONNRESET` (an earlier call failed; all closed).
 *
 * @example
 * ```ts
 * const conn2 = prefix_detach(s);
 * yield* ipc_close(conn2, now() + 1000);
 * ```
 */
export function prefix_detach<U = number>(s: PrefixSocket<U> | Unbranded): U {
  const fn = "prefix_detach";
  const p = handleQuery(s, PREFIX_TYPE, fn, "s") as PrefixSock;
  if (p.sending || p.receiving) throw dillError("EBUSY", fn, "s", "a coroutine is sending or receiving on this socket");
  handleRelease(s, fn);
  if (p.inerr || p.outerr) {
    p.close();
    throw dillError("ECONNRESET", fn, "s", "an earlier send or receive failed: the stream was closed");
  }
  const u = p.u;
  if (p.rend > p.rpos) p.ub!.unrecv!(view(p.rbuf!, p.rpos, p.rend - p.rpos));
  p.rpos = p.rend = 0;
  p.u = -1;
  p.ub = null;
  prefixStorages.release(p.home);
  return u as U;
}
