/** `ipc_done` and `ipc_close`: the orderly ends of a connection. */
import { checkDeadline } from "../handles/args.js";
import { dillError, isDillError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { handleGet, handleQuery, handleRelease } from "../handles/table.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock } from "../runtime/sched.js";
import { IPC_LISTENER_TYPE } from "./listener.js";
import { IPC_TYPE, type IpcConn } from "./socket.js";

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
export function* ipc_done(s: number, deadline: number): Op<void> {
  canBlock("ipc_done");
  const c = handleQuery(s, IPC_TYPE, "ipc_done", "s") as IpcConn;
  checkDeadline("ipc_done", deadline);
  c.shutdownWrite("ipc_done");
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
export function* ipc_close(s: number, deadline: number): Op<void> {
  const vfs = handleGet(s, "ipc_close", "s");
  checkDeadline("ipc_close", deadline);
  if (vfs.query(IPC_LISTENER_TYPE)) {
    handleRelease(s, "ipc_close").close();
    return;
  }
  const c = vfs.query(IPC_TYPE) as IpcConn | undefined;
  if (!c) throw dillError("ENOTSUP", "ipc_close", "s", `handle ${s} (${vfs.kind ?? "user"}) is not an IPC socket`);
  let cr: CrBase;
  try {
    cr = canBlock("ipc_close");
  } catch (e) {
    // Cancelled: the handshake cannot happen, but the socket is closed as promised.
    if (isDillError(e, "ECANCELED")) handleRelease(s, "ipc_close").close();
    throw e;
  }
  handleRelease(s, "ipc_close");
  yield* c.closeOrderly(cr, deadline, "ipc_close");
}
