/**
 * IP addresses, after libdill's ipaddr.c: `ipaddr_local`, `ipaddr_remote`, `ipaddr_remotes`,
 * `ipaddr_port`, `ipaddr_setport`, `ipaddr_family`, `ipaddr_str`, `ipaddr_equal`.
 *
 * An {@link IpAddr} is the TypeScript form of `struct ipaddr`: a small mutable value holding a
 * family, an address and a port. libdill's calls that fill a `struct ipaddr*` out-parameter
 * (`ipaddr_local`, `ipaddr_remote`) return a new `IpAddr` instead; the calls that write through
 * a pointer they were given (`ipaddr_setport`, `tcp_listen` reporting the port it bound,
 * `tcp_accept` reporting the peer) change the `IpAddr` passed to them, as in C. Copy one with
 * `new IpAddr(other)` (C copies the struct by assignment).
 */
import { lookup, type LookupAddress } from "node:dns";
import { SocketAddress } from "node:net";
import { networkInterfaces } from "node:os";
import { checkDeadline } from "../handles/args.js";
import { dillError, quickError } from "../handles/errors.js";
import { BLOCK, guardOps, type Op } from "../handles/op.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, expired, flush, park, suspended, wake } from "../runtime/sched.js";

/** The address family of IPv4 addresses (Linux's `AF_INET`), as `ipaddr_family` reports it. */
export const AF_INET = 2;
/** The address family of IPv6 addresses (Linux's `AF_INET6`), as `ipaddr_family` reports it. */
export const AF_INET6 = 10;

/** Mode: IPv4 addresses only. */
export const IPADDR_IPV4 = 1;
/** Mode: IPv6 addresses only. */
export const IPADDR_IPV6 = 2;
/** Mode: an IPv4 address if there is one, else IPv6. The default (mode `0`). */
export const IPADDR_PREF_IPV4 = 3;
/** Mode: an IPv6 address if there is one, else IPv4. */
export const IPADDR_PREF_IPV6 = 4;
/** The longest string `ipaddr_str` returns, counting a terminating NUL as C does (46). */
export const IPADDR_MAXSTRLEN = 46;

/**
 * An IP address and port: libdill's `struct ipaddr`. Make one with `ipaddr_local` or
 * `ipaddr_remote`; read it with `ipaddr_family`, `ipaddr_str` and `ipaddr_port`. The fields are
 * read-only to user code; `ipaddr_setport`, `tcp_listen` and `tcp_accept` change them.
 *
 * @example
 * ```ts
 * const addr = ipaddr_local("127.0.0.1", 0, 0);
 * const copy = new IpAddr(addr);  // an independent copy
 * ipaddr_setport(copy, 8080);     // addr keeps port 0
 * ```
 */
export class IpAddr {
  /** `AF_INET` (2) or `AF_INET6` (10). */
  readonly family: number;
  /** The address in its canonical text form, as `ipaddr_str` returns it. */
  readonly address: string;
  /** The port, 0 to 65535. */
  readonly port: number;

  /** A copy of `from`, or the IPv4 "any" address with port 0. */
  constructor(from?: IpAddr) {
    if (from instanceof IpAddr) {
      this.family = from.family;
      this.address = from.address;
      this.port = from.port;
    } else {
      this.family = AF_INET;
      this.address = "0.0.0.0";
      this.port = 0;
    }
  }

  /** `address:port`, with brackets around an IPv6 address: for logs. */
  toString(): string {
    return this.family === AF_INET6 ? `[${this.address}]:${this.port}` : `${this.address}:${this.port}`;
  }
}

type Mutable = { -readonly [K in keyof IpAddr]: IpAddr[K] };

/** Set every field of `a` (the calls that write through an `IpAddr`). */
export function ipaddrSet(a: IpAddr, family: number, address: string, port: number): void {
  const m = a as Mutable;
  m.family = family;
  m.address = address;
  m.port = port;
}

