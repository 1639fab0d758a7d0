/**
 * The UDP socket object behind a `udp_open` handle, after libdill's udp.c: a `node:dgram`
 * socket, the queue of datagrams that arrived and nobody has received yet, and the one coroutine
 * waiting in a receive. It answers {@link MSOCK_TYPE}, so `msend`/`mrecv` work on it when a
 * remote address was given, and {@link UDP_TYPE}, which the `udp_*` calls ask for.
 *
 * Node reads datagrams as they arrive and offers no way to pause: the queue stands in for the
 * kernel's receive buffer, and like it, it drops what does not fit (UDP may lose datagrams).
 */
import type { RemoteInfo, Socket } from "node:dgram";
import type { IoList } from "../handles/bytestream.js";
import { dillError, quickError } from "../handles/errors.js";
import type { HandleVfs } from "../handles/table.js";
import type { MessageSocket } from "../handles/msock.js";
import { MSOCK_TYPE } from "../handles/msock.js";
import { BLOCK, type Op } from "../handles/op.js";
import type { CrBase } from "../runtime/cr.js";
import { canBlock, expired, flush, interrupt, park, suspended, wake } from "../runtime/sched.js";
import { AF_INET, AF_INET6, type IpAddr, ipaddrSet } from "../ipaddr/ipaddr.js";

/** Interface id a UDP socket handle answers in `hquery` (besides `MSOCK_TYPE`). */
export const UDP_TYPE: unique symbol = Symbol("udp");

/** The largest payload of one datagram: 65535 less the IP and UDP headers (IPv6 has no IP header in it). */
export const UDP_MAX_V4 = 65507;
/** The largest payload of one IPv6 datagram (the 65535 bytes of the payload length, less 8 for UDP). */
export const UDP_MAX_V6 = 65527;

/** How many bytes of datagrams may wait unreceived (Linux's default receive buffer is about this). */
const QUEUE_BYTES = 208 * 1024;
/** How many datagrams may wait unreceived, however small. */
const QUEUE_COUNT = 4096;

/** Where the socket lives: its storage, told when the handle is closed. */
export interface UdpHome {
  udpClosed(): void;
}

/** One datagram received and not yet taken: its bytes and its sender. */
interface Datagram {
  msg: Buffer;
  family: number;
  address: string;
  port: number;
}

/** The family number of a dgram RemoteInfo. */
function familyOf(r: RemoteInfo): number {
  return r.family === "IPv6" ? AF_INET6 : AF_INET;
}

function unblockRecv(cr: CrBase): void {
  const u = cr.waitObj as UdpSock;
  if (u.waiter === cr) u.waiter = null;
}

/** A UDP socket: the vfs of its handle and its message interface. */
export class UdpSock implements HandleVfs, MessageSocket {
  readonly kind = "udp";
  sock: Socket | null = null;
  family = AF_INET;
  /** The default destination and the only accepted source, or null (libdill's `hasremote`). */
  remote: IpAddr | null = null;
  /** The coroutine parked in a receive, or null (libdill's `busy`). */
  waiter: CrBase | null = null;
  private readonly queue: Datagram[] = [];
  private head = 0;
  private queued = 0;

  constructor(private readonly home: UdpHome) {}

  /** Arm the object around a bound socket. */
  open(sock: Socket, family: number, remote: IpAddr | null): void {
    this.sock = sock;
    this.family = family;
    this.remote = remote;
    this.waiter = null;
    sock.on("message", this.onMessage);
    sock.on("error", this.onError);
  }

  query(type: symbol): unknown {
    if (type === MSOCK_TYPE) return this;
    if (type === UDP_TYPE) return this;
    return undefined;
  }

  /** hclose: the socket is closed at once; a coroutine still waiting in a receive gets `EBADF`. */
  close(): void {
    const sock = this.sock;
    this.sock = null;
    if (sock !== null) {
      sock.off("message", this.onMessage);
      sock.off("error", this.onError);
      sock.on("error", ignore);
      sock.close();
    }
    this.queue.length = 0;
    this.head = 0;
    this.queued = 0;
    const cr = this.waiter;
    if (cr !== null) {
      this.waiter = null;
      // interrupt, not wakeWithError: hclose may run outside the scheduler's loop, with no flush after.
      interrupt(cr, dillError("EBADF", cr.waitOp, "s", "the socket was closed while waiting"));
    }
    this.remote = null;
    this.home.udpClosed();
  }

  /** A datagram from Node: dropped when it comes from elsewhere than the remote, or when full. */
  private readonly onMessage = (msg: Buffer, r: RemoteInfo): void => {
    const family = familyOf(r);
    const remote = this.remote;
    // With a remote address, everything from other addresses is dropped, as libdill does.
    if (remote !== null && (remote.family !== family || remote.address !== r.address || remote.port !== r.port)) return;
    if (this.queue.length - this.head >= QUEUE_COUNT || this.queued + msg.length > QUEUE_BYTES) return;
    this.queue.push({ msg, family, address: r.address, port: r.port });
    this.queued += msg.length;
    const cr = this.waiter;
    if (cr !== null) {
      this.waiter = null;
      wake(cr, undefined);
      flush();
    }
  };

