/**
 * `ipc_listener_fd`: the file descriptor of a listener, to hand to another process. A tsdill
 * addition (libdill keeps its fds to itself), the way to pre-fork: the parent listens, each worker
 * wraps the inherited fd with `ipc_listener_fromfd` and accepts on it with its own scheduler.
 */
import { listenerFd } from "../stream/listenerfd.js";
import { IPC_LISTENER_TYPE } from "./listener.js";
import type { IpcListener, Unbranded } from "../handles/types.js";

/**
 * Returns the file descriptor of the listening socket behind `ls`. The handle still owns it:
 * closing `ls` closes the fd (and removes the socket file `ipc_listen` bound), so a process that
 * passes it on (as the `stdio` of `child_process.spawn`, which duplicates it into the child)
 * must do that before closing the handle.
 *
 * @param ls an IPC listener handle.
 * @returns the fd, a non-negative integer.
 * @throws `EBADF` (not an open handle), `ENOTSUP` (not an IPC listener).
 *
 * @example
 * ```ts
 * const ls = yield* ipc_listen("/tmp/app.sock", 128);
 * spawn(process.execPath, ["worker.js"], { stdio: ["ignore", "inherit", "inherit", ipc_listener_fd(ls)] });
 * // in worker.js: const ls = yield* ipc_listener_fromfd(3);
 * ```
 */
export function ipc_listener_fd(ls: IpcListener | Unbranded): number {
  return listenerFd(ls, IPC_LISTENER_TYPE, "ipc_listener_fd");
}
