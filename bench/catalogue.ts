/**
 * The catalogue: every workload, which systems run it, at which sizes, what stands in for the
 * tsdill primitive in each peer, and the targets of the performance plan. Nothing here measures.
 */
import { MSG_WORKLOADS } from "./msg-workloads.js";
import { TLS_WORKLOADS } from "./tls-workloads.js";
import { WS_WORKLOADS } from "./ws-workloads.js";

/** The systems compared. `libdill` is C (`bench/c/`), `net` is raw `node:net` callbacks. */
export type System = "tsdill" | "libdill" | "effection" | "effect" | "async" | "net";
export const SYSTEMS: readonly System[] = ["tsdill", "libdill", "effection", "effect", "async", "net"];
export const SYSTEM_NAMES: Record<System, string> = {
  tsdill: "tsdill",
  libdill: "libdill (C)",
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
const VS_NET: Target = { text: "≥ 0.9× raw node:net", kind: "minSpeedup", x: 0.9, vs: "net" };

export function higherIsBetter(unit: Unit): boolean {
  return unit !== "ns" && unit !== "B";
}

const CORE: Workload[] = [
  {
    id: "go",
    title: "go + hclose (worker never ran)",
    section: "core",
    unit: "ns",
    trial: "go",
    sizes: {
      tsdill: [M, 20 * K],
      libdill: [M, 20 * K],
      effection: [5 * K, 500],
      effect: [100 * K, 5 * K],
      async: [M, 20 * K],
    },
    c: "go",
    recorded: "go",
    notes: {
      effection: "spawn + halt",
      effect: "`forkChild` + `Fiber.interrupt` (the fiber never ran)",
      async: "`await f()` of an empty async function",
      libdill: "`hclose(go(worker()))`: the worker runs at once",
    },
    targets: [vsLibdill(1.5), VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "goRun",
    title: "go, run, hclose (waves of 1000)",
    section: "core",
    unit: "ns",
    trial: "goRun",
    sizes: {
      tsdill: [M, 20 * K],
      libdill: [M, 20 * K],
      effection: [5 * K, 1 * K],
      effect: [100 * K, 5 * K],
      async: [M, 20 * K],
    },
    c: "go",
    recorded: "go",
    notes: {
      effection: "spawn waves of 1000, wait for each task",
      effect: "`forkChild` waves of 1000, `Fiber.join` each",
      async: "waves of 1000 calls, `Promise.all`",
      libdill: "same program as go",
    },
    targets: [vsLibdill(1.5), VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "ctxswitch",
    title: "ctxswitch (dill_yield)",
    section: "core",
    unit: "ns",
    trial: "ctxswitch",
    sizes: {
      tsdill: [2 * M, 20 * K],
      libdill: [10 * M, 100 * K],
      effection: [100 * K, 2 * K],
      effect: [200 * K, 10 * K],
      async: [2 * M, 20 * K],
    },
    c: "ctxswitch",
    recorded: "ctxswitch",
    notes: {
      effection: "no yield: await of a resolved Promise (`until`)",
      effect: "`Effect.yieldNow`",
      async: "`await null`",
    },
    targets: [vsLibdill(2), VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "chan",
    title: "chan ping-pong, per message",
    section: "core",
    unit: "ns",
    trial: "chan",
    sizes: {
      tsdill: [M, 20 * K],
      libdill: [5 * M, 100 * K],
      effection: [100 * K, 2 * K],
      effect: [100 * K, 10 * K],
      async: [M, 20 * K],
    },
    c: "chan",
    recorded: "chan",
    notes: {
      effection: "two `createChannel` streams (buffered: send never waits)",
      effect: "two `Queue.bounded(1)` (offer waits only when the queue is full)",
      async: "a minimal Promise-based rendezvous",
    },
    targets: [vsLibdill(2), VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "choose",
    title: "choose ping-pong, per message",
    section: "core",
    unit: "ns",
    trial: "choose",
    sizes: { tsdill: [M, 20 * K], libdill: [5 * M, 100 * K], effection: [2 * K, 200], effect: [20 * K, 2 * K] },
    c: "choose",
    recorded: "choose",
    notes: {
      effection: "`race` over one operation",
      effect: "`Effect.raceAll` over one Queue offer or take",
      async: "no equivalent",
    },
    targets: [vsLibdill(2), VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "done",
    title: "done: cancel a coroutine parked in chrecv",
    section: "core",
    unit: "ns",
    trial: "done",
    sizes: {
      tsdill: [200 * K, 2 * K],
      libdill: [M, 20 * K],
      effection: [2 * K, 1 * K],
      effect: [20 * K, 2 * K],
      async: [50 * K, 2 * K],
    },
    c: "done",
    recorded: "done",
    notes: {
      effection: "halt a task parked in a subscription's next()",
      effect: "`Fiber.interrupt` of a fiber parked in `Queue.take` (a `Queue.bounded(1)` each)",
      async: "an AbortController per task",
    },
    targets: [vsLibdill(2), VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "whispers",
    title: "whispers, per link (incl. chmake + go)",
    section: "core",
    unit: "ns",
    trial: "whispers",
    sizes: {
      tsdill: [100 * K, 2 * K],
      libdill: [10 * K, 1 * K],
      effection: [10 * K, 500],
      effect: [20 * K, 2 * K],
      async: [100 * K, 2 * K],
    },
    c: "whispers",
    recorded: "whispers",
    notes: {
      effection: "one `withResolvers` per link",
      effect: "one `Queue.bounded(1)` per link (a chain of Deferreds overflows the stack)",
      async: "one Promise per link",
    },
    targets: [VS_EFFECTION, VS_EFFECT],
  },
  {
    id: "timer",
    title: "timer: sleeps of 0-50 ms, CPU per timer",
    section: "core",
    unit: "ns",
    trial: "timer",
    // libdill: 20k, since each coroutine maps a guarded stack and Linux caps a process at ~65k mappings
    sizes: {
      tsdill: [100 * K, 2 * K],
      libdill: [20 * K, 2 * K],
      effection: [10 * K, 500],
      effect: [100 * K, 2 * K],
      async: [100 * K, 2 * K],
    },
    c: "timer",
    recorded: "timer",
    notes: {
      effection: "`sleep` per task",
      effect: "`Effect.sleep` per fiber",
      async: "`setTimeout` per task",
      libdill: "CPU time, as here (the recorded figure is wall time)",
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
      title: `go ${full} coroutines, all parked at once, then hclose`,
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
