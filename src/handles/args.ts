/** Argument checks shared by every floor: one line on the call site, the argument named in the error. */
import { dillError } from "./errors.js";

/**
 * A deadline is `-1` (never), `0` (do not block) or an absolute time in ms on the `now()` clock.
 * Anything else (NaN, Infinity, other negatives, non-numbers even when they would coerce to a
 * number, like `null` or `"5"`) is `EINVAL`.
 */
export function checkDeadline(fn: string, deadline: number): void {
  if (typeof deadline === "number" && (deadline === -1 || (deadline >= 0 && deadline < Infinity))) return;
  throw dillError(
    "EINVAL",
    fn,
    "deadline",
    `deadline must be -1, 0 or an absolute time in ms, got ${String(deadline)}`,
  );
}

/** A non-negative safe integer, such as a length or a count. */
export function checkCount(fn: string, arg: string, n: number): void {
  if (Number.isSafeInteger(n) && n >= 0) return;
  throw dillError("EINVAL", fn, arg, `${arg} must be a non-negative integer, got ${String(n)}`);
}
