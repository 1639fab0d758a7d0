/**
 * The scheduler: a ring-buffer run queue, a trampoline that resumes generators, the protocol by
 * which a blocking call parks its coroutine and is resumed, cancellation, and the one Node timer
 * that serves the timer heap.
 *
 * A blocking call registers the running coroutine as the waiter of one thing (a channel, a
 * socket, a timer) with {@link park}, then yields {@link BLOCK}. Whoever completes the wait calls
 * {@link resume} or {@link interrupt}; the loop later calls the generator's `next(value)` or
 * `throw(error)`. No Promise and no closure per operation.
 */
import { armThrown, BLOCK, checkingOps, madeSite, takeThrown, THROWN, unrunOps, userFrame } from "../handles/op.js";
import { dillError, isDillError, quickError } from "../handles/errors.js";
import { advanceVirtual, now, setVirtual, virtual } from "./clock.js";
import { BLOCKED, type CrBase, DONE, type ExitHook, NEW, READY, RUNNING, type Unblock } from "./cr.js";
import { timerAdd, timerCount, timerFirst, timerPop, timerRemove } from "./timers.js";
import { generatorLocation, generatorName } from "./crname.js";
import { setOwnerSource } from "../handles/table.js";
import {
  recordCancel,
  recordExit,
  recordLaunch,
  recordPark,
  recordResume,
  recordUncaught,
  recordWake,
  tracing,
} from "./trace.js";

export { BLOCK };

/**
 * The coroutine whose generator is executing, or null outside any coroutine. Not exported as a
 * mutable binding: the CommonJS build would then mirror every assignment into a property of the
 * module's exports object, two property stores per scheduling step. Other modules ask {@link running}.
 */
let current: CrBase | null = null;

/** The coroutine whose generator is executing, or null outside any coroutine. */
export function running(): CrBase | null {
  return current;
}

/** Number of coroutines made and not yet finished. */
let live = 0;
/**
 * Coroutine steps on the JavaScript stack right now: 1 while the loop runs a coroutine, one more
 * for each coroutine started inside `go()` or finished inside `hclose()` from there.
 */
let depth = 0;
/** Cancellations deferred to a shallower step and not finished yet (see `defer`). */
let pending = 0;

/**
 * How many coroutine steps may nest on the JavaScript stack. A coroutine started by `go()` runs
 * on its launcher's stack, and one cancelled by `hclose()` runs on its closer's. Measured on
 * Node 20, a level costs about 0.8 KB of stack with a small body (unbounded, launches nested in
 * launches overflow Node's default 984 KB stack near 1,280 levels). Past this depth `go()` queues
 * the new coroutine instead of running it at once, and `hclose()` marks the coroutine cancelled
 * and leaves its unwinding to the nearest shallower level, so that no chain of launches or
 * cancellations, however long, can overflow the stack. 64 levels take about 50 KB, a twentieth of
 * the stack, and leave the rest to user code.
 */
export const NESTING = 64;

/**
 * Blocking calls a cancelled coroutine may have refused with ECANCELED before tsdill concludes it
 * ignores its cancellation (it catches ECANCELED and keeps calling): the next call suspends it,
 * and the scheduler stops it with `return()`, which runs its remaining `finally` blocks.
 */
export const REFUSALS = 10_000;

/** How many times a stopped coroutine's `return()` is retried while its `finally` blocks keep suspending. */
const RETURNS = 16;
/** The last launch number handed out (see `CrBase.id`). */
let launched = 0;

/** The launch number of the running coroutine, 0 outside any: the owner of a handle made now. */
function currentId(): number {
  return current === null ? 0 : current.id;
}
setOwnerSource(currentId);

// ---- run queue: a growable ring buffer of (record, seq) pairs -------------------------------
let qcr: (CrBase | null)[] = new Array(1024).fill(null);
let qseq: number[] = new Array(1024).fill(0);
let qmask = 1023;
let qhead = 0;
let qsize = 0;

function grow(): void {
  const n = qcr.length;
  const ncr: (CrBase | null)[] = new Array(n * 2).fill(null);
  const nseq: number[] = new Array(n * 2).fill(0);
  for (let i = 0; i < n; i++) {
    ncr[i] = qcr[(qhead + i) & qmask]!;
    nseq[i] = qseq[(qhead + i) & qmask]!;
  }
  qcr = ncr;
  qseq = nseq;
  qmask = n * 2 - 1;
  qhead = 0;
}

