/**
 * The `now()` clock: real (monotonic, from the process start) or, for tests, virtual. Virtual
 * time stands still while coroutines run; the scheduler moves it to the earliest deadline when
 * nothing is left to run (see sched.ts and `dill_configure({ clock: "virtual" })`).
 */
import { performance } from "node:perf_hooks";

const origin = performance.timeOrigin;

/** True while the virtual clock is on. Written only through {@link setVirtual}. */
export let virtual = false;
/** The virtual clock's time; it keeps its value while the real clock is on, so it never goes back. */
let virtualTime = 0;

/**
 * Returns the current time in milliseconds on a monotonic clock: the time base of every deadline.
 * It never goes backwards and never returns `0` or `-1` (it counts from the Unix epoch at the
 * moment the process started, then advances monotonically). Under the virtual clock it returns
 * virtual time instead.
 *
 * @example
 * ```ts
 * yield* msleep(now() + 100); // sleep for 100 ms
 * ```
 */
export function now(): number {
  if (virtual) return virtualTime;
  return Math.floor(origin + performance.now());
}

/** Turn the virtual clock on or off. Virtual time resumes from where it was, or from the real time if that is later. */
export function setVirtual(on: boolean): void {
  if (on && !virtual) virtualTime = Math.max(virtualTime, Math.floor(origin + performance.now()));
  virtual = on;
}

/** Move virtual time forward to `t` (never back). */
export function advanceVirtual(t: number): void {
  if (t > virtualTime) virtualTime = t;
}
