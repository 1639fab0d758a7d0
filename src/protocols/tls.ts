/**
 * TLS, after libdill's tls.c: a bytestream protocol that attaches to any bytestream handle (an IPC
 * or TCP connection, one end of `ipc_pair`, a user's `hmake` bytestream, another protocol) and is
 * a bytestream itself, so `bsend`, `brecv`, `bsendl` and `brecvl` work on it. `tls_detach` ends
 * TLS with its closing handshake and gives the underlying handle back, with nothing read past the
 * end of TLS: the bytes that follow on the stream are the caller's.
 *
 * ## Design
 *
 * The cryptography is Node's (`tls.TLSSocket`, OpenSSL), driven from coroutines the way libdill
 * drives OpenSSL through a BIO that calls `bsend`/`brecv` on the underlying socket: every byte
 * moves on the underlying handle inside a tsdill call of the coroutine that needs it, with that
 * call's deadline and cancellation. Node's engine sits on a Duplex, {@link TlsBridge}
 * (tlsbridge.ts), that does no I/O: the engine's ciphertext lands in this socket's outbound queue,
 * and ciphertext read by a coroutine is pushed into it.
 *
 * - **Receiving** (`brecv`): decrypted bytes wait in a queue of the chunks the engine produced.
 *   A receive takes what it needs from there; while that is not enough it hands the engine one
 *   TLS record (the 5-byte header and the length it announces), which the engine decrypts before
 *   `receive` returns. Records come from a read buffer: over a bytestream that can take bytes back
 *   (`unrecv`: IPC, TCP, `ipc_pair`) one read brings what has arrived, usually several records,
 *   and `tls_detach` hands back what was read past the peer's close_notify; over any other, each
 *   read is exactly the header, then the body. Either way `tls_detach` leaves the stream right
 *   after the close_notify, and decrypting only on demand is the backpressure: at most one
 *   record's worth of plaintext is ever queued, and a reader that stops reading stops the peer.
 * - **Sending** (`bsend`): the caller's bytes are written to the engine, which encrypts them
 *   before `write` returns (the engine is idle between calls); the ciphertext comes straight from
 *   the engine's stream wrapper (tlsbridge.ts), is sent on the underlying handle by the same
 *   coroutine, and the call returns when the engine reports the write complete (completed in a
 *   microtask once sent: no turn of the event loop per write). The caller's buffer
 *   is never referenced after the call returns, and a slow peer blocks the sender, not memory.
 * - **Flushing**: whoever holds the outbound queue sends it, in order, one coroutine at a time.
 *   A receive can make ciphertext too (a TLS 1.3 key update, an alert); it sends it itself unless
 *   a sender is already sending, which then sends it as well.
 * - **Waiting on the engine**: when Node defers something (the first record, before the bridge
 *   flows; a write's completion), the coroutine parks on this socket with its deadline, and the
 *   bridge's callbacks wake it. Each call is one generator; the listeners are bound once per
 *   storage or are module functions; no Promise, no closure per operation.
 * - **Errors**, as in libdill: a failure of the underlying handle passes through with its errno
 *   (`EPIPE` at its end of stream, `ECONNRESET`, `ETIMEDOUT`, `ECANCELED`); whatever OpenSSL refuses
 *   (a bad record, an alert from the peer, a failed handshake) is `EFAULT`, with OpenSSL's words in
 *   the message. After any failure the direction is over (`ECONNRESET` from then on), and
 *   `tls_detach` fails. A socket closed while a call was parked wakes it with `EBADF`; the call
 *   then touches nothing, since the storage may already serve another connection (`epoch`).
 */
import { checkDeadline } from "../handles/args.js";
import { BSOCK_TYPE, type Bytestream, type IoList } from "../handles/bytestream.js";
import { DillError, dillError, isDillError, quickError } from "../handles/errors.js";
import { hclose, hown } from "../handles/handle.js";
import { BLOCK, guardOps, type Op } from "../handles/op.js";
import { FreeList, Storage, checkMem, claim } from "../handles/pool.js";
import { type HandleVfs, handleGet, handleMake, handleQuery, handleRelease } from "../handles/table.js";
import type { Bsock, TlsSocket, Unbranded } from "../handles/types.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, expired, flush as runReady, interrupt, park, suspended, wake } from "../runtime/sched.js";
import { TlsBridge, TlsEngine, type TlsPeer } from "./tlsbridge.js";
import { canReadAhead } from "./layer.js";
import { clientContext, serverContext } from "./tlscontext.js";
import type { SecureContext } from "node:tls";

/**
 * Interface id a TLS socket answers in `hquery` (besides `BSOCK_TYPE`): what `tls_done` and
 * `tls_detach` ask a handle for.
 *
 * @example
 * ```ts
 * const isTls = (h: number) => {
 *   try {
 *     hquery(h, TLS_TYPE);
 *     return true;
 *   } catch {
 *     return false;
 *   }
 * };
 * ```
 */
export const TLS_TYPE: unique symbol = Symbol("tls");

