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
import { BLOCK, guardOps, type Op } from "../handles/op.js";
import { handleQuery } from "../handles/table.js";
import type { IpcSocket, Unbranded } from "../handles/types.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, expired, flush, park, suspended, wake, wakeWithError } from "../runtime/sched.js";
import { type Native, native, nativeOrNull, READABLE, WRITABLE } from "../fd/native.js";
import { type FdListener, nativeCode, startPolling, unwatchFd, watchFd } from "../fd/poll.js";
import type { StreamState } from "../stream/state.js";
import { HIGH_WATER, LOW_WATER } from "../stream/receive.js";
import { IPC_FAMILY, IPC_TYPE, type IpcConn } from "./socket.js";

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
};

/** One read's worth of bytes, reused; and the descriptor slot of the native recv. */
const CHUNK = 64 * 1024;
const rbuf = new Uint8Array(CHUNK);
const one = rbuf.subarray(0, 1);
const fdOut = new Int32Array(1);

function noRead(): void {}

/** A one-byte receive target, for taking a marker byte out of the inbound queue. */
const oneIol: IoList = { iol_base: new Uint8Array(1), iol_len: 1, iol_next: null, iol_rsvd: 0 };

/** The reader of one IPC socket (see the comment at the top of this file). */
export class FdReader implements FdListener {
  /** The socket's descriptor, once the reader has taken it over; -1 before and once stopped. */
  fd = -1;
  /** Why the calls cannot work on this socket, or "". */
  why = "";
  /** Bytes handed to the connection so far (those queued at take-over counted first). */
  delivered = 0;
  /** Descriptors received and not yet taken: their stream positions and numbers, in order. */
  readonly posq: number[] = [];
  readonly fdq: number[] = [];
  /** The coroutine in ipc_recvfd (it is also the connection's receiver) and in ipc_sendfd. */
  recvCr: CrBase | null = null;
  sendCr: CrBase | null = null;
  sendFd = -1;
  mask = 0;
  stopped = false;
  /** The end of the stream or an error was read: nothing more to read. */
  ended = false;
  /** Reading waits for the connection's resume. */
  readStopped = false;
  readonly onResume = (): void => {
    this.readStopped = false;
    this.rearm();
  };
  readonly onConnect = (): void => this.start();

  constructor(
    readonly n: Native,
    readonly conn: IpcConn,
    readonly sock: NodeSocket,
  ) {}

  /** Take reading over from Node (the socket is connected and nothing has been read yet). */
  start(): void {
    if (this.fd >= 0 || this.stopped || this.why !== "") return;
    const h = this.sock._handle;
    if (h === null || typeof h.fd !== "number" || h.fd < 0) {
      this.why = "the connection has no socket descriptor of its own";
      return;
    }
    this.fd = h.fd;
    if (h.reading === true && h.readStop !== undefined) {
      h.reading = false;
      h.readStop();
    }
    this.delivered = this.conn.rxq.bytes + this.sock.readableLength;
    this.sock.on("resume", this.onResume);
    this.rearm();
  }

  /** The next stream position a receive takes. */
  next(): number {
    return this.delivered - this.conn.rxq.bytes - this.sock.readableLength;
  }

  /** Poll for what is wanted now: reading unless the connection is paused, writing for ipc_sendfd. */
  rearm(): void {
    if (this.fd < 0) return;
    const mask = (this.readStopped || this.ended ? 0 : READABLE) | (this.sendCr !== null ? WRITABLE : 0);
    if (mask === this.mask) return;
    const rc = watchFd(this.n, this.fd, mask, this);
    if (rc === 0) this.mask = mask;
    else this.fail(nativeCode(rc));
  }

  fdReady(events: number, status: number): void {
    if (this.fd < 0) return;
    if (status < 0) {
      this.fail(nativeCode(status));
      return;
    }
    if ((events & WRITABLE) !== 0 && this.sendCr !== null) this.trySend();
    if ((events & READABLE) !== 0 && this.fd >= 0) this.read();
  }

