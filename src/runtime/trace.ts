/**
 * The trace recorder: what the scheduler does, event by event, in a bounded ring, for
 * `dill_configure({ trace })`, `dill_trace()` and `dill_trace_json()`.
 *
 * Off, it costs each hook in the scheduler one test of {@link tracing}. On, each event writes a
 * few numbers into preallocated typed arrays (and one string reference): no object per event.
 * When the ring is full the oldest events are overwritten. The Chrome Trace Event form is built
 * from the ring only when asked for (see `traceexport.ts`).
 */
import { performance } from "node:perf_hooks";
import { dillError, isDillError } from "../handles/errors.js";
import { type HandleVfs, setReleaseHook } from "../handles/table.js";
import { now, virtual } from "./clock.js";
import { type CrBase, NEW } from "./cr.js";
import { generatorName } from "./crname.js";

/** True while the recorder is on. Written only through {@link setTrace}. */
export let tracing = false;

/** The kinds of event the ring holds. */
export const LAUNCH = 1;
export const START = 2;
export const RESUME = 3;
export const PARK = 4;
export const WAKE = 5;
export const CANCEL = 6;
export const CLOSE_BEGIN = 7;
export const CLOSE_END = 8;
export const EXIT = 9;
export const UNCAUGHT = 10;
export const CLOSE = 11;
export const CHDONE = 12;

/** The ring's default size in events. */
export const TRACE_SIZE = 65_536;

let size = 0;
/** Events written since the recorder was started (the ring holds the last `size` of them). */
let written = 0;
let kinds = new Uint8Array(0);
let times = new Float64Array(0);
/** The coroutine an event is about. */
let crs = new Int32Array(0);
/** Another coroutine (launcher, waker, canceller, closer), a group number, or a handle; 0 or -1 when none. */
let others = new Int32Array(0);
/** A deadline (PARK), a group number (LAUNCH), or 0. */
let extras = new Float64Array(0);
/** A name: the generator function (LAUNCH), the blocking call (PARK), the call (CLOSE), an errno name or message. */
let texts: (string | null)[] = [];
/**
 * LAUNCH: the coroutine's generator object, named only when the trace is read: asking V8 for a
 * generator function's name takes an inspector round trip the first time that function is seen,
 * too slow for a launch. (The ring keeps up to `size` finished generator objects alive.) CLOSE
 * and CHDONE: the kind of the handle (`"channel"`, `"ipc"`…).
 */
let bodies: unknown[] = [];

const origin = performance.timeOrigin;
/** Numbers for bundles (`bundle()` storages), which have no launch number of their own. */
let groupIds = new WeakMap<object, number>();
let lastGroup = 0;
/** The handle the next park waits on, set just before it by the calls that know it (chsend, chrecv). */
let waitHandle = -1;

/** Now, in ms: virtual time under the virtual clock, otherwise the real clock with sub-ms precision. */
function stamp(): number {
  return virtual ? now() : origin + performance.now();
}

function put(kind: number, cr: number, other: number, extra: number, text: string | null): void {
  const i = written % size;
  if (kind < CLOSE && kind !== LAUNCH) bodies[i] = null;
  kinds[i] = kind;
  times[i] = stamp();
  crs[i] = cr;
  others[i] = other;
  extras[i] = extra;
  texts[i] = text;
  written++;
}

/** Check a `trace` setting of `dill_configure` (`true`, `false`, or `{ size }`), changing nothing. */
export function checkTrace(opt: unknown, fn: string): void {
  if (typeof opt === "boolean") return;
  if (opt === null || typeof opt !== "object")
    throw dillError("EINVAL", fn, "trace", "trace must be a boolean or { size: number }");
  const n = (opt as { size?: unknown }).size;
  if (n !== undefined && (typeof n !== "number" || !Number.isSafeInteger(n) || n < 16 || n > 1 << 24))
    throw dillError("EINVAL", fn, "trace", `trace.size must be an integer from 16 to ${1 << 24}, got ${String(n)}`);
}

