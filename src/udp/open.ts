/**
 * `udp_open` and `udp_open_mem`: a UDP socket bound to a local address, with an optional default
 * remote address.
 *
 * libdill's `udp_open` does not block: `bind(2)` answers at once. Node binds a datagram socket
 * asynchronously and reports its errors (`EADDRINUSE`...) a moment later, so here, as for
 * `ipc_listen` and `tcp_listen`, the call is an `Op` that waits for that answer.
 */
import { createSocket, type Socket } from "node:dgram";
import { dillError, ERRNO, type ErrnoCode } from "../handles/errors.js";
import { BLOCK, guardOps, type Op } from "../handles/op.js";
import { checkMem, claim } from "../handles/pool.js";
import { handleMake } from "../handles/table.js";
import type { UdpSocket } from "../handles/types.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, flush, park, suspended, wake, wakeWithError } from "../runtime/sched.js";
import { AF_INET, AF_INET6, checkIpAddr, type IpAddr, IpAddr as Addr, ipaddrSet } from "../ipaddr/ipaddr.js";
import { UdpStorage, udpStorages } from "./storage.js";

/** A bind in flight: the coroutine waiting for it, until Node answers or the wait is given up. */
class Binding {
  cr: CrBase | null = null;
  private closed = false;
  constructor(
    readonly sock: Socket,
    readonly fn: string,
  ) {}
  readonly listening = (): void => {
    this.sock.off("error", this.failed);
    const cr = this.cr;
    if (cr === null) return;
    this.cr = null;
    wake(cr, undefined);
    flush();
  };
  readonly failed = (e: NodeJS.ErrnoException): void => {
    this.sock.off("listening", this.listening);
    const cr = this.cr;
    if (cr === null) return;
    this.cr = null;
    const c = e.code;
    const code: ErrnoCode = typeof c === "string" && c in ERRNO ? (c as ErrnoCode) : "EINVAL";
    const err = dillError(code, this.fn, "local", e.message);
    wakeWithError(cr, err);
    flush();
  };
  /** Close the socket that never became a handle (once). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.removeAllListeners();
    this.sock.on("error", ignore);
    try {
      this.sock.close();
    } catch {
      // never bound: nothing to close
    }
  }
}

function ignore(): void {}

/** A cancelled bind: the coroutine is gone, the half-made socket is closed. */
function unblockBind(cr: CrBase): void {
  const b = cr.waitObj as Binding;
  if (b.cr !== cr) return;
  b.cr = null;
  b.close();
}

function* open(local: IpAddr | null, remote: IpAddr | null, mem: UdpStorage | null, fn: string): Op<number> {
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  if (local !== null) checkIpAddr(fn, "local", local);
  if (remote !== null) checkIpAddr(fn, "remote", remote);
  if (local !== null && remote !== null && local.family !== remote.family)
    throw dillError("EINVAL", fn, "remote", "local and remote addresses are of different families");
  const family = remote !== null ? remote.family : local !== null ? local.family : AF_INET;
  const st = mem === null ? udpStorages.take(fn) : claim(mem, UdpStorage, fn);
  // Bound at once to the local address, or to any address of the family: the system would bind
  // it to an ephemeral port on the first send anyway, and a socket must be bound to receive.
  const sock = createSocket({ type: family === AF_INET6 ? "udp6" : "udp4" });
  const b = new Binding(sock, fn);
  sock.once("listening", b.listening);
  sock.once("error", b.failed);
  b.cr = cr;
  try {
    sock.bind({ port: local?.port ?? 0, address: local?.address ?? (family === AF_INET6 ? "::" : "0.0.0.0") });
    park(cr, fn, -1, unblockBind, b);
    yield BLOCK;
  } catch (e) {
    b.cr = null;
    b.close();
    st.udpClosed();
    throw e;
  }
  if (local !== null && local.port === 0) ipaddrSet(local, local.family, local.address, sock.address().port);
  const u = st.sock;
  u.open(sock, family, remote === null ? null : new Addr(remote));
  try {
    return handleMake(u, fn);
  } catch (e) {
    u.close();
    throw e;
  }
}

/**
 * Opens a UDP socket. It is bound to `local` (when its port is 0 the system picks one and, as in
 * libdill, writes it into `local`); with no local address it is bound to an ephemeral port of
 * the any address. `remote`, when given, is the destination of `udp_send` with a null address
 * and of `msend`, the only source `udp_recv` and `mrecv` accept (datagrams from elsewhere are
 * dropped), and makes the handle a message socket for `msend`/`mrecv`. Close it with `hclose`.
 *
 * @param local the local address (from `ipaddr_local`), or null.
 * @param remote the default remote address (from `ipaddr_remote`), or null; of the same family
 * as `local`. It is copied: changing it afterwards changes nothing.
 * @returns the socket's handle.
 * @throws `EADDRINUSE` (another socket is bound to `local`), `EADDRNOTAVAIL` (`local` is not an
 * address of this machine), `EACCES` (a port below 1024 without the privilege), `EINVAL` (bad
 * addresses, or of two families), `EMFILE`, `ENFILE`, `ENOMEM` (the storage pool is used up),
 * `ECANCELED`.
 *
 * @example
 * ```ts
 * const local = ipaddr_local("127.0.0.1", 0, 0);
 * const s = yield* udp_open(local, null);
 * console.log(`bound to port ${ipaddr_port(local)}`);
 * hclose(s);
 * ```
 */
export function* udp_open(local: IpAddr | null, remote: IpAddr | null): Op<UdpSocket> {
  return (yield* open(local ?? null, remote ?? null, null, "udp_open")) as UdpSocket;
}

/**
 * Like {@link udp_open}, with the socket in caller storage: nothing is allocated.
 *
 * @param mem a `UdpStorage` not in use; free again once the socket's handle is closed.
 * @throws as `udp_open`, plus `EINVAL` (not a `UdpStorage`) and `EBUSY` (in use), and no `ENOMEM`.
 *
 * @example
 * ```ts
 * const mem = new UdpStorage();
 * const s = yield* udp_open_mem(ipaddr_local("127.0.0.1", 0, 0), null, mem);
 * hclose(s);
 * ```
 */
export function* udp_open_mem(local: IpAddr | null, remote: IpAddr | null, mem: UdpStorage): Op<UdpSocket> {
  checkMem("udp_open_mem", mem, UdpStorage);
  return (yield* open(local ?? null, remote ?? null, mem, "udp_open_mem")) as UdpSocket;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ udp_open, udp_open_mem });
