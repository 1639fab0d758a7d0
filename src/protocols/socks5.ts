/**
 * SOCKS5 (RFC 1928) with username/password authentication (RFC 1929), after libdill's socks5.c:
 * the client's and the proxy's halves of the handshake, over any bytestream. The calls are not a
 * protocol that attaches: each one sends and receives a few messages with `bsend`/`brecv` on the
 * handle it is given, and when the handshake is over the same handle carries the proxied bytes.
 * A TCP connection to the proxy is the usual stream; an IPC one, or TLS, works the same way.
 *
 * The client: `socks5_client_connect` (to an IP address) or `socks5_client_connectbyname` (to a
 * host name the proxy resolves). The proxy: `socks5_proxy_auth`, then
 * `socks5_proxy_recvcommand` (the destination resolved to an address) or
 * `socks5_proxy_recvcommandbyname` (the destination as sent), then, once it has connected (or
 * failed to), `socks5_proxy_sendreply`.
 */
import { checkDeadline } from "../handles/args.js";
import { BSOCK_TYPE, brecv, bsend } from "../handles/bytestream.js";
import { dillError, type ErrnoCode } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { handleQuery } from "../handles/table.js";
import type { Bsock, Unbranded } from "../handles/types.js";
import { canBlock, suspended } from "../runtime/sched.js";
import { SocketAddress } from "node:net";
import { ipaddr_sockaddr } from "../ipaddr/sockaddr.js";
import {
  AF_INET,
  AF_INET6,
  checkIpAddr,
  IPADDR_PREF_IPV4,
  IpAddr,
  ipaddr_remote,
  ipaddrSet,
} from "../ipaddr/ipaddr.js";
import { guardOps } from "../handles/op.js";

/** Command: connect to the destination (the one libdill's client sends). */
export const SOCKS5_CONNECT = 0x01;
/** Command: bind a port and wait for a connection from the destination. */
export const SOCKS5_BIND = 0x02;
/** Command: relay UDP datagrams. */
export const SOCKS5_UDP_ASSOCIATE = 0x03;

/** Reply: the command succeeded. */
export const SOCKS5_SUCCESS = 0x00;
/** Reply: general SOCKS server failure (the client gets `EIO`). */
export const SOCKS5_GENERAL_FAILURE = 0x01;
/** Reply: connection not allowed by the ruleset (`EACCES`). */
export const SOCKS5_CONNECTION_NOT_ALLOWED = 0x02;
/** Reply: network unreachable (`ENETUNREACH`). */
export const SOCKS5_NETWORK_UNREACHABLE = 0x03;
/** Reply: host unreachable (`EHOSTUNREACH`). */
export const SOCKS5_HOST_UNREACHABLE = 0x04;
/** Reply: connection refused (`ECONNREFUSED`). */
export const SOCKS5_CONNECTION_REFUSED = 0x05;
/** Reply: TTL expired (`ETIMEDOUT`). */
export const SOCKS5_TTL_EXPIRED = 0x06;
/** Reply: command not supported (`ENOTSUP`). */
export const SOCKS5_COMMAND_NOT_SUPPORTED = 0x07;
/** Reply: address type not supported (`EAFNOSUPPORT`). */
export const SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED = 0x08;

/**
 * The proxy's check of a client's credentials (libdill's `socks5_auth_function`): true to let
 * the client in. It is called with the username and password the client sent, as UTF-8 text.
 */
export type Socks5AuthFunction = (username: string, password: string) => boolean;

const VERSION = 0x05;
const AUTH_VERSION = 0x01;
const METHOD_NONE = 0x00;
const METHOD_USERPASS = 0x02;
const METHOD_REFUSED = 0xff;
const ATYP_IPV4 = 0x01;
const ATYP_NAME = 0x03;
const ATYP_IPV6 = 0x04;

