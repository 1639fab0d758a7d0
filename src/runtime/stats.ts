/** What is open, and the runtime's settings: for tests, teachers and leak hunts. */
import { dillError } from "../handles/errors.js";
import { checkingOps, setCheckOps } from "../handles/op.js";
import { checkHandleCapacity, handleCapacity, handleCount, handleKinds, setHandleCapacity } from "../handles/table.js";
import { checkPoolCapacity, poolCapacity, poolUsed, setPoolCapacity } from "../handles/pool.js";
import { deadlockDetection, setDeadlockDetection } from "./deadlock.js";
import { checkClock, clockName, schedCounts, setClock, setSchedOptions, type UncaughtHandler } from "./sched.js";
import { checkTrace, setTrace } from "./trace.js";

/** A snapshot of the runtime, from {@link dill_stats}. */
export interface DillStats {
  /** Coroutines launched and not yet finished. */
  coroutines: number;
  /** Coroutines in the run queue. */
  ready: number;
  /** Coroutines parked with a deadline. */
  timers: number;
  /** Open handles, all kinds. */
  handles: number;
  /** Open handles by kind: `{ coroutine: 2, channel: 2, ipc: 1 }`. */
  handlesByKind: Record<string, number>;
  /** The storage pool: storages in use and the capacity. */
  pool: {
    /** Storages in use. */
    used: number;
    /** The most that may be in use at once. */
    capacity: number;
  };
  /** Capacity of the handle table. */
  maxHandles: number;
  /** Exceptions that escaped coroutines and were reported, since start. */
  uncaught: number;
  /** The clock behind `now()` and every deadline: `"real"`, or `"virtual"` for tests. */
  clock: "real" | "virtual";
  /** Whether deadlock detection is on (see `dill_configure`). */
  deadlock: boolean;
  /** Whether the check for blocking calls made without `yield*` is on (see `dill_configure`). */
  checkOps: boolean;
}

/**
 * Reports what is open now: coroutines, handles by kind, the pool's use, pending deadlines.
 * A test can check that everything was closed; a student can watch structured concurrency work.
 *
 * @example
 * ```ts
 * const before = dill_stats();
 * // … run something …
 * console.log(dill_stats().handlesByKind); // {} when everything was closed
 * ```
 */
export function dill_stats(): DillStats {
  const s = schedCounts();
  return {
    coroutines: s.coroutines,
    ready: s.ready,
    timers: s.timers,
    handles: handleCount(),
    handlesByKind: handleKinds(),
    pool: { used: poolUsed(), capacity: poolCapacity() },
    maxHandles: handleCapacity(),
    uncaught: s.uncaught,
    clock: clockName(),
    deadlock: deadlockDetection(),
    checkOps: checkingOps,
  };
}

