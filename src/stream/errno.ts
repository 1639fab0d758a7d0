/** Errors reported by `node:net` and `node:fs`, as the DillErrors libdill would report. */
import { dillError, type DillError, ERRNO, type ErrnoCode } from "../handles/errors.js";

/** The errno name in a Node system error, if tsdill knows it. */
export function nodeCode(e: unknown): ErrnoCode | undefined {
  const c = (e as NodeJS.ErrnoException | null)?.code;
  return typeof c === "string" && c in ERRNO ? (c as ErrnoCode) : undefined;
}

/**
 * A DillError for a failed Node call in `fn`. `fallback` is used when Node's code is not an
 * errno tsdill reports; Node's error is kept as the `cause`.
 */
export function fromNode(e: unknown, fn: string, fallback: ErrnoCode, arg?: string): DillError {
  const code = nodeCode(e) ?? fallback;
  const err = dillError(code, fn, arg, `${(e as Error | null)?.message ?? String(e)}`);
  Object.defineProperty(err, "cause", { value: e, configurable: true, writable: true });
  return err;
}

/**
 * The errno of a broken connection: `EPIPE` from a write (the peer is gone) is `ECONNRESET`, as in
 * libdill; an errno tsdill does not know is `ECONNRESET` too.
 */
export function connCode(e: unknown): ErrnoCode {
  const c = nodeCode(e);
  if (c === undefined || c === "EPIPE") return "ECONNRESET";
  return c;
}
