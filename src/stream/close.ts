/** `*_done` and `*_close` of every stream family: the orderly ends of a connection. */
import { checkDeadline } from "../handles/args.js";
import { dillError, isDillError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { handleGet, handleQuery, handleRelease } from "../handles/table.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, suspended } from "../runtime/sched.js";
import type { StreamConn } from "./conn.js";

/** `*_done` for the connections answering `type` (IPC or TCP): close the sending half. */
export function* doneOn(s: number, deadline: number, type: symbol, fn: string): Op<void> {
  if (canBlock(fn) === null) return yield* suspended();
  const c = handleQuery(s, type, fn, "s") as StreamConn;
  checkDeadline(fn, deadline);
  c.shutdownWrite(fn);
}

/**
 * `*_close` for the family whose connections answer `type` and listeners `listenerType`: a
 * listener is just closed, a connection goes through the orderly handshake. `what` names the
 * family's socket in the ENOTSUP message.
 */
export function* closeOn(
  s: number,
  deadline: number,
  type: symbol,
  listenerType: symbol,
  fn: string,
  what: string,
): Op<void> {
  const vfs = handleGet(s, fn, "s");
  checkDeadline(fn, deadline);
  if (vfs.query(listenerType)) {
    handleRelease(s, fn).close();
    return;
  }
  const c = vfs.query(type) as StreamConn | undefined;
  if (!c) throw dillError("ENOTSUP", fn, "s", `handle ${s} (${vfs.kind ?? "user"}) is not ${what}`);
  let cr: CrBase | null;
  try {
    cr = canBlock(fn);
  } catch (e) {
    // Cancelled: the handshake cannot happen, but the socket is closed as promised.
    if (isDillError(e, "ECANCELED")) handleRelease(s, fn).close();
    throw e;
  }
  const released = handleRelease(s, fn);
  if (cr === null) {
    released.close(); // the coroutine ignores its cancellation and is being stopped: closed all the same
    return yield* suspended();
  }
  yield* c.closeOrderly(cr, deadline, fn);
}