  private read(): void {
    const conn = this.conn;
    if (conn.paused && conn.rxq.bytes >= HIGH_WATER + CHUNK) {
      // Node's stream buffered one more read past the connection's pause: so does the reader.
      this.readStopped = true;
      this.rearm();
      return;
    }
    if (this.sock.readableLength > 0) return; // Node's bytes from before the take-over flow first
    const cr = this.recvCr;
    const n = this.n.recv(this.fd, cr !== null ? one : rbuf, fdOut);
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
      this.recvCr = null;
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
      this.posq.push(pos + n - 1);
      this.fdq.push(got);
    }
    const chunk = Buffer.allocUnsafe(n);
    chunk.set(n === CHUNK ? rbuf : rbuf.subarray(0, n));
    conn.data(chunk);
    this.dropPassed();
  }

  /** Close the descriptors whose markers were received as data. */
  dropPassed(): void {
    const next = this.next();
    while (this.posq.length > 0 && this.posq[0]! < next) {
      this.posq.shift();
      this.n.close(this.fdq.shift()!);
    }
  }

  /** A read or poll failed: the connection hears of it as of a socket error. */
  private fail(code: ErrnoCode): void {
    this.stopReading();
    this.conn.error(Object.assign(new Error(`recvmsg: ${code}`), { code }));
  }

  private stopReading(): void {
    this.ended = true;
    this.rearm();
  }

  trySend(): void {
    const cr = this.sendCr!;
    const rc = this.n.sendFd(this.fd, this.sendFd);
    if (rc === -11) return;
    this.sendCr = null;
    this.conn.tx = null;
    this.rearm();
    if (rc > 0) wake(cr, undefined);
    else wakeWithError(cr, this.sendError(rc));
    flush();
  }

  /** The error of a failed sendmsg: a bad descriptor to pass, or the connection failed. */
  sendError(rc: number): Error {
    const code = nativeCode(rc);
    if (code === "EBADF") return dillError("EBADF", "ipc_sendfd", "fd", `fd ${this.sendFd} is not an open descriptor`);
    this.conn.outerr = true;
    return quickError(code === "EPIPE" ? "ECONNRESET" : code, "ipc_sendfd");
  }

  /** The socket is being destroyed: stop polling it (before Node closes it), close the untaken descriptors. */
  stop(): void {
    this.stopped = true;
    this.sock.removeListener("resume", this.onResume);
    this.sock.removeListener("connect", this.onConnect);
    if (this.fd >= 0) {
      unwatchFd(this.fd);
      this.fd = -1;
    }
    for (const fd of this.fdq) this.n.close(fd);
    this.posq.length = this.fdq.length = 0;
    readers.delete(this.sock);
  }
}

const readers = new WeakMap<Socket, FdReader>();

/** The take-over, at every IPC socket a connection attaches (see socket.ts). */
function attached(conn: IpcConn, s: Socket, connecting: boolean): void {
  const n = nativeOrNull();
  if (n === null || s.destroyed) return;
  const sock = s as NodeSocket;
  const r = new FdReader(n, conn, sock);
  readers.set(sock, r);
  sock._read = noRead;
  const destroy = sock._destroy;
  sock._destroy = function (this: NodeSocket, err, cb) {
    r.stop();
    destroy.call(this, err, cb);
  };
  if (connecting) sock.once("connect", r.onConnect);
  else r.start();
}
// At load, so that the process's one epoll descriptor is opened before any connection is.
const loadedNative = nativeOrNull();
if (loadedNative !== null && startPolling(loadedNative) === 0)
  IPC_FAMILY.attached = attached as (c: StreamState, sock: Socket, connecting: boolean) => void;

/** The connection behind `s` and its reader, for `fn`; ENOTSUP saying why when there is none. */
function readerOf(s: number, fn: string): [IpcConn, FdReader] {
  const c = handleQuery(s, IPC_TYPE, fn, "s") as IpcConn;
  native(fn);
  const r = c.sock === null ? undefined : readers.get(c.sock);
  if (r === undefined) {
    if (c.broken !== null || c.sock === null || c.sock.destroyed) throw quickError(c.broken ?? "ECONNRESET", fn);
    throw dillError("ENOTSUP", fn, "s", "this connection was made before tsdill's native part could read it");
  }
  r.start();
  if (r.why !== "") throw dillError("ENOTSUP", fn, "s", r.why);
  return [c, r];
}

function unblockRecvFd(cr: CrBase): void {
  const r = cr.waitObj as FdReader;
  if (r.recvCr !== cr) return;
  r.recvCr = null;
  if (r.conn.rx === cr) r.conn.rx = null;
}

function unblockSendFd(cr: CrBase): void {
  const r = cr.waitObj as FdReader;
  if (r.sendCr !== cr) return;
  r.sendCr = null;
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
  r.sendFd = fd;
  const rc = r.n.sendFd(r.fd, fd);
  if (rc > 0) return;
  if (rc !== -11) throw r.sendError(rc);
  if (expired(deadline)) throw quickError("ETIMEDOUT", fn);
  c.tx = cr;
  r.sendCr = cr;
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
    if (q.count > 0 && r.posq.length > 0 && r.posq[0] === at) {
      // The marker byte is the next one queued: take it out of the queue with its descriptor.
      q.target(oneIol);
      q.take();
      q.untarget();
      oneIol.iol_base![0] = 0;
      r.posq.shift();
      if (c.paused && q.bytes < LOW_WATER) {
        c.paused = false;
        c.sock!.resume();
      }
      return r.fdq.shift()!;
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
  r.recvCr = cr;
  r.rearm();
  park(cr, fn, deadline, unblockRecvFd, r);
  return (yield BLOCK) as number;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
guardOps({ ipc_sendfd, ipc_recvfd });