/** A record header: content type, version, length. */
const HEADER = 5;
/** The longest record body TLS allows (2^14 bytes of plaintext plus 2048 of expansion, TLS 1.2). */
const MAX_BODY = 16384 + 2048;
/** How much one read may bring beyond the record being completed, when the underlying handle can take bytes back. */
const READ_AHEAD = 64 * 1024;

/** Unblock hooks: a wait on the engine that ends by deadline or cancellation just leaves its slot. */
function unblockRx(cr: CrBase): void {
  const s = cr.waitObj as TlsSock;
  if (s.rxWait === cr) s.rxWait = null;
}
function unblockTx(cr: CrBase): void {
  const s = cr.waitObj as TlsSock;
  if (s.txWait === cr) s.txWait = null;
}

/**
 * `e` under the name of the public call `fn`, when it came from a call on the underlying handle,
 * keeping what it said (cancellations and timeouts, which say nothing more, stay stackless).
 */
function relabel(e: unknown, fn: string): unknown {
  if (!isDillError(e) || e.syscall === fn) return e;
  if (e.code === "ECANCELED" || e.code === "ETIMEDOUT") return quickError(e.code, fn);
  const head = `${e.syscall}: ${e.code}: `;
  return new DillError(e.code, fn, e.message.startsWith(head) ? e.message.slice(head.length) : e.message);
}

