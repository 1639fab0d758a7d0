/**
 * WebSocket (RFC 6455), after libdill's ws.c: a message protocol over any bytestream. The client
 * and the server attach differently (the client asks for the upgrade, the server answers it;
 * see wshandshake.ts), then both speak frames: each message is one or more frames, the client's
 * masked, the server's not.
 *
 * - **Messages** are text (`WS_TEXT`) or binary (`WS_BINARY`). `msend`/`mrecv` use the type the
 *   socket was attached with (a message of the other type is `EPROTO`, as in libdill);
 *   `ws_send`/`ws_recv` choose and report it per message.
 * - **Receiving** reads ahead when the bytestream allows it (IPC and TCP connections do): what has
 *   arrived goes into the socket's buffer, frames are taken from there, and fragments are joined
 *   into the caller's buffer. A ping is answered with a pong from inside the receive (or, while
 *   another coroutine is sending, right after its message); pongs are dropped. The peer's close
 *   frame ends receiving: the receive fails with `EPIPE` and `ws_status` tells its status code.
 * - **Sending** makes one frame per message; a small one is built behind its header in one
 *   buffer and goes in one write.
 * - **Closing**: `ws_done` sends the close frame, `ws_detach` sends it unless that was done,
 *   reads until the peer's close frame, and gives the bytestream back.
 *
 * After a failed send or receive (a protocol error, the deadline, the stream breaking) that
 * direction is over: `ECONNRESET` from then on.
 */
