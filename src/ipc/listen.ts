/** `ipc_listen` and `ipc_listen_mem`: a listener on a socket file. */
import { createServer, type ListenOptions } from "node:net";
import { checkCount } from "../handles/args.js";
import { dillError } from "../handles/errors.js";
import { BLOCK, type Op } from "../handles/op.js";
import { checkMem, claim } from "../handles/pool.js";
import { handleMake } from "../handles/table.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, park } from "../runtime/sched.js";
import { checkAddress, checkDirectory } from "./address.js";
import { fromNode } from "./errno.js";
import { unblockListener } from "./listener.js";
import { IpcListenerStorage, listenerStorages } from "./storage.js";

/**
 * Start a `node:net` server with `options` in the listener of `st` and wait until it listens;
 * returns the listener's new handle. On failure the server is closed and `st` is free again.
 */
export function* startListener(st: IpcListenerStorage, cr: CrBase, options: ListenOptions | { fd: number }, fn: string): Op<number> {
  const l = st.listener;
  try {
    l.attach(createServer({ allowHalfOpen: true, pauseOnConnect: true }));
    try {
      l.server!.listen(options as ListenOptions);
    } catch (e) {
      throw fromNode(e, fn, "EINVAL");
    }
    if (!l.listening) {
      if (l.pending !== null) throw fromNode(l.pending, fn, "EINVAL");
      l.waiter = cr;
      park(cr, fn, -1, unblockListener, l);
      yield BLOCK;
    }
    return handleMake(l, fn);
  } catch (e) {
    l.waiter = null;
    l.close();
    throw e;
  }
}

function* listen(addr: string, backlog: number, mem: IpcListenerStorage | null, fn: string): Op<number> {
  const cr = canBlock(fn);
  checkAddress(fn, addr);
  checkCount(fn, "backlog", backlog);
  if (backlog > 0x7fffffff) throw dillError("EINVAL", fn, "backlog", `backlog must be at most ${0x7fffffff}`);
  checkDirectory(fn, addr);
  const st = mem === null ? listenerStorages.take(fn) : claim(mem, IpcListenerStorage, fn);
  return yield* startListener(st, cr, { path: addr, backlog }, fn);
}

/**
 * Starts listening for IPC connections on the socket file `addr` (a Unix-domain stream socket).
 * Accept them with `ipc_accept`; close the listener with `hclose` or `ipc_close`, which also
 * removes the socket file (libdill leaves it behind). An existing file at `addr`, a stale
 * socket file included, is never removed for you: that is `EADDRINUSE`.
 *
 * @param addr the path of the socket file, at most 107 bytes (UTF-8).
 * @param backlog the length of the kernel's queue of connections not yet accepted by the process
 * (passed to `listen(2)`). Node accepts connections from that queue as soon as its event loop
 * runs, and they then wait in tsdill's own queue for `ipc_accept`; so `backlog` only matters
 * while the process is too busy to run its event loop.
 * @returns the listener's handle.
 * @throws `EACCES` (no permission to create the file), `EADDRINUSE` (the path exists),
 * `EINVAL` (bad `addr` or `backlog`), `ELOOP`, `EMFILE` (process fd limit, or handle table full),
 * `ENAMETOOLONG` (longer than 107 bytes, checked before any system call), `ENFILE`, `ENOENT` (empty
 * path or missing directory), `ENOMEM` (the storage pool is used up), `ENOTDIR`, `ECANCELED`.
 *
 * @example
 * ```ts
 * const ls = yield* ipc_listen("/tmp/test.ipc", 10);
 * const s = yield* ipc_accept(ls, -1);
 * ```
 */
export function* ipc_listen(addr: string, backlog: number): Op<number> {
  return yield* listen(addr, backlog, null, "ipc_listen");
}

/**
 * Like {@link ipc_listen}, with the listener in caller storage: nothing is allocated.
 *
 * @param mem an `IpcListenerStorage` not in use by an open handle; it is free again once the
 * listener's handle is closed.
 * @throws as `ipc_listen`, plus `EINVAL` when `mem` is not an `IpcListenerStorage` and `EBUSY`
 * when it is in use (and no `ENOMEM`).
 *
 * @example
 * ```ts
 * const mem = new IpcListenerStorage();
 * const ls = yield* ipc_listen_mem("/tmp/test.ipc", 10, mem);
 * hclose(ls);
 * ```
 */
export function* ipc_listen_mem(addr: string, backlog: number, mem: IpcListenerStorage): Op<number> {
  checkMem("ipc_listen_mem", mem, IpcListenerStorage);
  return yield* listen(addr, backlog, mem, "ipc_listen_mem");
}
