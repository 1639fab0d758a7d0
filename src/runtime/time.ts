/** Time: `msleep` and `dill_yield` (`now` is in clock.ts). */
import { checkDeadline } from "../handles/args.js";
import { FastOp, finished, type Op, parked } from "../handles/op.js";
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
    const deadline = this.deadline;
    checkDeadline("msleep", deadline);
    if (deadline !== -1 && expired(deadline)) {
      cr.resumeValue = undefined;
      enqueue(cr);
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
  return new Yield();
}

class Yield extends FastOp<void> {
  next(v?: unknown): IteratorResult<unknown, void> {
    if (this.begun) return finished(v as undefined);
    this.begun = true;
    const cr = canBlock("yield");
    cr.resumeValue = undefined;
    enqueue(cr);
    return parked();
  }
}
