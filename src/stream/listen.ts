/**
 * Starting a stream listener: a `node:net` server in a listener's storage, bound with the
 * family's options, waited on until it listens, and put behind a handle. A family that does
 * something with what it bound (IPC gives its socket file a mode and a name) passes a
 * {@link Binding}.
 */
import { createServer, type ListenOptions, type Server } from "node:net";
import { BLOCK, type Op } from "../handles/op.js";
import { handleMake } from "../handles/table.js";
import type { CrBase } from "../runtime/cr.js";
import { park } from "../runtime/sched.js";
import { fromNode } from "./errno.js";
import { type StreamListener, unblockListener } from "./listener.js";

/** What a family does around binding its listener (IPC: the placement of its socket file). */
export interface Binding {
  /** Bind and listen: `server.listen(options)`, in whatever conditions the family needs. */
  listen(server: Server, options: ListenOptions | { fd: number }): void;
  /** True when the bind has visibly happened already, so that {@link place} may run at once. */
  bound(): boolean;
  /** Finish what was bound (fails the listen call when it cannot). */
  place(fn: string): void;
  /** Undo whatever is left of the binding after a failure. */
  cleanUp(): void;
}

/**
 * Start a `node:net` server with `options` in the listener of `st` and wait until it listens;
 * returns the listener's new handle. On failure the server is closed and `st` is free again.
 * With `binding`, the bound address is then placed (see {@link Binding}).
 */
export function* startListener(
  st: { readonly listener: StreamListener },
  cr: CrBase,
  options: ListenOptions | { fd: number },
  fn: string,
  binding: Binding | null = null,
): Op<number> {
  const l = st.listener;
  try {
    l.attach(createServer({ allowHalfOpen: true, pauseOnConnect: true }));
    try {
      if (binding === null) l.server!.listen(options as ListenOptions);
      else binding.listen(l.server!, options);
    } catch (e) {
      throw fromNode(e, fn, "EINVAL");
    }
    // Node binds and listens within listen() and reports the outcome a tick later. The address
    // is placed at once when it is bound, so that it can be connected to as soon as the call
    // continues (a peer launched beside the listener finds it); when it is not, the bind failed
    // and the error Node is about to report says why.
    const placed = binding === null || (binding.bound() && (binding.place(fn), true));
    if (!l.listening) {
      if (l.pending !== null) throw fromNode(l.pending, fn, "EINVAL");
      l.waiter = cr;
      park(cr, fn, -1, unblockListener, l);
      yield BLOCK;
    }
    if (!placed) binding!.place(fn);
    return handleMake(l, fn);
  } catch (e) {
    l.waiter = null;
    l.close();
    if (binding !== null) binding.cleanUp();
    throw e;
  }
}