  /** Errors of sends (a datagram that could not go: dropped, as libdill's sendmsg failure is). */
  private readonly onError = (): void => {};

  /** The oldest datagram waiting, taken off the queue, or null. */
  private take(): Datagram | null {
    if (this.head === this.queue.length) return null;
    const d = this.queue[this.head]!;
    this.queue[this.head] = undefined as unknown as Datagram;
    this.head++;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.queued -= d.msg.length;
    return d;
  }

  /**
   * Send the bytes of `first`..`last` as one datagram to `addr`, or to the remote address when
   * `addr` is null. Never blocks: a datagram the system cannot take is dropped, as in libdill.
   */
  sendl(addr: IpAddr | null, first: IoList, last: IoList, fn: string): void {
    const sock = this.sock!;
    const dst = addr ?? this.remote;
    if (dst === null)
      throw dillError("EINVAL", fn, "addr", "addr is null and the socket has no remote address (see udp_open)");
    if (dst.family !== this.family)
      throw dillError(
        "EINVAL",
        fn,
        "addr",
        `addr is an ${dst.family === AF_INET6 ? "IPv6" : "IPv4"} address, the socket is ${this.family === AF_INET6 ? "IPv6" : "IPv4"}`,
      );
    if (dst.port === 0) throw dillError("EINVAL", fn, "addr", "the destination's port is 0");
    let size = 0;
    for (let it: IoList | null = first; ; it = it!.iol_next) {
      size += it!.iol_len;
      if (it === last) break;
    }
    const max = this.family === AF_INET6 ? UDP_MAX_V6 : UDP_MAX_V4;
    if (size > max)
      throw dillError("EMSGSIZE", fn, undefined, `${size} bytes do not fit one UDP datagram (at most ${max})`);
    // A copy: Node sends after this call returns, and the caller may reuse its buffers at once.
    const out = Buffer.allocUnsafe(size);
    let off = 0;
    for (let it: IoList | null = first; ; it = it!.iol_next) {
      out.set(it!.iol_base!.subarray(0, it!.iol_len), off);
      off += it!.iol_len;
      if (it === last) break;
    }
    try {
      sock.send(out, dst.port, dst.address);
    } catch {
      // a datagram Node refuses to send is dropped, as one the system cannot take
    }
  }

  /**
   * Receive one datagram into `first`..`last` (both null: drop it) and evaluate to its size;
   * `addr`, when not null, is set to the sender. A datagram longer than the list is dropped and
   * the call fails with `EMSGSIZE`: the socket stays usable (a datagram is whole or lost).
   */
  *recvl(addr: IpAddr | null, first: IoList | null, last: IoList | null, deadline: number, fn: string): Op<number> {
    const cr = canBlock(fn);
    if (cr === null) return yield* suspended();
    if (this.waiter !== null) throw dillError("EBUSY", fn, "s", "another coroutine is receiving on this socket");
    let d = this.take();
    while (d === null) {
      if (expired(deadline)) throw quickError("ETIMEDOUT", fn);
      this.waiter = cr;
      park(cr, fn, deadline, unblockRecv, this);
      yield BLOCK;
      d = this.take();
    }
    const msg = d.msg;
    let room = 0;
    if (first !== null) {
      for (let it: IoList | null = first; ; it = it!.iol_next) {
        room += it!.iol_len;
        if (it === last) break;
      }
      if (msg.length > room)
        throw dillError(
          "EMSGSIZE",
          fn,
          undefined,
          `a ${msg.length}-byte datagram does not fit the ${room} bytes given`,
        );
      let off = 0;
      for (let it: IoList | null = first; off < msg.length; it = it!.iol_next) {
        const n = Math.min(it!.iol_len, msg.length - off);
        if (it!.iol_base !== null) it!.iol_base.set(msg.subarray(off, off + n));
        off += n;
        if (it === last) break;
      }
    }
    if (addr !== null) ipaddrSet(addr, d.family, d.address, d.port);
    return msg.length;
  }

  /**
   * `msend`: to the remote address; `EINVAL` without one. A send never waits, so the work is
   * done here and an empty op (an empty array: `yield*` over it ends at once) is returned, saving
   * a generator per datagram.
   */
  msendl(first: IoList, last: IoList, _deadline: number, fn: string): Op<void> {
    if (this.remote === null)
      throw dillError("EINVAL", fn, "s", "the UDP socket has no remote address to send to (see udp_open)");
    this.sendl(null, first, last, fn);
    return SENT;
  }

  /** `mrecv`: from the remote address only (others are dropped on arrival when it is set). */
  mrecvl(first: IoList | null, last: IoList | null, deadline: number, fn: string): Op<number> {
    return this.recvl(null, first, last, deadline, fn);
  }
}

function ignore(): void {}

/** The op of a send that is already done: `yield*` over an empty array evaluates to undefined at once. */
const SENT = Object.freeze([]) as unknown as Op<void>;
