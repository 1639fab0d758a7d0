/**
 * Descriptor passing on IPC connections: `ipc_sendfd` and `ipc_recvfd` (SCM_RIGHTS), in order
 * with the bytes of the stream, as libdill has them.
 *
 How it fits under a `node:net` socket: every IPC connection is read by tsdill's own reader
 * (reader.ts) with recvmsg(2), since Node's read(2) would drop the descriptors.
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
import { checkDeadline } from "../handles/args.js";
import { dillError, quickError } from "../handles/errors.js";
import type { IoList } from "../handles/bytestream.js";
import { BLOCK, guardOps, type Op } from "../handles/op.js";
import { handleQuery } from "../handles/table.js";
import type { IpcSocket, Unbranded } from "../handles/types.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, expired, park, suspended } from "../runtime/sched.js";
import { native } from "../fd/native.js";
import { LOW_WATER } from "../stream/receive.js";
import { type FdReader, readerNative, readerOf as socketReader } from "./reader.js";
import { IPC_TYPE, type IpcConn } from "./socket.js";

/** A one-byte receive target, for taking a marker byte out of the inbound queue. */
const oneIol: IoList = { iol_base: new Uint8Array(1), iol_len: 1, iol_next: null, iol_rsvd: 0 };

/** The connection behind `s` and its reader, for `fn`; ENOTSUP saying why when there is none. */
function readerOf(s: number, fn: string): [IpcConn, FdReader] {
  const c = handleQuery(s, IPC_TYPE, fn, "s") as IpcConn;
  native(fn);
  const r = c.sock === null ? null : socketReader(c.sock);
  if (r === null) {
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
  const rc = readerNative().sendFd(r.fd, fd);
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

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ ipc_sendfd, ipc_recvfd });