function make(family: number, address: string, port: number): IpAddr {
  const a = new IpAddr();
  ipaddrSet(a, family, address, port);
  return a;
}

/**
 * `EINVAL` unless `a` is an IpAddr whose fields hold together: a known family, an address text of
 * that family (an IPv6 one has a colon, an IPv4 one has none), a port from 0 to 65535. The fields
 * are read-only to TypeScript only, so a cast or `Object.assign` can break them; a few comparisons
 * keep such an object away from the socket calls. The address text itself is not parsed again.
 */
export function checkIpAddr(fn: string, arg: string, a: unknown): asserts a is IpAddr {
  if (!(a instanceof IpAddr))
    throw dillError("EINVAL", fn, arg, `${arg} must be an IpAddr (from ipaddr_local or ipaddr_remote)`);
  const { family, address, port } = a;
  if (
    typeof address !== "string" ||
    (family === AF_INET ? address.includes(":") : family !== AF_INET6 || !address.includes(":")) ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 0xffff
  ) {
    throw dillError(
      "EINVAL",
      fn,
      arg,
      `${arg} is a damaged IpAddr (family ${String(family)}, address ${String(address)}, port ${String(port)})`,
    );
  }
}

function checkPort(fn: string, port: unknown): asserts port is number {
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 0xffff) {
    throw dillError("EINVAL", fn, "port", `port must be an integer from 0 to 65535, got ${String(port)}`);
  }
}

function checkMode(fn: string, mode: unknown): number {
  if (mode === 0) return IPADDR_PREF_IPV4;
  if (mode === IPADDR_IPV4 || mode === IPADDR_IPV6 || mode === IPADDR_PREF_IPV4 || mode === IPADDR_PREF_IPV6)
    return mode;
  throw dillError(
    "EINVAL",
    fn,
    "mode",
    `mode must be 0, IPADDR_IPV4, IPADDR_IPV6, IPADDR_PREF_IPV4 or IPADDR_PREF_IPV6, got ${String(mode)}`,
  );
}

/**
 * The canonical text of an IPv4 (`v6` false) or IPv6 literal, or null when `name` is not one.
 * Node's SocketAddress parses and prints with inet_pton/inet_ntop rules (no leading zeros in
 * IPv4, `::` compression and lower case in IPv6). A zone suffix (`%eth0`) is not a literal.
 */
function literal(name: string, v6: boolean): string | null {
  if (name.length === 0 || name.length > 45 || name.includes("%")) return null;
  if (v6 ? !name.includes(":") : !/^[0-9.]+$/.test(name)) return null;
  try {
    return new SocketAddress({ address: name, family: v6 ? "ipv6" : "ipv4" }).address;
  } catch {
    return null;
  }
}

/** A literal address of a family `mode` allows, tried in the order it prefers; else null. */
function literalFor(name: string, port: number, mode: number): IpAddr | null {
  const order =
    mode === IPADDR_IPV4
      ? [false]
      : mode === IPADDR_IPV6
        ? [true]
        : mode === IPADDR_PREF_IPV6
          ? [true, false]
          : [false, true];
  for (const v6 of order) {
    const text = literal(name, v6);
    if (text !== null) return make(v6 ? AF_INET6 : AF_INET, text, port);
  }
  return null;
}

/** True when `name` is an IP literal of either family. */
function isLiteral(name: string): boolean {
  return literal(name, false) !== null || literal(name, true) !== null;
}

/** The longest host name, in characters (RFC 1035: 255 octets on the wire, 253 as text). */
const NAME_MAX = 253;

function checkName(fn: string, name: unknown): asserts name is string {
  if (typeof name !== "string") throw dillError("EINVAL", fn, "name", "name must be a string");
  if (name.length === 0) throw dillError("EINVAL", fn, "name", "name is empty");
  if (name.includes("\0")) throw dillError("EINVAL", fn, "name", "name contains a NUL byte");
  if (name.length > NAME_MAX)
    throw dillError(
      "ENAMETOOLONG",
      fn,
      "name",
      `name is ${name.length} characters long, a host name has at most ${NAME_MAX}`,
    );
}

