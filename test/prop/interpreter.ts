/**
 * Runs a {@link Program} with tsdill and records what happened: every call with its time, deadline
 * and outcome, every launch, start, exit and close. The checker reads this log; the interpreter
 * itself judges nothing.
 */
import {
  bundle,
  bundle_go,
  bundle_wait,
  chdone,
  chmake,
  choose,
  type ChooseClause,
  CHRECV,
  chrecv,
  CHSEND,
  chsend,
  DillError,
  type DillStats,
  dill_stats,
  dill_yield,
  go,
  hclose,
  msleep,
  now,
  type Op,
} from "../../src/index.js";
import {
  type Arm,
  CHANNELS,
  type Deadline,
  type End,
  MAX_CHANNELS,
  type Node,
  type Program,
  valueOf,
} from "./program.js";

/** The harness that runs main: the launcher of cr0, and the closer of everything at the end. */
export const HARNESS = -1;

export type CallOp = "chsend" | "chrecv" | "choose" | "msleep" | "dill_yield" | "bundle_wait";

/** How a coroutine was launched: `go()`, `bundle_go` into a bundle, or `bundle_go` into a `go()` handle. */
export type Via = "go" | "bundle" | "join";

export type Event =
  /** A launch begins: go() or bundle_go() is called; the child starts inside the call. */
  | { k: "launching"; cr: number; child: number; via: Via }
  /** The launch call returned (`err` null), or failed with `err`. */
  | { k: "launch"; cr: number; child: number; err: string | null; via: Via }
  | { k: "start"; cr: number; t: number }
  | { k: "exit"; cr: number; t: number }
  /** A blocking call begins. `dl` is the absolute deadline passed (or -1, 0). */
  | {
      k: "call";
      cr: number;
      call: number;
      op: CallOp;
      dl: number;
      t: number;
      ch?: number;
      end?: End;
      val?: string;
      arms?: (Arm & { val?: string })[];
      covers?: number[];
      /** For bundle_wait: whether the handle waited on came from `go()` or `bundle()`. */
      on?: "go" | "bundle";
    }
  /** It returned (`err` null, with `value` and for choose `idx`) or threw a DillError (`err` is its code). */
  | { k: "ret"; cr: number; call: number; t: number; err: string | null; value?: unknown; idx?: number }
  /** hclose of a coroutine or bundle handle begins; `covers` are the coroutines launched through it. */
  | { k: "close"; cr: number; covers: number[]; t: number }
  | { k: "closed"; cr: number; covers: number[]; t: number }
  /** A channel made by a `chmake` step, and a channel closed (both its handles) by its maker. */
  | { k: "chmake"; cr: number; ch: number; t: number }
  | { k: "chclose"; cr: number; ch: number; t: number }
  /** chdone on end `end` of channel `ch`: nothing more is sent from that end (`err` for a second call). */
  | { k: "chdone"; cr: number; ch: number; end: End; err: string | null; t: number };

/** A channel of the run: its two handles, open until its maker closes it. */
interface Chan {
  ends: [number, number];
  open: boolean;
}

/** One run of one program. Coroutines of an abandoned run (after a failure) see `alive` false and do nothing more. */
export class Run {
  readonly events: Event[] = [];
  alive = true;
  t0 = 0;
  chans: Chan[] = [];
  calls = 0;
  /** dill_stats() inside the harness, before anything was made and after everything was closed. */
  before: DillStats | null = null;
  after: DillStats | null = null;
  /** Exceptions other than DillErrors (escaped from a coroutine, or thrown by the harness). */
  errors: unknown[] = [];
  constructor(readonly program: Program) {}
  log(e: Event): void {
    this.events.push(e);
  }
  /** The absolute deadline for a relative one. */
  deadline(dl: Deadline): number {
    return dl <= 0 ? dl : now() + dl;
  }
}

/**
 * A handle a coroutine holds: a `go` coroutine (and what was launched into it), a bundle and its
 * members, or a channel it made.
 */
interface Held {
  h: number;
  bundle: boolean;
  /** A `go()` handle: a bundle of one, until `join` steps add to it. */
  go: boolean;
  covers: number[];
  /** For a channel: its number in the run's channel table; -1 otherwise. */
  ch: number;
}