/** The TLS socket behind a handle (libdill's `struct dill_tls_sock`), living in a {@link TlsStorage}. */
class TlsSock implements HandleVfs, Bytestream, TlsPeer {
  readonly kind = "tls";
  /** The underlying bytestream (its handle is ours since the attach), or -1. */
  u = -1;
  /** Bumped when the socket is closed: a call resumed after that sees it and touches nothing. */
  epoch = 0;
  engine: TlsEngine | null = null;
  bridge: TlsBridge | null = null;
  /** As in libdill: sending resp. receiving is over, done (`EPIPE`) or failed (`ECONNRESET`). */
  outdone = false;
  indone = false;
  outerr = false;
  inerr = false;
  /** The handshake is complete. */
  secure = false;
  /** The peer's close_notify was decrypted: no more bytes will come. */
  peerDone = false;
  /** The engine finished its closing handshake (its close_notify was handed to the queue). */
  shut = false;
  /** What the engine failed with, if it did. */
  failure: Error | null = null;
  /** Decrypted bytes not received yet: chunks, the first one read from `rqOff`. */
  private rq: Buffer[] = [];
  private rqHead = 0;
  private rqOff = 0;
  /** Decrypted bytes are dropped (tls_detach waiting for the close_notify). */
  private discarding = false;
  /** The receive target: the element being filled and how far. */
  private tIt: IoList | null = null;
  private tOff = 0;
  /** Ciphertext to send on the underlying handle, the engine's callbacks for it, and spares. */
  private wq: Buffer[] = [];
  private wcb: ((err?: Error | null) => void)[] = [];
  private wqSpare: Buffer[] = [];
  private wcbSpare: ((err?: Error | null) => void)[] = [];
  /** A coroutine is sending the queue. */
  private flushing = false;
  /** The elements of the iolist a flush sends, reused. */
  private readonly iols: IoList[] = [];
  /** The one-element iolist of the reads on the underlying handle, reused. */
  private readonly rio: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };
  /** The underlying handle's bytestream interface. */
  private ub: Bytestream | null = null;
  /** Ciphertext read from the underlying handle, not yet given to the engine: `rpos` to `rend` of `rb`. */
  private rb: Uint8Array | null = null;
  private rpos = 0;
  private rend = 0;
  /** The underlying handle lets TLS read ahead (it takes bytes back at `tls_detach`). */
  private ahead = false;
  /** A record pushed into the bridge that the engine has not taken in yet. */
  private pending = false;
  /** The coroutines inside a receive and a send (or tls_done), for `EBUSY`. */
  rx: CrBase | null = null;
  tx: CrBase | null = null;
  /** The same coroutines while parked on the engine (not on the underlying handle). */
  rxWait: CrBase | null = null;
  txWait: CrBase | null = null;
  /** The Buffer view of the caller's bytes given to the engine last, reused for the same buffer. */
  private txBase: Uint8Array | null = null;
  private txLen = -1;
  private txView: Buffer | null = null;
  /** The engine's write callback: the write is complete, so a parked sender may return. */
  readonly onWritten = (): void => this.poke();

  constructor(private readonly home: TlsStorage) {}

  query(type: symbol): unknown {
    return type === BSOCK_TYPE || type === TLS_TYPE ? this : undefined;
  }

  // ---- life cycle ------------------------------------------------------------------------------
  /** Take over the underlying handle `u` and start a TLS engine on it. */
  open(u: number, b: Bytestream, context: SecureContext, server: boolean): void {
    this.u = u;
    this.ub = b;
    this.ahead = canReadAhead(b);
    this.rpos = this.rend = 0;
    this.outdone = this.indone = this.outerr = this.inerr = false;
    this.secure = this.peerDone = this.shut = this.discarding = this.pending = this.flushing = false;
    this.failure = null;
    const bridge = new TlsBridge(this);
    this.bridge = bridge;
    // A client's engine writes its ClientHello at once, through `cipher`.
    this.engine = new TlsEngine(bridge, this, context, server);
  }

  /** hclose: drop TLS and the underlying handle at once, no handshake. Parked calls fail with `EBADF`. */
  close(): void {
    this.epoch++;
    const r = this.rxWait;
    const t = this.txWait;
    this.rxWait = this.txWait = null;
    if (r !== null) interrupt(r, quickError("EBADF", r.waitOp));
    if (t !== null) interrupt(t, quickError("EBADF", t.waitOp));
    this.release();
    const u = this.u;
    this.u = -1;
    // Closing the underlying handle fails the calls parked on it with EBADF.
    if (u >= 0) {
      try {
        hclose(u);
      } catch {
        // Already gone: nothing to free.
      }
    }
    this.home.sockClosed();
  }

  /** Free what TLS holds (the engine, the queues); the underlying handle is left alone. */
  private release(): void {
    const e = this.engine;
    if (e !== null) e.discard();
    this.engine = null;
    this.bridge = null;
    this.pending = false;
    this.rpos = this.rend = 0;
    this.rq.length = 0;
    this.rqHead = this.rqOff = 0;
    this.wq.length = 0;
    this.wcb.length = 0;
    this.flushing = false;
    this.rx = this.tx = null;
    this.tIt = null;
    this.txBase = this.txView = null;
    this.txLen = -1;
    for (const it of this.iols) it.iol_base = null;
    this.rio.iol_base = null;
    this.ub = null;
  }

  // ---- reports of the engine (TlsPeer) ------------------------------------------------------------
  cipher(chunk: Buffer, done: (err?: Error | null) => void): void {
    this.wq.push(chunk);
    this.wcb.push(done);
    this.poke();
  }

  ciphers(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    for (const c of chunks) this.wq.push(c.chunk);
    this.wcb.push(done);
    this.poke();
  }

  cipherList(chunks: Buffer[], done: (err?: Error | null) => void): void {
    for (let i = 0; i < chunks.length; i++) this.wq.push(chunks[i]!);
    this.wcb.push(done);
    this.poke();
  }

  finalled(): void {
    this.shut = true;
    this.poke();
  }

  progressed(): void {
    this.poke();
  }

  consumed(): void {
    this.pending = false;
    this.poke();
  }

  clear(chunk: Buffer | null): void {
    if (chunk === null) this.peerDone = true;
    else if (!this.discarding && chunk.length > 0) this.rq.push(chunk);
    this.poke();
  }

  secured(): void {
    this.secure = true;
    this.poke();
  }

  failed(err: Error): void {
    if (this.failure === null) this.failure = err;
    this.poke();
  }

  /** Wake the coroutines parked on the engine; they look again at what they wait for. */
  private poke(): void {
    const r = this.rxWait;
    const t = this.txWait;
    if (r === null && t === null) return;
    this.rxWait = this.txWait = null;
    if (r !== null) wake(r, undefined);
    if (t !== null) wake(t, undefined);
    runReady();
  }

  /** Park `cr` until the engine reports something (see {@link poke}), or the deadline. */
  private *waitEngine(cr: CrBase, deadline: number, fn: string, recv: boolean): Op<void> {
    if (expired(deadline)) throw quickError("ETIMEDOUT", fn);
    if (recv) this.rxWait = cr;
    else this.txWait = cr;
    park(cr, fn, deadline, recv ? unblockRx : unblockTx, this);
    yield BLOCK;
  }

  /** `EFAULT` for the engine's failure, with OpenSSL's reason. */
  private fault(fn: string): Error {
    const f = this.failure!;
    const code = (f as NodeJS.ErrnoException).code;
    return dillError("EFAULT", fn, undefined, `TLS failed: ${f.message.trim()}${code ? ` (${code})` : ""}`);
  }

  /** canBlock, counting a cancellation as a failure of the direction, as libdill does. */
  private enter(fn: string, recv: boolean): CrBase | null {
    try {
      return canBlock(fn);
    } catch (e) {
      if (recv) this.inerr = true;
      else this.outerr = true;
      throw e;
    }
  }

  // ---- the outbound queue ----------------------------------------------------------------------
  /**
   * Send the queued ciphertext on the underlying handle, then tell the engine it is out. Ciphertext
   * the engine writes meanwhile is sent too. A failure ends sending: the TLS stream is cut.
   */
  private *flush(deadline: number, fn: string): Op<void> {
    const epoch = this.epoch;
    this.flushing = true;
    try {
      while (this.wq.length > 0) {
        const chunks = this.wq;
        const cbs = this.wcb;
        this.wq = this.wqSpare;
        this.wcb = this.wcbSpare;
        const first = this.list(chunks);
        const last = this.iols[chunks.length - 1]!;
        const b = this.ub!;
        if (b.startSend !== undefined) {
          const r = b.startSend(first, last, deadline, fn);
          if (!r.done) yield r.value;
        } else {
          yield* b.bsendl(first, last, deadline, fn);
        }
        if (this.epoch !== epoch) throw quickError("EBADF", fn);
        chunks.length = 0;
        this.wqSpare = chunks;
        for (let i = 0; i < cbs.length; i++) cbs[i]!(null);
        cbs.length = 0;
        this.wcbSpare = cbs;
      }
    } catch (e) {
      if (this.epoch === epoch) this.outerr = true;
      throw e;
    } finally {
      if (this.epoch === epoch) {
        this.flushing = false;
        this.poke();
      }
    }
  }

  /** The reused iolist over `chunks`; its last element is `iols[chunks.length - 1]`. */
  private list(chunks: Buffer[]): IoList {
    const iols = this.iols;
    while (iols.length < chunks.length) iols.push({ iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 });
    for (let i = 0; i < chunks.length; i++) {
      const it = iols[i]!;
      it.iol_base = chunks[i]!;
      it.iol_len = chunks[i]!.length;
      it.iol_next = i + 1 < chunks.length ? iols[i + 1]! : null;
    }
    return iols[0]!;
  }

  /** Wait until the engine has nothing left to write and the queue is sent; with `shut`, until its closing handshake is out. */
  private *settle(cr: CrBase, deadline: number, fn: string, shut: boolean): Op<void> {
    const epoch = this.epoch;
    for (;;) {
      if (this.failure !== null) throw this.fault(fn);
      if (this.wq.length > 0 && !this.flushing) {
        yield* this.flush(deadline, fn);
        continue;
      }
      const e = this.engine!;
      if (!this.flushing && this.wq.length === 0 && (shut ? this.shut && !e.writing : e.writableLength === 0)) return;
      yield* this.waitEngine(cr, deadline, fn, false);
      if (this.epoch !== epoch) throw quickError("EBADF", fn);
    }
  }

  // ---- the inbound side -------------------------------------------------------------------------
  /**
   * Read one record from the underlying handle and push it into the engine. A header that is not
   * one of a TLS record is pushed alone: the engine rejects it (and makes the alert for the peer).
   */
  private *readRecord(cr: CrBase, deadline: number, fn: string): Op<void> {
    const epoch = this.epoch;
    yield* this.want(HEADER, deadline, fn);
    let rb = this.rb!;
    let p = this.rpos;
    const len = (rb[p + 3]! << 8) | rb[p + 4]!;
    let n = HEADER;
    // Not a TLS record (content types 20 to 24, protocol major version 3), or longer than TLS
    // allows: only the header goes to the engine, which rejects it at once.
    const type = rb[p]!;
    const valid = len <= MAX_BODY && type >= 20 && type <= 24 && rb[p + 1] === 3;
    if (valid) {
      if (len > 0) yield* this.want(HEADER + len, deadline, fn);
      n += len;
      rb = this.rb!;
      p = this.rpos;
    }
    const rec = new Uint8Array(rb.buffer, rb.byteOffset + p, n);
    this.rpos = p + n;
    if (!valid && len > 0 && this.failure === null)
      this.failure = new Error(
        `the peer sent something that is not a TLS record (header ${Buffer.from(rec).toString("hex")})`,
      );
    this.pending = true;
    if (this.engine!.input(rec)) this.pending = false;
    if (this.pending) {
      // The bridge is not flowing yet (a new engine): Node takes the record in on a later tick.
      while (this.pending && this.failure === null) {
        yield* this.waitEngine(cr, deadline, fn, true);
        if (this.epoch !== epoch) throw quickError("EBADF", fn);
      }
    }
  }

  /**
   * Make sure `k` bytes (at most one record) wait in the read buffer from `rpos`. Over a
   * bytestream that can take bytes back (`unrecv`) it reads what is there, up to the buffer's
   * room, so that one read brings several records; what is read past the end of TLS is handed
   * back at `tls_detach`. Over any other it reads exactly the bytes missing.
   */
  private *want(k: number, deadline: number, fn: string): Op<void> {
    const epoch = this.epoch;
    const rb = (this.rb ??= new Uint8Array(READ_AHEAD + HEADER + MAX_BODY));
    if (this.rpos === this.rend) this.rpos = this.rend = 0;
    while (this.rend - this.rpos < k) {
      if (this.rpos + k > rb.length) {
        rb.copyWithin(0, this.rpos, this.rend);
        this.rend -= this.rpos;
        this.rpos = 0;
      }
      const b = this.ub!;
      const at = this.rend;
      if (this.ahead) {
        const room = rb.length - at;
        const v = new Uint8Array(rb.buffer, rb.byteOffset + at, room);
        let got: number;
        if (b.startRecvSome !== undefined) {
          const r = b.startRecvSome(v, room, deadline, fn);
          got = r.done ? r.value : ((yield r.value) as number);
        } else got = yield* b.brecvsome!(v, room, deadline, fn);
        if (this.epoch !== epoch) throw quickError("EBADF", fn);
        this.rend = at + got;
      } else {
        const need = k - (at - this.rpos);
        const io = this.rio;
        io.iol_base = new Uint8Array(rb.buffer, rb.byteOffset + at, need);
        io.iol_len = need;
        try {
          if (b.startRecv !== undefined) {
            const r = b.startRecv(io, io, deadline, fn);
            if (!r.done) yield r.value;
          } else yield* b.brecvl(io, io, deadline, fn);
        } finally {
          io.iol_base = null;
        }
        if (this.epoch !== epoch) throw quickError("EBADF", fn);
        this.rend = at + need;
      }
    }
  }

  /** Copy queued plaintext into the receive target; true when the target is full. */
  private fill(): boolean {
    let it = this.tIt;
    let off = this.tOff;
    const rq = this.rq;
    while (it !== null) {
      if (off === it.iol_len) {
        it = it.iol_next;
        off = 0;
        continue;
      }
      if (this.rqHead === rq.length) break;
      const chunk = rq[this.rqHead]!;
      const n = Math.min(it.iol_len - off, chunk.length - this.rqOff);
      const base = it.iol_base;
      if (base !== null) chunk.copy(base, off, this.rqOff, this.rqOff + n);
      off += n;
      this.rqOff += n;
      if (this.rqOff === chunk.length) {
        rq[this.rqHead++] = undefined as unknown as Buffer;
        this.rqOff = 0;
        if (this.rqHead === rq.length) {
          rq.length = 0;
          this.rqHead = 0;
        }
      }
    }
    this.tIt = it;
    this.tOff = off;
    return it === null;
  }

  // ---- the bytestream interface ------------------------------------------------------------------
  bsendl(first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    return this.send(first, last, deadline, fn);
  }

  brecvl(first: IoList, _last: IoList, deadline: number, fn: string): Op<void> {
    return this.recv(first, deadline, fn);
  }

  private *send(first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    const cr = this.enter(fn, false);
    if (cr === null) return yield* suspended();
    if (this.tx !== null) throw dillError("EBUSY", fn, "s", "another coroutine is already sending on this socket");
    if (this.outdone) throw quickError("EPIPE", fn);
    if (this.outerr) throw quickError("ECONNRESET", fn);
    if (this.failure !== null) {
      this.outerr = true;
      throw this.fault(fn);
    }
    const epoch = this.epoch;
    this.tx = cr;
    try {
      const e = this.engine!;
      if (first === last) {
        if (first.iol_len > 0) e.write(this.view(first.iol_base!, first.iol_len), this.onWritten);
      } else {
        e.cork();
        for (let it: IoList | null = first; it !== null; it = it.iol_next) {
          const len = it.iol_len;
          const base = it.iol_base!;
          if (len > 0) e.write(Buffer.from(base.buffer, base.byteOffset, len), this.onWritten);
        }
        e.uncork();
      }
      yield* this.settle(cr, deadline, fn, false);
    } catch (e) {
      if (this.epoch === epoch) this.outerr = true;
      throw relabel(e, fn);
    } finally {
      if (this.epoch === epoch) this.tx = null;
    }
  }

  /** `len` bytes of `base` as a Buffer for the engine; the same view for the same buffer again. */
  private view(base: Uint8Array, len: number): Buffer {
    if (base === this.txBase && len === this.txLen) return this.txView!;
    const v = len === base.length && Buffer.isBuffer(base) ? base : Buffer.from(base.buffer, base.byteOffset, len);
    this.txBase = base;
    this.txLen = len;
    this.txView = v;
    return v;
  }

  private *recv(first: IoList, deadline: number, fn: string): Op<void> {
    const cr = this.enter(fn, true);
    if (cr === null) return yield* suspended();
    if (this.rx !== null) throw dillError("EBUSY", fn, "s", "another coroutine is already receiving on this socket");
    if (this.indone) throw quickError("EPIPE", fn);
    if (this.inerr) throw quickError("ECONNRESET", fn);
    this.tIt = first;
    this.tOff = 0;
    if (this.fill()) return;
    const epoch = this.epoch;
    this.rx = cr;
    try {
      for (;;) {
        if (this.failure !== null) throw this.fault(fn);
        if (this.peerDone) throw quickError("EPIPE", fn);
        yield* this.readRecord(cr, deadline, fn);
        if (this.wq.length > 0 && !this.flushing) yield* this.flush(deadline, fn);
        if (this.fill()) return;
      }
    } catch (e) {
      if (this.epoch === epoch) {
        if (isDillError(e, "EPIPE")) this.indone = true;
        else this.inerr = true;
      }
      throw relabel(e, fn);
    } finally {
      if (this.epoch === epoch) {
        this.rx = null;
        this.tIt = null;
      }
    }
  }

  // ---- handshakes -----------------------------------------------------------------------------
  /** The opening handshake: exchange records until the engine says it is secure. */
  *handshake(cr: CrBase, deadline: number, fn: string): Op<void> {
    for (;;) {
      if (this.failure !== null) {
        // Let the peer know why (the engine wrote an alert), then fail.
        if (this.wq.length > 0) {
          try {
            yield* this.flush(deadline, fn);
          } catch {
            // The peer will not hear it: the failure to report is the engine's.
          }
        }
        throw this.fault(fn);
      }
      if (this.wq.length > 0) {
        yield* this.flush(deadline, fn);
        continue;
      }
      if (this.secure) return;
      yield* this.readRecord(cr, deadline, fn);
    }
  }

  /** tls_done: the engine sends its close_notify; the call returns once it is out. */
  *done(cr: CrBase, deadline: number, fn: string): Op<void> {
    if (this.tx !== null) throw dillError("EBUSY", fn, "s", "another coroutine is sending on this socket");
    if (this.outerr) throw quickError("ECONNRESET", fn);
    if (this.outdone) throw dillError("EPIPE", fn, "s", "tls_done was already called on this socket");
    const epoch = this.epoch;
    this.tx = cr;
    try {
      if (this.failure !== null) throw this.fault(fn);
      this.engine!.end();
      yield* this.settle(cr, deadline, fn, true);
      this.outdone = true;
    } catch (e) {
      if (this.epoch === epoch) this.outerr = true;
      throw relabel(e, fn);
    } finally {
      if (this.epoch === epoch) this.tx = null;
    }
  }

  /**
   * tls_detach, once the handle is released: finish the closing handshake both ways, then give
   * the underlying handle back. Plaintext that arrives before the peer's close_notify is dropped.
   * On any failure the socket and the underlying handle are closed.
   */
  *detach(cr: CrBase, deadline: number, fn: string): Op<number> {
    try {
      if (this.inerr || this.outerr) throw quickError("ECONNRESET", fn);
      if (!this.outdone) yield* this.done(cr, deadline, fn);
      if (!this.indone && !this.peerDone) {
        this.discarding = true;
        this.rq.length = 0;
        this.rqHead = this.rqOff = 0;
        while (!this.peerDone) {
          if (this.failure !== null) throw this.fault(fn);
          yield* this.readRecord(cr, deadline, fn);
          if (this.wq.length > 0) yield* this.flush(deadline, fn);
        }
      }
    } catch (e) {
      this.close();
      throw relabel(e, fn);
    }
    // What was read past the peer's close_notify goes back to the underlying handle, in front.
    if (this.rend > this.rpos) {
      const rb = this.rb!;
      this.ub!.unrecv!(new Uint8Array(rb.buffer, rb.byteOffset + this.rpos, this.rend - this.rpos));
    }
    const u = this.u;
    this.u = -1;
    this.close();
    return u;
  }
}

