/**
 * The TCP family's identity: the interface ids its handles answer in `hquery`, and the
 * {@link StreamFamily} that makes the stream connection of `src/stream/` a TCP one (TCP_NODELAY on, as
 * libdill sets it). Everything else about a TCP connection is the same code as an IPC one.
 */
import type { StreamFamily } from "../stream/conn.js";

/** Interface id a TCP connection handle answers in `hquery` (besides `BSOCK_TYPE`). */
export const TCP_TYPE: unique symbol = Symbol("tcp");

/** Interface id a TCP listener handle answers in `hquery`. */
export const TCP_LISTENER_TYPE: unique symbol = Symbol("tcp_listener");

/** The TCP family of stream connections. */
export const TCP_FAMILY: StreamFamily = { type: TCP_TYPE, kind: "tcp", prefix: "tcp", noDelay: true, attached: null };
