/**
 * Storage for UDP sockets, as for the other families: `udp_open_mem` takes one from the caller
 * (nothing is allocated; in use until the handle is closed, `EBUSY` if reused before), `udp_open`
 * takes one from the shared pool (`ENOMEM` when it is used up).
 */
import { FreeList, Storage } from "../handles/pool.js";
import { type UdpHome, UdpSock } from "./socket.js";

/**
 * Storage for one UDP socket (libdill's `struct udp_storage`), for `udp_open_mem`.
 *
 * @example
 * ```ts
 * const mem = new UdpStorage();
 * const s = yield* udp_open_mem(ipaddr_local("127.0.0.1", 0, 0), null, mem);
 * hclose(s); // mem can be used again
 * ```
 */
export class UdpStorage extends Storage implements UdpHome {
  /** The socket object living in this storage. */
  readonly sock: UdpSock = new UdpSock(this);
  /** Called by the socket when its handle is closed: the storage is free again. */
  udpClosed(): void {
    udpStorages.release(this);
  }
}

/** Pooled storages of `udp_open`. */
export const udpStorages = new FreeList<UdpStorage>(() => new UdpStorage());
