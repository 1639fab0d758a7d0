/**
 * Storage for TCP objects, as for IPC ones: the `_mem` calls take one from the caller (nothing is
 * allocated; in use until the handle is closed, `EBUSY` if reused before), the plain calls take
 * one from the shared pool (`ENOMEM` when it is used up).
 */
import { FreeList, Storage } from "../handles/pool.js";
import { type ConnHome, StreamConn } from "../stream/conn.js";
import { type ListenerHome, StreamListener } from "../stream/listener.js";
import { TCP_FAMILY, TCP_LISTENER_TYPE } from "./family.js";

/**
 * Storage for one TCP connection (libdill's `struct tcp_storage`), for `tcp_accept_mem`,
 * `tcp_connect_mem` and `tcp_fromfd_mem`.
 *
 * @example
 * ```ts
 * const mem = new TcpStorage();
 * const s = yield* tcp_connect_mem(addr, mem, -1);
 * hclose(s); // mem can be used again
 * ```
 */
export class TcpStorage extends Storage implements ConnHome {
  /** The connection object living in this storage. */
  readonly conn: StreamConn = new StreamConn(this, TCP_FAMILY);
  /** Called by the connection when its handle is closed: the storage is free again. */
  connClosed(): void {
    tcpConnStorages.release(this);
  }
}

/**
 * Storage for one TCP listener (libdill's `struct tcp_listener_storage`), for `tcp_listen_mem`
 * and `tcp_listener_fromfd_mem`.
 *
 * @example
 * ```ts
 * const mem = new TcpListenerStorage();
 * const ls = yield* tcp_listen_mem(addr, 10, mem);
 * ```
 */
export class TcpListenerStorage extends Storage implements ListenerHome {
  /** The listener object living in this storage. */
  readonly listener: StreamListener = new StreamListener(this, "tcp_listener", TCP_LISTENER_TYPE);
  /** Called by the listener when its handle is closed: the storage is free again. */
  listenerClosed(): void {
    tcpListenerStorages.release(this);
  }
}

/** Pooled storages of the plain calls. */
export const tcpConnStorages = new FreeList<TcpStorage>(() => new TcpStorage());
export const tcpListenerStorages = new FreeList<TcpListenerStorage>(() => new TcpListenerStorage());