function code(e: unknown): string {
  if (e instanceof DillError) return e.code;
  throw e;
}

function* call(
  r: Run,
  cr: number,
  ev: Omit<Extract<Event, { k: "call" }>, "k" | "cr" | "call" | "t">,
  op: Op<unknown>,
  choice?: ChooseClause[],
) {
  const id = r.calls++;
  r.log({ k: "call", cr, call: id, t: now(), ...ev });
  try {
    const value = yield* op;
    if (choice !== undefined) {
      const idx = value as number;
      r.log({ k: "ret", cr, call: id, t: now(), err: null, idx, value: choice[idx]!.val });
    } else {
      r.log({ k: "ret", cr, call: id, t: now(), err: null, value });
    }
  } catch (e) {
    r.log({ k: "ret", cr, call: id, t: now(), err: code(e) });
  }
}

function release(r: Run, cr: number, held: Held): void {
  if (held.ch >= 0) {
    const c = r.chans[held.ch]!;
    r.log({ k: "chclose", cr, ch: held.ch, t: now() });
    c.open = false;
    hclose(c.ends[0]);
    hclose(c.ends[1]);
    return;
  }
  r.log({ k: "close", cr, covers: held.covers.slice(), t: now() });
  hclose(held.h);
  r.log({ k: "closed", cr, covers: held.covers.slice(), t: now() });
}

/** The newest handle held that is a bundle or a `go()` handle (a bundle of one), if any. */
function newestGroup(held: Held[]): Held | undefined {
  for (let k = held.length - 1; k >= 0; k--) if (held[k]!.ch < 0) return held[k];
  return undefined;
}

/** The handle of end `end` of channel `ch`, or -1 when that channel is not made yet or already closed. */
function handleOf(r: Run, ch: number, end: End): number {
  const c = r.chans[ch];
  return c === undefined || !c.open ? -1 : c.ends[end];
}

/** Run step `i` of `node`. A channel step on a channel not made yet, or closed, is skipped. */
function* step(r: Run, node: Node, i: number, held: Held[]) {
  const s = node.steps[i]!;
  const cr = node.id;
  switch (s.op) {
    case "send": {
      const h = handleOf(r, s.ch, s.end);
      if (h < 0) return;
      const dl = r.deadline(s.dl);
      const val = valueOf(cr, i);
      yield* call(r, cr, { op: "chsend", dl, ch: s.ch, end: s.end, val }, chsend(h, val, dl));
      return;
    }
    case "recv": {
      const h = handleOf(r, s.ch, s.end);
      if (h < 0) return;
      const dl = r.deadline(s.dl);
      yield* call(r, cr, { op: "chrecv", dl, ch: s.ch, end: s.end }, chrecv(h, dl));
      return;
    }
    case "choose": {
      if (s.arms.some((a) => handleOf(r, a.ch, a.end) < 0)) return;
      const dl = r.deadline(s.dl);
      const arms: (Arm & { val?: string })[] = s.arms.map((a, k) =>
        a.send ? { ...a, val: valueOf(cr, i, k) } : { ...a },
      );
      const clauses: ChooseClause[] = arms.map((a) =>
        a.send
          ? { op: CHSEND, ch: handleOf(r, a.ch, a.end), val: a.val }
          : { op: CHRECV, ch: handleOf(r, a.ch, a.end) },
      );
      yield* call(r, cr, { op: "choose", dl, arms }, choose(clauses, dl), clauses);
      return;
    }
    case "sleep": {
      const dl = r.deadline(s.dl);
      yield* call(r, cr, { op: "msleep", dl }, msleep(dl));
      return;
    }
    case "yield":
      yield* call(r, cr, { op: "dill_yield", dl: -1 }, dill_yield());
      return;
    case "wait": {
      const b = newestGroup(held);
      if (b === undefined) return; // no bundle or go() handle open: nothing to wait for
      const dl = r.deadline(s.dl);
      const on = b.go ? "go" : "bundle";
      yield* call(r, cr, { op: "bundle_wait", dl, covers: b.covers.slice(), on }, bundle_wait(b.h, dl));
      return;
    }
    case "close": {
      const k = held.length - 1 - s.nth;
      if (k < 0) return;
      release(r, cr, held.splice(k, 1)[0]!);
      return;
    }
    case "done": {
      const h = handleOf(r, s.ch, s.end);
      if (h < 0) return;
      let err: string | null = null;
      try {
        chdone(h);
      } catch (e) {
        err = code(e);
      }
      r.log({ k: "chdone", cr, ch: s.ch, end: s.end, err, t: now() });
      return;
    }
    case "chmake": {
      if (r.chans.length >= MAX_CHANNELS) return;
      const ch = r.chans.length;
      r.chans.push({ ends: chmake(), open: true });
      held.push({ h: -1, bundle: false, go: false, covers: [], ch });
      r.log({ k: "chmake", cr, ch, t: now() });
      return;
    }
    case "go": {
      const child = s.node.id;
      r.log({ k: "launching", cr, child, via: "go" });
      try {
        const h = go(coroutine(r, s.node));
        held.push({ h, bundle: false, go: true, covers: [child], ch: -1 });
        r.log({ k: "launch", cr, child, err: null, via: "go" });
      } catch (e) {
        r.log({ k: "launch", cr, child, err: code(e), via: "go" });
      }
      return;
    }
    case "join": {
      const b = newestGroup(held);
      if (b === undefined) return; // nothing to launch into: the body is not launched
      const child = s.node.id;
      const via = b.go ? "join" : "bundle";
      r.log({ k: "launching", cr, child, via });
      try {
        bundle_go(b.h, coroutine(r, s.node));
        b.covers.push(child);
        r.log({ k: "launch", cr, child, err: null, via });
      } catch (e) {
        r.log({ k: "launch", cr, child, err: code(e), via });
      }
      return;
    }
    case "bundle": {
      const b: Held = { h: bundle(), bundle: true, go: false, covers: [], ch: -1 };
      held.push(b);
      for (const m of s.nodes) {
        r.log({ k: "launching", cr, child: m.id, via: "bundle" });
        try {
          bundle_go(b.h, coroutine(r, m));
          b.covers.push(m.id);
          r.log({ k: "launch", cr, child: m.id, err: null, via: "bundle" });
        } catch (e) {
          r.log({ k: "launch", cr, child: m.id, err: code(e), via: "bundle" });
        }
      }
      return;
    }
  }
}

