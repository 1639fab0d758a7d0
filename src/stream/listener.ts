/**
 * The stream listener: a `node:net` server behind a handle, for every stream family.
 *
 * Node accepts connections from the kernel as soon as they arrive; they wait here, paused (no
 * byte is read), until a coroutine takes one with `ipc_accept` or `tcp_accept`. One coroutine may
 * be parked accepting at a time. Closing the listener wakes that coroutine with `EBADF` and
 * closes the connections nobody accepted. What a family adds (IPC: removing the socket file it
 * placed) it adds in a subclass.
 */
import type { Server, Socket } from "node:net";
import { quickError } from "../handles/errors.js";
import { BLOCK, type Op } from "../handles/op.js";
import type { HandleVfs } from "../handles/table.js";
import type { CrBase } from "../runtime/cr.js";
import { expired, flush, interrupt, park, wake, wakeWithError } from "../runtime/sched.js";
import { fromNode } from "./errno.js";

/** Where a listener goes when its handle is closed (its storage). */
export interface ListenerHome {
  listenerClosed(l: StreamListener): void;
}

function ignore(): void {}

/** Unblock hook of the wait of a listen call or an accept. */
export function unblockListener(cr: CrBase): void {
  const l = cr.waitObj as StreamListener;
  if (l.waiter === cr) l.waiter = null;
}

/** A listening socket behind a handle: Node's server, queued connections, one parked acceptor. */
export class StreamListener implements HandleVfs {
  server: Server | null = null;
  listening = false;
  /** An error the server reported with nobody waiting: given to the next accept. */
  pending: unknown = null;
  /** The coroutine parked in a listen call (until 'listening') or in an accept. */
  waiter: CrBase | null = null;
  /** Connections accepted by Node, not yet by the user: a FIFO with a head index. */
  q: (Socket | null)[] = [];
  qhead = 0;

  readonly onConnection = (s: Socket): void => this.connection(s);
  readonly onListening = (): void => this.ready();
  readonly onError = (e: Error): void => this.error(e);

  /**
   * `kind` and `type` name the family (`"ipc_listener"` and `IPC_LISTENER_TYPE`, …): the
   * machinery is the same for every `node:net` server.
   */
  constructor(
    readonly home: ListenerHome,
    readonly kind: string,
    readonly type: symbol,
  ) {}

  query(type: symbol): unknown {
    return type === this.type ? this : undefined;
  }

  attach(server: Server): void {
    this.server = server;
    this.listening = false;
    this.pending = null;
    server.on("connection", this.onConnection);
    server.on("listening", this.onListening);
    server.on("error", this.onError);
  }

  /** The next connection Node accepted, or null. */
  next(): Socket | null {
    if (this.qhead === this.q.length) return null;
    const s = this.q[this.qhead]!;
    this.q[this.qhead++] = null;
    if (this.qhead === this.q.length) {
      this.q.length = 0;
      this.qhead = 0;
    }
    return s;
  }

  /**
   * ipc_accept's and tcp_accept's wait: the next connection Node accepted, or, when there is
   * none yet, park `cr` until one comes, the deadline passes or the listener is closed.
   */
  *nextOp(cr: CrBase, deadline: number, fn: string): Op<Socket> {
    const sock = this.next();
    if (sock !== null) return sock;
    const failure = this.pending;
    if (failure !== null) {
      this.pending = null;
      throw fromNode(failure, fn, "ECONNABORTED");
    }
    if (expired(deadline)) throw quickError("ETIMEDOUT", fn);
    this.waiter = cr;
    park(cr, fn, deadline, unblockListener, this);
    return (yield BLOCK) as Socket;
  }

  private connection(s: Socket): void {
    const cr = this.waiter;
    if (cr !== null && this.listening) {
      this.waiter = null;
      wake(cr, s);
      flush();
      return;
    }
    // Nobody listens to it until it is accepted: an error meanwhile must not go unhandled.
    s.on("error", ignore);
    this.q.push(s);
  }

  private ready(): void {
    this.listening = true;
    const cr = this.waiter;
    if (cr === null) return;
    this.waiter = null;
    wake(cr, undefined);
    flush();
  }

  private error(e: Error): void {
    const cr = this.waiter;
    if (cr === null) {
      this.pending = e;
      return;
    }
    this.waiter = null;
    wakeWithError(cr, fromNode(e, cr.waitOp, this.listening ? "ECONNABORTED" : "EINVAL"));
    flush();
  }

  /** Stop listening and drop everything at once (no coroutine is woken). */
  detach(): void {
    const server = this.server;
    if (server !== null) {
      this.server = null;
      server.removeListener("connection", this.onConnection);
      server.removeListener("listening", this.onListening);
      server.removeListener("error", this.onError);
      server.on("error", ignore);
      server.close();
    }
    for (let s = this.next(); s !== null; s = this.next()) s.destroy();
    this.listening = false;
    this.pending = null;
  }

  /** hclose: stops listening; a coroutine parked in an accept fails with EBADF. */
  close(): void {
    const cr = this.waiter;
    if (cr !== null) {
      this.waiter = null;
      interrupt(cr, quickError("EBADF", cr.waitOp));
    }
    this.detach();
    this.home.listenerClosed(this);
  }
}
