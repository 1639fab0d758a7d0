/**
 * Adopting a file descriptor, for every stream family's `*_fromfd`: its socket inode (for the
 * family's check of what kind of socket it is, in /proc/self/net) and the wrapping of a connected
 * fd in a connection. From then on the handle owns the fd: closing the handle closes it.
 */
import { fstatSync } from "node:fs";
import { Socket } from "node:net";
import { dillError } from "../handles/errors.js";
import type { StreamConn } from "./conn.js";
import { fromNode } from "./errno.js";

/**
 * The inode of the socket open as `fd`, as a string, for the lookups in /proc/self/net: `EINVAL`
 * for a malformed fd or one that is not a socket, `EBADF` for one that is not open.
 */
export function socketInode(fn: string, fd: number): string {
  if (!Number.isSafeInteger(fd) || fd < 0)
    throw dillError("EINVAL", fn, "fd", `fd must be a non-negative integer, got ${String(fd)}`);
  let st;
  try {
    st = fstatSync(fd, { bigint: true });
  } catch {
    throw dillError("EBADF", fn, "fd", `fd ${fd} is not an open file descriptor`);
  }
  if (!st.isSocket()) throw dillError("EINVAL", fn, "fd", `fd ${fd} is not a socket`);
  return st.ino.toString();
}

/**
 * Wrap the connected socket `fd` in the connection of `st` and give it a handle; `st` is free
 * again if Node refuses the fd.
 */
export function adoptFd(fd: number, st: { readonly conn: StreamConn; connClosed(): void }, fn: string): number {
  let sock: Socket;
  try {
    sock = new Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
  } catch (e) {
    st.connClosed();
    throw fromNode(e, fn, "EINVAL");
  }
  return st.conn.adopt(sock, fn);
}