/** Append `cr` to the run queue; an older entry of the same record becomes stale. */
function append(cr: CrBase): void {
  if (qsize === qcr.length) grow();
  const i = (qhead + qsize) & qmask;
  qcr[i] = cr;
  qseq[i] = ++cr.seq;
  qsize++;
}

/** Append `cr` and make sure the loop will run it. */
function push(cr: CrBase): void {
  append(cr);
  if (!looping) kick();
}

/** Put `cr` in the run queue (its resume value already set). */
export function enqueue(cr: CrBase): void {
  cr.state = READY;
  push(cr);
}

// ---- the loop --------------------------------------------------------------------------------
/** Steps run before Node's event loop gets a turn, so that I/O is never starved. */
const BUDGET = 4096;
let looping = false;
let kicked = false;

function kick(): void {
  if (kicked) return;
  kicked = true;
  setImmediate(loopFromImmediate);
}

/**
 * The loop's own turn runs as a microtask queued from the immediate, not in the immediate itself:
 * V8 builds a message object (a stack walk and a source-position lookup) for every exception
 * thrown where no embedder handler catches it, which is the case inside an immediate callback,
 * and not inside a microtask. An ECANCELED or ETIMEDOUT thrown into a coroutine costs about a third
 * less that way. Node drains the microtask queue right after each immediate callback, so nothing
 * runs in between: the order of events is the same.
 */
function loopFromImmediate(): void {
  kicked = false;
  queueMicrotask(flush);
}

// ---- since when: the time of the scheduler's turn --------------------------------------------
/** `now()` when this module was loaded: {@link turnTime} and `CrBase.since` count from it, so that they stay small integers. */
const BASE = now();
/**
 * When the scheduler's current turn began, in ms from {@link BASE}: read once at the start of each
 * turn of the loop ({@link flush}), and at a coroutine step that starts outside the loop (a `go()`
 * or an `hclose()` from a Node callback). A park copies it into the coroutine (`CrBase.since`),
 * which is the only cost parking pays for `dill_tree` to say since when a coroutine waits: one
 * store of a small integer, no clock read. Under the virtual clock it is exact, since virtual time
 * stands still while coroutines run; under the real clock the park happened at most one turn later.
 */
let turnTime = 0;

/** A coroutine step is about to start outside the loop: it is a turn of its own. */
function turnOutside(): void {
  if (!looping && depth === 0) turnTime = now() - BASE;
}

/** When the blocked coroutine `cr` parked, on the `now()` clock (see {@link turnTime}). */
export function parkedSince(cr: CrBase): number {
  return cr.since + BASE;
}

/** Called at the end of each turn of the loop (see {@link onTurnEnd}), or null. */
let turnEnd: (() => void) | null = null;

/**
 * Have `fn` called at the end of each turn of the loop, when the ready coroutines have run (the
 * stream layer writes out the small sends of the turn there).
 */
export function onTurnEnd(fn: () => void): void {
  turnEnd = fn;
}

/** True while the loop runs coroutines: {@link onTurnEnd}'s hook is called before it returns. */
export function inTurn(): boolean {
  return looping;
}

/**
 * Run ready coroutines now, unless the loop is already running. I/O, timer and Promise
 * callbacks call this after waking a coroutine, so the wake-up costs no extra event-loop turn.
 */
export function flush(): void {
  if (looping) return;
  looping = true;
  turnTime = now() - BASE;
  let budget = BUDGET;
  try {
    while (qsize > 0) {
      if (--budget < 0) {
        kick();
        break;
      }
      const i = qhead;
      const cr = qcr[i]!;
      const seq = qseq[i]!;
      qcr[i] = null;
      qhead = (i + 1) & qmask;
      qsize--;
      if (cr.seq === seq && cr.state <= READY) step(cr);
    }
  } finally {
    looping = false;
  }
  if (turnEnd !== null) turnEnd();
  if (virtual && qsize === 0 && idleHook !== null) idleHook();
}

