/**
 * `tcp_listener_fd`: the file descriptor of a TCP listener, to hand to another process. A tsdill
 * addition (libdill keeps its fds to itself), the way to pre-fork: the parent listens, each worker
 * wraps the inherited fd with `tcp_listener_fromfd` and accepts on it with its own scheduler.
 */
import { listenerFd } from "../stream/listenerfd.js";
import { TCP_LISTENER_TYPE } from "./family.js";
import type { TcpListener, Unbranded } from "../handles/types.js";

/**
 * Returns the file descriptor of the listening socket behind `ls`. The handle still owns it:
 * closing `ls` closes the fd, so a process that passes it on (as the `stdio` of
 * `child_process.spawn`, which duplicates it into the child) must do that before closing the
 * handle. A parent that only hands the socket to workers closes its handle right after spawning
 * them: Node would otherwise accept connections in the parent too.
 *
 * @param ls a TCP listener handle.
 * @returns the fd, a non-negative integer.
 * @throws `EBADF` (not an open handle), `ENOTSUP` (not a TCP listener).
 *
 * @example
 * ```ts
 * const ls = yield* tcp_listen(ipaddr_local(null, 8080, 0), 128);
 * spawn(process.execPath, ["worker.js"], { stdio: ["ignore", "inherit", "inherit", tcp_listener_fd(ls)] });
 * hclose(ls); // in worker.js: const ls = yield* tcp_listener_fromfd(3);
 * ```
 */
export function tcp_listener_fd(ls: TcpListener | Unbranded): number {
  return listenerFd(ls, TCP_LISTENER_TYPE, "tcp_listener_fd");
}