/**
 * Makes a local address, one to listen on or bind to: the "any" address when `name` is null
 * (or `"*"`), a literal IPv4 or IPv6 address, or the name of a local network interface (its first
 * address of the family `mode` asks for). There is no DNS lookup.
 *
 * @param name null or `"*"` (any address), a literal such as `"127.0.0.1"` or `"::1"`, or an
 * interface name such as `"lo"`.
 * @param port 0 to 65535; 0 lets `tcp_listen` choose a free port.
 * @param mode `IPADDR_IPV4`, `IPADDR_IPV6`, `IPADDR_PREF_IPV4`, `IPADDR_PREF_IPV6`, or 0 (the
 * default, `IPADDR_PREF_IPV4`). For the any address, the IPv6 modes give `::`, the others `0.0.0.0`.
 * @returns a new {@link IpAddr}.
 * @throws `EINVAL` (bad `name`, `port` or `mode`), `ENAMETOOLONG` (`name` longer than 253
 * characters), `ENODEV` (`name` is neither a literal of a family `mode` allows nor an interface
 * with such an address).
 *
 * @example
 * ```ts
 * const addr = ipaddr_local("127.0.0.1", 0, IPADDR_IPV4);
 * const ls = yield* tcp_listen(addr, 10);
 * ```
 */
export function ipaddr_local(name: string | null, port: number, mode: number): IpAddr {
  const fn = "ipaddr_local";
  checkPort(fn, port);
  const m = checkMode(fn, mode);
  if (name === null || name === undefined || name === "*") {
    return m === IPADDR_IPV6 || m === IPADDR_PREF_IPV6 ? make(AF_INET6, "::", port) : make(AF_INET, "0.0.0.0", port);
  }
  checkName(fn, name);
  const lit = literalFor(name, port, m);
  if (lit !== null) return lit;
  const iface = networkInterfaces()[name];
  let v4: string | null = null;
  let v6: string | null = null;
  if (iface !== undefined) {
    for (const i of iface) {
      if (i.family === "IPv4" && v4 === null) v4 = i.address;
      else if (i.family === "IPv6" && v6 === null) v6 = i.address;
    }
  }
  if (m === IPADDR_IPV4) v6 = null;
  else if (m === IPADDR_IPV6) v4 = null;
  else if (m === IPADDR_PREF_IPV4 && v4 !== null) v6 = null;
  else if (m === IPADDR_PREF_IPV6 && v6 !== null) v4 = null;
  if (v4 !== null) return make(AF_INET, v4, port);
  if (v6 !== null) return make(AF_INET6, literal(v6, true) ?? v6, port);
  const why =
    iface === undefined
      ? `'${name}' is neither an IP address nor a local network interface`
      : `interface '${name}' has no address of the family mode asks for`;
  throw dillError("ENODEV", fn, "name", why);
}

/**
 * One lookup in flight: the coroutine waiting for it (null once it gave up) and, after it, the
 * error the resolver reported. A name that does not resolve is an empty answer, as in libdill.
 */
class Lookup {
  cr: CrBase | null = null;
  err: NodeJS.ErrnoException | null = null;
  constructor(
    readonly port: number,
    readonly mode: number,
    readonly max: number,
  ) {}
  readonly done = (err: NodeJS.ErrnoException | null, found: LookupAddress[]): void => {
    const cr = this.cr;
    if (cr === null) return; // the caller timed out or was cancelled: nobody wants the answer
    this.cr = null;
    this.err = err;
    wake(cr, err === null ? pick(found, this.port, this.mode, this.max) : []);
    flush();
  };
}

function unblockLookup(cr: CrBase): void {
  const l = cr.waitObj as Lookup;
  if (l.cr === cr) l.cr = null;
}

