/**
 * The coroutine record: one fixed-shape object per coroutine, reused through the storage pool.
 * It holds the generator, the scheduling state and the single wait registration a parked
 * coroutine has (what it waits on, how to undo that, its deadline). Behaviour lives elsewhere:
 * the scheduler (`sched.ts`) runs it, `coroutine.ts` and `bundle.ts` own it.
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

export abstract class CrBase extends Storage {
  gen: Iterator<unknown, unknown, unknown> | null = null;
  /** Launch number, unique for the life of the process (a record reused gets a new one); 0 when free. */
  id = 0;
  state = NEW;
  /** Sticky: once set, every blocking call fails with ECANCELED. */
  cancelled = false;
  /** Its handle was closed (or it never had one): the record is freed when it finishes. */
  detached = false;
  /** What the next resumption passes in: a value for `next`, an error for `throw`. */
  resumeValue: unknown = undefined;
  resumeThrow = false;
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
  onExit: ExitHook | null = null;
  /** The bundle it belongs to, or the run() record for a root coroutine. */
  owner: unknown = null;
  /** Neighbours in its bundle's member list. */
  prev: CrBase | null = null;
  next: CrBase | null = null;
  /** Channel clauses reused from one wait to the next (owned by chan.ts). */
  clauses: unknown[] = [];
  nclauses = 0;
  /** Where it was launched, when launch tracing is on. */
  site: string | null = null;
  /** Its cancellation as an AbortSignal, made only when `abort_signal()` asks; dropped at exit. */
  abort: AbortController | null = null;
}
