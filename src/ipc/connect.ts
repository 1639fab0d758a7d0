/** `ipc_connect` and `ipc_connect_mem`: a connection to a listening socket file. */
import { checkDeadline } from "../handles/args.js";
import { quickError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { checkMem, claim } from "../handles/pool.js";
import type { IpcSocket } from "../handles/types.js";
import { canBlock, expired, suspended } from "../runtime/sched.js";
import { checkAddress } from "./address.js";
import { connStorages, IpcStorage } from "./storage.js";
import { guardOps } from "../handles/op.js";

function* connect(addr: string, mem: IpcStorage | null, deadline: number, fn: string): Op<number> {
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  checkAddress(fn, addr);
  checkDeadline(fn, deadline);
  const st = mem === null ? connStorages.take(fn) : claim(mem, IpcStorage, fn);
  const c = st.conn;
  if (expired(deadline)) {
    st.connClosed();
    throw quickError("ETIMEDOUT", fn);
  }
  try {
    yield* c.connectOp(cr, addr, deadline, fn);
  } catch (e) {
    c.close();
    throw e;
  }
  return c.publish(fn);
}

/**
 * Connects to the IPC listener at the socket file `addr`.
 *
 * Node reports every connection attempt asynchronously, so a deadline of `0` (or one already
 * past) fails with `ETIMEDOUT` without trying. When the listener's backlog is full the kernel
 * refuses at once (`EAGAIN`); a blocking `connect` would wait for room, so tsdill retries until
 * the deadline.
 *
 * @param addr the path of the socket file, at most 107 bytes.
 * @param deadline absolute time in ms; `-1` never.
 * @returns the connection's handle: a bytestream for `bsend`/`brecv`.
 * @throws `EACCES` (no write permission on the socket file), `ECANCELED`, `ECONNREFUSED` (nobody
 * listens there, a stale socket file or a file that is not a socket), `EINVAL`, `ELOOP`, `EMFILE`,
 * `ENAMETOOLONG`, `ENFILE`, `ENOENT` (no such file, or an empty path), `ENOMEM` (storage pool used
 * up), `ENOTDIR`, `ETIMEDOUT`. (`ECONNRESET` is listed by libdill; Linux does not report it for
 * a Unix-socket connect.)
 *
 * @example
 * ```ts
 * const s = yield* ipc_connect("/tmp/test.ipc", now() + 1000);
 * yield* bsend(s, "ABC", 3, -1);
 * ```
 */
export function* ipc_connect(addr: string, deadline: number): Op<IpcSocket> {
  return (yield* connect(addr, null, deadline, "ipc_connect")) as IpcSocket;
}

/**
 * Like {@link ipc_connect}, with the connection in caller storage: nothing is allocated.
 *
 * @param mem an `IpcStorage` not in use; it is free again once the connection's handle is closed.
 * @throws as `ipc_connect`, plus `EINVAL` (not an `IpcStorage`) and `EBUSY` (in use).
 *
 * @example
 * ```ts
 * const mem = new IpcStorage();
 * const s = yield* ipc_connect_mem("/tmp/test.ipc", mem, -1);
 * ```
 */
export function* ipc_connect_mem(addr: string, mem: IpcStorage, deadline: number): Op<IpcSocket> {
  checkMem("ipc_connect_mem", mem, IpcStorage);
  return (yield* connect(addr, mem, deadline, "ipc_connect_mem")) as IpcSocket;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined)
  guardOps({ ipc_connect, ipc_connect_mem });