/**
 * Storage for one TLS socket (libdill's `struct tls_storage`), for `tls_attach_client_mem` and
 * `tls_attach_server_mem`. It is in use from a successful attach until the TLS handle is closed
 * or detached, and free again after a failed attach.
 *
 * @example
 * ```ts
 * const mem = new TlsStorage();
 * const s = yield* tls_attach_client_mem(u, mem, now() + 5000);
 * const raw = yield* tls_detach(s, now() + 5000); // mem can be used again
 * ```
 */
export class TlsStorage extends Storage {
  /** The TLS socket living in this storage. */
  readonly sock: TlsSock = new TlsSock(this);
  /** Called by the socket when it is closed or detached: the storage is free again. */
  sockClosed(): void {
    storages.release(this);
  }
}

const storages = new FreeList<TlsStorage>(() => new TlsStorage());
/** The `mem` argument of the plain attaches, never looked at. */
const NO_MEM = null as unknown as TlsStorage;

function checkPath(fn: string, arg: string, path: unknown): void {
  if (typeof path !== "string") throw dillError("EINVAL", fn, arg, `${arg} must be a file path (a string)`);
  if (path.includes("\0")) throw dillError("EINVAL", fn, arg, `${arg} must not contain a NUL byte`);
}

/** Close `h`, whatever it is; it may be gone already. */
function closeQuietly(h: number): void {
  try {
    handleRelease(h, "hclose").close();
  } catch (e) {
    if (!isDillError(e, "EBADF")) throw e;
  }
}