/** What each reply code means to the client, as libdill maps it. */
const REPLY_ERRNO: ErrnoCode[] = [
  "EIO", // placeholder for SUCCESS, never used
  "EIO",
  "EACCES",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "ENOTSUP",
  "EAFNOSUPPORT",
];
const REPLY_TEXT = [
  "succeeded",
  "general SOCKS server failure",
  "connection not allowed by ruleset",
  "network unreachable",
  "host unreachable",
  "connection refused",
  "TTL expired",
  "command not supported",
  "address type not supported",
];

function checkStream(fn: string, s: number): void {
  handleQuery(s, BSOCK_TYPE, fn, "s");
}

/** A credential as UTF-8 bytes, at most 255 of them (RFC 1929's one-byte length), or null. */
function credential(fn: string, arg: string, v: unknown): Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== "string") throw dillError("EINVAL", fn, arg, `${arg} must be a string or null`);
  const b = Buffer.from(v, "utf8");
  if (b.length > 255) throw dillError("EINVAL", fn, arg, `${arg} is ${b.length} bytes of UTF-8, at most 255 fit`);
  return b;
}

function protoError(fn: string, why: string): never {
  throw dillError("EPROTO", fn, undefined, why);
}

/** The 4 or 16 bytes of an address's IP, in network byte order: the address field of its sockaddr. */
function ipBytes(addr: IpAddr): Uint8Array {
  const sa = ipaddr_sockaddr(addr);
  return addr.family === AF_INET6 ? sa.subarray(8, 24) : sa.subarray(4, 8);
}

/** The text of a 4- or 16-byte IP as inet_ntop prints it. */
function ipText(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // The longest run of at least two zero groups becomes "::" (RFC 5952); IPv4-mapped keeps its dots.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** The client's method negotiation and, when the proxy asks for it, the username/password exchange. */
function* clientAuth(s: number, user: Buffer | null, pass: Buffer | null, deadline: number, fn: string): Op<void> {
  // With both credentials, offer "no authentication" and "username/password"; else only the first.
  const both = user !== null && pass !== null;
  const hello = both ? [VERSION, 2, METHOD_NONE, METHOD_USERPASS] : [VERSION, 1, METHOD_NONE];
  yield* bsend(s, Uint8Array.from(hello), hello.length, deadline);
  const r = new Uint8Array(2);
  yield* brecv(s, r, 2, deadline);
  if (r[0] !== VERSION) protoError(fn, `the proxy answered with SOCKS version ${r[0]}, not 5`);
  if (r[1] === METHOD_NONE) return;
  if (r[1] === METHOD_REFUSED)
    throw dillError("EACCES", fn, undefined, "the proxy accepts none of the offered methods");
  if (r[1] !== METHOD_USERPASS || !both)
    protoError(fn, `the proxy chose authentication method ${r[1]}, which was not offered`);
  const msg = Buffer.concat([Buffer.from([AUTH_VERSION, user.length]), user, Buffer.from([pass.length]), pass]);
  yield* bsend(s, msg, msg.length, deadline);
  const st = new Uint8Array(2);
  yield* brecv(s, st, 2, deadline);
  if (st[0] !== AUTH_VERSION) protoError(fn, `the proxy answered with authentication version ${st[0]}, not 1`);
  if (st[1] !== 0) throw dillError("EACCES", fn, undefined, "the proxy refused the username and password");
}

/**
 * Receives a request or a reply (they have the same shape): version, command or reply code,
 * reserved byte, and the address. Evaluates to [code, address type, address bytes, port].
 */
function* recvRequest(s: number, deadline: number, fn: string): Op<[number, number, Uint8Array, number]> {
  const head = new Uint8Array(4);
  yield* brecv(s, head, 4, deadline);
  if (head[0] !== VERSION) protoError(fn, `SOCKS version ${head[0]}, not 5`);
  if (head[2] !== 0) protoError(fn, `the reserved byte is ${head[2]}, not 0`);
  const atyp = head[3]!;
  let n: number;
  if (atyp === ATYP_IPV4) n = 4;
  else if (atyp === ATYP_IPV6) n = 16;
  else if (atyp === ATYP_NAME) {
    const len = new Uint8Array(1);
    yield* brecv(s, len, 1, deadline);
    n = len[0]!;
  } else protoError(fn, `unknown address type ${atyp}`);
  const rest = new Uint8Array(n + 2);
  yield* brecv(s, rest, n + 2, deadline);
  return [head[1]!, atyp, rest.subarray(0, n), (rest[n]! << 8) | rest[n + 1]!];
}

/** Sends a CONNECT request for `atyp`/`dst`/`port`, then reads the proxy's reply: `fn`'s errno for a failure code. */
function* connectRequest(
  s: number,
  atyp: number,
  dst: Uint8Array,
  port: number,
  deadline: number,
  fn: string,
): Op<void> {
  const len = atyp === ATYP_NAME ? [dst.length] : [];
  const msg = Buffer.concat([
    Buffer.from([VERSION, SOCKS5_CONNECT, 0, atyp, ...len]),
    dst,
    Buffer.from([port >> 8, port & 0xff]),
  ]);
  yield* bsend(s, msg, msg.length, deadline);
  const [rep] = yield* recvRequest(s, deadline, fn);
  if (rep === SOCKS5_SUCCESS) return;
  if (rep > SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED) protoError(fn, `the proxy replied with unknown code ${rep}`);
  throw dillError(REPLY_ERRNO[rep]!, fn, undefined, `the proxy replied: ${REPLY_TEXT[rep]}`);
}

function checkPort(fn: string, port: unknown): asserts port is number {
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 0xffff)
    throw dillError("EINVAL", fn, "port", `port must be an integer from 1 to 65535, got ${String(port)}`);
}

