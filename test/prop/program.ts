/**
 * A small language of coroutine programs, for property-based tests of the scheduler: a program is
 * a tree of coroutine bodies, each body a list of steps (chmake, chsend, chrecv, choose, chdone,
 * msleep, dill_yield, go, bundle + bundle_go, bundle_go into a `go()` handle, bundle_wait on a
 * bundle or a `go()` handle, hclose). This module has the syntax, the fast-check generator and the
 * printer, which shows a program as readable pseudo-code when a property fails.
 */
import fc from "fast-check";

/** A relative deadline: `-1` never, `0` do not block, `d > 0` means `now() + d`. */
export type Deadline = number;
/** One of a channel's two ends: what is sent on one end is received on the other. */
export type End = 0 | 1;

export interface Arm {
  send: boolean;
  ch: number;
  end: End;
}

/** A step as generated (a coroutine body is a plain list of steps). */
export type Step =
  | { op: "go"; body: Step[] }
  | { op: "bundle"; members: Step[][] }
  /** bundle_go into the newest `go()` or `bundle()` handle held: a `go()` handle is a bundle too. */
  | { op: "join"; body: Step[] }
  | { op: "wait"; dl: Deadline }
  | { op: "close"; nth: number }
  | { op: "send"; ch: number; end: End; dl: Deadline }
  | { op: "recv"; ch: number; end: End; dl: Deadline }
  | { op: "choose"; arms: Arm[]; dl: Deadline }
  | { op: "sleep"; dl: Deadline }
  | { op: "yield" }
  | { op: "chmake" }
  | { op: "done"; ch: number; end: End };

/** A coroutine body with its number: `cr0` is the program's main body, the rest in pre-order. */
export interface Node {
  id: number;
  /** The coroutine that launches it; -1 for main (launched by the test harness). */
  parent: number;
  steps: CStep[];
}

/** A step with the coroutines it launches numbered. */
export type CStep =
  | Exclude<Step, { op: "go" } | { op: "bundle" } | { op: "join" }>
  | { op: "go"; node: Node }
  | { op: "join"; node: Node }
  | { op: "bundle"; nodes: Node[] };

/** Channels the harness makes for every program: c0 and c1, each with ends a and b. */
export const CHANNELS = 2;
/** Channel numbers steps refer to: c0, c1, and c2, c3 once `chmake` steps have made them. */
export const MAX_CHANNELS = 4;

/** A program: the main body and the time after which the harness closes whatever still runs. */
export class Program {
  readonly main: Node;
  /** Number of coroutine bodies in the tree. */
  readonly size: number;
  constructor(
    /** The main body as generated (the shrinker edits it). */
    readonly body: Step[],
    /** ms after the start at which the harness stops waiting for main and closes it. */
    readonly horizon: number,
  ) {
    let next = 0;
    const compile = (steps: Step[], parent: number): Node => {
      const node: Node = { id: next++, parent, steps: [] };
      for (const s of steps) {
        if (s.op === "go" || s.op === "join") node.steps.push({ op: s.op, node: compile(s.body, node.id) });
        else if (s.op === "bundle") node.steps.push({ op: "bundle", nodes: s.members.map((m) => compile(m, node.id)) });
        else node.steps.push(s);
      }
      return node;
    };
    this.main = compile(body, -1);
    this.size = next;
  }

  /** Pseudo-code, one step a line, numbered as the interpreter numbers coroutines and values. */
  toString(): string {
    const out = [
      `program (main is closed at +${this.horizon} ms; c0, c1 exist, chmake() makes c2, c3 in the order the calls run)`,
    ];
    const body = (n: Node, ind: string): void => {
      out.push(`${ind}cr${n.id}:${n.steps.length === 0 ? " (empty)" : ""}`);
      n.steps.forEach((s, i) => {
        const at = `${ind}  ${i} `;
        if (s.op === "go") {
          out.push(`${at}go`);
          body(s.node, `${ind}      `);
        } else if (s.op === "join") {
          out.push(`${at}bundle_go(newest go or bundle handle)`);
          body(s.node, `${ind}      `);
        } else if (s.op === "bundle") {
          out.push(`${at}bundle`);
          for (const m of s.nodes) body(m, `${ind}      `);
        } else {
          out.push(at + stepText(s, n.id, i));
        }
      });
    };
    body(this.main, "");
    return out.join("\n");
  }

  [fc.toStringMethod](): string {
    return `\n${this.toString()}\n`;
  }
}

/** A channel end's name: `c0a`, `c1b`. */
export function endName(ch: number, end: End): string {
  return `c${ch}${end === 0 ? "a" : "b"}`;
}

