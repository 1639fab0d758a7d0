/**
 * The stream connection: one `node:net` socket behind a handle, with libdill's bytestream semantics.
 * Both socket families use it: IPC (Unix-domain) and TCP connections differ only in their
 * {@link StreamFamily} (the interface id they answer, their kind, TCP_NODELAY) and in the address
 * they connect to, so there is one class and every connection object has the same shape.
 *
 * Inbound bytes arrive in Node's 'data' events. When a coroutine is parked in a receive they go
 * straight into its buffers; otherwise they wait in a per-connection queue. Above
 * {@link HIGH_WATER} queued bytes the socket is paused (the kernel buffers fill and the peer's
 * sends block), below {@link LOW_WATER} it is resumed. A send hands the bytes to Node and returns
 * when Node has written all of them to the kernel; until then its coroutine is parked (the
 * caller's buffer is still in use by Node).
 *
 * Exactly one coroutine may be parked receiving and one sending. Listeners are installed once
 * per socket and bound once per connection object, so the hot path makes no closure and no
 * Promise. Wake-ups happen in socket callbacks: wake/wakeWithError, then flush() runs the
 * coroutines at once.
 *
 * State changes are made on the waking side, before a coroutine is resumed: the code of a
 * blocking call does not touch the connection after its coroutine wakes, so a connection closed
 * (and its storage reused) in between is never written to by a stale call.
 */
import { createConnection, type NetConnectOpts, type Socket } from "node:net";
import { BSOCK_TYPE, type Bytestream, type IoList, startedOp } from "../handles/bytestream.js";
import { dillError, type ErrnoCode, quickError } from "../handles/errors.js";
import { BLOCK, finished, type Op, parked } from "../handles/op.js";
import { type HandleVfs, handleMake } from "../handles/table.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, expired, flush, interrupt, park, wake, wakeWithError } from "../runtime/sched.js";
import { connCode, fromNode, nodeCode } from "./errno.js";
import { Inbound } from "./inbound.js";

/** Interface id an IPC connection handle answers in `hquery` (besides `BSOCK_TYPE`). */
export const IPC_TYPE: unique symbol = Symbol("ipc");

/**
 * What distinguishes one socket family's connections: the interface id its handles answer in
 * `hquery` (besides `BSOCK_TYPE`), its kind for `dill_stats`, its calls' prefix for messages,
 * and whether Nagle's algorithm is turned off (TCP_NODELAY, as libdill does for TCP).
 */
export interface StreamFamily {
  readonly type: symbol;
  readonly kind: string;
  readonly prefix: string;
  readonly noDelay: boolean;
}

/** The IPC family: Unix-domain stream sockets. */
export const IPC_FAMILY: StreamFamily = { type: IPC_TYPE, kind: "ipc", prefix: "ipc", noDelay: false };

/** Queued inbound bytes above which the socket stops reading. */
export const HIGH_WATER = 256 * 1024;
/** Queued inbound bytes below which a paused socket reads again. */
export const LOW_WATER = 64 * 1024;

/**
 * Told of every socket an IPC connection takes over, before any byte is read from it: the
 * descriptor-passing calls (ipc/fdpass.ts) set it to read the socket themselves.
 */
export const ipcSocketHook: { attached: ((c: IpcConn, sock: Socket, connecting: boolean) => void) | null } = {
  attached: null,
};

/** Where a connection goes when its handle is closed (its storage: single, or half of a pair). */
export interface ConnHome {
  connClosed(c: IpcConn): void;
}

function ignore(): void {}

/** The empty write whose callback says that everything written before it is out. */
const EMPTY = Buffer.alloc(0);

/** Unblock hook of a receive: a wait that ends by deadline or cancellation fails the direction. */
function unblockRecv(cr: CrBase): void {
  const c = cr.waitObj as IpcConn;
  if (c.rx !== cr) return;
  c.rx = null;
  c.dropTarget();
  c.inerr = true;
}