/** One coroutine of the program: its steps in order, then (in `finally`) it closes what it still holds, newest first. */
function* coroutine(r: Run, node: Node): Generator<unknown, void, unknown> {
  if (!r.alive) return;
  r.log({ k: "start", cr: node.id, t: now() });
  const held: Held[] = [];
  try {
    for (let i = 0; i < node.steps.length && r.alive; i++) yield* step(r, node, i, held);
  } finally {
    if (r.alive) {
      while (held.length > 0) release(r, node.id, held.pop()!);
      r.log({ k: "exit", cr: node.id, t: now() });
    }
  }
}

/**
 * The root coroutine of a run: makes the channels, runs main in a bundle until it finishes or the
 * program's horizon passes, closes it, closes the channels, and takes dill_stats before and after.
 * With `forever`, it waits without a horizon: a program that can never finish is then deadlocked.
 */
export function* harness(r: Run, forever = false): Generator<unknown, void, unknown> {
  r.t0 = now();
  r.before = dill_stats();
  try {
    for (let k = 0; k < CHANNELS; k++) r.chans.push({ ends: chmake(), open: true });
    const b = bundle();
    r.log({ k: "launching", cr: HARNESS, child: 0, via: "bundle" });
    bundle_go(b, coroutine(r, r.program.main));
    r.log({ k: "launch", cr: HARNESS, child: 0, err: null, via: "bundle" });
    try {
      yield* bundle_wait(b, forever ? -1 : r.t0 + r.program.horizon);
    } catch (e) {
      if (!(e instanceof DillError && e.code === "ETIMEDOUT")) r.errors.push(e);
    }
    release(r, HARNESS, { h: b, bundle: true, go: false, covers: [0], ch: -1 });
    for (let k = 0; k < CHANNELS; k++) release(r, HARNESS, { h: -1, bundle: false, go: false, covers: [], ch: k });
  } catch (e) {
    r.errors.push(e);
  }
  r.after = dill_stats();
}