/**
 * Called when the run queue has drained under the virtual clock (the deadlock check); null when
 * nobody listens. The real clock has no such hook: it is checked when Node's event loop goes idle.
 */
let idleHook: (() => void) | null = null;

/** Set the hook called when the run queue drains under the virtual clock (see `idleHook`). */
export function setIdleHook(hook: (() => void) | null): void {
  idleHook = hook;
}

/** Resume `cr` once: run its generator until it parks, yields or finishes. */
function step(cr: CrBase): void {
  if (tracing) recordResume(cr);
  const prev = current;
  current = cr;
  cr.state = RUNNING;
  depth++;
  const v = cr.resumeValue;
  cr.resumeValue = undefined;
  let r: IteratorResult<unknown, unknown>;
  try {
    if (cr.resumeThrow) {
      cr.resumeThrow = false;
      if (cr.fast) {
        armThrown(v);
        r = cr.gen!.next(THROWN);
        takeThrown(); // disarmed, should no op have taken it
      } else {
        r = cr.gen!.throw!(v);
      }
    } else {
      r = cr.gen!.next(v);
    }
  } catch (e) {
    current = prev;
    depth--;
    takeThrown(); // disarmed, should no op have taken it
    if (checkingOps) reportUnrun(cr, null);
    finish(cr, e, true);
    if (pending !== 0) drain();
    return;
  }
  current = prev;
  depth--;
  if (r.done) finish(cr, r.value, false);
  else if (r.value !== BLOCK) strayYield(cr, r.value);
  else if (cr.cancelled) parkedCancelled(cr);
  if (checkingOps) reportUnrun(cr, r.value);
  if (pending !== 0) drain();
}

/**
 * A bare `yield x` instead of `yield* op`: tell the coroutine where it went wrong. The error is
 * thrown at the `yield`, and its stack starts at the user's line rather than in the scheduler:
 * where the yielded op was made when the `checkOps` check recorded it, otherwise where the
 * coroutine's generator is suspended, which V8 tells through the inspector.
 */
function strayYield(cr: CrBase, value: unknown): void {
  if (cr.cancelled && ++cr.refused > REFUSALS) {
    stop(cr, "yield");
    return;
  }
  const made = madeSite(value);
  const frame = made !== null ? made[1] : generatorLocation(cr.gen);
  const call = made !== null && made[0] !== "" ? `yield* ${made[0]}(…)` : "yield* msleep(d)";
  const err = dillError(
    "EINVAL",
    "yield",
    undefined,
    `a coroutine yielded a value; blocking calls are made with yield*, e.g. ${call}${frame !== null ? ` (${frame})` : ""}`,
  );
  if (frame !== null) err.stack = `DillError: ${err.message}\n    ${frame}`;
  cr.fast = false;
  cr.resumeThrow = true;
  cr.resumeValue = err;
  enqueue(cr);
}

/**
 * Under the `checkOps` check, after a step of `cr`: report every blocking call that was made
 * since the last step and never run, the mark of a forgotten `yield*` (except the one it yielded
 * bare, which {@link strayYield} reports).
 */
function reportUnrun(cr: CrBase, yielded: unknown): void {
  for (const [call, site] of unrunOps(yielded)) {
    const fn = call === "" ? "a blocking call" : call;
    const err = dillError(
      "EINVAL",
      call === "" ? "yield" : call,
      undefined,
      `${fn}(…) was called but never run: a blocking call does nothing until it is run with yield*, as in yield* ${fn}(…) (${site})`,
    );
    err.stack = `DillError: ${err.message}\n    ${site}`;
    reportFailure(err, cr.site);
  }
}

/**
 * A cancelled coroutine suspended. Either {@link canBlock} refused it for good (it ignores its
 * cancellation), or it was cancelled while it was running and then parked in a call that had
 * already passed `canBlock`: its cancellation is completed now.
 */
function parkedCancelled(cr: CrBase): void {
  if (cr.waitObj === STOPPED) stop(cr, cr.waitOp);
  else defer(cr);
}

function finish(cr: CrBase, value: unknown, threw: boolean): void {
  if (tracing) recordExit(cr, value, threw);
  cr.state = DONE;
  cr.gen = null;
  cr.abort = null;
  live--;
  const hook = cr.onExit;
  cr.onExit = null;
  if (hook !== null) hook(cr, value, threw);
}

