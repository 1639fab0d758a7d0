/** `tcp_done` and `tcp_close`: the orderly ends of a TCP connection. */
import type { Op } from "../handles/op.js";
import type { TcpListener, TcpSocket, Unbranded } from "../handles/types.js";
import { closeOn, doneOn } from "../stream/close.js";
import { TCP_LISTENER_TYPE, TCP_TYPE } from "./family.js";
import { guardOps } from "../handles/op.js";

/**
 * Closes the sending half of a TCP connection (a FIN goes out): the peer receives everything
 * sent before, then its receives fail with `EPIPE`. Receiving on `s` goes on. Every `bsend`
 * returns only once its bytes are with the kernel, so this does not wait.
 *
 * @param s a TCP connection handle.
 * @param deadline absolute time in ms (checked; the call does not wait).
 * @throws `EBADF`, `ENOTSUP` (not a TCP connection), `EINVAL` (deadline), `EPIPE` (called
 * before), `ECONNRESET` (the connection is broken, or a send failed), `EBUSY` (a coroutine is
 * sending on `s`), `ECANCELED`.
 *
 * @example
 * ```ts
 * yield* bsend(s, request, request.length, -1);
 * yield* tcp_done(s, -1);                   // the server sees the end of the request
 * yield* brecv(s, reply, reply.length, -1); // and can still answer
 * ```
 */
export function* tcp_done(s: TcpSocket | Unbranded, deadline: number): Op<void> {
  yield* doneOn(s, deadline, TCP_TYPE, "tcp_done");
}

/**
 * Closes a TCP connection in an orderly way: closes the sending half if `tcp_done` was not
 * called, then reads and drops inbound bytes until the peer closes its sending half too, so that
 * both sides know that everything sent was received. The handle is closed and the socket freed
 * in every case, success or failure. On a listener it is `hclose`.
 *
 * @param s a TCP connection or listener handle.
 * @param deadline absolute time in ms for the whole handshake; `-1` never.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL` (deadline; the handle stays open), `ECONNRESET` (the
 * connection was broken, or an earlier send or receive failed), `ETIMEDOUT` (the peer did not
 * close in time), `ECANCELED`. After any of these but `EBADF`, `ENOTSUP` and `EINVAL` the handle
 * is closed all the same.
 *
 * @example
 * ```ts
 * yield* bsend(s, "bye", 3, -1);
 * yield* tcp_close(s, now() + 1000);
 * ```
 */
export function* tcp_close(s: TcpSocket | TcpListener | Unbranded, deadline: number): Op<void> {
  yield* closeOn(s, deadline, TCP_TYPE, TCP_LISTENER_TYPE, "tcp_close", "a TCP socket");
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ tcp_done, tcp_close });
