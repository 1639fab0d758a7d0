/**
 * `ipc_fd`: the file descriptor of an IPC connection, to hand to another process with
 * `ipc_sendfd`. A tsdill addition beside `ipc_listener_fd` (libdill keeps its fds to itself; a C
 * program accepts with accept(2) when it wants the raw descriptor).
 */
import { dillError } from "../handles/errors.js";
import { handleQuery } from "../handles/table.js";
import type { IpcSocket, Unbranded } from "../handles/types.js";
import { IPC_TYPE, type IpcConn } from "./socket.js";

/**
 * Returns the file descriptor of the socket behind the IPC connection `s`. The handle still owns
 * it: closing `s` closes this process's descriptor (a copy passed on with `ipc_sendfd` stays
 * open in the other process, and the connection with it). Bytes tsdill has already read from the
 * socket are not in the descriptor any more, so hand a connection off before receiving on it,
 * right after `ipc_accept`.
 *
 * @param s an IPC connection handle.
 * @returns the fd, a non-negative integer.
 * @throws `EBADF` (not an open handle, or the socket is closed), `ENOTSUP` (not an IPC connection).
 *
 * @example
 * ```ts
 * const s = yield* ipc_accept(ls, -1);
 * yield* ipc_sendfd(worker, ipc_fd(s), -1); // the worker serves it from now on
 * hclose(s);
 * ```
 */
export function ipc_fd(s: IpcSocket | Unbranded): number {
  const c = handleQuery(s, IPC_TYPE, "ipc_fd", "s") as IpcConn;
  // Node has no public accessor for a socket's fd: it lives on the socket's internal handle.
  const fd = (c.sock as unknown as { _handle?: { fd?: number } } | null)?._handle?.fd;
  if (typeof fd !== "number" || fd < 0)
    throw dillError("EBADF", "ipc_fd", "s", `connection ${s} has no open file descriptor`);
  return fd;
}
