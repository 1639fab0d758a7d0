/**
 * The Node side of the TLS protocol: Node's TLS engine (`tls.TLSSocket`, OpenSSL inside) wired to
 * a tsdill bytestream that Node knows nothing about.
 *
 * Node's TLS wants a Duplex stream below it. {@link TlsBridge} is that Duplex, and it does no I/O
 * of its own. Where Node's internals are as expected (Node 20), the bytes pass beside the Duplex's
 * buffers: the engine's ciphertext comes out of its stream wrapper's `doWrite` (replaced, see
 * {@link directWrite}) into the owner, a {@link TlsPeer}, which sends it on the underlying handle
 * from a coroutine; ciphertext the owner reads goes into the engine's `receive`, which decrypts it
 * before returning. Elsewhere the bridge's `_write` and `push` carry the same bytes. {@link
 * TlsEngine} is the TLS socket on top; it hands the decrypted bytes to the owner as well, by
 * overriding `push`, so they never sit in a Readable's buffer and the end of the peer's stream
 * (its close_notify) is seen the moment it is decrypted.
 *
 * Everything here runs synchronously inside the owner's calls when Node allows it: a record is
 * decrypted before `input` returns, and a write to an idle engine is encrypted before `write`
 * returns. What completes later (a write, in a microtask once its ciphertext is sent; over the
 * plain bridge, a new engine's first record) is reported through the same callbacks. Listeners
 * are module functions or bound once per engine, so nothing here makes a closure per operation,
 * and a late event of an engine whose owner has moved on (closed, its storage reused) finds `null`.
 */
import { Duplex } from "node:stream";
import { type SecureContext, TLSSocket } from "node:tls";

/** What the bridge and the engine report to, the TLS socket behind a handle. */
export interface TlsPeer {
  /** The engine wrote ciphertext; `done` is to be called once it has been sent. */
  cipher(chunk: Buffer, done: (err?: Error | null) => void): void;
  /** The engine wrote several pieces of ciphertext at once. */
  ciphers(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void;
  /** The same, straight from the engine's native part (see {@link directWrite}). */
  cipherList(chunks: Buffer[], done: (err?: Error | null) => void): void;
  /** The engine finished its closing handshake: its close_notify went out through `cipher`. */
  finalled(): void;
  /** A write of the engine completed (see {@link TlsEngine.writing}). */
  progressed(): void;
  /** A record pushed into the bridge reached the engine (sync or on a later tick). */
  consumed(): void;
  /** Decrypted bytes, or `null` for the peer's close_notify. */
  clear(chunk: Buffer | null): void;
  /** The handshake is complete. */
  secured(): void;
  /** The engine failed (a TLS alert, a protocol error, a bad record). */
  failed(err: Error): void;
}

/** The Duplex under Node's TLS engine: ciphertext out to the owner, ciphertext in from it. */
export class TlsBridge extends Duplex {
  owner: TlsPeer | null;
  /** The engine on this bridge, once made. */
  engine: TlsEngine | null = null;
  constructor(owner: TlsPeer) {
    super({ allowHalfOpen: true, decodeStrings: false });
    this.owner = owner;
  }
  override _read(): void {
    // Ciphertext is pushed by the owner when a coroutine wants bytes; nothing to start here.
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const o = this.owner;
    if (o === null) done(null);
    else o.cipher(chunk, done);
  }
  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    const o = this.owner;
    if (o === null) done(null);
    else o.ciphers(chunks, done);
  }
  override _final(done: (err?: Error | null) => void): void {
    // The engine's shutdown: its close_notify was written before this. The underlying handle is
    // not shut down: what comes after TLS on it is the owner's business (tls_detach).
    const o = this.owner;
    if (o !== null) o.finalled();
    done(null);
  }
  override _destroy(_err: Error | null, done: (err?: Error | null) => void): void {
    // Never touches the underlying handle: the owner closes it, or hands it back.
    done(null);
  }
}

function onConsumed(this: TlsBridge): void {
  const o = this.owner;
  if (o !== null) o.consumed();
}

function onSecure(this: TlsEngine): void {
  const o = this.owner;
  if (o !== null) o.secured();
}

function onError(this: TlsEngine, err: Error): void {
  const o = this.owner;
  if (o !== null) o.failed(err);
}

/** The two TLSSocket methods that tls.connect() calls on the socket it makes; not in @types/node. */
interface TlsSocketInternals {
  _releaseControl(): boolean;
  _start(): void;
  /** The engine's native part (Node's TLSWrap); null once destroyed. */
  _handle: TlsWrap | null;
}

/** Node's TLSWrap: `receive` hands it ciphertext, as Node does with bytes a socket buffered before TLS. */
interface TlsWrap {
  receive?(chunk: Uint8Array): void;
  _parentWrap?: unknown;
}

/** The native stream under the engine's JS stream wrapper: `finishWrite` completes one of its writes. */
interface JsStreamHandle {
  finishWrite(req: object, status: number): void;
}

/** Node's wrapper of a JS stream (JSStreamSocket) as the engine sees it: its `doWrite` takes the ciphertext. */
interface JsStreamSocket {
  stream: unknown;
  _handle: JsStreamHandle | null;
  doWrite(req: object, bufs: Buffer[]): number;
}