// ---- launching -------------------------------------------------------------------------------
function prepare(cr: CrBase, gen: Iterator<unknown, unknown, unknown>, onExit: ExitHook, owner: unknown): void {
  cr.gen = gen;
  cr.id = ++launched;
  cr.state = NEW;
  cr.cancelled = false;
  cr.refused = 0;
  cr.onExit = onExit;
  cr.owner = owner;
  cr.site = traceLaunch ? launchSite() : null;
  cr.resumeValue = undefined;
  cr.resumeThrow = false;
  live++;
  if (tracing) recordLaunch(cr, current, owner);
}

/**
 * Set up `cr` around `gen` and queue it: it starts at the next scheduling point (`run()`, and
 * effection's `effection_go`, which start from outside the scheduler's own calls).
 */
export function launch(cr: CrBase, gen: Iterator<unknown, unknown, unknown>, onExit: ExitHook, owner: unknown): void {
  prepare(cr, gen, onExit, owner);
  push(cr);
}

/**
 * Set up `cr` around `gen` and run it at once, on the caller's stack, until it first parks or
 * finishes (`go()` and `bundle_go()`, as libdill switches to a new coroutine inside `go()`). Past
 * {@link NESTING} levels of coroutines started inside one another it is queued instead.
 */
export function start(cr: CrBase, gen: Iterator<unknown, unknown, unknown>, onExit: ExitHook, owner: unknown): void {
  prepare(cr, gen, onExit, owner);
  if (depth < NESTING) {
    turnOutside();
    step(cr);
  } else push(cr);
}

/** Reset a finished record before it goes back to its storage. */
export function scrub(cr: CrBase): void {
  cr.gen = null;
  cr.id = 0;
  cr.owner = null;
  cr.onExit = null;
  cr.resumeValue = undefined;
  cr.waitObj = null;
  cr.unblock = null;
  cr.site = null;
  cr.waitSite = null;
  cr.prev = null;
  cr.next = null;
  cr.head = null;
  cr.tail = null;
  cr.count = 0;
  cr.closed = false;
  cr.failure = undefined;
  cr.failed = false;
}

// ---- parking and waking ----------------------------------------------------------------------
/**
 * Entry check of every blocking call: the running coroutine, or an error when there is none
 * (`EPERM`) or when it has been cancelled (`ECANCELED`, sticky: cleanup code cannot block).
 *
 * A cancelled coroutine that has had {@link REFUSALS} calls refused and keeps calling ignores its
 * cancellation (it catches ECANCELED in a loop), and throwing at it again would only spin: the
 * call is then suspended for good instead. `canBlock` returns `null`, and the blocking call must
 * suspend at once: a small op returns `parked()`, a generator op does `yield* suspended()`. The
 * scheduler then reports the coroutine and stops it with `return()`.
 */
export function canBlock(fn: string): CrBase | null {
  const cr = current;
  if (cr === null)
    throw dillError(
      "EPERM",
      fn,
      undefined,
      "blocking calls run only inside a coroutine (use yield* inside run() or go())",
    );
  if (cr.cancelled) return refuse(cr, fn);
  return cr;
}

function refuse(cr: CrBase, fn: string): null {
  if (++cr.refused <= REFUSALS) throw quickError("ECANCELED", fn);
  cr.state = BLOCKED;
  cr.since = turnTime;
  cr.fast = false;
  cr.waitOp = fn;
  cr.waitObj = STOPPED;
  cr.unblock = null;
  return null;
}

/** waitObj of a coroutine that ignores its cancellation, suspended by {@link canBlock} to be stopped. */
const STOPPED = { stopped: true };

/**
 * The rest of a generator op whose {@link canBlock} returned null: it suspends here, and the
 * coroutine is stopped with `return()`; nothing after this point runs.
 *
 * (Not as `canBlock(fn) ?? (yield* suspended())`: the CommonJS build lowers `??` into a closure,
 * where `yield*` is not allowed.)
 *
 * @example
 * ```ts
 * const cr = canBlock(fn);
 * if (cr === null) return yield* suspended();
 * ```
 */