/**
 * Asks a SOCKS5 proxy, over the bytestream `s` already connected to it, to connect to `addr`:
 * the method negotiation (username/password when both are given), the CONNECT request, the
 * proxy's reply. When it returns, `s` carries the bytes to and from `addr`.
 *
 * @param s a bytestream to the proxy (a TCP connection, typically).
 * @param username null for no authentication, or at most 255 bytes of UTF-8.
 * @param password null, or at most 255 bytes of UTF-8 (used only with a username).
 * @param addr the destination, an IPv4 or IPv6 address and port.
 * @param deadline absolute time in ms for the whole handshake; `-1` never.
 * @throws `EBADF`, `ENOTSUP` (not a bytestream), `EINVAL` (bad arguments), `EACCES` (the proxy
 * refused the credentials, or accepts none of the methods offered, or its ruleset forbids the
 * connection), `EIO`, `ENETUNREACH`, `EHOSTUNREACH`, `ECONNREFUSED`, `ETIMEDOUT` (TTL expired,
 * or the deadline), `EAFNOSUPPORT`, `ENOTSUP` (the proxy's replies), `EPROTO` (the proxy broke
 * the protocol), `EPIPE` and `ECONNRESET` (from the stream), `ECANCELED`.
 *
 * @example
 * ```ts
 * const s = yield* tcp_connect(proxyAddr, now() + 1000);
 * yield* socks5_client_connect(s, null, null, ipaddr_local("127.0.0.1", 8080, 0), now() + 1000);
 * yield* bsend(s, "GET / HTTP/1.0\r\n\r\n", 18, now() + 1000);
 * ```
 */
export function* socks5_client_connect(
  s: Bsock | Unbranded,
  username: string | null,
  password: string | null,
  addr: IpAddr,
  deadline: number,
): Op<void> {
  const fn = "socks5_client_connect";
  if (canBlock(fn) === null) return yield* suspended();
  checkStream(fn, s);
  const user = credential(fn, "username", username);
  const pass = credential(fn, "password", password);
  checkIpAddr(fn, "addr", addr);
  checkDeadline(fn, deadline);
  yield* clientAuth(s, user, pass, deadline, fn);
  yield* connectRequest(s, addr.family === AF_INET6 ? ATYP_IPV6 : ATYP_IPV4, ipBytes(addr), addr.port, deadline, fn);
}

