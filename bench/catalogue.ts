/**
 * The catalogue: every workload, which systems run it, at which sizes, what stands in for the
 * tsdill primitive in each peer, and the targets of the performance plan. Nothing here measures.
 */
import { HTTP_WORKLOADS } from "./http-workloads.js";
import { MSG_WORKLOADS } from "./msg-workloads.js";
import { TLS_WORKLOADS } from "./tls-workloads.js";
import { WS_WORKLOADS } from "./ws-workloads.js";

/**
 * The systems compared. `libdill` is C (`bench/c/`), `net` is raw `node:net` callbacks, `floor`
 * the engine floor: the same loop over bare generator objects resumed by hand, no scheduler, no
 * handles (the limit of any generator runtime on V8; for IPC, raw `node:net` is the floor).
 */
export type System = "tsdill" | "libdill" | "floor" | "effection" | "effect" | "async" | "net";
export const SYSTEMS: readonly System[] = ["tsdill", "libdill", "floor", "effection", "effect", "async", "net"];
export const SYSTEM_NAMES: Record<System, string> = {
  tsdill: "tsdill",
  libdill: "libdill (C)",
  floor: "engine floor",
  effection: "effection 4",
  effect: "Effect 4",
  async: "async/await",
  net: "raw node:net",
};

/** ns: time per operation; B: bytes per object; the rest are rates (higher is better). */
export type Unit = "ns" | "B" | "rt/s" | "MB/s" | "conn/s" | "req/s";

/** The table a workload's row goes to. */
export type Section = "core" | "ipc" | "memory" | "scaling" | "server";

/**
 * One configuration of a workload that runs on tsdill alone (the server with 1 or 2 workers).
 * The variants of a workload are interleaved round by round as the systems of the others are,
 * and compared with the first variant instead of with other systems.
 */
export interface Variant {
  /** Short, for the progress lines: `w1`. */
  key: string;
  /** For the table: `1 worker`. */
  label: string;
  /** Passed to the trial as its parameter (instead of the workload's `param`). */
  param: number;
}

/**
 * A target on tsdill's figure (PERF.md). Costs are times or bytes, or 1/rate for rates.
 * - `maxCost`: tsdill's cost ≤ x × the other's (shown as tsdill ÷ other, `1.72×`);
 * - `minSpeedup`: the other's cost ≥ x × tsdill's (shown as other ÷ tsdill, `898×`);
 * - `max`: tsdill's own figure ≤ x, in the workload's unit.
 */
export interface Target {
  /** Shown in the table: `≤ 1.5× libdill`. */
  text: string;
  kind: "maxCost" | "minSpeedup" | "max";
  x: number;
  vs?: System;
}

export interface Workload {
  /** Unique id, used by `--filter`, the JSON file and the chart. */
  id: string;
  title: string;
  section: Section;
  unit: Unit;
  /** The trial key in the system modules (several workloads can share one trial). */
  trial: string;
  /** Passed to the trial beside n (connections, for the IPC concurrency workloads). */
  param?: number;
  /** n per system: [default, --quick]. A system absent here does not run this workload. */
  sizes: Partial<Record<System, readonly [number, number]>>;
  /** The C program in bench/c/ (without .c) that measures this workload against libdill. */
  c?: string;
  /** The key of bench/libdill-recorded.json used when libdill is not installed. */
  recorded?: string;
  /** What the peers use, where they have no equal primitive. */
  notes?: Partial<Record<System, string>>;
  targets?: readonly Target[];
  /** For the scaling table: the family name and the load (coroutines, timers, connections). */
  scale?: { family: string; load: number };
  /**
   * No separate warm-up process run: memory workloads (a warm-up would leave records in the pools)
   * and the server (its trial warms the server up itself, on the same server).
   */
  cold?: boolean;
  /** tsdill-only configurations compared with each other (see {@link Variant}); sizes: tsdill's. */
  variants?: readonly Variant[];
}

