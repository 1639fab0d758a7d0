/**
 * Descriptor passing on IPC connections: `ipc_sendfd` and `ipc_recvfd` (SCM_RIGHTS), in order
 * with the bytes of the stream, as libdill has them.
 *
 * How it fits under a `node:net` socket. Node reads a Unix socket with read(2), which discards
 * (and closes) any descriptor that comes with the bytes, and it reads ahead whenever the socket is
 * readable. So a descriptor can only be caught if Node never reads the socket: when the native
 * part is present, every IPC connection is read by a {@link FdReader} instead, from the moment
 * the connection takes the socket over (before Node has read a byte: accepted sockets start
 * paused, a connecting one is taken at 'connect', before its first read). The reader stops
 * Node's reading for good (the libuv handle's readStop, and a no-op `_read` so that the stream
 * never starts it again), has the descriptor polled in the native part's own epoll instance
 * (which leaves libuv's watcher for Node's writes alone), and reads with recvmsg(2). Bytes go to the connection exactly as Node's 'data' events did, so receiving,
 * backpressure (the reader follows the connection's pause and resume), end-of-stream and errors
 * behave as before; writing stays Node's.
 *
 * Where the descriptors go. The kernel ends a read right after the bytes that carry descriptors,
 * so a descriptor belongs to the last byte of the read it came with: the one marker byte that
 * `ipc_sendfd` sends (libdill's peer sends the same). The reader counts the bytes it handed to
 * the connection; the position of the next byte a receive will take is that count less what is
 * still queued. `ipc_recvfd` takes one byte: if a descriptor sits at its position it is returned;
 * otherwise (a data byte) the call fails with `EPROTO` and receiving is over, as in libdill. A
 * descriptor whose marker was received as data by `brecv` is closed (libdill's reads drop it
 * too). While `ipc_recvfd` waits, the reader reads one byte at a time, so it is the first byte
 * of the peer's next message that carries the descriptor, whatever the peer's message size.
 *
 * Sending: `bsend` returns only once Node wrote every byte to the kernel, so when no coroutine is
 * sending, the kernel has everything sent before; `ipc_sendfd` then calls sendmsg(2) itself,
 * waiting for room on the duplicate descriptor when the socket buffer is full.
 *
 * A connection made while the native part is absent is read by Node as any other, and the two
 * calls fail with `ENOTSUP` saying why.
 */
import type { Socket } from "node:net";
import { checkDeadline } from "../handles/args.js";
import { dillError, type ErrnoCode, quickError } from "../handles/errors.js";
import type { IoList } from "../handles/bytestream.js";
import { BLOCK, type Op } from "../handles/op.js";
import { handleQuery } from "../handles/table.js";
import type { IpcSocket, Unbranded } from "../handles/types.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, expired, flush, park, suspended, wake, wakeWithError } from "../runtime/sched.js";
import { type Native, native, nativeOrNull, READABLE, WRITABLE } from "../fd/native.js";
import { ensurePolling, type FdListener, nativeCode, unwatchFd, watchFd } from "../fd/poll.js";
import type { StreamState } from "../stream/state.js";
import { HIGH_WATER, LOW_WATER } from "../stream/receive.js";
import { IPC_FAMILY, IPC_TYPE, type IpcConn } from "./socket.js";

/** The reader of a socket, set while it reads it. */
const READER = Symbol("tsdill.fdreader");

/** What Node's socket has inside that the reader touches: its libuv handle. */
interface PipeHandle {
  fd?: number;
  reading?: boolean;
  readStop?(): number;
}
type NodeSocket = Socket & {
  _handle: PipeHandle | null;
  _read: (n: number) => void;
  _destroy: (err: Error | null, cb: (err: Error | null) => void) => void;
  [READER]?: FdReader | null;
};

/** One read's worth of bytes, reused by every reader; and the descriptor slot of the native recv. */
const CHUNK = 64 * 1024;
const rbuf = Buffer.allocUnsafeSlow(CHUNK);
const one = rbuf.subarray(0, 1);
const fdOut = new Int32Array(1);

