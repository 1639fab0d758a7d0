/** The file descriptor behind a stream listener, for every family's `*_listener_fd`. */
import { dillError } from "../handles/errors.js";
import { handleQuery } from "../handles/table.js";
import type { StreamListener } from "./listener.js";

/** `*_listener_fd` for the listeners answering `type` (IPC or TCP). */
export function listenerFd(ls: number, type: symbol, fn: string): number {
  const l = handleQuery(ls, type, fn, "ls") as StreamListener;
  // Node has no public accessor for a server's fd: it lives on the server's internal handle.
  const fd = (l.server as unknown as { _handle?: { fd?: number } } | null)?._handle?.fd;
  if (typeof fd !== "number" || fd < 0)
    throw dillError("EBADF", fn, "ls", `listener ${ls} has no open file descriptor`);
  return fd;
}