/**
 * Every attach, as libdill's: `s` is taken over whatever happens. An `s` that is no handle at all
 * is `EBADF`, and nothing is closed; any other failure (a bad argument, a handle that is no
 * bytestream, files that cannot be used, the pool used up, the handshake) closes `s`. On success
 * `s` has moved to a new number (as `hown` moves it), known only to the TLS socket.
 */
function* attach(
  fn: string,
  s: number,
  useMem: boolean,
  mem: TlsStorage,
  server: boolean,
  cert: string,
  pkey: string,
  deadline: number,
): Op<number> {
  const vfs = handleGet(s, fn, "s");
  let cr: CrBase;
  let b: Bytestream;
  let context: SecureContext;
  let store: TlsStorage;
  try {
    if (useMem) checkMem(fn, mem, TlsStorage);
    if (server) {
      checkPath(fn, "cert", cert);
      checkPath(fn, "pkey", pkey);
    }
    checkDeadline(fn, deadline);
    const entered = canBlock(fn);
    if (entered === null) {
      // A coroutine that ignores its cancellation is being stopped: the handle is taken over and closed.
      closeQuietly(s);
      return yield* suspended();
    }
    cr = entered;
    const q = vfs.query(BSOCK_TYPE);
    if (q === undefined || q === null)
      throw dillError("EPROTO", fn, "s", `handle ${s} (${vfs.kind ?? "user"}) is not a bytestream`);
    b = q as Bytestream;
    context = server ? serverContext(fn, cert, pkey) : clientContext();
    store = useMem ? claim(mem, TlsStorage, fn) : storages.take(fn);
  } catch (e) {
    closeQuietly(s);
    throw e;
  }
  let u: number;
  try {
    u = hown(s); // closes s when it fails
  } catch (e) {
    storages.release(store);
    throw e;
  }
  const sock = store.sock;
  try {
    sock.open(u, b, context, server);
    yield* sock.handshake(cr, deadline, fn);
    return handleMake(sock, fn);
  } catch (e) {
    sock.close();
    throw relabel(e, fn);
  }
}

