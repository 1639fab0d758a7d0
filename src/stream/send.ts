/**
 * The send side of a stream connection. A send hands the bytes to Node and returns when Node has
 * written all of them to the kernel; until then its coroutine is parked (the caller's buffer is
 * still in use by Node). Exactly one coroutine may be parked sending. `shutdownWrite` is
 * `ipc_done`/`tcp_done`: nothing is ever pending, so it does not wait.
 */
import type { Socket } from "node:net";
import { type IoList, startedOp } from "../handles/bytestream.js";
import { dillError, quickError } from "../handles/errors.js";
import { finished, type Op, parked } from "../handles/op.js";
import type { CrBase } from "../runtime/cr.js";
import { expired, flush, inTurn, onTurnEnd, park, wake } from "../runtime/sched.js";
import { connCode } from "./errno.js";
import { StreamReceiver } from "./receive.js";

/** The empty write whose callback says that everything written before it is out. */
const EMPTY = Buffer.alloc(0);

/**
 * Sends of at most this many bytes, made while Node holds nothing unwritten for the socket, are
 * copied into the connection's buffer and return at once: the copy is what the kernel's socket
 * buffer would be. Everything copied in one turn of the scheduler goes out in one write (a
 * protocol that sends a header line by line makes one system call, not one per line).
 */
const SMALL = 4096;
/** The size of a coalescing buffer. */
const OUT_SIZE = 16 * 1024;
/** Idle coalescing buffers, shared by all connections: a connection holds one only within a turn. */
const spare: Buffer[] = [];
const SPARE_MAX = 64;
/** Connections with copied bytes to write at the end of the turn. */
const dirty: (StreamSender | null)[] = [];
let flushQueued = false;

/** The end of the turn: write out every connection's copied bytes, in the order they began. */
function flushDirty(): void {
  flushQueued = false;
  if (dirty.length === 0) return;
  for (let i = 0; i < dirty.length; i++) {
    const c = dirty[i]!;
    dirty[i] = null;
    c.flushOut();
  }
  dirty.length = 0;
}
/**
 * A send made by a coroutine goes out when the scheduler's turn ends, with no extra microtask (a
 * ping-pong's reply leaves as soon as the coroutine that made it parks); one made elsewhere (a
 * callback, the body of `run` before its first wait) at the end of the microtask. The hook is
 * set at the first small send, so that a program that sends nothing does not carry it.
 */
let hooked = false;

/** Unblock hook of a send (or of ipc_connect's wait): a wait that ends early fails sending. */
export function unblockSend(cr: CrBase): void {
  const c = cr.waitObj as StreamSender;
  if (c.tx !== cr) return;
  c.tx = null;
  if (c.connecting) c.detach();
  else c.abortSend();
}

/** The sending half of {@link StreamConn}: writes, their completion, and the shutdown of sending. */
export abstract class StreamSender extends StreamReceiver {
  /**
   * A send failed (deadline, cancellation): sending is over. If Node still holds part of the
   * caller's bytes they cannot be taken back, so the socket is destroyed: a buffer the caller
   * reuses is never read later.
   */
  abortSend(): void {
    this.outerr = true;
    const sock = this.sock;
    if (sock !== null && sock.writableLength > 0) {
      if (this.broken === null) this.broken = "ECONNRESET";
      sock.destroy();
    }
  }

  protected written(err?: Error | null): void {
    // Errors are reported by the 'error' event; a callback of a write made on an earlier socket
    // of this object can only say "done", which is then true of the current one as well.
    if (err) return;
    const cr = this.tx;
    if (cr === null || this.connecting) return;
    const sock = this.sock;
    if (sock !== null && sock.writableLength === 0) {
      this.tx = null;
      wake(cr, undefined);
      flush();
    }
  }

  /**
   * For bytes that leave by another way than Node's socket (`ipc_sendfd`'s sendmsg): write out
   * the copied small sends and, if Node still holds bytes, park `cr` until the kernel has them
   * all, so that what was sent before goes first. True if `cr` was parked (the caller yields).
   */
  drainFirst(cr: CrBase, fn: string, deadline: number): boolean {
    if (this.outLen > 0) this.flushOut();
    const sock = this.sock!;
    if (sock.writableLength === 0) return false;
    if (expired(deadline)) {
      this.abortSend();
      throw quickError("ETIMEDOUT", fn);
    }
    sock.write(EMPTY, (this.rare.onWritten ??= (err?: Error | null): void => this.written(err)));
    this.tx = cr;
    park(cr, fn, deadline, unblockSend, this);
    return true;
  }

  /** Write out the copied small sends; the buffer goes back to the spares once the kernel has it all. */
  flushOut(): void {
    const n = this.outLen;
    if (n === 0) return;
    this.outLen = 0;
    const buf = this.outBuf!;
    this.outBuf = null;
    const sock = this.sock;
    if (sock === null || sock.destroyed) return; // the failure is reported by the socket's events
    sock.write(n === buf.length ? buf : buf.subarray(0, n));
    // Node keeps the buffer if the kernel did not take it all.
    if (sock.writableLength === 0 && spare.length < SPARE_MAX) spare.push(buf);
  }