/**
 * Like {@link socks5_client_connect}, to a host given by name: an IPv4 or IPv6 literal is sent
 * as an address, anything else as a name for the proxy to resolve (what `curl
 * --socks5-hostname` does), so the client needs no DNS of its own.
 *
 * @param hostname a host name or an IP literal, 1 to 255 bytes of UTF-8.
 * @param port 1 to 65535.
 * @throws as `socks5_client_connect`.
 *
 * @example
 * ```ts
 * yield* socks5_client_connectbyname(s, "user", "secret", "example.org", 80, now() + 5000);
 * ```
 */
export function* socks5_client_connectbyname(
  s: Bsock | Unbranded,
  username: string | null,
  password: string | null,
  hostname: string,
  port: number,
  deadline: number,
): Op<void> {
  const fn = "socks5_client_connectbyname";
  if (canBlock(fn) === null) return yield* suspended();
  checkStream(fn, s);
  const user = credential(fn, "username", username);
  const pass = credential(fn, "password", password);
  if (typeof hostname !== "string" || hostname.length === 0)
    throw dillError("EINVAL", fn, "hostname", "hostname must be a non-empty string");
  const name = Buffer.from(hostname, "utf8");
  if (name.length > 255)
    throw dillError("EINVAL", fn, "hostname", `hostname is ${name.length} bytes of UTF-8, at most 255 fit`);
  checkPort(fn, port);
  checkDeadline(fn, deadline);
  yield* clientAuth(s, user, pass, deadline, fn);
  const v4 = /^\d+\.\d+\.\d+\.\d+$/.test(hostname) ? literal(hostname, AF_INET) : null;
  const v6 = v4 === null && hostname.includes(":") ? literal(hostname, AF_INET6) : null;
  if (v4 !== null) yield* connectRequest(s, ATYP_IPV4, ipBytes(v4), port, deadline, fn);
  else if (v6 !== null) yield* connectRequest(s, ATYP_IPV6, ipBytes(v6), port, deadline, fn);
  else yield* connectRequest(s, ATYP_NAME, name, port, deadline, fn);
}

/** An IpAddr for a literal of `family` in its canonical text (port 0), or null when `text` is not one. */
function literal(text: string, family: number): IpAddr | null {
  try {
    const sa = new SocketAddress({ address: text, family: family === AF_INET ? "ipv4" : "ipv6" });
    const a = new IpAddr();
    ipaddrSet(a, family, sa.address, 0);
    return a;
  } catch {
    return null;
  }
}

/**
 * The proxy's side of the method negotiation, and of the username/password exchange when it
 * asks for one. With no `auth_fn`, the proxy admits clients that offer "no authentication";
 * with one, it asks for a username and password and lets the client in when `auth_fn` says so.
 * A client refused gets the refusal on the wire (RFC 1928's "no acceptable methods" or RFC
 * 1929's failure status) before this call fails.
 *
 * @param s a bytestream from a client (a TCP connection, typically).
 * @param auth_fn null for no authentication, or a function that checks a username and password.
 * @param deadline absolute time in ms for the whole exchange; `-1` never.
 * @throws `EBADF`, `ENOTSUP` (not a bytestream), `EINVAL` (bad `auth_fn` or deadline),
 * `EACCES` (the client offered no method this proxy accepts, or `auth_fn` refused it), `EPROTO`
 * (the client broke the protocol), `EPIPE`, `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * yield* socks5_proxy_auth(s, (user, pass) => user === "alice" && pass === "secret", now() + 1000);
 * ```
 */