export function* suspended(): Generator<unknown, never, unknown> {
  yield BLOCK;
  throw new Error("tsdill: a stopped coroutine was resumed");
}

/** True when a wait with this deadline must not block: `0`, or a time already past. */
export function expired(deadline: number): boolean {
  return deadline === 0 || (deadline > 0 && deadline <= now());
}

/**
 * Park `cr` in blocking call `fn` until `deadline`; the caller then yields BLOCK. `unblock`
 * undoes the registration when the wait ends some other way (deadline, cancellation).
 */
export function park(cr: CrBase, fn: string, deadline: number, unblock: Unblock | null, waitObj: unknown): void {
  cr.state = BLOCKED;
  cr.since = turnTime;
  cr.fast = false;
  cr.waitOp = fn;
  cr.unblock = unblock;
  cr.waitObj = waitObj;
  if (tracing) recordPark(cr, fn, deadline);
  if (traceLaunch) traceWait(cr);
  if (deadline > 0) {
    cr.deadline = deadline;
    timerAdd(cr);
    if (deadline < armed) arm();
    else if (idle) reuse();
  }
}

function unpark(cr: CrBase): void {
  if (tracing) recordWake(cr, current);
  if (cr.heapIdx >= 0) {
    timerRemove(cr);
    if (timerCount() === 0) rest();
  }
  cr.deadline = -1;
  const u = cr.unblock;
  if (u !== null) {
    cr.unblock = null;
    u(cr);
  }
  cr.waitObj = null;
}

/** Complete `cr`'s wait with `value`; it resumes at the next scheduling point. */
export function resume(cr: CrBase, value: unknown): void {
  unpark(cr);
  cr.resumeValue = value;
  cr.resumeThrow = false;
  enqueue(cr);
}

/** Fail `cr`'s wait with `err`, thrown at its blocking call. */
export function interrupt(cr: CrBase, err: unknown): void {
  unpark(cr);
  cr.resumeValue = err;
  cr.resumeThrow = true;
  enqueue(cr);
}

/**
 * {@link resume} for callbacks from Node (I/O, timers, Promises) that call {@link flush} after
 * their wake-ups: the coroutine is queued without scheduling an event-loop turn, since the
 * flush runs it at once. (Inside the loop, the running loop picks it up.)
 */
export function wake(cr: CrBase, value: unknown): void {
  unpark(cr);
  cr.resumeValue = value;
  cr.resumeThrow = false;
  cr.state = READY;
  append(cr);
}

/** {@link interrupt} for callbacks that call {@link flush} after their wake-ups (see {@link wake}). */
export function wakeWithError(cr: CrBase, err: unknown): void {
  unpark(cr);
  cr.resumeValue = err;
  cr.resumeThrow = true;
  cr.state = READY;
  append(cr);
}

// ---- cancellation ----------------------------------------------------------------------------
/**
 * Cancel `cr` and run it, synchronously, until it has exited: its blocked call fails with
 * ECANCELED, its `finally` blocks run, any later blocking call fails at once. No tick passes.
 *
 * Two cases finish later. A coroutine that is on the stack right now (it closed its own handle,
 * or an ancestor of the current call chain) cannot be finished from here: it is marked cancelled
 * and ends at its next blocking call. And past {@link NESTING} nested steps (a chain of
 * coroutines each closing the next one in its `finally`), `cr` is marked and queued for the
 * nearest shallower step, which finishes it before that step returns: the stack never overflows
 * and no `finally` block is skipped, but the `hclose` at that depth returns first.
 */
export function cancel(cr: CrBase): void {
  if (cr.state === DONE) return;
  if (tracing) recordCancel(cr, current);
  cr.cancelled = true;
  if (cr.abort !== null) {
    abortSignal(cr);
    // An abort listener may have closed it already.
    if (cr.state === DONE) return;
  }
  if (cr.state === RUNNING) return;
  if (depth >= NESTING) {
    defer(cr);
    return;
  }
  turnOutside();
  unwind(cr);
}

