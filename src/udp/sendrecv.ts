/**
 * `udp_send`, `udp_recv`, `udp_sendl`, `udp_recvl`: datagrams to and from explicit addresses.
 *
 * Sending never blocks and has no deadline, as in libdill: UDP is unreliable, and a datagram the
 * system cannot take is dropped. Receiving waits, with a deadline, for the next datagram.
 */
import { checkDeadline } from "../handles/args.js";
import { checkBuf, checkList, type IoList } from "../handles/bytestream.js";
import { dillError } from "../handles/errors.js";
import type { Op } from "../handles/op.js";
import { handleQuery } from "../handles/table.js";
import type { UdpSocket, Unbranded } from "../handles/types.js";
import { checkIpAddr, type IpAddr } from "../ipaddr/ipaddr.js";
import { UDP_TYPE, type UdpSock } from "./socket.js";
import { guardOps } from "../handles/op.js";

function udp(s: number, fn: string): UdpSock {
  return handleQuery(s, UDP_TYPE, fn, "s") as UdpSock;
}

/** `addr` as an IpAddr or null (on receive, any IpAddr: its fields are replaced); `EINVAL` for anything else. */
function optAddr(fn: string, addr: IpAddr | null): IpAddr | null {
  if (addr === null || addr === undefined) return null;
  checkIpAddr(fn, "addr", addr);
  return addr;
}

/**
 * Sends one datagram of `len` bytes of `buf` to `addr`, or to the socket's remote address when
 * `addr` is null. It does not block and has no deadline: a datagram the system cannot take now
 * is dropped, as UDP allows.
 *
 * @param s a UDP socket handle (from `udp_open`).
 * @param addr the destination, of the socket's family, or null for the remote address given to
 * `udp_open`.
 * @param buf the datagram's bytes; a string is sent as UTF-8 (`len` then counts its bytes).
 * @param len how many bytes of `buf` to send, from its start.
 * @throws `EBADF`, `ENOTSUP` (not a UDP socket), `EINVAL` (bad `buf` or `len`; `addr` null and
 * no remote address; `addr` of the other family or with port 0), `EMSGSIZE` (more than one datagram holds:
 * 65507 bytes over IPv4, 65527 over IPv6).
 *
 * @example
 * ```ts
 * udp_send(s, ipaddr_local("127.0.0.1", port, 0), "ping", 4);
 * ```
 */
export function udp_send(s: UdpSocket | Unbranded, addr: IpAddr | null, buf: Uint8Array | string, len: number): void {
  const fn = "udp_send";
  const u = udp(s, fn);
  const a = optAddr(fn, addr);
  const bytes = typeof buf === "string" ? Buffer.from(buf, "utf8") : buf;
  checkBuf(fn, bytes, len, false);
  const one: IoList = { iol_base: bytes, iol_len: len, iol_next: null, iol_rsvd: 0 };
  u.sendl(a, one, one, fn);
}

/**
 * Like {@link udp_send}, the datagram made of the buffers of the list `first`..`last`.
 *
 * @throws as `udp_send`; `EINVAL` also for a malformed list.
 *
 * @example
 * ```ts
 * const body: IoList = { iol_base: payload, iol_len: payload.length, iol_next: null, iol_rsvd: 0 };
 * const head: IoList = { iol_base: header, iol_len: header.length, iol_next: body, iol_rsvd: 0 };
 * udp_sendl(s, dst, head, body);
 * ```
 */
export function udp_sendl(s: UdpSocket | Unbranded, addr: IpAddr | null, first: IoList, last: IoList): void {
  const fn = "udp_sendl";
  const u = udp(s, fn);
  const a = optAddr(fn, addr);
  checkList(fn, first, last, false);
  u.sendl(a, first, last, fn);
}

/**
 * Receives one datagram into `buf` and evaluates to its size; when `addr` is an `IpAddr` it is
 * set to the sender's address and port (C's out-parameter, filled in place). With a remote
 * address given to `udp_open`, datagrams from any other address never arrive here.
 *
 * @param s a UDP socket handle.
 * @param addr an `IpAddr` to receive the sender's address (any one: its fields are replaced), or
 * null.
 * @param buf where the datagram goes, from its start; null drops it (its size is still returned).
 * @param len the most bytes the datagram may have.
 * @param deadline absolute time in ms; `-1` never, `0` only if a datagram is already there.
 * @returns the size of the datagram, in bytes.
 * @throws `EBADF`, `ENOTSUP`, `EINVAL`, `EBUSY` (another coroutine is receiving on `s`),
 * `EMSGSIZE` (the datagram is longer than `len`: it is dropped, the socket stays usable),
 * `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const from = new IpAddr();
 * const buf = new Uint8Array(2048);
 * const n = yield* udp_recv(s, from, buf, buf.length, now() + 1000);
 * console.log(`${n} bytes from ${ipaddr_str(from)}:${ipaddr_port(from)}`);
 * ```
 */
export function* udp_recv(
  s: UdpSocket | Unbranded,
  addr: IpAddr | null,
  buf: Uint8Array | null,
  len: number,
  deadline: number,
): Op<number> {
  const fn = "udp_recv";
  const u = udp(s, fn);
  const a = optAddr(fn, addr);
  checkBuf(fn, buf, len, true);
  checkDeadline(fn, deadline);
  const one: IoList = { iol_base: buf, iol_len: len, iol_next: null, iol_rsvd: 0 };
  return yield* u.recvl(a, one, one, deadline, fn);
}

/**
 * Like {@link udp_recv}, into the buffers of the list `first`..`last` in order (an element with
 * `iol_base = null` skips that many bytes); `first = last = null` receives a datagram and drops
 * it. The list is left as it was.
 *
 * @throws as `udp_recv`; `EINVAL` also for a malformed list, or when only one of `first` and
 * `last` is null.
 *
 * @example
 * ```ts
 * const body: IoList = { iol_base: new Uint8Array(1020), iol_len: 1020, iol_next: null, iol_rsvd: 0 };
 * const head: IoList = { iol_base: new Uint8Array(4), iol_len: 4, iol_next: body, iol_rsvd: 0 };
 * const n = yield* udp_recvl(s, null, head, body, now() + 1000);
 * ```
 */
export function* udp_recvl(
  s: UdpSocket | Unbranded,
  addr: IpAddr | null,
  first: IoList | null,
  last: IoList | null,
  deadline: number,
): Op<number> {
  const fn = "udp_recvl";
  const u = udp(s, fn);
  const a = optAddr(fn, addr);
  if (first === null && last === null) {
    // receive one datagram and drop it
  } else if (first === null || last === null) {
    throw dillError("EINVAL", fn, first === null ? "first" : "last", "first and last must both be null or both be set");
  } else checkList(fn, first, last, true);
  checkDeadline(fn, deadline);
  return yield* u.recvl(a, first, last, deadline, fn);
}

// Iterated without yield* (destructured, spread, for…of), each of these fails naming itself.
if ((globalThis as Record<string, unknown>).__TSDILL_BUNDLER__ === undefined) guardOps({ udp_recv, udp_recvl });
