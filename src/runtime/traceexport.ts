/**
 * The trace in the Chrome Trace Event format (the JSON that Perfetto and chrome://tracing open),
 * built from the recorder's ring when asked for: one process per `run()` root, one thread (track)
 * per coroutine, named after its generator function and its bundle and sorted in tree order; a
 * slice while it runs, a slice while it is parked (named after the blocking call), a slice while
 * it is inside `hclose`; instants for launch, cancellation, a deadline firing, a handle closed
 * (a channel end, a socket…, named with its kind), `chdone`, exit and uncaught exceptions; flows from the launcher to the launched, the waker to the woken, the canceller to
 * the cancelled.
 *
 * A program started with the environment variable `TSDILL_TRACE=file.json` records from its
 * start and writes the trace to that file when the process exits (what `tsdill trace` uses).
 */
import { writeFileSync } from "node:fs";
import { dill_trace, type DillTraceRecord, setTrace, traceClock, traceDropped } from "./trace.js";

/** One event of the Chrome Trace Event format, as {@link dill_trace_json} writes it. */
export interface ChromeTraceEvent {
  /** The event's name: the slice or instant shown. */
  name: string;
  /** Its category: `run`, `park`, `hclose`, `launch`, `wake`, `cancel`, `deadline`, `close`, `chdone`, `exit`, `uncaught`, `meta`. */
  cat: string;
  /** Its phase: `B`/`E` a slice's begin/end, `i` an instant, `s`/`f` a flow's start/end, `M` metadata. */
  ph: "B" | "E" | "i" | "s" | "f" | "M";
  /** Microseconds from the first recorded event. */
  ts: number;
  /** The `run()` root's launch number (0: outside any coroutine). */
  pid: number;
  /** The coroutine's launch number. */
  tid: number;
  /** Flows: the flow's number. */
  id?: number;
  /** Flow ends: bind to the enclosing slice. */
  bp?: "e";
  /** Instants: thread scope. */
  s?: "t";
  /** Details. */
  args?: Record<string, unknown>;
}

/** The whole trace file, as {@link dill_trace_json} writes it. */
export interface ChromeTrace {
  /** The events: metadata first, then in time order. */
  traceEvents: ChromeTraceEvent[];
  /** How the viewers show times. */
  displayTimeUnit: "ms";
  /** The clock, the time of ts 0 in ms on `now()`'s base, and the events the ring overwrote. */
  otherData: { clock: "real" | "virtual"; origin: number; dropped: number };
}

/** Per coroutine while the trace is built. */
interface Track {
  pid: number;
  parent: number;
  name: string;
  group: number;
  /** Names of the open slices, innermost last. */
  open: string[];
  /** A flow to end at its next step, and its category. */
  flow: number;
  flowCat: string;
}

/** Builds the Chrome Trace Event form of `records` (default: the recorder's ring). */
export function chromeTrace(records: readonly DillTraceRecord[] = dill_trace()): ChromeTrace {
  const t0 = records.length > 0 ? records[0]!.time : 0;
  const out: ChromeTraceEvent[] = [];
  const tracks = new Map<number, Track>();
  let last = -1;
  let flows = 0;
  const track = (cr: number): Track => {
    let t = tracks.get(cr);
    if (t === undefined) {
      t = {
        pid: cr === 0 ? 0 : cr,
        parent: 0,
        name: cr === 0 ? "outside coroutines" : `cr ${cr}`,
        group: 0,
        open: [],
        flow: 0,
        flowCat: "",
      };
      tracks.set(cr, t);
    }
    return t;
  };
  let ts = 0;
  const emit = (e: Omit<ChromeTraceEvent, "ts" | "pid">, cr: number): void => {
    out.push({ ...e, ts, pid: track(cr).pid } as ChromeTraceEvent);
  };
  const closeAll = (cr: number, until?: string): void => {
    const t = track(cr);
    while (t.open.length > 0) {
      const name = t.open.pop()!;
      emit({ name, cat: categoryOf(name), ph: "E", tid: cr }, cr);
      if (name === until) return;
    }
  };
  const begin = (cr: number, name: string, args?: Record<string, unknown>): void => {
    track(cr).open.push(name);
    emit({ name, cat: categoryOf(name), ph: "B", tid: cr, ...(args ? { args } : {}) }, cr);
  };
  const flowFrom = (from: number, to: number, cat: string): void => {
    const id = ++flows;
    emit({ name: cat, cat, ph: "s", tid: from, id }, from);
    const t = track(to);
    t.flow = id;
    t.flowCat = cat;
  };
  const rel = (ms: number): number => Math.round((ms - t0) * 1000 * 1000) / 1000;
  for (const r of records) {
    // Microseconds from the first event, kept strictly increasing so that equal times (virtual
    // time stands still while coroutines run) keep the order the events happened in.
    ts = Math.max(rel(r.time), last + 0.001);
    ts = Math.round(ts * 1000) / 1000;
    last = ts;
    const cr = r.cr;
    switch (r.kind) {
      case "launch": {
        const t = track(cr);
        const by = r.by ?? 0;
        t.parent = by;
        t.pid = by === 0 ? cr : track(by).pid;
        t.group = r.group ?? 0;
        t.name = `cr ${cr} ${r.name ?? ""}`.trim() + (t.group < 0 ? ` · bundle ${-t.group}` : "");
        emit({ name: "launch", cat: "launch", ph: "i", s: "t", tid: cr, args: { by, group: t.group } }, cr);
        if (by !== 0) flowFrom(by, cr, "launch");
        break;
      }
      case "start":
      case "resume": {
        closeAll(cr);
        begin(cr, "run");
        const t = track(cr);
        if (t.flow !== 0) {
          emit({ name: t.flowCat, cat: t.flowCat, ph: "f", bp: "e", tid: cr, id: t.flow }, cr);
          t.flow = 0;
        }
        break;
      }
      case "park": {
        closeAll(cr);
        const deadline = r.deadline ?? -1;
        const name = r.handle !== undefined ? `${r.name} h${r.handle}` : r.name!;
        begin(cr, name, {
          call: r.name,
          ...(r.handle !== undefined ? { handle: r.handle } : {}),
          deadline: deadline > 0 ? rel(deadline) : -1,
        });
        break;
      }
      case "wake": {
        closeAll(cr);
        const by = r.by ?? 0;
        if (r.reason === "ETIMEDOUT")
          emit({ name: "deadline", cat: "deadline", ph: "i", s: "t", tid: cr, args: { reason: "ETIMEDOUT" } }, cr);
        if (by !== 0 && track(cr).flow === 0) flowFrom(by, cr, "wake");
        break;
      }
      case "cancel": {
        const by = r.by ?? 0;
        emit({ name: "cancel", cat: "cancel", ph: "i", s: "t", tid: cr, args: { by } }, cr);
        if (by !== 0 && by !== cr) flowFrom(by, cr, "cancel");
        break;
      }
      case "hclose":
        begin(cr, `hclose ${groupLabel(r.group ?? 0)}`, { group: r.group });
        break;
      case "hclosed": {
        const name = `hclose ${groupLabel(r.group ?? 0)}`;
        if (track(cr).open.includes(name)) closeAll(cr, name);
        break;
      }
      case "close":
      case "chdone":
        emit(
          {
            name: `${r.name} ${r.type} h${r.handle}`,
            cat: r.kind,
            ph: "i",
            s: "t",
            tid: cr,
            args: { call: r.name, handle: r.handle, type: r.type },
          },
          cr,
        );
        break;
      case "exit":
        closeAll(cr);
        emit({ name: "exit", cat: "exit", ph: "i", s: "t", tid: cr, args: r.reason ? { threw: r.reason } : {} }, cr);
        break;
      case "uncaught":
        emit(
          { name: "uncaught exception", cat: "uncaught", ph: "i", s: "t", tid: cr, args: { message: r.reason } },
          cr,
        );
        break;
    }
  }
  for (const cr of tracks.keys()) closeAll(cr);
  return {
    traceEvents: [...metadata(tracks), ...out],
    displayTimeUnit: "ms",
    otherData: { clock: traceClock(), origin: t0, dropped: traceDropped() },
  };
}

