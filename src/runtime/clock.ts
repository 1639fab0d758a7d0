/** The `now()` clock. */
import { performance } from "node:perf_hooks";

const origin = performance.timeOrigin;

/**
 * Returns the current time in milliseconds on a monotonic clock: the time base of every deadline.
 * It never goes backwards and never returns `0` or `-1` (it counts from the Unix epoch at the
 * moment the process started, then advances monotonically).
 *
 * @example
 * ```ts
 * yield* msleep(now() + 100); // sleep for 100 ms
 * ```
 */
export function now(): number {
  return Math.floor(origin + performance.now());
}