/** Up to `max` addresses from a lookup's answer, in the order `mode` prefers. */
function pick(found: LookupAddress[], port: number, mode: number, max: number): IpAddr[] {
  const out: IpAddr[] = [];
  const firstV6 = mode === IPADDR_IPV6 || mode === IPADDR_PREF_IPV6;
  const pass = (v6: boolean): void => {
    for (const f of found) {
      if (out.length >= max) return;
      if ((f.family === 6) !== v6) continue;
      const text = literal(f.address, v6);
      if (text !== null) out.push(make(v6 ? AF_INET6 : AF_INET, text, port));
    }
  };
  pass(firstV6);
  if (mode === IPADDR_PREF_IPV4 || mode === IPADDR_PREF_IPV6) pass(!firstV6);
  return out;
}

/** What resolve() found, and why it found nothing. */
interface Found {
  addrs: IpAddr[];
  why: string;
}

function* resolve(name: string, port: number, mode: number, max: number, deadline: number, fn: string): Op<Found> {
  const cr = canBlock(fn);
  if (cr === null) return yield* suspended();
  checkName(fn, name);
  checkPort(fn, port);
  const m = checkMode(fn, mode);
  checkDeadline(fn, deadline);
  const lit = literalFor(name, port, m);
  if (lit !== null) return { addrs: [lit], why: "" };
  if (isLiteral(name)) return { addrs: [], why: `'${name}' is an address of a family mode excludes` };
  if (expired(deadline)) throw quickError("ETIMEDOUT", fn);
  const l = new Lookup(port, m, max);
  l.cr = cr;
  lookup(name, { all: true, family: m === IPADDR_IPV4 ? 4 : m === IPADDR_IPV6 ? 6 : 0 }, l.done);
  park(cr, fn, deadline, unblockLookup, l);
  const addrs = (yield BLOCK) as IpAddr[];
  const err = l.err;
  return {
    addrs,
    why:
      err === null
        ? `'${name}' has no address of the family mode asks for`
        : `cannot resolve '${name}' (${err.code ?? err.message})`,
  };
}

/**
 * Resolves the address of a remote endpoint: a literal IPv4 or IPv6 address (no lookup), or a
 * host name, looked up the way the system does it (`/etc/hosts`, then DNS) on Node's thread
 * pool. The wait obeys the deadline and cancellation; a lookup given up on finishes in the
 * background and its answer is dropped.
 *
 * @param name a host name such as `"localhost"`, or a literal such as `"127.0.0.1"`.
 * @param port 0 to 65535.
 * @param mode `IPADDR_IPV4`, `IPADDR_IPV6`, `IPADDR_PREF_IPV4`, `IPADDR_PREF_IPV6` or 0
 * (`IPADDR_PREF_IPV4`).
 * @param deadline absolute time in ms; `-1` never; `0` resolves literals only (a name then
 * fails with `ETIMEDOUT`).
 * @returns a new {@link IpAddr}.
 * @throws `EINVAL` (bad `name`, `port`, `mode` or deadline), `ENAMETOOLONG` (`name` longer than
 * 253 characters: no lookup), `EADDRNOTAVAIL` (the name cannot be resolved to an address of the
 * family `mode` asks for), `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const addr = yield* ipaddr_remote("localhost", 8080, 0, now() + 1000);
 * const s = yield* tcp_connect(addr, now() + 1000);
 * ```
 */
export function* ipaddr_remote(name: string, port: number, mode: number, deadline: number): Op<IpAddr> {
  const found = yield* resolve(name, port, mode, 1, deadline, "ipaddr_remote");
  if (found.addrs.length === 0) throw dillError("EADDRNOTAVAIL", "ipaddr_remote", "name", found.why);
  return found.addrs[0]!;
}

/**
 * Like {@link ipaddr_remote}, but returns up to `naddrs` addresses of the name: those of the
 * family `mode` prefers first. libdill fills an array and returns the count; tsdill returns the
 * array, which may be empty.
 *
 * @param naddrs the most addresses wanted, at least 1.
 * @throws as `ipaddr_remote`, and `EINVAL` for a bad `naddrs`; but a name that does not resolve
 * to an address of the family asked for gives an empty array, not `EADDRNOTAVAIL`.
 *
 * @example
 * ```ts
 * const addrs = yield* ipaddr_remotes("localhost", 8080, 0, 4, now() + 1000);
 * ```
 */
