/**
 * Small helpers shared by the runtime tests: catch the DillError of a call so that a test can
 * look at its code, errno, message or clause index.
 */
import { DillError, hclose, type Op } from "../src/index.js";

/** Run a blocking call that must fail; returns its DillError (anything else is rethrown). */
export function* failure(op: Op<unknown>): Generator<unknown, DillError, unknown> {
  try {
    yield* op;
  } catch (e) {
    if (e instanceof DillError) return e;
    throw e;
  }
  throw new Error("the blocking call was expected to fail, but it completed");
}

/** Call a plain function that must fail; returns its DillError (anything else is rethrown). */
export function thrown(f: () => unknown): DillError {
  try {
    f();
  } catch (e) {
    if (e instanceof DillError) return e;
    throw e;
  }
  throw new Error("the call was expected to fail, but it returned");
}

/** The error code of a blocking call that must fail. */
export function* codeOf(op: Op<unknown>): Generator<unknown, string, unknown> {
  return (yield* failure(op)).code;
}

/** A shuffled copy of `xs` (Fisher-Yates with a fixed seed, so runs are reproducible). */
export function shuffled<T>(xs: readonly T[], seed = 12345): T[] {
  const out = xs.slice();
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

/** A deadline offset that is never meant to expire: `now() + LONG`. */
export const LONG = 60_000;

/** Close every handle given. */
export function close(...hs: number[]): void {
  for (const h of hs) hclose(h);
}