/** Start (with an empty ring) or stop the recorder; stopping keeps what was recorded for export. */
export function setTrace(opt: boolean | { size?: number }): void {
  if (opt === false) {
    tracing = false;
    setReleaseHook(null);
    return;
  }
  const n = opt === true ? TRACE_SIZE : (opt.size ?? TRACE_SIZE);
  if (n !== size) {
    size = n;
    kinds = new Uint8Array(n);
    times = new Float64Array(n);
    crs = new Int32Array(n);
    others = new Int32Array(n);
    extras = new Float64Array(n);
    texts = new Array<string | null>(n).fill(null);
    bodies = new Array<unknown>(n).fill(null);
  } else {
    texts.fill(null);
    bodies.fill(null);
  }
  written = 0;
  groupIds = new WeakMap();
  lastGroup = 0;
  waitHandle = -1;
  tracing = true;
  setReleaseHook(recordRelease);
}

/** The number of a group: a coroutine's launch number for the bundle of one `go()` made, else a bundle number. */
function groupNumber(g: object): number {
  const id = (g as { id?: unknown }).id;
  if (typeof id === "number" && id > 0) return id;
  let n = groupIds.get(g);
  if (n === undefined) {
    n = -++lastGroup;
    groupIds.set(g, n);
  }
  return n;
}

// ---- the hooks: each called from one guarded line of the scheduler ----------------------------
/** `cr` was launched by `by` (null: from outside any coroutine); `owner` is its bundle, or a run() root. */
export function recordLaunch(cr: CrBase, by: CrBase | null, owner: unknown): void {
  const g = owner !== null && typeof owner === "object" && "count" in owner ? groupNumber(owner) : 0;
  bodies[written % size] = cr.gen;
  put(LAUNCH, cr.id, by === null ? 0 : by.id, g, null);
}

/** `cr` runs a step (its first: START). */
export function recordResume(cr: CrBase): void {
  put(cr.state === NEW ? START : RESUME, cr.id, 0, 0, null);
}

/** `cr` parks in blocking call `fn` until `deadline`. */
export function recordPark(cr: CrBase, fn: string, deadline: number): void {
  put(PARK, cr.id, waitHandle, deadline, fn);
  waitHandle = -1;
}

/** The next park waits on handle `h`. */
export function recordWaitHandle(h: number): void {
  waitHandle = h;
}

/**
 * `cr`'s wait ends, by the running coroutine `by` (null: a timer, I/O or a Promise). Its deadline
 * having passed with no coroutine behind it is a deadline firing (or an msleep ending).
 */
export function recordWake(cr: CrBase, by: CrBase | null): void {
  const fired = by === null && cr.deadline > 0 && cr.deadline <= now();
  put(WAKE, cr.id, by === null ? 0 : by.id, 0, fired ? (cr.waitOp === "msleep" ? "slept" : "ETIMEDOUT") : null);
}

/** `cr` is cancelled by `by`. */
export function recordCancel(cr: CrBase, by: CrBase | null): void {
  put(CANCEL, cr.id, by === null ? 0 : by.id, 0, null);
}

/** `hclose` of group `g` begins (`begin`) or has returned, in coroutine `by`. */
export function recordClose(g: object, by: CrBase | null, begin: boolean): void {
  put(begin ? CLOSE_BEGIN : CLOSE_END, by === null ? 0 : by.id, groupNumber(g), 0, null);
}

/** Handle `h` (object `vfs`) was released by call `fn` (`hclose`, `ipc_close`, `hown`…) in coroutine `by` (0: none). */
function recordRelease(h: number, vfs: HandleVfs, fn: string, by: number): void {
  bodies[written % size] = vfs.kind ?? "user";
  put(CLOSE, by, h, 0, fn);
}

/** `chdone` on channel handle `ch`, by `by`. */
export function recordChdone(ch: number, by: CrBase | null): void {
  bodies[written % size] = "channel";
  put(CHDONE, by === null ? 0 : by.id, ch, 0, "chdone");
}

/** `cr` finished, returning or (`threw`) letting `value` escape. */
export function recordExit(cr: CrBase, value: unknown, threw: boolean): void {
  put(EXIT, cr.id, threw ? 1 : 0, 0, threw ? errorName(value) : null);
}

