/**
 * Deadlock detection: when no coroutine can ever run again, every `run()` still waiting rejects
 * with `EDEADLK` and the wait graph, instead of hanging or letting the process exit silently.
 *
 * Nothing is tracked for it on the hot paths; it looks at the records only when the program has
 * gone idle:
 * - Under the virtual clock, when the run queue drains: one turn of Node's event loop later,
 *   nothing is ready, no deadline is pending, and every coroutine is parked in a wait that only
 *   another coroutine can end (`chsend`, `chrecv`, `choose`, `bundle_wait`, `msleep(-1)`). A wait
 *   on anything else (a socket, a Promise, an effection operation, a `run()` AbortSignal) is a
 *   wake source from outside, and the program is not deadlocked. This is exact in the virtual
 *   clock's closed world, the one in which it already jumps time forward.
 * - Under the real clock, when Node's event loop has nothing left to do (`beforeExit`): no socket,
 *   timer or other handle is left that could call back, so a coroutine still parked can never be
 *   woken, whatever it waits for.
 */
import { DillError } from "../handles/errors.js";
import { BLOCKED, type CrBase, DONE, Group } from "./cr.js";
import { clockName, schedCounts, setIdleHook, SLEEPING } from "./sched.js";
import { timerCount } from "./timers.js";
import { type DillWait, describeWait, explainWaits, indexHandles, linkPeers } from "./waits.js";

/** The `EDEADLK` error a deadlocked `run()` rejects with: its message explains, `waits` lists. */
export interface DillDeadlock extends DillError {
  /** Every blocked coroutine's wait, in launch order. */
  readonly waits: DillWait[];
}

/** The run() roots still running, and how to fail one (both given by promise.ts). */
let roots: Set<CrBase> | null = null;
let failRoot: ((cr: CrBase, err: DillError) => void) | null = null;
let enabled = true;
let checkQueued = false;
let exitHooked = false;

/** Switch detection on or off (see `dill_configure({ deadlock })`). */
export function setDeadlockDetection(on: boolean): void {
  enabled = on;
  setIdleHook(on && roots !== null ? onIdle : null);
  // A program that went idle while detection was off is looked at now.
  if (on && roots !== null && clockName() === "virtual") onIdle();
}

/** Whether deadlock detection is on. */
export function deadlockDetection(): boolean {
  return enabled;
}

/**
 * Start watching (called by the first `run()`): `rootSet` holds the running roots, `fail`
 * cancels one and makes its `run()` reject with the given error.
 */
export function watchDeadlocks(rootSet: Set<CrBase>, fail: (cr: CrBase, err: DillError) => void): void {
  if (roots !== null) return;
  roots = rootSet;
  failRoot = fail;
  if (enabled) setIdleHook(onIdle);
  if (!exitHooked) {
    exitHooked = true;
    process.on("beforeExit", onBeforeExit);
  }
}

function onIdle(): void {
  if (checkQueued || roots === null || roots.size === 0 || timerCount() > 0) return;
  checkQueued = true;
  setImmediate(virtualCheck);
}

/**
 * Only waits another coroutine can end: on channels (clauses linked), on a bundle, in a sleep
 * without a deadline. Anything else may be ended from outside.
 */
function inner(cr: CrBase): boolean {
  return cr.nclauses > 0 || cr.waitObj instanceof Group || (cr.waitObj === SLEEPING && cr.deadline < 0);
}

function virtualCheck(): void {
  checkQueued = false;
  if (!enabled || clockName() !== "virtual" || roots === null || roots.size === 0) return;
  if (timerCount() > 0 || schedCounts().ready > 0) return;
  // A root whose run() AbortSignal can still be aborted can be woken from outside.
  for (const cr of roots) if ((cr.owner as { signal?: AbortSignal | null }).signal?.aborted === false) return;
  const found = analyse(inner);
  if (found !== null) fail(found);
}

function onBeforeExit(): void {
  if (!enabled || roots === null || roots.size === 0) return;
  if (schedCounts().ready > 0) return;
  const found = analyse(() => true);
  if (found !== null) fail(found);
}

interface Found {
  waits: DillWait[];
  byId: Map<number, CrBase>;
}

/**
 * The waits of every live coroutine, when each is blocked in a wait `stuck` accepts; null when
 * one could still run, or when some live coroutine is out of sight (not reachable from a handle
 * or a root, so its wait cannot be judged).
 */
function analyse(stuck: (cr: CrBase) => boolean): Found | null {
  const ix = indexHandles();
  const all = new Map<CrBase, number>();
  for (const cr of roots!) all.set(cr, -1);
  for (const [cr, h] of ix.coroutines) if (!all.has(cr)) all.set(cr, h);
  let liveSeen = 0;
  const waits: DillWait[] = [];
  const byId = new Map<number, CrBase>();
  for (const [cr, h] of all) {
    if (cr.state === DONE) {
      byId.set(cr.id, cr);
      continue;
    }
    liveSeen++;
    if (cr.state !== BLOCKED || !stuck(cr)) return null;
    byId.set(cr.id, cr);
    waits.push(describeWait(cr, h, ix)!);
  }
  if (liveSeen !== schedCounts().coroutines || waits.length === 0) return null;
  waits.sort((a, b) => a.cr - b.cr);
  linkPeers(waits);
  return { waits, byId };
}

function fail(found: Found): void {
  const lines = explainWaits(found.waits, found.byId);
  const err = new DillError(
    "EDEADLK",
    "run",
    `deadlock: every coroutine is blocked and nothing can wake one\n  ${lines.join("\n  ")}`,
  ) as DillError & { waits: DillWait[] };
  err.waits = found.waits;
  err.stack = `DillError: ${err.message}`; // where it was found says nothing: the waits do
  for (const cr of [...roots!]) failRoot!(cr, err);
}
