/**
 * Storage for IPC objects. The `_mem` calls take one of these from the caller (nothing is
 * allocated; the storage is in use until the handle is closed, `EBUSY` if reused before that).
 * The plain calls take one from the shared pool (`ENOMEM` when it is used up, see
 * `dill_configure({ pool })`).
 */
import { FreeList, Storage } from "../handles/pool.js";
import { type ConnHome, StreamConn } from "../stream/conn.js";
import type { ListenerHome } from "../stream/listener.js";
import { IpcListener } from "./listener.js";
import { IPC_FAMILY } from "./socket.js";

/**
 * Storage for one IPC connection (libdill's `struct ipc_storage`), for `ipc_accept_mem`,
 * `ipc_connect_mem` and `ipc_fromfd_mem`.
 *
 * @example
 * ```ts
 * const mem = new IpcStorage();
 * const s = yield* ipc_connect_mem("/tmp/test.ipc", mem, -1);
 * hclose(s); // mem can be used again
 * ```
 */
export class IpcStorage extends Storage implements ConnHome {
  /** The connection object living in this storage. */
  readonly conn: StreamConn = new StreamConn(this, IPC_FAMILY);
  /** Called by the connection when its handle is closed: the storage is free again. */
  connClosed(): void {
    connStorages.release(this);
  }
}

/**
 * Storage for one IPC listener (libdill's `struct ipc_listener_storage`), for `ipc_listen_mem`
 * and `ipc_listener_fromfd_mem`.
 *
 * @example
 * ```ts
 * const mem = new IpcListenerStorage();
 * const ls = yield* ipc_listen_mem("/tmp/test.ipc", 10, mem);
 * ```
 */
export class IpcListenerStorage extends Storage implements ListenerHome {
  /** The listener object living in this storage. */
  readonly listener: IpcListener = new IpcListener(this);
  /** Called by the listener when its handle is closed: the storage is free again. */
  listenerClosed(): void {
    listenerStorages.release(this);
  }
}

/**
 * Storage for a connected pair of IPC sockets (libdill's `struct ipc_pair_storage`), for
 * `ipc_pair_mem`. It is free again once both handles are closed.
 *
 * @example
 * ```ts
 * const mem = new IpcPairStorage();
 * const [a, b] = yield* ipc_pair_mem(mem);
 * ```
 */
export class IpcPairStorage extends Storage implements ConnHome {
  readonly a: StreamConn = new StreamConn(this, IPC_FAMILY);
  readonly b: StreamConn = new StreamConn(this, IPC_FAMILY);
  /** Handles of the pair still open. */
  open = 0;
  /** Called by either connection when its handle is closed: free again once both are. */
  connClosed(): void {
    if (--this.open <= 0) pairStorages.release(this);
  }
}

/** Pooled storages of the plain calls. */
export const connStorages = new FreeList<IpcStorage>(() => new IpcStorage());
export const listenerStorages = new FreeList<IpcListenerStorage>(() => new IpcListenerStorage());
export const pairStorages = new FreeList<IpcPairStorage>(() => new IpcPairStorage());