/** The native part, once the first IPC connection asked for it (null: absent, or not asked yet). */
let nat: Native | null = null;

/** A one-byte receive target, for taking a marker byte out of the inbound queue. */
const oneIol: IoList = { iol_base: new Uint8Array(1), iol_len: 1, iol_next: null, iol_rsvd: 0 };

/** The reader's state bits. */
const STOPPED = 1;
/** The end of the stream or an error was read: nothing more to read. */
const ENDED = 2;
/** Reading waits for the connection's resume. */
const READ_STOPPED = 4;
/** The socket has no descriptor of its own: the calls cannot work on it. */
const NO_FD = 8;

/**
 * What only descriptor passing needs (received descriptors, the coroutines in the calls): made at
 * the first descriptor or call, so that a connection that passes none carries only its reader.
 */
class Passing {
  /** Descriptors received and not yet taken: their stream positions and numbers, in order. */
  readonly posq: number[] = [];
  readonly fdq: number[] = [];
  /** The coroutine in ipc_recvfd (it is also the connection's receiver) and in ipc_sendfd. */
  recvCr: CrBase | null = null;
  sendCr: CrBase | null = null;
  sendFd = -1;
}

/**
 * The reader of one IPC socket (see the comment at the top of this file). It is made for every
 * connection, since a descriptor that Node read would be lost, so it holds no more than reading
 * needs, and no closure: the socket's own `_read` (a no-op: Node never reads it) and `_destroy`
 * (which stops the reader before Node closes the descriptor) are functions shared by all.
 */
export class FdReader implements FdListener {
  /** The socket's descriptor, once the reader has taken it over; -1 before and once stopped. */
  fd = -1;
  /** Bytes handed to the connection so far (those queued at take-over counted first). */
  delivered = 0;
  /** The events polled for. */
  mask = 0;
  flags = 0;
  /** Descriptor passing's state, once needed. */
  pass: Passing | null = null;

  constructor(
    readonly conn: IpcConn,
    readonly sock: NodeSocket,
  ) {}

  /** Descriptor passing's state, made when first needed. */
  passing(): Passing {
    return (this.pass ??= new Passing());
  }

  /** Take reading over from Node (the socket is connected and nothing has been read yet). */
  start(): void {
    if (this.fd >= 0 || (this.flags & (STOPPED | NO_FD)) !== 0) return;
    const h = this.sock._handle;
    if (h === null || typeof h.fd !== "number" || h.fd < 0) {
      this.flags |= NO_FD;
      return;
    }
    this.fd = h.fd;
    if (h.reading === true && h.readStop !== undefined) {
      h.reading = false;
      h.readStop();
    }
    this.delivered = this.conn.queued() + this.sock.readableLength;
    this.rearm();
  }

  /** Why the calls cannot work on this socket, or "". */
  why(): string {
    return (this.flags & NO_FD) !== 0 ? "the connection has no socket descriptor of its own" : "";
  }

  /** The next stream position a receive takes. */
  next(): number {
    return this.delivered - this.conn.queued() - this.sock.readableLength;
  }

  /** Poll for what is wanted now: reading unless the connection is paused, writing for ipc_sendfd. */
  rearm(): void {
    if (this.fd < 0) return;
    const p = this.pass;
    const mask =
      ((this.flags & (READ_STOPPED | ENDED)) !== 0 ? 0 : READABLE) | (p !== null && p.sendCr !== null ? WRITABLE : 0);
    if (mask === this.mask) return;
    const rc = watchFd(nat!, this.fd, mask, this);
    if (rc === 0) this.mask = mask;
    else this.fail(nativeCode(rc));
  }

  fdReady(events: number, status: number): void {
    if (this.fd < 0) return;
    if (this.conn.sock !== this.sock) {
      // The connection let go of the socket (Node finishes writing before it destroys it): what
      // arrives now is no longer anybody's.
      this.stop();
      return;
    }
    if (status < 0) {
      this.fail(nativeCode(status));
      return;
    }
    const p = this.pass;
    if ((events & WRITABLE) !== 0 && p !== null && p.sendCr !== null) this.trySend(p);
    if ((events & READABLE) !== 0 && this.fd >= 0) this.read();
  }