/** Unblock hook of a send (or of ipc_connect's wait): a wait that ends early fails sending. */
function unblockSend(cr: CrBase): void {
  const c = cr.waitObj as IpcConn;
  if (c.tx !== cr) return;
  c.tx = null;
  if (c.connecting) c.detach();
  else c.abortSend();
}

/** A connection behind a handle: a Node socket with libdill's bytestream semantics (see above). */
export class IpcConn implements HandleVfs, Bytestream {
  readonly kind: string;
  sock: Socket | null = null;
  /** Sending resp. receiving is over: done (EPIPE) or failed (ECONNRESET), as in libdill. */
  outdone = false;
  indone = false;
  outerr = false;
  inerr = false;
  /** The peer's end-of-stream arrived. */
  eof = false;
  /** The socket failed or was closed under us: the errno for calls that need it. */
  broken: ErrnoCode | null = null;
  /** Waiting for 'connect' (ipc_connect, tcp_connect); `dest` and `retries` serve EAGAIN retries. */
  connecting = false;
  dest: NetConnectOpts | null = null;
  retries = 0;
  retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Parked receiver; its target and the queue of what arrived meanwhile. */
  rx: CrBase | null = null;
  readonly rxq = new Inbound();
  /** Parked sender (or the coroutine in ipc_connect). */
  tx: CrBase | null = null;
  /** The Buffer view given to Node for the last send, kept for a caller that reuses its buffer. */
  txBase: Uint8Array | null = null;
  txLen = -1;
  txView: Buffer | null = null;
  /** Reading is paused: too many bytes queued. */
  paused = false;
  /** The parked receive is an ipc_recv_some: it completes with the first bytes that arrive. */
  some = false;
  /** The one-element target of ipc_recv_some, reused. */
  private readonly someIol: IoList = { iol_base: null, iol_len: 0, iol_next: null, iol_rsvd: 0 };

  readonly onData = (chunk: Buffer): void => this.data(chunk);
  readonly onEnd = (): void => this.end();
  readonly onError = (e: Error): void => this.error(e);
  readonly onClose = (): void => this.closed();
  readonly onConnect = (): void => this.connected();
  readonly onWritten = (err?: Error | null): void => this.written(err);
  readonly onRetry = (): void => this.retry();

  constructor(
    readonly home: ConnHome,
    readonly family: StreamFamily = IPC_FAMILY,
  ) {
    this.kind = family.kind;
  }

  query(type: symbol): unknown {
    return type === BSOCK_TYPE || type === this.family.type ? this : undefined;
  }

  // ---- life cycle ------------------------------------------------------------------------------
  /** Take over `sock` (connected, or `connecting` for ipc_connect) with fresh state. */
  attach(sock: Socket, connecting: boolean): void {
    this.sock = sock;
    this.outdone = this.indone = this.outerr = this.inerr = this.eof = false;
    this.broken = null;
    this.connecting = connecting;
    this.paused = false;
    sock.on("data", this.onData);
    sock.on("end", this.onEnd);
    sock.on("error", this.onError);
    sock.on("close", this.onClose);
    if (this.family.noDelay) sock.setNoDelay(true);
    if (connecting) sock.on("connect", this.onConnect);
    else if (sock.destroyed)
      this.broken = "ECONNRESET"; // it failed before it was handed over
    else sock.resume();
    if (ipcSocketHook.attached !== null && this.family === IPC_FAMILY) ipcSocketHook.attached(this, sock, connecting);
  }

  /**
   * Take over a connected `sock` and put this connection behind a new handle. When no handle can
   * be made (`EMFILE`) the socket is closed at once, so nothing is left open.
   */
  adopt(sock: Socket, fn: string): number {
    this.attach(sock, false);
    return this.publish(fn);
  }

