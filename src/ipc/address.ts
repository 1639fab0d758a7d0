/**
 * IPC addresses: file paths of Unix-domain sockets, checked before any system call so that the
 * errors are libdill's and not what `node:net` happens to report (see the platform notes).
 */
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { dillError, errnoName, ERRNO, type ErrnoCode } from "../handles/errors.js";

/** Longest path a Unix socket address holds on Linux (`sun_path` is 108 bytes with its NUL). */
export const IPC_ADDR_MAX = 107;

/**
 * `EINVAL` for a non-string, `ENOENT` for `""`, `ENAMETOOLONG` past {@link IPC_ADDR_MAX} UTF-8
 * bytes (never truncated), `EINVAL` for a NUL byte inside a file path. A path starting with a
 * NUL byte is a Linux abstract-namespace address and is passed through as it is.
 */
export function checkAddress(fn: string, addr: unknown): asserts addr is string {
  if (typeof addr !== "string") throw dillError("EINVAL", fn, "addr", "addr must be a string (a file path)");
  if (addr.length === 0) throw dillError("ENOENT", fn, "addr", "addr is an empty path");
  const n = Buffer.byteLength(addr, "utf8");
  if (n > IPC_ADDR_MAX)
    throw dillError(
      "ENAMETOOLONG",
      fn,
      "addr",
      `addr is ${n} bytes long, a Unix socket address holds at most ${IPC_ADDR_MAX}`,
    );
  if (addr.charCodeAt(0) !== 0 && addr.includes("\0"))
    throw dillError("EINVAL", fn, "addr", "addr contains a NUL byte");
}

/**
 * The directory that will hold the socket file must exist and be reachable: Node reports a
 * missing directory as `EACCES`, libdill (the kernel) as `ENOENT`. Errors of the lookup itself
 * (`ENOENT`, `ENOTDIR`, `ELOOP`, `EACCES`, `ENAMETOOLONG`) are reported as they are.
 */
export function checkDirectory(fn: string, addr: string): void {
  if (addr.charCodeAt(0) === 0) return;
  const dir = dirname(addr);
  let code: ErrnoCode | undefined;
  try {
    if (statSync(dir).isDirectory()) return;
    code = "ENOTDIR";
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    code =
      c !== undefined && c in ERRNO
        ? (c as ErrnoCode)
        : (errnoName(-((e as NodeJS.ErrnoException).errno ?? 0)) ?? "ENOENT");
  }
  throw dillError(
    code,
    fn,
    "addr",
    `${code === "ENOENT" ? "no such directory" : "cannot use the directory"} '${dir}' (${code})`,
  );
}
