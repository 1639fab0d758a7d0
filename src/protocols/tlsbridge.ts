/**
 * The Node side of the TLS protocol: Node's TLS engine (`tls.TLSSocket`, OpenSSL inside) wired to
 * a tsdill bytestream that Node knows nothing about.
 *
 * Node's TLS wants a Duplex stream below it. {@link TlsBridge} is that Duplex, and it does no I/O
 * of its own: whatever the engine writes (ciphertext) is handed to the owner, a {@link TlsPeer},
 * which sends it on the underlying handle from a coroutine; whatever the owner reads from the
 * underlying handle it pushes into the bridge, and the engine decrypts it. {@link TlsEngine} is
 * the TLS socket on top; it hands the decrypted bytes to the owner as well, by overriding `push`,
 * so they never sit in a Readable's buffer and the end of the peer's stream (its close_notify) is
 * seen the moment it is decrypted.
 *
 * Everything here runs synchronously inside the owner's calls when Node allows it: a record
 * pushed into a flowing bridge is decrypted before `push` returns, and a write to an idle engine
 * is encrypted before `write` returns. Where Node defers work to a later tick (the first record,
 * before the bridge flows; a write's completion, one `setImmediate` later), the owner is told
 * through the same callbacks and waits for them. Listeners are module functions that find their
 * owner through the emitter (`this.owner`), so nothing here makes a closure per operation, and a
 * late event of an engine whose owner has moved on (closed, its storage reused) finds `null`.
 */
import { Duplex } from "node:stream";
import { type SecureContext, TLSSocket } from "node:tls";

/** What the bridge and the engine report to, the TLS socket behind a handle. */
export interface TlsPeer {
  /** The engine wrote ciphertext; `done` is to be called once it has been sent. */
  cipher(chunk: Buffer, done: (err?: Error | null) => void): void;
  /** The engine wrote several pieces of ciphertext at once. */
  ciphers(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void;
  /** The engine finished its closing handshake: its close_notify went out through `cipher`. */
  finalled(): void;
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
}

/** Node's TLS socket over a {@link TlsBridge}, reporting decrypted bytes and failures to the owner. */
export class TlsEngine extends TLSSocket {
  owner: TlsPeer | null;
  constructor(
    readonly bridge: TlsBridge,
    owner: TlsPeer,
    context: SecureContext,
    isServer: boolean,
  ) {
    super(bridge, { isServer, secureContext: context, requestCert: false, rejectUnauthorized: false });
    this.owner = owner;
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

  /** Drop the engine: no more reports, the bridge and the TLS state freed. Never blocks. */
  discard(): void {
    this.owner = null;
    this.bridge.owner = null;
    this.destroy();
  }
}
