/**
 * The state of a stream connection, and its wiring to the `node:net` socket. {@link StreamConn}
 * is built in layers, one file each, as libdill keeps its bytestream and fd code apart: this
 * state, the receive side (`receive.ts`), the send side (`send.ts`), connecting (`connect.ts`)
 * and the life cycle (`conn.ts`: handles, failures, shutdown and close). Every layer is part of
 * the one class, so all connections have one shape and every field exists from construction.
 *
 * The socket's listeners are functions shared by every connection: Node calls them with the socket
 * as \`this\`, and the socket carries its connection, so neither the hot path nor a new connection
 * makes a closure; each layer implements the events it handles.
 */
import type { NetConnectOpts, Socket } from "node:net";
import type { IoList } from "../handles/bytestream.js";
import type { ErrnoCode } from "../handles/errors.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock } from "../runtime/sched.js";
import { Inbound } from "./inbound.js";

/**
 * What distinguishes one socket family's connections: the interface id its handles answer in
 * `hquery` (besides `BSOCK_TYPE`), its kind for `dill_stats`, its calls' prefix for messages,
 * and whether Nagle's algorithm is turned off (TCP_NODELAY, as libdill does for TCP).
 */
export interface StreamFamily {
  readonly type: symbol;
  readonly kind: string;
  readonly prefix: string;
  readonly noDelay: boolean;
  /**
   * Told of every socket a connection of this family takes over, before any byte is read from it,
   * or null. IPC's reader (ipc/reader.ts) is it to read the socket itself.
   */
  attached: ((c: StreamState, sock: Socket, connecting: boolean) => void) | null;
}

/** Where a connection goes when its handle is closed (its storage: single, or half of a pair). */
export interface ConnHome {
  connClosed(c: StreamState): void;
}

function ignore(): void {}

/** The connection a socket belongs to, set while it is attached. */
const CONN = Symbol("tsdill.conn");
type OwnedSocket = Socket & { [CONN]?: StreamState | null };

function connOf(sock: Socket): StreamState {
  return (sock as OwnedSocket)[CONN]!;
}

/** The bits of {@link StreamState}'s flags. */
const OUTDONE = 1;
const INDONE = 2;
const OUTERR = 4;
const INERR = 8;
const EOF = 16;
const CONNECTING = 32;
const PAUSED = 64;
const SOME = 128;

/**
 * What few connections need: a connect's retries, the target of ipc_recv_some, the callbacks of a
 * write that waits and of a retry, the view of a large send. Made at the first use, so that most connections never carry it.
 */
export class StreamRare {
  retries = 0;
  retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** The one-element target of ipc_recv_some, made at the first one and reused. */
  someIol: IoList | null = null;
  onWritten: ((err?: Error | null) => void) | null = null;
  onRetry: (() => void) | null = null;
  /** The Buffer view given to Node for the last large send, kept for a caller that reuses its buffer. */
  txBase: Uint8Array | null = null;
  txLen = -1;
  txView: Buffer | null = null;
}

/**
 * The fields of a connection and the socket's listeners; the layers above add the behaviour. A
 * connection has many of them open at once, so its state is small: the flags share one field,
 * and what few connections use is in {@link StreamRare}.
 */
export abstract class StreamState {
  sock: Socket | null = null;
  private flags = 0;
  /** The socket failed or was closed under us: the errno for calls that need it. */
  broken: ErrnoCode | null = null;
  /** Where ipc_connect and tcp_connect connect to, kept for `EAGAIN` retries. */
  dest: NetConnectOpts | null = null;
  /** Parked receiver; its target and the queue of what arrived meanwhile. */
  rx: CrBase | null = null;
  private inq: Inbound | null = null;
  /** The inbound queue, made at the first receive or the first bytes (an idle connection has none). */
  get rxq(): Inbound {
    return (this.inq ??= new Inbound());
  }
  /** Bytes queued for the next receives (without making the queue). */
  queued(): number {
    return this.inq === null ? 0 : this.inq.bytes;
  }
  /** Parked sender (or the coroutine in ipc_connect). */
  tx: CrBase | null = null;
  /** Small sends copied here and written together at the end of the turn (see send.ts); null when empty. */
  outBuf: Buffer | null = null;
  outLen = 0;
  /** The rare state, or null while it was never needed. */
  protected rareState: StreamRare | null = null;
  /** What few connections need, made when first needed. */
  get rare(): StreamRare {
    return (this.rareState ??= new StreamRare());
  }