/**
 * Run the cancelled `cr` until it has exited. BLOCKED: fail its parked call with ECANCELED. READY
 * (woken with a result, or yielding): drop its queue entry and resume it here with what it was
 * going to get; its next blocking call fails. Each step ends it or refuses one more blocking call
 * (see {@link canBlock}), so this ends. NEW: see {@link dropUnstarted}.
 */
function unwind(cr: CrBase): void {
  for (;;) {
    const s = cr.state;
    if (s === NEW) {
      dropUnstarted(cr);
      return;
    }
    if (s === BLOCKED) interruptNow(cr, quickError("ECANCELED", cr.waitOp));
    else if (s !== READY) return;
    else dropNewest(cr); // woken, its queue entry pending: it runs here, the entry would only be stale
    cr.seq++;
    step(cr);
  }
}

/**
 * When `cr` has the newest run-queue entry, drop it: `cr` is about to run (or end) outside the
 * queue, and a loop that closes what it has just woken, without yielding in between, would
 * otherwise fill the queue with stale entries (one per close) until it yields.
 */
function dropNewest(cr: CrBase): void {
  const last = (qhead + qsize - 1) & qmask;
  if (qsize > 0 && qcr[last] === cr) {
    qcr[last] = null;
    qsize--;
  }
}

/**
 * Cancel a coroutine that was queued and never started (a `run()` root, an `effection_go`
 * coroutine, or a launch queued past the nesting bound): there is no code to unwind, since no
 * `try` was entered, and none of its code runs. A generator is dropped as it is (its `return()`
 * would only mark it closed); a hand-written iterator gets its `return()` called, since that may
 * release something of its own.
 */
function dropUnstarted(cr: CrBase): void {
  dropNewest(cr);
  cr.seq++;
  const gen = cr.gen!;
  if (gen.return === generatorReturn || typeof gen.return !== "function") {
    finish(cr, undefined, false);
    return;
  }
  const prev = current;
  current = cr;
  cr.state = RUNNING;
  depth++;
  let value: unknown;
  let threw = false;
  try {
    value = gen.return(undefined).value;
  } catch (e) {
    value = e;
    threw = true;
  }
  current = prev;
  depth--;
  finish(cr, value, threw);
}

/** The `return` of every generator object (`%GeneratorPrototype%.return`). */
const generatorReturn = Object.getPrototypeOf(function* () {}).prototype.return as unknown;

// Cancellations left to a shallower step: (record, launch number) pairs, in the order they came.
const deferred: (CrBase | null)[] = [];
const deferredIds: number[] = [];
let deferredHead = 0;
let draining = false;

/** Leave the cancelled `cr` to the nearest step whose depth is below {@link NESTING}. */
function defer(cr: CrBase): void {
  if (cr.state === BLOCKED) interruptNow(cr, quickError("ECANCELED", cr.waitOp));
  cr.seq++; // its run-queue entries are stale: only the drain runs it now
  deferred.push(cr);
  deferredIds.push(cr.id);
  pending++;
}

/** Finish the deferred cancellations, one after the other, at a depth where that is allowed. */
function drain(): void {
  if (draining || depth >= NESTING) return;
  draining = true;
  try {
    while (deferredHead < deferred.length) {
      const i = deferredHead++;
      pending--;
      const cr = deferred[i]!;
      deferred[i] = null;
      // The record may have finished, and even been reused, since it was deferred.
      if (cr.id === deferredIds[i]) unwind(cr);
    }
    deferred.length = 0;
    deferredIds.length = 0;
    deferredHead = 0;
  } finally {
    draining = false;
  }
}

/**
 * Abort the coroutine's AbortSignal (see `abort_signal`), before its code unwinds: Promise-based
 * work started with that signal hears of the cancellation at the same moment as the coroutine.
 */
function abortSignal(cr: CrBase): void {
  const ac = cr.abort!;
  if (!ac.signal.aborted) ac.abort(quickError("ECANCELED", "abort_signal"));
}

function interruptNow(cr: CrBase, err: unknown): void {
  unpark(cr);
  cr.resumeValue = err;
  cr.resumeThrow = true;
  cr.state = READY;
}

/**
 * Stop a coroutine that ignores its cancellation (it was suspended in blocking call `fn`): report
 * it, then end it with `return()`, which runs its remaining `finally` blocks (their blocking calls
 * fail with ECANCELED as before). A `finally` block that suspends again is returned from again, a
 * few times; then the generator is dropped as it is.
 */