  private read(): void {
    const conn = this.conn;
    if (conn.paused && conn.queued() >= HIGH_WATER + CHUNK) {
      // Node's stream buffered one more read past the connection's pause: so does the reader.
      this.flags |= READ_STOPPED;
      this.sock.on("resume", onResume);
      this.rearm();
      return;
    }
    if (this.sock.readableLength > 0) return; // Node's bytes from before the take-over flow first
    const p = this.pass;
    const cr = p !== null ? p.recvCr : null;
    const n = nat!.recv(this.fd, cr !== null ? one : rbuf, fdOut);
    if (n < 0) {
      if (-n !== 11) this.fail(nativeCode(n)); // EAGAIN: another time
      return;
    }
    if (n === 0) {
      this.stopReading();
      conn.end();
      return;
    }
    const got = fdOut[0]!;
    const pos = this.delivered;
    this.delivered += n;
    if (cr !== null) {
      // ipc_recvfd is waiting (so nothing was queued): this one byte is what it takes.
      p!.recvCr = null;
      conn.rx = null;
      if (got >= 0) {
        wake(cr, got);
      } else {
        conn.inerr = true;
        wakeWithError(
          cr,
          dillError("EPROTO", "ipc_recvfd", undefined, "the next byte of the stream came without a descriptor"),
        );
      }
      flush();
      return;
    }
    if (got >= 0) {
      const q = this.passing();
      q.posq.push(pos + n - 1);
      q.fdq.push(got);
    }
    conn.dataRead(rbuf, n);
    if (this.pass !== null) this.dropPassed();
  }

  /** Close the descriptors whose markers were received as data. */
  dropPassed(): void {
    const p = this.pass;
    if (p === null) return;
    const next = this.next();
    while (p.posq.length > 0 && p.posq[0]! < next) {
      p.posq.shift();
      nat!.close(p.fdq.shift()!);
    }
  }

  /** The connection resumed reading (the socket's 'resume'). */
  resumed(): void {
    this.flags &= ~READ_STOPPED;
    this.sock.removeListener("resume", onResume);
    this.rearm();
  }

  /** A read or poll failed: the connection hears of it as of a socket error. */
  private fail(code: ErrnoCode): void {
    this.stopReading();
    if (this.conn.sock === this.sock) this.conn.error(Object.assign(new Error(`recvmsg: ${code}`), { code }));
  }

  private stopReading(): void {
    this.flags |= ENDED;
    this.rearm();
  }

  trySend(p: Passing): void {
    const cr = p.sendCr!;
    const rc = nat!.sendFd(this.fd, p.sendFd);
    if (rc === -11) return;
    p.sendCr = null;
    this.conn.tx = null;
    this.rearm();
    if (rc > 0) wake(cr, undefined);
    else wakeWithError(cr, this.sendError(rc, p.sendFd));
    flush();
  }

  /** The error of a failed sendmsg: a bad descriptor to pass, or the connection failed. */
  sendError(rc: number, fd: number): Error {
    const code = nativeCode(rc);
    if (code === "EBADF") return dillError("EBADF", "ipc_sendfd", "fd", `fd ${fd} is not an open descriptor`);
    this.conn.outerr = true;
    return quickError(code === "EPIPE" ? "ECONNRESET" : code, "ipc_sendfd");
  }

  /** The socket is being destroyed: stop polling it (before Node closes it), close the untaken descriptors. */
  stop(): void {
    if ((this.flags & STOPPED) !== 0) return;
    this.flags |= STOPPED;
    const sock = this.sock;
    sock.removeListener("resume", onResume);
    sock.removeListener("connect", onConnect);
    if (this.fd >= 0) {
      unwatchFd(this.fd);
      this.fd = -1;
    }
    const p = this.pass;
    if (p !== null) {
      for (const fd of p.fdq) nat!.close(fd);
      p.posq.length = p.fdq.length = 0;
    }
    sock[READER] = null;
  }
}

