/**
 * `tcp_fromfd`, `tcp_listener_fromfd` and their `_mem` variants: handles around file descriptors
 * of TCP sockets, for instance ones inherited from a parent process (a pre-forked server's
 * listening socket, or a connection a supervisor accepted).
 *
 * The fd is checked before it is wrapped: it must be open (`EBADF`), a TCP socket over IPv4 or
 * IPv6, connected for `tcp_fromfd` and listening for `tcp_listener_fromfd` (`EINVAL` otherwise).
 * The kind of a socket is looked up by inode in `/proc/self/net/tcp` and `tcp6`. From then on the
 * handle owns the fd: closing the handle closes it.
 */
import { readFileSync } from "node:fs";
import { dillError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { checkMem, claim } from "../handles/pool.js";
import type { TcpListener, TcpSocket } from "../handles/types.js";
import { canBlock, suspended } from "../runtime/sched.js";
import { adoptFd, socketInode } from "../stream/fromfd.js";
import { startListener } from "../stream/listen.js";
import { TcpListenerStorage, TcpStorage, tcpConnStorages, tcpListenerStorages } from "./storage.js";
import { guardOps } from "../handles/op.js";

/** TCP states in the `st` column of /proc/net/tcp (include/net/tcp_states.h). */
const TCP_SYN_SENT = 0x02;
const TCP_CLOSE = 0x07;
const TCP_LISTEN = 0x0a;

/** The TCP state of the socket with inode `ino`, or -1 when no TCP socket has it (or no procfs: -2). */
function tcpState(ino: string): number {
  let seen = false;
  for (const table of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "latin1");
    } catch {
      continue;
    }
    seen = true;
    const lines = text.split("\n");
    for (let i = 1; i < lines.length; i++) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
      const f = lines[i]!.trim().split(/\s+/);
      if (f[9] === ino) return parseInt(f[3]!, 16);
    }
  }
  return seen ? -1 : -2;
}

/** Check that `fd` is a TCP socket, listening or connected as `listening` says. */
function checkTcpFd(fn: string, fd: number, listening: boolean): void {
  const state = tcpState(socketInode(fn, fd));
  if (state === -2) return; // no procfs: the kind cannot be checked, Node will refuse what it cannot use
  if (state === -1) throw dillError("EINVAL", fn, "fd", `fd ${fd} is a socket, but not a bound TCP one`);
  if (listening && state !== TCP_LISTEN)
    throw dillError("EINVAL", fn, "fd", `fd ${fd} is not a listening socket (use tcp_fromfd for a connection)`);
  if (!listening && state === TCP_LISTEN)
    throw dillError("EINVAL", fn, "fd", `fd ${fd} is a listening socket (use tcp_listener_fromfd)`);
  if (!listening && (state === TCP_CLOSE || state === TCP_SYN_SENT))
    throw dillError("EINVAL", fn, "fd", `fd ${fd} is not a connected socket`);
}

function fromfd(fd: number, mem: TcpStorage | null, fn: string): number {
  checkTcpFd(fn, fd, false);
  return adoptFd(fd, mem === null ? tcpConnStorages.take(fn) : claim(mem, TcpStorage, fn), fn);
}

/**
 * Makes a TCP connection handle from the file descriptor of a connected TCP socket (for
 * instance one a parent process passed down). TCP_NODELAY is set on it. The handle owns the fd
 * from then on: `hclose`/`tcp_close` close it.
 *
 * @param fd the file descriptor.
 * @returns the connection's handle.
 * @throws `EBADF` (not an open fd), `EINVAL` (not a socket, not a TCP socket, a listening or
 * unconnected one), `EMFILE` (handle table full), `ENOMEM` (storage pool used up).
 *
 * @example
 * ```ts
 * // the parent spawned this process with the connection as fd 3
 * const s = tcp_fromfd(3);
 * yield* bsend(s, "hello", 5, -1);
 * ```
 */
export function tcp_fromfd(fd: number): TcpSocket {
  return fromfd(fd, null, "tcp_fromfd") as TcpSocket;
}

/**
 * Like {@link tcp_fromfd}, with the connection in caller storage: nothing is allocated.
 *
 * @param mem a `TcpStorage` not in use; free again once the handle is closed.
 * @throws as `tcp_fromfd`, plus `EINVAL` (not a `TcpStorage`) and `EBUSY` (in use).
 *
 * @example
 * ```ts
 * const s = tcp_fromfd_mem(3, new TcpStorage());
 * ```
 */
export function tcp_fromfd_mem(fd: number, mem: TcpStorage): TcpSocket {
  checkMem("tcp_fromfd_mem", mem, TcpStorage);
  return fromfd(fd, mem, "tcp_fromfd_mem") as TcpSocket;
}

function* listenerFromfd(fd: number, mem: TcpListenerStorage | null, fn: string): Op<number> {
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  checkTcpFd(fn, fd, true);
  const st = mem === null ? tcpListenerStorages.take(fn) : claim(mem, TcpListenerStorage, fn);
  return yield* startListener(st, cr, { fd }, fn);
}

/**
 * Makes a TCP listener handle from the file descriptor of a listening TCP socket, for instance
 * one inherited from the parent of a pre-forked server or from a service manager. Several
 * processes may accept on the same listening socket; the kernel gives each connection to one of
 * them. The handle owns the fd; closing it closes the fd.
 *
 * @param fd the file descriptor.
 * @returns the listener's handle, for `tcp_accept`.
 * @throws `EBADF` (not an open fd), `EINVAL` (not a listening TCP socket), `EMFILE`, `ENOMEM`,
 * `ECANCELED`.
 *
 * @example
 * ```ts
 * const ls = yield* tcp_listener_fromfd(3);
 * const s = yield* tcp_accept(ls, null, -1);
 * ```
 */
export function* tcp_listener_fromfd(fd: number): Op<TcpListener> {
  return (yield* listenerFromfd(fd, null, "tcp_listener_fromfd")) as TcpListener;
}

/**
 * Like {@link tcp_listener_fromfd}, with the listener in caller storage: nothing is allocated.
 *
 * @param mem a `TcpListenerStorage` not in use; free again once the handle is closed.
 * @throws as `tcp_listener_fromfd`, plus `EINVAL` (not a `TcpListenerStorage`) and `EBUSY`.
 *
 * @example
 * ```ts
 * const ls = yield* tcp_listener_fromfd_mem(3, new TcpListenerStorage());
 * ```
 */
export function* tcp_listener_fromfd_mem(fd: number, mem: TcpListenerStorage): Op<TcpListener> {
  checkMem("tcp_listener_fromfd_mem", mem, TcpListenerStorage);
  return (yield* listenerFromfd(fd, mem, "tcp_listener_fromfd_mem")) as TcpListener;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined)
  guardOps({ tcp_listener_fromfd, tcp_listener_fromfd_mem });
