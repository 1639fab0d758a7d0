/**
 * The types of handles. A handle is a small integer at run time, as in libdill; these types only
 * tell the compiler what kind of object a number refers to, so that a bundle handle passed to
 * `chsend`, or a channel passed to `bsend`, is a compile error. They cost nothing: the brand is a
 * `declare`d symbol with no value, and no call checks or converts anything because of it.
 *
 * How a call is typed (the rule for every new call):
 * - A parameter takes the handle type it needs or a plain number: `s: Bsock | Unbranded`. A plain
 *   `number` (a handle stored by code that does not track its type, as a C port does) is accepted;
 *   a number of another brand is not.
 * - A call returns the most precise type it knows: `ipc_connect` an `IpcSocket`, `go` a `Bundle`,
 *   `chmake<T>` two `Chan<T>`. A storage (`_mem`) form returns the same type as its plain form.
 * - A protocol's attach call is generic over the handle underneath, `U extends Bsock | Unbranded`
 *   (or `Msock | Unbranded`), returns the protocol's socket type carrying `U`, and its detach call
 *   gives `U` back: a detached IPC socket is an `IpcSocket` again, a detached plain number is a
 *   plain number again.
 * - Calls that take any handle (`hclose`, `hquery`) take `number`; `hown` keeps the type it is given.
 * - A new kind of object gets one brand here, with one key of its own in the brand's object; a
 *   bytestream adds `bsock: true`, a message socket `msock: true`, so that it is accepted where
 *   those are.
 */

/** The brand's key. Type only: no value exists at run time. */
declare const handleBrand: unique symbol;

/**
 * A number branded with the kinds of object `K` it is a handle of (`{ bsock: true; ipc: true }`
 * is an IPC connection, which is also a bytestream).
 */
export type Branded<K> = number & { readonly [handleBrand]: K };

/**
 * A plain number: a handle whose type nobody tracked (stored in a `number` variable, or made with
 * `hmake`). Every call that takes a handle accepts one; the object's kind is checked at run time
 * (`ENOTSUP`, `EBADF`), as in libdill.
 */
export type Unbranded = number & { readonly [handleBrand]?: never };

/**
 * An end of a channel carrying values of type `T` (from `chmake<T>()`). `chsend` takes a `T`,
 * `chrecv` yields one. A `Chan<string>` is accepted where a `Chan<unknown>` is.
 */
export type Chan<T> = Branded<{
  /** What the channel carries, as a result type: a `Chan<string>` is also a `Chan<unknown>`. */
  chan: () => T;
}>;

/** A bundle of coroutines: what `bundle()` and `go()` return, what `bundle_go` and `bundle_wait` take. */
export type Bundle = Branded<{ bundle: true }>;

/** A bytestream: any handle that `bsend`, `brecv`, `bsendl` and `brecvl` accept. */
export type Bsock = Branded<{ bsock: true }>;

/** A message socket: any handle that `msend`, `mrecv`, `msendl` and `mrecvl` accept. */
export type Msock = Branded<{ msock: true }>;

/** An IPC (Unix-domain socket) connection: a bytestream that `ipc_done` and `ipc_close` take. */
export type IpcSocket = Branded<{ bsock: true; ipc: true }>;

/** An IPC listener: what `ipc_listen` returns and `ipc_accept` takes. */
export type IpcListener = Branded<{ ipc_listener: true }>;

/** A TCP connection: a bytestream that `tcp_done` and `tcp_close` take. */
export type TcpSocket = Branded<{ bsock: true; tcp: true }>;

/** A TCP listener: what `tcp_listen` returns and `tcp_accept` takes. */
export type TcpListener = Branded<{ tcp_listener: true }>;

/** A TLS connection over the bytestream `U`: a bytestream itself; `tls_detach` gives `U` back. */
export type TlsSocket<U = number> = Branded<{ bsock: true; tls: U }>;

/** A PREFIX message socket over the bytestream `U`; `prefix_detach` gives `U` back. */
export type PrefixSocket<U = number> = Branded<{ msock: true; prefix: U }>;

/** A SUFFIX message socket over the bytestream `U`; `suffix_detach` gives `U` back. */
export type SuffixSocket<U = number> = Branded<{ msock: true; suffix: U }>;

/** A TERM message socket over the message socket `U`; `term_detach` gives `U` back. */
export type TermSocket<U = number> = Branded<{ msock: true; term: U }>;

/**
 * An HTTP socket over the bytestream `U` (request and status lines, header fields); neither a
 * bytestream nor a message socket itself. `http_detach` gives `U` back.
 */
export type HttpSocket<U = number> = Branded<{ http: U }>;

/** A WebSocket over the bytestream `U`: a message socket; `ws_detach` gives `U` back. */
export type WsSocket<U = number> = Branded<{ msock: true; ws: U }>;

/** A UDP socket: what `udp_open` returns, a message socket (when it has a remote address). */
export type UdpSocket = Branded<{ msock: true; udp: true }>;