/**
 * Starts TLS as the server on the bytestream `s`: the handshake with the client runs now, and the
 * returned handle is a bytestream whose bytes are encrypted on `s`. The server presents the
 * certificate in the PEM file `cert` with the private key in the PEM file `pkey`. From a
 * successful call on, `s` belongs to the TLS socket (its number is no longer valid);
 * {@link tls_detach} gives it back.
 *
 * The call takes `s` over whatever happens, as libdill's attaches do: when it fails, `s` is closed
 * (unless it was not a handle at all, `EBADF`).
 *
 * @param s a bytestream handle (an IPC or TCP connection, one end of `ipc_pair`, another protocol).
 * @param cert path of the certificate file (PEM; the chain may follow the certificate).
 * @param pkey path of the private key file (PEM, not encrypted).
 * @param deadline absolute time in ms on the `now()` clock for the whole handshake; `-1` never.
 * @returns the TLS socket's handle.
 * @throws `EBADF` (`s` is not a handle), `EPROTO` (`s` is not a bytestream), `EINVAL` (bad
 * `cert`, `pkey` or deadline), `EFAULT` (a file cannot be read, is not PEM, or the key does not
 * belong to the certificate; or the handshake failed: OpenSSL's reason is in the message),
 * `EPIPE` (the peer closed the stream during the handshake), `ECONNRESET`, `ENOMEM` (the pool is
 * used up), `EMFILE`, `ETIMEDOUT`, `ECANCELED`.
 *
 * @example
 * ```ts
 * const c = yield* tcp_accept(ls, null, -1);
 * const s = yield* tls_attach_server(c, "cert.pem", "key.pem", now() + 5000);
 * yield* bsend(s, "hello", 5, -1);
 * ```
 */
