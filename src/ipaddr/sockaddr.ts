/**
 * `ipaddr_sockaddr` and `ipaddr_len`: an IP address as the bytes of the C socket address a
 * system call takes (`struct sockaddr_in` or `struct sockaddr_in6`, laid out as on Linux), for
 * programs that hand addresses to native code or write them into a file or a packet.
 *
 * The layout, as Linux has it: the family is a 16-bit number in the machine's byte order, the
 * port and the address are in network byte order (big-endian), then zeros (`sin_zero`), or for
 * IPv6 the flow info and the scope id, both 0 here (an `IpAddr` carries neither).
 */
import { endianness } from "node:os";
import { SocketAddress } from "node:net";
import { AF_INET6, checkIpAddr, type IpAddr } from "./ipaddr.js";

/** `sizeof(struct sockaddr_in)` on Linux. */
const SOCKADDR_IN_LEN = 16;
/** `sizeof(struct sockaddr_in6)` on Linux. */
const SOCKADDR_IN6_LEN = 28;

const LITTLE = endianness() === "LE";

/** The 16 bytes of an IPv6 address in text form (canonical, as IpAddr holds it). */
function v6Bytes(text: string, out: Uint8Array, off: number): void {
  // Expand "::" into the missing groups, and a trailing dotted IPv4 part into two groups.
  let t = text;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(t);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    t = t.slice(0, dotted.index) + ((a << 8) | b).toString(16) + ":" + ((c << 8) | d).toString(16);
  }
  const [head, tail] = t.includes("::") ? t.split("::") : [t, null];
  const h = head === "" ? [] : head!.split(":");
  const tl = tail === null || tail === "" ? [] : tail.split(":");
  const groups = tail === null ? h : [...h, ...new Array<string>(8 - h.length - tl.length).fill("0"), ...tl];
  for (let i = 0; i < 8; i++) {
    const g = parseInt(groups[i]!, 16);
    out[off + 2 * i] = g >> 8;
    out[off + 2 * i + 1] = g & 0xff;
  }
}

/**
 * The socket address of `addr` as bytes: the 16 bytes of a `struct sockaddr_in` for an IPv4
 * address, the 28 of a `struct sockaddr_in6` for IPv6, laid out as Linux lays them out (family
 * in the machine's byte order, port and address in network byte order, the rest zero). libdill
 * returns a pointer into the address object; tsdill returns a new `Uint8Array` (changing it
 * does not change `addr`).
 *
 * @param addr an IP address (from `ipaddr_local` or `ipaddr_remote`).
 * @returns the bytes; their count is `ipaddr_len(addr)`.
 * @throws `EINVAL` when `addr` is not an IpAddr.
 *
 * @example
 * ```ts
 * const sa = ipaddr_sockaddr(ipaddr_local("127.0.0.1", 80, 0));
 * // on x86: 02 00 00 50 7f 00 00 01 00 00 00 00 00 00 00 00
 * ```
 */
export function ipaddr_sockaddr(addr: IpAddr): Uint8Array {
  checkIpAddr("ipaddr_sockaddr", "addr", addr);
  const v6 = addr.family === AF_INET6;
  const out = new Uint8Array(v6 ? SOCKADDR_IN6_LEN : SOCKADDR_IN_LEN);
  const view = new DataView(out.buffer);
  view.setUint16(0, addr.family, LITTLE);
  view.setUint16(2, addr.port, false);
  if (v6) v6Bytes(new SocketAddress({ address: addr.address, family: "ipv6" }).address, out, 8);
  else {
    const parts = addr.address.split(".");
    for (let i = 0; i < 4; i++) out[4 + i] = Number(parts[i]);
  }
  return out;
}

/**
 * The length in bytes of the socket address of `addr`: 16 (`sizeof(struct sockaddr_in)`) for
 * IPv4, 28 (`sizeof(struct sockaddr_in6)`) for IPv6, the length `ipaddr_sockaddr` returns.
 *
 * @throws `EINVAL` when `addr` is not an IpAddr.
 *
 * @example
 * ```ts
 * ipaddr_len(ipaddr_local("::1", 80, 0)); // 28
 * ```
 */
export function ipaddr_len(addr: IpAddr): number {
  checkIpAddr("ipaddr_len", "addr", addr);
  return addr.family === AF_INET6 ? SOCKADDR_IN6_LEN : SOCKADDR_IN_LEN;
}