export function* socks5_proxy_auth(
  s: Bsock | Unbranded,
  auth_fn: Socks5AuthFunction | null,
  deadline: number,
): Op<void> {
  const fn = "socks5_proxy_auth";
  if (canBlock(fn) === null) return yield* suspended();
  checkStream(fn, s);
  if (auth_fn !== null && auth_fn !== undefined && typeof auth_fn !== "function")
    throw dillError("EINVAL", fn, "auth_fn", "auth_fn must be a function (username, password) => boolean, or null");
  checkDeadline(fn, deadline);
  const head = new Uint8Array(2);
  yield* brecv(s, head, 2, deadline);
  if (head[0] !== VERSION) protoError(fn, `the client speaks SOCKS version ${head[0]}, not 5`);
  const methods = new Uint8Array(head[1]!);
  yield* brecv(s, methods, methods.length, deadline);
  const reply = new Uint8Array([VERSION, METHOD_NONE]);
  if (auth_fn === null || auth_fn === undefined) {
    if (methods.includes(METHOD_NONE)) {
      yield* bsend(s, reply, 2, deadline);
      return;
    }
  } else if (methods.includes(METHOD_USERPASS)) {
    reply[1] = METHOD_USERPASS;
    yield* bsend(s, reply, 2, deadline);
    const ver = new Uint8Array(2);
    yield* brecv(s, ver, 2, deadline);
    if (ver[0] !== AUTH_VERSION) protoError(fn, `the client's authentication version is ${ver[0]}, not 1`);
    const user = new Uint8Array(ver[1]! + 1); // the name and the password's length byte
    yield* brecv(s, user, user.length, deadline);
    const pass = new Uint8Array(user[user.length - 1]!);
    yield* brecv(s, pass, pass.length, deadline);
    const ok = auth_fn(Buffer.from(user.subarray(0, ver[1]!)).toString("utf8"), Buffer.from(pass).toString("utf8"));
    const status = new Uint8Array([AUTH_VERSION, ok ? 0 : METHOD_REFUSED]);
    yield* bsend(s, status, 2, deadline);
    if (!ok) throw dillError("EACCES", fn, undefined, "auth_fn refused the client's username and password");
    return;
  }
  reply[1] = METHOD_REFUSED;
  yield* bsend(s, reply, 2, deadline);
  throw dillError(
    "EACCES",
    fn,
    undefined,
    auth_fn === null || auth_fn === undefined
      ? "the client did not offer 'no authentication'"
      : "the client did not offer username/password authentication",
  );
}

/** The command of a request: CONNECT, BIND or UDP ASSOCIATE, else `EPROTO`. */
function checkCommand(fn: string, cmd: number): void {
  if (cmd < SOCKS5_CONNECT || cmd > SOCKS5_UDP_ASSOCIATE) protoError(fn, `unknown command ${cmd}`);
}

/**
 * Receives the client's request, after {@link socks5_proxy_auth}, and writes its destination
 * into `addr` (C's out-parameter, filled in place). A destination sent as a host name is
 * resolved here, an IPv4 address preferred, within the deadline.
 *
 * @param s the client's bytestream.
 * @param addr an `IpAddr` to receive the destination (any one: its fields are replaced).
 * @param deadline absolute time in ms; `-1` never.
 * @returns the command: `SOCKS5_CONNECT`, `SOCKS5_BIND` or `SOCKS5_UDP_ASSOCIATE`.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL` (bad `addr` or deadline), `EPROTO` (a malformed request,
 * an unknown command or address type), `EADDRNOTAVAIL` (the host name does not resolve),
 * `EPIPE`, `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const dst = new IpAddr();
 * const cmd = yield* socks5_proxy_recvcommand(s, dst, now() + 1000);
 * ```
 */
export function* socks5_proxy_recvcommand(s: Bsock | Unbranded, addr: IpAddr, deadline: number): Op<number> {
  const fn = "socks5_proxy_recvcommand";
  if (canBlock(fn) === null) return yield* suspended();
  checkStream(fn, s);
  checkIpAddr(fn, "addr", addr);
  checkDeadline(fn, deadline);
  const [cmd, atyp, dst, port] = yield* recvRequest(s, deadline, fn);
  checkCommand(fn, cmd);
  if (atyp === ATYP_NAME) {
    const name = Buffer.from(dst).toString("utf8");
    let found: IpAddr;
    try {
      found = yield* ipaddr_remote(name, port, IPADDR_PREF_IPV4, deadline);
    } catch (e) {
      // A name the client sent that cannot be a host name is an address that is not available.
      if ((e as { code?: string }).code === "EINVAL" || (e as { code?: string }).code === "ENAMETOOLONG")
        throw dillError("EADDRNOTAVAIL", fn, undefined, `the client asked for '${name}', which is no host name`);
      throw e;
    }
    ipaddrSet(addr, found.family, found.address, port);
  } else ipaddrSet(addr, atyp === ATYP_IPV6 ? AF_INET6 : AF_INET, ipText(dst), port);
  return cmd;
}

