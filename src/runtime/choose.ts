/** `choose`: wait on several channel operations at once, perform the first that can complete. */
import { checkDeadline } from "../handles/args.js";
import { DillError, dillError, quickError } from "../handles/errors.js";
import { FastOp, finished, type Op, parked } from "../handles/op.js";
import type { Chan, Unbranded } from "../handles/types.js";
import { clauseOf, deliver, half, type HalfChan, link, take, unlinkAll } from "./chan.js";
import { canBlock, expired, park } from "./sched.js";

/** Clause operation: send `val` into the channel. */
export const CHSEND = 1 as const;
/** Clause operation: receive from the channel into the clause's `val`. */
export const CHRECV = 2 as const;

/**
 * One alternative of a `choose`, on a channel carrying `T`. A completed `CHRECV` stores the value
 * received in `val`. Typed `ChooseClause<T>` (or passed inline to `choose`), a clause's channel
 * and its value are checked against each other, and `val` reads as a `T`.
 *
 * @example
 * ```ts
 * const [data] = chmake<string>();
 * const got: ChooseClause<string> = { op: CHRECV, ch: data };
 * if ((yield* choose([got, { op: CHRECV, ch: quit }], -1)) === 0) console.log(got.val?.length);
 * ```
 */
export interface ChooseClause<T = unknown> {
  /** `CHSEND` or `CHRECV`. */
  op: typeof CHSEND | typeof CHRECV;
  /** The channel end to send on or receive from. */
  ch: Chan<T> | Unbranded;
  /** `CHSEND`: the value to send. `CHRECV`: set to the value received when this clause completes. */
  val?: NoInfer<T>;
}

function clauseError(e: unknown, i: number): unknown {
  if (e instanceof DillError) e.index = i;
  return e;
}

/**
 * Performs whichever clause can complete first and returns its index. When several can complete
 * at once, the earliest in the array wins. A clause that refers to a bad handle, a handle that is
 * not a channel, or a done channel fails the whole call with that error; the error's `index` is
 * the clause's.
 *
 * @param clauses the alternatives, `{ op: CHSEND, ch, val }` or `{ op: CHRECV, ch }`.
 * @param deadline absolute time in ms (`-1` never, `0` only if a clause is ready now).
 * @returns the index of the clause performed.
 * @throws `EINVAL` (not an array, bad `op`, bad deadline), `EBADF`, `ENOTSUP`, `EPIPE` (with
 * `index`), `ECANCELED`, `ETIMEDOUT`.
 *
 * @example
 * ```ts
 * const cls: ChooseClause[] = [{ op: CHRECV, ch: data }, { op: CHRECV, ch: quit }];
 * const i = yield* choose(cls, now() + 1000);
 * if (i === 0) console.log("got", cls[0].val);
 * ```
 */
export function choose<T extends unknown[]>(
  clauses: { [K in keyof T]: ChooseClause<T[K]> },
  deadline: number,
): Op<number> {
  return new Choose(clauses, deadline);
}

class Choose extends FastOp<number> {
  constructor(
    private readonly clauses: ChooseClause[],
    private readonly deadline: number,
  ) {
    super();
  }
  next(v?: unknown): IteratorResult<unknown, number> {
    if (this.begun) return finished(v as number);
    this.begun = true;
    const cr = canBlock("choose");
    if (cr === null) return parked();
    const clauses = this.clauses;
    const deadline = this.deadline;
    if (!Array.isArray(clauses)) throw dillError("EINVAL", "choose", "clauses", "clauses must be an array");
    checkDeadline("choose", deadline);
    const n = clauses.length;
    // First pass: validate, and perform the earliest clause that is ready now.
    for (let i = 0; i < n; i++) {
      const cl = clauses[i];
      if (cl === null || typeof cl !== "object")
        throw clauseError(dillError("EINVAL", "choose", `clauses[${i}]`, "a clause must be an object"), i);
      let hc: HalfChan;
      try {
        hc = half(cl.ch, "choose");
      } catch (e) {
        throw clauseError(e, i);
      }
      if (cl.op === CHSEND) {
        hc = hc.other;
        if (hc.done) throw clauseError(quickError("EPIPE", "choose"), i);
        if (hc.rhead !== null) {
          deliver(hc.rhead, cl.val);
          return finished(i);
        }
      } else if (cl.op === CHRECV) {
        if (hc.done) throw clauseError(quickError("EPIPE", "choose"), i);
        if (hc.shead !== null) {
          cl.val = take(hc.shead);
          return finished(i);
        }
      } else {
        throw clauseError(dillError("EINVAL", "choose", `clauses[${i}].op`, "op must be CHSEND or CHRECV"), i);
      }
      const c = clauseOf(cr, i);
      c.hc = hc;
      c.send = cl.op === CHSEND;
      c.val = c.send ? cl.val : undefined;
      c.idx = i;
      c.user = cl;
    }
    if (expired(deadline)) {
      for (let i = 0; i < n; i++) {
        const c = clauseOf(cr, i);
        c.hc = null;
        c.val = undefined;
        c.user = null;
      }
      throw quickError("ETIMEDOUT", "choose");
    }
    // Second pass: park on all of them; whichever completes first unlinks the rest.
    for (let i = 0; i < n; i++) link(clauseOf(cr, i));
    cr.nclauses = n;
    park(cr, "choose", deadline, unlinkAll, null);
    return parked();
  }
}