/** The socket's listeners of the reader: shared by all of them (Node calls them with the socket as `this`). */
function onResume(this: NodeSocket): void {
  this[READER]?.resumed();
}
function onConnect(this: NodeSocket): void {
  this.removeListener("connect", onConnect);
  this[READER]?.start();
}

function noRead(): void {}

/** Node's own `_destroy` of a socket the reader took over, in the socket's prototype. */
function readerDestroy(this: NodeSocket, err: Error | null, cb: (err: Error | null) => void): void {
  this[READER]?.stop();
  (Object.getPrototypeOf(this) as NodeSocket)._destroy.call(this, err, cb);
}

/**
 * The take-over, at every IPC socket a connection attaches (see socket.ts). The native part is
 * loaded, and its poller started, at the first one.
 */
function attached(conn: IpcConn, s: Socket, connecting: boolean): void {
  if (s.destroyed) return;
  if (nat === null) {
    const n = nativeOrNull();
    if (n === null || ensurePolling(n) !== 0) return;
    nat = n;
  }
  const sock = s as NodeSocket;
  const r = new FdReader(conn, sock);
  sock[READER] = r;
  sock._read = noRead;
  sock._destroy = readerDestroy;
  if (connecting) sock.on("connect", onConnect);
  else r.start();
}
IPC_FAMILY.attached = attached as (c: StreamState, sock: Socket, connecting: boolean) => void;

/** The connection behind `s` and its reader, for `fn`; ENOTSUP saying why when there is none. */
function readerOf(s: number, fn: string): [IpcConn, FdReader] {
  const c = handleQuery(s, IPC_TYPE, fn, "s") as IpcConn;
  native(fn);
  const r = c.sock === null ? undefined : (c.sock as NodeSocket)[READER];
  if (r === undefined || r === null) {
    if (c.broken !== null || c.sock === null || c.sock.destroyed) throw quickError(c.broken ?? "ECONNRESET", fn);
    throw dillError("ENOTSUP", fn, "s", "this connection was made before tsdill's native part could read it");
  }
  r.start();
  const why = r.why();
  if (why !== "") throw dillError("ENOTSUP", fn, "s", why);
  return [c, r];
}

function unblockRecvFd(cr: CrBase): void {
  const r = cr.waitObj as FdReader;
  const p = r.pass;
  if (p === null || p.recvCr !== cr) return;
  p.recvCr = null;
  if (r.conn.rx === cr) r.conn.rx = null;
}

function unblockSendFd(cr: CrBase): void {
  const r = cr.waitObj as FdReader;
  const p = r.pass;
  if (p === null || p.sendCr !== cr) return;
  p.sendCr = null;
  if (r.conn.tx === cr) r.conn.tx = null;
  r.rearm();
}

/**
 * Sends a file descriptor over an IPC connection (libdill's `ipc_sendfd`): the peer gets a
 * descriptor for the same open file (socket, pipe, file) from `ipc_recvfd`. It travels with one
 * byte of the stream, in order with what `bsend` sends before and after. `fd` stays open here:
 * close it when this side no longer needs it.
 *
 * Needs tsdill's native part; without it the call fails with `ENOTSUP` saying why.
 *
 * @param s an IPC connection handle.
 * @param fd the OS file descriptor to pass.
 * @param deadline absolute time in ms (`-1` never, `0` only if there is room now).
 * @throws `EBADF` (bad handle, or `fd` not open), `ENOTSUP` (not an IPC connection, or no native
 * part), `EINVAL` (`fd` negative or not an integer, bad deadline), `EBUSY` (another coroutine is
 * sending on `s`), `EPIPE` (`ipc_done` was called), `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * yield* ipc_sendfd(s, fd, -1);
 * closeSync(fd);
 * ```
 */
