/**
 * The reader of an IPC socket, for descriptor passing (`ipc_sendfd`, `ipc_recvfd` in fdpass.ts).
 *
 * Node reads a Unix socket with read(2), which discards (and closes) any descriptor that comes
 * with the bytes, and it reads ahead whenever the socket is readable. So a descriptor can only be
 * caught if Node never reads the socket: when the native part is present, every IPC connection is
 * read by a {@link FdReader} instead, from the moment the connection takes the socket over (before
 * Node has read a byte: accepted sockets start paused, a connecting one is taken at 'connect',
 * before its first read). Taking over later, at the first `ipc_recvfd`, would lose a descriptor
 * that came before it. The reader stops Node's reading for good (the libuv handle's readStop, and
 * a no-op `_read` so that the stream never starts it again), has the descriptor polled in the
 * native part's own epoll instance (which leaves libuv's watcher for Node's writes alone), and
 * reads with recvmsg(2). Bytes go to the connection as Node's 'data' events would (straight into
 * a parked receiver's buffers), so receiving, backpressure (the reader follows the connection's
 * pause and resume), end-of-stream and errors behave as before; writing stays Node's.
 *
 * Since every connection has one, a reader is small: a few numbers, no closure, and what only
 * descriptor passing needs is made at the first descriptor or call.
 */
import type { Socket } from "node:net";
import { dillError, type ErrnoCode, quickError } from "../handles/errors.js";
import type { CrBase } from "../runtime/cr.js";
import { flush, wake, wakeWithError } from "../runtime/sched.js";
import { type Native, nativeOrNull, READABLE, WRITABLE } from "../fd/native.js";
import { ensurePolling, type FdListener, nativeCode, unwatchFd, watchFd } from "../fd/poll.js";
import type { StreamState } from "../stream/state.js";
import { HIGH_WATER } from "../stream/receive.js";
import type { IpcConn } from "./socket.js";

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
 * Load the native part and start its poller (which opens the process's one epoll descriptor),
 * unless done already; false when there is no native part. An IPC listener calls it as it starts
 * listening, so that a server holds that descriptor before its first connection arrives.
 */
export function prepareReaders(): boolean {
  if (nat !== null) return true;
  const n = nativeOrNull();
  if (n === null || ensurePolling(n) !== 0) return false;
  nat = n;
  return true;
}

/**
 * The take-over, at every IPC socket a connection attaches (IPC's `StreamFamily.attached`). The
 * native part is loaded, and its poller started, at the first one.
 */
export function takeOver(c: StreamState, s: Socket, connecting: boolean): void {
  const conn = c as IpcConn;
  if (s.destroyed || !prepareReaders()) return;
  const sock = s as NodeSocket;
  const r = new FdReader(conn, sock);
  sock[READER] = r;
  sock._read = noRead;
  sock._destroy = readerDestroy;
  if (connecting) sock.on("connect", onConnect);
  else r.start();
}

/** The reader of `sock`, if one reads it. */
export function readerOf(sock: Socket): FdReader | null {
  return (sock as NodeSocket)[READER] ?? null;
}

/** The native part, once a reader uses it. */
export function readerNative(): Native {
  return nat!;
}
