/** `tcp_accept` and `tcp_accept_mem`: the next incoming connection of a TCP listener. */
import type { Socket } from "node:net";
import { checkDeadline } from "../handles/args.js";
import { dillError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { checkMem, claim } from "../handles/pool.js";
import { handleQuery } from "../handles/table.js";
import type { TcpListener, TcpSocket, Unbranded } from "../handles/types.js";
import type { StreamListener } from "../stream/listener.js";
import { canBlock, suspended } from "../runtime/sched.js";
import { TCP_LISTENER_TYPE } from "./family.js";
import { AF_INET, AF_INET6, checkIpAddr, type IpAddr, ipaddrSet } from "../ipaddr/ipaddr.js";
import { TcpStorage, tcpConnStorages } from "./storage.js";
import { guardOps } from "../handles/op.js";

/** Write the peer's address of `sock` into `addr` (what libdill's accept(2) fills in). */
/** Write the peer's address of `sock` into `addr`, read before the socket was adopted. */
function peer(host: string | undefined, family: string | undefined, port: number | undefined, addr: IpAddr): void {
  if (host === undefined) return; // the connection already failed: nothing to report
  const pct = host.indexOf("%");
  ipaddrSet(addr, family === "IPv6" ? AF_INET6 : AF_INET, pct < 0 ? host : host.slice(0, pct), port ?? 0);
}

function* accept(ls: number, addr: IpAddr | null, mem: TcpStorage | null, deadline: number, fn: string): Op<number> {
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  const l = handleQuery(ls, TCP_LISTENER_TYPE, fn, "ls") as StreamListener;
  if (addr !== null) checkIpAddr(fn, "addr", addr);
  checkDeadline(fn, deadline);
  if (l.waiter !== null) throw dillError("EBUSY", fn, "ls", "another coroutine is already accepting on this listener");
  const st = mem === null ? tcpConnStorages.take(fn) : claim(mem, TcpStorage, fn);
  let sock: Socket;
  try {
    sock = yield* l.nextOp(cr, deadline, fn);
  } catch (e) {
    st.connClosed();
    throw e;
  }
  const host = sock.remoteAddress;
  const family = sock.remoteFamily;
  const port = sock.remotePort;
  const s = st.conn.adopt(sock, fn);
  if (addr !== null) peer(host, family, port, addr); // only once the call succeeds
  return s;
}

/**
 * Accepts the next incoming connection of a TCP listener. TCP_NODELAY is set on it.
 *
 * @param ls a listener handle from `tcp_listen` or `tcp_listener_fromfd`.
 * @param addr an {@link IpAddr} that receives the peer's address and port, or null. (libdill's
 * out-parameter: the object passed is changed in place.)
 * @param deadline absolute time in ms; `-1` never, `0` only if a connection is already waiting.
 * @returns the new connection's handle: a bytestream for `bsend`/`brecv`.
 * @throws `EBADF` (not a handle, or the listener was closed while waiting), `ENOTSUP` (not a TCP
 * listener), `EINVAL` (bad `addr` or deadline), `EBUSY` (another coroutine is accepting on
 * `ls`), `EMFILE` (handle table full), `ENOMEM` (storage pool used up), `ECANCELED`,
 * `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const from = new IpAddr();
 * const s = yield* tcp_accept(ls, from, now() + 1000);
 * console.log(`connection from ${ipaddr_str(from)}:${ipaddr_port(from)}`);
 * ```
 */
export function* tcp_accept(ls: TcpListener | Unbranded, addr: IpAddr | null, deadline: number): Op<TcpSocket> {
  return (yield* accept(ls, addr, null, deadline, "tcp_accept")) as TcpSocket;
}

/**
 * Like {@link tcp_accept}, with the connection in caller storage: nothing is allocated.
 *
 * @param mem a `TcpStorage` not in use; free again once the connection's handle is closed.
 * @throws as `tcp_accept`, plus `EINVAL` (not a `TcpStorage`) and `EBUSY` (in use).
 *
 * @example
 * ```ts
 * const mem = new TcpStorage();
 * const s = yield* tcp_accept_mem(ls, null, mem, -1);
 * ```
 */
export function* tcp_accept_mem(
  ls: TcpListener | Unbranded,
  addr: IpAddr | null,
  mem: TcpStorage,
  deadline: number,
): Op<TcpSocket> {
  checkMem("tcp_accept_mem", mem, TcpStorage);
  return (yield* accept(ls, addr, mem, deadline, "tcp_accept_mem")) as TcpSocket;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ tcp_accept, tcp_accept_mem });
