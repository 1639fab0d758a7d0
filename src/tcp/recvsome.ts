/** `tcp_recv_some`: `ipc_recv_some` for TCP connections (the same op over the shared connection class). */
import type { Op } from "../handles/op.js";
import type { TcpSocket, Unbranded } from "../handles/types.js";
import { RecvSome } from "../stream/recvsome.js";
import { TCP_TYPE } from "./family.js";

/**
 * Receives at least one and at most `len` bytes into `buf`: what is already buffered, or else
 * the first bytes to arrive. Returns how many were received. A tsdill addition for readers that
 * buffer (lines, framings parsed while reading); exact reads remain `brecv`. As with `brecv`,
 * after any failure (the deadline included) the connection refuses to receive, and another
 * coroutine receiving on `s` at the same time is `EBUSY`. With `len = 0` it returns 0 at once.
 *
 * @param s a TCP connection handle.
 * @param buf where the bytes go, from its start.
 * @param len the most bytes to take (at most `buf.length`).
 * @param deadline absolute time in ms; `-1` never, `0` only what is already buffered.
 * @returns the number of bytes received, 1 to `len`.
 * @throws `EBADF`, `ENOTSUP` (not a TCP connection), `EINVAL` (bad `buf`, `len` or deadline),
 * `EBUSY`, `EPIPE` (the peer closed its sending side and everything was read), `ECONNRESET`,
 * `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const buf = new Uint8Array(4096);
 * const n = yield* tcp_recv_some(s, buf, buf.length, now() + 1000);
 * console.log(`got ${n} bytes`, buf.subarray(0, n));
 * ```
 */
export function tcp_recv_some(s: TcpSocket | Unbranded, buf: Uint8Array, len: number, deadline: number): Op<number> {
  return new RecvSome(TCP_TYPE, "tcp_recv_some", s, buf, len, deadline);
}