/** A relative deadline as printed: `never`, `0`, `+5`. */
export function dlText(dl: Deadline): string {
  return dl === -1 ? "never" : dl === 0 ? "0" : `+${dl}`;
}

/** The value a send step (or a choose's send arm) sends: unique in the program. */
export function valueOf(cr: number, step: number, arm = -1): string {
  return arm < 0 ? `v${cr}.${step}` : `v${cr}.${step}.${arm}`;
}

function stepText(s: CStep, cr: number, i: number): string {
  switch (s.op) {
    case "send":
      return `chsend(${endName(s.ch, s.end)}, "${valueOf(cr, i)}", ${dlText(s.dl)})`;
    case "recv":
      return `chrecv(${endName(s.ch, s.end)}, ${dlText(s.dl)})`;
    case "choose":
      return `choose([${s.arms.map((a, k) => (a.send ? `send ${endName(a.ch, a.end)} "${valueOf(cr, i, k)}"` : `recv ${endName(a.ch, a.end)}`)).join(", ")}], ${dlText(s.dl)})`;
    case "sleep":
      return `msleep(${dlText(s.dl)})`;
    case "yield":
      return "dill_yield()";
    case "chmake":
      return "chmake()";
    case "done":
      return `chdone(${endName(s.ch, s.end)})`;
    case "wait":
      return `bundle_wait(newest go or bundle handle, ${dlText(s.dl)})`;
    case "close":
      return `hclose(${s.nth === 0 ? "newest handle" : `handle newest-${s.nth}`})`;
    default:
      return "?";
  }
}

// ---- the generator -------------------------------------------------------------------------------
// Biased so that rendezvous happen often: most traffic on c0, sends mostly on end a, receives on b.
const deadline: fc.Arbitrary<Deadline> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 30 }) },
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.constant(-1) },
);
const ch = fc.oneof(
  { weight: 5, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constant(1) },
  { weight: 1, arbitrary: fc.constant(2) },
  { weight: 1, arbitrary: fc.constant(3) },
);
const sendEnd = fc.oneof({ weight: 4, arbitrary: fc.constant<End>(0) }, { weight: 1, arbitrary: fc.constant<End>(1) });
const recvEnd = fc.oneof({ weight: 4, arbitrary: fc.constant<End>(1) }, { weight: 1, arbitrary: fc.constant<End>(0) });
const arm: fc.Arbitrary<Arm> = fc.oneof(
  fc.record({ send: fc.constant(true), ch, end: sendEnd }),
  fc.record({ send: fc.constant(false), ch, end: recvEnd }),
);

const leaves: fc.WeightedArbitrary<Step>[] = [
  { weight: 4, arbitrary: fc.record({ op: fc.constant("send" as const), ch, end: sendEnd, dl: deadline }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("recv" as const), ch, end: recvEnd, dl: deadline }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("choose" as const),
      arms: fc.array(arm, { minLength: 1, maxLength: 3 }),
      dl: deadline,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("sleep" as const), dl: deadline }) },
  { weight: 1, arbitrary: fc.constant({ op: "yield" as const }) },
  { weight: 2, arbitrary: fc.constant({ op: "chmake" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("done" as const), ch, end: sendEnd }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("wait" as const), dl: deadline }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("close" as const), nth: fc.integer({ min: 0, max: 2 }) }) },
];

/** Half the bodies end with a long sleep, so that what they launched has time to run before it is closed. */
const linger = fc.option(
  fc.record({ op: fc.constant("sleep" as const), dl: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constant(-1)) }),
  { freq: 2 },
);

function withLinger(steps: fc.Arbitrary<Step[]>): fc.Arbitrary<Step[]> {
  return fc.tuple(steps, linger).map(([s, l]) => (l === null ? s : [...s, l]));
}

/** A body of at most `len` steps whose launches nest at most `depth` levels deeper. */
function body(depth: number, len: number): fc.Arbitrary<Step[]> {
  if (depth === 0) return withLinger(fc.array(fc.oneof(...leaves), { maxLength: len }));
  const inner = body(depth - 1, 5);
  const launches: fc.WeightedArbitrary<Step>[] = [
    { weight: 4, arbitrary: fc.record({ op: fc.constant("go" as const), body: inner }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("join" as const), body: inner }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("bundle" as const),
        members: fc.array(inner, { minLength: 1, maxLength: 3 }),
      }),
    },
  ];
  const step: fc.Arbitrary<Step> = fc.oneof(...leaves, ...launches);
  return withLinger(fc.array(step, { maxLength: len }));
}

/** Random programs: a main body of up to 8 steps, launches nested up to 3 levels below it. */
export const programs: fc.Arbitrary<Program> = fc
  .tuple(body(3, 8), fc.integer({ min: 1, max: 300 }))
  .map(([main, horizon]) => new Program(main, horizon));