export function* ipc_sendfd(s: IpcSocket | Unbranded, fd: number, deadline: number): Op<void> {
  const fn = "ipc_sendfd";
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  const [c, r] = readerOf(s, fn);
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff)
    throw dillError("EINVAL", fn, "fd", `fd must be a file descriptor (a non-negative integer), got ${String(fd)}`);
  checkDeadline(fn, deadline);
  if (c.tx !== null) throw dillError("EBUSY", fn, "s", "another coroutine is already sending on this socket");
  if (c.outdone) throw quickError("EPIPE", fn);
  if (c.outerr) throw quickError("ECONNRESET", fn);
  if (c.broken !== null || c.sock!.destroyed) {
    c.outerr = true;
    throw quickError(c.broken ?? "ECONNRESET", fn);
  }
  if (c.drainFirst(cr, fn, deadline)) {
    yield BLOCK; // the bytes sent before the descriptor reach the kernel first
    if (c.outerr || c.sock === null || c.sock.destroyed) throw quickError(c.broken ?? "ECONNRESET", fn);
  }
  const rc = nat!.sendFd(r.fd, fd);
  if (rc > 0) return;
  if (rc !== -11) throw r.sendError(rc, fd);
  if (expired(deadline)) throw quickError("ETIMEDOUT", fn);
  const p = r.passing();
  c.tx = cr;
  p.sendFd = fd;
  p.sendCr = cr;
  r.rearm();
  park(cr, fn, deadline, unblockSendFd, r);
  yield BLOCK;
}

/**
 * Receives a file descriptor sent with `ipc_sendfd` (libdill's `ipc_recvfd`): it takes the one
 * byte of the stream the descriptor travels with, so call it where the peer's `ipc_sendfd` sits
 * among its sends. The descriptor is new in this process (close-on-exec): close it when done.
 *
 * If the next byte of the stream came without a descriptor, the call fails with `EPROTO` and the
 * connection can no longer receive (`ECONNRESET` afterwards), as in libdill.
 *
 * Needs tsdill's native part; without it the call fails with `ENOTSUP` saying why.
 *
 * @param s an IPC connection handle.
 * @param deadline absolute time in ms (`-1` never, `0` only if it has arrived).
 * @returns the received OS file descriptor.
 * @throws `EBADF`, `ENOTSUP` (not an IPC connection, or no native part), `EINVAL` (deadline),
 * `EBUSY` (another coroutine is receiving on `s`), `EPROTO` (no descriptor came), `EPIPE` (the
 * peer closed its sending half), `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const fd = yield* ipc_recvfd(s, -1);
 * const conn = ipc_fromfd(fd);
 * ```
 */
export function* ipc_recvfd(s: IpcSocket | Unbranded, deadline: number): Op<number> {
  const fn = "ipc_recvfd";
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  const [c, r] = readerOf(s, fn);
  checkDeadline(fn, deadline);
  if (c.rx !== null) throw dillError("EBUSY", fn, "s", "another coroutine is already receiving on this socket");
  if (c.indone) throw quickError("EPIPE", fn);
  if (c.inerr) throw quickError("ECONNRESET", fn);
  r.dropPassed();
  const q = c.rxq;
  if (q.bytes > 0 || c.sock!.readableLength > 0) {
    const at = r.next();
    const p = r.pass;
    if (q.count > 0 && p !== null && p.posq.length > 0 && p.posq[0] === at) {
      // The marker byte is the next one queued: take it out of the queue with its descriptor.
      q.target(oneIol);
      q.take();
      q.untarget();
      oneIol.iol_base![0] = 0;
      p.posq.shift();
      if (c.paused && q.bytes < LOW_WATER) {
        c.paused = false;
        c.sock!.resume();
      }
      return p.fdq.shift()!;
    }
    c.inerr = true;
    throw dillError("EPROTO", fn, undefined, "the next byte of the stream came without a descriptor");
  }
  if (c.eof) {
    c.indone = true;
    throw quickError("EPIPE", fn);
  }
  if (c.broken !== null) {
    c.inerr = true;
    throw quickError(c.broken, fn);
  }
  if (expired(deadline)) throw quickError("ETIMEDOUT", fn);
  c.rx = cr;
  r.passing().recvCr = cr;
  r.rearm();
  park(cr, fn, deadline, unblockRecvFd, r);
  return (yield BLOCK) as number;
}