export function* tls_attach_server<U extends Bsock | Unbranded = Unbranded>(
  s: U,
  cert: string,
  pkey: string,
  deadline: number,
): Op<TlsSocket<U>> {
  return (yield* attach("tls_attach_server", s, false, NO_MEM, true, cert, pkey, deadline)) as TlsSocket<U>;
}

/**
 * {@link tls_attach_server} with the TLS socket in `mem`, a {@link TlsStorage} the caller made:
 * nothing is taken from the pool. `mem` is in use until the TLS handle is closed or detached.
 *
 * @throws as `tls_attach_server`; `EINVAL` when `mem` is not a `TlsStorage`, `EBUSY` when it is
 * in use.
 *
 * @example
 * ```ts
 * const mem = new TlsStorage();
 * const s = yield* tls_attach_server_mem(c, "cert.pem", "key.pem", mem, now() + 5000);
 * ```
 */
export function* tls_attach_server_mem<U extends Bsock | Unbranded = Unbranded>(
  s: U,
  cert: string,
  pkey: string,
  mem: TlsStorage,
  deadline: number,
): Op<TlsSocket<U>> {
  return (yield* attach("tls_attach_server_mem", s, true, mem, true, cert, pkey, deadline)) as TlsSocket<U>;
}

/**
 * Starts TLS as the client on the bytestream `s`: the handshake with the server runs now. As in
 * libdill, the client does not verify the server's certificate: the connection is encrypted, not
 * authenticated. `s` is taken over as with {@link tls_attach_server}.
 *
 * @param s a bytestream handle.
 * @param deadline absolute time in ms for the whole handshake; `-1` never.
 * @returns the TLS socket's handle.
 * @throws `EBADF`, `EPROTO` (`s` is not a bytestream), `EINVAL` (bad deadline), `EFAULT` (the
 * handshake failed; OpenSSL's reason is in the message), `EPIPE`, `ECONNRESET`, `ENOMEM`,
 * `EMFILE`, `ETIMEDOUT`, `ECANCELED`.
 *
 * @example
 * ```ts
 * const c = yield* tcp_connect(addr, -1);
 * const s = yield* tls_attach_client(c, now() + 5000);
 * yield* bsend(s, "ABC", 3, -1);
 * ```
 */
