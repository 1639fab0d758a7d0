/** `ipc_done` and `ipc_close`: the orderly ends of a connection. */
import type { Op } from "../handles/op.js";
import type { IpcListener, IpcSocket, Unbranded } from "../handles/types.js";
import { closeOn, doneOn } from "../stream/close.js";
import { IPC_LISTENER_TYPE } from "./listener.js";
import { IPC_TYPE } from "./socket.js";
import { guardOps } from "../handles/op.js";

/**
 * Closes the sending half of a connection: the peer receives everything sent before, then its
 * receives fail with `EPIPE`. Receiving on `s` goes on. Every `bsend` returns only once its bytes
 * are with the kernel, so there is nothing left to flush and this does not wait.
 *
 * @param s an IPC connection handle.
 * @param deadline absolute time in ms (checked; the call does not wait).
 * @throws `EBADF`, `ENOTSUP` (not a connection), `EINVAL` (deadline), `EPIPE` (called before),
 * `ECONNRESET` (the connection is broken, or a send failed), `EBUSY` (a coroutine is sending on
 * `s`), `ECANCELED`.
 *
 * @example
 * ```ts
 * yield* bsend(s, request, request.length, -1);
 * yield* ipc_done(s, -1);                   // the server sees the end of the request
 * yield* brecv(s, reply, reply.length, -1); // and can still answer
 * ```
 */
export function* ipc_done(s: IpcSocket | Unbranded, deadline: number): Op<void> {
  yield* doneOn(s, deadline, IPC_TYPE, "ipc_done");
}

/**
 * Closes a connection in an orderly way: closes the sending half if `ipc_done` was not called,
 * then reads and drops inbound bytes until the peer closes its sending half too, so that both
 * sides know that everything sent was received. The handle is closed and the socket freed in
 * every case, success or failure. On a listener it is `hclose`.
 *
 * A coroutine parked on `s` in another call fails with `EBADF`.
 *
 * @param s an IPC connection or listener handle.
 * @param deadline absolute time in ms for the whole handshake; `-1` never.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL` (deadline; the handle stays open), `ECONNRESET` (the
 * connection was broken, or an earlier send or receive failed), `ETIMEDOUT` (the peer did not
 * close in time), `ECANCELED`. After any of these but `EBADF`, `ENOTSUP` and `EINVAL`, the handle
 * is closed all the same.
 *
 * @example
 * ```ts
 * yield* bsend(s, "bye", 3, -1);
 * yield* ipc_close(s, now() + 1000);
 * ```
 */
export function* ipc_close(s: IpcSocket | IpcListener | Unbranded, deadline: number): Op<void> {
  yield* closeOn(s, deadline, IPC_TYPE, IPC_LISTENER_TYPE, "ipc_close", "an IPC socket");
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ ipc_done, ipc_close });
