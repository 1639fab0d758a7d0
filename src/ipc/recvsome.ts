/**
 * `ipc_recv_some`: receive whatever has arrived, up to a length. libdill's `brecv` reads an exact
 * length; a reader of lines or of any framing it only learns while reading needs "what is there
 * now, or wait for the first bytes" to buffer efficiently, instead of one `brecv` per byte.
 */
import type { Op } from "../handles/op.js";
import type { IpcSocket, Unbranded } from "../handles/types.js";
import { RecvSome } from "../stream/recvsome.js";
import { IPC_TYPE } from "./socket.js";

/**
 * Receives at least one and at most `len` bytes into `buf`: what is already buffered, or else
 * the first bytes to arrive. Returns how many were received. This is a tsdill addition for
 * readers that buffer (lines, framings parsed while reading); exact reads remain `brecv`.
 * As with `brecv`, after any failure (the deadline included) the socket refuses to receive, and
 * another coroutine receiving on `s` at the same time is `EBUSY`. With `len = 0` it returns 0 at once.
 *
 * @param s an IPC connection handle.
 * @param buf where the bytes go, from its start.
 * @param len the most bytes to take (at most `buf.length`).
 * @param deadline absolute time in ms; `-1` never, `0` only what is already buffered.
 * @returns the number of bytes received, 1 to `len`.
 * @throws `EBADF`, `ENOTSUP` (not an IPC connection), `EINVAL` (bad `buf`, `len` or deadline),
 * `EBUSY`, `EPIPE` (the peer closed its sending side and everything was read), `ECONNRESET`,
 * `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const buf = new Uint8Array(4096);
 * const n = yield* ipc_recv_some(s, buf, buf.length, now() + 1000);
 * console.log(`got ${n} bytes`, buf.subarray(0, n));
 * ```
 */
export function ipc_recv_some(s: IpcSocket | Unbranded, buf: Uint8Array, len: number, deadline: number): Op<number> {
  return new RecvSome(IPC_TYPE, "ipc_recv_some", s, buf, len, deadline);
}
