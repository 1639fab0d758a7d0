/**
 * The stream connection: one `node:net` socket behind a handle, with libdill's bytestream
 * semantics. Every stream family uses it: IPC (Unix-domain) and TCP connections differ only in
 * their {@link StreamFamily} (the interface id they answer, their kind, TCP_NODELAY) and in the
 * address they connect to, so there is one class and every connection object has the same shape.
 *
 * The class is built in layers, one file each (see `state.ts`); this last one is the life cycle:
 * the handle (`query`, `adopt`, `publish`), a socket that fails or closes under the connection,
 * `hclose`, and the orderly close of `ipc_close`/`tcp_close`. Wake-ups happen in socket
 * callbacks: wake/wakeWithError, then flush() runs the coroutines at once.
 */
import type { Socket } from "node:net";
import { BSOCK_TYPE, type Bytestream } from "../handles/bytestream.js";
import { type ErrnoCode, quickError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { type HandleVfs, handleMake } from "../handles/table.js";
import type { CrBase } from "../runtime/cr.js";
import { flush, interrupt, wakeWithError } from "../runtime/sched.js";
import { StreamConnector } from "./connect.js";
import { connCode } from "./errno.js";

export type { ConnHome, StreamFamily } from "./state.js";

/** A connection behind a handle: a Node socket with libdill's bytestream semantics (see above). */
export class StreamConn extends StreamConnector implements HandleVfs, Bytestream {
  query(type: symbol): unknown {
    return type === BSOCK_TYPE || type === this.family.type ? this : undefined;
  }

  /**
   * Take over a connected `sock` and put this connection behind a new handle. When no handle can
   * be made (`EMFILE`) the socket is closed at once, so nothing is left open.
   */
  adopt(sock: Socket, fn: string): number {
    this.attach(sock, false);
    return this.publish(fn);
  }

  /** Put this (attached) connection behind a new handle, or close it when that fails. */
  publish(fn: string): number {
    try {
      return handleMake(this, fn);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Fail the parked coroutines with `code` (their handle is gone or the socket failed). */
  wakeAll(code: ErrnoCode): void {
    const r = this.rx;
    if (r !== null) {
      this.rx = null;
      this.dropTarget();
      interrupt(r, quickError(code, r.waitOp));
    }
    const t = this.tx;
    if (t !== null) {
      this.tx = null;
      if (!this.connecting) this.abortSend();
      interrupt(t, quickError(code, t.waitOp));
    }
  }

  /** hclose: closes at once, no handshake. A coroutine parked on the handle fails with EBADF. */
  close(): void {
    this.wakeAll("EBADF");
    this.detach();
    this.dest = null;
    this.home.connClosed(this);
  }

  // ---- socket events ---------------------------------------------------------------------------
  /** The socket failed: its error event, or IPC's own reader. */
  error(e: Error): void {
    if (this.connecting) {
      this.connectFailed(e);
      return;
    }
    if (this.broken === null) this.broken = connCode(e);
    this.failWaiters();
  }

  protected closed(): void {
    if (this.connecting) {
      // Closed before connecting without an 'error' (should not happen): report a refusal.
      this.connectFailed(
        Object.assign(new Error("the connection closed before it was made"), { code: "ECONNREFUSED" }),
      );
      return;
    }
    if (this.broken === null) this.broken = "ECONNRESET";
    this.failWaiters();
  }

  private failWaiters(): void {
    const code = this.broken!;
    const r = this.rx;
    if (r !== null) {
      this.rx = null;
      this.dropTarget();
      this.inerr = true;
      wakeWithError(r, quickError(code, r.waitOp));
    }
    const t = this.tx;
    if (t !== null) {
      this.tx = null;
      this.outerr = true;
      wakeWithError(t, quickError(code, t.waitOp));
    }
    if (r !== null || t !== null) flush();
  }

  // ---- closing -----------------------------------------------------------------------------------
  /**
   * ipc_close's and tcp_close's handshake, once the handle is released: coroutines parked on the
   * connection fail with EBADF, sending is closed unless it was, inbound bytes are dropped until
   * the peer's end-of-stream. The connection is closed whatever happens.
   */
  *closeOrderly(cr: CrBase, deadline: number, fn: string): Op<void> {
    try {
      this.wakeAll("EBADF");
      if (this.inerr || this.outerr) throw quickError("ECONNRESET", fn);
      if (!this.outdone) this.shutdownWrite(fn);
      yield* this.drainToEnd(cr, deadline, fn);
    } finally {
      this.close();
    }
  }
}
