/**
 * `ipc_pair` and `ipc_pair_mem`: two connected sockets.
 *
 * Node has no `socketpair(2)`. tsdill makes the pair from real Unix-domain stream sockets all the
 * same: a private listener on a fresh Linux abstract-namespace address (no file is created), one
 * connect, one accept, and the listener is closed again.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { BLOCK, guardOps, type Op } from "../handles/op.js";
import { checkMem, claim } from "../handles/pool.js";
import { handleRelease } from "../handles/table.js";
import type { IpcSocket } from "../handles/types.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, flush, park, suspended, wake } from "../runtime/sched.js";
import { fromNode } from "../stream/errno.js";
import { IpcPairStorage, pairStorages } from "./storage.js";

function ignore(): void {}

let serial = 0;

/** The wait for both ends of a pair. */
class PairWait {
  cr: CrBase | null;
  accepted: Socket | null = null;
  connected = false;
  failure: unknown = null;
  readonly onConnection = (s: Socket): void => {
    if (this.accepted === null) this.accepted = s;
    else s.destroy();
    this.check();
  };
  readonly onConnect = (): void => {
    this.connected = true;
    this.check();
  };
  readonly onError = (e: unknown): void => {
    if (this.failure === null) this.failure = e;
    this.check();
  };
  constructor(cr: CrBase) {
    this.cr = cr;
  }
  check(): void {
    const cr = this.cr;
    if (cr === null || (this.failure === null && (this.accepted === null || !this.connected))) return;
    this.cr = null;
    wake(cr, undefined);
    flush();
  }
}

function unblockPair(cr: CrBase): void {
  (cr.waitObj as PairWait).cr = null;
}

function* pair(mem: IpcPairStorage | null, fn: string): Op<[number, number]> {
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  const st = mem === null ? pairStorages.take(fn) : claim(mem, IpcPairStorage, fn);
  const w = new PairWait(cr);
  const addr = `\0tsdill-pair-${process.pid}-${++serial}-${Math.random().toString(36).slice(2)}`;
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
  server.on("connection", w.onConnection);
  server.on("error", w.onError);
  let client: Socket | null = null;
  try {
    server.listen(addr);
    client = createConnection({ path: addr, allowHalfOpen: true });
    client.on("connect", w.onConnect);
    client.on("error", w.onError);
    park(cr, fn, -1, unblockPair, w);
    yield BLOCK;
    if (w.failure !== null) throw fromNode(w.failure, fn, "ENOMEM");
  } catch (e) {
    client?.destroy();
    w.accepted?.destroy();
    pairStorages.release(st);
    throw e;
  } finally {
    server.removeListener("connection", w.onConnection);
    server.removeListener("error", w.onError);
    server.on("error", ignore);
    server.close();
    if (client !== null) {
      client.removeListener("connect", w.onConnect);
      client.removeListener("error", w.onError);
    }
  }
  // The accepted socket keeps its listener (\`server\`, \`_server\`) alive for as long as it is open,
  // only to count connections; this listener is already closed, so it lets go of it.
  const accepted = w.accepted! as Socket & { server: unknown; _server: unknown };
  accepted.server = accepted._server = null;
  st.a.attach(client!, false);
  st.b.attach(accepted, false);
  st.open = 2;
  let h0: number;
  try {
    h0 = st.a.publish(fn); // closes a when it fails
  } catch (e) {
    st.b.close();
    throw e;
  }
  try {
    return [h0, st.b.publish(fn)]; // closes b when it fails
  } catch (e) {
    handleRelease(h0, fn).close();
    throw e;
  }
}

/**
 * Makes two connected IPC sockets: what is sent on one is received on the other (libdill's
 * `socketpair`-based pair). Both are ordinary IPC connections: close each with `hclose` or
 * `ipc_close`.
 *
 * @returns the two handles `[s0, s1]`.
 * @throws `ECANCELED`, `EMFILE` (process fd limit, or handle table full), `ENFILE`, `ENOMEM`
 * (storage pool used up).
 *
 * @example
 * ```ts
 * const [a, b] = yield* ipc_pair();
 * yield* bsend(a, "ping", 4, -1);
 * const buf = new Uint8Array(4);
 * yield* brecv(b, buf, 4, -1);
 * ```
 */
export function* ipc_pair(): Op<[IpcSocket, IpcSocket]> {
  return (yield* pair(null, "ipc_pair")) as [IpcSocket, IpcSocket];
}

/**
 * Like {@link ipc_pair}, with both sockets in caller storage: nothing is allocated.
 *
 * @param mem an `IpcPairStorage` not in use; it is free again once both handles are closed.
 * @throws as `ipc_pair`, plus `EINVAL` (not an `IpcPairStorage`) and `EBUSY` (in use).
 *
 * @example
 * ```ts
 * const mem = new IpcPairStorage();
 * const [a, b] = yield* ipc_pair_mem(mem);
 * ```
 */
export function* ipc_pair_mem(mem: IpcPairStorage): Op<[IpcSocket, IpcSocket]> {
  checkMem("ipc_pair_mem", mem, IpcPairStorage);
  return (yield* pair(mem, "ipc_pair_mem")) as [IpcSocket, IpcSocket];
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ ipc_pair, ipc_pair_mem });