  private flag(bit: number, on: boolean): void {
    if (on) this.flags |= bit;
    else this.flags &= ~bit;
  }
  /** Sending resp. receiving is over: done (EPIPE) or failed (ECONNRESET), as in libdill. */
  get outdone(): boolean {
    return (this.flags & OUTDONE) !== 0;
  }
  set outdone(on: boolean) {
    this.flag(OUTDONE, on);
  }
  get indone(): boolean {
    return (this.flags & INDONE) !== 0;
  }
  set indone(on: boolean) {
    this.flag(INDONE, on);
  }
  get outerr(): boolean {
    return (this.flags & OUTERR) !== 0;
  }
  set outerr(on: boolean) {
    this.flag(OUTERR, on);
  }
  get inerr(): boolean {
    return (this.flags & INERR) !== 0;
  }
  set inerr(on: boolean) {
    this.flag(INERR, on);
  }
  /** The peer's end-of-stream arrived. */
  get eof(): boolean {
    return (this.flags & EOF) !== 0;
  }
  set eof(on: boolean) {
    this.flag(EOF, on);
  }
  /** Waiting for 'connect' (ipc_connect, tcp_connect). */
  get connecting(): boolean {
    return (this.flags & CONNECTING) !== 0;
  }
  set connecting(on: boolean) {
    this.flag(CONNECTING, on);
  }
  /** Reading is paused: too many bytes queued. */
  get paused(): boolean {
    return (this.flags & PAUSED) !== 0;
  }
  set paused(on: boolean) {
    this.flag(PAUSED, on);
  }
  /** The parked receive is an ipc_recv_some: it completes with the first bytes that arrive. */
  get some(): boolean {
    return (this.flags & SOME) !== 0;
  }
  set some(on: boolean) {
    this.flag(SOME, on);
  }

  static readonly onData = function (this: Socket, chunk: Buffer): void {
    connOf(this).data(chunk);
  };
  static readonly onEnd = function (this: Socket): void {
    connOf(this).end();
  };
  static readonly onError = function (this: Socket, e: Error): void {
    connOf(this).error(e);
  };
  static readonly onClose = function (this: Socket): void {
    connOf(this).closed();
  };
  static readonly onConnect = function (this: Socket): void {
    connOf(this).connected();
  };

  constructor(
    readonly home: ConnHome,
    readonly family: StreamFamily,
  ) {}

  /** The family's kind, for `dill_stats` (read rarely: not a field of every connection). */
  get kind(): string {
    return this.family.kind;
  }

  /** Bytes arrived (receive side). */
  protected abstract data(chunk: Buffer): void;
  /** The peer's end-of-stream (receive side). */
  protected abstract end(): void;
  /** Everything written so far is with the kernel (send side). */
  protected abstract written(err?: Error | null): void;
  /** The socket connected (connecting). */
  protected abstract connected(): void;
  /** Time to try connecting again after `EAGAIN` (connecting). */
  protected abstract retry(): void;
  /** The socket failed (life cycle). */
  protected abstract error(e: Error): void;
  /** The socket closed under us (life cycle). */
  protected abstract closed(): void;

  /** Take over `sock` (connected, or `connecting` for ipc_connect) with fresh state. */
  attach(sock: Socket, connecting: boolean): void {
    this.sock = sock;
    this.flags = connecting ? CONNECTING : 0;
    this.broken = null;
    (sock as OwnedSocket)[CONN] = this;
    sock.on("data", StreamState.onData);
    sock.on("end", StreamState.onEnd);
    sock.on("error", StreamState.onError);
    sock.on("close", StreamState.onClose);
    if (this.family.noDelay) sock.setNoDelay(true);
    if (connecting) sock.on("connect", StreamState.onConnect);
    else if (sock.destroyed)
      this.broken = "ECONNRESET"; // it failed before it was handed over
    else sock.resume();
    const hook = this.family.attached;
    if (hook !== null) hook(this, sock, connecting);
  }

  /** Drop the socket at once: listeners off, destroyed, queue emptied. */
  detach(): void {
    const r = this.rareState;
    if (r !== null) {
      if (r.retryTimer !== null) {
        clearTimeout(r.retryTimer);
        r.retryTimer = null;
      }
      r.txBase = r.txView = null;
      r.txLen = -1;
    }
    this.drop();
    this.inq?.clear();
    this.connecting = false;
  }

  /** Write out the small sends copied since the turn began (send.ts). */
  abstract flushOut(): void;

  /**
   * Destroy the socket after taking our listeners off it (a late 'error' is ignored). Bytes of
   * sends that already returned are written first; if the kernel cannot take them all at once,
   * Node finishes writing them before it destroys the socket, as the kernel would after close().
   */
  protected drop(): void {
    const sock = this.sock;
    if (sock === null) return;
    if (this.outLen > 0) this.flushOut();
    this.sock = null;
    sock.removeListener("data", StreamState.onData);
    sock.removeListener("end", StreamState.onEnd);
    sock.removeListener("error", StreamState.onError);
    sock.removeListener("close", StreamState.onClose);
    sock.removeListener("connect", StreamState.onConnect);
    (sock as OwnedSocket)[CONN] = null;
    sock.on("error", ignore);
    if (sock.writableLength > 0 && !sock.destroyed) sock.destroySoon();
    else sock.destroy();
  }

  /** Detach the inbound queue from the receiver's buffers, keeping no reference to them. */
  dropTarget(): void {
    this.inq?.untarget();
    const r = this.rareState;
    if (r !== null && r.someIol !== null) r.someIol.iol_base = null;
  }

  /**
   * canBlock, counting a cancellation as a failure of the direction, as libdill does; null when
   * the call must suspend for good (see canBlock).
   */
  protected enter(fn: string, recv: boolean): CrBase | null {
    try {
      return canBlock(fn);
    } catch (e) {
      if (recv) this.inerr = true;
      else this.outerr = true;
      throw e;
    }
  }
}
