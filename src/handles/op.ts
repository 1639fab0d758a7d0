import { type DillError, dillError } from "./errors.js";

/**
 * The shape of a blocking call.
 *
 * Every tsdill call that can wait (for a peer, for bytes, for time) is an `Op<T>`: an iterable the
 * caller runs with `yield*` inside a coroutine, which evaluates to `T`. Generator functions are
 * Ops, so user code composes blocking calls into new ones just by writing `function*`.
 */
export interface Op<T> {
  /** The iterator that `yield*` drives: it yields to the scheduler while parked and returns the result. */
  [Symbol.iterator](): Iterator<unknown, T, unknown>;
}

/**
 * The one value a blocking call yields to the scheduler to say "this coroutine is now parked".
 * Whoever completes the wait resumes the coroutine with `next(result)` or `throw(error)`.
 */
export const BLOCK: unique symbol = Symbol("tsdill.block");

/** What a parked call hands to `yield*`: "suspend me". One shared object; it is read at once. */
const PARKED: IteratorResult<unknown, never> = { done: false, value: BLOCK };
/** What a finished call hands to `yield*`. Shared and refilled per call: `yield*` reads it at once. */
const FINISHED: { done: true; value: unknown } = { done: true, value: undefined };

/** The iterator result of a call that finished with `value`. */
export function finished<T>(value: T): IteratorResult<unknown, T> {
  FINISHED.value = value;
  return FINISHED as IteratorReturnResult<T>;
}

/** The iterator result of a call that parked its coroutine. */
export function parked(): IteratorResult<unknown, never> {
  return PARKED;
}

/**
 * What the scheduler passes to `next()` instead of calling `throw(e)` on a coroutine parked in a
 * small op that understands it (chsend, chrecv, choose, msleep): that op's `next` then throws
 * {@link takeThrown}. Through `yield*` the two are the same (each generator of the chain passes
 * `next(v)` on to the op, and the op's exception rises through them as a thrown one would), and
 * V8 takes about a sixth fewer instructions on this way than on `throw()` delegated to the op.
 */
export const THROWN: unique symbol = Symbol("tsdill.thrown");
let thrown: unknown = undefined;

/** Set the error that the next {@link THROWN} resumption throws. */
export function armThrown(e: unknown): void {
  thrown = e;
}

/** The error armed by {@link armThrown}, once. */
export function takeThrown(): unknown {
  const e = thrown;
  thrown = undefined;
  return e;
}

/**
 * A blocking call written as a small object instead of a generator, for the hot paths (channel
 * operations, choose, yield, sleep). It is an iterator over itself. The first `next()` runs the
 * call: it returns `finished(value)` when the call completed at once, or `parked()` after
 * parking the coroutine; the scheduler's `next(v)` or `throw(e)` then finishes it. One small
 * allocation per call, no generator frame, and an error thrown into a parked call crosses one
 * frame less on its way out.
 *
 * Each subclass writes its own `next`, beginning with `if (this.begun) return finished(v);
 * this.begun = true;`: one shared `next` calling an overridden method would make that call site
 * see every kind of call, and V8 then stops inlining it (about a tenth of a channel message).
 */
export abstract class FastOp<T> implements Op<T>, Iterator<unknown, T, unknown> {
  /**
   * Set by the first `next()`, which runs the call; a later `next(v)` finishes it with `v`. A
   * call object reused from call to call (chsend, chrecv, dill_yield) is re-armed by clearing it.
   */
  begun = false;
  constructor() {
    if (checkingOps) noteMade(this);
  }
  abstract next(v?: unknown): IteratorResult<unknown, T>;
  [Symbol.iterator](): this {
    return this;
  }
  throw(e?: unknown): IteratorResult<unknown, T> {
    throw e;
  }
  return(v?: unknown): IteratorResult<unknown, T> {
    return finished(v as T);
  }
}

// ---- a blocking call iterated without yield* ----------------------------------------------------
/**
 * `const [a, b] = ipc_pair();` without `yield*`: destructuring (and spreading, `for…of`,
 * `Array.from`) iterates the call itself, outside the scheduler, and the call would park the
 * coroutine and go on as if it had its result. These always call `next()` with no argument,
 * whereas `yield*` always passes one (`undefined` at first): so a blocking call looks at
 * `arguments.length` when it starts, and fails with this error, naming the call and the user's line.
 * All do but the channel and time calls (chsend, chrecv, choose, msleep, dill_yield): reading
 * `arguments` costs a channel message about 4% (callgrind), so they are left to the lint rule.
 */
