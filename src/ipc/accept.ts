/** `ipc_accept` and `ipc_accept_mem`: the next incoming connection of a listener. */
import type { Socket } from "node:net";
import { checkDeadline } from "../handles/args.js";
import { dillError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { checkMem, claim } from "../handles/pool.js";
import { handleQuery } from "../handles/table.js";
import type { IpcListener as IpcListenerHandle, IpcSocket, Unbranded } from "../handles/types.js";
import { canBlock, suspended } from "../runtime/sched.js";
import { IPC_LISTENER_TYPE, type IpcListener } from "./listener.js";
import { connStorages, IpcStorage } from "./storage.js";
import { guardOps } from "../handles/op.js";

function* accept(ls: number, mem: IpcStorage | null, deadline: number, fn: string): Op<number> {
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  const l = handleQuery(ls, IPC_LISTENER_TYPE, fn, "ls") as IpcListener;
  checkDeadline(fn, deadline);
  if (l.waiter !== null) throw dillError("EBUSY", fn, "ls", "another coroutine is already accepting on this listener");
  const st = mem === null ? connStorages.take(fn) : claim(mem, IpcStorage, fn);
  const c = st.conn;
  let sock: Socket;
  try {
    sock = yield* l.nextOp(cr, deadline, fn);
  } catch (e) {
    st.connClosed();
    throw e;
  }
  return c.adopt(sock, fn);
}

/**
 * Accepts the next incoming connection of a listener.
 *
 * @param ls a listener handle from `ipc_listen` or `ipc_listener_fromfd`.
 * @param deadline absolute time in ms; `-1` never, `0` only if a connection is already waiting.
 * @returns the new connection's handle: a bytestream for `bsend`/`brecv`.
 * @throws `EBADF` (not a handle, or the listener was closed while waiting), `ENOTSUP` (not a
 * listener), `EINVAL` (deadline), `EBUSY` (another coroutine is accepting on `ls`), `EMFILE`
 * (handle table full), `ENOMEM` (storage pool used up), `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const ls = yield* ipc_listen("/tmp/test.ipc", 10);
 * const s = yield* ipc_accept(ls, now() + 1000);
 * ```
 */
export function* ipc_accept(ls: IpcListenerHandle | Unbranded, deadline: number): Op<IpcSocket> {
  return (yield* accept(ls, null, deadline, "ipc_accept")) as IpcSocket;
}

/**
 * Like {@link ipc_accept}, with the connection in caller storage: nothing is allocated.
 *
 * @param mem an `IpcStorage` not in use; it is free again once the connection's handle is closed.
 * @throws as `ipc_accept`, plus `EINVAL` (not an `IpcStorage`) and `EBUSY` (in use).
 *
 * @example
 * ```ts
 * const mem = new IpcStorage();
 * const s = yield* ipc_accept_mem(ls, mem, -1);
 * ```
 */
export function* ipc_accept_mem(ls: IpcListenerHandle | Unbranded, mem: IpcStorage, deadline: number): Op<IpcSocket> {
  checkMem("ipc_accept_mem", mem, IpcStorage);
  return (yield* accept(ls, mem, deadline, "ipc_accept_mem")) as IpcSocket;
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ ipc_accept, ipc_accept_mem });
