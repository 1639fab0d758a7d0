/**
 * The coroutine record: one fixed-shape object per coroutine, reused through the storage pool.
 * It holds the generator, the scheduling state and the single wait registration a parked
 * coroutine has (what it waits on, how to undo that, its deadline). Behaviour lives elsewhere:
 * the scheduler (`sched.ts`) runs it, `coroutine.ts` and `bundle.ts` own it.
 *
 * Every record is also a {@link Group}: in libdill 2 the handle `go()` returns is a bundle
 * holding the new coroutine, and tsdill makes that bundle of one the coroutine's own record, so
 * `go` allocates one object. `bundle_go` on such a handle links further members to the record.
 */
import { Storage } from "../handles/pool.js";

/** Made, not yet run. */
export const NEW = 0;
/** In the run queue. */
export const READY = 1;
/** On the JavaScript stack right now (its generator is executing). */
export const RUNNING = 2;
/** Parked in a blocking call. */
export const BLOCKED = 3;
/** Finished; the record waits for its handle to be closed. */
export const DONE = 4;

/** Called once when a coroutine finishes, with its return value or the exception that escaped. */
export type ExitHook = (cr: CrBase, value: unknown, threw: boolean) => void;
/** Undoes a parked coroutine's wait registration (unlinks it from a channel, a socket…). */
export type Unblock = (cr: CrBase) => void;

/**
 * A bundle's state: its members, the coroutines waiting in `bundle_wait`, and the first exception
 * that escaped a member. Two kinds of object are groups: a `BundleStorage` (from `bundle()`) and
 * a coroutine record (the bundle of one that `go()` makes; its own coroutine counts as a member
 * but is not in the member list).
 */
export abstract class Group extends Storage {
  /** Members launched with `bundle_go`, in launch order. */
  head: CrBase | null = null;
  tail: CrBase | null = null;
  /** Members that have not finished yet, a `go()` coroutine itself included. */
  count = 0;
  /** Its handle was closed: the group is freed once `count` is 0. */
  closed = false;
  /** Coroutines parked in `bundle_wait` on it; made by the first wait (most groups never have one). */
  waiters: CrBase[] | null = null;
  /** The first exception that escaped a member since the last `bundle_wait`, to surface there. */
  failure: unknown = undefined;
  failed = false;
  /** Give the group's storage back (called once: the handle is closed and no member is left). */
  abstract free(): void;
}

export abstract class CrBase extends Group {
  gen: Iterator<unknown, unknown, unknown> | null = null;
  /** Launch number, unique for the life of the process (a record reused gets a new one); 0 when free. */
  id = 0;
  state = NEW;
  /** Sticky: once set, every blocking call fails with ECANCELED. */
  cancelled = false;
  /** Blocking calls refused with ECANCELED since the cancellation (see `canBlock`). */
  refused = 0;
  /** What the next resumption passes in: a value for `next`, an error for `throw`. */
  resumeValue: unknown = undefined;
  resumeThrow = false;
  /**
   * It is parked in a small op that takes a thrown error through `next(THROWN)` (see `THROWN` in
   * op.ts); false after any other park.
   */
  fast = false;
  /** Bumped at each enqueue; a run-queue entry with an older number is stale and skipped. */
  seq = 0;
  /** The blocking call it is parked in, for error messages. */
  waitOp = "";
  unblock: Unblock | null = null;
  waitObj: unknown = null;
  /** Absolute deadline of the current wait, or -1; position in the timer heap, or -1. */
  deadline = -1;
  heapIdx = -1;
  timerSeq = 0;
  /**
   * When it last parked: the start of the scheduler's turn in which it did (exactly the park's
   * time under `traceLaunch`), in ms from the scheduler's base (see `parkedSince` in sched.ts).
   */
  since = 0;
  /** The source line of the blocking call it parked in, under `traceLaunch`; else null. */
  waitSite: string | null = null;
  /** `seq` at the traced park: `waitSite` describes the current wait only while it matches. */
  tracedSeq = -1;
  onExit: ExitHook | null = null;
  /** The group it is a member of (a bundle, or a `go()` record), the run() record of a root, or null. */
  owner: unknown = null;
  /** Neighbours in its group's member list. */
  prev: CrBase | null = null;
  next: CrBase | null = null;
  /** Channel clauses reused from one wait to the next (owned by chan.ts); made by the first. */
  clauses: unknown[] | null = null;
  nclauses = 0;
  /** The chsend and chrecv call objects it reuses from one call to the next (owned by chan.ts). */
  sendOp: unknown = null;
  recvOp: unknown = null;
  /** Where it was launched, when launch tracing is on. */
  site: string | null = null;
  /** Its cancellation as an AbortSignal, made only when `abort_signal()` asks; dropped at exit. */
  abort: AbortController | null = null;
}