export function* tls_attach_client<U extends Bsock | Unbranded = Unbranded>(s: U, deadline: number): Op<TlsSocket<U>> {
  return (yield* attach("tls_attach_client", s, false, NO_MEM, false, "", "", deadline)) as TlsSocket<U>;
}

/**
 * {@link tls_attach_client} with the TLS socket in `mem`, a {@link TlsStorage} the caller made.
 *
 * @throws as `tls_attach_client`; `EINVAL` when `mem` is not a `TlsStorage`, `EBUSY` when it is in use.
 *
 * @example
 * ```ts
 * const mem = new TlsStorage();
 * const s = yield* tls_attach_client_mem(c, mem, now() + 5000);
 * ```
 */
export function* tls_attach_client_mem<U extends Bsock | Unbranded = Unbranded>(
  s: U,
  mem: TlsStorage,
  deadline: number,
): Op<TlsSocket<U>> {
  return (yield* attach("tls_attach_client_mem", s, true, mem, false, "", "", deadline)) as TlsSocket<U>;
}

/**
 * Closes the sending half of TLS: sends the close_notify alert and returns once it is out. The
 * peer receives everything sent before, then its `brecv` fails with `EPIPE`. Receiving goes on.
 * The underlying handle is not shut down.
 *
 * @param s a TLS socket.
 * @param deadline absolute time in ms; `-1` never, `0` only if it can be done without waiting.
 * @throws `EBADF`, `ENOTSUP` (`s` is not a TLS socket), `EINVAL` (bad deadline), `EPIPE`
 * (`tls_done` was called already), `ECONNRESET` (sending failed before), `EBUSY` (a coroutine is
 * sending on `s`), `EFAULT`, `ETIMEDOUT`, `ECANCELED`.
 *
 * @example
 * ```ts
 * yield* bsend(s, request, request.length, -1);
 * yield* tls_done(s, now() + 1000); // the server reads to EPIPE, then answers
 * yield* brecv(s, answer, answer.length, now() + 1000);
 * ```
 */
export function* tls_done(s: TlsSocket | Unbranded, deadline: number): Op<void> {
  const fn = "tls_done";
  const sock = handleQuery(s, TLS_TYPE, fn, "s") as TlsSock;
  checkDeadline(fn, deadline);
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  yield* sock.done(cr, deadline, fn);
}

/**
 * Ends TLS in an orderly way and gives the underlying handle back: sends the close_notify alert
 * (unless `tls_done` did), reads up to the peer's close_notify (dropping plaintext that comes
 * before it), and returns the underlying handle. Nothing past the peer's close_notify has been
 * read: the bytes that follow on the stream are received on the returned handle. The TLS handle
 * is closed whatever happens; on failure the underlying handle is closed too (as in libdill), except
 * for bad arguments and `EBUSY`, which change nothing.
 *
 * @param s a TLS socket.
 * @param deadline absolute time in ms for both halves of the closing handshake; `-1` never.
 * @returns the underlying handle, the one TLS was attached to (under a new number, as `hown` gives).
 * @throws `EBADF`, `ENOTSUP` (`s` is not a TLS socket), `EINVAL` (bad deadline), `EBUSY`
 * (another coroutine is sending or receiving on `s`), `ECONNRESET` (a send or receive failed
 * before, or the stream broke), `EPIPE` (the stream ended before the peer's close_notify),
 * `EFAULT`, `ETIMEDOUT`, `ECANCELED`.
 *
 * @example
 * ```ts
 * const u = yield* tls_detach(s, now() + 1000);
 * yield* bsend(u, "plain again", 11, -1);
 * ```
 */
export function* tls_detach<U = number>(s: TlsSocket<U> | Unbranded, deadline: number): Op<U> {
  const fn = "tls_detach";
  const sock = handleQuery(s, TLS_TYPE, fn, "s") as TlsSock;
  checkDeadline(fn, deadline);
  if (sock.rx !== null || sock.tx !== null)
    throw dillError("EBUSY", fn, "s", "another coroutine is sending or receiving on this socket");
  handleRelease(s, fn);
  let cr: CrBase | null;
  try {
    cr = canBlock(fn);
  } catch (e) {
    sock.close();
    throw e;
  }
  if (cr === null) {
    // A coroutine that ignores its cancellation is being stopped: nothing is handed back.
    sock.close();
    return (yield* suspended()) as U;
  }
  return (yield* sock.detach(cr, deadline, fn)) as U;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined)
  guardOps({
    tls_attach_server,
    tls_attach_server_mem,
    tls_attach_client,
    tls_attach_client_mem,
    tls_done,
    tls_detach,
  });