export function notRunByYield(fn: string): DillError {
  const [site] = userFrame(new Error().stack ?? "");
  const err = dillError(
    "EINVAL",
    fn,
    undefined,
    `yield* is missing: ${fn}(…) was iterated (destructured, spread or looped over) instead of run; write yield* ${fn}(…)${site !== null ? ` (${site})` : ""}`,
  );
  if (site !== null) err.stack = `DillError: ${err.message}\n    ${site}`;
  return err;
}

/** `%GeneratorPrototype%.next`, which every generator object inherits. */
const generatorNext = Object.getPrototypeOf(function* () {}).prototype.next as (v?: unknown) => unknown;

/**
 * Give the blocking calls written as generator functions the check of {@link notRunByYield}:
 * their generator objects get a `next` that refuses to be called with no argument and otherwise
 * is the generator's own. Called once per module at load time, with the functions under their
 * public names (`guardOps({ ipc_pair, ipc_pair_mem })`; the keys survive minifying); nothing is
 * added to a call. Each module calls it under `globalThis.__TSDILL_BUNDLER__ === undefined`, which
 * holds everywhere but in the build for bundlers (the "module" condition), where the build defines
 * it as `true`: installed at load time, the guard would keep every call it names alive in a user's
 * bundle. There a forgotten `yield*` is left to the ESLint rule of `tsdill/eslint`.
 */
export function guardOps(ops: Record<string, (...args: never[]) => Op<unknown>>): void {
  for (const fn of Object.keys(ops)) {
    Object.defineProperty(ops[fn]!.prototype, "next", {
      configurable: true,
      writable: true,
      value: function next(this: Generator, v?: unknown): unknown {
        if (arguments.length === 0) throw notRunByYield(fn);
        return generatorNext.call(this, v);
      },
    });
  }
}

// ---- the check for a forgotten yield* (see `dill_configure({ checkOps })`) -----------------------
/**
 * `chsend(ch, v, -1);` without `yield*` makes the call's object and drops it: nothing happens.
 * With the check on, every small op records where it was made, and the scheduler asks after each
 * step of a coroutine which of them never ran. Off by default: it takes a stack trace per call.
 */
export let checkingOps = process.env.TSDILL_CHECK_OPS === "1";
const made: FastOp<unknown>[] = [];
const madeAt: string[] = [];

/** Switch the check on or off. */
export function setCheckOps(on: boolean): void {
  checkingOps = on;
  made.length = 0;
  madeAt.length = 0;
}

/** A stack frame of tsdill's own code (its sources, or its build). */
export const OWN_FRAME =
  /[\\/]src[\\/](?:runtime|handles|stream|ipc|tcp|udp|fd|ipaddr|protocols|interop)[\\/]|[\\/]dist[\\/](?:index|chunk-[\w-]+|interop[\\/]effection)\./;

/**
 * The first frame of `stack` outside tsdill and Node's internals, and the name of the last tsdill
 * function above it (the public call the program made): `["at worker (/app/x.ts:3:5)", "chsend"]`.
 */
export function userFrame(stack: string): [string | null, string] {
  const lines = stack.split("\n");
  let call = "";
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (OWN_FRAME.test(l)) {
      const m = /^at (?:new )?([\w$.]+)/.exec(l);
      if (m !== null) call = m[1]!.replace(/^.*\./, "");
      continue;
    }
    if (/\(node:|^at node:|\(<anonymous>\)/.test(l)) continue;
    return [l, call];
  }
  return [null, call];
}

function noteMade(op: FastOp<unknown>): void {
  made.push(op);
  const [site, call] = userFrame(new Error().stack ?? "");
  madeAt.push(`${call}\n${site ?? "(no frame outside tsdill)"}`);
}

/** Where `op` was made, when the check recorded it: `[call, frame]`; else null. */
export function madeSite(op: unknown): [string, string] | null {
  const i = made.indexOf(op as FastOp<unknown>);
  if (i < 0) return null;
  const [call, site] = madeAt[i]!.split("\n") as [string, string];
  return [call, site];
}

/**
 * The ops made since the last call that never ran, as `[call, frame]`, except `skip`; the record
 * starts afresh.
 */
export function unrunOps(skip: unknown): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < made.length; i++) {
    if (made[i] !== skip && !(made[i] as unknown as { begun: boolean }).begun) {
      const [call, site] = madeAt[i]!.split("\n") as [string, string];
      out.push([call, site]);
    }
  }
  made.length = 0;
  madeAt.length = 0;
  return out;
}
