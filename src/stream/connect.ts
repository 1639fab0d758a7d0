/**
 * Connecting a stream connection: `ipc_connect`'s and `tcp_connect`'s wait. The caller parks as
 * the connection's sender until Node reports 'connect' or an error. A Unix-domain listener whose
 * backlog is full refuses at once (`EAGAIN`) where a blocking connect() would wait for room, so
 * that case is retried until the deadline.
 */
import { createConnection, type NetConnectOpts } from "node:net";
import { BLOCK, type Op } from "../handles/op.js";
import type { CrBase } from "../runtime/cr.js";
import { flush, park, wake, wakeWithError } from "../runtime/sched.js";
import { fromNode, nodeCode } from "./errno.js";
import { StreamSender, unblockSend } from "./send.js";
import { StreamState } from "./state.js";

/** The connecting part of {@link StreamConn}. */
export abstract class StreamConnector extends StreamSender {
  /**
   * Start connecting to `dest`: a socket file's path (ipc_connect) or `node:net` connect options
   * (tcp_connect). The caller parks as `tx` until 'connect'.
   */
  connectTo(dest: string | NetConnectOpts): void {
    this.dest = typeof dest === "string" ? { path: dest, allowHalfOpen: true } : dest;
    if (this.rareState !== null) this.rareState.retries = 0;
    this.attach(createConnection(this.dest), true);
  }

  /** ipc_connect's and tcp_connect's wait: start connecting to `dest`, park `cr` until connected or failed. */
  *connectOp(cr: CrBase, dest: string | NetConnectOpts, deadline: number, fn: string): Op<void> {
    this.connectTo(dest);
    this.tx = cr;
    park(cr, fn, deadline, unblockSend, this);
    yield BLOCK;
  }

  protected connected(): void {
    if (!this.connecting) return;
    this.connecting = false;
    this.sock!.removeListener("connect", StreamState.onConnect);
    const cr = this.tx;
    if (cr !== null) {
      this.tx = null;
      wake(cr, undefined);
      flush();
    }
  }

  /** The socket failed or closed while connecting. */
  protected connectFailed(e: Error): void {
    const code = nodeCode(e);
    if (code === "EAGAIN") {
      // The listener's backlog is full. A blocking connect() would wait for room: retry until
      // the deadline of ipc_connect, backing off from 2 ms to 64 ms.
      this.drop();
      const r = this.rare;
      r.retryTimer = setTimeout((r.onRetry ??= (): void => this.retry()), 2 << Math.min(5, r.retries++));
      return;
    }
    const cr = this.tx;
    this.connecting = false;
    if (cr === null) return;
    this.tx = null;
    wakeWithError(cr, fromNode(e, cr.waitOp, "ECONNREFUSED", "addr"));
    flush();
  }

  protected retry(): void {
    this.rare.retryTimer = null;
    if (!this.connecting || this.tx === null) return;
    this.attach(createConnection(this.dest!), true);
  }
}