/** libuv's ECANCELED, what Node's own wrapper completes an abandoned write with. */
const UV_ECANCELED = -125;

/**
 * The wrapper's `doWrite`, replaced: the engine's ciphertext goes straight to the owner's queue,
 * without passing the bridge's Writable, and the write is completed by {@link TlsEngine.sent}
 * once the owner has sent it (in a microtask, instead of Node's `setImmediate`: no turn of the
 * event loop per write).
 */
function directWrite(this: JsStreamSocket, req: object, bufs: Buffer[]): number {
  const bridge = this.stream as TlsBridge;
  const e = bridge.engine;
  const o = bridge.owner;
  if (e === null || o === null || this._handle === null) return 0;
  e.req = req;
  o.cipherList(bufs, e.sent);
  return 0;
}

/** Node's TLS socket over a {@link TlsBridge}, reporting decrypted bytes and failures to the owner. */
export class TlsEngine extends TLSSocket {
  owner: TlsPeer | null;
  /** Node's TLSWrap, when it takes ciphertext by `receive` (then every record is taken in at once). */
  private readonly tlsWrap: TlsWrap | null;
  /** Node's wrapper of the bridge, when its writes come straight to the owner (see {@link directWrite}). */
  private readonly jss: JsStreamSocket | null;
  /** The wrapper's write whose ciphertext the owner is sending, and whether its completion is queued. */
  req: object | null = null;
  private finishing = false;
  /** The owner sent the ciphertext of {@link req}: complete the write once the current call is over. */
  readonly sent = (): void => {
    if (this.req !== null && !this.finishing) {
      this.finishing = true;
      queueMicrotask(this.finish);
    }
  };
  private readonly finish = (): void => {
    this.finishing = false;
    const r = this.req;
    this.req = null;
    const h = this.jss === null ? null : this.jss._handle;
    const o = this.owner;
    if (r === null || h === null || o === null) return;
    h.finishWrite(r, 0);
    o.progressed();
  };
  constructor(
    readonly bridge: TlsBridge,
    owner: TlsPeer,
    context: SecureContext,
    isServer: boolean,
  ) {
    super(bridge, { isServer, secureContext: context, requestCert: false, rejectUnauthorized: false });
    this.owner = owner;
    bridge.engine = this;
    // Node's internals, used where they are as expected (Node 20 and later), else the Duplex's way.
    const wrap = (this as unknown as TlsSocketInternals)._handle;
    this.tlsWrap = wrap !== null && typeof wrap.receive === "function" ? wrap : null;
    const jss = wrap === null ? null : (wrap._parentWrap as JsStreamSocket | undefined);
    if (
      jss !== undefined &&
      jss !== null &&
      jss.stream === bridge &&
      typeof jss.doWrite === "function" &&
      jss._handle !== null &&
      typeof jss._handle.finishWrite === "function"
    ) {
      jss.doWrite = directWrite;
      this.jss = jss;
    } else this.jss = null;
    // After the engine's own 'data' listener on the bridge (added by the constructor above), so
    // that it runs once the engine has taken the record in.
    bridge.on("data", onConsumed);
    this.on("secure", onSecure);
    // Stays attached for the engine's whole life: a late error of a closed engine is dropped here.
    this.on("error", onError);
    // What tls.connect() does with a socket it was given: errors after the handshake are emitted
    // as 'error' events (instead of being kept for a server object that does not exist), and a
    // client starts its handshake now.
    const self = this as unknown as TlsSocketInternals;
    self._releaseControl();
    if (!isServer) self._start();
  }

  /** Decrypted bytes from Node's TLS: to the owner, never into the Readable's buffer. */
  override push(chunk: unknown): boolean {
    // Also called from inside the TLSSocket constructor, before `owner` is set.
    const o = this.owner;
    if (o) o.clear(chunk as Buffer | null);
    return true;
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const o = this.owner;
    if (err && o) o.failed(err);
    super._destroy(err, done);
  }

  /**
   * Hand the engine one record of ciphertext (a view the caller may reuse at once); true when it
   * was taken in and decrypted before the call returned, false when it went into the bridge,
   * which Node reads on a later tick the first time (the caller then waits for `consumed`).
   */
  input(rec: Uint8Array): boolean {
    const w = this.tlsWrap;
    if (w !== null) {
      if ((this as unknown as TlsSocketInternals)._handle === w) w.receive!(rec);
      return true;
    }
    this.bridge.push(Buffer.from(rec));
    return false;
  }

  /** A write of the engine is being sent or completed: its closing handshake is not out yet. */
  get writing(): boolean {
    return this.req !== null;
  }

  /** Drop the engine: no more reports, the bridge and the TLS state freed. Never blocks. */
  discard(): void {
    this.owner = null;
    this.bridge.owner = null;
    this.bridge.engine = null;
    const r = this.req;
    const h = this.jss === null ? null : this.jss._handle;
    this.req = null;
    this.destroy();
    // As Node's wrapper does with a write it abandons: completed as cancelled, once the engine is gone.
    if (r !== null && h !== null) queueMicrotask(() => h.finishWrite(r, UV_ECANCELED));
  }
}