  /** Copy a small send (`total` bytes, the list from `first`) into the coalescing buffer. */
  private copyOut(first: IoList, total: number): void {
    if (this.outLen + total > OUT_SIZE) this.flushOut();
    let buf = this.outBuf;
    if (buf === null) {
      buf = spare.pop() ?? Buffer.allocUnsafeSlow(OUT_SIZE);
      this.outBuf = buf;
    }
    if (this.outLen === 0) {
      if (!hooked) {
        hooked = true;
        onTurnEnd(flushDirty);
      }
      dirty.push(this);
      if (!flushQueued && !inTurn()) {
        flushQueued = true;
        queueMicrotask(flushDirty);
      }
    }
    let off = this.outLen;
    for (let it: IoList | null = first; it !== null; it = it.iol_next) {
      const len = it.iol_len;
      if (len === 0) continue;
      const base = it.iol_base!;
      if (len <= 16) for (let i = 0; i < len; i++) buf[off + i] = base[i]!;
      else buf.set(len === base.length ? base : base.subarray(0, len), off);
      off += len;
    }
    this.outLen = off;
  }

  /**
   * `len` bytes of `base` as a Buffer for Node (which would otherwise wrap a plain Uint8Array in a
   * new Buffer at every write). A caller that sends from the same buffer again gets the same view.
   */
  private view(base: Uint8Array, len: number): Buffer {
    const r = this.rare;
    if (base === r.txBase && len === r.txLen) return r.txView!;
    const v = len === base.length && Buffer.isBuffer(base) ? base : Buffer.from(base.buffer, base.byteOffset, len);
    r.txBase = base;
    r.txLen = len;
    r.txView = v;
    return v;
  }

  /**
   * The socket, when this side may still send: `ECONNRESET` after a failed send, or the errno the
   * socket broke with (which also ends sending).
   */
  private sendable(fn: string): Socket {
    if (this.outerr) throw quickError("ECONNRESET", fn);
    const sock = this.sock!;
    if (this.broken !== null || sock.destroyed) {
      this.outerr = true;
      throw quickError(this.broken ?? "ECONNRESET", fn);
    }
    return sock;
  }

  // ---- the bytestream interface: sending ---------------------------------------------------------
  bsendl(first: IoList, last: IoList, deadline: number, fn: string): Op<void> {
    return startedOp(this, false, first, last, deadline, fn);
  }

  /** Start a send: hand the bytes to Node; done if Node wrote them all at once, else park `cr`. */
  startSend(first: IoList, last: IoList, deadline: number, fn: string): IteratorResult<unknown, void> {
    const cr = this.enter(fn, false);
    if (cr === null) return parked();
    if (this.tx !== null) throw dillError("EBUSY", fn, "s", "another coroutine is already sending on this socket");
    if (this.outdone) throw quickError("EPIPE", fn);
    const sock = this.sendable(fn);
    let total = 0;
    for (let it: IoList | null = first; it !== null && total <= SMALL; it = it.iol_next) total += it.iol_len;
    if (total === 0) return finished(undefined);
    if (total <= SMALL && sock.writableLength === 0) {
      this.copyOut(first, total);
      return finished(undefined);
    }
    if (this.outLen > 0) this.flushOut();
    // No write callback: Node then skips a tick per write that completes at once.
    if (first === last) {
      sock.write(this.view(first.iol_base!, first.iol_len));
    } else {
      sock.cork();
      for (let it: IoList | null = first; it !== null; it = it.iol_next) {
        const len = it.iol_len;
        if (len === 0) continue;
        const base = it.iol_base!;
        sock.write(Buffer.from(base.buffer, base.byteOffset, len));
      }
      sock.uncork();
    }
    if (sock.errored !== null) {
      this.outerr = true;
      throw quickError(connCode(sock.errored), fn);
    }
    if (sock.writableLength === 0) return finished(undefined);
    if (expired(deadline)) {
      this.abortSend();
      throw quickError("ETIMEDOUT", fn);
    }
    // Part of it waits for the kernel: an empty write queued behind it calls back once all is out.
    sock.write(EMPTY, (this.rare.onWritten ??= (err?: Error | null): void => this.written(err)));
    this.tx = cr;
    park(cr, fn, deadline, unblockSend, this);
    return parked();
  }

  /** ipc_done, tcp_done: close the sending half. Nothing is pending (a send returns only once written). */
  shutdownWrite(fn: string): void {
    if (this.tx !== null) throw dillError("EBUSY", fn, "s", "another coroutine is sending on this socket");
    if (this.outdone) throw dillError("EPIPE", fn, "s", `${this.family.prefix}_done was already called on this socket`);
    const sock = this.sendable(fn);
    this.outdone = true;
    if (this.outLen > 0) this.flushOut();
    sock.end();
  }
}
