/** Time: `msleep` and `dill_yield` (`now` is in clock.ts). */
import { checkDeadline } from "../handles/args.js";
import { checkingOps, FastOp, finished, type Op, parked } from "../handles/op.js";
import { canBlock, enqueue, expired, park, SLEEPING } from "./sched.js";

/**
 * Sleeps until `deadline`. A deadline of `0` or in the past just lets other coroutines run once,
 * like `dill_yield`; `-1` sleeps until the coroutine is cancelled.
 *
 * @param deadline absolute time in ms on the `now()` clock.
 * @throws `ECANCELED` when the coroutine is cancelled; `EINVAL` for a bad deadline.
 *
 * @example
 * ```ts
 * yield* msleep(now() + 250);
 * ```
 */
export function msleep(deadline: number): Op<void> {
  return new Sleep(deadline);
}

class Sleep extends FastOp<void> {
  constructor(private readonly deadline: number) {
    super();
  }
  next(v?: unknown): IteratorResult<unknown, void> {
    if (this.begun) return finished(v as undefined);
    this.begun = true;
    const cr = canBlock("msleep");
    if (cr === null) return parked();
    const deadline = this.deadline;
    checkDeadline("msleep", deadline);
    if (deadline !== -1 && expired(deadline)) {
      enqueue(cr); // its resumeValue is undefined: step() cleared it when it resumed the coroutine
    } else {
      park(cr, "msleep", deadline, null, SLEEPING);
    }
    return parked();
  }
}

/**
 * Lets every other ready coroutine run, then continues (libdill's `yield`, renamed because
 * `yield` is a keyword in generators).
 *
 * @throws `ECANCELED` when the coroutine is cancelled.
 *
 * @example
 * ```ts
 * for (const item of bigList) {
 *   process(item);
 *   yield* dill_yield(); // be fair to the other coroutines
 * }
 * ```
 */
export function dill_yield(): Op<void> {
  // Under the checkOps check each call gets its own object, so that one never run is noticed.
  return checkingOps ? new Yield() : YIELD;
}

/**
 * `dill_yield` has no arguments, so one shared object serves every call. `yield*` always calls
 * `[Symbol.iterator]()` and then `next()` at once: the first marks the start of a call, the
 * second runs it; the scheduler's later `next(v)` finishes it (by then `begun` is set, whatever
 * other coroutines did meanwhile, since each of their calls also runs to its first `next()`).
 */
class Yield extends FastOp<void> {
  override [Symbol.iterator](): this {
    this.begun = false;
    return this;
  }
  next(v?: unknown): IteratorResult<unknown, void> {
    if (this.begun) return finished(v as undefined);
    this.begun = true;
    const cr = canBlock("yield");
    if (cr !== null) enqueue(cr); // resumes with undefined: step() cleared resumeValue
    return parked();
  }
}

const YIELD = new Yield();