/** An exception escaped `cr` and was reported. */
export function recordUncaught(cr: CrBase, error: unknown): void {
  put(UNCAUGHT, cr.id, 0, 0, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
}

function errorName(e: unknown): string {
  if (isDillError(e)) return (e as { code: string }).code;
  return e instanceof Error ? e.name : typeof e;
}

// ---- reading the ring --------------------------------------------------------------------------
/** One recorded event, as {@link dill_trace} returns it. */
export interface DillTraceRecord {
  /** What happened. */
  kind:
    | "launch"
    | "start"
    | "resume"
    | "park"
    | "wake"
    | "cancel"
    | "hclose"
    | "hclosed"
    | "exit"
    | "uncaught"
    | "close"
    | "chdone";
  /** When, in ms: `now()`'s time base (virtual time under the virtual clock), with sub-ms precision on the real clock. */
  time: number;
  /** The coroutine it is about (the closer, for hclose, hclosed and close; the caller, for chdone; 0 outside any coroutine). */
  cr: number;
  /** The other coroutine: the launcher, the waker or the canceller (0: none, or a timer, I/O, a Promise). */
  by?: number;
  /**
   * launch: the name of its generator function; park: the blocking call; close: the call that
   * gave the handle up (`hclose`, `ipc_close`, `tcp_close`, `hown`, an attach or a detach…);
   * chdone: `"chdone"`.
   */
  name?: string;
  /** launch: its bundle (a positive number is the coroutine whose `go()` handle it is, a negative one a `bundle()`); hclose: the group closed. */
  group?: number;
  /** park: the handle waited on, when known (channels); close, chdone: the handle. */
  handle?: number;
  /** close, chdone: the kind of the handle (`"channel"`, `"ipc"`, `"tcp"`, `"coroutine"`, `"bundle"`, `"user"`…). */
  type?: string;
  /** park: the absolute deadline (-1: none). */
  deadline?: number;
  /** wake: "ETIMEDOUT" when the deadline fired, "slept" when an msleep ended; exit: the errno name or class of what escaped; uncaught: the message. */
  reason?: string;
}

const NAMES = [
  "",
  "launch",
  "start",
  "resume",
  "park",
  "wake",
  "cancel",
  "hclose",
  "hclosed",
  "exit",
  "uncaught",
  "close",
  "chdone",
] as const;

/**
 * Returns the events recorded since the trace was started (`dill_configure({ trace: true })`),
 * oldest first: the last `size` of them when more were made (see `dill_trace_json` for the form
 * Perfetto and chrome://tracing open).
 *
 * @returns the events; `[]` when the recorder was never started.
 *
 * @example
 * ```ts
 * dill_configure({ trace: true });
 * await run(main);
 * const parks = dill_trace().filter((e) => e.kind === "park");
 * ```
 */
export function dill_trace(): DillTraceRecord[] {
  const out: DillTraceRecord[] = [];
  const n = Math.min(written, size);
  for (let k = written - n; k < written; k++) {
    const i = k % size;
    const kind = kinds[i]!;
    const e: DillTraceRecord = { kind: NAMES[kind] as DillTraceRecord["kind"], time: times[i]!, cr: crs[i]! };
    const other = others[i]!;
    const text = texts[i];
    switch (kind) {
      case LAUNCH:
        e.by = other;
        e.name = generatorName((bodies[i] as object | null) ?? null) || "anonymous";
        e.group = extras[i]!;
        break;
      case PARK:
        e.name = text!;
        e.deadline = extras[i]!;
        if (other >= 0) e.handle = other;
        break;
      case WAKE:
      case CANCEL:
        e.by = other;
        if (text !== null) e.reason = text;
        break;
      case CLOSE_BEGIN:
      case CLOSE_END:
        e.group = other;
        break;
      case EXIT:
      case UNCAUGHT:
        if (text !== null) e.reason = text;
        break;
      case CLOSE:
      case CHDONE:
        e.name = text!;
        e.handle = other;
        e.type = bodies[i] as string;
        break;
    }
    out.push(e);
  }
  return out;
}

/** Events overwritten because the ring was full. */
export function traceDropped(): number {
  return Math.max(0, written - size);
}

/** The clock the recorded times are on. */
export function traceClock(): "real" | "virtual" {
  return virtual ? "virtual" : "real";
}
