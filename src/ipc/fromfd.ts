/**
 * `ipc_fromfd`, `ipc_listener_fromfd` and their `_mem` variants: handles around file descriptors
 * of Unix-domain stream sockets, for instance ones inherited from a parent process.
 *
 * The fd is checked before it is wrapped: it must be open (`EBADF`), a socket, a Unix-domain
 * stream socket, connected for `ipc_fromfd` and listening for `ipc_listener_fromfd` (`EINVAL`
 * otherwise). The kind of a socket is looked up by inode in `/proc/self/net/unix`. From then on
 * the handle owns the fd: closing the handle closes it.
 */
import { readFileSync } from "node:fs";
import { dillError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { checkMem, claim } from "../handles/pool.js";
import type { IpcListener, IpcSocket } from "../handles/types.js";
import { canBlock, suspended } from "../runtime/sched.js";
import { adoptFd, socketInode } from "../stream/fromfd.js";
import { startListener } from "../stream/listen.js";
import { connStorages, IpcListenerStorage, IpcStorage, listenerStorages } from "./storage.js";
import { guardOps } from "../handles/op.js";

/** `__SO_ACCEPTCON` in the Flags column: a listening socket. */
const SO_ACCEPTCON = 0x10000;
const SOCK_STREAM = 1;
const SS_CONNECTED = 3;

/** Check that `fd` is a Unix-domain stream socket, listening or connected as `listening` says. */
function checkSocketFd(fn: string, fd: number, listening: boolean): void {
  const want = socketInode(fn, fd);
  let table: string;
  try {
    table = readFileSync("/proc/self/net/unix", "latin1");
  } catch {
    return; // no procfs: the kind cannot be checked, Node will refuse what it cannot use
  }
  const lines = table.split("\n");
  for (let i = 1; i < lines.length; i++) {
    // Num RefCount Protocol Flags Type St Inode [Path]
    const f = lines[i]!.trim().split(/\s+/);
    if (f[6] !== want) continue;
    const flags = parseInt(f[3]!, 16);
    const type = parseInt(f[4]!, 16);
    const state = parseInt(f[5]!, 16);
    if (type !== SOCK_STREAM)
      throw dillError("EINVAL", fn, "fd", `fd ${fd} is a Unix-domain socket, but not a stream socket`);
    const isListening = (flags & SO_ACCEPTCON) !== 0;
    if (listening && !isListening)
      throw dillError("EINVAL", fn, "fd", `fd ${fd} is not a listening socket (use ipc_fromfd for a connection)`);
    if (!listening && isListening)
      throw dillError("EINVAL", fn, "fd", `fd ${fd} is a listening socket (use ipc_listener_fromfd)`);
    if (!listening && state !== SS_CONNECTED) throw dillError("EINVAL", fn, "fd", `fd ${fd} is not a connected socket`);
    return;
  }
  throw dillError("EINVAL", fn, "fd", `fd ${fd} is a socket, but not a Unix-domain one`);
}

function fromfd(fd: number, mem: IpcStorage | null, fn: string): number {
  checkSocketFd(fn, fd, false);
  return adoptFd(fd, mem === null ? connStorages.take(fn) : claim(mem, IpcStorage, fn), fn);
}

/**
 * Makes an IPC connection handle from the file descriptor of a connected Unix-domain stream
 * socket (for instance one a parent process passed down). The handle owns the fd from then on:
 * `hclose`/`ipc_close` close it.
 *
 * @param fd the file descriptor.
 * @returns the connection's handle.
 * @throws `EBADF` (not an open fd), `EINVAL` (not a socket, not a Unix-domain stream socket, a
 * listening or unconnected one), `EMFILE` (handle table full), `ENOMEM` (storage pool used up).
 *
 * @example
 * ```ts
 * // the parent spawned this process with the socket as fd 3
 * const s = ipc_fromfd(3);
 * yield* bsend(s, "hello", 5, -1);
 * ```
 */
export function ipc_fromfd(fd: number): IpcSocket {
  return fromfd(fd, null, "ipc_fromfd") as IpcSocket;
}

/**
 * Like {@link ipc_fromfd}, with the connection in caller storage: nothing is allocated.
 *
 * @param mem an `IpcStorage` not in use; free again once the handle is closed.
 * @throws as `ipc_fromfd`, plus `EINVAL` (not an `IpcStorage`) and `EBUSY` (in use).
 *
 * @example
 * ```ts
 * const s = ipc_fromfd_mem(3, new IpcStorage());
 * ```
 */
export function ipc_fromfd_mem(fd: number, mem: IpcStorage): IpcSocket {
  checkMem("ipc_fromfd_mem", mem, IpcStorage);
  return fromfd(fd, mem, "ipc_fromfd_mem") as IpcSocket;
}

function* listenerFromfd(fd: number, mem: IpcListenerStorage | null, fn: string): Op<number> {
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  checkSocketFd(fn, fd, true);
  const st = mem === null ? listenerStorages.take(fn) : claim(mem, IpcListenerStorage, fn);
  return yield* startListener(st, cr, { fd }, fn);
}

/**
 * Makes an IPC listener handle from the file descriptor of a listening Unix-domain stream socket
 * (for instance one inherited from a parent process or a service manager). The handle owns the
 * fd; closing it closes the fd but removes no socket file (the process did not bind it).
 *
 * @param fd the file descriptor.
 * @returns the listener's handle, for `ipc_accept`.
 * @throws `EBADF` (not an open fd), `EINVAL` (not a listening Unix-domain stream socket),
 * `EMFILE`, `ENOMEM`, `ECANCELED`.
 *
 * @example
 * ```ts
 * const ls = yield* ipc_listener_fromfd(3);
 * const s = yield* ipc_accept(ls, -1);
 * ```
 */
export function* ipc_listener_fromfd(fd: number): Op<IpcListener> {
  return (yield* listenerFromfd(fd, null, "ipc_listener_fromfd")) as IpcListener;
}

/**
 * Like {@link ipc_listener_fromfd}, with the listener in caller storage: nothing is allocated.
 *
 * @param mem an `IpcListenerStorage` not in use; free again once the handle is closed.
 * @throws as `ipc_listener_fromfd`, plus `EINVAL` (not an `IpcListenerStorage`) and `EBUSY`.
 *
 * @example
 * ```ts
 * const ls = yield* ipc_listener_fromfd_mem(3, new IpcListenerStorage());
 * ```
 */
export function* ipc_listener_fromfd_mem(fd: number, mem: IpcListenerStorage): Op<IpcListener> {
  checkMem("ipc_listener_fromfd_mem", mem, IpcListenerStorage);
  return (yield* listenerFromfd(fd, mem, "ipc_listener_fromfd_mem")) as IpcListener;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined)
  guardOps({ ipc_listener_fromfd, ipc_listener_fromfd_mem });