export function* ipaddr_remotes(
  name: string,
  port: number,
  mode: number,
  naddrs: number,
  deadline: number,
): Op<IpAddr[]> {
  const fn = "ipaddr_remotes";
  if (canBlock(fn) === null) return yield* suspended();
  if (!Number.isSafeInteger(naddrs) || naddrs < 1)
    throw dillError("EINVAL", fn, "naddrs", `naddrs must be a positive integer, got ${String(naddrs)}`);
  return (yield* resolve(name, port, mode, naddrs, deadline, fn)).addrs;
}

/**
 * The port of an address.
 *
 * @example
 * ```ts
 * const ls = yield* tcp_listen(addr, 10);
 * console.log(ipaddr_port(addr)); // the port tcp_listen chose when addr asked for 0
 * ```
 */
export function ipaddr_port(addr: IpAddr): number {
  checkIpAddr("ipaddr_port", "addr", addr);
  return addr.port;
}

/**
 * Changes the port of an address, in place.
 *
 * @throws `EINVAL` (not an IpAddr, or a port outside 0 to 65535).
 *
 * @example
 * ```ts
 * ipaddr_setport(addr, 8080);
 * ```
 */
export function ipaddr_setport(addr: IpAddr, port: number): void {
  checkIpAddr("ipaddr_setport", "addr", addr);
  checkPort("ipaddr_setport", port);
  (addr as Mutable).port = port;
}

/**
 * The family of an address: `AF_INET` (2) or `AF_INET6` (10).
 *
 * @example
 * ```ts
 * if (ipaddr_family(addr) === AF_INET6) console.log("IPv6");
 * ```
 */
export function ipaddr_family(addr: IpAddr): number {
  checkIpAddr("ipaddr_family", "addr", addr);
  return addr.family;
}

/**
 * The address as text, without the port, as `inet_ntop` prints it: `"127.0.0.1"`, `"::1"`,
 * `"2001:db8::1"`, `"::ffff:127.0.0.1"`. At most `IPADDR_MAXSTRLEN - 1` characters. libdill writes
 * into a caller buffer; tsdill returns a string.
 *
 * @example
 * ```ts
 * console.log(`${ipaddr_str(addr)} port ${ipaddr_port(addr)}`);
 * ```
 */
export function ipaddr_str(addr: IpAddr): string {
  checkIpAddr("ipaddr_str", "addr", addr);
  return addr.address;
}

/**
 * True when two addresses are the same: same family and address, and the same port unless
 * `ignore_port` is set. An IPv4 address and its IPv4-mapped IPv6 form are different addresses.
 * libdill returns 1 or 0; tsdill returns a boolean.
 *
 * @throws `EINVAL` (an address is not an IpAddr, or `ignore_port` is neither a boolean nor a
 * number).
 *
 * @example
 * ```ts
 * ipaddr_equal(ipaddr_local("::1", 80, 0), ipaddr_local("0:0::1", 80, 0), false); // true
 * ```
 */
export function ipaddr_equal(addr1: IpAddr, addr2: IpAddr, ignore_port: boolean | number): boolean {
  checkIpAddr("ipaddr_equal", "addr1", addr1);
  checkIpAddr("ipaddr_equal", "addr2", addr2);
  if (typeof ignore_port !== "boolean" && typeof ignore_port !== "number") {
    throw dillError(
      "EINVAL",
      "ipaddr_equal",
      "ignore_port",
      `ignore_port must be a boolean or a number, got ${String(ignore_port)}`,
    );
  }
  return (
    addr1.family === addr2.family && addr1.address === addr2.address && (!!ignore_port || addr1.port === addr2.port)
  );
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined)
  guardOps({ ipaddr_remote, ipaddr_remotes });