function stop(cr: CrBase, fn: string): void {
  const name = generatorName(cr.gen) || "anonymous";
  reportUncaught(
    cr,
    dillError(
      "ECANCELED",
      fn,
      undefined,
      `coroutine ${cr.id} (${name}) ignored its cancellation: after ${REFUSALS} blocking calls refused with ECANCELED it kept making more; it was stopped with return(), which ran its remaining finally blocks`,
    ),
  );
  for (let round = 0; round < RETURNS; round++) {
    cr.refused = 0;
    cr.waitObj = null;
    const gen = cr.gen!;
    if (typeof gen.return !== "function") break;
    const prev = current;
    current = cr;
    cr.state = RUNNING;
    depth++;
    let r: IteratorResult<unknown, unknown>;
    try {
      r = gen.return(undefined);
    } catch (e) {
      current = prev;
      depth--;
      finish(cr, e, true);
      return;
    }
    current = prev;
    depth--;
    if (r.done) break;
  }
  cr.seq++;
  finish(cr, undefined, false);
}

// ---- timers ----------------------------------------------------------------------------------
let nodeTimer: ReturnType<typeof setTimeout> | null = null;
/** When the Node timer fires (Infinity: no timer); it may be earlier than the first deadline. */
let armed = Infinity;
/**
 * The heap is empty but the Node timer was left running, unreferenced (it does not keep the
 * process alive). A receive with a deadline that completes at once in a loop would otherwise
 * pay a setTimeout and a clearTimeout per call; the next deadline at or after `armed` takes the
 * timer back instead. When it fires with nothing due it is simply not re-armed.
 */
let idle = false;

function arm(): void {
  const first = timerFirst();
  if (first === undefined) {
    disarm();
    return;
  }
  armed = first.deadline;
  if (virtual) {
    if (!ticking) {
      ticking = true;
      setImmediate(virtualTick);
    }
    return;
  }
  if (nodeTimer !== null) clearTimeout(nodeTimer);
  idle = false;
  // Node timers hold at most 2^31-1 ms; a later deadline is re-armed when that one fires.
  nodeTimer = setTimeout(onTimer, Math.min(Math.max(0, armed - now()), 0x7fffffff));
}

function disarm(): void {
  if (nodeTimer !== null) clearTimeout(nodeTimer);
  nodeTimer = null;
  armed = Infinity;
  idle = false;
}

/** The last deadline left the heap: keep the Node timer, unreferenced, for the next one (see `idle`). */
function rest(): void {
  if (nodeTimer === null) {
    disarm();
    return;
  }
  nodeTimer.unref();
  idle = true;
}

/** A deadline at or after `armed` arrived while the timer was idle: it keeps the process alive again. */
function reuse(): void {
  nodeTimer!.ref();
  idle = false;
}

/** waitObj of a coroutine in msleep: its deadline is a success, not ETIMEDOUT. */
export const SLEEPING = { sleeping: true };

function onTimer(): void {
  nodeTimer = null;
  armed = Infinity;
  idle = false;
  const t = now();
  for (let first = timerFirst(); first !== undefined && first.deadline <= t; first = timerFirst()) {
    const cr = timerPop();
    if (cr.waitObj === SLEEPING) wake(cr, undefined);
    else wakeWithError(cr, quickError("ETIMEDOUT", cr.waitOp));
  }
  arm();
  flush();
}

// ---- the virtual clock ---------------------------------------------------------------------
/** A virtualTick is scheduled. */
let ticking = false;

/**
 * Under the virtual clock, deadlines are served here instead of by a Node timer: once nothing is
 * ready to run after one turn of Node's event loop (Promises already settled and I/O callbacks
 * already due have run; I/O still in progress, such as a file read on the thread pool, is not
 * waited for), virtual time jumps to the earliest deadline and the timers due then fire, exactly
 * as `onTimer` fires them for the real clock. A wait on real I/O with a deadline therefore times
 * out at once under the virtual clock (see docs/time.md).
 */
