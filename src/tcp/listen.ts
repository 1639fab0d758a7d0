/** `tcp_listen` and `tcp_listen_mem`: a listener on an IP address and port. */
import type { AddressInfo } from "node:net";
import { checkCount } from "../handles/args.js";
import { dillError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { checkMem, claim } from "../handles/pool.js";
import type { TcpListener } from "../handles/types.js";
import { canBlock, suspended } from "../runtime/sched.js";
import { startListener } from "../stream/listen.js";
import { checkIpAddr, type IpAddr, ipaddrSet } from "../ipaddr/ipaddr.js";
import { TcpListenerStorage, tcpListenerStorages } from "./storage.js";
import { guardOps } from "../handles/op.js";

function* listen(addr: IpAddr, backlog: number, mem: TcpListenerStorage | null, fn: string): Op<number> {
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  checkIpAddr(fn, "addr", addr);
  checkCount(fn, "backlog", backlog);
  if (backlog > 0x7fffffff) throw dillError("EINVAL", fn, "backlog", `backlog must be at most ${0x7fffffff}`);
  const st = mem === null ? tcpListenerStorages.take(fn) : claim(mem, TcpListenerStorage, fn);
  const ls = yield* startListener(st, cr, { host: addr.address, port: addr.port, backlog }, fn);
  if (addr.port === 0) {
    const bound = st.listener.server!.address() as AddressInfo;
    ipaddrSet(addr, addr.family, addr.address, bound.port);
  }
  return ls;
}

/**
 * Starts listening for TCP connections on a local address. Accept them with `tcp_accept`; close
 * the listener with `hclose` or `tcp_close`. When the port of `addr` is 0 the system picks a free
 * port and, as in libdill, writes it into `addr`: read it with `ipaddr_port(addr)`.
 *
 * @param addr the local address, from `ipaddr_local` (`null` name: every interface).
 * @param backlog the length of the kernel's queue of connections not yet taken by the process
 * (passed to `listen(2)`). Node takes connections from it as soon as its event loop runs; they
 * then wait in tsdill's queue for `tcp_accept`.
 * @returns the listener's handle.
 * @throws `EADDRINUSE` (another socket listens on that address and port), `EADDRNOTAVAIL` (the
 * address is not one of this machine's), `EACCES` (a port below 1024 without the privilege),
 * `EINVAL` (bad `addr` or `backlog`), `EMFILE` (process fd limit, or handle table full),
 * `ENFILE`, `ENOMEM` (the storage pool is used up), `ECANCELED`.
 *
 * @example
 * ```ts
 * const addr = ipaddr_local("127.0.0.1", 0, 0);
 * const ls = yield* tcp_listen(addr, 10);
 * console.log(`listening on port ${ipaddr_port(addr)}`);
 * ```
 */
export function* tcp_listen(addr: IpAddr, backlog: number): Op<TcpListener> {
  return (yield* listen(addr, backlog, null, "tcp_listen")) as TcpListener;
}

/**
 * Like {@link tcp_listen}, with the listener in caller storage: nothing is allocated.
 *
 * @param mem a `TcpListenerStorage` not in use by an open handle; free again once the
 * listener's handle is closed.
 * @throws as `tcp_listen`, plus `EINVAL` when `mem` is not a `TcpListenerStorage` and `EBUSY`
 * when it is in use (and no `ENOMEM`).
 *
 * @example
 * ```ts
 * const mem = new TcpListenerStorage();
 * const ls = yield* tcp_listen_mem(ipaddr_local("127.0.0.1", 0, 0), 10, mem);
 * hclose(ls);
 * ```
 */
export function* tcp_listen_mem(addr: IpAddr, backlog: number, mem: TcpListenerStorage): Op<TcpListener> {
  checkMem("tcp_listen_mem", mem, TcpListenerStorage);
  return (yield* listen(addr, backlog, mem, "tcp_listen_mem")) as TcpListener;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ tcp_listen, tcp_listen_mem });
