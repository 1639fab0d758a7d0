/**
 * The receive side of a stream connection. Inbound bytes arrive in Node's 'data' events. When a
 * coroutine is parked in a receive they go straight into its buffers; otherwise they wait in the
 * connection's {@link Inbound} queue. Above {@link HIGH_WATER} queued bytes the socket is paused
 * (the kernel buffers fill and the peer's sends block), below {@link LOW_WATER} it is resumed.
 * Exactly one coroutine may be parked receiving.
 *
 * State changes are made on the waking side, before a coroutine is resumed: the code of a
 * blocking call does not touch the connection after its coroutine wakes, so a connection closed
 * (and its storage reused) in between is never written to by a stale call.
 */
import { type IoList, startedOp } from "../handles/bytestream.js";
import { dillError, type ErrnoCode, quickError } from "../handles/errors.js";
import { BLOCK, finished, type Op, parked } from "../handles/op.js";
import type { CrBase } from "../runtime/cr.js";
import { expired, flush, park, wake, wakeWithError } from "../runtime/sched.js";
import { StreamState } from "./state.js";

/** Queued inbound bytes above which the socket stops reading. */
export const HIGH_WATER = 256 * 1024;
/** Queued inbound bytes below which a paused socket reads again. */
export const LOW_WATER = 64 * 1024;

/** Unblock hook of a receive: a wait that ends by deadline or cancellation fails the direction. */
function unblockRecv(cr: CrBase): void {
  const c = cr.waitObj as StreamState;
  if (c.rx !== cr) return;
  c.rx = null;
  c.dropTarget();
  c.inerr = true;
}

/** The receiving half of {@link StreamConn}: 'data' and 'end', the queue, the receive calls. */
export abstract class StreamReceiver extends StreamState {
  /** The send side's half of the bytestream interface (send.ts). */
  abstract bsendl(first: IoList, last: IoList, deadline: number, fn: string): Op<void>;

  /** Bytes that arrived: the socket's data event. */
  data(chunk: Buffer): void {
    this.arrived(chunk, chunk.length, false);
  }

  /**
   * `n` bytes that IPC's own reader (ipc/reader.ts) read into `buf`, a buffer it reuses: they go
   * straight into the parked receiver's buffers, and only what it does not take is copied.
   */
  dataRead(buf: Buffer, n: number): void {
    this.arrived(buf, n, true);
  }

  private arrived(chunk: Buffer, end: number, reused: boolean): void {
    let off = 0;
    if (this.rx !== null) {
      const q = this.rxq;
      off = q.fill(chunk, 0, end);
      if ((q.iol === null || this.some) && !q.discard) {
        const cr = this.rx;
        this.rx = null;
        if (off < end) this.push(chunk, off, end, reused);
        if (this.some) {
          this.dropTarget();
          wake(cr, off);
        } else {
          wake(cr, undefined);
        }
        flush();
        return;
      }
      if (off === end) return;
    }
    this.push(chunk, off, end, reused);
  }

  /** The peer's end of stream: the socket's end event, or IPC's own reader. */
  end(): void {
    this.eof = true;
    const cr = this.rx;
    if (cr === null) return;
    this.rx = null;
    const drop = this.rxq.discard;
    this.dropTarget();
    if (drop) {
      wake(cr, undefined);
    } else {
      this.indone = true;
      wakeWithError(cr, quickError("EPIPE", cr.waitOp));
    }
    flush();
  }

  // ---- the inbound queue ---------------------------------------------------------------------------
  /** Queue `chunk[off..end]`; a `reused` chunk is copied. */
  private push(chunk: Buffer, off: number, end: number, reused: boolean): void {
    const q = this.rxq;
    if (reused) {
      const copy = Buffer.allocUnsafe(end - off);
      copy.set(off === 0 && end === chunk.length ? chunk : chunk.subarray(off, end));
      q.push(copy, 0);
    } else {
      q.push(chunk, off);
    }
    if (q.bytes >= HIGH_WATER && !this.paused && this.sock !== null) {
      this.paused = true;
      this.sock.pause();
    }
  }

  /** Move queued bytes into the receive target; read again once the queue is short enough. */
  private takeQueued(): void {
    const q = this.rxq;
    q.take();
    if (this.paused && q.bytes < LOW_WATER && this.sock !== null) {
      this.paused = false;
      this.sock.resume();
    }
  }