function virtualTick(): void {
  ticking = false;
  const first = timerFirst();
  if (!virtual || first === undefined) return; // the clock was switched, or every deadline went away
  if (qsize > 0) {
    // Ready work first (its loop turn is normally scheduled already): time stands still while it runs.
    kick();
    ticking = true;
    setImmediate(virtualTick);
    return;
  }
  advanceVirtual(Math.ceil(first.deadline)); // now() stays an integer, as on the real clock
  onTimer();
}

/** Throw what {@link setClock} would throw for `clock`, changing nothing. */
export function checkClock(clock: "real" | "virtual", fn: string): void {
  if (clock !== "real" && clock !== "virtual")
    throw dillError("EINVAL", fn, "clock", `clock must be "real" or "virtual", got ${String(clock)}`);
  if ((clock === "virtual") !== virtual && timerCount() > 0) {
    throw dillError("EBUSY", fn, "clock", `the clock cannot change while ${timerCount()} deadline(s) are pending`);
  }
}

/**
 * Switch between the real and the virtual clock (see `dill_configure`). Refused with EBUSY while a
 * deadline is pending: it was computed on the other clock.
 */
export function setClock(clock: "real" | "virtual", fn: string): void {
  checkClock(clock, fn);
  if ((clock === "virtual") === virtual) return;
  disarm();
  setVirtual(clock === "virtual");
  turnTime = now() - BASE; // parks from here on are on the new clock
}

/** The clock in use. */
export function clockName(): "real" | "virtual" {
  return virtual ? "virtual" : "real";
}

// ---- reporting -------------------------------------------------------------------------------
/** What happens to an exception that escapes a coroutine nobody waits for. */
export type UncaughtHandler = (error: unknown, info: { site: string | null }) => void;

function defaultUncaught(error: unknown, info: { site: string | null }): void {
  const where = info.site
    ? `\n  launched at:\n${info.site}`
    : " (launch sites are recorded with dill_configure({ traceLaunch: true }))";
  console.error(`tsdill: an exception escaped a coroutine${where}\n`, error);
}

let uncaught: UncaughtHandler = defaultUncaught;
let traceLaunch = false;
let uncaughtCount = 0;

/** Report an exception that escaped `cr` (called by its exit hook). */
export function reportUncaught(cr: CrBase, error: unknown): void {
  if (tracing) recordUncaught(cr, error);
  reportFailure(error, cr.site);
}

/**
 * Report an exception that nobody will see otherwise, through the same handler as an exception
 * escaping a coroutine; `site` is where the work behind it was started, when known.
 */
export function reportFailure(error: unknown, site: string | null): void {
  uncaughtCount++;
  uncaught(error, { site });
}

/** True when `error` is just the coroutine's own cancellation unwinding: nothing to report. */
export function isOwnCancellation(cr: CrBase, error: unknown): boolean {
  return cr.cancelled && isDillError(error, "ECANCELED");
}

/** Under `traceLaunch`: the exact time of a park and the user's line that made the blocking call. */
function traceWait(cr: CrBase): void {
  cr.since = now() - BASE;
  cr.tracedSeq = cr.seq;
  cr.waitSite = userFrame(new Error().stack ?? "")[0];
}

function launchSite(): string {
  const stack = new Error().stack ?? "";
  return stack
    .split("\n")
    .slice(1)
    .filter((l) => !/[\\/]src[\\/]runtime[\\/]|[\\/]dist[\\/]index\./.test(l))
    .join("\n");
}

/** Scheduler settings (see `dill_configure`). */
export function setSchedOptions(opts: { onUncaught?: UncaughtHandler | null; traceLaunch?: boolean }): void {
  if (opts.onUncaught !== undefined) uncaught = opts.onUncaught ?? defaultUncaught;
  if (opts.traceLaunch !== undefined) traceLaunch = opts.traceLaunch;
}

/** Counters for `dill_stats`. */
export function schedCounts(): { coroutines: number; ready: number; timers: number; uncaught: number } {
  let ready = 0;
  for (let k = 0; k < qsize; k++) {
    const i = (qhead + k) & qmask;
    const cr = qcr[i]!;
    if (cr.seq === qseq[i] && cr.state <= READY) ready++;
  }
  return { coroutines: live, ready, timers: timerCount(), uncaught: uncaughtCount };
}