/**
 * Receives the client's request, after {@link socks5_proxy_auth}, without resolving anything:
 * the destination as the client sent it, a host name or an IP address as text. libdill fills a
 * 256-byte buffer and an `int`; tsdill returns them, after the command, as C orders them.
 *
 * @param s the client's bytestream.
 * @param deadline absolute time in ms; `-1` never.
 * @returns `[command, host, port]`: the command (`SOCKS5_CONNECT`...), the host (a name, or an
 * address as `ipaddr_str` prints it, at most 255 bytes), the port.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL` (bad deadline), `EPROTO`, `EPIPE`, `ECONNRESET`,
 * `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const [cmd, host, port] = yield* socks5_proxy_recvcommandbyname(s, now() + 1000);
 * ```
 */
export function* socks5_proxy_recvcommandbyname(s: Bsock | Unbranded, deadline: number): Op<[number, string, number]> {
  const fn = "socks5_proxy_recvcommandbyname";
  if (canBlock(fn) === null) return yield* suspended();
  checkStream(fn, s);
  checkDeadline(fn, deadline);
  const [cmd, atyp, dst, port] = yield* recvRequest(s, deadline, fn);
  checkCommand(fn, cmd);
  return [cmd, atyp === ATYP_NAME ? Buffer.from(dst).toString("utf8") : ipText(dst), port];
}

/**
 * Sends the proxy's reply to a request: a reply code, and the address the proxy connected from
 * (for CONNECT; `0.0.0.0` port 0 is fine when it does not matter, as in libdill's tests). After
 * `SOCKS5_SUCCESS` the stream carries the proxied bytes; after a failure the proxy closes it.
 *
 * @param s the client's bytestream.
 * @param reply `SOCKS5_SUCCESS` or one of the failure codes, 0 to 8.
 * @param addr the bound address to report.
 * @param deadline absolute time in ms; `-1` never.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL` (a reply code out of range, bad `addr` or deadline),
 * `EPIPE`, `ECONNRESET`, `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * yield* socks5_proxy_sendreply(s, SOCKS5_SUCCESS, ipaddr_local("0.0.0.0", 0, 0), now() + 1000);
 * ```
 */
export function* socks5_proxy_sendreply(s: Bsock | Unbranded, reply: number, addr: IpAddr, deadline: number): Op<void> {
  const fn = "socks5_proxy_sendreply";
  if (canBlock(fn) === null) return yield* suspended();
  checkStream(fn, s);
  if (!Number.isInteger(reply) || reply < SOCKS5_SUCCESS || reply > SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED)
    throw dillError("EINVAL", fn, "reply", `reply must be a SOCKS5 reply code from 0 to 8, got ${String(reply)}`);
  checkIpAddr(fn, "addr", addr);
  checkDeadline(fn, deadline);
  const ip = ipBytes(addr);
  const msg = Buffer.concat([
    Buffer.from([VERSION, reply, 0, addr.family === AF_INET6 ? ATYP_IPV6 : ATYP_IPV4]),
    ip,
    Buffer.from([addr.port >> 8, addr.port & 0xff]),
  ]);
  yield* bsend(s, msg, msg.length, deadline);
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined)
  guardOps({
    socks5_client_connect,
    socks5_client_connectbyname,
    socks5_proxy_auth,
    socks5_proxy_recvcommand,
    socks5_proxy_recvcommandbyname,
    socks5_proxy_sendreply,
  });