  // ---- the bytestream interface: receiving -------------------------------------------------------
  brecvl(first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    return startedOp(this, true, first, last, deadline, fn);
  }

  /** Start a receive: complete it from the queue, fail it, or park `cr` on it. */
  startRecv(first: IoList, _last: IoList, deadline: number, fn: string): IteratorResult<unknown, void> {
    const cr = this.enter(fn, true);
    if (cr === null) return parked();
    if (this.rx !== null) throw dillError("EBUSY", fn, "s", "another coroutine is already receiving on this socket");
    if (this.indone) throw quickError("EPIPE", fn);
    if (this.inerr) throw quickError("ECONNRESET", fn);
    const q = this.rxq;
    q.target(first);
    if (q.count > 0) this.takeQueued();
    if (q.done()) return finished(undefined);
    const code = this.recvFailure(deadline);
    if (code !== null) {
      q.untarget();
      throw quickError(code, fn);
    }
    this.rx = cr;
    this.some = false;
    park(cr, fn, deadline, unblockRecv, this);
    return parked();
  }

  /**
   * Why a receive that found too little queued must fail now, or null if it may wait: the peer
   * finished sending (`EPIPE`), the socket broke, or the deadline has passed. Marks the receiving
   * direction done or failed, as libdill does.
   */
  private recvFailure(deadline: number): ErrnoCode | null {
    if (this.eof) {
      this.indone = true;
      return "EPIPE";
    }
    if (this.broken !== null) {
      this.inerr = true;
      return this.broken;
    }
    if (expired(deadline)) {
      this.inerr = true;
      return "ETIMEDOUT";
    }
    return null;
  }

  /**
   * Start an ipc_recv_some: take up to `len` bytes of what is queued, or park `cr` until some
   * arrive (it is then resumed with their count). Fails as a receive does.
   */
  startRecvSome(buf: Uint8Array, len: number, deadline: number, fn: string): IteratorResult<unknown, number> {
    const cr = this.enter(fn, true);
    if (cr === null) return parked();
    if (this.rx !== null) throw dillError("EBUSY", fn, "s", "another coroutine is already receiving on this socket");
    if (this.indone) throw quickError("EPIPE", fn);
    if (this.inerr) throw quickError("ECONNRESET", fn);
    if (len === 0) return finished(0);
    const q = this.rxq;
    const t = (this.rare.someIol ??= { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 });
    t.iol_base = buf;
    t.iol_len = len;
    q.target(t);
    if (q.count > 0) {
      const before = q.bytes;
      this.takeQueued();
      const n = before - q.bytes;
      if (n > 0) {
        q.untarget();
        t.iol_base = null;
        return finished(n);
      }
    }
    const code = this.recvFailure(deadline);
    if (code !== null) {
      q.untarget();
      t.iol_base = null;
      throw quickError(code, fn);
    }
    this.rx = cr;
    this.some = true;
    park(cr, fn, deadline, unblockRecv, this);
    return parked();
  }

  /**
   * Put `bytes` (copied) back in front of the inbound queue, for a protocol that read ahead and is
   * detached: the next receive gets them first, even after the peer's end-of-stream.
   */
  unrecv(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.rx !== null) throw dillError("EBUSY", "unrecv", "s", "a coroutine is receiving on this socket");
    this.rxq.unshift(Buffer.from(bytes));
    this.indone = false;
  }

  /** ipc_close's and tcp_close's second half: read and drop inbound bytes until the peer's end-of-stream. */
  *drainToEnd(cr: CrBase, deadline: number, fn: string): Op<void> {
    if (this.indone && this.eof) return;
    if (this.inerr) throw quickError("ECONNRESET", fn);
    const q = this.rxq;
    q.dropAll();
    this.some = false;
    if (q.count > 0) this.takeQueued();
    let code: ErrnoCode | null = null;
    if (this.eof) {
      q.untarget();
      return;
    }
    if (this.broken !== null) code = this.broken;
    else if (expired(deadline)) code = "ETIMEDOUT";
    if (code !== null) {
      q.untarget();
      throw quickError(code, fn);
    }
    this.rx = cr;
    park(cr, fn, deadline, unblockRecv, this);
    yield BLOCK;
  }
}