  /** Put this (attached) connection behind a new handle, or close it when that fails. */
  publish(fn: string): number {
    try {
      return handleMake(this, fn);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /**
   * Start connecting to `dest`: a socket file's path (ipc_connect) or `node:net` connect options
   * (tcp_connect). The caller parks as `tx` until 'connect'.
   */
  connectTo(dest: string | NetConnectOpts): void {
    this.dest = typeof dest === "string" ? { path: dest, allowHalfOpen: true } : dest;
    this.retries = 0;
    this.attach(createConnection(this.dest), true);
  }

  /** Drop the socket at once: listeners off, destroyed, queue emptied. */
  detach(): void {
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.drop();
    this.rxq.clear();
    this.connecting = false;
    this.txBase = this.txView = null;
    this.txLen = -1;
  }

  /** Destroy the socket after taking our listeners off it (a late 'error' is ignored). */
  private drop(): void {
    const sock = this.sock;
    if (sock === null) return;
    this.sock = null;
    sock.removeListener("data", this.onData);
    sock.removeListener("end", this.onEnd);
    sock.removeListener("error", this.onError);
    sock.removeListener("close", this.onClose);
    sock.removeListener("connect", this.onConnect);
    sock.on("error", ignore);
    sock.destroy();
  }

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

  /** Fail the parked coroutines with `code` (their handle is gone or the socket failed). */
  wakeAll(code: ErrnoCode): void {
    const r = this.rx;
    if (r !== null) {
      this.rx = null;
      this.dropTarget();
      interrupt(r, quickError(code, r.waitOp));
    }
    const t = this.tx;
    if (t !== null) {
      this.tx = null;
      if (!this.connecting) this.abortSend();
      interrupt(t, quickError(code, t.waitOp));
    }
  }

  /** hclose: closes at once, no handshake. A coroutine parked on the handle fails with EBADF. */
  close(): void {
    this.wakeAll("EBADF");
    this.detach();
    this.dest = null;
    this.home.connClosed(this);
  }

  /** Detach the inbound queue from the receiver's buffers, keeping no reference to them. */
  dropTarget(): void {
    this.rxq.untarget();
    this.someIol.iol_base = null;
  }

  // ---- socket events ---------------------------------------------------------------------------
  private data(chunk: Buffer): void {
    let off = 0;
    if (this.rx !== null) {
      const q = this.rxq;
      off = q.fill(chunk, 0);
      if ((q.iol === null || this.some) && !q.discard) {
        const cr = this.rx;
        this.rx = null;
        if (off < chunk.length) this.push(chunk, off);
        if (this.some) {
          this.dropTarget();
          wake(cr, off);
        } else {
          wake(cr, undefined);
        }
        flush();
        return;
      }
      if (off === chunk.length) return;
    }
    this.push(chunk, off);
  }

  private end(): void {
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

  private error(e: Error): void {
    if (this.connecting) {
      this.connectFailed(e);
      return;
    }
    if (this.broken === null) this.broken = connCode(e);
    this.failWaiters();
  }

  private closed(): void {
    if (this.connecting) {
      // Closed before connecting without an 'error' (should not happen): report a refusal.
      this.connectFailed(
        Object.assign(new Error("the connection closed before it was made"), { code: "ECONNREFUSED" }),
      );
      return;
    }
    if (this.broken === null) this.broken = "ECONNRESET";
    this.failWaiters();
  }

  private failWaiters(): void {
    const code = this.broken!;
    const r = this.rx;
    if (r !== null) {
      this.rx = null;
      this.dropTarget();
      this.inerr = true;
      wakeWithError(r, quickError(code, r.waitOp));
    }
    const t = this.tx;
    if (t !== null) {
      this.tx = null;
      this.outerr = true;
      wakeWithError(t, quickError(code, t.waitOp));
    }
    if (r !== null || t !== null) flush();
  }

  private written(err?: Error | null): void {
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

  private connected(): void {
    if (!this.connecting) return;
    this.connecting = false;
    this.sock!.removeListener("connect", this.onConnect);
    const cr = this.tx;
    if (cr !== null) {
      this.tx = null;
      wake(cr, undefined);
      flush();
    }
  }

  private connectFailed(e: Error): void {
    const code = nodeCode(e);
    if (code === "EAGAIN") {
      // The listener's backlog is full. A blocking connect() would wait for room: retry until
      // the deadline of ipc_connect, backing off from 2 ms to 64 ms.
      this.drop();
      this.retryTimer = setTimeout(this.onRetry, 2 << Math.min(5, this.retries++));
      return;
    }
    const cr = this.tx;
    this.connecting = false;
    if (cr === null) return;
    this.tx = null;
    wakeWithError(cr, fromNode(e, cr.waitOp, "ECONNREFUSED", "addr"));
    flush();
  }

  private retry(): void {
    this.retryTimer = null;
    if (!this.connecting || this.tx === null) return;
    this.attach(createConnection(this.dest!), true);
  }

  /**
   * `len` bytes of `base` as a Buffer for Node (which would otherwise wrap a plain Uint8Array in a
   * new Buffer at every write). A caller that sends from the same buffer again gets the same view.
   */
  private view(base: Uint8Array, len: number): Buffer {
    if (base === this.txBase && len === this.txLen) return this.txView!;
    const v = len === base.length && Buffer.isBuffer(base) ? base : Buffer.from(base.buffer, base.byteOffset, len);
    this.txBase = base;
    this.txLen = len;
    this.txView = v;
    return v;
  }

  // ---- the inbound queue ---------------------------------------------------------------------------
  private push(chunk: Buffer, off: number): void {
    const q = this.rxq;
    q.push(chunk, off);
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

  /**
   * canBlock, counting a cancellation as a failure of the direction, as libdill does; null when
   * the call must suspend for good (see canBlock).
   */
  private enter(fn: string, recv: boolean): CrBase | null {
    try {
      return canBlock(fn);
    } catch (e) {
      if (recv) this.inerr = true;
      else this.outerr = true;
      throw e;
    }
  }

  // ---- the bytestream interface ------------------------------------------------------------------
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
    const t = this.someIol;
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
    // No write callback: Node then skips a tick per write that completes at once.
    if (first === last) {
      const len = first.iol_len;
      if (len === 0) return finished(undefined);
      sock.write(this.view(first.iol_base!, len));
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
    sock.write(EMPTY, this.onWritten);
    this.tx = cr;
    park(cr, fn, deadline, unblockSend, this);
    return parked();
  }

  /** ipc_connect's and tcp_connect's wait: start connecting to `dest`, park `cr` until connected or failed. */
  *connectOp(cr: CrBase, dest: string | NetConnectOpts, deadline: number, fn: string): Op<void> {
    this.connectTo(dest);
    this.tx = cr;
    park(cr, fn, deadline, unblockSend, this);
    yield BLOCK;
  }

  // ---- closing -----------------------------------------------------------------------------------
  /** ipc_done, tcp_done: close the sending half. Nothing is pending (a send returns only once written). */
  shutdownWrite(fn: string): void {
    if (this.tx !== null) throw dillError("EBUSY", fn, "s", "another coroutine is sending on this socket");
    if (this.outdone) throw dillError("EPIPE", fn, "s", `${this.family.prefix}_done was already called on this socket`);
    const sock = this.sendable(fn);
    this.outdone = true;
    sock.end();
  }

  /**
   * ipc_close's and tcp_close's handshake, once the handle is released: coroutines parked on the
   * connection fail with EBADF, sending is closed unless it was, inbound bytes are dropped until
   * the peer's end-of-stream. The connection is closed whatever happens.
   */
  *closeOrderly(cr: CrBase, deadline: number, fn: string): Op<void> {
    try {
      this.wakeAll("EBADF");
      if (this.inerr || this.outerr) throw quickError("ECONNRESET", fn);
      if (!this.outdone) this.shutdownWrite(fn);
      yield* this.drainToEnd(cr, deadline, fn);
    } finally {
      this.close();
    }
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