function categoryOf(slice: string): string {
  if (slice === "run") return "run";
  if (slice.startsWith("hclose ")) return "hclose";
  return "park";
}

function groupLabel(g: number): string {
  return g < 0 ? `bundle ${-g}` : `cr ${g}`;
}

/** Process and thread names, and thread order: each coroutine after its launcher, depth first. */
function metadata(tracks: Map<number, Track>): ChromeTraceEvent[] {
  const children = new Map<number, number[]>();
  for (const [cr, t] of tracks) {
    if (cr === 0) continue;
    const p = tracks.has(t.parent) && t.parent !== cr ? t.parent : 0;
    let list = children.get(p);
    if (list === undefined) children.set(p, (list = []));
    list.push(cr);
  }
  const order: number[] = [];
  const visit = (cr: number): void => {
    for (const c of (children.get(cr) ?? []).sort((a, b) => a - b)) {
      order.push(c);
      visit(c);
    }
  };
  visit(0);
  const meta: ChromeTraceEvent[] = [];
  const m = (name: string, pid: number, tid: number, args: Record<string, unknown>): void => {
    meta.push({ name, cat: "meta", ph: "M", ts: 0, pid, tid, args });
  };
  if (tracks.has(0)) {
    m("process_name", 0, 0, { name: "outside coroutines" });
    m("thread_name", 0, 0, { name: "outside coroutines" });
  }
  order.forEach((cr, i) => {
    const t = tracks.get(cr)!;
    if (t.pid === cr) m("process_name", cr, cr, { name: `run: ${t.name}` });
    m("thread_name", t.pid, cr, { name: t.name, parent: t.parent, group: t.group });
    m("thread_sort_index", t.pid, cr, { sort_index: i });
  });
  return meta;
}

/**
 * Returns the trace recorded so far (see `dill_configure({ trace })`) as a Chrome Trace Event
 * file: open it in Perfetto (ui.perfetto.dev) or chrome://tracing. Each `run()` root is a process,
 * each coroutine a track in it, in tree order, named `cr N name` (and its bundle); its slices show
 * when it ran and the blocking call it was parked in; arrows (flows) go from the launcher to the
 * launched, the waker to the woken, the canceller to the cancelled; marks show where a handle was
 * closed (`hclose channel h3`, `ipc_close ipc h7`) and where `chdone` was called.
 *
 * @returns the JSON text, `{"traceEvents": [...], "displayTimeUnit": "ms", "otherData": {...}}`.
 *
 * @example
 * ```ts
 * dill_configure({ trace: true });
 * await run(main);
 * fs.writeFileSync("trace.json", dill_trace_json());
 * ```
 */
export function dill_trace_json(): string {
  return JSON.stringify(chromeTrace());
}

// A program run with TSDILL_TRACE=file records from the start and leaves its trace in that file.
const envFile = typeof process !== "undefined" ? process.env.TSDILL_TRACE : undefined;
if (envFile) {
  const size = Number(process.env.TSDILL_TRACE_SIZE);
  setTrace(Number.isSafeInteger(size) && size >= 16 ? { size } : true);
  process.on("exit", () => writeFileSync(envFile, dill_trace_json()));
}