import { checkCount, checkDeadline } from "../handles/args.js";
import { BSOCK_TYPE, type Bytestream, checkBuf, checkList, type IoList } from "../handles/bytestream.js";
import { dillError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { checkMem } from "../handles/pool.js";
import { handleGet, handleQuery, handleRelease } from "../handles/table.js";
import type { Bsock, Unbranded, WsSocket } from "../handles/types.js";
import { canBlock, suspended } from "../runtime/sched.js";
import { closeQuietly, publish, claimAndTakeOver } from "./layer.js";
import { clientHandshake, serverHandshake } from "./wshandshake.js";
import {
  OP_BINARY,
  OP_TEXT,
  WS_BINARY,
  WS_MAX_REASON,
  WS_NOHTTP,
  WS_TEXT,
  WS_TYPE,
  type WsSock,
  WsStorage,
  wsStorages,
} from "./wssock.js";
import { guardOps } from "../handles/op.js";

export { WS_KEY_SIZE, ws_request_key, ws_response_key } from "./wshandshake.js";
export { WS_BINARY, WS_MAX_REASON, WS_NOHTTP, WS_TEXT, WS_TYPE, WsStorage } from "./wssock.js";

function checkFlags(fn: string, flags: number): void {
  if (flags !== 0 && flags !== 1 && flags !== 2 && flags !== 3)
    throw dillError(
      "EINVAL",
      fn,
      "flags",
      `flags must be WS_BINARY or WS_TEXT, optionally | WS_NOHTTP, got ${String(flags)}`,
    );
}

function checkText(fn: string, arg: string, v: unknown): void {
  if (typeof v !== "string" || v === "") throw dillError("EINVAL", fn, arg, `${arg} must be a non-empty string`);
  if (/[\0-\x20\x7f]/.test(v))
    throw dillError("EINVAL", fn, arg, `${arg} must not contain spaces or control characters`);
}

/** Every attach: `s` is taken over whatever happens (closed on failure, unless it is no handle). */
function* attach(
  fn: string,
  s: number,
  flags: number,
  server: boolean,
  resource: string | null,
  host: string | null,
  resourcelen: number,
  hostlen: number,
  mem: WsStorage | undefined,
  deadline: number,
): Op<[number, string, string]> {
  handleGet(s, fn, "s");
  try {
    checkFlags(fn, flags);
    const http = (flags & WS_NOHTTP) === 0;
    if (http && !server) {
      checkText(fn, "resource", resource);
      checkText(fn, "host", host);
    }
    if (http && server) {
      checkCount(fn, "resourcelen", resourcelen);
      checkCount(fn, "hostlen", hostlen);
    }
    if (mem !== undefined) checkMem(fn, mem, WsStorage);
    checkDeadline(fn, deadline);
    if (canBlock(fn) === null) {
      // A coroutine that ignores its cancellation is being stopped: the handle is taken over and closed.
      closeQuietly(s);
      return yield* suspended();
    }
  } catch (e) {
    closeQuietly(s);
    throw e;
  }
  const [st, u, ub] = claimAndTakeOver(s, mem, wsStorages, WsStorage, BSOCK_TYPE, "a bytestream", fn);
  const sock = st.sock;
  sock.init(u, ub as Bytestream, flags, server);
  let got: [string, string] = ["", ""];
  if ((flags & WS_NOHTTP) === 0) {
    try {
      if (server) got = yield* serverHandshake(sock, resourcelen, hostlen, deadline, fn);
      else yield* clientHandshake(sock, resource!, host!, deadline, fn);
    } catch (e) {
      sock.close();
      throw e;
    }
  }
  return [publish(sock, fn), got[0], got[1]];
}

function* clientAttach(
  fn: string,
  s: number,
  flags: number,
  resource: string | null,
  host: string | null,
  mem: WsStorage | undefined,
  deadline: number,
): Op<number> {
  return (yield* attach(fn, s, flags, false, resource, host, 0, 0, mem, deadline))[0];
}

/**
 * Starts WebSocket as the client over the bytestream `s`: sends the HTTP upgrade request for
 * `resource` on `host` and checks the server's answer (unless `flags` has `WS_NOHTTP`). The
 * result is a message socket (`msend`, `mrecv`…) whose messages are of the type in `flags`.
 * The client masks every frame it sends. The call takes `s` over in every case: on success it
 * belongs to the new socket (`ws_detach` gives it back), on failure it is closed.
 *
 * @param s a bytestream handle: a TCP or IPC connection, a TLS socket, a user's.
 * @param flags `WS_BINARY` or `WS_TEXT`, optionally `| WS_NOHTTP`.
 * @param resource the path asked for ("/chat"); ignored (may be null) with `WS_NOHTTP`.
 * @param host the `Host` field ("example.org:8080"); ignored (may be null) with `WS_NOHTTP`.
 * @param deadline absolute time in ms for the handshake; `-1` never.
 * @returns the WebSocket's handle.
 * @throws `EBADF`, `EINVAL` (bad flags, resource, host or deadline), `EPROTO` (`s` is not a
 * bytestream, or the server's answer is not a WebSocket upgrade), `EMSGSIZE` (a line of the
 * answer is too long), `EPIPE`, `ECONNRESET`, `ETIMEDOUT`, `ECANCELED`, `EMFILE`, `ENOMEM`.
 *
 * @example
 * ```ts
 * const c = yield* tcp_connect(ipaddr_remote("127.0.0.1", 8080, 0), -1);
 * const s = yield* ws_attach_client(c, WS_TEXT, "/", "localhost", now() + 5000);
 * yield* msend(s, "hello", 5, -1);
 * ```
 */
export function* ws_attach_client<U extends Bsock | Unbranded = Unbranded>(
  s: U,
  flags: number,
  resource: string | null,
  host: string | null,
  deadline: number,
): Op<WsSocket<U>> {
  return (yield* clientAttach("ws_attach_client", s, flags, resource, host, undefined, deadline)) as WsSocket<U>;
}

/**
 * {@link ws_attach_client} with the socket in storage the caller provides: nothing is taken from the pool.
 *
 * @param s a bytestream handle.
 * @param flags `WS_BINARY` or `WS_TEXT`, optionally `| WS_NOHTTP`.
 * @param resource the path asked for.
 * @param host the `Host` field.
 * @param mem a `WsStorage` not in use; it is in use until the socket is closed or detached.
 * @param deadline absolute time in ms for the handshake; `-1` never.
 * @returns the WebSocket's handle.
 * @throws as `ws_attach_client`; `EINVAL` also when `mem` is not a `WsStorage`, `EBUSY` when it is in use.
 *
 * @example
 * ```ts
 * const mem = new WsStorage();
 * const s = yield* ws_attach_client_mem(c, WS_BINARY, "/", "localhost", mem, now() + 5000);
 * ```
 */
export function* ws_attach_client_mem<U extends Bsock | Unbranded = Unbranded>(
  s: U,
  flags: number,
  resource: string | null,
  host: string | null,
  mem: WsStorage,
  deadline: number,
): Op<WsSocket<U>> {
  return (yield* clientAttach(
    "ws_attach_client_mem",
    s,
    flags,
    resource,
    host,
    mem ?? (null as never),
    deadline,
  )) as WsSocket<U>;
}

/**
 * Starts WebSocket as the server over the bytestream `s`: reads the client's HTTP upgrade
 * request, checks it and answers `101 Switching Protocols` (unless `flags` has `WS_NOHTTP`).
 * Evaluates to the new socket's handle, the resource the client asked for and the `Host` it
 * named: libdill's `resource` and `host` out-parameters, returned; `resourcelen` and `hostlen`
 * stay as their limits (text must fit that many bytes with C's NUL). With `WS_NOHTTP` both
 * strings are empty. `s` is taken over as with {@link ws_attach_client}.
 *
 * @param s a bytestream handle.
 * @param flags `WS_BINARY` or `WS_TEXT`, optionally `| WS_NOHTTP`.
 * @param resourcelen the size of libdill's `resource` buffer: at most `resourcelen - 1` bytes.
 * @param hostlen the size of libdill's `host` buffer: at most `hostlen - 1` bytes.
 * @param deadline absolute time in ms for the handshake; `-1` never.
 * @returns `[handle, resource, host]`.
 * @throws `EBADF`, `EINVAL` (bad flags, lengths or deadline), `EPROTO` (`s` is not a bytestream,
 * or the request is not a WebSocket upgrade), `EMSGSIZE` (the resource or the host does not fit
 * its length, or a line is too long), `EPIPE`, `ECONNRESET`, `ETIMEDOUT`, `ECANCELED`, `EMFILE`,
 * `ENOMEM`.
 *
 * @example
 * ```ts
 * const c = yield* tcp_accept(ls, null, -1);
 * const [s, resource, host] = yield* ws_attach_server(c, WS_TEXT, 256, 256, now() + 5000);
 * ```
 */
export function* ws_attach_server<U extends Bsock | Unbranded = Unbranded>(
  s: U,
  flags: number,
  resourcelen: number,
  hostlen: number,
  deadline: number,
): Op<[WsSocket<U>, string, string]> {
  return (yield* attach("ws_attach_server", s, flags, true, null, null, resourcelen, hostlen, undefined, deadline)) as [
    WsSocket<U>,
    string,
    string,
  ];
}

/**
 * {@link ws_attach_server} with the socket in storage the caller provides.
 *
 * @param s a bytestream handle.
 * @param flags `WS_BINARY` or `WS_TEXT`, optionally `| WS_NOHTTP`.
 * @param resourcelen the limit on the resource, as in `ws_attach_server`.
 * @param hostlen the limit on the host.
 * @param mem a `WsStorage` not in use.
 * @param deadline absolute time in ms for the handshake; `-1` never.
 * @returns `[handle, resource, host]`.
 * @throws as `ws_attach_server`; `EINVAL` also when `mem` is not a `WsStorage`, `EBUSY` when it is in use.
 *
 * @example
 * ```ts
 * const mem = new WsStorage();
 * const [s] = yield* ws_attach_server_mem(c, WS_BINARY, 256, 256, mem, now() + 5000);
 * ```
 */
export function* ws_attach_server_mem<U extends Bsock | Unbranded = Unbranded>(
  s: U,
  flags: number,
  resourcelen: number,
  hostlen: number,
  mem: WsStorage,
  deadline: number,
): Op<[WsSocket<U>, string, string]> {
  return (yield* attach(
    "ws_attach_server_mem",
    s,
    flags,
    true,
    null,
    null,
    resourcelen,
    hostlen,
    mem ?? (null as never),
    deadline,
  )) as [WsSocket<U>, string, string];
}

function wsOf(s: number, fn: string): WsSock {
  return handleQuery(s, WS_TYPE, fn, "s") as WsSock;
}

function checkType(fn: string, flags: number): number {
  if (flags === WS_TEXT) return OP_TEXT;
  if (flags === WS_BINARY) return OP_BINARY;
  throw dillError("EINVAL", fn, "flags", `flags must be WS_BINARY or WS_TEXT, got ${String(flags)}`);
}

/**
 * Sends one message of `len` bytes of `buf` as text (`WS_TEXT`) or binary (`WS_BINARY`),
 * whatever type the socket was attached with: `msend` with the type chosen per message.
 *
 * @param s a WebSocket handle.
 * @param flags `WS_BINARY` or `WS_TEXT`.
 * @param buf the message; a string is sent as UTF-8 (`len` counts its bytes).
 * @param len how many bytes of `buf` to send.
 * @param deadline absolute time in ms; `-1` never, `0` only if it can go without waiting.
 * @throws `EBADF`, `ENOTSUP` (not a WebSocket), `EINVAL`, `EBUSY`, `EPIPE` (`ws_done` was
 * called), `ECONNRESET`, `ETIMEDOUT`, `ECANCELED`.
 *
 * @example
 * ```ts
 * yield* ws_send(s, WS_TEXT, "hello", 5, now() + 1000);
 * ```
 */
export function* ws_send(
  s: WsSocket | Unbranded,
  flags: number,
  buf: Uint8Array | string,
  len: number,
  deadline: number,
): Op<void> {
  const fn = "ws_send";
  const w = wsOf(s, fn);
  const op = checkType(fn, flags);
  const bytes = typeof buf === "string" ? Buffer.from(buf, "utf8") : buf;
  checkBuf(fn, bytes, len, false);
  checkDeadline(fn, deadline);
  const iol: IoList = { iol_base: bytes, iol_len: len, iol_next: null, iol_rsvd: 0 };
  yield* w.sendMsg(op, iol, iol, deadline, fn);
}

/**
 * Sends the buffers of the list `first`..`last` as one message of the given type: `msendl` with
 * the type chosen per message. The list is left as it was.
 *
 * @param s a WebSocket handle.
 * @param flags `WS_BINARY` or `WS_TEXT`.
 * @param first the first element.
 * @param last the last element (`last.iol_next` must be null).
 * @param deadline absolute time in ms; `-1` never.
 * @throws as `ws_send`; `EINVAL` also for a malformed list.
 *
 * @example
 * ```ts
 * const b: IoList = { iol_base: body, iol_len: body.length, iol_next: null, iol_rsvd: 0 };
 * const a: IoList = { iol_base: head, iol_len: head.length, iol_next: b, iol_rsvd: 0 };
 * yield* ws_sendl(s, WS_BINARY, a, b, -1);
 * ```
 */
export function* ws_sendl(
  s: WsSocket | Unbranded,
  flags: number,
  first: IoList,
  last: IoList,
  deadline: number,
): Op<void> {
  const fn = "ws_sendl";
  const w = wsOf(s, fn);
  const op = checkType(fn, flags);
  checkList(fn, first, last, false);
  checkDeadline(fn, deadline);
  yield* w.sendMsg(op, first, last, deadline, fn);
}

/**
 * Receives one message, of either type, into `buf`: `mrecv` that also tells the type. libdill's
 * `int *flags` out-parameter is returned beside the size. A fragmented message arrives whole.
 *
 * @param s a WebSocket handle.
 * @param buf where the message goes, or `null` to drop it.
 * @param len the most bytes the message may have.
 * @param deadline absolute time in ms; `-1` never, `0` only if the message is already there.
 * @returns `[size, flags]`, `flags` being `WS_TEXT` or `WS_BINARY`.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL`, `EBUSY`, `EMSGSIZE` (the message does not fit), `EPROTO`
 * (the peer broke the protocol), `EPIPE` (the peer's close frame arrived: see `ws_status`),
 * `ECONNRESET`, `ETIMEDOUT`, `ECANCELED`.
 *
 * @example
 * ```ts
 * const buf = new Uint8Array(1024);
 * const [n, flags] = yield* ws_recv(s, buf, buf.length, now() + 1000);
 * ```
 */
export function* ws_recv(
  s: WsSocket | Unbranded,
  buf: Uint8Array | null,
  len: number,
  deadline: number,
): Op<[number, number]> {
  const fn = "ws_recv";
  const w = wsOf(s, fn);
  checkBuf(fn, buf, len, true);
  checkDeadline(fn, deadline);
  // With buf = null, as for mrecv: a message of at most `len` bytes, dropped (a skip element).
  const iol: IoList = { iol_base: buf, iol_len: len, iol_next: null, iol_rsvd: 0 };
  const n = yield* w.recvMsg(iol, iol, deadline, fn);
  return [n, w.rflags];
}

/**
 * Receives one message, of either type, into the list `first`..`last` (or drops it when both
 * are null): `mrecvl` that also tells the type.
 *
 * @param s a WebSocket handle.
 * @param first the first element, or `null`.
 * @param last the last element, or `null`.
 * @param deadline absolute time in ms; `-1` never.
 * @returns `[size, flags]`.
 * @throws as `ws_recv`; `EINVAL` also for a malformed list.
 *
 * @example
 * ```ts
 * const body: IoList = { iol_base: new Uint8Array(1020), iol_len: 1020, iol_next: null, iol_rsvd: 0 };
 * const head: IoList = { iol_base: new Uint8Array(4), iol_len: 4, iol_next: body, iol_rsvd: 0 };
 * const [n, flags] = yield* ws_recvl(s, head, body, now() + 1000);
 * ```
 */
export function* ws_recvl(
  s: WsSocket | Unbranded,
  first: IoList | null,
  last: IoList | null,
  deadline: number,
): Op<[number, number]> {
  const fn = "ws_recvl";
  const w = wsOf(s, fn);
  if (first !== null || last !== null) {
    if (first === null || last === null)
      throw dillError(
        "EINVAL",
        fn,
        first === null ? "first" : "last",
        "first and last must both be null or both be set",
      );
    checkList(fn, first, last, true);
  }
  checkDeadline(fn, deadline);
  const n = yield* w.recvMsg(first, last, deadline, fn);
  return [n, w.rflags];
}

/** The reason of a close frame as bytes, checked. */
function closeArgs(fn: string, status: number, buf: Uint8Array | string | null, len: number): Uint8Array | null {
  if (status !== 0 && !(Number.isInteger(status) && status >= 1000 && status <= 4999))
    throw dillError("EINVAL", fn, "status", `status must be 0 (none) or 1000 to 4999, got ${String(status)}`);
  const bytes = typeof buf === "string" ? Buffer.from(buf, "utf8") : buf;
  if (bytes !== null && !(bytes instanceof Uint8Array))
    throw dillError("EINVAL", fn, "buf", "buf must be a Uint8Array, a string or null");
  checkCount(fn, "len", len);
  if (len > 0 && bytes === null) throw dillError("EINVAL", fn, "buf", "buf is null but len is not 0");
  if (bytes !== null && len > bytes.length)
    throw dillError("EINVAL", fn, "len", `len ${len} is larger than buf (${bytes.length} bytes)`);
  if (len > WS_MAX_REASON)
    throw dillError("EINVAL", fn, "len", `a close frame's reason is at most ${WS_MAX_REASON} bytes, got ${len}`);
  if (len > 0 && status === 0) throw dillError("EINVAL", fn, "status", "a reason needs a status code");
  return bytes;
}

/**
 * Closes the sending half of the WebSocket: sends the close frame with `status` (0: none) and
 * `len` bytes of `buf` as its reason. The peer's receives fail with `EPIPE` once they reach it;
 * this side can still receive.
 *
 * @param s a WebSocket handle.
 * @param status the close status code, 1000 to 4999 (1000 is a normal closure), or 0 for none.
 * @param buf the reason (a string is taken as UTF-8), or `null`.
 * @param len its length in bytes, at most 123; 0 when `status` is 0.
 * @param deadline absolute time in ms; `-1` never.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL`, `EPIPE` (it was sent before), `EBUSY`, `ECONNRESET`,
 * `ETIMEDOUT`, `ECANCELED`.
 *
 * @example
 * ```ts
 * yield* ws_done(s, 1000, "bye", 3, now() + 1000);
 * ```
 */
export function* ws_done(
  s: WsSocket | Unbranded,
  status: number,
  buf: Uint8Array | string | null,
  len: number,
  deadline: number,
): Op<void> {
  const fn = "ws_done";
  const w = wsOf(s, fn);
  const bytes = closeArgs(fn, status, buf, len);
  checkDeadline(fn, deadline);
  if (canBlock(fn) === null) return yield* suspended();
  if (w.outdone) throw dillError("EPIPE", fn, "s", "the close frame was sent before");
  yield* w.sendClose(status, bytes, len, deadline, fn);
}

/**
 * Ends WebSocket in order and returns the underlying bytestream: sends the close frame (unless
 * `ws_done` did) with `status` and the reason in `buf`, then receives and drops messages until
 * the peer's close frame. What was read past it is handed back to the bytestream. The WebSocket
 * handle is closed whatever happens; on failure the bytestream is closed too.
 *
 * @param s a WebSocket handle.
 * @param status the close status, 1000 to 4999, or 0 for none (used unless `ws_done` was called).
 * @param buf the reason, or `null`.
 * @param len its length in bytes, at most 123.
 * @param deadline absolute time in ms for the whole closing handshake; `-1` never.
 * @returns the handle of the underlying bytestream.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL`, `EBUSY` (a coroutine is sending or receiving on `s`):
 * `s` is left as it was; `ECONNRESET`, `EPROTO`, `ETIMEDOUT`, `ECANCELED`: all is closed.
 *
 * @example
 * ```ts
 * const c = yield* ws_detach(s, 1000, null, 0, now() + 1000);
 * yield* tcp_close(c, now() + 1000);
 * ```
 */
export function* ws_detach<U = number>(
  s: WsSocket<U> | Unbranded,
  status: number,
  buf: Uint8Array | string | null,
  len: number,
  deadline: number,
): Op<U> {
  const fn = "ws_detach";
  const w = wsOf(s, fn);
  const bytes = closeArgs(fn, status, buf, len);
  checkDeadline(fn, deadline);
  if (w.sending || w.receiving) throw dillError("EBUSY", fn, "s", "a coroutine is sending or receiving on this socket");
  handleRelease(s, fn);
  try {
    if (canBlock(fn) === null) {
      // A coroutine that ignores its cancellation is being stopped: nothing is handed back.
      w.close();
      return yield* suspended();
    }
    if (!w.outdone) yield* w.sendClose(status, bytes, len, deadline, fn);
    while (!w.indone) {
      if (w.inerr) throw dillError("ECONNRESET", fn, "s", "an earlier receive failed: the stream is lost");
      try {
        yield* w.recvMsg(null, null, deadline, fn);
      } catch (e) {
        if (w.indone) break;
        // The end of the stream ends the draining too, as in libdill.
        if ((e as { code?: unknown } | null)?.code === "EPIPE") break;
        throw e;
      }
    }
  } catch (e) {
    w.close();
    throw e;
  }
  return w.detach() as U;
}

/**
 * After the peer's close frame arrived (receives fail with `EPIPE`): its status code and reason.
 * The reason is copied into `buf` (when not null); libdill's `int *status` is returned beside
 * the reason's length.
 *
 * @param s a WebSocket handle.
 * @param buf where the reason goes, or `null`.
 * @param len the room in `buf`.
 * @returns `[reasonLength, status]`; `status` is 0 when the close frame had none.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL` (bad `buf` or `len`), `EAGAIN` (no close frame yet),
 * `EMSGSIZE` (the reason is longer than `len`).
 *
 * @example
 * ```ts
 * const reason = new Uint8Array(123);
 * const [n, status] = ws_status(s, reason, reason.length);
 * ```
 */
export function ws_status(s: WsSocket | Unbranded, buf: Uint8Array | null, len: number): [number, number] {
  const fn = "ws_status";
  checkCount(fn, "len", len);
  if (buf === null && len > 0) throw dillError("EINVAL", fn, "buf", "buf is null but len is not 0");
  if (buf !== null) checkBuf(fn, buf, len, true);
  const w = wsOf(s, fn);
  if (!w.indone) throw dillError("EAGAIN", fn, "s", "the peer has not closed the connection yet");
  if (buf !== null) {
    if (len < w.reasonLen)
      throw dillError("EMSGSIZE", fn, undefined, `the reason (${w.reasonLen} bytes) does not fit len = ${len}`);
    buf.set(w.reason.subarray(0, w.reasonLen));
  }
  return [w.reasonLen, w.status];
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined)
  guardOps({
    ws_attach_client,
    ws_attach_client_mem,
    ws_attach_server,
    ws_attach_server_mem,
    ws_send,
    ws_sendl,
    ws_recv,
    ws_recvl,
    ws_done,
    ws_detach,
  });
