/**
 * The process's file descriptors, as the server sees them: the soft limit (`ulimit -n`), and the
 * fds held besides connections. When accepting one more connection would leave fewer than a
 * small reserve, the server answers it `ERR EMFILE` and closes it, and counts it. Without this,
 * the connections that arrive at the limit are accepted and closed by Node's event loop (libuv)
 * itself, silently: the client gets an end of stream and the server never hears of them.
 */
import { readdirSync, readFileSync } from "node:fs";

/** The fds kept free: room for the connection being refused and for what Node opens meanwhile. */
export const FD_RESERVE = 8;

/** The soft limit of open files, from /proc/self/limits; Infinity when it cannot be read. */
function softLimit(): number {
  try {
    const m = /^Max open files\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    const n = m === null ? Number.NaN : Number(m[1]);
    return Number.isFinite(n) ? n : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Fds open now (the listing's own fd not counted); 0 when /proc cannot be read. */
function openFds(): number {
  try {
    return readdirSync("/proc/self/fd").length - 1;
  } catch {
    return 0;
  }
}

export class FdBudget {
  readonly limit = softLimit();
  /** Fds held besides the connections (measured once the server listens). */
  readonly base = openFds();

  /** True when `live` connections (the one just accepted included) eat into the reserve. */
  full(live: number): boolean {
    return this.base + live + FD_RESERVE > this.limit;
  }
}
