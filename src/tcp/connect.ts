/** `tcp_connect` and `tcp_connect_mem`: a TCP connection to a remote address. */
import { checkDeadline } from "../handles/args.js";
import { quickError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { checkMem, claim } from "../handles/pool.js";
import type { TcpSocket } from "../handles/types.js";
import { canBlock, expired, suspended } from "../runtime/sched.js";
import { AF_INET6, checkIpAddr, type IpAddr } from "../ipaddr/ipaddr.js";
import { TcpStorage, tcpConnStorages } from "./storage.js";
import { guardOps } from "../handles/op.js";

function* connect(addr: IpAddr, mem: TcpStorage | null, deadline: number, fn: string): Op<number> {
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  checkIpAddr(fn, "addr", addr);
  checkDeadline(fn, deadline);
  const st = mem === null ? tcpConnStorages.take(fn) : claim(mem, TcpStorage, fn);
  const c = st.conn;
  if (expired(deadline)) {
    st.connClosed();
    throw quickError("ETIMEDOUT", fn);
  }
  const dest = { host: addr.address, port: addr.port, family: addr.family === AF_INET6 ? 6 : 4, allowHalfOpen: true };
  try {
    yield* c.connectOp(cr, dest, deadline, fn);
  } catch (e) {
    c.close();
    throw e;
  }
  return c.publish(fn);
}

/**
 * Connects to a TCP endpoint. TCP_NODELAY is set on the connection, as libdill does.
 *
 * Node reports every connection attempt asynchronously, so a deadline of `0` (or one already
 * past) fails with `ETIMEDOUT` without trying.
 *
 * @param addr the remote address, from `ipaddr_remote` (or `ipaddr_local` for this machine).
 * @param deadline absolute time in ms; `-1` never (the system then gives up after its own
 * timeout, with `ETIMEDOUT`).
 * @returns the connection's handle: a bytestream for `bsend`/`brecv`.
 * @throws `ECONNREFUSED` (nobody listens on that port), `ECONNRESET`, `ENETUNREACH`,
 * `EHOSTUNREACH`, `EADDRNOTAVAIL` (no local port left), `EAFNOSUPPORT` (no IPv6 on this
 * machine), `EINVAL` (bad `addr` or deadline), `EMFILE`, `ENFILE`, `ENOMEM` (storage pool used
 * up), `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const addr = yield* ipaddr_remote("localhost", port, 0, now() + 1000);
 * const s = yield* tcp_connect(addr, now() + 1000);
 * yield* bsend(s, "ABC", 3, -1);
 * ```
 */
export function* tcp_connect(addr: IpAddr, deadline: number): Op<TcpSocket> {
  return (yield* connect(addr, null, deadline, "tcp_connect")) as TcpSocket;
}

/**
 * Like {@link tcp_connect}, with the connection in caller storage: nothing is allocated.
 *
 * @param mem a `TcpStorage` not in use; free again once the connection's handle is closed.
 * @throws as `tcp_connect`, plus `EINVAL` (not a `TcpStorage`) and `EBUSY` (in use).
 *
 * @example
 * ```ts
 * const mem = new TcpStorage();
 * const s = yield* tcp_connect_mem(addr, mem, -1);
 * ```
 */
export function* tcp_connect_mem(addr: IpAddr, mem: TcpStorage, deadline: number): Op<TcpSocket> {
  checkMem("tcp_connect_mem", mem, TcpStorage);
  return (yield* connect(addr, mem, deadline, "tcp_connect_mem")) as TcpSocket;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined)
  guardOps({ tcp_connect, tcp_connect_mem });