/** Settings for {@link dill_configure}. */
export interface DillOptions {
  /**
   * Size of the handle table (default 1,048,576): handle numbers stay below it, and a call that
   * needs a handle when all are taken fails with `EMFILE`. It cannot shrink below an open handle's number.
   */
  handles?: number;
  /** Capacity of the storage pool for plain (non-`_mem`) constructors (default 1,048,576): past it, `ENOMEM`. */
  pool?: number;
  /** Called with an exception that escaped a non-root coroutine. Default: printed to stderr. `null` restores it. */
  onUncaught?: UncaughtHandler | null;
  /** Record where each coroutine is launched, for error reports (costs a stack trace per launch). */
  traceLaunch?: boolean;
  /**
   * For tests: `"virtual"` makes `now()` a virtual clock that stands still while coroutines run and
   * jumps to the earliest deadline when every coroutine waits, so timed programs run at once and
   * the same way every time. Real I/O is not waited for: a wait on a socket or a file with a
   * deadline times out at once. `"real"` (the default) restores the real clock. Refused (`EBUSY`)
   * while a deadline is pending.
   */
  clock?: "real" | "virtual";
  /**
   * Record what the scheduler does (launch, start, park, wake, cancel, hclose, exit, uncaught
   * exceptions) into a ring of the last 65,536 events (`{ size: n }` for another size), read with
   * `dill_trace()` and `dill_trace_json()`. `true` starts a fresh ring; `false` stops recording
   * and keeps the ring for export.
   */
  trace?: boolean | { size?: number };
  /**
   * Deadlock detection (default on; it costs nothing until the program goes idle): when no
   * coroutine can ever run again, every `run()` still waiting cancels its root and rejects with
   * `EDEADLK`, whose message and `waits` field give each blocked coroutine's call, the handle it
   * waits on and who holds the other end. Under the virtual clock it is checked when the run queue
   * drains; under the real clock when Node's event loop has nothing left to do. `false` turns it off.
   */
  deadlock?: boolean;
  /**
   * A check for development (default off, or on with the environment variable
   * `TSDILL_CHECK_OPS=1`): a blocking call made without `yield*` (`chsend(ch, v, -1);` as a
   * statement does nothing) is reported through `onUncaught` at the coroutine's next scheduling
   * point, with the line that made it; a bare `yield` of such a call names that line too. It
   * covers the calls written as small objects (`chsend`, `chrecv`, `choose`, `msleep`,
   * `dill_yield`, `ipc_recv_some`), and takes a stack trace per call, so it is off by default.
   */
  checkOps?: boolean;
}

/**
 * Changes the runtime's limits, error reporting, clock and deadlock detection. Limits cannot drop below what is in
 * use (`EBUSY`); the clock cannot change while a deadline is pending (`EBUSY`).
 *
 * @throws `EINVAL` for a bad value; `EBUSY` when a limit would fall below current use, or for a
 * clock change while deadlines are pending.
 *
 * @example
 * ```ts
 * dill_configure({ handles: 10_000, pool: 10_000, traceLaunch: true });
 * dill_configure({ clock: "virtual" }); // in a test: deadlines cost no waiting
 * dill_configure({ trace: true }); // record every launch, park, wake…: see dill_trace_json()
 * ```
 */
export function dill_configure(opts: DillOptions): void {
  if (opts === null || typeof opts !== "object")
    throw dillError("EINVAL", "dill_configure", "opts", "opts must be an object");
  const f = opts.onUncaught;
  if (f !== undefined && f !== null && typeof f !== "function")
    throw dillError("EINVAL", "dill_configure", "onUncaught", "onUncaught must be a function or null");
  const t = opts.traceLaunch;
  if (t !== undefined && typeof t !== "boolean")
    throw dillError("EINVAL", "dill_configure", "traceLaunch", "traceLaunch must be a boolean");
  const k = opts.checkOps;
  if (k !== undefined && typeof k !== "boolean")
    throw dillError("EINVAL", "dill_configure", "checkOps", "checkOps must be a boolean");
  const d = opts.deadlock;
  if (d !== undefined && typeof d !== "boolean")
    throw dillError("EINVAL", "dill_configure", "deadlock", "deadlock must be a boolean");
  // Every setting is checked before any is applied: a refused call changes nothing.
  const { clock, handles, pool, trace } = opts;
  if (trace !== undefined) checkTrace(trace, "dill_configure");
  if (clock !== undefined) checkClock(clock, "dill_configure");
  if (handles !== undefined) checkHandleCapacity(handles, "dill_configure");
  if (pool !== undefined) checkPoolCapacity(pool, "dill_configure");
  if (clock !== undefined) setClock(clock, "dill_configure");
  if (handles !== undefined) setHandleCapacity(handles, "dill_configure");
  if (pool !== undefined) setPoolCapacity(pool, "dill_configure");
  setSchedOptions(opts);
  if (trace !== undefined) setTrace(trace);
  if (d !== undefined) setDeadlockDetection(d);
  if (k !== undefined) setCheckOps(k);
}