const K = 1000;
const M = 1_000_000;

/** tsdill at least this many times faster than effection 4 (PERF.md). */
const VS_EFFECTION: Target = { text: "≥ 20× faster than effection", kind: "minSpeedup", x: 20, vs: "effection" };
/** tsdill faster than Effect 4 (PERF.md). */
const VS_EFFECT: Target = { text: "faster than Effect 4", kind: "minSpeedup", x: 1, vs: "effect" };
const vsLibdill = (x: number): Target => ({ text: `≤ ${x}× libdill`, kind: "maxCost", x, vs: "libdill" });
const VS_NET: Target = { text: "≥ 1.0× raw node:net", kind: "minSpeedup", x: 1, vs: "net" };

export function higherIsBetter(unit: Unit): boolean {
  return unit !== "ns" && unit !== "B";
}

/** Coroutines alive at once in the wave workloads: within libdill's cache of 64 stacks. */
const WAVE = 64;

const CORE: Workload[] = [
  {
    id: "go",
    title: "go + hclose: go() runs an empty coroutine to its end, hclose frees it; per coroutine",
    section: "core",
    unit: "ns",
    trial: "go",
    sizes: {
      tsdill: [M, 20 * K],
      libdill: [M, 20 * K],
      floor: [M, 20 * K],
      effection: [5 * K, 500],
      effect: [100 * K, 5 * K],
      async: [M, 20 * K],
    },
    c: "go",
    recorded: "go",
    notes: {
      floor: "create a generator object and run it to its end with one `next()`",
      effection: "spawn + halt",
      effect: "`forkChild` + `Fiber.interrupt` (the fiber never ran)",
      async: "`await f()` of an empty async function",
      libdill: "`hclose(go(worker()))`, as libdill's perf/go.c",
    },
    targets: [vsLibdill(1.5), VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "goRun",
    title: `go, run, hclose in waves of ${WAVE}: launch ${WAVE}, yield once, close the ${WAVE}; per coroutine`,
    section: "core",
    unit: "ns",
    trial: "goRun",
    param: WAVE,
    sizes: {
      tsdill: [M, 20 * K],
      libdill: [M, 20 * K],
      floor: [M, 20 * K],
      effection: [5 * K, 1 * K],
      effect: [100 * K, 5 * K],
      async: [M, 20 * K],
    },
    c: "go",
    recorded: "goWave",
    notes: {
      floor: `${WAVE} generator objects run to their end, then dropped`,
      effection: "spawn waves of 1000, wait for each task",
      effect: "`forkChild` waves of 1000, `Fiber.join` each",
      async: "waves of 1000 calls, `Promise.all`",
      libdill: `go.c with waves of ${WAVE}`,
    },
    targets: [vsLibdill(1.5), VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "ctxswitch",
    title: "ctxswitch, main ↔ one coroutine: each calls dill_yield in turn; per switch",
    section: "core",
    unit: "ns",
    trial: "ctxswitch",
    param: 0,
    sizes: {
      tsdill: [4 * M, 20 * K],
      libdill: [4 * M, 20 * K],
      floor: [4 * M, 20 * K],
      effection: [100 * K, 2 * K],
      effect: [200 * K, 10 * K],
      async: [2 * M, 20 * K],
    },
    c: "ctxswitch",
    recorded: "ctxswitch",
    notes: {
      libdill: "as libdill's perf/ctxswitch.c",
      floor: "one `next()` resumes the coroutine up to its next yield: two switches",
      effection: "no yield: await of a resolved Promise (`until`)",
      effect: "`Effect.yieldNow`",
      async: "`await null`",
    },
    targets: [vsLibdill(2), VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "ctxswitch2",
    title: "ctxswitch, coroutine ↔ coroutine: two coroutines call dill_yield in turn; per switch",
    section: "core",
    unit: "ns",
    trial: "ctxswitch",
    param: 1,
    sizes: { tsdill: [4 * M, 20 * K], libdill: [4 * M, 20 * K], floor: [4 * M, 20 * K] },
    c: "ctxswitch",
    recorded: "ctxswitch2",
    notes: { floor: "a loop resuming the two generator objects in turn, one `next()` per switch" },
    targets: [vsLibdill(2)],
  },
  {
    id: "chan",
    title: "chan ping-pong with an echo coroutine over two unbuffered channels; per message",
    section: "core",
    unit: "ns",
    trial: "chan",
    sizes: {
      tsdill: [2 * M, 20 * K],
      libdill: [2 * M, 20 * K],
      floor: [2 * M, 20 * K],
      effection: [100 * K, 2 * K],
      effect: [100 * K, 10 * K],
      async: [M, 20 * K],
    },
    c: "chan",
    recorded: "chan",
    notes: {
      floor: "the value passed in and out of an echo generator by `next(v)`: one round trip",
      effection: "two `createChannel` streams (buffered: send never waits)",
      effect: "two `Queue.bounded(1)` (offer waits only when the queue is full)",
      async: "a minimal Promise-based rendezvous",
    },
    targets: [vsLibdill(2), VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "choose",
    title: "choose ping-pong: the chan row with each send and receive a one-clause choose; per message",
    section: "core",
    unit: "ns",
    trial: "choose",
    sizes: {
      tsdill: [2 * M, 20 * K],
      libdill: [2 * M, 20 * K],
      floor: [2 * M, 20 * K],
      effection: [2 * K, 200],
      effect: [20 * K, 2 * K],
    },
    c: "choose",
    recorded: "choose",
    notes: {
      floor: "the chan floor (a choose of one clause has nothing more to do)",
      effection: "`race` over one operation",
      effect: "`Effect.raceAll` over one Queue offer or take",
      async: "no equivalent",
    },
    targets: [vsLibdill(2), VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "done",
    title: "done, as libdill's perf/done.c: chmake, go a reader, chdone, hclose all three; per coroutine",
    section: "core",
    unit: "ns",
    trial: "donePerf",
    sizes: { tsdill: [200 * K, 2 * K], libdill: [200 * K, 2 * K], floor: [200 * K, 2 * K] },
    c: "done",
    recorded: "done",
    notes: {
      libdill: "perf/done.c prints half of this figure (it divides by twice the coroutines)",
      floor: "a generator run to its first yield, then `return()`: its `finally` runs",
    },
    targets: [vsLibdill(2)],
  },
  {
    id: "doneWave",
    title: `done in waves of ${WAVE}: chmake + go ${WAVE} readers parked in chrecv, yield, hclose each (cancelling it) and its channel; per coroutine`,
    section: "core",
    unit: "ns",
    trial: "done",
    param: WAVE,
    sizes: {
      tsdill: [200 * K, 2 * K],
      libdill: [200 * K, 2 * K],
      floor: [200 * K, 2 * K],
      effection: [2 * K, 1 * K],
      effect: [20 * K, 2 * K],
      async: [50 * K, 2 * K],
    },
    c: "done",
    recorded: "doneWave",
    notes: {
      floor: `${WAVE} generators run to their first yield, then \`return()\` each`,
      effection: "halt a task parked in a subscription's next(), in waves of 1000",
      effect: "`Fiber.interrupt` of a fiber parked in `Queue.take` (a `Queue.bounded(1)` each), waves of 1000",
      async: "an AbortController per task, waves of 1000",
    },
    targets: [vsLibdill(2), VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "whispers",
    title: "whispers: a chain of n coroutines passing a number along; per link, including its chmake and go",
    section: "core",
    unit: "ns",
    trial: "whispers",
    // 20k on every side: each libdill coroutine maps a guarded stack (two mappings), and Linux caps
    // a process at about 65k mappings
    sizes: {
      tsdill: [20 * K, 2 * K],
      libdill: [20 * K, 2 * K],
      floor: [20 * K, 2 * K],
      effection: [10 * K, 500],
      effect: [20 * K, 2 * K],
      async: [20 * K, 2 * K],
    },
    c: "whispers",
    recorded: "whispers",
    notes: {
      floor: "a chain of generator objects, the number passed along by `next(v)`",
      effection: "one `withResolvers` per link",
      effect: "one `Queue.bounded(1)` per link (a chain of Deferreds overflows the stack)",
      async: "one Promise per link",
    },
    targets: [VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "timer",
    title:
      "timer: n coroutines each sleeping 1-51 ms, scrambled; CPU per timer (wall: perf/timer.c's first-to-last firing ÷ n)",
    section: "core",
    unit: "ns",
    trial: "timer",
    // 20k on every side, as whispers
    sizes: {
      tsdill: [20 * K, 2 * K],
      libdill: [20 * K, 2 * K],
      floor: [20 * K, 2 * K],
      effection: [10 * K, 500],
      effect: [20 * K, 2 * K],
      async: [20 * K, 2 * K],
    },
    c: "timer",
    recorded: "timer",
    notes: {
      floor: "parked generators in a binary heap of deadlines under one `setTimeout`",
      effection: "`sleep` per task",
      effect: "`Effect.sleep` per fiber",
      async: "`setTimeout` per task",
      libdill: "CPU time, as here; the wall figure is perf/timer.c's metric",
    },
    targets: [vsLibdill(1), VS_EFFECTION, VS_EFFECT],
  },
];

const IPC: Workload[] = [
  {
    id: "pingpong",
    title: "IPC ping-pong, 64 B each way",
    section: "ipc",
    unit: "rt/s",
    trial: "pingpong",
    sizes: { tsdill: [100 * K, 5 * K], net: [100 * K, 5 * K], libdill: [100 * K, 5 * K] },
    c: "pingpong",
    recorded: "pingpong",
    targets: [VS_NET],
  },
  {
    id: "bulk",
    title: "IPC bulk one way, 64 KiB sends",
    section: "ipc",
    unit: "MB/s",
    trial: "bulk",
    // n in MiB
    sizes: { tsdill: [1024, 32], net: [1024, 32], libdill: [1024, 32] },
    c: "bulk",
    recorded: "bulk",
    targets: [VS_NET],
  },
  {
    id: "connect",
    title: "IPC connect + accept + close",
    section: "ipc",
    unit: "conn/s",
    trial: "connect",
    sizes: { tsdill: [5 * K, 300], net: [5 * K, 300] },
  },
  {
    id: "conns100",
    title: "IPC ping-pong on 100 connections at once",
    section: "ipc",
    unit: "rt/s",
    trial: "conns",
    param: 100,
    // n round trips per connection
    sizes: { tsdill: [500, 20], net: [500, 20] },
  },
];

const MEMORY: Workload[] = [
  {
    id: "memCoroutine",
    title: "bytes per idle coroutine",
    section: "memory",
    unit: "B",
    trial: "memCoroutine",
    sizes: { tsdill: [100 * K, 5 * K], effection: [5 * K, 500], effect: [100 * K, 5 * K], async: [100 * K, 5 * K] },
    notes: {
      effection: "a task parked in `suspend()`",
      effect: "a fiber parked in `Effect.never`",
      async: "an async call awaiting a pending Promise",
    },
    targets: [
      { text: "≤ 1 KB", kind: "max", x: 1024 },
      { text: "≥ 20× smaller than effection", kind: "minSpeedup", x: 20, vs: "effection" },
    ],
    cold: true,
  },
  {
    id: "memChannel",
    title: "bytes per channel (both ends)",
    section: "memory",
    unit: "B",
    trial: "memChannel",
    sizes: { tsdill: [100 * K, 5 * K], effection: [10 * K, 500], async: [100 * K, 5 * K] },
    notes: { effection: "`createChannel`", async: "the minimal rendezvous object" },
    cold: true,
  },
  {
    id: "memSocket",
    title: "bytes per connected IPC socket pair",
    section: "memory",
    unit: "B",
    trial: "memSocket",
    sizes: { tsdill: [2 * K, 200], net: [2 * K, 200] },
    notes: { net: "a connected client and server `net.Socket`" },
    cold: true,
  },
];

/** Loads for the scaling table: [default, --quick]; absent from --quick when the quick value is 0. */
const LIVE_LOADS: readonly (readonly [number, number])[] = [
  [1 * K, 1 * K],
  [10 * K, 10 * K],
  [100 * K, 0],
  [M, 0],
];
const TIMER_LOADS = LIVE_LOADS;
const CONN_LOADS: readonly (readonly [number, number])[] = [
  [1, 1],
  [10, 10],
  [100, 0],
  [1000, 0],
];

function scaling(): Workload[] {
  const out: Workload[] = [];
  for (const [full, quick] of LIVE_LOADS) {
    const s = [full, quick] as const;
    out.push({
      id: `scaleGo${full}`,
      title: `go ${full} coroutines, all parked at once on one event, then released`,
      section: "scaling",
      unit: "ns",
      trial: "live",
      sizes: { tsdill: s, async: s },
      scale: { family: "go, n live at once: time per coroutine", load: full },
    });
  }
  for (const [full, quick] of TIMER_LOADS) {
    const s = [full, quick] as const;
    out.push({
      id: `scaleTimer${full}`,
      title: `${full} sleeping coroutines, CPU per timer`,
      section: "scaling",
      unit: "ns",
      trial: "timer",
      sizes: { tsdill: s, async: s },
      scale: { family: "timer, n sleeping at once: CPU per timer", load: full },
    });
  }
  for (const [full, quick] of CONN_LOADS) {
    // about 50k round trips in all (default), 2k (quick)
    const per = [
      Math.max(20, Math.floor((50 * K) / full)),
      quick === 0 ? 0 : Math.max(20, Math.floor((2 * K) / quick)),
    ] as const;
    out.push({
      id: `scaleConns${full}`,
      title: `IPC ping-pong on ${full} connections at once`,
      section: "scaling",
      unit: "rt/s",
      trial: "conns",
      param: full,
      sizes: { tsdill: per, net: per },
      scale: { family: "IPC ping-pong, n connections: round trips/s in all", load: full },
    });
  }
  return out;
}

/** Clients of the load generator in the server workloads. */
export const SERVER_CLIENTS = 50;

const SERVER: Workload[] = [
  {
    id: "serverWorkers",
    title: `tsdill serve --workers N, ${SERVER_CLIENTS} clients of tsdill load (ECHO 16-256 B)`,
    section: "server",
    unit: "req/s",
    trial: "server",
    // n requests per client: 150k in all, 1.5-3 s at 50-100k requests/s on 2 cores (default); 1k (quick)
    sizes: { tsdill: [3000, 20] },
    cold: true,
    variants: [
      { key: "w1", label: "1 worker", param: 1 },
      { key: "w2", label: "2 workers", param: 2 },
    ],
    notes: {
      tsdill: `requests per client, ${SERVER_CLIENTS} clients; \`node dist/cli.js serve --workers N\` driven by \`node dist/cli.js load --clients ${SERVER_CLIENTS} --json\``,
    },
  },
];

export const WORKLOADS: readonly Workload[] = [
  ...CORE,
  ...IPC,
  ...MSG_WORKLOADS,
  ...TLS_WORKLOADS,
  ...HTTP_WORKLOADS,
  ...WS_WORKLOADS,
  ...MEMORY,
  ...scaling(),
  ...SERVER,
];

/** The size of `w` for system `sys`, or 0 when `sys` does not run it (in this mode). */
export function sizeOf(w: Workload, sys: System, quick: boolean): number {
  const s = w.sizes[sys];
  return s === undefined ? 0 : quick ? s[1] : s[0];
}
