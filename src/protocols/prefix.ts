/**
 * PREFIX, after libdill's prefix.c: messages over a bytestream, each preceded by its size in a
 * fixed number of bytes (`hdrlen`), most significant byte first (`PREFIX_BIG_ENDIAN`, network
 * order) or last (`PREFIX_LITTLE_ENDIAN`). There is no handshake at either end.
 *
 * A send is one write on the bytestream: a small message is copied behind its header into one
 * buffer kept by the socket, a large one goes as the list header + message. A receive reads the
 * header, then exactly the message into the caller's list, so nothing is read ahead and
 * `prefix_detach` has nothing to hand back.
 */
import { checkCount } from "../handles/args.js";
import { BSOCK_TYPE, type Bytestream, type IoList } from "../handles/bytestream.js";
import { dillError, quickError } from "../handles/errors.js";
import { MSOCK_TYPE, type MessageSocket } from "../handles/msock.js";
import { finished, type Op } from "../handles/op.js";
import { checkMem, claim, FreeList, Storage } from "../handles/pool.js";
import { type HandleVfs, handleQuery, handleRelease } from "../handles/table.js";
import { attachChecks, closeQuietly, LayerOp, publish, takeOver } from "./layer.js";

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

  /** The size in the received header, or -1 when it exceeds what a number holds exactly. */
  getSize(): number {
    const len = this.hdrlen;
    const hdr = this.hdr;
    let n = 0;
    for (let i = 0; i < len; i++) {
      n = n * 256 + hdr[this.bigEndian ? i : len - 1 - i]!;
      if (n > Number.MAX_SAFE_INTEGER) return -1;
    }
    return n;
  }

  msendl(first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    return new PrefixSend(this, first, last, deadline, fn);
  }

  mrecvl(first: IoList | null, last: IoList | null, deadline: number, fn: string): Op<number> {
    return new PrefixRecv(this, first, last, deadline, fn);
  }
}

/** Largest size a header of `hdrlen` bytes can carry. */
function maxSize(hdrlen: number): number {
  return hdrlen >= 7 ? Number.MAX_SAFE_INTEGER : 256 ** hdrlen - 1;
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
    if (size > maxSize(hdrlen))
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
        const base = it.iol_base!;
        if (n <= 16) for (let i = 0; i < n; i++) out[off + i] = base[i]!;
        else out.set(n === base.length ? base : base.subarray(0, n), off);
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

/** One message in: its header, then exactly its bytes into the caller's list. */
class PrefixRecv extends LayerOp<number> {
  private phase = 0;
  private size = 0;
  /** The element the message ends in, trimmed for the receive, and what it held before. */
  private cut: IoList | null = null;
  private cutLen = 0;
  private cutNext: IoList | null = null;
  constructor(
    private readonly p: PrefixSock,
    private readonly first: IoList | null,
    private readonly last: IoList | null,
    private readonly deadline: number,
    private readonly fn: string,
  ) {
    super();
  }

  protected step(): IteratorResult<unknown, number> {
    const p = this.p;
    const fn = this.fn;
    if (this.phase === 0) {
      if (p.receiving) throw dillError("EBUSY", fn, "s", "another coroutine is already receiving on this socket");
      if (p.inerr) throw quickError("ECONNRESET", fn);
      p.receiving = true;
      this.phase = 1;
      const r = this.recvOn(p.ub!, p.hdrIol, p.hdrIol, this.deadline, fn);
      if (!r.done) return r as IteratorResult<unknown, number>;
    }
    if (this.phase === 1) {
      const size = p.getSize();
      if (size < 0) throw dillError("EMSGSIZE", fn, undefined, "the size field holds more than 2^53 - 1");
      this.size = size;
      this.phase = 2;
      let first = this.first;
      let last = this.last;
      if (first === null) {
        if (size === 0) return this.done();
        first = last = p.skipIol;
        p.skipIol.iol_len = size;
      } else {
        // Trim the list to the message: the element it ends in is cut short for the receive.
        let rest = size;
        let it: IoList = first;
        while (it.iol_len < rest) {
          rest -= it.iol_len;
          const nx = it.iol_next;
          if (nx === null)
            throw dillError("EMSGSIZE", fn, undefined, `a message of ${size} bytes does not fit the buffer`);
          it = nx;
        }
        if (size === 0) return this.done();
        this.cut = it;
        this.cutLen = it.iol_len;
        this.cutNext = it.iol_next;
        it.iol_len = rest;
        it.iol_next = null;
        last = it;
      }
      const r = this.recvOn(p.ub!, first, last!, this.deadline, fn);
      if (!r.done) return r as IteratorResult<unknown, number>;
    }
    return this.done();
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
    this.p.receiving = false;
    return finished(this.size);
  }

  protected failed(): void {
    if (this.phase === 0) return;
    this.untrim();
    const p = this.p;
    p.receiving = false;
    p.inerr = true;
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
  let st: PrefixStorage;
  try {
    st = mem === undefined ? prefixStorages.take(fn) : claim(mem, PrefixStorage, fn);
  } catch (e) {
    closeQuietly(s);
    throw e;
  }
  let u: number;
  let ub: unknown;
  try {
    [u, ub] = takeOver(s, BSOCK_TYPE, fn, "a bytestream");
  } catch (e) {
    prefixStorages.release(st);
    throw e;
  }
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
export function prefix_attach(s: number, hdrlen: number, flags: number): number {
  return attach(s, hdrlen, flags, undefined, "prefix_attach");
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
export function prefix_attach_mem(s: number, hdrlen: number, flags: number, mem: PrefixStorage): number {
  // An absent storage is the plain call's marker: the _mem call must see one to check.
  return attach(s, hdrlen, flags, mem ?? (null as never), "prefix_attach_mem");
}

/**
 * Ends the PREFIX protocol and returns the underlying bytestream, positioned right after the
 * last message received: nothing is read ahead, nothing is lost. PREFIX has no closing
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
export function prefix_detach(s: number): number {
  const fn = "prefix_detach";
  const p = handleQuery(s, PREFIX_TYPE, fn, "s") as PrefixSock;
  if (p.sending || p.receiving) throw dillError("EBUSY", fn, "s", "a coroutine is sending or receiving on this socket");
  handleRelease(s, fn);
  if (p.inerr || p.outerr) {
    p.close();
    throw dillError("ECONNRESET", fn, "s", "an earlier send or receive failed: the stream was closed");
  }
  const u = p.u;
  p.u = -1;
  p.ub = null;
  prefixStorages.release(p.home);
  return u;
}
